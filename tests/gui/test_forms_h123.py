"""Dataset, Model and Hub tabs after a screenshot review: Encoding is disabled for the built-in samples (UTF-8 as
shipped) and its hint says when to choose one; no row-checks line that only repeats the Inspector button; Revision and
"Trust remote code" disabled for the built-in demo model, values kept; a "Log in…" button beside "Not logged in" on
the Hub tab that opens the Hub menu's login."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import shiboken6

from finetune_studio.core.config import DEMO_MODEL_ID, SAMPLE_DATASET_ID, default_config
from finetune_studio.gui.forms import DatasetForm, HubForm, ModelForm
from finetune_studio.gui.forms.model_form import TRUST_WARNING
from tests.gui.test_hub_gui import hf_home, make_window, stand_ins, window  # noqa: F401  (fixtures)
from tests.hub_fixtures import WRITE, hub

WAIT = 30_000
BUILTIN_ENCODING = "Not needed: the built-in samples are UTF-8."
NOT_FOR_DEMO = "Not used for the built-in demo model: it is built on this computer, with no branch or code of its own."
LOGGED_OUT = "Not logged in to the Hugging Face Hub."
OWN_FILE_HINT = "Detected when the file is opened; choose one only if its text looks garbled."


pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


def _dataset_form(qtbot: Any, config: Any) -> DatasetForm:
    form = DatasetForm()
    qtbot.addWidget(form)
    form.load(config)
    qtbot.waitUntil(lambda: form.preview_model.rowCount() == 20, timeout=WAIT)  # the built-in sample's preview
    return form


def test_encoding_is_disabled_for_the_built_in_sample_and_its_hint_says_when_to_choose_one(qtbot: Any,
                                                                                           tmp_path: Path) -> None:
    form = _dataset_form(qtbot, default_config())
    assert form.source_edit.text() == SAMPLE_DATASET_ID
    assert not form.encoding_combo.isEnabled()  # as Separator and Text files
    assert not form.delimiter_combo.isEnabled() and not form.sample_by_combo.isEnabled()
    assert form.encoding_hint.text() == BUILTIN_ENCODING
    assert form.encoding_combo.toolTip() == BUILTIN_ENCODING
    own = tmp_path / "notes.jsonl"
    own.write_text('{"text": "Caf\\u00e9"}\n', encoding="utf-8")
    form._choose_source(str(own))
    assert form.encoding_combo.isEnabled()
    assert form.encoding_hint.text() == OWN_FILE_HINT
    form._choose_source(SAMPLE_DATASET_ID)
    assert not form.encoding_combo.isEnabled() and form.encoding_hint.text() == BUILTIN_ENCODING


def test_a_loaded_encoding_for_the_sample_is_kept_and_can_be_cleared(qtbot: Any) -> None:
    config = default_config()
    config.dataset.encoding = "cp1252"
    form = _dataset_form(qtbot, config)
    assert form.encoding_combo.currentText() == "cp1252"
    assert form.encoding_combo.isEnabled()  # it is read with it: the box stays usable so that it can be cleared
    assert form.encoding_hint.text() == ("The built-in samples are UTF-8: read as cp1252, their text may look "
                                         "garbled. To fix: clear the encoding.")
    stored = default_config()
    form.store(stored)
    assert stored.dataset.encoding == "cp1252"
    form.encoding_combo.setCurrentText("")
    assert form.encoding_hint.text() == BUILTIN_ENCODING
    form.store(stored)
    assert stored.dataset.encoding is None


def test_plain_text_rows_have_no_line_that_repeats_the_inspector_button(qtbot: Any) -> None:
    form = _dataset_form(qtbot, default_config())
    qtbot.waitUntil(lambda: form.effective_format() == "text", timeout=WAIT)
    assert form.inspect_button.isVisibleTo(form)
    assert form.checks_label.text() == "" and not form.checks_label.isVisibleTo(form)
    form.format_combo.setCurrentIndex(form.format_combo.findData("messages"))  # chat rows, no model yet
    assert form.checks_label.text() == ("Every row is checked with the model's tokenizer once the training stack "
                                         "has loaded.")
    assert form.checks_label.isVisibleTo(form)
    form.format_combo.setCurrentIndex(form.format_combo.findData("text"))
    assert not form.checks_label.isVisibleTo(form)


def test_revision_and_remote_code_are_disabled_for_the_demo_model_values_kept(qtbot: Any) -> None:
    form = ModelForm()
    qtbot.addWidget(form)
    config = default_config()
    config.model.revision = "v2"
    config.model.trust_remote_code = True
    form.load(config)
    assert form.source_edit.text() == DEMO_MODEL_ID
    assert not form.revision_edit.isEnabled() and not form.trust_check.isEnabled()
    assert form.revision_edit.toolTip() == NOT_FOR_DEMO == form.trust_check.toolTip()
    assert form.revision_edit.text() == "v2" and form.trust_check.isChecked()
    assert not form.trust_warning.isVisibleTo(form)  # the demo runs no code of its own
    stored = default_config()
    form.store(stored)
    assert (stored.model.revision, stored.model.trust_remote_code) == ("v2", True)

    form.source_edit.clear()
    qtbot.keyClicks(form.source_edit, "Qwen/Qwen3-0.6B")  # a Hub model: both are its
    assert form.revision_edit.isEnabled() and form.trust_check.isEnabled()
    assert form.trust_warning.isVisibleTo(form) and TRUST_WARNING in form.trust_warning.text()
    assert form.revision_edit.toolTip() != NOT_FOR_DEMO
    form.demo_button.click()
    assert not form.revision_edit.isEnabled() and not form.trust_check.isEnabled()


def test_remote_code_written_as_text_stays_clickable_for_the_demo(qtbot: Any) -> None:
    form = ModelForm()
    qtbot.addWidget(form)
    config = default_config()
    config.model.trust_remote_code = "no"  # refused by validation at the box: a click is its fix
    form.load(config)
    assert form.trust_check.isEnabled() and not form.revision_edit.isEnabled()


def test_the_hub_tab_offers_log_in_beside_not_logged_in(qtbot: Any) -> None:
    form = HubForm()
    qtbot.addWidget(form)
    form.set_account_text(LOGGED_OUT)
    assert not form.login_button.isVisibleTo(form)  # nothing connected: a button that does nothing is not shown
    asked: list[bool] = []
    form.login_requested.connect(lambda: asked.append(True))
    assert form.login_button.isVisibleTo(form) and form.login_button.text() == "Log in…"
    form.login_button.click()
    assert asked == [True]
    form.set_account_text("Logged in as alice (write token).")
    assert not form.login_button.isVisibleTo(form)
    form.set_account_text(LOGGED_OUT)
    assert form.login_button.isVisibleTo(form)


def test_log_in_on_the_hub_tab_opens_the_hub_menus_login(qtbot: Any, window: Any, hub: Any) -> None:
    form = window.hub_form
    assert form.account_label.text() == LOGGED_OUT
    window.tabs.setCurrentIndex(window.forms.index(form))
    qtbot.waitUntil(lambda: form.login_button.isVisible(), timeout=WAIT)
    label, button = form.account_label.geometry(), form.login_button.geometry()
    assert button.left() >= label.right() and button.top() < label.bottom()  # beside the line, not under it
    form.login_button.click()
    dialog = window.hub.login_dialog
    assert dialog is not None and dialog.isVisible() and dialog.windowTitle() == "Log in to the Hugging Face Hub"
    dialog.token_edit.setText(WRITE)
    dialog.login_button.click()
    qtbot.waitUntil(lambda: window.hub.status.kind == "account", timeout=WAIT)
    assert form.account_label.text() == "Logged in as alice (write token)."
    assert not form.login_button.isVisible()
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog) or not dialog.isVisible())
