"""Every process-wide setting the desktop app changes, in one place, each with the reason it exists.

`early_init()` is the first thing gui.app.main runs (before the QApplication or any thread exists); it applies
what must hold for the whole process from the start. Two other process-wide changes cannot happen that early, so
they live here too and are called at their moment:

- `share_malloc_arena()` (at start, by `early_init`): one glibc malloc arena for all threads, so training in a
  thread runs as fast as in the CLI's main thread.
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
