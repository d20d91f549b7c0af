"""Export and push refuse what would ship something other than what the user believes (helper-45's hostile test):
a damaged saved model (weights cut short) was pushed and exported as if whole, a run training again had its
previous model shipped, an export into the run's own model folder was pushed a second time, and a parent folder
that is a file or a failed write said 'Training failed: FileExistsError'."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from finetune_studio.core import hub
from finetune_studio.core.export import ExportError, export_adapter, export_merged
from finetune_studio.core.hub import HubError
from tests.core.test_export import lora_run  # noqa: F401 - the module's finished LoRA run (a fixture)

pytestmark = pytest.mark.slow


@pytest.fixture
def run_copy(lora_run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "runs" / "copy"
    shutil.copytree(lora_run, copy)
    return copy


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_damaged_saved_model_is_neither_exported_nor_pushed(run_copy: Path, tmp_path: Path) -> None:
    weights = run_copy / "model" / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])  # cut short, as by a full disk
    before = _tree(run_copy)
    for export in (export_adapter, export_merged):
        with pytest.raises(ExportError) as refused:
            export(run_copy, tmp_path / export.__name__)
        assert str(refused.value).startswith("The saved model of the run copy is damaged: ")
        assert "Nothing was exported. To fix: put the model folder " in str(refused.value)  # core.export.model_fix
        assert str(refused.value).endswith("or train the run again under a new name (a finished run does not resume).")
        assert not (tmp_path / export.__name__).exists()
    with pytest.raises(HubError) as refused:
        hub.push_run(run_copy, repo_id="alice/copy", token="hf_" + "x" * 34)  # refused before the Hub is asked
    assert str(refused.value).startswith("The saved model of the run copy is damaged: ")
    assert "Nothing was pushed." in str(refused.value)
    assert _tree(run_copy) == before


def test_a_run_training_again_has_its_previous_model_neither_exported_nor_pushed(run_copy: Path,
                                                                                  tmp_path: Path) -> None:
    from finetune_studio.core.runs import RunFolder, RunLock

    RunFolder(run_copy).write_status("running", "Training", step=5, max_steps=9)
    with RunLock.acquire(run_copy):  # a resume holds it while it trains
        for export in (export_adapter, export_merged):
            with pytest.raises(ExportError, match=r"The run copy is training again \(process \d+, at step 5 of 9\): "
                                                  r"its model folder still holds the previous result"):
                export(run_copy, tmp_path / export.__name__)
        with pytest.raises(HubError, match=r"The run copy is training again .* Nothing was pushed\. To fix: wait"):
            hub.push_run(run_copy, repo_id="alice/copy", token="hf_" + "x" * 34)
    assert export_adapter(run_copy, tmp_path / "after").out_dir == tmp_path / "after"  # once it has ended


@pytest.mark.parametrize("inside", ["model/sub", "model", "checkpoint-2/x"])
def test_an_export_into_the_runs_model_or_checkpoint_folders_is_refused(run_copy: Path, inside: str) -> None:
    (run_copy / "checkpoint-2").mkdir(exist_ok=True)
    (run_copy / "checkpoint-2" / "trainer_state.json").write_text('{"global_step": 2}')
    before = _tree(run_copy)
    with pytest.raises(ExportError, match=r"is inside the run's (model|checkpoint-2) folder, which Resume, the Try "
                                          r"tab and a push read as they are"):
        export_adapter(run_copy, run_copy / inside)
    assert _tree(run_copy) == before


def test_an_export_under_a_file_and_a_failed_write_say_what_happened(run_copy: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    for export in (export_adapter, export_merged):
        with pytest.raises(ExportError) as refused:
            export(run_copy, blocker / "sub")
        assert str(refused.value) == (f"{blocker} is a file, not a folder, so {blocker / 'sub'} cannot be made "
                                      "inside it. To fix: choose a folder to export to (--out DIR).")

    def full_disk(self, save_directory, max_shard_size="50GB", **kwargs):
        raise OSError(28, "No space left on device")

    from transformers import PreTrainedModel

    monkeypatch.setattr(PreTrainedModel, "save_pretrained", full_disk)
    out = tmp_path / "merged"
    with pytest.raises(ExportError) as refused:
        export_merged(run_copy, out)
    assert str(refused.value) == (f"Writing the merged model to {out} failed: the disk ran out of space (No space "
                                  f"left on device). Nothing was left there. To fix: free some space on the disk that "
                                  f"holds {tmp_path}, or export to a folder on another disk (--out DIR), then export "
                                  "again.")
    assert not out.exists() and not list(tmp_path.glob(".merged*"))


def test_a_merged_export_too_big_for_the_disk_is_refused_before_the_base_model_loads(
        run_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The space check of a merged export came after loading the base model: minutes of waiting for a big one
    before the refusal (helper-45). A local base's weight files say about what the merge writes, first."""
    from collections import namedtuple

    from finetune_studio.core import export
    from finetune_studio.core import model as models

    assert export.local_base_size(run_copy) > 0  # the demo base is a local folder
    loads: list[object] = []
    monkeypatch.setattr(models, "load_model", lambda *args, **kwargs: loads.append(args))
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(export.shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 10**6, 10**6))
    with pytest.raises(ExportError, match="Not enough free disk space for the merged model"):
        export_merged(run_copy, tmp_path / "merged")
    assert loads == [] and not (tmp_path / "merged").exists()
