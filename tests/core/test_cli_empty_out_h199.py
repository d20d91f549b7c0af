"""An empty `export --out` or `launch-command --run-dir` (most often an empty shell variable: --out "$OUT") is refused
with exit 2, as an empty --name or --runs-dir is: `export RUN --adapter --out ''` wrote the export to the run's
export-adapter folder and `launch-command run.yaml --run-dir ''` printed lines for the default run folder, without a
word."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import cli


def fail(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("the command went ahead")


@pytest.mark.parametrize("out", ["", "  "])
def test_an_empty_out_is_refused_before_the_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str], out: str) -> None:
    from finetune_studio.core import export

    monkeypatch.setattr(export, "export_run", fail)
    monkeypatch.setattr(cli, "require_run_folder", fail)
    run = tmp_path / "run"
    assert cli.main(["export", str(run), "--adapter", "--out", out]) == cli.EXIT_CONFIG
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f"error: --out is empty (--out '{out}'); it names the folder the export is written to, "
                            f"and an empty one names none. To fix: give one, e.g. --out ~/exported, or leave --out "
                            f"out (the default: {run}/export-adapter).\n")
    assert list(tmp_path.iterdir()) == []


def test_an_empty_run_dir_is_refused_before_any_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "run.yaml"
    assert cli.main(["init", str(config)]) == 0
    capsys.readouterr()
    assert cli.main(["launch-command", str(config), "--run-dir", ""]) == cli.EXIT_CONFIG
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("error: --run-dir is empty (--run-dir ''); it is the run folder on every machine, and an "
                            "empty one names none. To fix: give one, e.g. --run-dir ~/runs/my-run, or leave --run-dir "
                            "out (the default: the config's runs folder and run name).\n")
    assert cli.main(["launch-command", str(config), "--run-dir", str(tmp_path / "r d")]) == 0
    assert f"worker '{tmp_path}/r d' --config {config}" in capsys.readouterr().out
