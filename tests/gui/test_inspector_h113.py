"""The Dataset Inspector window on odd data (helper-113): a row that cannot be trained is shown as the data holds
it with why and what to do, plain text found by detection is called plain text, one row is '1 row', and what a run
refuses in the settings (a missing text column, a test split one row cannot hold) is listed in validate's words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel

from finetune_studio.core.config import RunConfig
from finetune_studio.gui.forms.common import ERROR_COLOR, WARNING_COLOR
from finetune_studio.gui.inspector import InspectorWindow
from tests.core.test_inspector_h113 import config_for, jsonl
from tests.gui.test_app import LONG

OK = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
PARTS = {"messages": [{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                                   {"type": "image", "url": "cat.png"}]},
                      {"role": "assistant", "content": "A cat"}]}


pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


def open_window(qtbot: Any, config: RunConfig) -> InspectorWindow:
    window = InspectorWindow(config)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.labeled is not None and window.checks is not None, timeout=LONG)
    return window


def problem_texts(window: InspectorWindow) -> list[tuple[str, str]]:
    return [(w.objectName(), w.findChild(QLabel).text()) for w in window.problem_widgets()]


def test_a_row_that_cannot_be_trained_shows_the_row_as_written_why_and_the_fix(qtbot: Any, demo_cache: Path,
                                                                                tmp_path: Path) -> None:
    """Content in parts (multimodal style): the row showed an empty token box, 'Row 2: 0 tokens: 0 trained' and
    core.chat's words alone, in the warning colour, with nothing to do."""
    window = open_window(qtbot, config_for(jsonl(tmp_path / "parts.jsonl", [OK, PARTS])))
    window.show_row(1)
    qtbot.waitUntil(lambda: window.counts_label.text().startswith("Row 2"), timeout=LONG)
    assert window.counts_label.text() == "Row 2: no tokens (it cannot be trained)."
    shown = window.token_view.toPlainText()
    assert shown.startswith("This row gives no tokens. Here it is as the data holds it:")
    assert json.loads(shown.split(":", 1)[1]) == PARTS
    assert window.row_problems_label.isVisible()
    # text parts are joined now (helper-152); the image part is what the row cannot be trained for
    assert window.row_problems_label.text() == (
        "Row 2 cannot be trained: message 1 (user) of column 'messages' has a part of type 'image' in its 'content' "
        "(part 2 of 2); this app trains on text only. To fix: remove the image parts (or the rows that need them), "
        "keeping the text parts such as {\"type\": \"text\", \"text\": \"Hi\"}, and a run refuses the data while it "
        "is in it.")
    assert ERROR_COLOR in window.row_problems_label.styleSheet()
    # Back to a row that trains: its tokens, and the warning colour again for its notes.
    window.show_row(0)
    qtbot.waitUntil(lambda: window.counts_label.text().startswith("Row 1"), timeout=LONG)
    assert window.counts_label.text() == "Row 1: 21 tokens: 5 trained · 13 masked: prompt · 3 special"
    assert not window.row_problems_label.isVisible()
    window.close()


def test_plain_text_without_its_column_says_so_once(qtbot: Any, demo_cache: Path, tmp_path: Path) -> None:
    """Detected plain text was titled 'Chat template: ' (nothing after it), and the default text column missing from
    the data was '2 rows could not be rendered ... or pick another chat template'."""
    path = jsonl(tmp_path / "plain.jsonl", [{"text": "hello world"}, {"text": "more"}])
    window = open_window(qtbot, config_for(path))
    assert window.template_label.text() == "Plain text: no chat template; every token is trained."
    assert problem_texts(window) == [("problem_refused", f"{path}: there is no column 'horoscope'. Columns: text. "
                                      "To fix: pick the column that holds the text (Text column in the Dataset tab, "
                                      "or dataset.text_column).")]
    window.close()


def test_one_row_is_one_row_and_its_test_split_is_refused(qtbot: Any, demo_cache: Path, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "one.jsonl", [OK])
    window = open_window(qtbot, config_for(path))
    assert window.status_label.text().startswith(f"{path} · 1 row · messages (role/content)")
    assert window.summary_label.text().startswith("1 row · 5 trained tokens of 21;")
    assert "prompt + system tokens" in window.histogram.legend.text()  # a chat's prompt tokens are drawn in grey
    assert sum(window.histogram.prompt.opts["height"]) == 1
    assert problem_texts(window) == [("problem_refused", f"{path} holds 1 row, too few to hold out a test split "
                                      "(that needs 2 or more). Add rows, or set test_size to 0 (and eval_strategy "
                                      "to 'no').")]
    window.close()


def test_a_blank_plain_text_row_says_a_run_leaves_it_out(qtbot: Any, demo_cache: Path, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "blank.jsonl", [{"text": ""}, {"text": "hello world"}, {"text": "  \t "}, {"text": "more"}])
    window = open_window(qtbot, config_for(path, text_column="text", test_size=0.0))
    assert window.counts_label.text() == "Row 1: blank, a run leaves it out."
    assert window.row_problems_label.text() == (
        "Row 1 is blank: its text is empty, only spaces, or gives no tokens, so a run leaves it out (its log says how "
        "many). To fix, if it should hold text: fill it in, or remove it from the data.")
    assert WARNING_COLOR in window.row_problems_label.styleSheet()
    assert [name for name, _ in problem_texts(window)] == ["problem_blank"]
    # Spaces give tokens with the demo tokenizer, yet a run leaves the row out (core.data.is_blank): said the same.
    window.show_row(2)
    qtbot.waitUntil(lambda: window.counts_label.text().startswith("Row 3:"), timeout=10_000)
    assert window.counts_label.text() == "Row 3: blank, a run leaves it out."
    assert window.row_problems_label.text().startswith("Row 3 is blank: its text is empty, only spaces, or gives ")
    assert window.token_view.toPlainText().startswith("This row is blank, so a run leaves it out. Here it is as the "
                                                      "data holds it:")
    assert "rows 1, 3" in dict(problem_texts(window))["problem_blank"]
    # Plain text trains every token: no grey bar of every row at 0 prompt tokens, and the legend names green only.
    assert "prompt" not in window.histogram.legend.text() and "trained tokens" in window.histogram.legend.text()
    assert list(window.histogram.prompt.opts["height"]) == [0] * len(window.histogram.edges[1:])
    assert sum(window.histogram.trained.opts["height"]) == 2  # the two rows with text
    window.close()


def test_plain_prompt_completion_rows_are_not_said_to_use_a_chat_template(qtbot: Any, demo_cache: Path,
                                                                          tmp_path: Path) -> None:
    """The rows render without a template (no ChatML token among them), as a run renders them and says in its
    log; the window's header said 'Chat template: chatml — ChatML: the tokenizer has no template' in the warning
    colour."""
    rows = [{"prompt": "The sky is", "completion": " blue."}, {"prompt": "Two and two make", "completion": " four."}]
    window = open_window(qtbot, config_for(jsonl(tmp_path / "pc.jsonl", rows)))
    assert window.inspector.format == "prompt_completion"
    assert "".join(text for text, _ in window.pieces) == "The sky is blue.<|endoftext|>"
    assert window.template_label.text() == (
        "No chat template: prompt and completion are plain text, joined as they are, with the EOS token after the "
        "completion (as TRL does).")
    assert WARNING_COLOR not in window.template_label.styleSheet()
    window.close()


@pytest.mark.parametrize("length", [1_000, 100_000])
def test_a_value_of_one_long_word_does_not_widen_the_window(qtbot: Any, demo_cache: Path, tmp_path: Path,
                                                            length: int) -> None:
    """An unknown role of 100,000 characters is quoted in the row's problem and in the whole-dataset problem; a
    label wraps only between words, so both asked for its whole width: the window shown at 1100 px grew to
    981,599 px. Long words are cut in the middle now, with the whole text as the tooltip where it is not huge."""
    role = "w" * length
    rows = [OK, {"messages": [{"role": "user", "content": "Hi"}, {"role": role, "content": "?"}]}]
    window = open_window(qtbot, config_for(jsonl(tmp_path / "role.jsonl", rows)))
    window.show_row(1)
    qtbot.waitUntil(lambda: window.counts_label.text().startswith("Row 2"), timeout=LONG)
    qtbot.wait(50)
    assert window.width() == 1100
    [(_, problem)] = problem_texts(window)
    cut = f"'{'w' * 49}…{'w' * 48}';"  # 50 characters from each end of the word "'www…www';"
    assert problem.startswith(f"1 of 2 rows cannot be trained (row 2: message 2 of column 'messages' has the unknown "
                              f"role {cut} known roles: assistant,")
    whole = window.inspector.row_message(1, window.inspector.raw_row(1), window.labeled)
    assert window.row_problems_label.text() == whole.replace(f"'{role}';", cut)
    assert window.row_problems_label.toolTip() == (whole if length == 1_000 else "")
    window.close()


def test_a_latin1_file_read_as_cp1252_shows_its_accents(qtbot: Any, demo_cache: Path, tmp_path: Path) -> None:
    """The brief's Latin-1 file: refused in words until its encoding is set (the Dataset tab's Encoding), then its
    accents drawn as written: the view drew 'caf�� cr��me br��l��e' (each byte token decoded on its own)."""
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"text": "café crème brûlée"}\n{"text": "plain"}\n'.encode("latin-1"))
    window = InspectorWindow(config_for(path, text_column="text"))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.error_label.isVisible(), timeout=LONG)
    assert window.status_label.text() == "Nothing to inspect."
    assert window.error_label.text() == (
        f"{path}, line 1, column 14: byte 0xe9 is not UTF-8 text. It looks like cp1252: set the dataset's encoding to "
        "cp1252 (Encoding in the Dataset tab, or dataset.encoding in the config), or save the file as UTF-8.")
    window.close()
    window = open_window(qtbot, config_for(path, text_column="text", encoding="cp1252"))
    assert window.token_view.toPlainText().replace("\u200b", "") == "café crème brûlée"
    assert window.inspector.row(0).text == "café crème brûlée"
    window.close()


def ticks(window: InspectorWindow) -> list[str]:
    return [label.text() for label in window.problems_scroll.findChildren(QLabel) if label.text().startswith("✔")]


def test_plain_text_without_problems_is_not_said_to_have_replies(qtbot: Any, demo_cache: Path, tmp_path: Path) -> None:
    window = open_window(qtbot, config_for(jsonl(tmp_path / "plain.jsonl", [{"text": "a b"}, {"text": "c"}]),
                                           text_column="text"))
    assert ticks(window) == ["✔ No problems: every row trains something, and none is cut by max_length."]
    window.close()
    window = open_window(qtbot, config_for(jsonl(tmp_path / "chat.jsonl", [OK, OK])))
    assert ticks(window) == ["✔ No problems: every row trains something, no reply is cut, every reply trains its end."]
    window.close()
