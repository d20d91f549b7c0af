"""`finetune-studio init configs/` (a trailing '/': a folder the user means to write into) is refused, exit 2,
saying to give a file name in it: Path drops the '/', so init wrote a file named 'configs', said "Wrote configs. Run
it with: finetune-studio train configs", and a later `init configs/a.yaml` could not make the folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import cli


def test_a_path_ending_with_a_slash_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["init", "configs/"]) == cli.EXIT_CONFIG
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("error: configs/ ends with '/', so it names a folder, and init writes a file; nothing was "
                            "written. To fix: give a file name in it, e.g. finetune-studio init configs/my-run.yaml "
                            "(init makes the folder)\n")
    assert list(tmp_path.iterdir()) == []
    assert cli.main(["init", "configs/my-run.yaml"]) == 0
    assert (tmp_path / "configs" / "my-run.yaml").read_text(encoding="utf-8").startswith("name: ''\n")
