"""Memory and GPU use over a run, by step: a small plot under the Hardware tab's estimate.

On a GPU: each of the run's GPUs' memory used (MiB, as nvidia-smi counts it) and, on a second axis, its
utilization (%), both NVML samples the run records in its step events (core.gpus.Sampler, at most every 2 s). On
the CPU: the process's resident memory (each step's memory_mb). The points come from core.metrics.ResourceCurves,
the one reader of metrics.jsonl (resume rule included); this widget only draws them, redrawing at most every
250 ms (gui/throttle.py) and only while it is shown (points that arrive while hidden are drawn when it shows).
pyqtgraph is imported when the plot is first built (`ensure_built`), not with the window.
"""

from __future__ import annotations

from typing import Any, Iterable

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from finetune_studio.core.metrics import ResourceCurves
from finetune_studio.gui.throttle import Throttle

REDRAW_MS = 250
MEMORY_COLORS = ("#4e79a7", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#76b7b2")
UTIL_COLOR = "#e15759"


class ResourcePlot(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("resource_plot")
        self.curves = ResourceCurves()
        self.plot: Any = None
        self._items: dict[str, Any] = {}
        self.caption = QLabel("Memory over the run appears here while a run trains.")
        self.caption.setWordWrap(True)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self.caption)
        self._throttle = Throttle(self, REDRAW_MS, self.redraw)
        self._stale = False  # points arrived while hidden

    # ---- events in
    def add_event(self, event: dict) -> None:
        if self.curves.add_event(event):
            if self.isVisible():
                self._throttle.request()
            else:
                self._stale = True  # drawn when shown: a hidden plot's redraws only take time from the run

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.redraw()

    def load_events(self, events: Iterable[dict]) -> None:
        self.clear()
        self.curves.add_events(events)
        self.redraw()

    def set_curves(self, curves: ResourceCurves) -> None:
        """Show a recorded run's curves folded elsewhere (off the GUI thread): what load_events of its events
        shows."""
        self._throttle.cancel()
        self._stale = False
        self.curves = curves
        self.redraw()

    def clear(self) -> None:
        self.curves.clear()
        self._throttle.cancel()
        self._stale = False
        self.redraw()

    # ---- drawing
    def ensure_built(self) -> None:
        if self.plot is not None:
            return
        import pyqtgraph as pg

        self.plot = pg.PlotWidget(enableMenu=False)
        self.plot.setBackground("w")
        self.plot.setMinimumHeight(170)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.hideButtons()
        self.plot.setLabel("bottom", "step")
        self.plot.getPlotItem().addLegend(offset=(-8, 8))
        self.util_view = pg.ViewBox(enableMenu=False)
        item = self.plot.getPlotItem()
        item.showAxis("right")
        item.scene().addItem(self.util_view)
        item.getAxis("right").linkToView(self.util_view)
        item.getAxis("right").setLabel("utilization %", color=UTIL_COLOR)
        self.util_view.setXLink(item)
        self.util_view.setYRange(0, 100)
        item.vb.sigResized.connect(lambda: self.util_view.setGeometry(item.vb.sceneBoundingRect()))
        self._layout.addWidget(self.plot)

    def redraw(self) -> None:
        curves = self.curves
        # A GPU run is one with GPU figures, not one whose step events carry the lists: NVML can give None or NaN
        # for every GPU (core.metrics skips those), and the plot then said "GPU memory used" over empty axes and
        # left out the process memory the same steps recorded.
        gpu_memory = any(len(points) for points in curves.gpu_memory)
        gpu_util = any(len(points) for points in curves.gpu_util)
        gpu = gpu_memory or gpu_util
        has_points = len(curves.memory) > 0 or gpu
        if not has_points:
            if self.plot is not None:
                for curve in self._items.values():
                    self._show_curve(curve, None)
            self.caption.setText("Memory over the run appears here while a run trains.")
            self.drawn = {}
            return
        self.ensure_built()
        import pyqtgraph as pg

        item = self.plot.getPlotItem()
        series: list[tuple[str, Any, Any, Any]] = []  # (key, points, pen, view)
        if gpu:
            item.setLabel("left", "GPU memory used (MiB)")
            if gpu_util:
                item.showAxis("right")
            else:
                item.hideAxis("right")
            for index, points in enumerate(curves.gpu_memory):
                series.append((f"GPU {index} memory", points, pg.mkPen(MEMORY_COLORS[index % 8], width=2), None))
            for index, points in enumerate(curves.gpu_util):
                series.append((f"GPU {index} utilization", points,
                               pg.mkPen(UTIL_COLOR, width=1, style=pg.QtCore.Qt.PenStyle.DashLine), self.util_view))
            if gpu_memory and gpu_util:
                caption = ("GPU memory used (solid, left axis) and utilization (dashed, right axis), sampled by NVML "
                           "every 2 s.")
            elif gpu_memory:
                caption = "GPU memory used, sampled by NVML every 2 s; NVML gave no utilization figure for this GPU."
            else:
                caption = ("GPU utilization (dashed, right axis), sampled by NVML every 2 s; NVML gave no memory "
                           "figure for this GPU.")
            self.caption.setText(caption)
        else:
            item.setLabel("left", "process memory (MiB)")
            item.hideAxis("right")
            series.append(("process memory", curves.memory, pg.mkPen(MEMORY_COLORS[0], width=2), None))
            if curves.gpu_memory or curves.gpu_util:  # the run sampled its GPUs, and every sample was empty
                self.caption.setText("NVML gave no figure for the run's GPUs (memory and utilization unknown; "
                                     "nvidia-smi shows whether the driver reports them): this is the memory the "
                                     "training process recorded at each step.")
            else:
                self.caption.setText("No GPU: the training process's resident memory at each step.")
        for key, points, pen, view in series:
            curve = self._items.get(key)
            if curve is None:
                curve = pg.PlotDataItem(pen=pen, name=key)
                if view is None:
                    item.addItem(curve)
                else:
                    view.addItem(curve)
                self._items[key] = curve
            self._show_curve(curve, points, key if view is None else None)
        shown = {name for name, _, _, _ in series}
        for key, curve in self._items.items():  # a curve of another run (GPU after CPU, fewer GPUs) is emptied
            if key not in shown:
                self._show_curve(curve, None)
        self.drawn = {key: len(points) for key, points, _, _ in series}

    def _show_curve(self, curve: Any, points: Any, name: str | None = None) -> None:
        """`points` on `curve` (None: none), and the legend names it only while it has some: the legend of a GPU
        run kept "GPU 0 memory" and "GPU 1 memory" beside a CPU run's "process memory" drawn after it, and after
        clear(). A curve of one point is a dot: a line needs two, and the first sample of a run showed empty axes."""
        import numpy as np

        legend = self.plot.getPlotItem().legend
        if points is None or not len(points):
            curve.setData([], [])
            if legend is not None:
                legend.removeItem(curve)
            return
        color = curve.opts["pen"].color()
        curve.setData(np.array(points.x, dtype=float), np.array(points.y, dtype=float),  # copies: the arrays grow
                      symbol="o" if len(points) == 1 else None, symbolSize=7, symbolPen=None, symbolBrush=color)
        if name is not None and legend is not None and not any(sample.item is curve for sample, _ in legend.items):
            legend.addItem(curve, name)
