"""The app icon: every PNG size is there, square, and what Qt's SVG renderer draws from the SVG today (so an
edited SVG cannot ship with stale PNGs); the window uses it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]


def render_icons() -> Any:
    spec = importlib.util.spec_from_file_location("render_icons", ROOT / "packaging" / "render_icons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("size", [16, 24, 32, 48, 64, 128, 256, 512])
def test_png_matches_a_fresh_render_of_the_svg(qapp: Any, size: int) -> None:
    renderer = render_icons()
    assert size in renderer.SIZES
    png = QImage(str(ROOT / "resources" / "icons" / f"finetune-studio-{size}.png"))
    assert (png.width(), png.height()) == (size, size)
    fresh = renderer.render(renderer.SVG, size).convertToFormat(png.format())
    worst = max(abs(a - b) for y in range(0, size, max(1, size // 64)) for x in range(0, size, max(1, size // 64))
                for a, b in zip(png.pixelColor(x, y).getRgb(), fresh.pixelColor(x, y).getRgb(), strict=True))
    assert worst <= 2, f"finetune-studio-{size}.png differs from the SVG. To fix: packaging/render_icons.py"
    assert png.pixelColor(0, 0).alpha() == 0 and png.pixelColor(size // 2, size // 2).alpha() == 255


def test_the_application_uses_the_icon(qapp: Any) -> None:
    from finetune_studio.gui.icon import app_icon

    icon = app_icon()
    assert sorted(s.width() for s in icon.availableSizes()) == [16, 24, 32, 48, 64, 128, 256, 512]
    image = icon.pixmap(48, 48).toImage()
    expected = QImage(str(ROOT / "resources" / "icons" / "finetune-studio-48.png")).convertToFormat(image.format())
    assert image == expected
