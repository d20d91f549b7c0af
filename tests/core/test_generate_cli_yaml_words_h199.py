"""A --prompts file YAML cannot read is refused in one line that says where it broke: yaml's own text, with its
excerpt of the file and a caret, went into the message whole, so `error: …` ran over six lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.test_generate_cli import cli, no_loading  # noqa: F401 - a fixture

FIX = ("To fix: correct line {line}, or write the prompts as a list, one a line (- Aries:), or as plain text in a .txt "
       "file, one prompt a line.")


@pytest.mark.parametrize("name, content, says, line", [
    ("bad.json", "{bad", "at line 1, column 5: expected ',' or '}', but got '<stream end>'", 1),
    ("open.yaml", "- [a\n- b\n", "at line 3, column 1: expected ',' or ']', but got '<stream end>' (while parsing a "
                                 "flow sequence that starts at line 1, column 3)", 3),
])
def test_a_broken_prompts_file_is_said_in_one_line(tmp_path: Path, no_loading, capsys, name: str, content: str,
                                                   says: str, line: int) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    code, out, err = cli(capsys, str(tmp_path), "--prompts", str(path))
    assert (code, out) == (2, "")
    assert err == f"error: {path} is not valid YAML/JSON {says}. {FIX.format(line=line)}\n"
