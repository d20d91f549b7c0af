"""An empty config argument (`finetune-studio train "$CONFIG"` with CONFIG unset) is refused with exit 2: it was
taken for no config at all, so `train ''` trained the built-in demo and `validate ''` said the config is valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import cli


@pytest.mark.parametrize("command", ["train", "validate", "estimate"])
def test_an_empty_config_is_refused_before_anything_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str], command: str) -> None:
    from finetune_studio.core import training

    def trained(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a run was started")

    monkeypatch.setattr(training, "run", trained)
    assert cli.main([command, "", "--runs-dir", str(tmp_path / "runs")]) == cli.EXIT_CONFIG
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f"error: the config file name is empty (''); nothing was read. To fix: give the config "
                            f"file, e.g. finetune-studio {command} my-run.yaml, or leave it out to use the built-in "
                            "demo (or --preset NAME).\n")
    assert not (tmp_path / "runs").exists()


def test_no_config_still_validates_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "ok: the config is valid."
