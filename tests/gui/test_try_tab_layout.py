"""The Try tab's Chat page fits the forms column of a 900×600 window: its right edge (Max new tokens, Defaults,
Send) was cut, because the settings' spin boxes were as wide as their largest values (a 10-digit seed), a pane was
as wide as its title (the run's name), and the page scrolls only up and down."""

from __future__ import annotations

from typing import Any


def test_the_chat_page_fits_a_narrow_column(qtbot: Any) -> None:
    from finetune_studio.core.session import Session
    from finetune_studio.gui.try_tab import TryTab

    tab = TryTab(Session())
    qtbot.addWidget(tab)
    long = "Fine-tuned · horoscopes-lr-1e-3-with-a-long-name · checkpoint-1200"  # a pane as wide as its title
    tab.panes["tuned"].set_title(long)
    tab.resize(440, 500)  # the forms column at 900×600, short enough that the page scrolls
    tab.show()
    qtbot.wait(20)
    scroll = tab.pages.widget(0)
    page = scroll.widget()
    assert scroll.verticalScrollBar().isVisible()
    assert page.width() <= scroll.viewport().width()
    for widget in (tab.settings_box.max_new_tokens, tab.settings_box.defaults_button, tab.send_button):
        right = widget.mapTo(page, widget.rect().topRight()).x()
        assert right < scroll.viewport().width(), widget.objectName()
    pane = tab.panes["tuned"]
    # too narrow for one line: the side and checkpoint whole, the run name cut on a line of its own (be16315)
    assert pane.toolTip() == pane.full_title == long and pane.title() == "Fine-tuned · checkpoint-1200"
    assert "…" in pane.name_line.text()
    tab.resize(1200, 700)
    qtbot.wait(20)
    assert pane.title() == long
