"""The runs folder as validate judges it (helper-202): a folder name in it over 255 bytes was an OSError ("validate
failed: OSError: [Errno 36] File name too long", exit 1; train "Training failed", exit 1), not a runs_dir problem
with a "To fix:" (exit 2) as a too-long run name is."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.config import default_config
from finetune_studio.core.errors import WARNING
from finetune_studio.core.validation import validate

LONG_TEXT = ("the folder name 'aaaaaaaaaaaaaaaaaaaa…aaaaaaaa' in its path is 300 characters long (300 bytes); a folder "
             "name holds at most 255 bytes. To fix: choose a shorter name.")


def said(config) -> dict[str, str]:
    return {p.field: p.message for p in validate(config, check_files=True) if p.level != WARNING}


# ---- a folder name over 255 bytes

def test_too_long_runs_dir_is_a_runs_dir_problem(tmp_path: Path, runs_dir: Path) -> None:
    config = default_config()
    config.runs_dir = str(tmp_path / ("a" * 300))
    assert said(config)["runs_dir"] == f"Runs folder unusable: {LONG_TEXT}"
    config.runs_dir = str(tmp_path / ("é" * 130) / "runs")  # 260 bytes in 130 characters
    assert said(config)["runs_dir"] == (
        "Runs folder unusable: the folder name 'éééééééééééééééééééé…éééééééé' in its path is 130 characters long "
        "(260 bytes); a folder name holds at most 255 bytes. To fix: choose a shorter name.")
    config.runs_dir = str(tmp_path / ("a" * 255))  # at the limit: nothing to say
    assert "runs_dir" not in said(config)


def test_too_long_output_dir_said_the_same_way(tmp_path: Path, runs_dir: Path) -> None:
    config = default_config()
    config.training["output_dir"] = str(tmp_path / ("a" * 300))
    assert said(config)["training.output_dir"] == f"Output folder unusable: {LONG_TEXT}"


def test_run_name_keeps_its_words(runs_dir: Path) -> None:
    config = default_config()
    config.name = "a" * 300
    assert said(config)["name"] == ("The run name is 300 characters long (300 bytes); a folder name holds at most 255 "
                                    "bytes. To fix: choose a shorter name.")


@pytest.mark.parametrize("command", ["validate", "train"])
def test_cli_refuses_too_long_runs_dir_with_exit_2(tmp_path: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str], command: str) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main([command, "--preset", "demo", "--runs-dir", "a" * 300]) == cli.EXIT_CONFIG == 2
    captured = capsys.readouterr()
    word = "problem" if command == "validate" else "error"
    assert f"{word}: runs_dir: Runs folder unusable: {LONG_TEXT}" in captured.out + captured.err
    assert "OSError" not in captured.out + captured.err
    assert "Training failed" not in captured.out + captured.err
    assert list(tmp_path.iterdir()) == []  # no folder was made


# ---- a runs folder FINETUNE_STUDIO_RUNS names is said as the variable's

ENV_FIX = ("To fix: point FINETUNE_STUDIO_RUNS at the folder that holds the runs, or pass that folder with --runs-dir "
           "(in the window: the Training tab's Runs folder).")


def test_variable_naming_a_file_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    Path("somefile").write_text("x")
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", "somefile")
    assert said(default_config())["runs_dir"] == (
        f"Runs folder unusable (FINETUNE_STUDIO_RUNS names it): somefile is a file, not a folder. {ENV_FIX}")
    assert cli.main(["validate", "--preset", "demo"]) == 2
    assert capsys.readouterr().out == (f"problem: runs_dir: Runs folder unusable (FINETUNE_STUDIO_RUNS names it): "
                                       f"somefile is a file, not a folder. {ENV_FIX}\n")
    # the runs command says the same file the same way
    assert cli.main(["runs"]) == 2
    assert "(FINETUNE_STUDIO_RUNS names it)" in capsys.readouterr().err


def test_runs_dir_given_is_not_said_as_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    Path("somefile").write_text("x")
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(tmp_path / "runs"))
    assert cli.main(["validate", "--preset", "demo", "--runs-dir", "somefile"]) == 2
    assert capsys.readouterr().out == ("problem: runs_dir: Runs folder unusable: somefile is a file, not a folder. To "
                                       "fix: choose a folder, or a path where one can be made.\n")
    config = default_config()
    config.runs_dir = "somefile"  # the config's own runs_dir: its field says it
    assert said(config)["runs_dir"] == ("Runs folder unusable: somefile is a file, not a folder. To fix: choose a "
                                        "folder, or a path where one can be made.")


def test_variable_naming_a_too_long_folder_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(tmp_path / ("a" * 300)))
    assert said(default_config())["runs_dir"] == (
        f"Runs folder unusable (FINETUNE_STUDIO_RUNS names it): {LONG_TEXT.partition(' To fix:')[0]} {ENV_FIX}")


# ---- a run's own folder given as the runs folder by the variable or the config's runs_dir

WHY = ("is the folder of the run envrun, not a runs folder: a new run would be made inside it, where no runs list "
       "shows it.")


@pytest.fixture
def envrun(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    folder = Path("runs/envrun")
    folder.mkdir(parents=True)
    (folder / "status.json").write_text('{"state": "completed"}')
    return folder


def test_variable_naming_a_run_is_refused_before_training(envrun: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", "runs/envrun")
    text = (f"Runs folder unusable (FINETUNE_STUDIO_RUNS names it): runs/envrun {WHY} To fix: point "
            f"FINETUNE_STUDIO_RUNS at the folder that holds the runs (export FINETUNE_STUDIO_RUNS=runs), or pass that "
            f"folder with --runs-dir runs (in the window: the Training tab's Runs folder).")
    assert said(default_config())["runs_dir"] == text
    assert cli.main(["validate", "--preset", "demo", "--name", "inner", "--set", "max_steps=1"]) == 2
    assert capsys.readouterr().out.splitlines()[0] == f"problem: runs_dir: {text}"
    assert cli.main(["train", "--preset", "demo", "--name", "inner", "--set", "max_steps=1"]) == 2
    assert f"error: runs_dir: {text}" in capsys.readouterr().err
    assert sorted(p.name for p in envrun.iterdir()) == ["status.json"]  # no run 'inner' made inside it


def test_config_runs_dir_naming_a_run_is_refused(envrun: Path, runs_dir: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    Path("c.yaml").write_text("runs_dir: runs/envrun\n")
    text = (f"Runs folder unusable: the config's runs_dir 'runs/envrun' {WHY} To fix: set runs_dir to the folder that "
            f"holds the runs: runs_dir: runs")
    assert cli.main(["validate", "c.yaml"]) == 2
    assert capsys.readouterr().out == f"problem: runs_dir: {text}\n"
    config = default_config()
    config.runs_dir = str(envrun.absolute())
    assert said(config)["runs_dir"] == (
        f"Runs folder unusable: the config's runs_dir '{envrun.absolute()}' {WHY} To fix: set runs_dir to the folder "
        f"that holds the runs: runs_dir: {envrun.absolute().parent}")


def test_runs_folder_and_config_only_folder_still_accepted(envrun: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", "runs")  # the folder that holds envrun: fine
    assert "runs_dir" not in said(default_config())
    Path("configs").mkdir()
    Path("configs/config.yaml").write_text("name: x\n")  # a config.yaml alone is no run (as for --runs-dir)
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", "configs")
    assert "runs_dir" not in said(default_config())
    config = default_config()
    config.runs_dir = "runs/envrun"
    assert "runs_dir" not in {p.field for p in validate(config, check_files=False)}  # no file checks: not looked at


# ---- a folder a run writes inside its own (checkpoint-N, model/, ranks/) given as the runs folder

INSIDE = ("is inside the {} folder of the run envrun, not a runs folder: a new run would be made inside it, where no "
          "runs list shows it.")


def test_a_checkpoint_of_a_run_given_as_the_runs_folder_is_refused(envrun: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """It was accepted: train made its new run in runs/envrun/checkpoint-5/<name>, which no runs list shows (the
    `runs` command alone said so, and only when the folder held no runs)."""
    (envrun / "checkpoint-5").mkdir()
    assert cli.main(["validate", "--preset", "demo", "--runs-dir", "runs/envrun/checkpoint-5"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: --runs-dir runs/envrun/checkpoint-5 {INSIDE.format('checkpoint-5')} To fix: pass the folder that "
        "holds the runs: --runs-dir runs"]
    assert cli.main(["train", "--preset", "demo", "--name", "inner", "--set", "max_steps=1",
                     "--runs-dir", "runs/envrun/checkpoint-5/"]) == 2
    assert list((envrun / "checkpoint-5").iterdir()) == []  # no run 'inner' made inside the checkpoint
    config = default_config()
    config.runs_dir = "runs/envrun/model/sub"  # deeper inside, through its model folder
    assert said(config)["runs_dir"] == (f"Runs folder unusable: the config's runs_dir 'runs/envrun/model/sub' "
                                        f"{INSIDE.format('model')} To fix: set runs_dir to the folder that holds the "
                                        "runs: runs_dir: runs")


def test_a_runs_folder_below_an_unrelated_status_file_is_accepted(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the folders a run writes count: a project folder that happens to hold a status.json or metrics.jsonl of
    another tool does not make every folder below it a run's."""
    monkeypatch.chdir(tmp_path)
    Path("project/runs").mkdir(parents=True)
    Path("project/status.json").write_text('{"state": "finished"}')
    Path("project/metrics.jsonl").write_text("{}\n")
    config = default_config()
    config.runs_dir = "project/runs"
    assert "runs_dir" not in said(config)
    config.runs_dir = "project/checkpoint-3"  # named as a run's checkpoint is: refused, as it would be in a run
    assert said(config)["runs_dir"].startswith("Runs folder unusable: the config's runs_dir 'project/checkpoint-3' "
                                               "is inside the checkpoint-3 folder of the run project")
