"""The README and the documentation pages: no dangling link, nothing outside the repository, and the
README's commands and library example as they run.

A newcomer starts at README.md and follows its links into docs/; a link to a moved or renamed page, or
to a file that exists only on the machine the text was written on (../shared, /work), leaves them at a
dead end. The README's test command must stay the one CI runs (.ci/run), and its Python example is run
here as written, so that it cannot drift from the library.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import unicodedata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = sorted(
    [REPO / "README.md", REPO / "REPRODUCE.md", REPO / "benchmarks/README.md", *REPO.glob("docs/**/*.md")]
)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)
OUTSIDE = ("../shared", "/work/")  # the project's reference material and workspace, not in a clone


def _prose(text: str) -> str:
    """The text without code blocks and code spans, where a ``[x](y)`` is code, not a link."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def _slug(heading: str) -> str:
    """The anchor Python-Markdown's toc (mkdocs) gives a heading; GitHub's agrees for these headings."""
    text = re.sub(r"[`*]", "", heading)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _anchors(page: Path) -> set[str]:
    return {_slug(h) for h in HEADING.findall(FENCE.sub("", page.read_text()))}


def dangling_links(page: Path, repo: Path = REPO) -> list[str]:
    """Every relative link of ``page`` that leaves ``repo``, names no file, or no heading there."""
    problems = []
    for target in LINK.findall(_prose(page.read_text())):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        if path.startswith("/"):
            problems.append(f"{target}: an absolute path")
            continue
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.is_relative_to(repo):
            problems.append(f"{target}: outside the repository")
        elif page.is_relative_to(repo / "docs") and not resolved.is_relative_to(repo / "docs"):
            # mkdocs builds the site from docs/ alone, and its strict build refuses such a link
            problems.append(f"{target}: outside docs/, the site's source (name the file in a code span)")
        elif not resolved.is_file():
            problems.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            problems.append(f"{target}: no heading #{anchor} in {resolved.relative_to(repo)}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(page: Path) -> None:
    assert not dangling_links(page), f"{page.relative_to(REPO)}: {dangling_links(page)}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_page_points_outside_the_repository(page: Path) -> None:
    text = page.read_text()
    assert not [o for o in OUTSIDE if o in text], f"{page.relative_to(REPO)} names a path a clone lacks"


def test_the_link_check_catches_what_it_should(tmp_path: Path) -> None:
    """A negative control: the checker must see each kind of dead end (and not code that looks like one)."""
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    (repo / "docs" / "index.md").write_text("# Home\n")
    (repo / "docs" / "running.md").write_text("# Running\n\n## The quick run (`config/quick.yaml`)\n")
    (tmp_path / "outside.md").write_text("# Outside\n")
    (repo / "README.md").write_text("# Readme\n")
    page = repo / "docs" / "page.md"
    page.write_text(
        "# A heading\n[ok](index.md) [ok](#a-heading) [ok](running.md#the-quick-run-configquickyaml)\n"
        "[web](https://x.org/y) [gone](missing.md) [out](../../outside.md) [abs](/etc/hosts)\n"
        "[anchor](index.md#nowhere) `[code](missing2.md)`\n```\n[fenced](missing3.md)\n```\n"
        "[repo, not site](../README.md)\n"
    )
    problems = dangling_links(page, repo)
    assert [p.split(":")[0] for p in problems] == [
        "missing.md",
        "../../outside.md",
        "/etc/hosts",
        "index.md#nowhere",
        "../README.md",
    ]
    assert not dangling_links(repo / "README.md", repo)  # outside docs/, a page may link anywhere in the repo


def test_every_page_of_the_site_is_in_its_navigation() -> None:
    mkdocs = (REPO / "mkdocs.yml").read_text()
    pages = {str(p.relative_to(REPO / "docs")) for p in REPO.glob("docs/**/*.md")}
    assert not {p for p in pages if f": {p}" not in mkdocs}, "add the page to mkdocs.yml's nav"


def test_pyproject_names_files_that_exist() -> None:
    pyproject = (REPO / "pyproject.toml").read_text()  # (tomllib is Python >= 3.11; the package runs on 3.10)
    (readme,) = re.findall(r'^readme = "([^"]+)"$', pyproject, re.M)
    assert (REPO / readme).is_file()
    assert 'license = { text = "MIT" }' in pyproject
    assert (REPO / "LICENSE").read_text().startswith("MIT License")
    assert "doi: 10.1140/epjc/s10052-023-11633-5" in (REPO / "CITATION.cff").read_text()


def _ci_test_command() -> str:
    """The venv and install line of .ci/run, then its `pytest`: what CI runs on a fresh clone."""
    lines = [line.strip() for line in (REPO / ".ci/run").read_text().splitlines()]
    install = next(line for line in lines if line.startswith("python3 -m venv .venv &&"))
    assert "pytest" in lines, ".ci/run no longer runs plain `pytest`"
    return f"{install} && pytest"


def test_the_readme_test_command_is_what_ci_runs() -> None:
    readme = (REPO / "README.md").read_text()
    commands = [line for line in readme.splitlines() if line.startswith("python3 -m venv .venv")]
    assert _ci_test_command() in commands
    quick = next(c for c in commands if "snakemake" in c)
    assert shlex.split(quick)[-4:] == ["--cores", "all", "--configfile", "config/quick.yaml"]
    assert "torch==2.13.0" in quick  # pinned with the package, or pip pulls torch's CUDA build


def test_the_readme_library_example_runs_as_written() -> None:
    readme = (REPO / "README.md").read_text()
    (example,) = re.findall(r"^```python\n(.*?)^```", readme, re.M | re.S)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(example, "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    deviation = float(re.fullmatch(r"model\(Λp\) = Λ model\(p\) to (\S+)", lines[0]).group(1))
    assert 0 < deviation < 1e-9  # float64 at initialisation: rounding (docs/numerics.md)
    scan = [re.fullmatch(r"γ = +(\d+): strict deviation (\S+)", line).groups() for line in lines[1:]]
    gammas = [int(g) for g, _ in scan]
    assert gammas[0] == 1
    assert gammas[-1] == 11013  # Fig. 9's range: γ up to cosh 10
    assert max(float(d) for _, d in scan) < 2e-5  # mix at γ ≤ cosh 10 (docs/numerics.md)
