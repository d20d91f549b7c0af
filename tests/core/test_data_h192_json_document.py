"""A whole .json file's malformed JSON is said in words, with "To fix:" (helper-192), as 3e1a350 does for a JSON
line. Before, Python's error was cut where it gave the position: 'malformed JSON (Unterminated string starting at).'
with nothing to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import data
from tests.helpers import data_refusal, dataset_config

END = "The file must be one JSON value, e.g. a list of objects. To fix:"

# the file's text, then what the message says after "{path}, "
CASES = [
    ('[\n  {"text": "a"},\n  {"text": "b"\n]\n', "line 4, column 1: malformed JSON (a ',' was expected between "
     f"values). {END} correct line 4."),
    ('[\n  {"text": oops}\n]\n', "line 2, column 12: malformed JSON (no value where one was expected). "
     f"{END} correct line 2 (text is written in double quotes, and no comma follows the last value)."),
    ('[\n  {"text": "a\tb"}\n]\n', "line 2, column 14: malformed JSON (a control character, such as a tab, inside "
     f"a string). {END} correct line 2 (write it escaped, as \\t for a tab)."),
    ('[\n  {"text": "a"}\n]\n[{"text": "b"}]\n', "line 4, column 1: malformed JSON (more follows the end of the "
     f"file's JSON value). {END} remove what follows it from line 4, or, if the file holds one JSON object a line, "
     "name it .jsonl."),
    ('[\n  {"text": "a"},\n', "line 3, column 1: malformed JSON (the file ends before its JSON value does). "
     f"{END} complete the file: close every string, [ and {{."),
    ('[\n  {"text": "Libra: ', "line 2, column 12: malformed JSON (a string starts there and does not end). "
     f"{END} correct line 2 (a line break inside a value is written \\n)."),
]


@pytest.mark.parametrize("text, said", CASES, ids=[str(n) for n in range(len(CASES))])
def test_a_malformed_json_file_says_what_is_wrong_and_what_to_do(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "rows.json"
    path.write_text(text, encoding="utf-8")
    expected = f"{path}, {said}"
    assert [p.message for p in data.check_source(dataset_config(path))] == [expected]
    for read in (data.preview, data.load_split):
        assert data_refusal(read, dataset_config(path)) == expected
    assert "starting at)" not in expected and " at)" not in expected
