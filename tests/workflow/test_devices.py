"""GPU claiming without a GPU: the device count is faked, the locks and processes are real."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from lgae.errors import ConfigError, LGAEError
from lgae.pipeline import devices
from lgae.pipeline.devices import NoFreeDeviceError, claim_device

# A job process: fakes `physical` GPUs the way NVML counts them (CUDA_VISIBLE_DEVICES respected), claims
# a device, reports what it got, and holds the claim until its stdin closes.
JOB = textwrap.dedent(
    """
    import json, os, sys
    import torch
    physical = int(sys.argv[1])

    def count():
        listed = os.environ.get("CUDA_VISIBLE_DEVICES")
        return physical if listed is None else len([e for e in listed.split(",") if e])

    torch.cuda.device_count = count
    torch.cuda.is_initialized = lambda: False
    from lgae.pipeline.devices import claim_device
    with claim_device("auto", locks=sys.argv[2], timeout=float(sys.argv[3]), poll_seconds=0.1) as device:
        print(json.dumps({"device": device, "visible": os.environ.get("CUDA_VISIBLE_DEVICES")}), flush=True)
        sys.stdin.read()
    """
)


def _fake_gpus(monkeypatch: pytest.MonkeyPatch, physical: int, follows_variable: bool = True) -> None:
    def count() -> int:
        listed = os.environ.get("CUDA_VISIBLE_DEVICES")
        if listed is None or not follows_variable:
            return physical
        return len([e for e in listed.split(",") if e])

    monkeypatch.setattr(torch.cuda, "device_count", count)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)


def _start_job(tmp_path: Path, physical: int, env: dict[str, str], timeout: float = 30.0):
    script = tmp_path / "job.py"
    script.write_text(JOB)
    process = subprocess.Popen(
        [sys.executable, str(script), str(physical), str(tmp_path / "locks"), str(timeout)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    return process


def _claimed(process: subprocess.Popen) -> dict[str, str]:
    line = process.stdout.readline()
    assert line, process.stderr.read()
    return json.loads(line)


@pytest.fixture
def job_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("CUDA_VISIBLE_DEVICES", None)
    return env


def test_concurrent_jobs_each_take_a_gpu_of_their_own_and_a_killed_job_frees_it(tmp_path, job_env):
    first = _start_job(tmp_path, 2, job_env)
    second = _start_job(tmp_path, 2, job_env)
    try:
        got = [_claimed(first), _claimed(second)]
        # each job sees exactly its own GPU, as device cuda:0
        assert {g["visible"] for g in got} == {"0", "1"}
        assert {g["device"] for g in got} == {"cuda:0"}
        # a third job finds both claimed and gives up after its timeout, with a message
        third = _start_job(tmp_path, 2, job_env, timeout=0.5)
        assert third.wait(timeout=60) != 0
        assert "stayed claimed by other jobs" in third.stderr.read()
        # a job killed outright (as by a walltime or OOM kill) releases its GPU
        victim = first if got[0]["visible"] == "0" else second
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        fourth = _start_job(tmp_path, 2, job_env)
        assert _claimed(fourth)["visible"] == "0"
        fourth.communicate(timeout=30)
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.communicate(timeout=30)


def test_only_the_devices_in_cuda_visible_devices_are_claimed(tmp_path, job_env):
    job_env["CUDA_VISIBLE_DEVICES"] = "2,5"
    first = _start_job(tmp_path, 8, job_env)
    second = _start_job(tmp_path, 8, job_env)
    try:
        assert {_claimed(first)["visible"], _claimed(second)["visible"]} == {"2", "5"}
        assert sorted(p.name for p in (tmp_path / "locks").iterdir()) == ["gpu-2.lock", "gpu-5.lock"]
    finally:
        first.communicate(timeout=30)
        second.communicate(timeout=30)


def test_a_job_that_sees_one_gpu_takes_it_without_a_lock(monkeypatch, tmp_path):
    _fake_gpus(monkeypatch, 4)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")  # what SLURM sets for --gpus=1
    with claim_device("auto", locks=tmp_path / "locks") as device:
        assert device == "cuda:0"
    assert not (tmp_path / "locks").exists()


def test_without_cuda_auto_runs_on_the_cpu_and_cuda_is_an_error(monkeypatch, tmp_path):
    _fake_gpus(monkeypatch, 0)
    with claim_device("auto", locks=tmp_path) as device:
        assert device == "cpu"
    with pytest.raises(ConfigError, match="no CUDA device is visible"), claim_device("cuda", locks=tmp_path):
        pass
    with claim_device("cpu", locks=tmp_path) as device:
        assert device == "cpu"


def test_a_held_lock_is_skipped_and_the_variable_is_restored(monkeypatch, tmp_path):
    _fake_gpus(monkeypatch, 3)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    (tmp_path / "locks").mkdir()
    other_job = os.open(tmp_path / "locks" / "gpu-0.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(other_job, fcntl.LOCK_EX)
    try:
        with claim_device("auto", locks=tmp_path / "locks") as device:
            assert device == "cuda:0"
            assert os.environ["CUDA_VISIBLE_DEVICES"] == "1"
            assert f"pid {os.getpid()}" in (tmp_path / "locks" / "gpu-1.lock").read_text()
        assert "CUDA_VISIBLE_DEVICES" not in os.environ
        # released on exit: the same GPU can be claimed again
        with claim_device("auto", locks=tmp_path / "locks"):
            assert os.environ["CUDA_VISIBLE_DEVICES"] == "1"
    finally:
        os.close(other_job)


def test_when_cuda_ignores_the_variable_the_claimed_index_is_used(monkeypatch, tmp_path):
    """If CUDA already enumerated the devices, narrowing is impossible: use the index instead."""
    _fake_gpus(monkeypatch, 2, follows_variable=False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    (tmp_path / "locks").mkdir()
    other_job = os.open(tmp_path / "locks" / "gpu-0.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(other_job, fcntl.LOCK_EX)
    try:
        with claim_device("auto", locks=tmp_path / "locks") as device:
            assert device == "cuda:1"
            assert os.environ["CUDA_VISIBLE_DEVICES"] == "0,1"
    finally:
        os.close(other_job)


def test_all_claimed_waits_then_times_out(monkeypatch, tmp_path):
    _fake_gpus(monkeypatch, 2)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    (tmp_path / "locks").mkdir()
    held = []
    for name in ("0", "1"):
        fd = os.open(tmp_path / "locks" / f"gpu-{name}.lock", os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        held.append(fd)
    try:
        started = time.monotonic()
        with (
            pytest.raises(NoFreeDeviceError, match="--resources gpu=N"),
            claim_device("auto", locks=tmp_path / "locks", timeout=0.3, poll_seconds=0.1),
        ):
            pass
        assert time.monotonic() - started >= 0.3
    finally:
        for fd in held:
            os.close(fd)


@pytest.mark.parametrize(
    ("device", "message"), [("gpu", "unknown"), ("cuda:2", "2 CUDA device\\(s\\) are visible")]
)
def test_bad_device_requests_are_named(monkeypatch, tmp_path, device, message):
    _fake_gpus(monkeypatch, 2)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    with pytest.raises(ConfigError, match=message), claim_device(device, locks=tmp_path):
        pass


def test_visible_devices_follow_the_variable(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert devices.visible_devices(3) == ["0", "1", "2"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-ab12,GPU-cd34")
    assert devices.visible_devices(2) == ["GPU-ab12", "GPU-cd34"]
    monkeypatch.setenv(devices.LOCK_DIR_ENV, "/somewhere/locks")
    assert devices.lock_dir() == Path("/somewhere/locks")


def test_train_command_reports_a_missing_gpu_in_one_line(tmp_path):
    """`lgae train --device cuda` on a machine without CUDA: exit 2, no traceback."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lgae",
            "train",
            "--model",
            "cnnae",
            "--latent",
            "55",
            "--data-dir",
            str(tmp_path),
            "--out-dir",
            str(tmp_path / "out"),
            "--device",
            "cuda",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
    )
    assert result.returncode == 2, result.stderr
    assert "no CUDA device is visible" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unwritable_lock_directory_is_named_with_the_fix(monkeypatch, tmp_path):
    _fake_gpus(monkeypatch, 2)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(LGAEError, match=devices.LOCK_DIR_ENV), claim_device("auto", locks=blocker / "locks"):
        pass


def test_the_lock_directory_is_shared_by_every_user(monkeypatch, tmp_path):
    _fake_gpus(monkeypatch, 2)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    with claim_device("auto", locks=tmp_path / "locks"):
        assert (tmp_path / "locks").stat().st_mode & 0o7777 == 0o1777
