"""The pre-flight memory estimate as a stacked bar against the chosen devices' free memory, its verdict, and fixes.

The numbers come from core.estimate.preflight (Qt-free; a fake forward pass takes up to a second the first time for
a model, so it runs in a one-thread pool and the newest request wins, like gui/validator.py). This widget only
draws: one segment per part (weights, gradients, optimizer states, activations, …) on a scale that holds both the
estimate and the free memory, a line where the free memory ends, the verdict in words, and the ranked fixes with
their new estimates, each applied with one click (`fix_chosen` carries its overrides to the window). Before Start,
`confirm_start` asks whether to go on when the verdict is "will not fit".
"""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import QObject, QRectF, QRunnable, QSize, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from finetune_studio.core.estimate import (
    FITS,
    TIGHT,
    WONT_FIT,
    Budget,
    Preflight,
    budget_of,
    free_place,
    gib,
)
from finetune_studio.core.estimate import verdict as judge
from finetune_studio.gui.background import wait_for_run_start

PART_COLORS = {"weights": "#4e79a7", "gradients": "#f28e2b", "optimizer states": "#e15759", "activations": "#76b7b2",
               "CUDA runtime": "#9c755f", "CPU runtime": "#9c755f", "tied embedding gradients": "#edc948",
               "evaluation logits": "#b07aa1"}
VERDICT_COLORS = {FITS: "#1e7d32", TIGHT: "#9a5b00", WONT_FIT: "#c5221f"}
VERDICT_WORDS = {FITS: "Fits", TIGHT: "Tight", WONT_FIT: "Will not fit"}
MIN_SEGMENT_PX = 4  # a part too small for the scale (68 MiB against 22 GiB) still shows, with its color
METHOD_WORDS = {"full": "full fine-tuning", "lora": "LoRA", "qlora": "QLoRA", "dora": "DoRA"}
# What the parts whose names say little are (the legend's tooltip; core/estimate.py's module doc says how each is
# worked out).
PART_HELP = {
    "CPU runtime": "CPU runtime: the memory a training process takes besides its tensors, the libraries' working "
                   "set (torch's CPU kernels, the model loader, the Trainer and its data loader), measured once on "
                   "a tiny model; with torchrun, each process's own Python with torch and transformers imported.",
    "CUDA runtime": "CUDA runtime: the GPU memory a training process takes besides its tensors, the CUDA context "
                    "and cuBLAS's workspaces (about 0.5 GiB with recent drivers).",
    "tied embedding gradients": "tied embedding gradients: at the end of the backward pass, a model whose output "
                                "head shares the input embedding's weight holds two full-size gradients of it and "
                                "their sum at once.",
    "evaluation logits": "evaluation logits: evaluation holds the head's logits and their log-softmax for a whole "
                         "eval batch, above what training needs at its peak.",
}


# Bytes as every figure of the estimate (and the Devices line's RAM) says them: core's rule, so the window and
# `finetune-studio estimate` say the same size alike ("4.0 GiB" in both, where the CLI said "3.97 GiB").
size_text = gib


def free_text(budget: Budget) -> str:
    """'22 GiB free RAM', '70 GiB free on GPU 0 (NVIDIA H100)'; the device alone when its free memory is unknown."""
    if not budget.free_bytes:
        return f"{budget.what} (free memory unknown)"
    return f"{size_text(budget.free_bytes)} {free_place(budget)}"


def legend_item(label: str, value: int) -> str:
    """One legend entry as rich text that never breaks inside ("optimizer states 2.2 / GiB"): its spaces are
    non-breaking, so a narrow legend wraps only between entries."""
    text = f"{label} {size_text(value)}".replace(" ", "&nbsp;")
    return f"<span style='color:{PART_COLORS.get(label, '#999')}'>&#9632;</span>&nbsp;{text}"


class StackedBar(QWidget):
    """One horizontal bar of (label, bytes) parts and a vertical line at `limit` bytes (the free memory)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.parts: list[tuple[str, int]] = []
        self.limit = 0
        self.outdated = False  # the parts are of settings changed since: drawn faded until the new estimate comes
        self.setMinimumHeight(34)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(320, 34)

    def set_outdated(self, outdated: bool) -> None:
        if outdated != self.outdated:
            self.outdated = outdated
            self.update()

    def set_parts(self, parts: list[tuple[str, int]], limit: int) -> None:
        self.parts, self.limit, self.outdated = list(parts), int(limit), False
        self.setToolTip("\n".join(f"{label}: {size_text(value)}" for label, value in parts)
                        + (f"\nfree: {size_text(limit)}" if limit else ""))
        self.update()

    def scale(self) -> float:
        """Bytes shown by the full width: the estimate or the free memory, whichever is larger, plus room."""
        return max(sum(v for _, v in self.parts), self.limit, 1) * 1.08

    def area(self) -> QRectF:
        return QRectF(self.rect()).adjusted(1, 6, -1, -6)

    def segments(self) -> list[tuple[str, QRectF]]:
        """Each part's rectangle, left to right, to scale, except that a non-zero part is at least MIN_SEGMENT_PX
        wide (a small estimate against a large free memory would otherwise draw an empty bar)."""
        area, total = self.area(), self.scale()
        x, found = area.left(), []
        for label, value in self.parts:
            width = max(area.width() * value / total, MIN_SEGMENT_PX if value > 0 else 0.0)
            found.append((label, QRectF(x, area.top(), width, area.height())))
            x += width
        return found

    def paintEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.outdated:
            painter.setOpacity(0.35)
        area = self.area()
        painter.setPen(QPen(QColor("#c8c8c8"), 1))
        painter.setBrush(QColor("#f3f3f3"))
        painter.drawRoundedRect(area, 3, 3)
        total = self.scale()
        painter.setPen(Qt.PenStyle.NoPen)
        for label, rect in self.segments():
            painter.setBrush(QColor(PART_COLORS.get(label, "#999999")))
            painter.drawRect(rect.intersected(area))
        if self.limit:
            at = area.left() + area.width() * self.limit / total
            painter.setPen(QPen(QColor("#202124"), 2, Qt.PenStyle.DashLine))
            painter.drawLine(int(at), int(area.top()) - 5, int(at), int(area.bottom()) + 5)
        painter.end()


class _Relay(QObject):
    done = Signal(int, object)


class _Job(QRunnable):
    def __init__(self, generation: int, config: Any, table: Any, relay: _Relay):
        super().__init__()
        self.generation, self.config, self.table, self.relay = generation, config, table, relay

    def run(self) -> None:
        from finetune_studio.core.estimate import preflight

        wait_for_run_start()  # a display refresh: a starting run goes first (gui.background)
        result = preflight(self.config, self.table)
        try:
            self.relay.done.emit(self.generation, result)
        except RuntimeError:
            pass  # the bar was destroyed with its window


class EstimateBar(QWidget):
    """`request(config, table)` estimates off the GUI thread; the newest result is shown. `fix_chosen(dict)` carries
    the dotted overrides of the fix the user applied."""

    fix_chosen = Signal(object)
    shown = Signal(object)  # the Preflight just shown (tests and the window read `result`)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("estimate_bar")
        self.result: Preflight | None = None
        self._config: Any = None  # the config last asked about, to judge again when the free memory moves
        self._table: Any = None  # the latest reading of the machine (core.gpus.GpuTable), the Devices line's
        self._generation = 0
        self._shown_for: Any = None  # the config whose estimate is shown (None: unknown, before the first)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.done.connect(self._deliver)

        self.title = QLabel("<b>Memory estimate</b>")
        self.verdict_label = QLabel("Estimating…")
        self.verdict_label.setObjectName("estimate_verdict")
        self.verdict_label.setWordWrap(True)
        self.bar = StackedBar()
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.fixes_title = QLabel("<b>Fixes</b>, best first (each with its new estimate):")
        self.fixes_box = QVBoxLayout()
        self.fixes_box.setSpacing(4)
        self.fix_buttons: list[QPushButton] = []
        self.no_fit_note = QLabel()  # when no fix alone makes a run that will not fit fit: what is left to do
        self.no_fit_note.setObjectName("estimate_no_fit")
        self.no_fit_note.setWordWrap(True)
        self.no_fit_note.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.title)
        layout.addWidget(self.bar)
        layout.addWidget(self.verdict_label)
        layout.addWidget(self.legend)
        layout.addWidget(self.fixes_title)
        layout.addLayout(self.fixes_box)
        layout.addWidget(self.no_fit_note)
        self.fixes_title.hide()

    # ---- requests
    def request(self, config: Any, table: Any) -> None:
        self._generation += 1  # the last result stays shown until the new one arrives, marked as outdated
        self._config = config.copy()
        self._table = table
        if self.result is not None and self._shown_for is not None and self._config != self._shown_for:
            self._mark_outdated()
        elif self.outdated and self.result is not None:  # edited back to the settings shown (note_change)
            self.show_result(self.result)
        self._pool.start(_Job(self._generation, self._config, table, self._relay))

    def note_change(self, config: Any) -> None:
        """The settings were edited; their estimate is asked for once validation has run (the window waits 300 ms
        for more typing first, then validates): mark the shown estimate as outdated now when it is of other
        settings. request() clears the mark when it asks about the settings shown."""
        if self.result is not None and self._shown_for is not None and config != self._shown_for:
            self._mark_outdated()

    @property
    def outdated(self) -> bool:
        """The shown estimate is of settings changed since, and the new one is being worked out."""
        return self.bar.outdated

    def _mark_outdated(self) -> None:
        """The settings changed and their estimate takes a while (seconds for a large model, each fix estimated
        too): the shown figures, verdict and fixes were of the settings before, and read as current meanwhile; an
        Apply there wrote a fix worked out for the old settings (its accumulation steps from the old batch)."""
        self.bar.set_outdated(True)
        self.verdict_label.setStyleSheet("color: #5f6368;")
        self.verdict_label.setText("Estimating the changed settings… The figures below are of the settings before "
                                   "the change.")
        self.no_fit_note.hide()  # what to do next was said of the settings before
        for button in self.fix_buttons:
            button.setEnabled(False)
            button.setToolTip("This fix was worked out for the settings before the change; wait for the new "
                              "estimate and its fixes.")

    def rejudge(self, table: Any) -> None:
        """The devices' free memory changed (another program started or ended): the last config, judged again."""
        if self._config is not None:
            self.request(self._config, table)
        self._table = table

    def show_free(self, table: Any) -> None:
        """A new reading of the machine (the Hardware tab's Devices line shows it): the shown verdict says its free
        memory, the same sample, not the one taken when the config last changed (the two read "22.36 GiB
        available" and "22.48 GiB free" on one page). Estimated again only when the verdict would change."""
        self._table = table
        result = self.result
        if result is None or result.estimate is None or self.outdated:  # the coming estimate is judged on `table`
            return
        moved = self._against(result, table)
        if moved is None:
            self.rejudge(table)
        elif moved.budget != result.budget:
            self.result = moved
            self._say_verdict(moved)
            self.bar.set_parts(moved.estimate.parts(), moved.budget.free_bytes)

    def _against(self, result: Preflight, table: Any) -> Preflight | None:
        """`result` judged against `table`'s free memory, or None when that changes the device or the verdict
        (fixes are ranked for a verdict: that takes a new estimate)."""
        if result.estimate is None or self._config is None or table is None:
            return result
        from finetune_studio.core.launch import processes_per_node

        devices = self._config.launch.devices
        try:
            budget = budget_of(list(devices) if isinstance(devices, list) else [], table,
                               processes_per_node(self._config))
        except Exception:  # noqa: BLE001 - a value the estimate refused would not be shown here; keep what is
            return result
        if (budget.device, budget.what) != (result.budget.device, result.budget.what) or \
                judge(result.estimate.total, budget) != result.verdict:
            return None
        return dataclasses.replace(result, budget=budget)

    def wait(self, timeout_ms: int = 30_000) -> bool:
        return self._pool.waitForDone(timeout_ms)

    @Slot(int, object)
    def _deliver(self, generation: int, result: Preflight) -> None:
        if generation == self._generation:  # judged against the latest reading when the verdict stays
            self.show_result(self._against(result, self._table) or result)

    # ---- showing
    @property
    def verdict(self) -> str:
        return self.result.verdict if self.result is not None else ""

    def show_result(self, result: Preflight) -> None:
        """Show `result`, the estimate of the config last asked about (request), or of the window's config when
        Start asked for it (the same config: the bar is asked about every change)."""
        self.result = result
        self._shown_for = self._config
        self.bar.set_outdated(False)
        budget = result.budget
        if result.estimate is None:
            self.bar.set_parts([], budget.free_bytes)
            if result.problems:  # the config is not valid yet: validation's words, in a neutral colour
                self.verdict_label.setStyleSheet("")
                self.verdict_label.setText(result.error)
            else:
                self.verdict_label.setStyleSheet(f"color: {VERDICT_COLORS[TIGHT]};")
                self.verdict_label.setText(f"No estimate: {result.error}")
            self.legend.setText("")
            self.legend.setToolTip("")
            self._set_fixes(())
            self.no_fit_note.hide()
            self.shown.emit(result)
            return
        estimate = result.estimate
        self.bar.set_parts(estimate.parts(), budget.free_bytes)
        self._say_verdict(result)
        swatches = "&nbsp;&nbsp; ".join(legend_item(label, value) for label, value in estimate.parts())
        method = METHOD_WORDS.get(estimate.method, estimate.method)
        shape = (f"{method}, batch {estimate.batch} × {estimate.max_length} tokens, activation "
                 f"checkpointing {'on' if estimate.checkpointing else 'off'}; dashed line: free memory"
                 + (f"; {estimate.sharing_note}" if estimate.sharing > 1 else ""))
        self.legend.setText(f"{swatches}<br><span style='color:#5f6368'>{shape}</span>")
        self.legend.setToolTip("\n\n".join(PART_HELP[label] for label, _ in estimate.parts() if label in PART_HELP))
        self._set_fixes(result.fixes)
        self._say_no_fit(result)
        self.shown.emit(result)

    def _say_no_fit(self, result: Preflight) -> None:
        """A run that will not fit whose fixes, each alone, leave it not fitting (a 70B model on a 20 GiB machine:
        one fix, 'Cut rows at 256 tokens → 135 GiB, will not fit') ended at that list, with nothing to do next."""
        stuck = (result.estimate is not None and result.verdict == WONT_FIT
                 and all(fix.verdict == WONT_FIT for fix in result.fixes))
        if stuck:
            start = ("None of the fixes above makes this run fit on its own. To fix: apply one and see the fixes of "
                     "the new estimate (they add up), pick" if result.fixes else
                     "No change the estimate knows of makes this run fit. To fix: pick")
            place = "more RAM or a GPU" if result.budget.device != "cuda" else "more GPU memory"
            self.no_fit_note.setText(f"{start} a smaller model on the Model tab, or train on a machine with {place}.")
        self.no_fit_note.setVisible(stuck)

    def _say_verdict(self, result: Preflight) -> None:
        estimate, budget = result.estimate, result.budget
        self.verdict_label.setStyleSheet(f"color: {VERDICT_COLORS[result.verdict]}; font-weight: bold;")
        per = (" per GPU" if budget.device == "cuda" and estimate.devices > 1
               else f" for {estimate.sharing} processes" if estimate.sharing > 1 else "")
        self.verdict_label.setText(f"{VERDICT_WORDS[result.verdict]}: about {size_text(estimate.total)}{per} of "
                                   f"{free_text(budget)}.")

    def _set_fixes(self, fixes: Any) -> None:
        for button in self.fix_buttons:
            self.fixes_box.removeWidget(button.parentWidget())
            button.parentWidget().deleteLater()
        self.fix_buttons = []
        for fix in fixes:
            row = QWidget()
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            # the new estimate and its verdict never break inside ("5.82 / GiB", "will / not fit")
            figure, verdict = (f"→ {size_text(fix.estimate.total)}".replace(" ", "&nbsp;"),
                               fix.verdict.replace(" ", "&nbsp;"))
            text = QLabel(f"{fix.description} {figure}, "
                          f"<span style='color:{VERDICT_COLORS[fix.verdict]}'>{verdict}</span>")
            text.setWordWrap(True)
            button = QPushButton("Apply")
            button.setToolTip("Change the config: " + ", ".join(f"{k} = {v}" for k, v in fix.overrides.items()))
            button.clicked.connect(lambda _=False, overrides=dict(fix.overrides): self.fix_chosen.emit(overrides))
            line.addWidget(text, 1)
            line.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
            self.fixes_box.addWidget(row)
            self.fix_buttons.append(button)
        self.fixes_title.setVisible(bool(self.fix_buttons))


def confirm_start(parent: QWidget, result: Preflight | None) -> bool:
    """True to go on. Asks only when the estimate says the run will not fit; No is the default answer."""
    if result is None or result.estimate is None or result.verdict != WONT_FIT:
        return True
    best = f"\n\nBest fix: {result.fixes[0].description}." if result.fixes else ""
    answer = QMessageBox.question(
        parent, "This run will probably not fit",
        f"The memory estimate is {size_text(result.estimate.total)}, but {result.budget.what} has "
        f"{size_text(result.budget.free_bytes)} free: the run will likely stop with an out-of-memory error.{best}\n\n"
        "Start anyway?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes
