"""`finetune-studio push` and `export` given something they cannot use exit 2 (bad input) with one line and no
traceback, as a bad config does; they exited 1, as if an upload or an export had failed. A failure of the Hub or
of the run's files still exits 1. A mistyped --repo is said before the Hub is asked anything. Against the local
test Hub in this process (hub_fixtures.patch_client), with runs made without training."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from finetune_studio.core import cli
from tests.hub_fixtures import WRITE, hub, make_finished_run, patch_client, safetensors_bytes  # hub: a fixture
from tests.hub_server import HubServer


def _adapter_run(runs: Path) -> Path:
    """A finished LoRA run as far as export reads it: adapter_config.json, whole adapter weights, a tokenizer."""
    run = make_finished_run(runs, "lora-run")
    shutil.rmtree(run / "model")
    (run / "model").mkdir()
    (run / "model" / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 4,
                                                                   "base_model_name_or_path": "org/base"}))
    (run / "model" / "adapter_model.safetensors").write_bytes(safetensors_bytes(b"lora" * 64))
    (run / "model" / "tokenizer_config.json").write_text("{}")
    return run


@pytest.fixture
def quiet_hub(hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    monkeypatch.setenv("HF_TOKEN", WRITE)
    return hub


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err.strip()


def test_export_of_a_run_that_trained_every_weight_is_bad_input(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    run = make_finished_run(tmp_path / "runs")
    for kind in ("--adapter", "--merged"):
        assert cli.main(["export", kind, str(run)]) == cli.EXIT_CONFIG
        assert _one_line(capsys) == (f"error: The run tiny-run fine-tuned every weight, so its model folder is "
                                     f"already a whole model that loads as it is: {run / 'model'}. Export is for "
                                     "adapter runs (LoRA, QLoRA, DoRA). To fix: use that folder as it is (copy it, "
                                     "or load it with AutoModelForCausalLM.from_pretrained).")
    assert not (run / "export-adapter").exists() and not (run / "export-merged").exists()


def test_an_out_folder_that_cannot_take_the_export_is_bad_input(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    run = _adapter_run(tmp_path / "runs")
    a_file = tmp_path / "a-file"
    a_file.write_text("keep me")
    full = tmp_path / "full"
    full.mkdir()
    (full / "mine.txt").write_text("keep me too")
    said = {
        a_file: f"error: {a_file} is a file, not a folder. To fix: choose a folder to export to (--out DIR).",
        a_file / "sub": f"error: {a_file} is a file, not a folder, so {a_file / 'sub'} cannot be made inside it. To "
                        "fix: choose a folder to export to (--out DIR).",
        full: f"error: {full} holds mine.txt and no earlier export (no model's config.json or adapter_config.json): "
              "an export replaces everything its folder holds, so none goes there. Nothing was changed. To fix: "
              "choose an empty folder or a new name, or move those files away first.",
        run / "model" / "x": f"error: {run / 'model' / 'x'} is inside the run's model folder, which Resume, the Try "
                             "tab and a push read as they are. To fix: export to a folder outside it (--out DIR), or "
                             "leave --out out for the default (export-adapter or export-merged in the run folder).",
    }
    for out, line in said.items():
        assert cli.main(["export", "--adapter", str(run), "--out", str(out)]) == cli.EXIT_CONFIG, out
        assert _one_line(capsys) == line
    assert a_file.read_text() == "keep me" and [p.name for p in full.iterdir()] == ["mine.txt"]
    assert not (run / "model" / "x").exists()
    # The same run and a usable --out: the export itself works (exit 0), so it was the --out that was refused.
    assert cli.main(["export", "--adapter", str(run), "--out", str(tmp_path / "ok")]) == 0
    assert sorted(p.name for p in (tmp_path / "ok").iterdir()) == ["adapter_config.json",
                                                                   "adapter_model.safetensors",
                                                                   "tokenizer_config.json"]


@pytest.mark.parametrize(("repo", "why"), [
    ("not a valid id!", "has characters the Hub does not allow"),
    ("noslash", "noslash is not a valid repository id: it has no owner."),
])
def test_a_mistyped_repo_is_bad_input_and_said_before_the_hub_is_asked(
        repo: str, why: str, quiet_hub: HubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = make_finished_run(tmp_path / "runs")
    assert cli.main(["push", str(run), "--repo", repo]) == cli.EXIT_CONFIG
    line = _one_line(capsys)
    assert line.startswith(f"error: {repo} is not a valid repository id: ") and why in line
    assert line.endswith("To fix: write the repository as owner/name (letters, digits, '-', '_' and '.'), or leave "
                         "it empty for <your user>/<run name>.")
    assert quiet_hub.requests == []  # not even the account check


def test_a_merged_push_of_a_run_that_trained_every_weight_is_bad_input(quiet_hub: HubServer, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    run = make_finished_run(tmp_path / "runs")
    assert cli.main(["push", str(run), "--merged"]) == cli.EXIT_CONFIG
    assert _one_line(capsys) == ("error: The run tiny-run fine-tuned every weight: its model is already whole, so "
                                 "there is no adapter to merge (a merged push is for adapter runs: LoRA, QLoRA, "
                                 "DoRA). Nothing was sent to the Hub. To fix: push it without --merged, which uploads "
                                 "the whole model as it is.")
    assert quiet_hub.requests == []


def test_the_hub_refusing_a_push_still_exits_1(quiet_hub: HubServer, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    run = make_finished_run(tmp_path / "runs")
    assert cli.main(["push", str(run), "--repo", "bob/theirs"]) == cli.EXIT_FAILED
    out, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert out == "" and len(errors) == 1 and errors[0].startswith("error: You cannot push to bob/theirs: ")
    assert "bob/theirs" not in quiet_hub.repos


@pytest.mark.parametrize("command", [["export", "--adapter"], ["push"]])
def test_a_run_with_no_saved_model_is_bad_input_for_export_and_push(
        command: list[str], quiet_hub: HubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A stopped run that never saved a model has nothing to give: the user must resume it or pick another run, as
    for a missing checkpoint (exit 2). It exited 1, the code of an export or upload that failed."""
    from finetune_studio.core.runs import RunFolder

    run = make_finished_run(tmp_path / "runs")
    shutil.rmtree(run / "model")
    RunFolder(run).write_status("stopped", "Stopped by the user.")
    assert cli.main([*command, str(run)]) == cli.EXIT_CONFIG
    doing = command[0]
    assert _one_line(capsys).startswith(f"error: The run tiny-run has no saved model to {doing} (its state is "
                                        "stopped): a run saves its model when it finishes.")
    assert quiet_hub.requests == []  # nothing was asked of the Hub
