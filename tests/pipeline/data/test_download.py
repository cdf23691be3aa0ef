"""The JetNet download against a local Zenodo stand-in on 127.0.0.1 (never the real network)."""

from __future__ import annotations

import hashlib
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from lgae.errors import DataError, DownloadError
from lgae.group.lorentz import minkowski_norm2, p4_from_ptetaphi
from lgae.pipeline.data import download
from lgae.pipeline.data.jetnet_format import read_raw, write_raw

RECORD = 6975118
pytestmark = pytest.mark.network


def _small_jetnet_file(path: Path, n_jets: int = 20, seed: int = 0) -> bytes:
    """A tiny class file in JetNet's layout (etarel, phirel, ptrel, mask; pt, eta, mass, n)."""
    gen = np.random.default_rng(seed)
    particles = np.zeros((n_jets, 30, 4), np.float32)
    n_real = gen.integers(5, 31, size=n_jets)
    for i, n in enumerate(n_real):
        pt = np.sort(gen.exponential(size=n))[::-1]
        particles[i, :n, 0] = gen.normal(0, 0.1, n)
        particles[i, :n, 1] = gen.normal(0, 0.1, n)
        particles[i, :n, 2] = pt / pt.sum()
        particles[i, :n, 3] = 1
    jet_pt = gen.uniform(800, 1600, n_jets)
    # a jet is at least as heavy as the particles it holds (lgae.pipeline.data.checks refuses a file that is not)
    p4 = p4_from_ptetaphi(particles[..., 2], particles[..., 0], particles[..., 1]).sum(axis=1)
    mass = jet_pt * np.sqrt(np.maximum(minkowski_norm2(p4), 0.0)) * gen.uniform(1.0, 1.5, n_jets)
    jets = np.stack([jet_pt, gen.uniform(-2, 2, n_jets), mass, n_real], axis=1).astype(np.float32)
    write_raw(path, particles, jets)
    return path.read_bytes()


class _ZenodoStandIn(http.server.BaseHTTPRequestHandler):
    """Answers /api/records/<id> like Zenodo (new-style 'key' entries) and serves /files/<name>."""

    files: ClassVar[dict[str, bytes]] = {}
    checksums: ClassVar[dict[str, str]] = {}
    requests_seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).requests_seen.append(self.path)
        host = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path == f"/api/records/{RECORD}":
            entries = [
                {
                    "key": name,
                    "links": {"self": f"{host}/files/{name}"},
                    "checksum": f"md5:{self.checksums[name]}",
                }
                for name in self.files
            ]
            self._send(200, json.dumps({"id": RECORD, "files": entries}).encode(), "application/json")
        elif self.path.startswith("/files/") and self.path[7:] in self.files:
            self._send(200, self.files[self.path[7:]], "application/octet-stream")
        else:
            self._send(404, b"not found", "text/plain")

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        del args


@pytest.fixture
def zenodo(tmp_path: Path) -> Iterator[type[_ZenodoStandIn]]:
    """A local server holding a good g.hdf5 and a q.hdf5 whose advertised MD5 is wrong."""
    good = _small_jetnet_file(tmp_path / "src_g.hdf5", seed=1)
    other = _small_jetnet_file(tmp_path / "src_q.hdf5", seed=2)
    handler = type("Handler", (_ZenodoStandIn,), {})
    handler.files = {"g.hdf5": good, "q.hdf5": other}
    handler.checksums = {"g.hdf5": hashlib.md5(good).hexdigest(), "q.hdf5": "0" * 32}
    handler.requests_seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.api = f"http://127.0.0.1:{server.server_address[1]}/api/records"
    yield handler
    server.shutdown()
    server.server_close()


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/records"


def test_good_checksum_downloads_and_verifies(zenodo, tmp_path):
    out = tmp_path / "raw"
    path = download.download_class("g", out, RECORD, zenodo.api)
    assert path == out / "g.hdf5"
    assert path.read_bytes() == zenodo.files["g.hdf5"]
    assert download.sidecar(path).read_text().strip() == zenodo.checksums["g.hdf5"]
    assert len(read_raw(path)) == 20
    assert sorted(p.name for p in out.iterdir()) == ["g.hdf5", "g.hdf5.md5"]


def test_bad_checksum_rejects_file_and_leaves_nothing(zenodo, tmp_path):
    out = tmp_path / "raw"
    with pytest.raises(DownloadError, match="MD5"):
        download.download_class("q", out, RECORD, zenodo.api)
    assert not any(out.iterdir()), "a rejected download must leave no file behind"


def test_server_down_gives_clear_error_with_manual_instructions(tmp_path):
    with pytest.raises(DownloadError) as info:
        download.download_class("g", tmp_path, RECORD, _closed_port_url(), timeout=5)
    message = str(info.value)
    assert "unreachable" in message
    assert str(tmp_path / "g.hdf5") in message
    assert "zenodo.org/records/6975118" in message
    assert not any(tmp_path.iterdir())


def test_verified_file_needs_no_network(zenodo, tmp_path):
    out = tmp_path / "raw"
    download.download_class("g", out, RECORD, zenodo.api)
    seen = len(zenodo.requests_seen)
    # the server is not even asked: a dead URL proves it
    path = download.download_class("g", out, RECORD, _closed_port_url())
    assert path.read_bytes() == zenodo.files["g.hdf5"]
    assert len(zenodo.requests_seen) == seen


def test_pinned_md5_accepts_hand_placed_file_offline(zenodo, tmp_path):
    placed = tmp_path / "raw" / "g.hdf5"
    placed.parent.mkdir()
    placed.write_bytes(zenodo.files["g.hdf5"])
    path = download.download_class(
        "g", placed.parent, RECORD, _closed_port_url(), md5=zenodo.checksums["g.hdf5"]
    )
    assert path == placed
    assert download.sidecar(placed).is_file()


def test_corrupted_local_file_is_fetched_again(zenodo, tmp_path):
    out = tmp_path / "raw"
    path = download.download_class("g", out, RECORD, zenodo.api)
    path.write_bytes(path.read_bytes()[:100])  # truncated after verification
    download.download_class("g", out, RECORD, zenodo.api)
    assert path.read_bytes() == zenodo.files["g.hdf5"]


def test_server_serving_a_non_jetnet_file_is_rejected(zenodo, tmp_path):
    junk = b"this is not an HDF5 file"
    zenodo.files["g.hdf5"] = junk
    zenodo.checksums["g.hdf5"] = hashlib.md5(junk).hexdigest()
    with pytest.raises(DataError, match="HDF5"):
        download.download_class("g", tmp_path / "raw", RECORD, zenodo.api)
    assert not any((tmp_path / "raw").iterdir())


def test_unknown_class_is_rejected(tmp_path):
    with pytest.raises(Exception, match="unknown jet class"):
        download.download_class("x", tmp_path)


def test_offline_hint_after_an_md5_mismatch_says_the_file_is_there(zenodo, tmp_path):
    """A hand-placed file whose MD5 differs from the pinned one, and no network: the hint must not ask
    to put the file there (it is there) but say which MD5 it has."""
    placed = tmp_path / "raw" / "g.hdf5"
    placed.parent.mkdir()
    placed.write_bytes(zenodo.files["q.hdf5"])  # the wrong file
    local = hashlib.md5(zenodo.files["q.hdf5"]).hexdigest()
    pinned = zenodo.checksums["g.hdf5"]
    with pytest.raises(DownloadError) as info:
        download.download_class("g", placed.parent, RECORD, _closed_port_url(), md5=pinned, timeout=5)
    message = str(info.value)
    assert f"{placed} is there, but its MD5 is {local}, not the expected {pinned}" in message
    assert "put it at" not in message
    assert placed.read_bytes() == zenodo.files["q.hdf5"]  # nothing deleted behind the user's back
