"""A --prompts file that is not UTF-8 text (a Latin-1 file, or a model's weights given by mistake) is said as such,
with the line, as the config read from standard input is: it was "Cannot read the prompts file …: 'utf-8' codec
can't decode byte 0xa0 in position 0: invalid start byte"."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.test_generate_cli import cli, no_loading  # noqa: F401 - a fixture


@pytest.mark.parametrize("content, reason, line", [(b"ok\n\xe9t\xe9\n", "invalid continuation byte", 2),
                                                    (b"\xa0\x00\x00\x00{\"__metadata__\"", "invalid start byte", 1)])
def test_a_prompts_file_that_is_not_utf8_says_so_and_where(tmp_path: Path, no_loading, capsys, content: bytes,
                                                            reason: str, line: int) -> None:
    path = tmp_path / "prompts.txt"
    path.write_bytes(content)
    code, out, err = cli(capsys, str(tmp_path), "--prompts", str(path))
    assert (code, out) == (2, "")
    assert err == (f"error: {path} is not UTF-8 text ({reason} at line {line}); a prompts file is text, one prompt a "
                   "line. To fix: save it as UTF-8 (or give the text file of prompts, not a model or data file).\n")
