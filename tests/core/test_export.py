"""Export of a finished LoRA run (core.export, `finetune-studio export`): the merged model loads with transformers
alone (peft made unimportable in a child process) and computes what the adapter on its base computes; the adapter
alone loads with AutoPeftModelForCausalLM; too little disk space is refused before anything is written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import cli
from finetune_studio.core.export import ExportError, export_adapter, export_merged
from tests import helpers
from tests.helpers import ROOT

PROMPT = "Aries: today the stars"

# A child process in which `import peft` fails and transformers sees no peft (sys.modules entry None), as on a
# machine where it was never installed. It prints the merged model's logits for PROMPT and a pipeline's output.
NO_PEFT = r"""
import json, sys
sys.modules["peft"] = None
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline
from transformers.utils import is_peft_available
assert not is_peft_available()
folder, prompt = sys.argv[1], sys.argv[2]
model = AutoModelForCausalLM.from_pretrained(folder)
tokenizer = AutoTokenizer.from_pretrained(folder)
with torch.no_grad():
    logits = model(**tokenizer(prompt, return_tensors="pt")).logits[0, -1]
generator = pipeline("text-generation", model=folder)
text = generator(prompt, max_new_tokens=5, do_sample=False)[0]["generated_text"]
print(json.dumps({"logits": logits.tolist(), "dtype": str(model.dtype), "text": text,
                  "peft": "peft" in sys.modules and sys.modules["peft"] is not None}))
"""


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory: pytest.TempPathFactory, demo_cache: Path) -> Path:
    return helpers.lora_run(tmp_path_factory.mktemp("export"), "lora-run", rows=120, max_steps=4)


def adapter_logits(run_dir: Path) -> list[float]:
    """What the run's adapter on its base model computes for PROMPT (peft, unmerged)."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_dir = run_dir / "model"
    base_path = json.loads((model_dir / "adapter_config.json").read_text())["base_model_name_or_path"]
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_path), str(model_dir)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    with torch.no_grad():
        return model(**tokenizer(PROMPT, return_tensors="pt")).logits[0, -1].tolist()


@pytest.mark.slow
def test_merged_model_loads_without_peft_and_computes_what_the_adapter_does(lora_run: Path, tmp_path: Path) -> None:
    import torch

    out = tmp_path / "merged"
    result = export_merged(lora_run, out)
    assert result.out_dir == out and "loads without peft" in result.message
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= set(result.files)
    assert not any(name.startswith("adapter_") for name in result.files)
    child = subprocess.run([sys.executable, "-c", NO_PEFT, str(out), PROMPT], capture_output=True, text=True,
                           cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert child.returncode == 0, child.stderr[-2000:]
    loaded = json.loads(child.stdout.strip().splitlines()[-1])
    assert loaded["peft"] is False and loaded["dtype"] == "torch.float32"  # the demo base is saved in float32
    assert loaded["text"].startswith(PROMPT) and len(loaded["text"]) > len(PROMPT)
    expected = torch.tensor(adapter_logits(lora_run))
    got = torch.tensor(loaded["logits"])
    assert torch.allclose(got, expected, atol=1e-4), (got - expected).abs().max()
    base = json.loads((lora_run / "model" / "adapter_config.json").read_text())["base_model_name_or_path"]
    from transformers import AutoModelForCausalLM

    plain = AutoModelForCausalLM.from_pretrained(base)  # the adapter changed something: merged is not the base
    merged = AutoModelForCausalLM.from_pretrained(str(out))
    layer = "model.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(plain.get_parameter(layer), merged.get_parameter(layer))


@pytest.mark.slow
def test_adapter_export_loads_with_auto_peft_model(lora_run: Path, tmp_path: Path) -> None:
    import torch
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoTokenizer

    out = tmp_path / "adapter"
    code = cli.main(["export", str(lora_run), "--adapter", "--out", str(out)])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["adapter_config.json", "adapter_model.safetensors",
                                                      "tokenizer.json", "tokenizer_config.json"]
    model = AutoPeftModelForCausalLM.from_pretrained(str(out)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(out))
    with torch.no_grad():
        logits = model(**tokenizer(PROMPT, return_tensors="pt")).logits[0, -1]
    assert torch.allclose(logits, torch.tensor(adapter_logits(lora_run)), atol=1e-6)
    # A second export to the same folder is refused: nothing is overwritten without asking.
    assert cli.main(["export", str(lora_run), "--adapter", "--out", str(out)]) == cli.EXIT_CONFIG  # bad input: --out


@pytest.mark.slow
def test_too_little_disk_space_is_refused_before_anything_is_written(lora_run: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture) -> None:
    import shutil
    from collections import namedtuple

    from finetune_studio.core import export

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(export.shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 10**6, 10**6))
    for kind, fn in (("merged", export_merged), ("adapter", export_adapter)):
        out = tmp_path / kind
        with pytest.raises(ExportError) as caught:
            fn(lora_run, out)
        assert "Not enough free disk space" in str(caught.value) and "1.0 MB free" in str(caught.value)
        assert "--out DIR" in str(caught.value)
        assert not out.exists() and not list(tmp_path.glob(f".{kind}*"))
    assert cli.main(["export", str(lora_run), "--merged", "--out", str(tmp_path / "cli")]) == cli.EXIT_FAILED
    assert "Not enough free disk space for the merged model" in capsys.readouterr().err
    monkeypatch.setattr(export.shutil, "disk_usage", shutil.disk_usage)


@pytest.mark.slow
@pytest.mark.parametrize("shard_size", [None, "100KB"])  # None: save_pretrained's default, one file for the demo
def test_a_merged_push_lists_the_files_the_merge_really_writes(lora_run: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               shard_size: str | None) -> None:
    """The push dialog's list for a merged push (made before anything merges) names each file, with its size, that
    the merge writes and the push uploads: with small shards, model-0000i-of-0000n.safetensors and the index."""
    from finetune_studio.core import export, hub
    from finetune_studio.core.model_card import MODEL

    monkeypatch.setattr(export, "MAX_SHARD_SIZE", shard_size)
    listed = hub.plan_push(lora_run, form=hub.PUSH_MERGED)
    result = export_merged(lora_run, tmp_path / "merged")
    written = set(result.files)
    shards = sorted(name for name in written if name.startswith("model-"))
    if shard_size:
        assert "model.safetensors.index.json" in written and "model.safetensors" not in written
        assert len(shards) >= 2 and shards[-1] == f"model-{len(shards):05d}-of-{len(shards):05d}.safetensors"
        index = json.loads((result.out_dir / "model.safetensors.index.json").read_text())
        assert sorted(set(index["weight_map"].values())) == shards
    else:
        assert "model.safetensors" in written and not shards
    # What a push of that merged folder uploads (push_run merges into a scratch folder the same way): every file,
    # the same bytes, the run's adapter files no more.
    uploaded = sorted((item.path_in_repo, item.size) for item in hub._plan(lora_run, model_dir=result.out_dir,
                                                                          form=MODEL))
    assert listed == uploaded
    assert written <= {name for name, _ in listed} and not any(name.startswith("adapter_") for name, _ in listed)


def test_a_full_fine_tuning_run_has_nothing_to_export(tmp_path: Path) -> None:
    from finetune_studio.core.config import default_config, save_config

    run_dir = tmp_path / "full"
    (run_dir / "model").mkdir(parents=True)
    save_config(default_config(), run_dir / "config.yaml")
    (run_dir / "model" / "config.json").write_text("{}")
    with pytest.raises(ExportError, match="already a whole model that loads as it is"):
        export_merged(run_dir)
    (run_dir / "model" / "config.json").unlink()
    with pytest.raises(ExportError, match="has no saved model to export"):
        export_adapter(run_dir)


def test_merging_is_refused_while_a_run_trains_in_this_process(lora_run: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The window's Push dialog (merged) and Export dialog merge in the window's process. While a run of that
    process trains, loading the base model there would set torch's default dtype under the run (from_pretrained
    builds under transformers' local_torch_dtype) and take its memory: refused before anything loads, with the
    way forward."""
    from finetune_studio.core import model as models
    from finetune_studio.core import shared_state

    loads: list[Any] = []
    monkeypatch.setattr(models, "load_model", lambda *args, **kwargs: loads.append(args))
    with shared_state.training_owns_process_state(), pytest.raises(ExportError) as refused:
        export_merged(lora_run, tmp_path / "merged")
    assert "To fix: export the adapter alone now (it needs no merge), or wait until that run ends" in str(refused.value)
    assert loads == [] and not (tmp_path / "merged").exists()


@pytest.mark.slow
@pytest.mark.parametrize("export", [export_adapter, export_merged])
@pytest.mark.parametrize("overwrite", [False, True])
def test_an_export_onto_a_file_says_it_is_a_file_and_leaves_it(lora_run: Path, tmp_path: Path, export,
                                                               overwrite: bool) -> None:
    target = tmp_path / "taken"
    target.write_bytes(b"")  # an empty file: it was called "exists already and is not empty"
    with pytest.raises(ExportError) as refused:
        export(lora_run, target, overwrite=overwrite)
    assert str(refused.value) == f"{target} is a file, not a folder. To fix: choose a folder to export to (--out DIR)."
    assert target.is_file() and target.read_bytes() == b""
