"""Progress of the current run: a bar plus step, epoch, elapsed, ETA and tokens/s.

Step events arrive once per optimizer step (hundreds per second on a fast GPU with a small model); the widget keeps
only the latest one and repaints at most 4 times a second, so a burst of steps never queues up repaints. Figures
need no animation rate, and every repaint is GUI-thread work that takes a core (and the GIL) from the training
thread (see gui.throttle for why a step after a quiet spell is shown at once).

The figures are read-only line edits without a frame, not labels: QLabel.setText always asks its parent to re-lay
out, the request climbs to the main window, and every refresh re-laid out (and repainted) all of it, then, once
contained, still re-laid out this grid (~0.6 ms). A line edit's size does not depend on its text, so a new figure
only repaints that field; each is wide enough for a large figure. The text stays selectable, as on a label.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

from PySide6.QtCore import QAbstractAnimation, Qt, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QGridLayout, QLabel, QLineEdit, QProgressBar, QWidget

from finetune_studio.core.metrics import integer
from finetune_studio.gui.throttle import Throttle

REFRESH_MS = 250
# A flat bar in the palette's colours: the Fusion style paints its gradients in ~1.3 ms for a bar 800 px wide, this
# in ~0.1 ms, and the bar repaints with every refresh while the training thread waits for the core.
BAR_STYLE = ("QProgressBar { border: 1px solid palette(mid); border-radius: 4px; background: palette(base);"
             " text-align: center; min-height: 18px; }"
             " QProgressBar::chunk { background: palette(highlight); border-radius: 3px; }")


def format_duration(seconds: Any) -> str:
    """1:05 for a minute, 2:03:04 for hours; an em dash when unknown."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not math.isfinite(seconds):
        return "—"
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_rate(value: Any) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
        return "—"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def format_epochs(epoch: Any, total: Any) -> str:
    """"1.59 / 3": the epoch reached and the epoch the run ends at (as few decimals as it needs). Two decimals,
    or more for a run that ends within the first tenth of an epoch (max_steps on a large dataset: "0.0018 /
    0.0036", not "0 / 0")."""
    if not _finite(epoch):
        return "—"
    if not _finite(total) or total <= 0:
        return f"{epoch:.2f}"
    digits = 2 if total >= 0.1 else min(6, 1 - math.floor(math.log10(total)))
    return f"{epoch:.{digits}f} / {f'{total:.{digits}f}'.rstrip('0').rstrip('.')}"


_COUNTS = ("step", "max_steps")


def _readable(event: dict) -> dict:
    """The event without a step or max_steps that is no count: a metrics.jsonl line written by hand or damaged
    ({"event": "step", "step": "abc"}) raised ValueError while a run was opened ("Unexpected error"). Such a value
    is skipped, as `finetune-studio runs` skips it, and the figure shown before stays."""
    return {key: value for key, value in event.items() if key not in _COUNTS or integer(value) is not None}


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


NOW, LATER = "now", "later"  # how soon fold_event's caller refreshes the figures


def fold_event(latest: dict[str, Any] | None, event: dict) -> tuple[dict[str, Any] | None, str | None]:
    """The figures' state after `event`: (the latest figures, NOW, LATER or None for when to show them). May update
    `latest` in place. The one rule for ProgressWidget.add_event (a run's events as they come) and fold_events (a
    recorded run's, read off the GUI thread)."""
    kind = event.get("event")
    if kind == "train_begin":
        # A start or a resume: every figure is this segment's own from here (a resume's rates start afresh,
        # its epoch total follows the config it resumed with), none is left over from the attempt before.
        # Shown at once, as for "end": once per start, and figures left from before would mislead.
        return _readable(event), NOW
    if kind == "step":
        if latest is None:
            return _readable(event), LATER
        latest.update(_readable(event))
        return latest, LATER
    if kind == "end" and latest is not None:
        finished = event.get("state") == "finished"
        latest.update(step=_readable(event).get("step", latest.get("step")),
                      eta_s=0 if finished else None,
                      tokens_per_s=latest.get("tokens_per_s") if finished else None)
        if isinstance(event.get("elapsed_s"), (int, float)):
            latest["elapsed_s"] = event["elapsed_s"]  # up to the end, as the Runs tab's Duration
        return latest, NOW
    return latest, None


def fold_events(events: Iterable[dict], latest: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """What ProgressWidget shows after `events` (no widget: for a worker thread); see ProgressWidget.show_state."""
    for event in events:
        latest = fold_event(latest, event)[0]
    return latest


class ProgressWidget(QWidget):
    """Bar and figures for one run; `add_event` takes every core event, `set_busy` covers the setup phases."""

    FIELDS = ("step", "epoch", "elapsed", "eta", "tokens")
    CAPTIONS = {"step": "Step", "epoch": "Epoch", "elapsed": "Elapsed", "eta": "Remaining", "tokens": "Tokens/s"}
    # What each figure means; the same text on its caption and its value.
    TIPS = {
        "step": "Optimizer steps done / steps the run trains in all (max_steps, or its epochs times the optimizer "
                "steps per epoch). Counts on across Stop and Resume.",
        "epoch": "Passes over the training rows done / the epoch the run ends at: num_train_epochs, or less when "
                 "max_steps ends it within an epoch.",
        "elapsed": "Time the run has been running, its start and every resume added up (the days a stopped run "
                   "waited do not count); the same figure as Duration in the Runs tab.",
        "eta": "Estimated time until the last optimizer step: the steps left times the average time per step "
               "since this start or resume (its first step, which includes warm-up, not counted). Blank until "
               "that average exists.",
        "tokens": "Real (non-padding) input tokens trained per second, averaged since this start or resume.",
    }
    WIDEST = {"step": "88,888 / 88,888", "epoch": "88.88 / 88.88", "elapsed": "88:88:88", "eta": "88:88:88",
              "tokens": "888,888"}  # each field is at least this wide

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.bar.setFormat("%p %")
        self.bar.setStyleSheet(BAR_STYLE)
        self.values: dict[str, QLineEdit] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(4, 4, 4, 4)
        grid.setHorizontalSpacing(10)  # five figures in a row fit beside the forms in a 900 px window
        grid.setVerticalSpacing(2)
        grid.addWidget(self.bar, 0, 0, 1, len(self.FIELDS))
        for col, key in enumerate(self.FIELDS):
            caption = QLabel(self.CAPTIONS[key])
            caption.setToolTip(self.TIPS[key])
            caption.setForegroundRole(QPalette.ColorRole.PlaceholderText)
            value = QLineEdit("—")
            value.setObjectName(f"progress_{key}")
            value.setToolTip(self.TIPS[key])
            value.setReadOnly(True)  # and so shows no cursor
            value.setFrame(False)
            value.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # select and copy, but no tab stop
            value.setTextMargins(-2, 0, 0, 0)  # the edit's own 2 px margin: line up with the caption
            palette = value.palette()
            palette.setColor(QPalette.ColorRole.Base, Qt.GlobalColor.transparent)
            value.setPalette(palette)
            font = value.font()
            font.setBold(True)
            value.setFont(font)
            value.setMinimumWidth(self._widest(key, value))
            grid.addWidget(caption, 1, col)
            grid.addWidget(value, 2, col)
            grid.setColumnStretch(col, 1)
            self.values[key] = value
        self._latest: dict[str, Any] | None = None
        self._dirty = False
        self._throttle = Throttle(self, REFRESH_MS, self._refresh)
        self.reset()

    def reset(self) -> None:
        self._latest = None
        self._dirty = False
        self._throttle.cancel()
        self._set_range(0, 1)
        self.bar.setValue(0)
        for key, label in self.values.items():
            label.setText("—")
            label.setMinimumWidth(self._widest(key, label))  # as narrow again as before a run's wider figure

    def _widest(self, key: str, field: QLineEdit) -> int:
        return field.fontMetrics().horizontalAdvance(self.WIDEST[key]) + 4

    def set_busy(self, busy: bool) -> None:
        """An indeterminate bar while the tokenizer, data and model load (no step count yet)."""
        if busy:
            self.bar.setRange(0, 0)
        elif self.bar.maximum() == 0:
            self._set_range(0, 1)

    def _set_range(self, low: int, high: int) -> None:
        """The bar's range, ending the busy animation where the bar leaves its indeterminate state. Qt's style stops
        that animation only when it paints a bar whose value is past its minimum: a bar that left the busy state at
        0 of its steps (a run at train_begin, waiting for its first step) kept repainting itself 30-60 times a
        second until that step came, GUI-thread work taking a core from the first step the user waits for
        (benchmarks/first_step.py). Stopping the animation (the style's own object, a child of the bar, which then
        deletes itself) is what that paint would have done; the next busy state starts a new one."""
        busy = self.bar.minimum() == self.bar.maximum() == 0
        self.bar.setRange(low, high)
        if busy and high > low:
            for animation in self.bar.findChildren(QAbstractAnimation):
                animation.stop()

    def add_event(self, event: dict) -> None:
        self._latest, when = fold_event(self._latest, event)
        if when is NOW:
            self._dirty = True
            self._refresh()
        elif when is LATER:
            self._dirty = True
            self._throttle.request()

    def show_state(self, latest: dict[str, Any] | None) -> None:
        """Show what `fold_events` made of a recorded run's events, at once: what the events one by one through
        add_event show once the last refresh is done."""
        self.reset()
        self._latest = latest
        self._dirty = latest is not None
        self._refresh()

    @property
    def step(self) -> int:
        return integer((self._latest or {}).get("step")) or 0

    @Slot()
    def _refresh(self) -> None:
        latest = self._latest
        if latest is None or not self._dirty:
            return
        self._dirty = False
        step = integer(latest.get("step")) or 0
        total = integer(latest.get("max_steps")) or 0
        if total > 0:
            # QProgressBar.setValue repaints synchronously, inside this slot, while the GIL is held; with updates
            # off for the call the repaint is only scheduled, and the event loop paints it in C++ without the GIL.
            self.bar.setUpdatesEnabled(False)
            self._set_range(0, total)
            self.bar.setValue(min(step, total))
            self.bar.setUpdatesEnabled(True)
        self.values["step"].setText(f"{step:,} / {total:,}" if total else f"{step:,}")
        self.values["epoch"].setText(format_epochs(latest.get("epoch"), latest.get("epochs_total")))
        self.values["elapsed"].setText(format_duration(latest.get("elapsed_s")))
        self.values["eta"].setText(format_duration(latest.get("eta_s")))
        self.values["tokens"].setText(format_rate(latest.get("tokens_per_s")))
        self._fit_widths()

    def _fit_widths(self) -> None:
        """Each figure whole in its field, within the row's usual width. A figure wider than its WIDEST sample (the
        4 to 6 decimals of a run that ends within a thousandth of an epoch: "0.0003 / 0.0044" showed as
        "0003 / 0.0044" at 900x600) takes the room it lacks from fields whose figure is narrower than theirs ("3 / 40"
        where "88,888 / 88,888" was allowed for), so the row, and the window at 900 px, get no wider. A width that
        changes re-lays out the grid, so this happens once or twice a run, never at each refresh."""
        needed = {key: field.fontMetrics().horizontalAdvance(field.text()) + 4  # QLineEdit's own 2 px a side
                  for key, field in self.values.items()}
        widths = {key: max(needed[key], self._widest(key, field)) for key, field in self.values.items()}
        over = sum(widths.values()) - sum(self._widest(key, field) for key, field in self.values.items())
        for key in self.FIELDS:
            if over <= 0:
                break
            take = min(widths[key] - needed[key], over)
            widths[key] -= take
            over -= take
        for key, field in self.values.items():
            if field.minimumWidth() != widths[key]:
                field.setMinimumWidth(widths[key])
