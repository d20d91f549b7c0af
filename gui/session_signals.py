"""core.session's changes as Qt signals, for widgets.

A widget that subscribed a plain callback to the Qt-free Session would be called after Qt deleted it (the
session lives as long as the window's Python object). This adapter, parented to the widget, subscribes for it,
emits signals the widget connects to, and unsubscribes when Qt destroys it.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject, Signal

from finetune_studio.core.session import Change, Session


class SessionSignals(QObject):
    """One per subscribing widget: `SessionSignals(session, self).run_changed.connect(...)`."""

    document_replaced = Signal()  # another config became the document: forms show it
    name_changed = Signal()  # its file, untitled name or modified flag
    run_changed = Signal()  # the shown run, its state, or whether the window can train now

    def __init__(self, session: Session, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        unsubscribe = session.subscribe(self._changed)
        self.destroyed.connect(lambda *_: unsubscribe())

    def _changed(self, change: Change) -> None:
        if not shiboken6.isValid(self):
            return
        {Change.DOCUMENT: self.document_replaced, Change.NAME: self.name_changed,
         Change.RUN: self.run_changed}[change].emit()
