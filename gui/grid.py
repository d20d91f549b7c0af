"""Grid lines for a chart plot, drawn by one light item instead of by the axes.

pyqtgraph draws a plot's grid as part of each axis: the axis records its ticks, labels and plot-wide grid lines
into a QPicture and replays it every paint. Replaying plot-wide translucent lines costs ~4 ms per axis here, so
a frame in which an axis range moved (a new lowest loss, a falling learning rate) took 15-35 ms. This item draws
the same lines (at the axes' own tick positions, major and first minor level, with the same faint colours
blended in advance) in well under a millisecond, and recomputes them only when the view range changes.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QRectF
from PySide6.QtGui import QColor, QPainter, QPen

GRID_ALPHA = 0.15  # of the text colour over the background, for major lines; minor lines get half


def blend(foreground: QColor, background: QColor, alpha: float) -> QColor:
    """The opaque colour a translucent foreground line would show over the background."""
    return QColor(*(round(b + (f - b) * alpha) for f, b in zip(foreground.getRgb()[:3], background.getRgb()[:3])))


class GridLines(pg.GraphicsObject):
    """Vertical lines at the x axis' ticks and horizontal lines at the y axis' ticks of one plot."""

    def __init__(self, plot: Any, foreground: QColor, background: QColor, x_axis: str = "bottom",
                 y_axis: str = "left"):
        super().__init__()
        self._view = plot.vb
        self._axes = (plot.getAxis(x_axis), plot.getAxis(y_axis))
        self._pens = []
        for alpha in (GRID_ALPHA, GRID_ALPHA / 2):
            pen = QPen(blend(foreground, background, alpha))
            pen.setCosmetic(True)
            pen.setWidth(1)
            self._pens.append(pen)
        self._lines: list[list[QLineF]] | None = None
        self._rect = QRectF()
        self.setZValue(-1000)  # under every curve
        self._view.sigRangeChanged.connect(self._invalidate)
        self._view.sigResized.connect(self._invalidate)
        self._view.addItem(self, ignoreBounds=True)

    def _invalidate(self, *_: Any) -> None:
        self.prepareGeometryChange()
        self._lines = None
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        (x_low, x_high), (y_low, y_high) = self._view.viewRange()
        return QRectF(x_low, y_low, x_high - x_low, y_high - y_low)

    def paint(self, painter: QPainter, *_: Any) -> None:
        if self._lines is None:
            self._lines = self._compute()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for pen, lines in zip(self._pens, self._lines):
            if lines:
                painter.setPen(pen)
                painter.drawLines(lines)

    def _compute(self) -> list[list[QLineF]]:
        (x_low, x_high), (y_low, y_high) = self._view.viewRange()
        major: list[QLineF] = []
        minor: list[QLineF] = []
        width, height = self._view.width(), self._view.height()
        for vertical, axis, pixels in ((True, self._axes[0], width), (False, self._axes[1], height)):
            if not axis.isVisible() and not vertical:
                continue
            low, high = (x_low, x_high) if vertical else (y_low, y_high)
            if pixels <= 0 or high <= low:
                continue
            # The axis' own tick choice (its range is the view's, already log10 on a log axis), so the lines
            # meet the labels.
            for level, (_, values) in enumerate(axis.tickValues(low, high, pixels)[:2]):
                target = major if level == 0 else minor
                for value in values:
                    if low <= value <= high:
                        target.append(QLineF(value, y_low, value, y_high) if vertical
                                      else QLineF(x_low, value, x_high, value))
        return [major, minor]
