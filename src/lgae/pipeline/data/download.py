"""Download the JetNet 30-particle class files from Zenodo, verified by MD5, written atomically.

jetnet's own loader asks the Zenodo API for the checksum on every call, even for a file already on
disk, so it fails on any offline machine. Here a file that has been verified once carries a sidecar
``<file>.md5``; a file whose checksum is known (sidecar, or pinned in the config) and matches is used
without any network call. Zenodo's API is queried only when something must be fetched or checked.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import requests
from tqdm.auto import tqdm

from lgae.errors import DownloadError
from lgae.io import atomic_path
from lgae.pipeline.data.jetnet_format import check_classes, read_raw

log = logging.getLogger(__name__)

ZENODO_API = "https://zenodo.org/api/records"
JETNET30_RECORD = 6975118  # JetNet, 30 particles ("version 2"); the 150-particle files are record 6975117
RECORD_PAGE = "https://zenodo.org/records/{record}"
CHUNK = 1 << 20


@dataclass(frozen=True)
class RemoteFile:
    """A file of a Zenodo record: where to fetch it and its MD5."""

    name: str
    url: str
    md5: str


def md5sum(path: str | os.PathLike[str]) -> str:
    """MD5 of a file, read in 1 MiB chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def sidecar(path: Path) -> Path:
    """Where the verified checksum of ``path`` is remembered."""
    return path.with_name(path.name + ".md5")


def _manual_hint(target: Path, record: int, local: str | None = None, expected: str = "") -> str:
    """How to install the file by hand; when a file is already in place, what is wrong with it."""
    page = RECORD_PAGE.format(record=record)
    if local:
        return (
            f"{target} is there, but its MD5 is {local}, not the expected {expected}: replace it with "
            f"{target.name} from {page} (downloaded on a machine with internet access), or, if it is the "
            f"right file, correct data.jetnet.md5.{target.stem} (or delete {sidecar(target).name})."
        )
    return (
        f"To install the file by hand, download {target.name} from {page} "
        f"on a machine with internet access, put it at {target}, and give its MD5 (listed on that page) "
        f"as data.jetnet.md5.{target.stem} in the config or with `lgae download --md5 {target.stem}=<md5>`."
    )


def remote_file(
    name: str,
    record: int,
    api_url: str = ZENODO_API,
    timeout: float = 30.0,
    target: Path | None = None,
    mismatch: tuple[str, str] | None = None,
) -> RemoteFile:
    """Look ``name`` up in Zenodo record ``record`` (both shapes of the Zenodo files API are accepted).

    ``target`` (where the file is wanted) and ``mismatch`` (the MD5 of a file already there and the one
    expected) only serve the error message for manual installation.
    """
    local, expected = mismatch or (None, "")
    hint = _manual_hint(target or Path(name), record, local, expected)
    url = f"{api_url.rstrip('/')}/{record}"
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
        payload = response.json()
    except requests.ConnectionError as exc:
        raise DownloadError(
            f"cannot reach {url}: the network or Zenodo is unreachable ({type(exc).__name__}). " + hint
        ) from exc
    except requests.Timeout as exc:
        raise DownloadError(f"{url} did not answer within {timeout:.0f} s. " + hint) from exc
    except (requests.HTTPError, ValueError) as exc:
        raise DownloadError(f"{url}: unexpected answer from the Zenodo API ({exc}).") from exc
    for entry in payload.get("files", []):
        entry_name = entry.get("filename", entry.get("key"))
        if entry_name != name:
            continue
        links = entry.get("links", {})
        link = links.get("download") or links.get("self")
        checksum = str(entry.get("checksum", ""))
        checksum = checksum.split("md5:", 1)[1] if checksum.startswith("md5:") else checksum
        if not link or len(checksum) != 32:
            raise DownloadError(f"{url}: entry for {name} has no download link or MD5 checksum: {entry}")
        return RemoteFile(name=name, url=link, md5=checksum.lower())
    names = [e.get("filename", e.get("key")) for e in payload.get("files", [])]
    raise DownloadError(f"{url}: record {record} has no file {name!r} (it has {names}).")


def _fetch(remote: RemoteFile, target: Path, timeout: float) -> None:
    """Stream ``remote`` to ``target`` through a temporary file; keep it only if the MD5 matches."""
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with atomic_path(target) as tmp:
            with requests.get(remote.url, stream=True, timeout=timeout) as response:
                response.raise_for_status()
                total = int(response.headers.get("content-length", 0)) or None
                with (
                    open(tmp, "wb") as out,
                    tqdm(total=total, unit="B", unit_scale=True, desc=f"download {remote.name}") as bar,
                ):
                    for block in response.iter_content(CHUNK):
                        out.write(block)
                        digest.update(block)
                        bar.update(len(block))
            got = digest.hexdigest()
            if got != remote.md5:
                raise DownloadError(
                    f"{remote.url}: MD5 of the downloaded file is {got}, expected {remote.md5}; "
                    "the download is corrupt and was discarded. Run the download again."
                )
            read_raw(tmp)  # the layout must be JetNet's before the file gets its final name
    except requests.RequestException as exc:
        raise DownloadError(f"downloading {remote.url} failed: {exc}") from exc


def download_class(
    jet_class: str,
    data_dir: str | os.PathLike[str],
    record: int = JETNET30_RECORD,
    api_url: str = ZENODO_API,
    md5: str | None = None,
    timeout: float = 60.0,
) -> Path:
    """Make sure ``<data_dir>/<jet_class>.hdf5`` is the verified JetNet file; download it if needed.

    ``md5`` pins the expected checksum (from the config); with it, or with a sidecar from an earlier
    verification, a matching local file is accepted without contacting Zenodo.
    """
    check_classes([jet_class], key="jet class")
    target = Path(data_dir) / f"{jet_class}.hdf5"
    known = (md5 or "").lower() or (sidecar(target).read_text().strip() if sidecar(target).is_file() else "")
    local = md5sum(target) if target.is_file() else None  # a large file: hashed once
    if local and known:
        if local == known:
            log.info("%s verified against its known MD5, no download needed", target)
            _remember(target, local)
            return target
        log.warning("%s: MD5 %s does not match the expected %s; fetching it again", target, local, known)
    mismatch = (local, known) if local and known else None
    remote = remote_file(target.name, record, api_url, timeout, target, mismatch)
    if md5 and remote.md5 != md5.lower():
        raise DownloadError(
            f"data.jetnet.md5.{jet_class} = {md5} in the config, but Zenodo record {record} lists "
            f"{remote.md5} for {target.name}; correct the config."
        )
    if local == remote.md5:
        log.info("%s matches Zenodo's MD5", target)
    else:
        _fetch(remote, target, timeout)
    _remember(target, remote.md5)
    return target


def _remember(target: Path, checksum: str) -> None:
    with atomic_path(sidecar(target)) as tmp:
        tmp.write_text(checksum + "\n")


def download(
    classes: list[str],
    data_dir: str | os.PathLike[str],
    record: int = JETNET30_RECORD,
    api_url: str = ZENODO_API,
    md5: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> list[Path]:
    """Download (or verify) several classes."""
    check_classes(classes)
    return [download_class(c, data_dir, record, api_url, (md5 or {}).get(c), timeout) for c in classes]
