"""Fault injection for runs: a model whose forward pass fails the way real ones do (out of memory at step k, or
any exception), a disk that fills up, and byte snapshots that prove nothing saved earlier was touched."""

from __future__ import annotations

import errno
import functools
import hashlib
from pathlib import Path
from typing import Any, Callable

import pytest

CUDA_OOM = ("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 23.64 GiB of which "
            "1.12 GiB is free.")


def cuda_oom() -> BaseException:
    import torch

    return torch.OutOfMemoryError(CUDA_OOM)


def faulty_forward(monkeypatch: pytest.MonkeyPatch, error: Callable[[], BaseException], after: int = 0,
                   rows_over: int | None = None) -> dict[str, int]:
    """Every model the run loads gets a forward pass that raises `error()` once it has trained `after` batches
    (only for batches of more than `rows_over` rows, when given: a memory limit). Evaluation is unaffected.
    Returns the live counters {"calls": training forwards seen, "raised": errors raised}."""
    from finetune_studio.core import model as core_model
    load_model = core_model.load_model
    counts = {"calls": 0, "raised": 0}

    def load(config: Any, adapter: Any = None) -> Any:
        model = load_model(config, adapter)
        forward = model.forward

        @functools.wraps(forward)  # Trainer reads the signature to pick the dataset columns
        def flaky(*args: Any, **kwargs: Any) -> Any:
            ids = kwargs.get("input_ids")
            if model.training and (rows_over is None or (ids is not None and ids.shape[0] > rows_over)):
                counts["calls"] += 1
                if counts["calls"] > after:
                    counts["raised"] += 1
                    raise error()
            return forward(*args, **kwargs)

        model.forward = flaky
        return model

    monkeypatch.setattr(core_model, "load_model", load)
    return counts


def disk_full(path: str) -> OSError:
    return OSError(errno.ENOSPC, "No space left on device", path)


def file_hashes(*roots: Path) -> dict[str, str]:
    """sha256 of every file under roots (a root may be a single file), keyed by path."""
    found: dict[str, str] = {}
    for root in roots:
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
        for path in paths:
            found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


class Snapshot:
    """The bytes of everything under some folders now, to compare with later."""

    def __init__(self, *roots: Path):
        self.roots = roots
        self.before = file_hashes(*roots)
        assert self.before, "a snapshot of nothing proves nothing"

    def changed(self) -> list[str]:
        after = file_hashes(*self.roots)
        return [path for path, digest in self.before.items() if after.get(path) != digest]

    def added(self) -> list[str]:
        return sorted(set(file_hashes(*self.roots)) - set(self.before))

    def assert_kept(self) -> None:
        """Every file saved before is still there, byte for byte (new files may have appeared)."""
        assert self.changed() == []

    def assert_unchanged(self) -> None:
        """Nothing was changed, lost or added."""
        assert self.changed() == [] and self.added() == []
