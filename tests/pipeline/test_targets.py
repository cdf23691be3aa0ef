"""The registry of the paper's figures and tables (lgae.pipeline.targets) is the one list: the command
line, the figure and table code, the configuration schema and check and REPRODUCE.md agree with it (the
Snakefile: tests/workflow/test_workflow.py), and a name it lacks is a clear error."""

from __future__ import annotations

import argparse
import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lgae import cli
from lgae.errors import ConfigError
from lgae.io import read_yaml
from lgae.pipeline import config as lgae_config
from lgae.pipeline.targets import FIGURE_MODEL_KEYS, FIGURES, SNAKEMAKE_TARGETS, TABLES, TARGETS, target

REPO = Path(__file__).resolve().parents[2]
QUICK = yaml.safe_load((REPO / "config" / "quick.yaml").read_text())


def _choices(command: str) -> list[str]:
    """The choices of the NAME argument of `lgae COMMAND`."""
    sub = next(a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction))
    name = next(a for a in sub.choices[command]._actions if a.dest == "name")
    return list(name.choices)


# ------------------------------------------------------------------------------------ the registry
def test_the_registry_holds_the_papers_figures_and_tables_in_order():
    assert list(FIGURES) == ["fig2", "fig3", "fig4", "fig4_paper_protocol", "fig5", "fig6", "fig7", "fig9"]
    assert list(TABLES) == ["table2", "table3", "table4"]
    assert [t.name for t in TARGETS] == [*FIGURES, *TABLES]
    assert FIGURES["fig4_paper_protocol"].label == "Fig. 4"
    assert TABLES["table3"].heading.startswith("Table 3: jet-feature reconstruction")


def test_every_entry_says_where_its_models_come_from():
    for shown in TARGETS:
        if shown.kind == "table":
            assert shown.models == "models", shown.name  # every model the configuration trains
        elif shown.shows_scan:
            assert shown.name == "fig7"
        else:
            assert shown.figure_key in FIGURE_MODEL_KEYS, shown.name
    # a figure drawn beside another under its target shows that figure's models
    for shown in TARGETS:
        if shown.part_of is not None:
            original = target(shown.part_of)
            assert original.part_of is None
            assert (shown.models, shown.lgae_only, shown.kind) == (
                original.models,
                original.lgae_only,
                original.kind,
            )
    assert FIGURES["fig4_paper_protocol"].figure_key == "fig4"
    assert [f for f, shown in FIGURES.items() if shown.lgae_only] == ["fig5", "fig6", "fig9"]
    assert [f for f, shown in FIGURES.items() if shown.reads == "metrics"] == ["fig7", "fig9"]


def test_each_snakemake_target_makes_its_figures():
    assert SNAKEMAKE_TARGETS["fig4"] == ("fig4", "fig4_paper_protocol")
    assert [made for made in SNAKEMAKE_TARGETS.values() if len(made) > 1] == [("fig4", "fig4_paper_protocol")]
    assert sorted(n for made in SNAKEMAKE_TARGETS.values() for n in made) == sorted(t.name for t in TARGETS)


def test_an_unknown_name_is_a_config_error_naming_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown figure 'fig8'; the paper's figures: fig2, fig3, .*fig9$"):
        target("fig8", "figure")
    with pytest.raises(
        ConfigError, match=r"unknown table 'fig2'; the paper's tables: table2, table3, table4"
    ):
        target("fig2", "table")
    with pytest.raises(ConfigError, match=r"unknown figure or table 'table9'.*fig2, .*table4"):
        target("table9")
    assert target("table4").kind == "table"


def test_the_registry_is_cheap_to_import():
    """The Snakefile reads it at parse time, and every `lgae` command imports it."""
    code = "import sys, lgae.pipeline.targets; print(sorted(m for m in ('torch', 'matplotlib', 'numpy') if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


# ------------------------------------------------------------------------------------ its readers
def test_the_command_line_offers_the_registrys_names():
    assert _choices("figure") == list(FIGURES)
    assert _choices("table") == list(TABLES)


def test_an_unknown_figure_on_the_command_line_lists_the_known_ones(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["figure", "fig8", "--inputs", "x", "--out-prefix", "x"])
    assert exc.value.code == 2
    assert "invalid choice: 'fig8'" in capsys.readouterr().err


def test_every_figure_and_table_has_its_builder_and_every_builder_a_figure():
    from lgae.paper import figures, tables

    assert set(figures.BUILDERS) == {f.builder for f in FIGURES.values()}
    for name, shown in FIGURES.items():
        assert figures.builder(name) is getattr(figures, shown.builder)
    for shown in TABLES.values():
        assert callable(getattr(tables, shown.builder))
    with pytest.raises(ConfigError, match="unknown figure 'table2'"):
        figures.builder("table2")


def test_a_figure_function_the_registry_does_not_name_is_refused():
    from lgae.paper.figures import _builds

    def fig8(*_: object) -> None:  # pragma: no cover - never drawn
        raise AssertionError

    with pytest.raises(ValueError, match=r"fig8: no figure of lgae\.pipeline\.targets"):
        _builds(fig8)


def test_the_schema_lists_the_registrys_figure_keys():
    figures = read_yaml(REPO / "config" / "schema.yaml")["properties"]["figures"]
    keys = [k for k, v in figures["properties"].items() if v.get("$ref") == "#/$defs/figure_models"]
    assert keys == list(FIGURE_MODEL_KEYS)
    assert set(keys) <= set(figures["required"])


def test_the_config_check_reads_the_registry():
    for figure in FIGURE_MODEL_KEYS:
        config = copy.deepcopy(QUICK)
        config["figures"][figure] = {"gnnae-jl": 55}
        if FIGURES[figure].lgae_only:
            with pytest.raises(
                ConfigError, match=rf"figures\.{figure}\.gnnae-jl: {figure} shows .* LGAE models only"
            ):
                lgae_config.check_consistency(config)
        else:
            lgae_config.check_consistency(config)
    with pytest.raises(ConfigError, match="unknown figure 'fig8'"):
        lgae_config.check_figure(QUICK, "fig8")


def test_reproduce_md_has_a_row_per_snakemake_target():
    rows = re.findall(r"^\| `(\w+)` \|", (REPO / "REPRODUCE.md").read_text(), re.MULTILINE)
    assert rows == [*SNAKEMAKE_TARGETS, "claims"]
