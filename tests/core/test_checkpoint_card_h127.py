"""Every checkpoint-N folder of an adapter run holds no README.md of peft's: the Trainer's checkpoint saves call
peft's save_pretrained, which writes a blank template card ("# Model Card for Model ID", "[More Information
Needed]") whose front matter names the base model by its path on this computer. The run's model folder already had
it removed (core.training.drop_placeholder_card); its checkpoints kept it, and a user who uploads a checkpoint with
`hf upload` published that path. A README.md that is not peft's template is kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.training import make_progress_callback
from tests.helpers import SAMPLE, small_config


@pytest.mark.slow
def test_a_lora_runs_checkpoints_hold_no_placeholder_card(tmp_path: Path) -> None:
    from finetune_studio.core.training import run

    data = tmp_path / "small.jsonl"
    data.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:16]) + "\n", encoding="utf-8")
    config = small_config(data, tmp_path / "runs", max_steps=4, eval_strategy="no", save_strategy="steps",
                          save_steps=2, load_best_model_at_end=False)
    config.name = "lora-checkpoints"
    config.adapter.method = "lora"
    config.adapter.r = 4
    result = run(config)
    assert result.state == "finished", result.message
    checkpoints = sorted(Path(result.run_dir).glob("checkpoint-*"))
    assert [c.name for c in checkpoints] == ["checkpoint-2", "checkpoint-4"]
    for checkpoint in checkpoints:
        assert (checkpoint / "adapter_config.json").is_file()
        assert (checkpoint / "adapter_model.safetensors").is_file()
        assert not (checkpoint / "README.md").exists(), checkpoint.name


class _Args:
    def __init__(self, output_dir: Path) -> None:
        self.output_dir = str(output_dir)


class _State:
    global_step = 3


def test_the_save_callback_drops_only_peft_s_template(tmp_path: Path) -> None:
    import threading

    events: list[dict] = []
    callback = make_progress_callback(events.append, threading.Event())
    template, mine = tmp_path / "a" / "checkpoint-3", tmp_path / "b" / "checkpoint-3"
    for folder in (template, mine):
        folder.mkdir(parents=True)
    (template / "README.md").write_text("---\nbase_model: /home/alice/.cache/demo\nlibrary_name: peft\n---\n\n"
                                        "# Model Card for Model ID\n\n[More Information Needed]\n", encoding="utf-8")
    (mine / "README.md").write_text("# My horoscope model\n", encoding="utf-8")
    for parent in ("a", "b", "none"):
        callback.on_save(_Args(tmp_path / parent), _State(), None)
    assert not (template / "README.md").exists()
    assert (mine / "README.md").read_text(encoding="utf-8") == "# My horoscope model\n"
    assert [e["path"] for e in events] == [str(tmp_path / p / "checkpoint-3") for p in ("a", "b", "none")]
