"""`export --checkpoint N` (and `push --checkpoint N`) of a run still training in another process, whose
save_total_limit deletes checkpoint-N while it is being read (helper-217). The export failed with exit 1 and "Writing
the adapter to OUT failed (FileNotFoundError: …). Nothing was left there. To fix: choose another folder (--out DIR)",
which no folder fixes. Now it says that the run removed the checkpoint while it was copied (its save_total_limit
keeps only the newest K), that nothing was left, and the checkpoints the run has now, as they are typed; exit 1
still (README: a failure, as an export of a run another process trains, not bad input: it was whole when given).
The Trainer's deletion is done here as the Trainer does it (shutil.rmtree), from the copy of the export's first file;
its newer save (checkpoint-3) is a copy of checkpoint-2 saying step 3. Real tiny runs: a stopped LoRA run with
checkpoints 1 and 2 and no model/."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from finetune_studio.core import cli, export
from finetune_studio.core import hub as core_hub
from tests.helpers import hold_like_another_process, stopped_lora_run
from tests.hub_fixtures import WRITE, hub, patch_client  # hub: a fixture
from tests.hub_server import HubServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stopped(tmp_path_factory: pytest.TempPathFactory, demo_cache: Path) -> Path:
    return stopped_lora_run(tmp_path_factory.mktemp("h217 removed"))


@pytest.fixture
def training(stopped: Path, tmp_path: Path):
    """A copy of the stopped run with save_total_limit 2 in its config.yaml, held as a run another process trains."""
    run = tmp_path / "runs" / "stopped-run"
    shutil.copytree(stopped, run)
    config = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
    config.setdefault("training", {})["save_total_limit"] = 2
    (run / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    fd = hold_like_another_process(run)
    yield run
    os.close(fd)


def _rotate(run: Path, removed: int = 1) -> None:
    """What the Trainer does on saving checkpoint-3 with save_total_limit 2: the new one, then the oldest deleted."""
    newer = run / "checkpoint-3"
    shutil.copytree(run / "checkpoint-2", newer)
    state = json.loads((newer / "trainer_state.json").read_text())
    (newer / "trainer_state.json").write_text(json.dumps({**state, "global_step": 3}))
    shutil.rmtree(run / f"checkpoint-{removed}")


def _rotate_after_first_copy(monkeypatch: pytest.MonkeyPatch, run: Path) -> list[str]:
    copied: list[str] = []
    real = export._copy

    def copy(source: Path, target: Path) -> None:
        real(source, target)
        copied.append(source.name)
        if len(copied) == 1:
            _rotate(run)

    monkeypatch.setattr(export, "_copy", copy)
    return copied


def _hidden_and_exports(run: Path) -> list[str]:
    return sorted(p.name for p in run.iterdir() if p.name.startswith(("export-", ".")))


def test_export_of_a_checkpoint_the_run_deletes_meanwhile_says_so_with_those_it_has_now(
        training: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    run = training
    copied = _rotate_after_first_copy(monkeypatch, run)
    assert cli.main(["export", "--adapter", str(run), "--checkpoint", "1"]) == cli.EXIT_FAILED
    out, err = capsys.readouterr()
    assert copied == ["adapter_config.json"] and out == ""
    assert err.splitlines() == [
        f"error: checkpoint-1 of the run stopped-run was removed while it was being copied: the run trains in another "
        f"process, and its save_total_limit (2) keeps only its newest 2 checkpoints, so it deleted checkpoint-1 when "
        f"it saved a newer one. Nothing was exported: nothing was left in {run / 'export-adapter-checkpoint-1'}. To "
        f"fix: give --checkpoint 2 or --checkpoint 3 (finetune-studio export --adapter {run} --checkpoint 3). Or "
        "export its final model once the run finishes."]
    assert _hidden_and_exports(run) == []  # nothing left: no export folder, no hidden partial one
    monkeypatch.undo()
    capsys.readouterr()
    assert cli.main(["export", "--adapter", str(run), "--checkpoint", "3"]) == 0  # the fix, as said
    assert _hidden_and_exports(run) == ["export-adapter-checkpoint-3"]


def test_the_core_error_carries_its_kind_and_choices_and_an_earlier_export_is_kept(
        training: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    run = training
    out = tmp_path / "mine"
    export.export_run(run, export.ADAPTER, out, checkpoint=2)  # an earlier export, replaced by the next one
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    _rotate_after_first_copy(monkeypatch, run)
    with pytest.raises(export.ExportError) as failed:
        export.export_run(run, export.ADAPTER, out, overwrite=True, checkpoint=1)
    assert (failed.value.kind, failed.value.choices, failed.value.bad_input) == (export.CHECKPOINT_REMOVED, (2, 3),
                                                                                  False)
    assert str(failed.value).endswith(
        f"a newer one. Nothing was exported: {out} still holds what it held before. To fix: pick a whole one: "
        "--checkpoint 2 or 3. Or export its final model once the run finishes.")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_checkpoint_deleted_while_no_run_trains_is_said_as_deleted_meanwhile(
        stopped: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "runs" / "stopped-run"
    shutil.copytree(stopped, run)
    real = export._copy
    monkeypatch.setattr(export, "_copy", lambda source, target: (real(source, target),
                                                                  shutil.rmtree(run / "checkpoint-2")))
    with pytest.raises(export.ExportError) as failed:
        export.export_run(run, export.ADAPTER, checkpoint=2)
    assert str(failed.value) == (
        "checkpoint-2 of the run stopped-run was removed while it was being copied: it was deleted meanwhile, by "
        f"another program or by hand. Nothing was exported: nothing was left in {run / 'export-adapter-checkpoint-2'}."
        " To fix: pick a whole one: --checkpoint 1. Or export another run's model.")


def test_merged_export_of_a_checkpoint_deleted_while_the_base_loaded_says_so(
        training: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from finetune_studio.core import adapters

    run = training
    real = adapters.load_adapter

    def load_adapter(base, model_dir):
        _rotate(run)
        return real(base, model_dir)

    monkeypatch.setattr(adapters, "load_adapter", load_adapter)
    assert cli.main(["export", "--merged", str(run), "--checkpoint", "1"]) == cli.EXIT_FAILED
    err = capsys.readouterr().err.splitlines()
    assert err[:-1] == ["Loading the base model builtin:demo…",  # its progress, then the one line of its failure
                        "Loading the adapter of checkpoint-1 and merging it into the base model…"]
    assert err[-1:] == [
        f"error: checkpoint-1 of the run stopped-run was removed while it was being merged into its base model: the "
        f"run trains in another process, and its save_total_limit (2) keeps only its newest 2 checkpoints, so it "
        f"deleted checkpoint-1 when it saved a newer one. Nothing was exported: nothing was left in "
        f"{run / 'export-merged-checkpoint-1'}. To fix: give --checkpoint 2 or --checkpoint 3 (finetune-studio export "
        f"--merged {run} --checkpoint 3). Or export its final model once the run finishes."]
    assert _hidden_and_exports(run) == []


@pytest.fixture
def quiet_hub(hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    monkeypatch.setenv("HF_TOKEN", WRITE)
    return hub


def test_push_of_a_checkpoint_the_run_deletes_while_it_is_staged_says_so(
        training: Path, quiet_hub: HubServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Deleted between the push's first file staged and the next: it was said as the staging folder that could not
    be written ("To fix: make /tmp writable")."""
    run = training
    real = core_hub._link_or_copy
    staged: list[str] = []

    def link_or_copy(source, target, *args, **kwargs):
        real(source, target, *args, **kwargs)
        staged.append(source.name)
        if len(staged) == 1:
            _rotate(run)

    monkeypatch.setattr(core_hub, "_link_or_copy", link_or_copy)
    assert cli.main(["push", str(run), "--checkpoint", "1"]) == cli.EXIT_FAILED
    out, err = capsys.readouterr()
    assert staged == ["adapter_model.safetensors"] and out == ""
    assert err.splitlines()[-1] == (
        "error: checkpoint-1 of the run stopped-run was removed while it was being prepared for upload: the run trains "
        "in another process, and its save_total_limit (2) keeps only its newest 2 checkpoints, so it deleted "
        "checkpoint-1 when it saved a newer one. The repository alice/stopped-run-checkpoint-1 exists on the Hub, but "
        f"no files were uploaded to it. To fix: give --checkpoint 2 or --checkpoint 3 (finetune-studio push {run} "
        "--checkpoint 3). Or push its final model once the run finishes.")
    assert quiet_hub.repos["alice/stopped-run-checkpoint-1"].files == {}


def test_push_of_a_checkpoint_the_run_deletes_once_it_is_staged_uploads_it_whole(
        training: Path, quiet_hub: HubServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The push staged the run's files as links: a checkpoint deleted once they were staged left links to nothing,
    which the upload skipped without a word: 'Pushed 8 files' of a repository that got README.md,
    adapter_config.json, loss_curve.svg, metrics.jsonl and trainer_state.json, and no weights. A checkpoint's files
    are staged as their contents now, so the push uploads them whole."""
    run = training
    weights = (run / "checkpoint-1" / "adapter_model.safetensors").read_bytes()
    real = core_hub._stage

    def stage(items, staging, *args):
        real(items, staging, *args)
        _rotate(run)

    monkeypatch.setattr(core_hub, "_stage", stage)
    assert cli.main(["push", str(run), "--checkpoint", "1"]) == 0
    repo = quiet_hub.repos["alice/stopped-run-checkpoint-1"]
    said = capsys.readouterr().out
    assert said == f"Pushed {len(repo.files)} files to {quiet_hub.url}/alice/stopped-run-checkpoint-1\n"
    assert not (run / "checkpoint-1").exists() and repo.files["adapter_model.safetensors"] == weights
    assert {"tokenizer.json", "tokenizer_config.json"} <= set(repo.files)
