"""Render resources/icons/finetune-studio.svg to the PNG sizes desktops ask for (16 to 512 px).

    .venv/bin/python packaging/render_icons.py      # rewrites resources/icons/finetune-studio-<N>.png

Qt's own SVG renderer (QtSvg, part of PySide6-Essentials) draws them, so the PNGs match what the app shows
where it draws the SVG itself; rerun after editing the SVG (tests/packaging/test_icons.py checks they agree).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # after QT_QPA_PLATFORM is chosen
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SVG = ICONS / "finetune-studio.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render(svg: Path, size: int) -> QImage:
    """The SVG drawn into a transparent size × size image, antialiased."""
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"error: {svg} is not an SVG Qt can draw. To fix: open it in a browser and check it.")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - QImage painting needs one
    for size in SIZES:
        path = ICONS / f"finetune-studio-{size}.png"
        if not render(SVG, size).save(str(path), "PNG"):
            raise SystemExit(f"error: could not write {path}")
        print(path.relative_to(ICONS.parent.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
