"""An adapter trained on the built-in demo model, picked as the model: its adapter_config.json names the demo's
cache folder (core.adapters.base_reference), and the Model tab offered 'Use its base model
(…/.cache/finetune-studio/demo-model-v1)', which filled the field with that cache path instead of builtin:demo;
validation said 'To fix: pick /root/.cache/finetune-studio/demo-model-v1 as the model'. Both now name builtin:demo."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from finetune_studio.core.config import default_config


def _adapter_folder(tmp_path, base: str):
    folder = tmp_path / "my run" / "model"
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "base_model_name_or_path": base}))
    return folder


def _demo_folder() -> str:
    from finetune_studio.core.demo import demo_model_path

    return str(demo_model_path())


def test_use_base_model_fills_builtin_demo(qtbot, tmp_path):
    from finetune_studio.gui.forms.model_form import ModelForm

    folder = _adapter_folder(tmp_path, _demo_folder())
    form = ModelForm()
    qtbot.addWidget(form)
    form.load(default_config())
    form.show()
    form.source_edit.setText(str(folder))
    assert form.use_base_button.isVisible()
    assert form.use_base_button.text() == "Use its base model (builtin:demo)"
    assert form.source_hint.text() == "An adapter folder, not a whole model: it was trained on builtin:demo."
    qtbot.mouseClick(form.use_base_button, Qt.MouseButton.LeftButton)
    assert form.source_edit.text() == "builtin:demo"
    config = default_config()
    form.store(config)
    assert config.model.name_or_path == "builtin:demo"
    assert not form.use_base_button.isVisible()


def test_validation_names_builtin_demo(tmp_path):
    from finetune_studio.core.validation import validate

    folder = _adapter_folder(tmp_path, _demo_folder())
    config = default_config()
    config.model.name_or_path = str(folder)
    assert [p.message for p in validate(config) if p.field == "model.name_or_path"] == [
        f"{folder} holds a LORA adapter, not a whole model. It was trained on builtin:demo (the built-in demo "
        "model). To fix: pick builtin:demo as the model (and start a new adapter run on it), or export this run's "
        "merged model and pick that folder."]


def test_other_bases_are_named_as_written(tmp_path):
    from finetune_studio.core.adapters import adapter_folder_problem, base_model_of_adapter

    folder = _adapter_folder(tmp_path, "Qwen/Qwen3-0.6B")
    assert base_model_of_adapter(str(folder)) == "Qwen/Qwen3-0.6B"
    assert "It was trained on Qwen/Qwen3-0.6B. To fix: pick Qwen/Qwen3-0.6B as the model" in \
        adapter_folder_problem(str(folder))
