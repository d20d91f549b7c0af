"""The application icon, as Qt uses it: the window (and so the taskbar), the About dialog.

Built from the PNG sizes in finetune_studio.resources/icons (rendered from the SVG by packaging/render_icons.py):
Qt picks the nearest size for each use, and PNGs need no image plugin, so loading them adds nothing to startup
that could fail.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon

from finetune_studio.gui.desktop_entry import ICON_SIZES, icon_png


def app_icon() -> QIcon:
    icon = QIcon()
    for size in ICON_SIZES:
        icon.addFile(str(icon_png(size)), QSize(size, size))
    return icon
