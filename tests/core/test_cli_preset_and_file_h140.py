"""`train`, `validate` and `estimate` given both a config file and --preset: the preset was dropped without a word
(`train my.yaml --preset seed` trained my.yaml; `validate x.yaml --preset chat-demo` said "ok" of x.yaml). Both
given is bad input, refused before anything runs (exit 2), saying which two and how to keep one."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.config import PRESETS, save_config


@pytest.mark.parametrize("command", ["train", "validate", "estimate"])
def test_a_config_file_and_a_preset_together_are_refused(tmp_path: Path, command: str, monkeypatch,
                                                         capsys) -> None:
    import finetune_studio.core.training as training

    monkeypatch.setattr(training, "run", lambda *a, **k: pytest.fail("a run started"))
    path = tmp_path / "mine.yaml"
    save_config(PRESETS["demo"](), path)
    assert cli.main([command, str(path), "--preset", "seed", "--runs-dir", str(tmp_path / "runs")]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (f"error: both a config file ({path}) and --preset seed were given; a run starts from one of them. "
                   "To fix: drop --preset to use the file, or drop the file to start from the seed preset.\n")
    assert not (tmp_path / "runs").exists()


def test_each_alone_still_validates(tmp_path: Path, capsys) -> None:
    path = tmp_path / "mine.yaml"
    save_config(PRESETS["demo"](), path)
    assert cli.main(["validate", str(path)]) == 0
    assert cli.main(["validate", "--preset", "chat-demo"]) == 0
    assert capsys.readouterr().out.splitlines().count("ok: the config is valid.") == 2


def test_the_help_says_not_both() -> None:
    train = cli._parser()._subparsers._group_actions[0].choices["train"]
    preset = next(action for action in train._actions if action.dest == "preset")
    assert preset.help == "start from a preset instead of a config file (not with one)"
