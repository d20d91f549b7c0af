"""The headless commands given odd input by a demanding user: each answer is one line that says what is wrong and
what to do next ("To fix: ..."), with the exit code README gives, and nothing of the user's is replaced."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.cli import main
from tests.helpers import lora_run
from tests.hub_fixtures import make_finished_run


def _err_line(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1, (out, err)
    return err.strip()


# ---------------------------------------------------------------------------------------------- init


def test_init_onto_a_folder_says_it_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "configs"
    folder.mkdir()
    assert main(["init", str(folder)]) == cli.EXIT_CONFIG
    assert _err_line(capsys) == (f"error: {folder} is a folder; nothing was written. To fix: give a file name in it, "
                                 f"e.g. finetune-studio init {folder / 'my-run.yaml'}")
    assert list(folder.iterdir()) == []


def test_init_with_an_empty_name_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", ""]) == cli.EXIT_CONFIG
    assert _err_line(capsys) == ("error: the file name is empty; nothing was written. To fix: give the config's file "
                                 "name, e.g. finetune-studio init my-run.yaml")
    assert list(tmp_path.iterdir()) == []


def test_init_keeps_a_link_that_points_nowhere(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A dangling link does not "exist" to Path.exists(), so init replaced the link itself with a new file."""
    link = tmp_path / "run.yaml"
    link.symlink_to(tmp_path / "elsewhere.yaml")
    assert main(["init", str(link)]) == cli.EXIT_CONFIG
    assert _err_line(capsys) == (f"error: {link} exists already; nothing was written. To fix: pick another name, or "
                                 "move that file away first.")
    assert link.is_symlink() and os.readlink(link) == str(tmp_path / "elsewhere.yaml")


def test_init_under_a_file_names_the_file_and_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """a.yaml/x.yaml: the OS says "File exists" (of a.yaml, while making the folder), which read as x.yaml's."""
    a_file = tmp_path / "a.yaml"
    a_file.write_text("keep me")
    path = a_file / "x.yaml"
    assert main(["init", str(path)]) == cli.EXIT_CONFIG
    assert _err_line(capsys) == (f"error: could not write {path}: {a_file} is a file, not a folder; nothing was "
                                 "written. To fix: pick a folder you can write to, e.g. finetune-studio init ~/x.yaml")
    assert a_file.read_text() == "keep me"


# ---------------------------------------------------------------------------------------------- runs


def test_runs_of_a_file_says_what_to_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from finetune_studio.core.config import default_runs_dir

    a_file = tmp_path / "runs.txt"
    a_file.write_text("not a folder")
    assert main(["runs", "--runs-dir", str(a_file)]) == cli.EXIT_CONFIG
    assert _err_line(capsys) == (f"error: {a_file} is a file, not a runs folder. To fix: pass the folder that holds "
                                 f"the runs with --runs-dir (the default is {default_runs_dir()}).")


def test_a_failure_of_a_command_that_trains_nothing_is_not_a_failed_training(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from finetune_studio.core import runs

    def broken(_folder: Path) -> list:
        raise ValueError("boom.")

    monkeypatch.setattr(runs, "list_runs", broken)
    assert main(["runs", "--runs-dir", str(tmp_path)]) == cli.EXIT_FAILED
    assert _err_line(capsys) == (f"error: finetune-studio runs failed: ValueError: boom (raised in {__name__}). To "
                                 "fix: check the files it reads (a config, a model or run folder) that the message "
                                 "points at; if it fails the same way again, report it with the command line and "
                                 "this message.")


def test_train_and_resume_keep_the_failed_training_wording() -> None:
    assert cli.failure_text("train", RuntimeError("bad")).startswith("Training failed: RuntimeError: bad")
    said = cli.failure_text("export", RuntimeError("bad"))
    assert said.startswith("finetune-studio export failed: RuntimeError: bad")


def test_a_run_another_process_trains_says_what_to_do() -> None:
    from finetune_studio.core.runs import describe_holder

    said = describe_holder({"pid": 4242}, "busy")
    assert said == ("The run busy is still training (process 4242). A second trainer on the same folder would mix "
                    "their checkpoints and metrics, so it was not resumed. To fix: Stop it first (Stop in its window, "
                    "or Ctrl-C in its terminal) or wait until it ends, then resume.")


# ---------------------------------------------------------------------------------------------- estimate


def test_estimate_of_a_model_transformers_cannot_build_says_so(demo_cache: Path, tmp_path: Path, runs_dir: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """num_attention_heads: 0: transformers reads the config but cannot build the model. The estimate said "error:
    Training failed: ZeroDivisionError: ..." of a command that trains nothing; validate now refuses it, in words."""
    from finetune_studio.core.config import default_config, save_config
    from finetune_studio.core.demo import demo_model_path

    model = tmp_path / "model"
    shutil.copytree(demo_model_path(), model)
    (model / "finetune_studio_demo.json").unlink(missing_ok=True)
    settings = json.loads((model / "config.json").read_text())
    settings["num_attention_heads"] = 0
    (model / "config.json").write_text(json.dumps(settings))
    config = default_config()
    config.model.name_or_path = str(model)
    path = tmp_path / "run.yaml"
    save_config(config, path)
    capsys.readouterr()
    assert main(["estimate", str(path)]) == cli.EXIT_CONFIG  # validate refuses it now (helper-105), as estimate does
    out, err = capsys.readouterr()
    assert "Training failed" not in out + err
    assert out.splitlines() == [
        "problem: model.name_or_path: transformers cannot build the qwen3 model its config.json describes: "
        "ZeroDivisionError: integer division or modulo by zero (raised in transformers.models.qwen3.modeling_qwen3). "
        "config.json sets num_attention_heads: 0, a size that must be at least 1. To fix: set it to the model's real "
        "value (copy config.json again from where the model came from).",
        "The estimate waits for a valid config: fix the problem above (the same as validate says)."]


# ---------------------------------------------------------------------------------------------- export


def test_export_of_a_run_that_trained_every_weight_says_what_to_do(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    run = make_finished_run(tmp_path / "runs")
    assert main(["export", "--adapter", str(run)]) == cli.EXIT_CONFIG
    assert _err_line(capsys) == (f"error: The run tiny-run fine-tuned every weight, so its model folder is already a "
                                 f"whole model that loads as it is: {run / 'model'}. Export is for adapter runs (LoRA, "
                                 "QLoRA, DoRA). To fix: use that folder as it is (copy it, or load it with "
                                 "AutoModelForCausalLM.from_pretrained).")


def test_a_merged_export_of_an_adapter_that_does_not_fit_says_what_does_not(
        demo_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An adapter_config.json that no longer matches the weights (r edited from 4 to 8): it said "error: Training
    failed: RuntimeError: Error(s) in loading state_dict for PeftModel: (raised in torch.nn.modules.module)"."""
    run = lora_run(tmp_path, "edited", rows=16, max_steps=1)
    adapter_config = run / "model" / "adapter_config.json"
    settings = json.loads(adapter_config.read_text())
    settings["r"] = 8
    adapter_config.write_text(json.dumps(settings))
    capsys.readouterr()
    out_dir = tmp_path / "merged"
    assert main(["export", "--merged", str(run), "--out", str(out_dir)]) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    line = err.splitlines()[-1]
    model = run / "model"
    assert line.startswith(f"error: Could not load the adapter in {model} onto its base model builtin:demo: Error(s) "
                           "in loading state_dict for PeftModelForCausalLM: size mismatch for base_model.model.")
    assert "copying a param with shape torch.Size([4, 64]) from checkpoint, the shape in current model is " \
           "torch.Size([8, 64]) (and " in line
    assert line.endswith(f"more like it). Nothing was exported. To fix: check that adapter_config.json and "
                         f"adapter_model.safetensors in {model} are the ones the run saved together (copy the run "
                         "folder again if it was copied or edited), and that its base model is the one it trained on.")
    assert "Training failed" not in err and not out_dir.exists()


def test_load_failure_reason_takes_the_line_that_says_what() -> None:
    from finetune_studio.core.adapters import load_failure_reason

    assert load_failure_reason(RuntimeError("Error(s) in loading state_dict for X:\n\tsize mismatch for a: 1.\n\t"
                                            "size mismatch for b: 2.\n\tsize mismatch for c: 3.")) == (
        "Error(s) in loading state_dict for X: size mismatch for a: 1 (and 2 more like it)")
    assert load_failure_reason(RuntimeError("Error(s) in loading state_dict for X:\n\tMissing key(s): a.")) == (
        "Error(s) in loading state_dict for X: Missing key(s): a")
    assert load_failure_reason(ValueError("one line.")) == "one line"
    assert load_failure_reason(KeyError()) == "KeyError"


# ---------------------------------------------------------------------------------------------- ~ as typed


def _adapter_run(runs: Path, model: str | None = None) -> Path:
    """A finished LoRA run as far as export reads it before loading anything: adapter files, no tokenizer."""
    from tests.hub_fixtures import safetensors_bytes

    run = make_finished_run(runs, "lora-run", model=model)
    shutil.rmtree(run / "model")
    (run / "model").mkdir()
    (run / "model" / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 4,
                                                                   "base_model_name_or_path": "org/base"}))
    (run / "model" / "adapter_model.safetensors").write_bytes(safetensors_bytes(b"lora" * 64))
    return run


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder of the test's own, and a current folder apart from it (where a literal ~ folder would go)."""
    home, here = tmp_path / "home", tmp_path / "here"
    home.mkdir()
    here.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(here)
    return home


def test_a_config_path_with_a_tilde_is_in_the_home_folder(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`finetune-studio init '~/run.yaml'` made a folder named ~ in the current folder (and said "Wrote ~/run.yaml"),
    and validate, train and estimate did not find '~/run.yaml', while runs, generate and resume read ~."""
    assert main(["init", "~/run.yaml"]) == 0
    assert capsys.readouterr().out.strip() == (f"Wrote {home / 'run.yaml'}. Run it with: finetune-studio train "
                                               f"{home / 'run.yaml'}")
    assert (home / "run.yaml").is_file() and list(Path.cwd().iterdir()) == []
    assert main(["validate", "~/run.yaml"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "ok: the config is valid."
    assert main(["init", "~/run.yaml"]) == cli.EXIT_CONFIG
    assert _err_line(capsys) == (f"error: {home / 'run.yaml'} exists already; nothing was written. To fix: pick "
                                 "another name, or move that file away first.")


def test_an_export_out_with_a_tilde_is_in_the_home_folder(home: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """`--out=~/adapter` (the shell leaves ~ after --out= as typed) was written to ./~/adapter, and the message said
    "Exported the adapter ... to ~/adapter", which the user reads as their home folder."""
    run = _adapter_run(tmp_path / "runs")
    assert main(["export", "--adapter", str(run), "--out=~/adapter"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Exported the adapter (") and f" to {home / 'adapter'}. " in out
    assert (home / "adapter" / "adapter_config.json").is_file() and list(Path.cwd().iterdir()) == []


def test_a_prompts_file_with_a_tilde_is_in_the_home_folder(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (home / "prompts.txt").write_text("\n\n", encoding="utf-8")
    assert main(["generate", str(home), "--prompts", "~/prompts.txt"]) == cli.EXIT_CONFIG
    assert _err_line(capsys) == f"error: {home / 'prompts.txt'} holds no prompts. To fix: write one prompt a line."


# ---------------------------------------------------------------------------------------------- generate --prompts


@pytest.mark.parametrize(("name", "content", "says"), [
    ("p.yaml", "- Aries\n- [a, b]\n", "prompt 2 is [a, b] (a list), not text."),
    ("p.yaml", "prompts:\n  first: Aries\n", "prompts: holds {first: Aries} (a mapping), not text."),
    ("p.json", '{"prompts": [{"text": "Aries"}]}', "prompt 1 is {text: Aries} (a mapping), not text."),
])
def test_a_prompt_that_is_not_text_is_shown_as_the_file_writes_it(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                  name: str, content: str, says: str) -> None:
    """It was shown as Python writes it: "prompt 2 is ['a', 'b'] (a list)", "{'first': 'Aries'}"."""
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert main(["generate", str(tmp_path), "--prompts", str(path)]) == cli.EXIT_CONFIG
    line = _err_line(capsys)
    assert line.startswith(f"error: {path}: {says} To fix: write each prompt as text")


def test_a_merged_export_whose_base_model_is_gone_says_where_it_was_looked_for(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It said only "error: Model folder not found: <folder>." (core.model's words for validate), no fix."""
    gone = tmp_path / "moved-model"
    run = _adapter_run(tmp_path / "runs", model=str(gone))
    out_dir = tmp_path / "merged"
    assert main(["export", "--merged", str(run), "--out", str(out_dir)]) == cli.EXIT_FAILED
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"error: The run lora-run's base model could not be loaded, so the adapter cannot be merged into it: Model "
        f"folder not found: {gone}. Nothing was exported. To fix: put the base model back where the run's "
        f"config.yaml names it (model.name_or_path: {gone}), or set model.name_or_path in {run / 'config.yaml'} to "
        "where it is now, then export again.")  # the run's own fix: core.model's is for a field the user edits
    assert not out_dir.exists()


def test_runs_folder_named_by_the_environment_that_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """It said "(the default is <that same file>)": the default is what FINETUNE_STUDIO_RUNS names."""
    a_file = tmp_path / "runs.txt"
    a_file.write_text("not a folder")
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(a_file))
    assert main(["runs"]) == cli.EXIT_CONFIG
    assert _err_line(capsys) == (f"error: {a_file} is a file, not a runs folder (FINETUNE_STUDIO_RUNS names it). To "
                                 "fix: point FINETUNE_STUDIO_RUNS at the folder that holds the runs, or pass that "
                                 "folder with --runs-dir.")


def test_runs_of_one_run_folder_names_the_folder_to_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It said "No runs in <runs>/tiny-run." (exit 0) of a folder that is a run."""
    run = make_finished_run(tmp_path / "runs")
    assert main(["runs", "--runs-dir", str(run)]) == cli.EXIT_CONFIG
    assert _err_line(capsys) == (f"error: {run} is the folder of the run tiny-run, not a runs folder. To fix: pass "
                                 f"the folder that holds the runs: finetune-studio runs --runs-dir {run.parent}")
    configs = tmp_path / "configs"  # a folder of configs, no run in it: simply no runs
    configs.mkdir()
    (configs / "config.yaml").write_text("name: x\n")
    assert main(["runs", "--runs-dir", str(configs)]) == 0
    assert capsys.readouterr().out.strip() == f"No runs in {configs}."


# ---------------------------------------------------------------------------------------------- login


@pytest.mark.parametrize(("argv", "typed", "given", "fix"), [
    (["login", "--token-stdin"], "\n", "the line read from standard input was empty",
     "pipe the token in, e.g. finetune-studio login --token-stdin < token.txt"),
    (["login"], "   ", "none was entered", "paste the token at the prompt"),
])
def test_login_without_a_token_is_bad_input_and_asks_nothing_of_the_hub(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], typed: str, given: str,
        fix: str) -> None:
    """It exited 1 (README: a failure, such as a refused Hub request) with "error: Paste a Hugging Face access token
    to log in (...)", no 'To fix:'; nothing was asked of the Hub, so it is bad input (2)."""
    import getpass
    import io

    from finetune_studio.core import hub

    asked: list[str] = []
    monkeypatch.setattr(hub, "login", lambda token: asked.append(token))
    monkeypatch.setattr(sys, "stdin", io.StringIO(typed))
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": typed)
    assert main(argv) == cli.EXIT_CONFIG
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == (f"error: no access token was given ({given}); nothing was saved. To fix: {fix} (create one at "
                       f"{hub.endpoint()}/settings/tokens).")
    assert asked == []
