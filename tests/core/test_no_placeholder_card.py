"""An adapter run's model folder holds no README.md of peft's: its save_pretrained wrote a blank template card
whose front matter named the base model by its path on this computer (base_model: /home/USER/.cache/…), which a
user uploading the folder with `hf upload` published (helper-119's finding). A README.md the user wrote is kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.training import drop_placeholder_card
from tests.helpers import lora_run


@pytest.mark.slow
def test_a_finished_lora_runs_model_folder_has_no_placeholder_card(tmp_path: Path) -> None:
    run = lora_run(tmp_path, "lora", rows=16, max_steps=2)
    model = run / "model"
    assert (model / "adapter_config.json").is_file()
    assert not (model / "README.md").exists()


def test_only_peft_s_template_is_dropped(tmp_path: Path) -> None:
    template = tmp_path / "template"
    template.mkdir()
    (template / "README.md").write_text("---\nbase_model: /home/alice/.cache/demo\nlibrary_name: peft\n---\n\n"
                                        "# Model Card for Model ID\n\n[More Information Needed]\n", encoding="utf-8")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "README.md").write_text("# My horoscope model\n", encoding="utf-8")
    for folder in (template, mine, tmp_path / "none"):
        drop_placeholder_card(folder)
    assert not (template / "README.md").exists()
    assert (mine / "README.md").read_text(encoding="utf-8") == "# My horoscope model\n"
