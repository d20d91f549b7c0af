"""Import the training stack in the background right after the window shows.

torch + transformers + datasets take seconds to import. Done at startup they would delay the window; done at the
first Start they would freeze it. So a plain Python thread imports them while the user looks at the forms. Imports
hold the GIL, and the event loop needs the GIL to run any Python slot, so this module takes care that no single
hold is long:

- the largest shared library (libtorch_cpu, ~0.4 s to map and relocate) is opened first through a ctypes call to
  `dlopen`, which releases the GIL, so the later `import torch` finds it loaded;
- the cyclic garbage collector is paused while importing (a full collection over the growing heap is a single
  GIL hold of 0.1-0.4 s, triggered by allocation counts, i.e. at random points) and the imported objects are then
  moved to the permanent generation (gui.early_init.freeze_imported_objects, with the app's other process-wide
  settings), so later collections (accelerate's `free_memory()` runs one when training starts) skip them;
- the interpreter switches threads every 1 ms instead of 5 ms while the import runs;
- the modules a first run would still import (the tokenizer and model classes, Qwen3, generation utilities) are
  imported here too, so the first Start does not import them on the training thread.

pyqtgraph is imported last, after the stack and after a starting run's first step (`warm_chart`): the window
shows without it, and a user who presses Start at once waits for the stack, not for a chart that has nothing to
draw yet (importing it and building the chart on the GUI thread took ~0.4 s of GIL time before that first step,
benchmarks/first_step.py). The window keeps a starting run's events until the chart is built
(MainWindow._chart_add). A recorded run opened during the warm-up waits for that chart too (MainWindow._with_chart):
`Warmup.want_chart()` then has pyqtgraph imported between two modules of the stack, at the next step, instead of
after all of it, so its curves show about when the module being imported is in (a run opened while torch was
importing waited for the whole stack and the first-run modules, 3-4 s, measured by helper-132) rather than when
the stack is.
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.util
import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from finetune_studio.core import collection
from finetune_studio.gui.background import wait_for_run_start
from finetune_studio.gui.early_init import freeze_imported_objects

# Imported one at a time, in dependency order; each is a short step the GUI thread can interleave with.
# pyqtgraph comes last (or as soon as a recorded run waits for the chart, see want_chart): the window shows without
# it (~0.15-0.25 s of import) and builds the chart once it is in.
CHART_MODULES = ("pyqtgraph",)
STACK_MODULES = (
    "torch", "transformers", "datasets", "accelerate", "transformers.trainer", "transformers.data.data_collator",
    *(f"finetune_studio.core.{name}" for name in ("hardware", "data", "model", "training", "validation")),
)
# What the first run imports on top of the stack (found by diffing sys.modules around a first demo run): the
# tokenizer and model classes, generation utilities, and the Qwen3 architecture both presets use. Optional, as
# module names move between transformers releases.
FIRST_RUN_MODULES = (
    "psutil", "tqdm.contrib.logging", "torch.utils.serialization", "transformers.models.auto.tokenization_auto",
    "transformers.models.auto.modeling_auto", "transformers.tokenization_utils_tokenizers",
    "transformers.convert_slow_tokenizer", "transformers.generation.utils", "transformers.masking_utils",
    "transformers.modeling_layers", "transformers.models.qwen3.modeling_qwen3",
)
MODULES = STACK_MODULES + FIRST_RUN_MODULES + CHART_MODULES
TORCH_LIBRARIES = ("libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so")


@dataclass(frozen=True)
class WarmStack:
    """What the forms need once the stack is warm."""

    hardware: Any  # core.hardware.Hardware
    training_fields: dict[str, Any]  # core.validation.training_fields()
    seconds: float


def preload_torch_libraries() -> None:
    """dlopen torch's big libraries with the GIL released (a ctypes foreign call drops it; an import does not)."""
    if not sys.platform.startswith("linux"):
        return
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.origin:
        return
    folder = os.path.join(os.path.dirname(spec.origin), "lib")
    try:
        libc = ctypes.CDLL(None)
        dlopen = libc.dlopen
    except (OSError, AttributeError):
        return
    dlopen.restype = ctypes.c_void_p
    dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    for name in TORCH_LIBRARIES:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            dlopen(path.encode(), os.RTLD_NOW | os.RTLD_LOCAL)  # a failure here only means import torch does it


def preload_in_background() -> threading.Thread:
    """Start mapping torch's libraries now, in a thread that holds no GIL while it works (see
    preload_torch_libraries), so the work overlaps the window's construction on another core instead of coming after
    it; the warm-up's own preload then finds them loaded. Called by gui.app.main right after early_init."""
    thread = threading.Thread(target=preload_torch_libraries, name="torch-preload", daemon=True)
    thread.start()
    return thread


def _import_lock() -> Any:
    """The forms' background jobs import the same modules; taking their lock keeps two threads from racing
    through transformers' lazy modules at once."""
    try:
        from finetune_studio.gui.background import IMPORT_LOCK
    except ImportError:
        return threading.Lock()
    return IMPORT_LOCK


def import_chart_modules(imported: Callable[[str], None] = lambda name: None,
                         progress: Callable[[str], None] = lambda name: None) -> None:
    """Import the chart's library (CHART_MODULES), reporting each module."""
    for name in CHART_MODULES:
        progress(name)
        importlib.import_module(name)
        imported(name)


def warm(progress: Callable[[str], None] = lambda name: None,
         imported: Callable[[str], None] = lambda name: None,
         chart_wanted: Callable[[], bool] = lambda: False) -> WarmStack:
    """Import everything a run needs and prime the caches validation uses. Safe to call twice.

    chart_wanted: asked before each module; once it says True, the chart's library is imported next (and reported
    through `imported`), ahead of the rest of the stack: a recorded run waits for its chart (Warmup.want_chart)."""
    t0 = time.perf_counter()
    interval = sys.getswitchinterval()
    lock = _import_lock()
    sys.setswitchinterval(0.001)
    with collection.paused():  # the stack's millions of new objects are frozen below, never walked
        try:
            # One lock hold for the whole stack: a form's background job that runs datasets code while transformers
            # is half-imported here fails (datasets looks up transformers.PreTrainedTokenizerBase when "transformers"
            # is in sys.modules). Jobs take this lock before their heavy work, so they wait for a complete stack.
            charted = False

            def chart_first() -> None:
                nonlocal charted
                if not charted and chart_wanted():
                    charted = True
                    try:
                        import_chart_modules(imported)
                    except Exception:  # noqa: BLE001 - not the stack's failure: the window imports it where it draws
                        pass

            with lock:
                for name in STACK_MODULES:
                    chart_first()
                    progress(name)
                    if name == "torch":
                        preload_torch_libraries()
                    importlib.import_module(name)
                    imported(name)
                for name in FIRST_RUN_MODULES:
                    chart_first()
                    try:
                        importlib.import_module(name)
                    except ImportError:
                        pass
            chart_first()
            from finetune_studio.core.config import default_config
            from finetune_studio.core.hardware import detect
            from finetune_studio.core.validation import training_fields, validate

            hardware = detect()
            fields = training_fields()
            validate(default_config())  # the first call builds TrainingArguments once more and fills lru caches
        finally:
            freeze_imported_objects()
            sys.setswitchinterval(interval)
    return WarmStack(hardware, fields, time.perf_counter() - t0)


def warm_chart(progress: Callable[[str], None] = lambda name: None,
               imported: Callable[[str], None] = lambda name: None) -> None:
    """Import the chart's library once a starting run has taken its first step (at once when none is starting):
    before that step it would only take the GIL from the run."""
    wait_for_run_start()
    # A plain import: no gc.freeze() here, as a run may be training by now and its live objects must stay
    # collectable; pyqtgraph adds too few objects to the heap for a collection over them to stall the window.
    import_chart_modules(imported, progress)


class Warmup(QObject):
    """Runs `warm()` in a daemon thread and reports on the GUI thread (signals emitted from the thread are
    queued to this object, which lives in the GUI thread)."""

    progress = Signal(str)  # a module is about to be imported
    imported = Signal(str)  # a module has been imported
    ready = Signal(object)  # WarmStack
    failed = Signal(str, str)  # message, traceback

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._chart_wanted = threading.Event()
        self.chart_imported = False  # `imported` has reported every CHART_MODULES module (set on the warm-up thread)

    def want_chart(self) -> None:
        """Something waits for the chart now (a recorded run opened during the warm-up): import its library at the
        warm-up's next step rather than after the whole stack. Thread-safe; a no-op once it is imported."""
        self._chart_wanted.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="warm-up", daemon=True)
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            stack = warm(lambda name: self._safe_emit(self.progress, name), self._report_imported,
                         self._chart_wanted.is_set)
        except BaseException as exc:  # noqa: BLE001 - a missing library becomes a message, not a dead thread
            self._safe_emit(self.failed, f"The training libraries could not be loaded: {type(exc).__name__}: "
                                         f"{exc}. To fix: pip install -e . in the app's environment.",
                            traceback.format_exc())
        else:
            self._safe_emit(self.ready, stack)
            if self.chart_imported:
                return  # already in: imported during the stack for a run that waited for its chart
            try:
                warm_chart(imported=self._report_imported)
            except Exception:  # noqa: BLE001 - the window imports it again where it draws, and reports that error
                pass

    def _report_imported(self, name: str) -> None:
        if name == CHART_MODULES[-1]:
            self.chart_imported = True
        self._safe_emit(self.imported, name)

    @staticmethod
    def _safe_emit(signal: Any, *args: Any) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:
            pass  # the window (and this object) closed before the imports finished
