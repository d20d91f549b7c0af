"""A hostile user's exports (helper-161): a run whose adapter_config.json or tokenizer is damaged, a base model on
the Hub that is no longer in the cache with no network, a disk that fills while the merged model is written over an
earlier export, and the merged export's greedy tokens against the run's adapter on its base."""

from __future__ import annotations

import errno
import functools
import json
import shutil
from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.export import ExportError, export_run
from tests import helpers

PROMPT = "Aries: today the stars"


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory: pytest.TempPathFactory, demo_cache: Path) -> Path:
    return helpers.lora_run(tmp_path_factory.mktemp("hostile"), "lora-run", rows=60, max_steps=2)


def _copy(run: Path, tmp_path: Path, name: str) -> Path:
    copy = tmp_path / "runs" / name
    shutil.copytree(run, copy)
    return copy


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("kind", ["adapter", "merged"])
def test_an_unreadable_adapter_config_is_said_as_damage_not_as_a_missing_folder(lora_run, tmp_path, kind):
    run = _copy(lora_run, tmp_path, "edited")
    (run / "model" / "adapter_config.json").write_text("{not json", encoding="utf-8")
    before = _files(run / "model")
    with pytest.raises(ExportError) as caught:
        export_run(run, kind, tmp_path / "out")
    assert str(caught.value) == (
        "The saved model of the run edited is damaged: its adapter_config.json is not valid JSON (Expecting property "
        "name enclosed in double quotes: line 1 column 2 (char 1)). Nothing was exported. To fix: put "
        f"{run / 'model' / 'adapter_config.json'} back from a copy of the run (the file as the run saved it), or train "
        "the run again under a new name (a finished run does not resume).")
    assert not caught.value.bad_input
    assert not (tmp_path / "out").exists()
    assert _files(run / "model") == before


def test_an_empty_adapter_config_from_the_command_line(lora_run, tmp_path, capsys):
    run = _copy(lora_run, tmp_path, "emptied")
    (run / "model" / "adapter_config.json").write_bytes(b"")
    assert cli.main(["export", "--adapter", "--out", str(tmp_path / "out"), str(run)]) == 1
    err = capsys.readouterr().err
    assert "its adapter_config.json is empty. Nothing was exported." in err
    assert "missing or empty (moved or deleted since)" not in err


@pytest.mark.parametrize("kind", ["adapter", "merged"])
def test_a_damaged_tokenizer_is_refused_before_it_is_copied_or_blamed_on_the_adapter(lora_run, tmp_path, kind):
    """A merge said "Could not load the adapter … check that adapter_config.json and adapter_model.safetensors …";
    an adapter export copied the broken tokenizer.json and said it had exported the adapter."""
    run = _copy(lora_run, tmp_path, "tok")
    (run / "model" / "tokenizer.json").write_text('{"version": "1.0", "trunc', encoding="utf-8")
    with pytest.raises(ExportError) as caught:
        export_run(run, kind, tmp_path / "out")
    text = str(caught.value)
    assert text.startswith("The saved model of the run tok is damaged: its tokenizer.json is not valid JSON (")
    assert text.endswith("), so its tokenizer does not load. Nothing was exported. To fix: put "
                         f"{run / 'model' / 'tokenizer.json'} back from a copy of the run (the file as the run saved "
                         "it), or train the run again under a new name (a finished run does not resume).")
    assert "adapter_model.safetensors" not in text
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_a_damaged_tokenizer_fix_names_the_checkpoint_that_holds_a_good_copy(lora_run, tmp_path):
    run = _copy(lora_run, tmp_path, "tokck")
    checkpoint = helpers.checkpoint(run, 2)  # a complete one, as the Trainer leaves it
    shutil.copy2(run / "model" / "tokenizer.json", checkpoint / "tokenizer.json")
    (run / "model" / "tokenizer.json").write_bytes(b"")
    with pytest.raises(ExportError) as caught:
        export_run(run, "adapter", tmp_path / "out")
    assert str(caught.value).endswith(
        f"its tokenizer.json is empty, so its tokenizer does not load. Nothing was exported. To fix: copy "
        f"{checkpoint / 'tokenizer.json'} into {run / 'model'}/ (cp {checkpoint / 'tokenizer.json'} {run / 'model'}/), "
        "then try again; or train the run again.")


def _on_a_hub_base(run: Path, name: str) -> None:
    config = run / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("builtin:demo", name), encoding="utf-8")
    helpers.update_json(run / "model" / "adapter_config.json", base_model_name_or_path=name)


def test_a_hub_base_gone_from_the_cache_is_said_at_once_with_this_runs_fix(lora_run, tmp_path, monkeypatch):
    """Without network, loading it went through transformers' adapter look-up in the base's repository, which
    ignores local_files_only: ~25 s of 'Retrying in 8s' lines before the refusal, whose fix was to pick another
    model (the built-in demo), which is no fix for exporting this run."""
    from finetune_studio.core import hub_access
    from finetune_studio.core import model as models

    run = _copy(lora_run, tmp_path, "gone")
    _on_a_hub_base(run, "someorg/tiny-gone")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub_access, "hub_reachable", lambda timeout=3.0: False)
    loaded = []
    monkeypatch.setattr(models, "load_model", lambda *args, **kwargs: loaded.append(args) or 1 / 0)
    with pytest.raises(ExportError) as caught:
        export_run(run, "merged", tmp_path / "out")
    assert loaded == []
    assert str(caught.value) == (
        "The run gone's base model could not be loaded, so the adapter cannot be merged into it: Cannot reach the "
        "Hugging Face Hub (https://huggingface.co) to load the base model 'someorg/tiny-gone': it is not in the local "
        "cache, so it must be downloaded. Nothing was exported. To fix: set model.name_or_path in "
        f"{run / 'config.yaml'} to a folder holding a copy of someorg/tiny-gone, or check your network connection or "
        "proxy (or HF_ENDPOINT) and try again.")
    assert not (tmp_path / "out").exists()


def test_a_hub_base_gone_from_the_cache_in_offline_mode(lora_run, tmp_path, monkeypatch):
    run = _copy(lora_run, tmp_path, "offline")
    _on_a_hub_base(run, "someorg/tiny-gone")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ExportError) as caught:
        export_run(run, "merged", tmp_path / "out")
    assert ("offline mode is on (HF_HUB_OFFLINE) and it is not in the local cache, so it cannot be downloaded. Nothing "
            f"was exported. To fix: set model.name_or_path in {run / 'config.yaml'} to a folder holding a copy of "
            "someorg/tiny-gone, or unset HF_HUB_OFFLINE") in str(caught.value)


def test_a_disk_that_fills_while_the_merged_model_is_written_keeps_the_earlier_export(lora_run, tmp_path,
                                                                                       monkeypatch):
    import transformers

    out = tmp_path / "merged"
    export_run(lora_run, "merged", out)
    before = _files(out)
    save = transformers.PreTrainedModel.save_pretrained

    @functools.wraps(save)
    def fills(self, folder, *args, **kwargs):
        save(self, folder, *args, **kwargs)  # written in full into the hidden folder, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(transformers.PreTrainedModel, "save_pretrained", fills)
    with pytest.raises(ExportError) as caught:
        export_run(lora_run, "merged", out, overwrite=True)
    assert caught.value.kind == "no_space"
    assert f"{out} still holds what it held before (nothing of it was replaced). To fix: free some space" in \
        str(caught.value)
    assert _files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["merged"]  # no hidden .merged.partial-… left


def test_the_merged_export_generates_the_runs_greedy_tokens_with_plain_transformers(lora_run, tmp_path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    result = export_run(lora_run, "merged", tmp_path / "merged")
    merged = AutoModelForCausalLM.from_pretrained(str(result.out_dir)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(result.out_dir))
    base_path = json.loads((lora_run / "model" / "adapter_config.json").read_text())["base_model_name_or_path"]
    adapted = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_path), str(lora_run / "model"))
    inputs = tokenizer(PROMPT, return_tensors="pt")
    with torch.no_grad():
        exported = merged.generate(**inputs, max_new_tokens=10, do_sample=False)[0].tolist()
        trained = adapted.eval().generate(**inputs, max_new_tokens=10, do_sample=False)[0].tolist()
    assert exported == trained
    assert len(exported) > inputs["input_ids"].shape[1]
    assert merged.dtype == torch.float32
    assert json.loads((result.out_dir / "config.json").read_text())["dtype"] == "float32"
    assert f", in float32) to {result.out_dir}. It loads without peft" in result.message


def test_the_merged_export_says_the_dtype_the_run_chose_which_it_is_saved_in(lora_run, tmp_path):
    """model.dtype bfloat16 over a float32 base: the export is bfloat16 (half the size), and said so."""
    import torch
    from transformers import AutoModelForCausalLM

    run = _copy(lora_run, tmp_path, "bf16")
    config = run / "config.yaml"
    text = config.read_text(encoding="utf-8")
    assert "  dtype: auto\n" in text
    config.write_text(text.replace("  dtype: auto\n", "  dtype: bfloat16\n", 1), encoding="utf-8")
    result = export_run(run, "merged", tmp_path / "merged")
    assert result.message.startswith("Exported the merged model (") and ", in bfloat16) to " in result.message
    assert json.loads((result.out_dir / "config.json").read_text())["dtype"] == "bfloat16"
    assert AutoModelForCausalLM.from_pretrained(str(result.out_dir), dtype="auto").dtype == torch.bfloat16


def test_a_full_run_is_refused_with_its_model_folder_which_loads_and_generates_as_the_run_saved_it(
        tmp_path, demo_cache, capsys):
    """Export is for adapter runs: a full run's `export --merged` exits 2 naming its model folder, and that folder
    loads with plain transformers and answers with the trained weights (not the base's greedy tokens)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from finetune_studio.core.config import ModelConfig
    from finetune_studio.core.demo import demo_model_path
    from finetune_studio.core.model import load_model
    from finetune_studio.core.training import run as train

    data = tmp_path / "small.jsonl"
    data.write_text("\n".join(helpers.SAMPLE.read_text(encoding="utf-8").splitlines()[:40]) + "\n", encoding="utf-8")
    config = helpers.small_config(data, tmp_path / "runs", max_steps=2, eval_strategy="no", save_strategy="no",
                                  load_best_model_at_end=False, learning_rate=1e-2)
    config.name = "full-run"
    result = train(config)
    assert result.state == "finished", result.message
    model_dir = Path(result.run_dir) / "model"
    assert cli.main(["export", "--merged", "--out", str(tmp_path / "out"), str(result.run_dir)]) == 2
    assert (f"fine-tuned every weight, so its model folder is already a whole model that loads as it is: {model_dir}."
            in capsys.readouterr().err)
    assert not (tmp_path / "out").exists()

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    inputs = tokenizer(PROMPT, return_tensors="pt")

    def greedy(model):
        with torch.no_grad():
            return model.eval().generate(**inputs, max_new_tokens=10, do_sample=False)[0].tolist()

    plain = greedy(AutoModelForCausalLM.from_pretrained(str(model_dir)))
    assert plain == greedy(load_model(ModelConfig(name_or_path=str(model_dir))))  # as the app loads the run's model
    assert plain != greedy(AutoModelForCausalLM.from_pretrained(str(demo_model_path())))  # trained, not the base


def test_a_merged_export_cancelled_while_it_is_written_keeps_the_earlier_export(lora_run, tmp_path):
    """Cancel pressed while the merged model is saved: the save finishes into the hidden folder, which is deleted,
    and the earlier export stays as it was."""
    import threading

    out = tmp_path / "merged"
    export_run(lora_run, "merged", out)
    before = _files(out)
    cancel, lines = threading.Event(), []

    def progress(line: str) -> None:
        lines.append(line)
        if line.startswith("Saving the merged model"):
            cancel.set()

    with pytest.raises(ExportError) as caught:
        export_run(lora_run, "merged", out, overwrite=True, progress=progress, cancel=cancel)
    assert caught.value.kind == "cancelled" and not caught.value.bad_input
    assert str(caught.value) == (f"The export of the merged model to {out} was cancelled: nothing of it was written. "
                                 f"{out} still holds what it held before. To export it, press Export again.")
    assert lines[-1] == f"Saving the merged model to {out}"
    assert _files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["merged"]


def test_an_export_cancelled_before_the_base_loads_loads_nothing(lora_run, tmp_path, monkeypatch):
    import threading

    from finetune_studio.core import model as models

    monkeypatch.setattr(models, "load_model", lambda *args, **kwargs: 1 / 0)
    cancel = threading.Event()
    cancel.set()
    for kind, what in (("merged", "merged model"), ("adapter", "adapter")):
        with pytest.raises(ExportError) as caught:
            export_run(lora_run, kind, tmp_path / kind, cancel=cancel)
        assert str(caught.value) == (f"The export of the {what} to {tmp_path / kind} was cancelled: nothing of it was "
                                     "written. To export it, press Export again.")
    assert list(tmp_path.iterdir()) == []
