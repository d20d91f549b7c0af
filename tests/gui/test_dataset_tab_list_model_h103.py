"""The Dataset tab with a model.name_or_path that names no one model (`name_or_path: [a, b]`, a mapping, a number: a
config file's value that validation refuses and the forms keep as written). Its statistics job loaded the tokenizer
of that value, and core.sources.source_kind fell over it: "No token statistics." with "Unexpected error while counting
tokens: AttributeError: 'list' object has no attribute 'strip'"; the chat-template and row-check jobs took the same
list. Now none of the three jobs runs for such a value (no tokenizer load is tried), each says what the value is and
what to do, and they come back as soon as one model is named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.exceptions import TimeoutError as WaitTimeout

from finetune_studio.core import model as core_model
from finetune_studio.core.config import CHAT_DATASET_ID, DEMO_MODEL_ID, ModelConfig, RunConfig, default_config
from finetune_studio.gui import background
from finetune_studio.gui.forms import DatasetForm
from tests.gui.test_app import dialog_log, make_window, window  # fixtures
from tests.helpers import SAMPLE

WAIT = 120_000  # ms: the first tokenizer load imports transformers
SAY = 30_000  # ms: what the tab says of the value is said without a job (the debounce, or the preview before it)
FIX = "To fix: give one model name or folder in name_or_path (Model tab)"
VALUES = [  # (the value kept as written, what the tab says it is)
    (["a", "b"], "name_or_path holds a list ([a, b]), not one model"),
    ({"org": "a", "name": "b"}, "name_or_path holds a mapping ({org: a, name: b}), not one model"),
    (7, "name_or_path holds a number (7), not one model"),
]


pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


@pytest.fixture
def tokenizer_loads(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every name_or_path core.model.load_tokenizer is asked for (the statistics, template and row-check jobs
    import it from there when they run)."""
    seen: list[Any] = []
    real = core_model.load_tokenizer

    def spy(config: ModelConfig, *args: Any, **kwargs: Any) -> Any:
        seen.append(config.name_or_path)
        return real(config, *args, **kwargs)

    monkeypatch.setattr(core_model, "load_tokenizer", spy)
    return seen


def _form(qtbot: Any, config: RunConfig) -> DatasetForm:
    form = DatasetForm()
    qtbot.addWidget(form)
    form.resize(700, 1200)
    form.load(config)
    form.show()
    qtbot.waitExposed(form)
    qtbot.waitUntil(lambda: form.preview_model.rowCount() > 0, timeout=WAIT)
    return form


def _stats_said(said: str) -> str:
    return f"{said}: no token statistics. {FIX} to count tokens."


def _shows(qtbot: Any, label: Any, text: str) -> None:
    """label comes to show text; if it does not, the assertion says what it shows instead."""
    try:
        qtbot.waitUntil(lambda: label.text() == text, timeout=SAY)
    except WaitTimeout:
        pass
    assert label.text() == text


@pytest.mark.parametrize(("value", "said"), VALUES, ids=["list", "mapping", "number"])
def test_statistics_say_why_and_load_no_tokenizer_then_come_back(qtbot: Any, demo_cache: Path,
                                                                 tokenizer_loads: list[Any], value: Any,
                                                                 said: str) -> None:
    form = _form(qtbot, default_config())  # the built-in sample, plain text
    form.refresh_statistics(ModelConfig(name_or_path=value))
    _shows(qtbot, form.stats_label, _stats_said(said))
    assert background.wait_idle(WAIT)
    qtbot.wait(50)  # anything queued for the GUI thread is delivered
    assert form.stats_label.text() == _stats_said(said)
    assert form.stats_error_label.isHidden() and form.stats_error_label.text() == ""  # no "Unexpected error …"
    assert form.stats_detail.text() == "" and not form.histogram.has_data()
    assert not form.stats_task.busy and not form.stats_refresh_button.isEnabled()
    assert tokenizer_loads == []

    from finetune_studio.core.demo import demo_model_path

    demo = str(demo_model_path(build=False))
    form.refresh_statistics(ModelConfig(name_or_path=demo))  # one model: the statistics come back
    qtbot.waitUntil(lambda: form.histogram.has_data(), timeout=WAIT)
    assert tokenizer_loads == [demo]
    assert form.stats_error_label.isHidden()
    assert form.stats_detail.text().startswith("Mean ") and "tokens" in form.stats_detail.text()
    assert "No token statistics" not in form.stats_label.text() and said not in form.stats_label.text()
    assert form.stats_refresh_button.isEnabled()

    form.refresh_statistics(ModelConfig(name_or_path=value))  # and back to the list: the figures of the demo go
    _shows(qtbot, form.stats_label, _stats_said(said))
    assert not form.histogram.has_data() and form.stats_detail.text() == "" and form.truncated_count(16) is None
    assert tokenizer_loads == [demo]


def test_chat_rows_template_and_row_checks_say_why_then_come_back(qtbot: Any, demo_cache: Path,
                                                                  tokenizer_loads: list[Any]) -> None:
    config = default_config()
    config.dataset.source = CHAT_DATASET_ID
    form = _form(qtbot, config)
    qtbot.waitUntil(lambda: form.effective_format() != "text", timeout=WAIT)
    said = VALUES[0][1]
    form.refresh_statistics(ModelConfig(name_or_path=["a", "b"]))
    template = f"{said}: no chat template to read. {FIX} to see which template renders the rows."
    checks = f"{said}: the rows are not checked. {FIX} to check every row."
    _shows(qtbot, form.checks_label, checks)
    _shows(qtbot, form.stats_label, _stats_said(said))
    _shows(qtbot, form.template_hint, template)
    assert background.wait_idle(WAIT)
    qtbot.wait(50)
    assert (form.template_hint.text(), form.checks_label.text(), form.stats_label.text()) == \
        (template, checks, _stats_said(said))
    assert form.stats_error_label.isHidden() and form.checks_warning.isHidden()
    assert not form.template_task.busy and not form.checks_task.busy and not form.stats_task.busy
    assert form._checks is None and not form.histogram.has_data()
    assert tokenizer_loads == []

    form.refresh_statistics(ModelConfig(name_or_path=DEMO_MODEL_ID))  # one model: all three come back
    qtbot.waitUntil(lambda: form.histogram.has_data() and form._checks is not None
                    and not form.template_task.busy, timeout=WAIT)
    assert set(tokenizer_loads) == {DEMO_MODEL_ID}
    assert form.template_hint.text() != template and "To fix" not in form.template_hint.text()
    assert form.template_hint.text().startswith(("Rows are rendered with", "ChatML is used"))
    assert form.checks_label.text() != checks and "not checked" not in form.checks_label.text()
    assert form.stats_detail.text().startswith("Mean ") and form.stats_error_label.isHidden()


def test_the_windows_dataset_tab_with_a_list_model(qtbot: Any, window: Any, tmp_path: Path,
                                                   tokenizer_loads: list[Any]) -> None:
    path = tmp_path / "list-model.yaml"
    path.write_text(f"name: r\nmodel:\n  name_or_path: [a, b]\ndataset:\n  source: {SAMPLE}\n", encoding="utf-8")
    assert window.open_config(path)
    window.validator.wait()
    form = window.dataset_form
    window.tabs.setCurrentWidget(window.pages[form])
    said = VALUES[0][1]
    _shows(qtbot, form.stats_label, _stats_said(said))
    assert background.wait_idle(WAIT)
    qtbot.wait(50)
    assert form.stats_label.text() == _stats_said(said)
    assert form.stats_error_label.isHidden() and "Unexpected error" not in form.stats_error_label.text()
    assert form.stats_label.isVisible()
    assert all(isinstance(name, str) for name in tokenizer_loads)  # never the list
    assert window.config.model.name_or_path == ["a", "b"]  # still kept as written

    window.tabs.setCurrentWidget(window.pages[window.model_form])
    qtbot.mouseClick(window.model_form.demo_button, Qt.MouseButton.LeftButton)  # one model: the statistics return
    window.tabs.setCurrentWidget(window.pages[form])
    qtbot.waitUntil(lambda: form.histogram.has_data(), timeout=WAIT)
    assert window.config.model.name_or_path == DEMO_MODEL_ID
    assert tokenizer_loads and tokenizer_loads[-1] == DEMO_MODEL_ID
    assert form.stats_error_label.isHidden() and form.stats_detail.text().startswith("Mean ")
    assert said not in form.stats_label.text()
