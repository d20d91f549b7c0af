"""Peak-decimated copies of a growing curve, kept up to date as points arrive, so a frame never walks the history.

pyqtgraph's own peak downsampling (`setDownsampling(mode="peak")`) is exact but starts from the raw arrays on every
`setData`: with 100k logged steps that is ~1 ms per curve per frame for the reduction and the bounds alone, four
curves a frame, ten frames a second. Here each level keeps the min and max of blocks of `factor` points and only
the blocks touched by new (or replaced) points are recomputed, so a frame costs O(new points). The chart hands
pyqtgraph the coarsest level whose blocks are still at most one pixel column wide over what is visible; pyqtgraph's
downsampling then only has a few thousand points left to reduce, and draws the same envelope it would have drawn
from the raw data (each pixel column shows the min and max of the points that fall in it).
"""

from __future__ import annotations

import numpy as np

FACTORS = (4, 16, 64, 256, 1024, 4096, 16384)
BLOCKS_PER_PIXEL = 2  # a level is used only while its blocks are at most one pixel column wide


class PeakLevels:
    """Block minima and maxima of one curve at each factor in FACTORS, as drawable (x, y) pairs.

    A level's points come in pairs, (x of the block's first point, min) then (x of the block's first point, max),
    the layout pyqtgraph's peak mode produces, so a connected line through them traces the envelope.
    """

    def __init__(self) -> None:
        self._levels = {factor: _Level(factor) for factor in FACTORS}
        self.size = 0

    def update(self, x: np.ndarray, y: np.ndarray, changed_from: int) -> None:
        """Bring every level up to date with x, y (the whole curve), of which points before `changed_from` are
        the same as at the last update."""
        changed_from = max(0, min(changed_from, self.size, len(x)))
        for level in self._levels.values():
            level.update(x, y, changed_from)
        self.size = len(x)

    def choose(self, visible_points: int, pixels: float) -> int:
        """The coarsest factor that keeps BLOCKS_PER_PIXEL blocks per pixel column over `visible_points` raw
        points, or 1 (draw the raw curve)."""
        best = 1
        for factor in FACTORS:
            if visible_points / factor >= BLOCKS_PER_PIXEL * max(pixels, 1.0):
                best = factor
        return best

    def view(self, factor: int) -> tuple[np.ndarray, np.ndarray]:
        return self._levels[factor].view()

    def bounds(self) -> tuple[float, float] | None:
        """The curve's lowest and highest y, from the coarsest level (a handful of blocks), or None if empty."""
        _, y = self._levels[FACTORS[-1]].view()
        return (float(y.min()), float(y.max())) if len(y) else None


class _Level:
    def __init__(self, factor: int):
        self.factor = factor
        self._x = np.empty(0)
        self._y = np.empty(0)
        self.blocks = 0

    def update(self, x: np.ndarray, y: np.ndarray, changed_from: int) -> None:
        f = self.factor
        n = len(x)
        first = min(changed_from // f, self.blocks)  # the first block whose points may have changed
        blocks = -(-n // f)
        if 2 * blocks > len(self._x):
            capacity = max(256, 4 * blocks)
            self._x = np.resize(self._x, capacity)
            self._y = np.resize(self._y, capacity)
        if blocks > first:
            starts = np.arange(first * f, n, f)
            part = y[first * f: n]
            offsets = starts - first * f
            lows = np.minimum.reduceat(part, offsets)
            highs = np.maximum.reduceat(part, offsets)
            xs = x[starts]
            self._x[2 * first: 2 * blocks: 2] = xs
            self._x[2 * first + 1: 2 * blocks: 2] = xs
            self._y[2 * first: 2 * blocks: 2] = lows
            self._y[2 * first + 1: 2 * blocks: 2] = highs
        self.blocks = blocks

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        return self._x[: 2 * self.blocks], self._y[: 2 * self.blocks]
