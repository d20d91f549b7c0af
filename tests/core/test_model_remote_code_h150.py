"""A local model that ships its own Python code is refused with a "To fix:" in the Model tab's words (its check box
"Trust remote code"), by validate and by loading alike; it had only "Turn on model.trust_remote_code only if you
trust the model's authors."."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.cli import main
from finetune_studio.core.config import ModelConfig
from finetune_studio.core.errors import ModelError
from finetune_studio.core.model import load_model, remote_code_problem


def test_remote_code_problem_ends_with_a_fix_in_the_model_tabs_words(
        demo_cache: Path, tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from finetune_studio.core.demo import demo_model_path

    path = tmp_path / "custom"
    shutil.copytree(demo_model_path(), path)
    config = json.loads((path / "config.json").read_text())
    config.update(model_type="horoscope-net", auto_map={"AutoConfig": "configuration_horoscope.HoroscopeConfig",
                                                        "AutoModelForCausalLM": "modeling_horoscope.HoroscopeLM"})
    (path / "config.json").write_text(json.dumps(config))
    (path / "modeling_horoscope.py").write_text("raise RuntimeError('the folder code ran')\n")
    said = (f"{path} ships its own Python code (configuration_horoscope.py, modeling_horoscope.py) that runs when "
            "the model loads. To fix: tick Trust remote code on the Model tab (model.trust_remote_code: true) only "
            "if you trust the model's authors, or pick a model that transformers supports itself.")
    assert remote_code_problem(str(path)) == said
    capsys.readouterr()
    assert main(["validate", "--set", f"model.name_or_path={path}"]) == cli.EXIT_CONFIG
    assert capsys.readouterr().out.splitlines() == [f"problem: model.trust_remote_code: {said}"]
    with pytest.raises(ModelError) as info:
        load_model(ModelConfig(name_or_path=str(path)))
    assert str(info.value) == said
    form = (Path(__file__).parents[2] / "gui" / "forms" / "model_form.py").read_text(encoding="utf-8")
    assert 'QCheckBox("Trust remote code")' in form  # the words the fix names are the tab's
