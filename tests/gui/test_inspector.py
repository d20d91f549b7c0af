"""The Dataset Inspector window and its place in the Dataset tab (issue 15, item 4): each of the four chat formats
shows the right tokens in the right role on a known row, the legend and counts, the whole-dataset problems with
fixes that change the Dataset tab's settings in one click, and Start's question when rows would train nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QLabel, QPushButton

from finetune_studio.core.config import RunConfig, default_config
from finetune_studio.gui import inspector as inspector_gui
from finetune_studio.gui.forms import DatasetForm
from finetune_studio.gui.inspector import ROLE_COLORS, InspectorWindow, token_html
from tests.gui.test_app import LONG, DialogLog, dialog_log, make_window, window

ROWS = {
    "messages": ({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"},
                               {"role": "assistant", "content": "Hello!"}]},
                 {"special": "<|im_start|><|im_end|><|im_start|><|im_end|><|im_start|>",
                  "system": "system\nBe brief.\n", "prompt": "user\nHi there\nassistant\n",
                  "trained": "Hello!<|im_end|>\n"}),
    "alpaca": ({"instruction": "Name a colour.", "input": "Warm ones.", "output": "Red.", "system": "Be brief."},
               {"special": "<|im_start|><|im_end|><|im_start|><|im_end|><|im_start|>",
                "system": "system\nBe brief.\n", "prompt": "user\nName a colour.\n\nWarm ones.\nassistant\n",
                "trained": "Red.<|im_end|>\n"}),
    # Role aliases in any case: System, human, GPT.
    "sharegpt": ({"conversations": [{"from": "System", "value": "Be kind."}, {"from": "human", "value": "Hi"},
                                    {"from": "GPT", "value": "Hello."}, {"from": "human", "value": "Bye"},
                                    {"from": "gpt", "value": "Bye now."}]},
                 {"special": "<|im_start|><|im_end|><|im_start|><|im_end|><|im_start|><|im_start|><|im_end|>"
                             "<|im_start|>",
                  "system": "system\nBe kind.\n", "prompt": "user\nHi\nassistant\nuser\nBye\nassistant\n",
                  "trained": "Hello.<|im_end|>\nBye now.<|im_end|>\n"}),
    "prompt_completion": ({"prompt": "The sky is", "completion": " blue."},
                          {"prompt": "The sky is", "trained": " blue.<|endoftext|>"}),
}


pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


def jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def config_for(path: Path, max_length: int = 512) -> RunConfig:
    config = default_config()
    config.dataset.source = str(path)
    config.dataset.max_length = max_length
    return config


def by_role(pieces: list[tuple[str, str]]) -> dict[str, str]:
    joined: dict[str, str] = {}
    for text, role in pieces:
        joined[role] = joined.get(role, "") + text
    return joined


def open_window(qtbot: Any, config: RunConfig) -> InspectorWindow:
    window = InspectorWindow(config)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: bool(window.pieces) and window.checks is not None, timeout=LONG)
    return window


@pytest.mark.parametrize("fmt", list(ROWS))
def test_each_format_shows_its_known_row_with_every_token_in_its_role(qtbot: Any, demo_cache: Path,
                                                                     tmp_path: Path, fmt: str) -> None:
    row, expected = ROWS[fmt]
    other = {"prompt": "Two and two make", "completion": " four."} if fmt == "prompt_completion" else row
    window = open_window(qtbot, config_for(jsonl(tmp_path / f"{fmt}.jsonl", [row, other])))
    assert window.inspector.format == fmt
    assert by_role(window.pieces) == expected
    # The labels say the same as the colours: exactly the trained tokens keep their label.
    labeled = window.labeled
    trained = [i for i, (_, role) in enumerate(window.pieces) if role == "trained"]
    assert [i for i, label in enumerate(labeled.labels) if label != -100] == trained
    assert window.counts_label.text().startswith(f"Row 1: {len(window.pieces)} tokens: {len(trained)} trained")
    # Drawn: a span per token, in its role's colour; the legend names the five roles.
    html = token_html(window.pieces)
    assert html.count('href="tok:') == len(window.pieces)
    assert html.count(ROLE_COLORS["trained"][0]) + html.count(ROLE_COLORS["trained"][1]) == len(trained)
    assert [window.findChild(QLabel, f"legend_{r}").text() for r in ("trained", "prompt", "system", "special",
                                                                       "cut")] == [
        "Trained", "Masked: prompt", "Masked: system", "Special", "Cut by max_length"]
    # Pointing at a token names it, with its id and whether it is trained.
    last = len(window.pieces) - 1
    window.token_view.highlighted.emit(QUrl(f"tok:{last}"))
    assert window.hover_label.text().startswith(f"Token {last + 1}: id {labeled.input_ids[last]} ")
    assert window.hover_label.text().endswith("Trained; trained (its label is the token itself)")
    # Whole dataset: both rows checked (the bar full), nothing wrong with them.
    assert window.checks.rows == 2 and window.progress_bar.value() == window.progress_bar.maximum() == 2
    assert not window.stop_button.isEnabled() and window.check_button.isEnabled()
    assert window.problem_widgets() == []
    assert "every reply kept whole trains its end-of-turn token" in window.summary_label.text()
    if fmt != "prompt_completion":
        assert "ChatML: the tokenizer has no template" in window.template_label.text()
    window.close()


def test_browsing_to_a_row_cut_by_max_length_shows_its_cut_tokens(qtbot: Any, demo_cache: Path,
                                                                  tmp_path: Path) -> None:
    rows = [{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]},
            {"messages": [{"role": "user", "content": "Tell me"},
                          {"role": "assistant", "content": "a long reply " * 20}]}]
    window = open_window(qtbot, config_for(jsonl(tmp_path / "cut.jsonl", rows), max_length=32))
    assert "cut" not in by_role(window.pieces)
    window.next_button.click()
    qtbot.waitUntil(lambda: window.counts_label.text().startswith("Row 2:"), timeout=LONG)
    roles = [role for _, role in window.pieces]
    assert roles[:32].count("cut") == 0 and set(roles[32:]) == {"cut"}
    assert "cut by max_length" in window.counts_label.text()
    kinds = [w.objectName() for w in window.problem_widgets()]
    assert kinds == ["problem_reply_cut"]
    window.close()


def test_a_fix_in_the_inspector_changes_the_dataset_tab_and_the_problem_goes(qtbot: Any, demo_cache: Path,
                                                                            tmp_path: Path) -> None:
    rows = [ROWS["messages"][0],
            {"messages": [{"role": "user", "content": "word " * 60}, {"role": "assistant", "content": "Yes."}]}]
    form = DatasetForm()
    qtbot.addWidget(form)
    config = config_for(jsonl(tmp_path / "long.jsonl", rows), max_length=40)
    form.load(config)
    form.refresh_statistics(config.model)
    qtbot.waitUntil(lambda: form._checks is not None, timeout=LONG)
    # The tab itself says so, before the Inspector is opened, and Start would ask.
    assert form.effective_format() == "messages"
    assert "1 row trains nothing" in form.checks_label.text()
    assert form.start_warning().startswith("1 of 2 rows would train nothing with these settings.")
    assert form.checks_warning.isVisibleTo(form)

    changes: list[int] = []
    form.changed.connect(lambda: changes.append(1))
    form.open_inspector()
    window = form.inspector_window
    qtbot.waitUntil(lambda: window.checks is not None, timeout=LONG)
    problem = next(w for w in window.problem_widgets() if w.objectName() == "problem_cut_before_reply")
    fix = next(b for b in problem.findChildren(QPushButton) if b.text().startswith("Raise max_length to"))
    target = int(fix.text().rsplit(" ", 1)[1].replace(",", ""))
    assert target > 40
    fix.click()
    assert form.max_length_spin.value() == target and changes
    stored = default_config()
    form.store(stored)
    assert stored.dataset.max_length == target
    qtbot.waitUntil(lambda: window.checks is not None and window.checks.max_length == target, timeout=LONG)
    assert window.checks.no_trained_rows() == []
    assert [w.objectName() for w in window.problem_widgets()] == []
    qtbot.waitUntil(lambda: form.start_warning() is None and form._checks is not None, timeout=LONG)
    window.close()


def test_drop_untrained_rows_is_one_click_and_silences_starts_question(qtbot: Any, demo_cache: Path,
                                                                       tmp_path: Path) -> None:
    rows = [ROWS["messages"][0],
            {"messages": [{"role": "user", "content": "word " * 60}, {"role": "assistant", "content": "Yes."}]}]
    form = DatasetForm()
    qtbot.addWidget(form)
    config = config_for(jsonl(tmp_path / "long.jsonl", rows), max_length=40)
    form.load(config)
    form.refresh_statistics(config.model)
    form.open_inspector()
    window = form.inspector_window
    qtbot.waitUntil(lambda: window.checks is not None, timeout=LONG)
    problem = next(w for w in window.problem_widgets() if w.objectName() == "problem_cut_before_reply")
    next(b for b in problem.findChildren(QPushButton) if b.text() == "Drop such rows from training").click()
    assert form.drop_untrained_check.isChecked()
    stored = default_config()
    form.store(stored)
    assert stored.chat.drop_untrained_rows is True and stored.dataset.max_length == 40
    assert form.start_warning() is None
    # "Train on every token" is applied the same way (the fix a template without an end-of-turn token offers).
    form.apply_fix({"chat.train_on": "all"})
    form.store(stored)
    assert stored.chat.train_on == "all" and form.train_on_combo.currentText() == "Every token"
    qtbot.waitUntil(lambda: window.checks is not None and window.inspector.train_on == "all", timeout=LONG)
    assert window.checks.no_trained_rows() == [] and window.checks.counts["trained"][1] == 40  # all it keeps
    window.close()


def test_a_format_switch_saves_only_its_mappings_and_switching_back_restores_the_others(
        qtbot: Any, demo_cache: Path, tmp_path: Path) -> None:
    """The Columns field shows the parts of the format in use only; the form keeps the other formats' mappings (so
    switching back restores them) but no longer saves them, where they were a warning (chat.columns maps 'prompt'
    … the run does not use it) that a window user had no field to act on."""
    from finetune_studio.core.validation import warnings_for

    path = jsonl(tmp_path / "qa.jsonl", [{"question": "Capital of France?", "reply": "Paris."}] * 3)
    form = DatasetForm()
    qtbot.addWidget(form)
    config = config_for(path)
    config.chat.format = "prompt_completion"
    config.chat.columns = {"prompt": "question", "completion": "reply"}
    form.load(config)
    qtbot.waitUntil(lambda: form.preview_model.rowCount() == 3, timeout=LONG)
    form.format_combo.setCurrentIndex(form.format_combo.findData("alpaca"))
    combo = form.column_combos["instruction"]
    combo.setCurrentIndex(combo.findData("question"))
    stored = default_config()
    form.store(stored)
    assert stored.chat.format == "alpaca" and stored.chat.columns == {"instruction": "question"}
    assert [p.field for p in warnings_for(stored) if p.field == "chat.columns"] == []
    form.format_combo.setCurrentIndex(form.format_combo.findData("prompt_completion"))
    form.store(stored)
    assert stored.chat.columns == {"prompt": "question", "completion": "reply"}
    form.format_combo.setCurrentIndex(form.format_combo.findData("auto"))
    form.store(stored)  # 'auto': the rows decide which parts are read, so every mapping is saved
    assert stored.chat.columns == {"prompt": "question", "completion": "reply", "instruction": "question"}


@pytest.mark.parametrize(("section", "name", "written"), [
    ("chat", "format", "chats"), ("chat", "format", ["text"]), ("chat", "columns", "question"),
    ("chat", "columns", ["question"]), ("chat", "drop_untrained_rows", "yes"), ("dataset", "truncation", "no"),
])
def test_a_value_the_dataset_tab_cannot_show_loads_and_is_stored_as_written(qtbot: Any, section: str, name: str,
                                                                            written: Any) -> None:
    """A config file's chat.format typo ('chats') or list ('[text]') made the Dataset tab's load raise (KeyError,
    TypeError: the format looked up as a known one), so the window could not open the config; chat.columns that is
    no mapping was stored as {}, and a check's value written as text ('yes', as the app's YAML reads it) as the
    check's true or false, without a word. Each is now stored as written until its field is edited; validation
    names it at the field."""
    form = DatasetForm()
    qtbot.addWidget(form)
    config = default_config()
    setattr(getattr(config, section), name, written)
    form.load(config)
    stored = default_config()
    form.store(stored)
    assert getattr(getattr(stored, section), name) == written
    if name == "format":
        shown = "'chats'" if written == "chats" else "[text]"  # as the file writes it, not ['text']
        assert form.format_hint.text() == f"{shown} is not a row format, so the run cannot start: pick one above."
    if name == "drop_untrained_rows":
        assert not form.drop_untrained_check.isChecked()  # 'yes' is no true: unticked (common.Form.load_check)
        form.drop_untrained_check.setChecked(True)  # the user's own choice replaces what was written
        form.store(stored)
        assert stored.chat.drop_untrained_rows is True


def test_the_format_can_be_overridden_and_columns_mapped(qtbot: Any, demo_cache: Path, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "qa.jsonl", [{"question": "Capital of France?", "reply": "Paris.", "note": "x"}] * 3)
    form = DatasetForm()
    qtbot.addWidget(form)
    form.load(config_for(path))
    qtbot.waitUntil(lambda: form.preview_model.rowCount() == 3, timeout=LONG)
    assert form.effective_format() == "text"  # no well-known pair of names: one text column
    assert not form._format_layout.isRowVisible(form._chat_rows[0])
    form.format_combo.setCurrentIndex(form.format_combo.findData("prompt_completion"))
    assert form._format_layout.isRowVisible(form._chat_rows[0])
    assert list(form.column_combos) == ["prompt", "completion", "tools"]  # tools: optional (h164)
    assert form.column_combos["prompt"].currentText() == "automatic: question"
    assert form.column_combos["completion"].currentText() == "automatic: none found"
    assert "Pick the column that holds completion" in form.columns_hint.text()
    combo = form.column_combos["completion"]
    combo.setCurrentIndex(combo.findData("reply"))
    stored = default_config()
    form.store(stored)
    assert stored.chat.format == "prompt_completion" and stored.chat.columns == {"completion": "reply"}
    assert form.columns_hint.text() == "Which column plays each part; automatic picks the usual names."
    # The Inspector reads the rows as mapped: the reply is what is trained.
    form.refresh_statistics(stored.model)
    form.open_inspector()
    window = form.inspector_window
    qtbot.waitUntil(lambda: bool(window.pieces), timeout=LONG)
    assert by_role(window.pieces)["trained"] == "Paris.<|endoftext|>"
    window.close()
    # Loading a config shows its chat settings.
    stored.chat.template, stored.chat.train_on = "phi3", "all"
    form.load(stored)
    assert form.template_combo.currentData() == "phi3" and form.train_on_combo.currentData() == "all"
    assert form.column_combos["completion"].currentData() == "reply"


def test_the_tab_says_when_chatml_is_used(qtbot: Any, demo_cache: Path, tmp_path: Path) -> None:
    form = DatasetForm()
    qtbot.addWidget(form)
    config = config_for(jsonl(tmp_path / "m.jsonl", [ROWS["messages"][0]] * 2))
    form.load(config)
    form.refresh_statistics(config.model)
    qtbot.waitUntil(lambda: form.template_hint.text().startswith("ChatML is used"), timeout=LONG)
    assert "no chat template" in form.template_hint.text()
    assert [form.template_combo.itemData(i) for i in range(form.template_combo.count())] == [
        "auto", "chatml", "qwen3", "llama3", "phi3", "gemma"]


def test_start_asks_when_rows_would_train_nothing(qtbot: Any, window: Any, tmp_path: Path, runs_dir: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [ROWS["messages"][0],
            {"messages": [{"role": "user", "content": "word " * 60}, {"role": "assistant", "content": "Yes."}]}]
    config = config_for(jsonl(tmp_path / "long.jsonl", rows), max_length=40)
    config.runs_dir = str(runs_dir)
    asked: list[str] = []
    monkeypatch.setattr(inspector_gui, "confirm_untrained", lambda parent, message: asked.append(message) or False)
    window.set_config(config)
    qtbot.waitUntil(lambda: window.dataset_form.start_warning() is not None, timeout=LONG)
    qtbot.waitUntil(window.start_action.isEnabled, timeout=LONG)
    window.start_action.trigger()
    assert len(asked) == 1 and asked[0].startswith("1 of 2 rows would train nothing")
    assert not window.runner.running  # the answer was Cancel


def test_stop_ends_the_whole_dataset_checks(qtbot: Any, demo_cache: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Progress reaches the bar from the worker thread; Stop sets the event the pass checks at every row."""
    events: list[Any] = []

    def checks_until_stopped(inspector: Any, progress: Any, stop: Any) -> None:
        progress(1, 2)
        events.append(stop)
        assert stop.wait(60)
        return None  # what Inspector.check returns when stopped

    monkeypatch.setattr(inspector_gui, "run_checks", checks_until_stopped)
    window = InspectorWindow(config_for(jsonl(tmp_path / "m.jsonl", [ROWS["messages"][0]] * 2)))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: bool(events) and window.progress_bar.value() == 1, timeout=LONG)
    assert window.progress_bar.maximum() == 2 and window.stop_button.isEnabled()
    assert not window.check_button.isEnabled()
    window.stop_button.click()
    assert events[0].is_set()
    assert window.summary_label.text().startswith("Checks stopped.")
    assert window.check_button.isEnabled() and not window.stop_button.isEnabled()
    window.close()
