"""The main window's status bar, whose messages are shortened with … instead of cut off.

QStatusBar draws a message from its left edge and simply stops at the permanent widgets ("Hub: …"), so a long
message (a model saved to a deep folder, a copied CLI command) lost its end with no sign of it in a 900 px
window. Here the message is elided in the middle to the room there is, and the whole text is the tooltip.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStatusBar, QWidget

MARGIN = 24  # px: the size grip and the gap Qt keeps before the permanent widgets


class ElidingStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._permanent: list[QWidget] = []
        self.full_message = ""

    def addPermanentWidget(self, widget: QWidget, stretch: int = 0) -> None:  # noqa: N802 - Qt name
        self._permanent.append(widget)
        super().addPermanentWidget(widget, stretch)

    def message_room(self) -> int:
        taken = sum(w.width() + 6 for w in self._permanent if w.isVisible())
        return max(60, self.width() - taken - MARGIN)

    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802 - Qt name
        self.full_message = text
        shown = self.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, self.message_room())
        self.setToolTip(text if shown != text else "")
        super().showMessage(shown, timeout)
