"""The look of the app's small read-only plots (the token-length histograms of the Dataset tab and the Inspector):
the palette's colours, no menu, buttons or mouse zoom, labelled axes. One place, so they stay alike."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QPalette


def style_small_plot(plot: Any, palette: QPalette, x_label: str, y_label: str, min_height: int,
                     max_height: int) -> Any:
    """Style a pyqtgraph PlotWidget made with the palette's Base background; returns its PlotItem."""
    import pyqtgraph as pg

    text = palette.color(QPalette.ColorRole.WindowText)
    plot.setMinimumHeight(min_height)
    plot.setMaximumHeight(max_height)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setMouseEnabled(x=False, y=False)
    item = plot.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(palette.color(QPalette.ColorRole.Mid)))
        axis.setTextPen(pg.mkPen(text))
    item.setLabel("bottom", x_label, color=text.name())
    item.setLabel("left", y_label, color=text.name())
    return item
