"""make_window(create=False) (tests/gui/test_app.py) builds a bare MainWindow() whose forms were never loaded: the
Dataset tab's max_length box reads 2, its floor, while window.config says 512, and an Inspector opened from the tab
would check the rows cut to 2 tokens. The fixture refuses that open, by the method and by the button, with a
message that says what to do; once a config is set the Inspector opens with the config's values."""

from __future__ import annotations

from typing import Any

import pytest

from finetune_studio.core.config import default_config
from tests.gui.test_app import dialog_log, make_window  # fixtures

pytestmark = pytest.mark.usefixtures("drain_background")

SAID = ("This window's forms were never loaded: make_window(create=False) builds a bare MainWindow(), with no "
        "set_config, so its Dataset tab holds each box's floor (max_length 2) and the Inspector would check the rows "
        "cut to 2 tokens. To fix: window.set_config(config) first (start_run does), or make_window(create=True).")


def test_a_bare_window_refuses_the_inspector_until_a_config_is_shown(qtbot: Any, make_window: Any) -> None:
    window = make_window(warm=False)
    form = window.dataset_form
    assert (form.max_length_spin.value(), window.config.dataset.max_length) == (2, 512)  # the trap
    with pytest.raises(AssertionError) as refused:
        form.open_inspector()
    assert str(refused.value).split("\n")[0] == SAID
    with qtbot.captureExceptions() as caught:
        form.inspect_button.click()
    assert [str(value).split("\n")[0] for _, value, _ in caught] == [SAID]
    assert form.inspector_window is None

    window.set_config(default_config())
    assert form.max_length_spin.value() == 512
    form.inspect_button.click()
    inspector = form.inspector_window
    assert inspector is not None and inspector.config.dataset.max_length == 512
    inspector.close()
