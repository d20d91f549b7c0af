"""Every process-wide setting the desktop app changes, in one place, each with the reason it exists.

`early_init()` is the first thing gui.app.main runs (before the QApplication or any thread exists); it applies
what must hold for the whole process from the start. Two other process-wide changes cannot happen that early, so
they live here too and are called at their moment:

- `share_malloc_arena()` (at start, by `early_init`): one glibc malloc arena for all threads, so training in a
  thread runs as fast as in the CLI's main thread.
- `read_sources_raw_for_pyside()` (at start, by `early_init`, once PySide6 is imported): PySide6's question "does
  this module use PySide6?", asked of every module imported afterwards, answered without inspect and linecache.
- `freeze_imported_objects()` (gui.warmup, once the training stack is imported): moves everything imported so far
  out of the garbage collector's reach, so a collection never walks torch's and transformers' objects again.
- `lower_thread_priority()` (gui.runner, from inside the training thread: Linux sets niceness per thread): the
  training thread yields the CPU to the GUI thread.

Also process-wide but kept beside the code they serve: gui.warmup lowers `sys.setswitchinterval` only while it
imports (and restores it), and gui.app routes SIGINT to closing the window. Headless commands (`finetune-studio
train`) change none of this: they run in the main thread with no GUI thread to compete with.
"""

from __future__ import annotations

import gc
import os
import sys
import threading


def early_init() -> None:
    """Apply the process-wide settings the window path needs before Qt and before any thread starts."""
    share_malloc_arena()
    read_sources_raw_for_pyside()


def read_sources_raw_for_pyside() -> None:
    """Answer PySide6's per-import question from the module's file read raw, not through inspect and linecache.

    Once PySide6 is imported, its import hook (`__feature_import__`, serving `from __feature__ import snake_case`)
    asks of every module imported afterwards whether its source mentions "PySide6" (shibokensupport.feature's
    `_mod_uses_pyside`, PYSIDE-2029), through `inspect.getsource`. That keeps every source file in linecache for good:
    the warm-up's 2,700 files of torch, transformers and datasets stay as 59 MiB of text (the process peaked 168 MiB
    higher than the same imports without PySide6), and reading them through inspect took the warm-up's thread 0.56
    to 0.66 s that the tutorial's script does not spend (py-spy, benchmarks/first_step.py's app), before Start.
    The answer is the same: a `.py` file is searched for the same word in its bytes (Python source is in an
    ASCII-compatible encoding, PEP 263); anything else (an extension, a zip import, no file) goes to PySide6's own
    check, as before. The app never selects a `__feature__`, so the answer only files the module under "ignore"."""
    feature = sys.modules.get("shibokensupport.feature")
    uses_pyside = getattr(feature, "_mod_uses_pyside", None)
    if uses_pyside is None or getattr(uses_pyside, "reads_raw", False):
        return  # PySide6 not imported, another build without the check, or done already

    def mentions_pyside(module: object) -> bool:
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path.endswith(".py"):
            try:
                with open(path, "rb") as source:
                    return b"PySide6" in source.read()
            except OSError:
                pass
        return uses_pyside(module)

    mentions_pyside.reads_raw = True  # type: ignore[attr-defined]
    feature._mod_uses_pyside = mentions_pyside  # type: ignore[union-attr]


def share_malloc_arena() -> None:
    """Have every thread allocate from glibc's main malloc arena; call before any thread starts.

    glibc gives each new thread an arena of its own (up to 8 per core), and those trim freed memory back to the
    kernel eagerly, so a training thread that allocates and frees large tensors every step keeps faulting pages in
    again. Measured with benchmarks/overhead.py --control (identical runs taking turns): the core trained 2-6 %
    faster in the main thread, as the CLI runs it, than in a thread, as the GUI must; with one arena the two match
    (1.003). The cost, lock contention between the GUI and training threads on one arena, is too small to measure
    here. glibc only; elsewhere nothing changes."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        m_arena_max = -8  # <malloc.h>
        libc.mallopt(ctypes.c_int(m_arena_max), ctypes.c_int(1))
    except (OSError, AttributeError):
        pass  # not glibc (musl has no mallopt): its allocator has no per-thread arenas to tame


def freeze_imported_objects() -> None:
    """Move every object alive now to the garbage collector's permanent generation; call after the big imports.

    torch + transformers + datasets leave millions of objects on the heap. A full collection walks them all, one
    GIL hold of 0.1-0.4 s that freezes the window, and accelerate's `free_memory()` runs one at every train start.
    Frozen objects are never walked again; they are module-level objects that live as long as the process anyway.
    """
    gc.freeze()


def lower_thread_priority(niceness: int) -> None:
    """Make the calling thread (and the OpenMP threads torch starts from it, which inherit it) yield the CPU to
    the GUI thread when both want it. On a machine with few cores, torch's intra-op threads otherwise keep every
    core busy and the event loop waits 100-200 ms for a time slice; when the GUI is idle, training still gets
    every cycle. Linux sets niceness per thread; elsewhere QThread.LowPriority (set at start) does the job."""
    if not sys.platform.startswith("linux") or niceness <= 0:
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness))
    except (AttributeError, OSError):
        pass  # not permitted or not supported: training just competes evenly
