"""One GPU per job: a job claims a CUDA device of its own for as long as it runs.

Snakemake's ``--resources gpu=N`` lets N GPU jobs run at once but assigns no device, so every job that
asks PyTorch for "cuda" lands on GPU 0. :func:`claim_device` gives each job a different one: it holds an
exclusive ``flock`` on one lock file per physical device, which the kernel releases when the process
ends however it ends (a killed job frees its GPU). It then narrows ``CUDA_VISIBLE_DEVICES`` to the
claimed device, so that the job sees exactly one GPU, as under SLURM.

``CUDA_VISIBLE_DEVICES`` is respected: only the devices it lists are candidates, and a job that sees a
single device (a SLURM job with ``--gpus=1``, or a user's explicit choice) simply takes it, without a
lock. Without CUDA, ``auto`` runs on the CPU.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import platform
import re
import time
from collections.abc import Iterator
from pathlib import Path

import torch

from lgae.errors import ConfigError, LGAEError

log = logging.getLogger(__name__)

LOCK_DIR_ENV = "LGAE_GPU_LOCK_DIR"
# fixed, not the per-job TMPDIR: every job on the machine must see the same locks
DEFAULT_LOCK_DIR = Path("/tmp/lgae-gpu-locks")
_DEVICE = re.compile(r"^(auto|cpu|cuda(:[0-9]+)?)$")


class NoFreeDeviceError(LGAEError):
    """Every visible GPU stayed claimed by other jobs for longer than the caller was willing to wait."""


def visible_devices(count: int) -> list[str]:
    """Physical names of the devices PyTorch numbers 0 … count-1 (entries of CUDA_VISIBLE_DEVICES)."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is None:
        return [str(i) for i in range(count)]
    entries = [entry.strip() for entry in listed.split(",") if entry.strip()]
    return entries[:count] + [str(i) for i in range(len(entries), count)]


def lock_dir() -> Path:
    """Where the per-device lock files live ($LGAE_GPU_LOCK_DIR, else /tmp/lgae-gpu-locks)."""
    return Path(os.environ.get(LOCK_DIR_ENV) or DEFAULT_LOCK_DIR)


def _try_lock(path: Path) -> int | None:
    """An open descriptor holding an exclusive lock on ``path``, or None if another process holds it."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError:  # a lock file another user created: flock needs no write access
        fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    with contextlib.suppress(OSError):  # who holds it, for `cat`; best effort
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {platform.node()} since {time.ctime()}\n".encode())
    return fd


def _lock_directory(directory: Path) -> Path:
    """The lock directory, created shared like /tmp (sticky, writable by all) so every user's jobs meet."""
    try:
        directory.mkdir(parents=True)
        directory.chmod(0o1777)
    except FileExistsError:
        pass
    except OSError as exc:
        raise LGAEError(
            f"{directory}: cannot create the GPU lock directory ({exc}); set {LOCK_DIR_ENV} to a "
            "directory every job on this machine can write"
        ) from exc
    return directory


def _lock_path(directory: Path, name: str) -> Path:
    return directory / f"gpu-{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.lock"


def _set_visible(value: str | None) -> None:
    if value is None:
        os.environ.pop("CUDA_VISIBLE_DEVICES", None)
    else:
        os.environ["CUDA_VISIBLE_DEVICES"] = value


def _narrow_to(name: str, index: int) -> str:
    """Make the claimed device the only visible one, if CUDA is still uninitialised; its torch name."""
    if torch.cuda.is_initialized():
        return f"cuda:{index}"
    before = os.environ.get("CUDA_VISIBLE_DEVICES")
    _set_visible(name)
    if torch.cuda.device_count() == 1:
        return "cuda:0"
    # the count did not follow the variable (CUDA already enumerated the devices): keep the index
    _set_visible(before)
    return f"cuda:{index}"


@contextlib.contextmanager
def claim_device(
    device: str = "auto",
    locks: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    poll_seconds: float = 5.0,
) -> Iterator[str]:
    """Yield the device this job runs on ("cpu", "cuda:0", …), claimed for the duration of the block.

    ``auto`` and ``cuda`` claim a free visible GPU (``auto`` falls back to the CPU without CUDA; ``cuda``
    is then an error); ``cpu`` and an explicit ``cuda:K`` are taken as given. When every GPU is claimed,
    wait for one (more jobs than GPUs, e.g. ``--resources gpu=4`` on two GPUs), up to ``timeout`` seconds.
    """
    if not _DEVICE.match(device):
        raise ConfigError(f"device {device!r} unknown; use auto, cpu, cuda or cuda:K (e.g. cuda:1)")
    if device == "cpu":
        yield "cpu"
        return
    count = torch.cuda.device_count()
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>")
    if device.startswith("cuda:"):
        if int(device.split(":")[1]) >= count:
            raise ConfigError(
                f"device {device!r} requested but {count} CUDA device(s) are visible "
                f"(CUDA_VISIBLE_DEVICES={visible}); use auto to take a free one"
            )
        log.info("device: %s, as requested (not claimed)", device)
        yield device
        return
    if count == 0:
        if device == "cuda":
            raise ConfigError(
                f"device 'cuda' requested but no CUDA device is visible (CUDA_VISIBLE_DEVICES={visible}, "
                f"torch {torch.__version__}); use auto or cpu"
            )
        log.info("device: cpu (no CUDA device visible; CUDA_VISIBLE_DEVICES=%s)", visible)
        yield "cpu"
        return
    names = visible_devices(count)
    if count == 1:
        log.info("device: cuda:0 (the only visible GPU, %s; CUDA_VISIBLE_DEVICES=%s)", names[0], visible)
        yield "cuda:0"
        return
    directory = _lock_directory(Path(locks) if locks is not None else lock_dir())
    started, waiting_logged = time.monotonic(), False
    while True:
        for index, name in enumerate(names):
            fd = _try_lock(_lock_path(directory, name))
            if fd is None:
                continue
            before = os.environ.get("CUDA_VISIBLE_DEVICES")
            try:
                taken = _narrow_to(name, index)
                log.info(
                    "device: %s = GPU %s, claimed with %s (%d visible: %s)",
                    taken,
                    name,
                    _lock_path(directory, name),
                    count,
                    ",".join(names),
                )
                yield taken
            finally:
                _set_visible(before)
                os.close(fd)  # releases the lock
            return
        waited = time.monotonic() - started
        if timeout is not None and waited >= timeout:
            raise NoFreeDeviceError(
                f"all {count} GPUs ({','.join(names)}) stayed claimed by other jobs for {waited:.0f} s "
                f"(locks in {directory}); run fewer GPU jobs at once (--resources gpu=N)"
            )
        if not waiting_logged:
            log.info("all %d GPUs are claimed by other jobs (locks in %s); waiting", count, directory)
            waiting_logged = True
        time.sleep(poll_seconds)
