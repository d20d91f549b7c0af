"""How many cores one thread's torch work uses, set for that thread alone.

An answer generated on the CPU while its text is shown (the Try tab's window draws each piece; a terminal prints
it) shares the cores with whatever shows it. torch's OpenMP team takes every core by default, and a team that
fills every core stalls at each of its barriers whenever another thread runs: on the 2-core VM a plain
`model.generate` of 64 tokens made 915 tok/s with 2 threads and 1,103 with 1 on the demo model, and 10 vs 19 tok/s
on a Qwen3-0.6B-shaped 2-layer model while other programs ran (commit d9a7b46 has these and benchmarks/generate.py's
figures). So an answer leaves one core free, and answers generated at the same time share the rest
(`answer_threads`).

`torch.set_num_threads` cannot say this: it also sets the count every thread started afterwards takes (a process
-wide atomic), so a training run started meanwhile would train on one core. `this_thread_threads` sets the calling
thread's own counts instead: OpenMP's `omp_set_num_threads` (a per-thread setting by the OpenMP standard) and the
per-thread MKL count (`MKL_Set_Num_Threads_Local`) in the MKL torch links statically, which a thread that torch
started with a count of its own (torch.set_num_threads called anywhere earlier) would otherwise keep. threadpoolctl,
the library for this, sets MKL's count for the whole process (MKL_Set_Num_Threads) and does not see an MKL linked
inside libtorch_cpu, hence these two calls of our own. Where the libraries are not found (a torch build without
OpenMP or MKL, or a platform without /proc/self/maps) nothing changes and the answer runs as torch would run it.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
from typing import Any, Iterator

OPENMP_NAMES = ("libgomp", "libomp", "libiomp5")  # GNU (torch's Linux wheels), LLVM, Intel OpenMP
MKL_OWNERS = ("libtorch_cpu", "libmkl_rt")  # torch's wheels link MKL into libtorch_cpu


def _loaded_paths() -> list[str]:
    """Paths of the shared libraries this process has loaded (Linux); empty where that cannot be read."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            fields = [line.split() for line in maps]
    except OSError:
        return []
    return list(dict.fromkeys(f[-1] for f in fields if len(f) >= 6 and ".so" in os.path.basename(f[-1])))


def _library(prefixes: tuple[str, ...], symbol: str) -> Any | None:
    """The loaded library (never a second copy: RTLD_NOLOAD) whose name starts with one of `prefixes` and that
    exports `symbol`; torch's own first, where another package loaded a second OpenMP runtime."""
    import torch

    own = os.path.dirname(torch.__file__) + os.sep
    for path in sorted(_loaded_paths(), key=lambda path: not path.startswith(own)):
        if os.path.basename(path).startswith(prefixes):
            try:
                library = ctypes.CDLL(path, mode=os.RTLD_NOLOAD | os.RTLD_LOCAL)
            except OSError:
                continue
            if hasattr(library, symbol):
                return library
    return None


@functools.lru_cache(maxsize=1)
def _setters() -> tuple[Any, Any]:
    """(omp_set_num_threads, MKL_Set_Num_Threads_Local), each None where not found. Looked up once torch is
    imported, so its libraries are loaded."""
    import torch  # noqa: F401 - loads the libraries looked up below

    openmp = _library(OPENMP_NAMES, "omp_set_num_threads")
    mkl = _library(MKL_OWNERS, "MKL_Set_Num_Threads_Local")
    return (openmp.omp_set_num_threads if openmp else None,
            mkl.MKL_Set_Num_Threads_Local if mkl else None)  # the C call: lowercase mkl_* take a pointer


def answer_threads(at_once: int = 1, cores: int | None = None) -> int:
    """Intra-op threads for each of `at_once` answers generated at the same time on the CPU: one core is left to
    what shows them, the rest shared, at least one each. `cores`: by default the count torch gives the calling
    thread, the one that will answer (read before this thread's count is set: this_thread_threads puts it back)."""
    if cores is None:
        import torch

        cores = torch.get_num_threads()
    return max(1, (cores - 1) // max(1, at_once))


@contextlib.contextmanager
def this_thread_threads(count: int, required: bool = False) -> Iterator[bool]:
    """Within the block the calling thread's torch work uses at most `count` intra-op threads; other threads, and
    threads started meanwhile, keep theirs. Yields whether this thread runs on at most `count`; it is put back
    after. `required`: where this thread's own count cannot be set, torch.set_num_threads sets the process's for the
    block (what the demo model's build needs for weights that do not depend on the core count), else nothing
    changes."""
    import torch

    before = torch.get_num_threads()  # also starts this thread's torch settings, which would otherwise overwrite ours
    set_openmp, set_mkl = _setters()
    if count >= before:
        yield True
        return
    if set_openmp is None:
        if not required:
            yield False
            return
        torch.set_num_threads(count)
        try:
            yield True
        finally:
            torch.set_num_threads(before)
        return
    set_openmp(count)
    mkl_before = set_mkl(count) if set_mkl else None  # this thread's own MKL count before, 0 for none
    try:
        yield True
    finally:
        set_openmp(before)
        if set_mkl is not None:
            set_mkl(mkl_before)
