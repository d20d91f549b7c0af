"""A malformed JSON line is said in words, with "To fix:" (helper-190). Before, Python's error was cut where it gave
the position, so an unterminated string read "malformed JSON line (Unterminated string starting at). Each line must
be one JSON object." (a dangling 'at', and nothing to do). The column is the message's own; the words say what is
wrong there; a first line that ends before its object does (a pretty-printed object saved as .jsonl) is told to be
named .json, which reads it."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from finetune_studio.core import data
from tests.helpers import data_refusal, dataset_config

GOOD = b'{"text": "Aries: a bold day."}\n'
END = "Each line must be one JSON object. To fix:"

# the broken line (the file's second), then what the message says after "{path}, line 2, column N: "
CASES = [
    ('{"text": "Libra: ', "column 10: malformed JSON line (a string starts there and does not end on this line). "
     f"{END} correct line 2 (a line break inside a value is written \\n) or remove it."),
    ('{"text": oops}', "column 10: malformed JSON line (no value where one was expected). "
     f"{END} correct line 2 (text is written in double quotes, and no comma follows the last value) or remove it."),
    ("{'text': 'x'}", "column 2: malformed JSON line (a name in double quotes was expected). "
     f"{END} correct line 2 (names are written in double quotes, and no comma follows the last value) or remove it."),
    ('{"text" "x"}', "column 9: malformed JSON line (a ':' was expected after a name). "
     f"{END} correct line 2 or remove it."),
    ('{"text": "x" "n": 1}', "column 14: malformed JSON line (a ',' was expected between values). "
     f"{END} correct line 2 or remove it."),
    ('{"text": "a"} {"text": "b"}', "column 15: malformed JSON line (more follows the end of the object). "
     f"{END} correct line 2 (each object goes on a line of its own) or remove it."),
    ('{"text": "C:\\q"}', "column 13: malformed JSON line (a backslash that starts no escape). "
     f"{END} correct line 2 (a backslash in text is written \\\\) or remove it."),
    ('{"text": "\\u12"}', "column 12: malformed JSON line (a \\u escape without 4 hex digits). "
     f"{END} correct line 2 or remove it."),
    ('{"text": "a\tb"}', "column 12: malformed JSON line (a control character, such as a tab, inside a string). "
     f"{END} correct line 2 (write it escaped, as \\t for a tab) or remove it."),
    ('{"text": "a", "n": 1,', "column 22: malformed JSON line (the line ends before its object does). "
     f"{END} complete line 2 or remove it."),
]


@pytest.mark.parametrize("line, said", CASES, ids=[c[0] for c in CASES])
def test_a_malformed_line_says_what_is_wrong_and_what_to_do(tmp_path: Path, line: str, said: str) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_bytes(GOOD + line.encode() + b"\n" + GOOD)
    expected = f"{path}, line 2, {said}"
    assert [p.message for p in data.check_source(dataset_config(path))] == [expected]
    for read in (data.preview, data.load_split):
        assert data_refusal(read, dataset_config(path)) == expected


def test_a_pretty_printed_object_saved_as_jsonl_is_told_to_be_named_json(tmp_path: Path) -> None:
    body = b'{\n  "text": "Aries: a bold day."\n}\n'
    path = tmp_path / "one.jsonl"
    path.write_bytes(body)
    assert data_refusal(data.preview, dataset_config(path)) == (
        f"{path}, line 1, column 2: malformed JSON line (the line ends before its object does). Each line must be "
        "one JSON object. To fix: complete line 1 or remove it, or, if the file is one JSON object over several "
        "lines, not one per line, name it .json.")
    renamed = path.rename(tmp_path / "one.json")  # the advice, followed, reads it
    assert [row["text"] for row in data.preview(dataset_config(renamed)).rows] == ["Aries: a bold day."]
    # inside an archive the file's own suffix counts; a .json file whose first line is whole is JSON lines, so its
    # cut second line gets no advice to be named .json
    packed = tmp_path / "rows.zip"
    with zipfile.ZipFile(packed, "w") as handle:
        handle.writestr("rows/one.jsonl", body)
    assert data_refusal(data.preview, dataset_config(packed)).endswith(", name it .json.")
    lines = tmp_path / "lines.json"
    lines.write_bytes(GOOD + b'{"text": "cut\n')
    assert data_refusal(data.preview, dataset_config(lines)).endswith(
        f"{END} correct line 2 (a line break inside a value is written \\n) or remove it.")
