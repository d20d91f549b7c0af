"""The headless CLI's rough edges (helper-156): an empty --name or --runs-dir dropped without a word, `-` as the
config (standard input) read as a file named "-" with the advice `init -`, and `estimate` of a Hub model the machine
cannot download exiting 2 (bad input) where README's table says 1 (it failed)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from finetune_studio.core import cli, hub_access
from finetune_studio.core.cli import main
from finetune_studio.core.config import from_yaml


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert out == "", out
    return err.strip()


# ---------------------------------------------------------------------------------------------- empty --name


@pytest.mark.parametrize("command", ["validate", "train", "estimate"])
def test_an_empty_name_is_refused_with_the_way_forward(command: str, runs_dir: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--name", ""]) == cli.EXIT_CONFIG
    assert _err(capsys) == ("error: --name is empty (--name ''); it names the run's folder, and an empty one names "
                            "none. To fix: give one, e.g. --name my-run, or leave --name out (the config's name, or "
                            "a generated one when it has none).")
    assert not runs_dir.exists()  # train made no run folder


def test_a_blank_runs_dir_is_refused_for_a_config_and_for_the_listing(runs_dir: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--runs-dir", " "]) == cli.EXIT_CONFIG
    assert _err(capsys) == ("error: --runs-dir is empty (--runs-dir ' '); it is the folder that holds the runs, and "
                            "an empty one names none. To fix: give one, e.g. --runs-dir ~/runs, or leave --runs-dir "
                            "out (the config's runs_dir, else the default runs folder).")
    for command in ("runs", "doctor"):
        assert main([command, "--runs-dir", ""]) == cli.EXIT_CONFIG
        assert _err(capsys) == ("error: --runs-dir is empty (--runs-dir ''); it is the folder that holds the runs, "
                                "and an empty one names none. To fix: give one, e.g. --runs-dir ~/runs, or leave "
                                "--runs-dir out (the default runs folder).")


# ---------------------------------------------------------------------------------------------- `-`: standard input


def test_init_dash_writes_the_config_to_stdout_and_validate_dash_reads_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "-", "--preset", "chat-demo"]) == 0
    text = capsys.readouterr().out
    assert from_yaml(text)[0].dataset.source == "builtin:chat"
    assert list(tmp_path.iterdir()) == []  # no file named "-"
    _stdin(monkeypatch, text.encode("utf-8"))
    assert main(["validate", "-"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "ok: the config is valid."


def test_validate_dash_with_nothing_piped_in_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    _stdin(monkeypatch, b"# only a comment\n")
    assert main(["validate", "-"]) == cli.EXIT_CONFIG
    line = _err(capsys)
    assert line == ("error: the config read from standard input is empty: it holds no settings. To fix: pipe a "
                    "config in (e.g. finetune-studio validate - < my-run.yaml), or give the config file's name, or "
                    "leave the config out to use the built-in demo.")
    assert "init -" not in line  # it advised writing a file named "-" with `finetune-studio init -`
    monkeypatch.setattr("sys.stdin", None)
    assert main(["train", "-"]) == cli.EXIT_CONFIG
    assert _err(capsys) == ("error: the config is - (standard input), and standard input is closed; nothing was "
                            "read. To fix: pipe a config in (e.g. finetune-studio train - < my-run.yaml), or give "
                            "the config file's name.")


def test_validate_dash_names_a_typo_as_a_file_does(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    _stdin(monkeypatch, b"nam: x\n")
    assert main(["validate", "-"]) == cli.EXIT_CONFIG
    assert _err(capsys).splitlines()[0] == ("error: nam: 'nam' is not a top-level setting. Did you mean 'name'? To "
                                            "fix: rename it to name.")
    _stdin(monkeypatch, b"\xff\xfe")
    assert main(["validate", "-"]) == cli.EXIT_CONFIG
    assert _err(capsys) == ("error: the config read from standard input is not UTF-8 text (invalid start byte at "
                            "line 1). To fix: save the config as UTF-8 and pipe it in again.")


def test_launch_command_needs_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["launch-command", "-"]) == cli.EXIT_CONFIG
    assert _err(capsys) == ("error: launch-command needs the config as a file (-, standard input, was given): every "
                            "machine's line names that file. To fix: save the config first (e.g. finetune-studio "
                            "init - > run.yaml, or your own YAML), copy it to every machine, and give its name.")


# ---------------------------------------------------------------------------------------------- estimate, no Hub


def test_estimate_of_a_hub_model_it_cannot_download_fails_with_exit_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    hub_access._CACHE.clear()
    try:
        code = main(["estimate", "--set", "model.name_or_path=nobody-here/not-cached-model"])
    finally:
        hub_access._CACHE.clear()
    assert code == cli.EXIT_FAILED  # README: 1, it failed; 2 is for bad input, and the config is right
    assert _err(capsys) == ("error: Cannot reach the Hugging Face Hub (http://127.0.0.1:9) to load the config of "
                            "'nobody-here/not-cached-model': it is not in the local cache, so it must be downloaded. "
                            "To fix: pick a local model folder or the built-in demo model, or check your network "
                            "connection or proxy (or HF_ENDPOINT) and try again. A model in the local Hugging Face "
                            "cache, or in a local folder, is estimated without the Hub.")


def test_shell_word_is_the_one_quoting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`runs` on a run's own folder quotes the folder to pass with shell_word, as every other command line does."""
    runs = tmp_path / "my runs"
    run = runs / "tiny"
    run.mkdir(parents=True)
    (run / "status.json").write_text('{"state": "finished"}')
    assert main(["runs", "--runs-dir", str(run)]) == cli.EXIT_CONFIG
    assert _err(capsys).endswith(f"finetune-studio runs --runs-dir '{runs}'")
    assert "shlex.quote" not in Path(cli.__file__).read_text().replace("return shlex.quote(str(path))", "")


def test_runs_of_a_folder_that_does_not_exist_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A mistyped --runs-dir read "No runs in <it>." as if it were an empty runs folder."""
    assert main(["runs", "--runs-dir", str(tmp_path / "rnus")]) == 0
    assert capsys.readouterr().out == (f"No runs in {tmp_path / 'rnus'}: the folder does not exist (yet; the first run "
                                       "there makes it).\n")
    assert main(["runs", "--runs-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"No runs in {tmp_path}.\n"


def _runs_folder(tmp_path: Path) -> Path:
    runs = tmp_path / "my runs"
    for name, started in (("old", 1.0), ("new", 2.0)):
        (runs / name).mkdir(parents=True)
        (runs / name / "status.json").write_text(f'{{"state": "finished", "started": {started}}}')
        (runs / name / "config.yaml").write_text("name: " + name + "\n")
    return runs


def test_generate_given_the_runs_folder_names_its_runs_as_resume_does(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """generate said "neither a run folder (no config.yaml) nor a model folder" of the folder that holds the runs;
    resume, export and push name the runs in it (core.runs.run_folder_problem), and so does generate now."""
    runs = _runs_folder(tmp_path)
    assert main(["generate", str(runs), "--prompt", "hi"]) == cli.EXIT_CONFIG
    said = _err(capsys)
    assert said == (f"error: {runs} is not a run folder: it holds runs (2, e.g. new). To fix: give one run's folder, "
                    f"e.g. '{runs / 'new'}'; `finetune-studio runs --runs-dir '{runs}'` lists them.")
    assert main(["resume", str(runs)]) == cli.EXIT_CONFIG
    assert _err(capsys) == said


def _interrupted(*args: object, **kwargs: object) -> None:
    raise KeyboardInterrupt


def test_a_ctrl_c_says_what_it_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """"error: aborted (Ctrl-C)." said nothing of an export's destination (core.export deletes its partial folder
    and leaves the destination as it was), nor that validate and estimate had changed nothing."""
    monkeypatch.setattr(cli, "_export", _interrupted)
    assert main(["export", "--adapter", "my run", "--out", str(tmp_path / "out dir")]) == cli.EXIT_FAILED
    # a destination the export was to make is said as not left (ecc3f38), one that holds files as holding them
    assert _err(capsys) == (f"error: aborted (Ctrl-C): nothing was exported (no {tmp_path / 'out dir'} was left) and "
                            f"the run is unchanged. To fix: run finetune-studio export --adapter 'my run' "
                            f"--out '{tmp_path / 'out dir'}' again.")
    monkeypatch.setattr(cli, "_load", _interrupted)
    for command in ("validate", "estimate"):
        assert main([command]) == cli.EXIT_FAILED
        assert _err(capsys) == "error: aborted (Ctrl-C): it only reads, so nothing was changed."


@pytest.mark.parametrize(("argv", "said"), [
    (["validate", "--set", "learning_rate", "1e-4"],
     "--set learning_rate has no '=', so the 1e-4 after it was read as the config file, and there is no such file. "
     "To fix: join them with '=': --set learning_rate=1e-4"),
    (["train", "--set", "model.name_or_path", "my model"],
     "--set model.name_or_path has no '=', so the 'my model' after it was read as the config file, and there is no "
     "such file. To fix: join them with '=': --set 'model.name_or_path=my model'"),
])
def test_set_with_a_space_for_the_equals_sign_says_so(argv: list[str], said: str, tmp_path: Path, runs_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """The value was taken for the config file: "Config file not found: 1e-4 ... write a new config there with
    'finetune-studio init 1e-4'"."""
    monkeypatch.chdir(tmp_path)
    assert main(argv) == cli.EXIT_CONFIG
    assert _err(capsys) == f"error: {said}"
    assert list(tmp_path.iterdir()) == []


def test_a_run_folder_given_as_runs_dir_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`validate --runs-dir RUNS/run` said ok, and `train` made the new run inside that run's folder."""
    runs = _runs_folder(tmp_path)
    for command in ("validate", "train"):
        assert main([command, "--runs-dir", str(runs / "new")]) == cli.EXIT_CONFIG
        assert _err(capsys) == (f"error: --runs-dir '{runs / 'new'}' is the folder of the run new, not a runs "
                                "folder: a new run would be made inside it, where no runs list shows it. To fix: pass "
                                f"the folder that holds the runs: --runs-dir '{runs}'")
    assert sorted(p.name for p in (runs / "new").iterdir()) == ["config.yaml", "status.json"]
