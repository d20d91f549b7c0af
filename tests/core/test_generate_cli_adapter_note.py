"""`finetune-studio generate` on an adapter run whose base model's generation_config.json sets a value outside
core.generate.LIMITS: the note names the base model's file, the one read (the adapter goes onto the base weights;
a generation_config.json in the adapter's folder, as a chat run saves one, is not read), as the Try tab's does.

The run is a real LoRA adapter (peft, not trained) saved over a copy of the demo model's real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.test_generate_cli_model_defaults_note import generate, notes
from tests.helpers import demo_model_copy, update_json


def adapter_run(runs: Path, name: str, base: Path) -> Path:
    """A run folder as a LoRA run's training leaves it: config.yaml naming `base`, and model/ holding a real
    adapter (adapter_config.json, its weights) with the tokenizer, over `base`."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from finetune_studio.core.config import default_config, save_config

    run_dir = runs / name
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base),
                           LoraConfig(r=4, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    model.save_pretrained(run_dir / "model")
    AutoTokenizer.from_pretrained(base).save_pretrained(run_dir / "model")
    config = default_config()
    config.model.name_or_path = str(base)
    config.adapter.method, config.adapter.r = "lora", 4
    save_config(config, run_dir / "config.yaml")
    return run_dir


def adapter_run_with_bad_base(root: Path) -> Path:
    """An adapter run whose base samples with temperature -1 and top_k 17, and whose adapter folder has a
    generation_config.json of its own (temperature 0.5, top_k 33) that nothing reads."""
    base = demo_model_copy(root / "base", do_sample=True, temperature=-1.0, top_k=17)
    run_dir = adapter_run(root / "runs", "tiny-lora", base)
    (run_dir / "model" / "generation_config.json").write_text((base / "generation_config.json").read_text())
    update_json(run_dir / "model" / "generation_config.json", temperature=0.5, top_k=33)
    return run_dir


@pytest.mark.slow
def test_an_adapter_runs_note_names_the_base_models_file(demo_cache: Path, tmp_path: Path, capsys,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: 'note: The model's generation_config.json sets temperature -1.0 …': the user would correct the
    adapter folder's file (model/generation_config.json), which changes nothing."""
    run_dir = adapter_run_with_bad_base(tmp_path)
    code, err, settings = generate(capsys, monkeypatch, str(run_dir))
    assert code == 0, err
    assert notes(err) == ["note: The base model's generation_config.json sets temperature -1.0, but it must be a "
                          "finite number above 0: using 1.0 instead. To fix: correct it in that file."]
    assert (settings.do_sample, settings.temperature, settings.top_k) == (True, 1.0, 17), "the base's file, read"
