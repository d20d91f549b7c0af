"""The live loss chart: train loss (raw and smoothed), eval loss markers, learning rate and grad norm.

Built to stay smooth on long runs (see pyqtgraph's scrollingPlots example): points go into numpy buffers that
grow by doubling, curves get views of them, and a ~15 Hz timer redraws only when new points arrived, so a burst of
events costs one redraw. Long curves are drawn from peak-decimated copies kept up to date as points arrive
(gui/decimation.py), then pyqtgraph's peak downsampling and clip-to-view finish the job. The step axis grows in
steps of about a tenth of its length instead of with every point, so axes and grid are not re-rendered each frame.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Slot
from PySide6.QtGui import QColor, QFont, QPalette, QTextOption
from PySide6.QtWidgets import QCheckBox, QGraphicsItem, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from finetune_studio.core import metrics as core_metrics
from finetune_studio.gui import chart_texts
from finetune_studio.gui.decimation import PeakLevels
from finetune_studio.gui.grid import GridLines
from finetune_studio.gui.throttle import Throttle

EMPTY_TEXT_MARGIN = 12  # px between the empty chart's hint and the sides of the loss plot's view box
REDRAW_MS = 66  # ~15 Hz: smooth to the eye, a fraction of a millisecond of work per frame
TRAIN_COLOR = "#1a73e8"
EVAL_COLOR = "#e8710a"
LR_COLOR = "#188038"
GRAD_COLOR = "#a142f4"
# Peak downsampling keeps each bin's min and max, so one bin per pixel column draws the same envelope as the
# default five, with a fifth of the points to path and paint.
CURVE_OPTIONS = {"autoDownsampleFactor": 1.0}
# Compared runs: distinct hues that stay apart for the common forms of colour blindness for the first few.
OVERLAY_COLORS = ("#1a73e8", "#e8710a", "#188038", "#d93025", "#a142f4", "#12b5cb", "#b06000", "#e52592",
                  "#3c4043", "#7cb342")
# Past ten compared runs the colours come round again, each with another line style (the legend draws it too):
# with colour alone, runs 11 and 12 looked like runs 1 and 2.
OVERLAY_STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine, Qt.PenStyle.DashDotLine)
# The legend sits inside the loss plot; it may take at most this share of the plot's width, of its height and of
# its area, in 1 to LEGEND_MAX_COLUMNS columns. Past that it would hide the curves it names (twelve compared runs
# with dated names covered 89 % of the plot's height and ran out of it in a small window): it gives way to a
# one-line note, and the Runs tab's list of compared runs carries each run's line as the key.
LEGEND_MAX_WIDTH, LEGEND_MAX_HEIGHT, LEGEND_MAX_AREA, LEGEND_MAX_COLUMNS = 0.75, 0.6, 1 / 3, 3


def legend_note(runs: int) -> str:
    """What the loss plot says in place of a legend too large to show."""
    return f"{runs} runs: the Runs tab lists which line is which"


class CompactAxis(pg.AxisItem):
    """Tick labels written the way hyperparameters are (5e-4, 0.25, 1.2), without pyqtgraph's "(x0.001)" label
    suffix, which does not fit beside a short plot."""

    def __init__(self, orientation: str, **kwargs: Any):
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        """As short as the ticks allow: more digits only when fewer would give two ticks the same label (a
        constant learning rate of 2e-5 has ticks at 1.95e-5 and 2e-5, both "2e-5" at two digits). Each label
        reads back within a hundredth of the spacing, so ticks of different levels never share one either."""
        out: list[str] = []
        for extra in range(8):
            out = [self.format(value, extra) for value in values]
            exact = all(abs(float(text) - value) <= abs(spacing) * 0.01 for text, value in zip(out, values))
            if exact and len(set(out)) == len(set(values)):
                break
        return out

    @staticmethod
    def format(value: float, extra: int = 0) -> str:
        """5e-4, 0.25, 1.2e5: two significant digits in scientific form, four otherwise, plus `extra`."""
        if value == 0:
            return "0"
        if abs(value) < 1e-2 or abs(value) >= 1e5:
            mantissa, exponent = f"{value:.{1 + extra}e}".split("e")
            return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
        return f"{value:.{4 + extra}g}"


class Series:
    """x/y points in float64 buffers that double when full; `view()` returns the filled part without copying.

    x stays strictly increasing: a point at or before the last step replaces the points from that step on. A run
    killed after logging step 37 and resumed from checkpoint-30 logs 32..37 again, and those must replace the
    old ones, not zigzag back. Each reader of derived data (the smoothed curve, the decimated copies) has a mark of
    the lowest index cut since it last looked, so it recomputes from there instead of from the start.
    """

    def __init__(self, capacity: int = 256):
        self._x = np.empty(capacity)
        self._y = np.empty(capacity)
        self.size = 0
        self._cut_marks: dict[str, int] = {}  # reader -> lowest index cut since its last take_changed_from()
        self.version = 0  # bumped by every change, so a frame can skip curves whose data did not change

    def append(self, x: float, y: float) -> None:
        if self.size and x <= self._x[self.size - 1]:
            self._cut(int(np.searchsorted(self._x[: self.size], x, side="left")))
        if self.size == len(self._x):
            self._x = np.resize(self._x, 2 * len(self._x))
            self._y = np.resize(self._y, 2 * len(self._y))
        self._x[self.size] = x
        self._y[self.size] = y
        self.size += 1
        self.version += 1

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        return self._x[: self.size], self._y[: self.size]

    def assign(self, x: Any, y: Any) -> None:
        """Replace every point with x, y at once (x strictly increasing, as append keeps it): a recorded run's
        curve folded elsewhere (core.metrics.Points, read off the GUI thread), without a call per point."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        self._cut(0)
        if len(x) > len(self._x):
            self._x, self._y = np.empty(max(256, 2 * len(x))), np.empty(max(256, 2 * len(x)))
        self._x[: len(x)] = x
        self._y[: len(y)] = y
        self.size = len(x)
        self.version += 1

    def truncate_after(self, x: float) -> None:
        """Drop points past x: a resumed run replays the steps after its checkpoint."""
        xs = self._x[: self.size]
        self._cut(int(np.searchsorted(xs, x, side="right")) if self.size else 0)

    def clear(self) -> None:
        self._cut(0)

    def _cut(self, size: int) -> None:
        self.size = size
        self.version += 1
        for reader, mark in self._cut_marks.items():
            self._cut_marks[reader] = min(mark, size)

    def take_changed_from(self, reader: str = "") -> int:
        """The lowest index cut since this reader's last call (0 on its first call, `size` if nothing was cut);
        resets the reader's mark."""
        low = min(self._cut_marks.get(reader, 0), self.size)
        self._cut_marks[reader] = 1 << 62
        return low

    def nearest(self, x: float) -> int | None:
        if not self.size:
            return None
        xs = self._x[: self.size]
        i = int(np.searchsorted(xs, x))
        if i >= self.size or (i > 0 and x - xs[i - 1] < xs[i] - x):
            i -= 1
        return i


EMA_SCALE_ABOVE = 1e80  # ema() scales larger values down first (see there)


def ema(y: np.ndarray, weight: float, start: float = 0.0) -> np.ndarray:
    """The exponential moving average a[i] = weight * a[i-1] + (1 - weight) * y[i], with a[-1] = start, without a
    Python loop per point: a 100k-point curve in about a millisecond.

    Within a block a[k] = weight^k * (start + (1 - weight) * sum_{i<=k} weight^-i * y[i]), a cumulative sum; the
    blocks are short enough that weight^-k stays far below overflow (~1e217), and their error stays at rounding.
    Not debiased; see `debiased`.
    """
    y = np.asarray(y, dtype=float)
    out = np.empty_like(y)
    if not len(y):
        return out
    if weight <= 0:
        out[:] = y
        return out
    largest = max(float(np.max(np.abs(y))), abs(start))
    if largest > EMA_SCALE_ABOVE and math.isfinite(largest):
        # The blocks below multiply values by up to weight^-block (~1e217): a loss past ~1e88 overflowed to inf, and
        # an axis fitted to it raised on every frame. The EMA is linear, and scaling by a power of two is exact.
        exponent = math.frexp(largest)[1]
        return np.ldexp(ema(np.ldexp(y, -exponent), weight, math.ldexp(start, -exponent)), exponent)
    block = max(1, min(len(y), int(500 / -math.log(weight))))
    if block < len(y) and block < 512:
        # A light smoothing forgets fast: weight^taps < 1e-17, so a short filter is exact to rounding and beats
        # hundreds of tiny blocks.
        taps = int(math.ceil(-39.2 / math.log(weight)))
        kernel = (1 - weight) * weight ** np.arange(taps, dtype=float)
        out[:] = np.convolve(y, kernel)[: len(y)]
        out[:taps] += start * weight ** np.arange(1, min(taps, len(y)) + 1, dtype=float)
        return out
    powers = weight ** -np.arange(1, block + 1, dtype=float)
    scaled = np.empty(block)
    prev = float(start)
    for lo in range(0, len(y), block):
        part = y[lo: lo + block]
        n = len(part)
        np.multiply(part, powers[:n], out=scaled[:n])
        np.cumsum(scaled[:n], out=scaled[:n])
        scaled[:n] *= 1 - weight
        scaled[:n] += prev
        np.divide(scaled[:n], powers[:n], out=out[lo: lo + n])
        prev = float(out[lo + n - 1])
    return out


def debiased(raw: np.ndarray, weight: float, first_count: int = 1) -> np.ndarray:
    """TensorBoard's bias correction of an EMA started at 0: early points are not dragged toward zero.
    first_count: how many points raw[0] has averaged."""
    if weight <= 0:
        return raw.copy()
    counts = np.arange(first_count, first_count + len(raw), dtype=float)
    return raw / (1 - np.power(weight, counts))


@dataclass
class Overlay:
    """One compared run on the loss plot: raw train loss (faint), smoothed train loss and eval markers, in one
    colour. Data arrays are kept so the smoothing slider and the hover readout can use them."""

    name: str
    color: str
    raw: Any  # pg.PlotDataItem
    smooth: Any
    evals: Any
    style: Qt.PenStyle = Qt.PenStyle.SolidLine  # of the smoothed curve: past ten runs colours repeat
    x: np.ndarray = field(default_factory=lambda: np.empty(0))
    y: np.ndarray = field(default_factory=lambda: np.empty(0))
    eval_x: np.ndarray = field(default_factory=lambda: np.empty(0))
    eval_y: np.ndarray = field(default_factory=lambda: np.empty(0))
    bounds: tuple[float, float] | None = None  # lowest and highest loss of the run, raw or eval

    @property
    def key(self) -> str:
        """The run's line in text (box-drawing characters for its line style), for lists that name compared
        runs in the run's colour: the Runs tab's, which stands in for a legend too large for the plot."""
        return LINE_KEYS.get(self.style, "━━")


# Each line style drawn in text, for Overlay.key (DejaVu Sans Mono, the usual fixed font, has these glyphs).
LINE_KEYS = {Qt.PenStyle.SolidLine: "━━", Qt.PenStyle.DashLine: "╍╍", Qt.PenStyle.DotLine: "┉┉",
             Qt.PenStyle.DashDotLine: "━·"}


class RunCurves(core_metrics.RunCurves):
    """A run's curves as the chart keeps them: core.metrics.RunCurves (which events count, the resume rule) over
    the numpy `Series` above, so the chart, the Runs tab, the model card and the CLI read a run the same way."""

    def __init__(self) -> None:
        super().__init__(series=Series)


FLAT = 1e-9  # a curve whose values span less than this share of their size is flat (see steady_range)
AXIS_LIMIT = 1e307  # the farthest an axis reaches: its length must stay a finite float


def steady_upper(last: float) -> float:
    """The end of the step axis for a curve that reaches `last`: at least 2 % past it, rounded up to two
    significant digits and to a whole step, so the axis moves once every ~10 % of growth (5 -> 6, 339 -> 350,
    100,001 -> 110,000)."""
    target = min(max(float(last), 1.0) * 1.02, AXIS_LIMIT)  # a step near 1.8e308 (a garbled log) overflowed to inf
    quantum = max(1.0, 10.0 ** (math.floor(math.log10(target)) - 1))
    return math.ceil(target / quantum) * quantum


def run_upper(last: float, total: float) -> float:
    """The end of the step axis for a run of `total` steps drawn up to `last`: the whole run once it is half done,
    before that the smallest half, quarter, eighth … of it that holds the curve, each with 2 % of room to spare (a
    marker on the last step shows whole). The axis then moves a handful of times in a run (each move redraws every
    axis and grid line) rather than with every logged point, the curve always fills about half the width or more,
    and it ends where the run will end."""
    if last > total:
        return steady_upper(last)
    upper = float(total)
    while upper / 2 >= max(float(last), 1.0):
        upper /= 2
    return min(upper * 1.02, AXIS_LIMIT)


def steady_range(current: tuple[float, float], low: float, high: float) -> tuple[float, float] | None:
    """A new value-axis range for data spanning low..high, or None to keep `current`: the range changes only
    when data leaves it or fills less than half of it, and then leaves 5 % of room on each side, so a slowly
    falling loss or learning rate moves the axis now and then instead of every frame."""
    size = max(abs(low), abs(high))
    span = high - low
    if not span > FLAT * size:
        # One value throughout, give or take rounding (the smoothed curve of a constant loss wobbles by 1e-16): an
        # axis that narrow had no tick labels left and drew the rounding as a zigzag. It spans a hundredth of the
        # value instead (0.5 -> 0.4975 .. 0.5025), or -0.05 .. 0.05 around 0.
        span = 0.1 * size if size else 1.0
    # Past the float limit (losses of opposite sign near 1e308) the span is inf: 5 % of each end instead.
    margin = 0.05 * span if math.isfinite(span) else 0.05 * high - 0.05 * low
    a, b = current
    if low >= a and high <= b and b - a <= 2 * (span + 2 * margin):
        return None
    # pyqtgraph refuses a range with an infinite end (an exception on every frame); such a loss is beyond drawing.
    return max(low - margin, -AXIS_LIMIT), min(high + margin, AXIS_LIMIT)


def figure(value: float, decimals: int) -> str:
    """A loss or gradient norm in the hover readout: `decimals` places, or as many significant digits in
    scientific form past 1e6 and under 1e-4, where places print a 300-digit number (a loss of 1e300) or 0.0000."""
    if value == 0 or 1e-4 <= abs(value) < 1e6 or not math.isfinite(value):
        return f"{value:.{decimals}f}"
    return f"{value:.{decimals}g}"


def _mark_single_point(item: Any, single: bool, color: str) -> None:
    """A line needs two points: a curve of one (a run stopped after its first log, live or compared) is drawn as a
    dot in its colour, dropped once it has two."""
    if (item.opts.get("symbol") is not None) != single:
        item.setSymbol("o" if single else None)
        item.setSymbolSize(6)
        item.setSymbolBrush(color)
        item.setSymbolPen(None)


def _pen(color: str, alpha: int = 255, width: float = 1, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> Any:
    c = QColor(color)
    c.setAlpha(alpha)
    pen = pg.mkPen(c, width=width, style=style)
    pen.setCosmetic(True)
    return pen


class LossChart(QWidget):
    """Loss on top, learning rate and grad norm below on a linked step axis; smoothing, log scale, hover."""

    def __init__(self, parent: QWidget | None = None, staged: bool = False):
        """staged: build the plots over several `build_step()` calls (each returns to the event loop)."""
        super().__init__(parent)
        self._built = False
        self.curves = RunCurves()
        self.train, self.evals, self.lr, self.grad = (self.curves.train, self.curves.evals, self.curves.lr,
                                                      self.curves.grad)
        self._smoothed = np.empty(0)  # the debiased EMA drawn, extended as points arrive
        self._ema_raw = np.empty(0)  # the EMA before debiasing: the state an extension starts from
        self._smoothed_n = 0
        self._smoothed_from = 0  # the first smoothed point recomputed by the last _smoothed_view()
        self._levels = {key: PeakLevels() for key in ("raw", "smooth", "lr", "grad")}
        self.overlays: dict[str, Overlay] = {}
        self._dirty = False
        self._drawn_points = 0
        self._drawn: dict[str, Any] = {}  # what is on screen: series versions, and the decimation level per curve
        self._following = True  # the view follows the data (until the user pans or zooms; double-click resumes)
        self._unfitted: set[Any] = set()  # views to fit tightly as soon as they have data (after a clear)
        self._lower_on: bool | None = True  # as built
        self._loading = ""  # what the empty chart says while a long log is read (show_loading); "" when none is

        self._throttle = Throttle(self, REDRAW_MS, self._redraw)

        self._build_controls()
        self._build_view()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(self._controls)
        layout.addWidget(self.plots, 1)
        self._stages = self._build_stages()
        if not staged:
            self.ensure_built()

    # ---- construction
    def _build_controls(self) -> None:
        self.smoothing = QSlider(Qt.Orientation.Horizontal)
        self.smoothing.setRange(0, 99)
        self.smoothing.setValue(60)
        self.smoothing.setMinimumWidth(60)  # narrower in a small window rather than pushing the window wider
        self.smoothing.setMaximumWidth(140)
        self.smoothing.setToolTip("Exponential moving average of the train loss (0 = raw, 0.99 = very smooth). "
                                  "The raw curve stays faint behind the smoothed one.")
        self.smoothing_label = QLabel()
        self.smoothing_label.setMinimumWidth(32)
        self.log_scale = QCheckBox("Log scale")
        self.log_scale.setToolTip("Logarithmic loss axis: small late improvements stay visible.")
        self.show_lower = QCheckBox("LR && grad norm")  # short: the controls fit beside the forms at 900 px
        self.show_lower.setToolTip("Show the learning rate and the gradient norm in a plot under the loss.")
        self.show_lower.setChecked(True)

        self._controls = QHBoxLayout()
        self._controls.setContentsMargins(4, 0, 4, 0)
        self._controls.addWidget(QLabel("Smoothing"))
        self._controls.addWidget(self.smoothing, 1)
        self._controls.addWidget(self.smoothing_label)
        self._controls.addSpacing(8)
        self._controls.addWidget(self.log_scale)
        self._controls.addSpacing(8)
        self._controls.addWidget(self.show_lower)
        self._controls.addStretch(2)

        self.smoothing.valueChanged.connect(self._smoothing_changed)
        self.log_scale.toggled.connect(self._log_scale_changed)
        self.show_lower.toggled.connect(self._show_lower_changed)
        self.smoothing_label.setText(f"{self.smoothing.value() / 100:.2f}")

    def _build_view(self) -> None:
        palette = self.palette()
        self._colors = (palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text),
                        palette.color(QPalette.ColorRole.Mid), palette.color(QPalette.ColorRole.PlaceholderText))
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground(self._colors[0])
        self.plots.ci.setContentsMargins(2, 2, 8, 2)
        self.plots.setMinimumHeight(220)
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
        self._axis_font = font

    def _build_stages(self) -> Iterator[None]:
        """The plots, built in steps of ~20-40 ms: made all at once they would hold the GUI thread for ~0.1 s
        (pyqtgraph builds every context menu eagerly), right while the window should be responsive."""
        background, foreground, mid, placeholder = self._colors
        font = self._axis_font
        self.loss_plot = self.plots.addPlot(row=0, col=0, enableMenu=False,
                                            axisItems={"bottom": CompactAxis("bottom")})
        yield
        self.plots.nextRow()
        self.lower_plot = self.plots.addPlot(row=1, col=0, enableMenu=False,
                                             axisItems={"left": CompactAxis("left"), "bottom": CompactAxis("bottom"),
                                                        "right": CompactAxis("right")})
        self.plots.ci.layout.setRowStretchFactor(0, 5)
        self.plots.ci.layout.setRowStretchFactor(1, 2)
        self.lower_plot.setXLink(self.loss_plot)
        for plot in (self.loss_plot, self.lower_plot):
            for name in ("left", "bottom", "top", "right"):
                # With an SI prefix, every range change rewrites the axis label's HTML, hidden axes too, and a
                # rewritten label lays out lazily and repaints the whole chart a second time ~10 ms later.
                plot.getAxis(name).enableAutoSIPrefix(False)

        yield
        self.grids = [GridLines(plot, foreground, background) for plot in (self.loss_plot, self.lower_plot)]
        for plot in (self.loss_plot, self.lower_plot):
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.hideButtons()
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(foreground)
                axis.setTextPen(foreground)
                axis.setTickFont(font)
            plot.getAxis("left").setWidth(56)
        self.loss_plot.setLabel("left", "loss", color=foreground.name())
        self.lower_plot.setLabel("bottom", "step", color=foreground.name())
        self.loss_plot.getAxis("bottom").setStyle(showValues=False)

        yield
        legend = self.loss_plot.addLegend(offset=(-8, 8), labelTextColor=foreground, brush=background,
                                          pen=pg.mkPen(mid))
        legend.setZValue(20)
        self.legend = legend
        self.legend_note = pg.LabelItem("", color=foreground, size="9pt", justify="right")
        self.legend_note.setParentItem(self.loss_plot.vb)
        self.legend_note.anchor(itemPos=(1, 0), parentPos=(1, 0), offset=(-8, 4))
        self.legend_note.setZValue(20)
        self.legend_note.setVisible(False)
        self.loss_plot.vb.sigResized.connect(self._fit_legend)
        self.raw_curve = self.loss_plot.plot(pen=_pen(TRAIN_COLOR, 60), **CURVE_OPTIONS)
        legend.removeItem(self.raw_curve)
        self.smooth_curve = self.loss_plot.plot(pen=_pen(TRAIN_COLOR, 255, 1), name="train loss", **CURVE_OPTIONS)
        self.eval_points = self.loss_plot.plot(pen=_pen(EVAL_COLOR, 110), symbol="o", symbolSize=7,
                                               symbolBrush=EVAL_COLOR, symbolPen=pg.mkPen("w"), name="eval loss")

        yield
        self.lr_curve = self.lower_plot.plot(pen=_pen(LR_COLOR), name="learning rate", **CURVE_OPTIONS)
        # Grad norm has its own scale: a second view box drawn over the plot, its axis on the right. Each axis
        # takes the colour of its curve, so short labels are enough in this low plot.
        self.grad_view = pg.ViewBox(enableMenu=False)
        self.lower_plot.showAxis("right")
        self.lower_plot.scene().addItem(self.grad_view)
        self.grad_view.setXLink(self.lower_plot)
        for name, color in (("left", LR_COLOR), ("right", GRAD_COLOR)):
            axis = self.lower_plot.getAxis(name)
            axis.setPen(foreground)
            axis.setTextPen(QColor(color))
            axis.setTickFont(font)
            axis.setWidth(56 if name == "left" else 44)
        self.lower_plot.getAxis("right").linkToView(self.grad_view)
        # The loss plot gets an empty right axis as wide as the grad-norm axis below: x-linked plots line up
        # their view boxes pixel by pixel, and a wider loss view would show steps the lower plot's axis cuts off
        # (a 20-step run labelled up to 18).
        self.loss_plot.showAxis("right")
        loss_right = self.loss_plot.getAxis("right")
        loss_right.setStyle(showValues=False)
        loss_right.setPen(foreground)
        loss_right.setWidth(44)
        self.lower_plot.setLabel("left", "lr", color=LR_COLOR)
        self.lower_plot.setLabel("right", "grad norm", color=GRAD_COLOR)
        self.grad_curve = pg.PlotDataItem(pen=_pen(GRAD_COLOR, 200), name="grad norm", **CURVE_OPTIONS)
        self.grad_curve.setDownsampling(auto=True, method="peak")
        self.grad_curve.setClipToView(True)
        self.grad_view.addItem(self.grad_curve)
        self.lower_plot.vb.sigResized.connect(self._sync_grad_view)
        # Axes are a costly part of a frame (text): only major and first minor ticks, and each axis cached as a
        # pixmap that is redrawn only when its range changes (the grid is a separate item, gui/grid.py).
        for plot in (self.loss_plot, self.lower_plot):
            for entry in plot.axes.values():
                entry["item"].setStyle(maxTickLevel=1)
                entry["item"].setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

        # Ranges are set by _follow, not by pyqtgraph's auto-range, which would move them (and re-render the
        # axes) every frame. Panning or zooming stops the following, a double-click brings it back.
        for view in (self.loss_plot.vb, self.lower_plot.vb, self.grad_view):
            view.enableAutoRange(x=False, y=False)
            view.sigRangeChangedManually.connect(self._stop_following)
        self.loss_plot.vb.sigXRangeChanged.connect(self._view_moved)
        self.plots.scene().sigMouseClicked.connect(self._mouse_clicked)

        yield
        crosshair = _pen("#5f6368", 160)
        crosshair.setStyle(Qt.PenStyle.DashLine)
        self._vlines = [pg.InfiniteLine(angle=90, movable=False, pen=crosshair) for _ in range(2)]
        self._hline = pg.InfiniteLine(angle=0, movable=False, pen=crosshair)
        for line, plot in zip(self._vlines, (self.loss_plot, self.lower_plot), strict=True):
            plot.addItem(line, ignoreBounds=True)
        self.loss_plot.addItem(self._hline, ignoreBounds=True)
        self.readout = pg.TextItem(anchor=(0, 1), fill=pg.mkBrush(255, 255, 255, 225),
                                   border=pg.mkPen(mid))
        self.readout.setZValue(30)
        self.loss_plot.addItem(self.readout, ignoreBounds=True)
        self.readout_text = ""  # the readout as plain text (tests)
        self._legend_names: tuple[str, ...] = ()  # () = the current run's "train loss"/"eval loss" entries
        self._skipped_said: tuple | None = None  # the losses not drawn that the legend's entries name (_say_skipped)
        self._set_crosshair_visible(False)

        self.empty_text = pg.TextItem(chart_texts.EMPTY,
                                      color=placeholder, anchor=(0.5, 0.5))
        # Centred lines: the hint wraps to the view box where the plot is narrow (_fit_empty_text).
        self.empty_text.textItem.document().setDefaultTextOption(QTextOption(Qt.AlignmentFlag.AlignHCenter))
        self.loss_plot.addItem(self.empty_text, ignoreBounds=True)
        self.loss_plot.vb.sigResized.connect(self._fit_empty_text)
        self._fit_empty_text()

        self._mouse = pg.SignalProxy(self.plots.scene().sigMouseMoved, rateLimit=60, slot=self._mouse_moved)
        self._built = True
        self._set_empty(True)
        self._smoothing_changed(self.smoothing.value())

    def build_step(self) -> bool:
        """Build the next part of the plots; False once everything is built."""
        if self._built:
            return False
        next(self._stages, None)
        return not self._built

    def ensure_built(self) -> None:
        while self.build_step():
            pass

    @property
    def built(self) -> bool:
        return self._built

    @Slot()
    def _sync_grad_view(self) -> None:
        self.grad_view.setGeometry(self.lower_plot.vb.sceneBoundingRect())
        self.grad_view.linkedViewChanged(self.lower_plot.vb, self.grad_view.XAxis)

    # ---- public API
    def add_event(self, event: dict) -> None:
        """Take one core event; only log/eval/train_begin matter here. Drawing happens on the next tick."""
        self.ensure_built()
        if not self.curves.add_event(event):
            return
        self._dirty = True
        self._throttle.request()

    def load_events(self, events: Iterable[dict]) -> None:
        """Show a recorded run (its metrics.jsonl) at once."""
        self.ensure_built()
        self.clear()
        for event in events:  # straight into the curves: no frame is drawn before the last event is in
            if self.curves.add_event(event):
                self._dirty = True
        self._throttle.cancel()
        self._redraw()

    def set_curves(self, curves: core_metrics.RunCurves) -> None:
        """Show a recorded run's curves folded elsewhere (core.metrics.RunCurves over Points, built off the GUI
        thread from its metrics.jsonl): what load_events of the same events shows, with one copy per curve instead
        of a call per event. Compared runs set meanwhile stay (the window cleared the chart when the run was
        opened, see `show_loading`)."""
        self.ensure_built()
        self._loading = ""
        for mine, theirs in zip(self.curves.all, curves.all, strict=True):
            mine.assign(*(theirs.view() if isinstance(theirs, Series) else (theirs.x, theirs.y)))
        self.curves.max_steps = curves.max_steps
        self.curves.skipped = {name: points.copy() for name, points in curves.skipped.items()}
        self._reset_smoothing()
        self._dirty = True
        self._throttle.cancel()
        self._redraw()

    def show_loading(self, text: str) -> None:
        """The empty chart says `text` (a long log being read) until curves are set or it is cleared."""
        self.ensure_built()
        self._loading = text
        self._empty = None  # set the empty view up again, with this hint
        self._dirty = True
        self._redraw()

    def clear(self) -> None:
        """Forget the current run and any compared runs (a new run starts, or another one is opened)."""
        self.ensure_built()
        for name in list(self.overlays):
            self._remove_overlay(name)
        self.curves.clear()  # its four series, and what it knew of the run (its length, the losses not drawn)
        self._loading = ""
        self._empty = None  # a new start: the empty view is set up again, whatever was shown before (_set_empty)
        self._reset_smoothing()
        self._dirty = True
        self._redraw()

    @property
    def smoothed_loss(self) -> np.ndarray:
        """The smoothed train loss at full resolution (the drawn curve may be a decimated copy of it)."""
        return self._smoothed[: self._smoothed_n]

    @property
    def point_count(self) -> int:
        """Train loss points drawn so far (tests and the screenshot script wait on it)."""
        return self._drawn_points

    # ---- drawing
    def _reset_smoothing(self) -> None:
        self._smoothed_n = 0
        self._drawn.pop("train", None)
        self._drawn.pop("smooth on screen", None)

    def _smoothed_view(self) -> np.ndarray:
        """TensorBoard's debiased EMA, so early points are not dragged toward zero. Extended over the points added
        since the last frame (vectorized, see `ema`), from the first point a resume replaced, and from the start
        only after the slider moved: a frame never pays for the whole history."""
        _, y = self.train.view()
        weight = self.smoothing.value() / 100
        n = min(self._smoothed_n, self.train.take_changed_from("smooth"))
        if len(self._smoothed) < len(y):
            self._smoothed = np.resize(self._smoothed, max(256, 2 * len(y)))
            self._ema_raw = np.resize(self._ema_raw, len(self._smoothed))
        if n < len(y):
            raw = ema(y[n:], weight, float(self._ema_raw[n - 1]) if n else 0.0)
            self._ema_raw[n: len(y)] = raw
            self._smoothed[n: len(y)] = debiased(raw, weight, n + 1)
        self._smoothed_n = len(y)
        self._smoothed_from = n
        return self._smoothed[: len(y)]

    @Slot()
    def _redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        # Only what changed is recomputed, and only curves whose data or decimation level changed get new data:
        # setData costs O(points) inside pyqtgraph (bounds, downsampling), and evals, say, change once in hundreds
        # of frames.
        x, y = self.train.view()
        if self._drawn.get("train") != self.train.version:
            self._levels["raw"].update(x, y, self.train.take_changed_from("raw"))
            self._levels["smooth"].update(x, self._smoothed_view(), self._smoothed_from)
            self._drawn["train"] = self.train.version
        for key, series in (("lr", self.lr), ("grad", self.grad)):
            if self._drawn.get(key) != series.version:
                self._levels[key].update(*series.view(), series.take_changed_from(key))
                self._drawn[key] = series.version
        self._follow()
        x_low, x_high = self.loss_plot.vb.viewRange()[0]
        pixels = self.loss_plot.vb.width()
        for key, series, item, full in (("raw", self.train, self.raw_curve, (x, y)),
                                        ("smooth", self.train, self.smooth_curve, (x, self._smoothed[: len(x)])),
                                        ("lr", self.lr, self.lr_curve, None),
                                        ("grad", self.grad, self.grad_curve, None)):
            xs = series.view()[0]
            visible = int(np.searchsorted(xs, x_high, side="right") - np.searchsorted(xs, x_low, side="left"))
            factor = self._levels[key].choose(visible, pixels)
            if self._drawn.get(f"{key} on screen") != (series.version, factor):
                item.setData(*(self._levels[key].view(factor) if factor > 1 else full or series.view()))
                self._drawn[f"{key} on screen"] = (series.version, factor)
        if self._drawn.get("evals") != self.evals.version:
            self.eval_points.setData(*self.evals.view())
            self._drawn["evals"] = self.evals.version
        self._mark_single_points()
        self._drawn_points = self.train.size
        self._apply_mode()
        for view in (self.loss_plot.vb, self.lower_plot.vb, self.grad_view):
            # pyqtgraph applies a new range to the view's transform when the chart paints; a transform set while
            # painting marks every curve dirty again and costs a second full paint ~10 ms later. Apply it now.
            view.prepareForPaint()

    def _mark_single_points(self) -> None:
        """A line needs two points: a curve with only one (a run stopped after its first log) gets a dot."""
        for item, series, color in ((self.smooth_curve, self.train, TRAIN_COLOR), (self.lr_curve, self.lr, LR_COLOR),
                                    (self.grad_curve, self.grad, GRAD_COLOR)):
            _mark_single_point(item, series.size == 1, color)

    def _follow(self, refit: bool = False) -> None:
        """While following, show steps 0 .. run_upper(last step shown) (steady_upper for compared runs), and each
        value axis around its data (see steady_range). refit: fit the value axes tightly now."""
        if not self._following or not self._built:
            return
        if self.overlays:
            ends = [float(o.x[-1]) for o in self.overlays.values() if len(o.x)]
            ends += [float(o.eval_x[-1]) for o in self.overlays.values() if len(o.eval_x)]
            loss = [o.bounds for o in self.overlays.values()]
        else:
            ends = [float(s.view()[0][-1]) for s in (self.train, self.evals, self.lr, self.grad) if s.size]
            evals = self.evals.view()[1]
            loss = [self._levels["raw"].bounds(), self._levels["smooth"].bounds(),
                    (float(evals.min()), float(evals.max())) if len(evals) else None]
        if ends:
            total = None if self.overlays else self.curves.max_steps
            high = run_upper(max(ends), total) if total else steady_upper(max(ends))
            if tuple(self.loss_plot.vb.targetRange()[0]) != (0.0, high):
                self.loss_plot.vb.setXRange(0.0, high, padding=0)
        log = self.log_scale.isChecked()
        if refit:
            self._unfitted = {self.loss_plot.vb, self.lower_plot.vb, self.grad_view}
        for view, parts in ((self.loss_plot.vb, loss), (self.lower_plot.vb, [self._levels["lr"].bounds()]),
                            (self.grad_view, [self._levels["grad"].bounds()])):
            parts = [b for b in parts if b is not None and math.isfinite(b[0]) and math.isfinite(b[1])]
            if not parts:
                continue
            low, high = min(b[0] for b in parts), max(b[1] for b in parts)
            if log and view is self.loss_plot.vb:
                if low <= 0:  # nothing sensible to compute cheaply: pyqtgraph skips the points it cannot draw
                    view.enableAutoRange(y=True)
                    continue
                view.enableAutoRange(y=False)
                low, high = math.log10(low), math.log10(high)
            current = (math.inf, -math.inf) if view in self._unfitted else tuple(view.targetRange()[1])
            self._unfitted.discard(view)
            new = steady_range(current, low, high)
            if new is not None:
                view.setYRange(*new, padding=0)

    def follow(self) -> None:
        """Fit the view to the data again and keep it fitted as points arrive."""
        self.ensure_built()
        self._following = True
        self._follow(refit=True)

    @Slot()
    def _stop_following(self, *_: Any) -> None:
        self._following = False

    @Slot()
    def _view_moved(self, *_: Any) -> None:
        """Zoomed or panned: the decimation level of each curve depends on how many points are in view."""
        self._dirty = True
        self._throttle.request()

    def _mouse_clicked(self, event: Any) -> None:
        if event.double():
            event.accept()
            self.follow()

    def _apply_mode(self) -> None:
        """Show either the current run (with lr and grad norm below) or the compared runs, never a mix: the
        legend names what is on screen."""
        comparing = bool(self.overlays)
        self.raw_curve.setVisible(not comparing and self.smoothing.value() > 0)
        for item in (self.smooth_curve, self.eval_points, self.lr_curve, self.grad_curve):
            item.setVisible(not comparing)
        names = tuple(self.overlays)
        if names != self._legend_names:
            self.legend.clear()
            if comparing:
                for overlay in self.overlays.values():
                    self.legend.addItem(overlay.smooth, html.escape(overlay.name))
            else:
                self.legend.addItem(self.smooth_curve, "train loss")
                self.legend.addItem(self.eval_points, "eval loss")
            self._legend_names = names
            self._skipped_said = None  # the new entries have the bare names
            self._fit_legend()
        if not comparing:
            self._say_skipped()
        self._apply_lower()
        self._set_empty(self.train.size == 0 and self.evals.size == 0 and not comparing)

    def _say_skipped(self) -> None:
        """The logged losses not drawn, said in the legend's entries: NaN or infinite ones (the empty plot's hint
        says them when nothing is drawn), and in log scale those at 0 or below, which have no logarithm (a loss of
        0 throughout left the plot blank under a legend that named it). The entries are written again only when
        what they say changed, not each frame."""
        skipped = (self.curves.skipped["train"], self.curves.skipped["evals"])
        log = self.log_scale.isChecked()
        below = tuple(int(np.count_nonzero(series.view()[1] <= 0)) if log else 0 for series in (self.train, self.evals))
        key = (tuple((len(points), points.x[-1] if points else None) for points in skipped), below)
        if key == self._skipped_said:
            return
        self._skipped_said = key
        for (_, label), name, points, count in zip(self.legend.items, ("train loss", "eval loss"), skipped, below):
            label.setText(html.escape(chart_texts.legend_label(name, points.pairs(), count)))
        self.legend.updateSize()
        self._fit_legend()

    def _fit_legend(self, *_: Any) -> None:
        """Lay the legend out in as few columns as keep it within its share of the loss plot (LEGEND_MAX_*);
        when none does, hide it, and with compared runs say where their key is. Runs again when the plot is
        resized, so a window made larger brings the legend back."""
        legend, view = self.legend, self.loss_plot.vb
        width, height = view.width(), view.height()
        shown = not getattr(self, "_empty", True) and bool(legend.items)
        # _set_empty runs at every redraw (10-20 a second while training): lay out again only when what the layout
        # depends on changed, not each frame (a legend that fits nowhere was rebuilt three times a frame).
        key = (width, height, shown, tuple(label.text for _, label in legend.items))
        if key == getattr(self, "_legend_fitted", None):
            return
        self._legend_fitted = key
        fits = False
        if shown:
            for columns in range(1, LEGEND_MAX_COLUMNS + 1):
                legend.setColumnCount(columns)
                w, h = legend.width(), legend.height()
                if w <= LEGEND_MAX_WIDTH * width and h <= LEGEND_MAX_HEIGHT * height and \
                        w * h <= LEGEND_MAX_AREA * width * height:
                    fits = True
                    break
            if not fits:
                legend.setColumnCount(1)
        legend.setVisible(shown and fits)
        note = legend_note(len(self.overlays)) if shown and not fits and self.overlays else ""
        if note != self.legend_note.text:
            self.legend_note.setText(note)
        self.legend_note.setVisible(bool(note))

    def _fit_empty_text(self, *_: Any) -> None:
        """Keep the empty chart's hint inside the loss plot's view box, EMPTY_TEXT_MARGIN from each side: one line
        where it fits, else wrapped to the box's width. Centred on the box in one line at its natural width, it ran
        over the y axis' tick labels in a narrow chart (the "2" of a 900×600 window)."""
        room = self.loss_plot.vb.width() - 2 * EMPTY_TEXT_MARGIN
        text = self.empty_text
        text.setTextWidth(-1)  # its natural width: one line
        natural = text.textItem.boundingRect().width()
        if natural <= room:
            return
        margin = 2 * text.textItem.document().documentMargin()
        line = text.textItem.boundingRect().height() - margin

        def lines() -> int:
            return round((text.textItem.boundingRect().height() - margin) / line)

        # As few lines as the room allows, of even length (no last word alone on its line): the narrowest width,
        # up from an even share of the text, that wraps it into no more lines than the whole room does.
        text.setTextWidth(max(room, 1.0))
        fewest = lines()
        width = (natural - margin) / fewest + margin
        while width < room:
            text.setTextWidth(width)
            if lines() <= fewest:
                return
            width += 8
        text.setTextWidth(max(room, 1.0))

    # ---- compared runs
    def set_overlays(self, curves: dict[str, tuple[np.ndarray, np.ndarray]],
                     evals: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        """Compare runs: one train-loss curve per name (smoothed like the main curve, the raw one faint behind)
        and its eval markers in the same colour, with a legend of the names. While any are set, the current
        run's curves are hidden (they keep updating); `clear_overlays()` brings them back. Calling this again
        with the same names updates the data in place, so a run still training can be followed."""
        self.ensure_built()
        evals = evals or {}
        for name in [n for n in self.overlays if n not in curves]:
            self._remove_overlay(name)
        for name, (x, y) in curves.items():
            overlay = self.overlays.get(name)
            if overlay is None:  # a run keeps its colour while it stays compared; a new one takes a free colour
                color, style = self._free_overlay_look()
                overlay = Overlay(name, color, self.loss_plot.plot(pen=_pen(color, 50), **CURVE_OPTIONS),
                                  self.loss_plot.plot(pen=_pen(color, 255, 1, style), **CURVE_OPTIONS),
                                  self.loss_plot.plot(pen=None, symbol="o", symbolSize=7, symbolBrush=color,
                                                      symbolPen=pg.mkPen("w")), style)
            self.overlays[name] = overlay  # (re)inserted in the order given: the legend follows it
            overlay.x, overlay.y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
            ex, ey = evals.get(name, (np.empty(0), np.empty(0)))
            overlay.eval_x, overlay.eval_y = np.asarray(ex, dtype=float), np.asarray(ey, dtype=float)
            values = np.concatenate([overlay.y, overlay.eval_y])
            values = values[np.isfinite(values)]
            overlay.bounds = (float(values.min()), float(values.max())) if len(values) else None
            self._draw_overlay(overlay)
        self.overlays = {name: self.overlays[name] for name in curves}
        self._apply_mode()
        self._set_crosshair_visible(False)
        self.follow()

    def _free_overlay_look(self) -> tuple[str, Qt.PenStyle]:
        """The first colour and line style no compared run has: every colour solid first, then dashed, … ."""
        used = {(overlay.color, overlay.style) for overlay in self.overlays.values()}
        looks = [(color, style) for style in OVERLAY_STYLES for color in OVERLAY_COLORS]
        free = [look for look in looks if look not in used]
        return free[0] if free else looks[len(used) % len(looks)]

    def clear_overlays(self) -> None:
        if self.overlays:
            self.set_overlays({})

    def _remove_overlay(self, name: str) -> None:
        overlay = self.overlays.pop(name)
        for item in (overlay.raw, overlay.smooth, overlay.evals):
            self.loss_plot.removeItem(item)

    def _draw_overlay(self, overlay: Overlay) -> None:
        weight = self.smoothing.value() / 100
        overlay.raw.setData(overlay.x, overlay.y)
        overlay.raw.setVisible(weight > 0)
        overlay.smooth.setData(overlay.x, debiased(ema(overlay.y, weight), weight))
        _mark_single_point(overlay.smooth, len(overlay.x) == 1, overlay.color)  # a run with one logged loss
        overlay.evals.setData(overlay.eval_x, overlay.eval_y)

    def _set_empty(self, empty: bool) -> None:
        """Called at every redraw: shows or hides the hint, and sets up the empty view when the chart becomes
        empty (not at each redraw while it stays so: with a learning rate to draw, the step axis set to 0 .. 100
        here and back to the run's steps by follow() moved the view twice a frame, and each move asked for the next
        frame, so a run with no loss to draw was redrawn 15 times a second for as long as it was shown)."""
        became = getattr(self, "_empty", None) is not True
        self._empty = empty
        self.empty_text.setVisible(empty)
        self._fit_legend()  # hidden while empty: in a narrow chart it covered the end of the "Press Start" hint
        if not empty:
            return
        hint = self._empty_hint()
        if hint != self.empty_text.toPlainText():
            self.empty_text.setText(hint)
            self._fit_empty_text()
        if became:
            self.loss_plot.setRange(xRange=(0, 100), yRange=(0, 4), padding=0)
            self.lower_plot.setYRange(0, 1e-3, padding=0)
            self.follow()
            self._set_crosshair_visible(False)
        # In the middle of the steps shown: a run with no loss to draw can have a learning rate to draw, and its
        # steps (not 0 .. 100) are the axis then; the hint at step 50 was off the plot, and the plot blank.
        (x_low, x_high), (y_low, y_high) = self.loss_plot.vb.targetRange()
        self.empty_text.setPos((x_low + x_high) / 2, (y_low + y_high) / 2)

    def _empty_hint(self) -> str:
        """What the loss plot says while it has no loss to draw: why, for a run that logged losses or other
        curves, else how to start one."""
        train, evals = self.curves.skipped["train"], self.curves.skipped["evals"]
        if self._loading:
            return self._loading
        if train or evals:
            return chart_texts.no_finite_loss(train.pairs(), evals.pairs())
        if self.lr.size or self.grad.size:
            return chart_texts.NO_LOSS
        return chart_texts.EMPTY

    # ---- controls
    @Slot(int)
    def _smoothing_changed(self, value: int) -> None:
        self.smoothing_label.setText(f"{value / 100:.2f}")
        self._reset_smoothing()
        self._dirty = True
        if self._built:
            for overlay in self.overlays.values():
                self._draw_overlay(overlay)
            self._redraw()

    @Slot(bool)
    def _log_scale_changed(self, on: bool) -> None:
        self.ensure_built()
        self.loss_plot.setLogMode(y=on)
        if not self.overlays:
            self._say_skipped()
        self.follow()

    @Slot(bool)
    def _show_lower_changed(self, on: bool) -> None:
        self.ensure_built()
        self._apply_lower()

    def _apply_lower(self) -> None:
        """Learning rate and grad norm belong to the current run: hidden while runs are compared."""
        on = self.show_lower.isChecked() and not self.overlays
        if on == self._lower_on:
            return
        self._lower_on = on
        self.lower_plot.setVisible(on)
        self.loss_plot.getAxis("right").setVisible(on)  # only there to line up with the lower plot
        self.loss_plot.getAxis("bottom").setStyle(showValues=not on)
        self.loss_plot.setLabel("bottom", None if on else "step")
        self.loss_plot.showAxis("bottom")
        self.plots.ci.layout.setRowStretchFactor(1, 2 if on else 0)
        self.plots.ci.layout.setRowMaximumHeight(1, 1e6 if on else 0)

    # ---- hover readout
    def _set_crosshair_visible(self, visible: bool) -> None:
        for item in (*self._vlines, self._hline, self.readout):
            item.setVisible(visible)
        if not visible:
            self.readout_text = ""

    def _mouse_moved(self, args: tuple) -> None:
        """Crosshair on the nearest logged step and a small box beside it with every value at that step."""
        pos: QPointF = args[0]
        plot = next((p for p in (self.loss_plot, self.lower_plot)
                     if p.isVisible() and p.vb.sceneBoundingRect().contains(pos)), None)
        if self.overlays:
            self._overlay_readout(plot.vb.mapSceneToView(pos).x() if plot is not None else None)
            return
        index = self.train.nearest(plot.vb.mapSceneToView(pos).x()) if plot is not None else None
        if index is None:
            self._set_crosshair_visible(False)
            return
        xs, ys = self.train.view()
        step = float(xs[index])
        smoothed = float(self._smoothed[index]) if index < self._smoothed_n else float(ys[index])
        y_line = math.log10(smoothed) if self.log_scale.isChecked() and smoothed > 0 else smoothed
        for line in self._vlines:
            line.setPos(step)
        self._hline.setPos(y_line)
        lines = [("", f"step {step:g}"), (TRAIN_COLOR, f"loss {figure(ys[index], 4)}" +
                                          (f" (smoothed {figure(smoothed, 4)})" if self.smoothing.value() else ""))]
        tolerance = max(1.0, 0.02 * (xs[-1] - xs[0]))
        for series, color, name, digits in ((self.evals, EVAL_COLOR, "eval loss", 4),
                                            (self.lr, LR_COLOR, "learning rate", 0),
                                            (self.grad, GRAD_COLOR, "grad norm", 3)):
            j = series.nearest(step)
            if j is not None:
                sx, sy = series.view()
                if abs(sx[j] - step) <= tolerance or series is not self.evals:
                    at = f" at step {sx[j]:g}" if sx[j] != step else ""
                    value = figure(sy[j], digits) if digits else f"{sy[j]:.3g}"  # 0: the learning rate, as 5e-05
                    lines.append((color, f"{name} {value}{at}"))
        self.readout_text = "\n".join(text for _, text in lines)
        self.readout.setHtml("<br>".join(f"<span style='color:{c or '#202124'}'>{html.escape(t)}</span>"
                                         for c, t in lines))
        (x_low, x_high), (y_low, y_high) = self.loss_plot.vb.viewRange()
        right = step > (x_low + x_high) / 2
        top = y_line > (y_low + y_high) / 2
        self.readout.setAnchor((1.0 if right else 0.0, 0.0 if top else 1.0))
        self.readout.setPos(step, y_line)
        self._set_crosshair_visible(True)

    def _overlay_readout(self, x: float | None) -> None:
        """Comparing runs: the line snaps to the nearest logged step of any run; the box lists each run's loss
        there (or at its nearest step, said so)."""
        nearest: list[tuple[Overlay, int]] = []
        for overlay in self.overlays.values():
            if x is not None and len(overlay.x):
                i = int(np.clip(np.searchsorted(overlay.x, x), 1, len(overlay.x) - 1)) if len(overlay.x) > 1 else 0
                if i and abs(overlay.x[i - 1] - x) <= abs(overlay.x[i] - x):
                    i -= 1
                nearest.append((overlay, i))
        if not nearest:
            self._set_crosshair_visible(False)
            return
        step = min((float(o.x[i]) for o, i in nearest), key=lambda s: abs(s - x))
        lines = [("", f"step {step:g}")]
        for overlay, i in nearest:
            at = f" at step {overlay.x[i]:g}" if overlay.x[i] != step else ""
            lines.append((overlay.color, f"{overlay.name}: loss {figure(overlay.y[i], 4)}{at}"))
        self.readout_text = "\n".join(text for _, text in lines)
        self.readout.setHtml("<br>".join(f"<span style='color:{c or '#202124'}'>{html.escape(t)}</span>"
                                         for c, t in lines))
        for line in self._vlines:
            line.setPos(step)
        (x_low, x_high), (y_low, y_high) = self.loss_plot.vb.viewRange()
        y_mid = (y_low + y_high) / 2
        self.readout.setAnchor((1.0 if step > (x_low + x_high) / 2 else 0.0, 0.5))
        self.readout.setPos(step, y_mid)
        self._set_crosshair_visible(True)
        self._hline.setVisible(False)
