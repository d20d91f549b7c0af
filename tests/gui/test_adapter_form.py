"""The Model tab's adapter section: the method, the real module names of the model as check boxes, live figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox

from finetune_studio.core.config import RunConfig
from finetune_studio.gui.forms.adapter_form import AdapterForm, scale_text
from finetune_studio.gui.forms.model_form import ModelForm

WAIT = 60_000  # ms: the first layout imports torch, transformers and peft


def _model_form(qtbot) -> ModelForm:
    form = ModelForm()
    qtbot.addWidget(form)
    form.resize(520, 1000)
    form.load(RunConfig())
    return form


def settle(qtbot, adapter: AdapterForm) -> None:
    """Wait until the layout and figures requested so far have arrived."""
    qtbot.waitUntil(lambda: not adapter.busy, timeout=WAIT)


def _lora(form: ModelForm, qtbot) -> AdapterForm:
    adapter = form.adapter_form
    adapter.method_combo.setCurrentIndex(adapter.method_combo.findData("lora"))
    adapter.method_combo.activated.emit(adapter.method_combo.currentIndex())
    settle(qtbot, adapter)
    return adapter


def test_lora_shows_the_demo_models_modules_and_exact_figures(qtbot, demo_cache: Path) -> None:
    form = _model_form(qtbot)
    assert form.adapter_form.adapter_box.isHidden()  # full fine-tuning: no adapter settings
    adapter = _lora(form, qtbot)
    assert not adapter.adapter_box.isHidden()
    assert "low-rank" in adapter.method_hint.text()
    checks = adapter._module_checks
    assert list(checks) == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
                            "embed_tokens", "lm_head"]
    # the default all-linear: attention and MLP ticked, embeddings and output head not
    assert [n for n, c in checks.items() if c.isChecked()] == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                                               "up_proj", "down_proj"]
    assert adapter._group_checks["attention"].checkState() == Qt.CheckState.Checked
    assert adapter._group_checks["output head"].checkState() == Qt.CheckState.Unchecked
    assert adapter.trainable_label.text().startswith("38,912 of 230,848 (16.86 %)")
    assert adapter.size_label.text().startswith("159.2 kB")
    assert adapter.scale_hint.text() == "scale α/r = 32/16 = 2"


def test_unticking_and_rank_change_the_config_and_the_figures(qtbot, demo_cache: Path) -> None:
    form = _model_form(qtbot)
    adapter = _lora(form, qtbot)
    edits: list[int] = []
    form.changed.connect(lambda: edits.append(1))
    adapter._group_checks["mlp"].click()  # untick the whole MLP group
    settle(qtbot, adapter)
    config = RunConfig()
    form.store(config)
    assert config.adapter.method == "lora"
    assert config.adapter.target_modules == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert adapter._group_checks["attention"].checkState() == Qt.CheckState.Checked
    assert adapter.figures.trainable == 2 * 16 * ((64 + 64) + 2 * (64 + 32) + (64 + 64))
    assert edits
    adapter._module_checks["k_proj"].click()
    assert adapter._group_checks["attention"].checkState() == Qt.CheckState.PartiallyChecked
    adapter.r_edit.setText("4")
    adapter.r_edit.textEdited.emit("4")
    settle(qtbot, adapter)
    assert adapter.figures.trainable == 2 * 4 * ((64 + 64) + (64 + 32) + (64 + 64))
    assert adapter.scale_hint.text() == "scale α/r = 32/4 = 8"
    adapter.rslora_check.click()
    assert adapter.scale_hint.text() == "scale α/√r = 32/√4 = 16"
    adapter.all_linear_button.click()
    settle(qtbot, adapter)
    form.store(config)
    assert config.adapter.target_modules == ["all-linear"] and config.adapter.r == 4 and config.adapter.rslora


def test_a_loaded_config_ticks_its_targets_and_keeps_unknown_ones(qtbot, demo_cache: Path) -> None:
    form = _model_form(qtbot)
    config = RunConfig()
    config.adapter.method = "dora"
    config.adapter.target_modules = ["v_proj", "lm_head", "query_key_value"]
    form.load(config)
    adapter = form.adapter_form
    settle(qtbot, adapter)
    assert [n for n, c in adapter._module_checks.items() if c.isChecked()] == ["v_proj", "lm_head"]
    assert "Not in this model: query_key_value" in adapter.targets_hint.text()
    out = RunConfig()
    form.store(out)
    assert out.adapter.target_modules == ["v_proj", "lm_head", "query_key_value"]  # not dropped behind the user
    assert out.adapter.method == "dora"


def test_bad_numbers_are_marked_and_stored_as_typed(qtbot) -> None:
    form = AdapterForm()
    qtbot.addWidget(form)
    form.r_edit.setText("abc")
    assert form._fields["adapter.r"].widget.property("problem")
    config = RunConfig()
    form.store(config)
    assert config.adapter.r == "abc"
    assert form.scale_hint.text() == ""


def test_modules_to_save_written_as_text_shows_as_written(qtbot) -> None:
    """`modules_to_save: lm_head` in a YAML file (text, not a list): the field joined its characters and showed and
    saved 'l, m, _, h, e, a, d', seven module names nobody wrote. The comma-separated field shows the text as it is."""
    form = AdapterForm()
    qtbot.addWidget(form)
    config = RunConfig()
    config.adapter.method = "lora"
    config.adapter.modules_to_save = "lm_head, embed_tokens"  # type: ignore[assignment] - as YAML text reads
    form.load(config)
    assert form.save_edit.text() == "lm_head, embed_tokens"
    stored = RunConfig()
    form.store(stored)
    assert stored.adapter.modules_to_save == ["lm_head", "embed_tokens"]


def test_helpers() -> None:
    assert scale_text(16, 32, False) == "scale α/r = 32/16 = 2"
    assert scale_text(0, 32, False) == ""


@pytest.mark.parametrize("method", ["full", "lora", "qlora", "dora"])
def test_each_method_says_what_it_costs(qtbot, method: str) -> None:
    form = AdapterForm()
    qtbot.addWidget(form)
    config = RunConfig()
    config.adapter.method = method
    form.load(config)
    assert form.method_hint.text()
    assert form.adapter_box.isHidden() == (method == "full")
    assert form.compute_combo.isHidden() == (method != "qlora")


def test_picking_an_adapter_method_moves_an_untouched_learning_rate_and_says_so(qtbot) -> None:
    form = ModelForm()
    qtbot.addWidget(form)
    config = RunConfig()
    form.load(config)
    adapter = form.adapter_form
    assert "2e-4" not in adapter.lr_hint.text()  # full fine-tuning: nothing to say
    moved: list[int] = []
    adapter.training_changed.connect(lambda: moved.append(1))
    adapter.method_combo.setCurrentIndex(adapter.method_combo.findData("lora"))
    adapter.method_combo.activated.emit(adapter.method_combo.currentIndex())
    form.store(config)  # what the window does on `changed`
    assert config.training["learning_rate"] == 2e-4 and moved == [1]
    assert "learning_rate is 0.0002" in adapter.lr_hint.text()
    adapter.method_combo.setCurrentIndex(adapter.method_combo.findData("full"))
    adapter.method_combo.activated.emit(adapter.method_combo.currentIndex())
    form.store(config)
    assert config.training["learning_rate"] == 2e-5

    chosen = RunConfig()
    chosen.training["learning_rate"] = 1e-3  # the user's own rate is never touched
    form.load(chosen)
    adapter.method_combo.setCurrentIndex(adapter.method_combo.findData("dora"))
    adapter.method_combo.activated.emit(adapter.method_combo.currentIndex())
    form.store(chosen)
    assert chosen.training["learning_rate"] == 1e-3
    assert "Learning rate 2e-4 is usual for DoRA" in adapter.lr_hint.text()


def test_an_adapter_folder_picked_as_the_model_offers_its_base(qtbot, tmp_path: Path) -> None:
    import json

    folder = tmp_path / "my-adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA",
                                                            "base_model_name_or_path": "Qwen/Qwen3-0.6B"}))
    form = ModelForm()
    qtbot.addWidget(form)
    form.load(RunConfig())
    assert form.use_base_button.isHidden()
    edits: list[int] = []
    form.changed.connect(lambda: edits.append(1))
    form.source_edit.setText(str(folder))
    assert not form.use_base_button.isHidden()
    assert "trained on Qwen/Qwen3-0.6B" in form.source_hint.text()
    form.use_base_button.click()
    assert form.source_edit.text() == "Qwen/Qwen3-0.6B" and edits
    assert form.use_base_button.isHidden()
    config = RunConfig()
    form.store(config)
    assert config.model.name_or_path == "Qwen/Qwen3-0.6B"


def test_validation_problems_are_marked_at_the_adapter_fields(qtbot) -> None:
    from finetune_studio.core.errors import Problem

    form = ModelForm()
    qtbot.addWidget(form)
    config = RunConfig()
    config.adapter.method = "lora"
    form.load(config)
    adapter = form.adapter_form
    problems = [Problem("adapter.target_modules", "The model has no module named query. Its modules: q_proj."),
                Problem("adapter.method", "QLoRA needs the bitsandbytes package.")]
    assert form.owns("adapter.target_modules") and form.owns("adapter.method") and not form.owns("training.x")
    form.show_problems(problems)
    assert adapter._fields["adapter.target_modules"].error_label().text().startswith("The model has no module")
    assert adapter.targets_host.property("problem")
    assert form.field_widget("adapter.method") is adapter.method_combo
    form.show_problems([])
    assert not adapter.targets_host.property("problem")


def test_a_name_in_two_groups_is_one_choice(qtbot, tmp_path: Path) -> None:
    """GPT-2's c_proj is both the attention output and the MLP output: peft matches the short name, so both boxes
    tick together."""
    from transformers import GPT2Config

    folder = tmp_path / "gpt2-shaped"
    GPT2Config(n_layer=1, n_embd=64, n_head=2, vocab_size=100, bos_token_id=0, eos_token_id=0).save_pretrained(folder)
    form = _model_form(qtbot)
    config = RunConfig()
    config.model.name_or_path = str(folder)
    config.adapter.method = "lora"
    form.load(config)
    adapter = form.adapter_form
    settle(qtbot, adapter)
    assert adapter.layout_info.groups["attention"] == ["c_attn", "c_proj"]
    assert adapter.layout_info.groups["mlp"] == ["c_fc", "c_proj"]
    twin = adapter.findChild(QCheckBox, "module:c_proj:mlp")
    first = adapter._module_checks["c_proj"]
    assert twin is not None and twin.isChecked() and first.isChecked()
    assert "Attention and MLP" in twin.toolTip()
    twin.click()
    settle(qtbot, adapter)
    assert not first.isChecked() and not twin.isChecked()
    out = RunConfig()
    form.store(out)
    assert out.adapter.target_modules == ["c_attn", "c_fc"]
    assert adapter.figures.trainable == 16 * ((64 + 192) + (64 + 256))  # r 16 on c_attn (64->192) and c_fc (64->256)


def test_a_chat_run_that_adds_tokens_shows_what_training_will_report(qtbot, demo_cache: Path, tmp_path: Path) -> None:
    """The demo tokenizer has no chat template, so a LoRA run on chats adds ChatML's <|im_start|> and <|im_end|>,
    grows the embeddings and trains those two rows beside the adapter: the run logs "training 39,040 of 231,104
    parameters (16.89 %)" (core.training), and the Model tab must show the same, whichever way the Dataset tab
    learns the rows are chats (its preview, or the format picked), and the plain figures again for plain text."""
    import json

    from finetune_studio.gui.forms.dataset_form import DatasetForm

    path = tmp_path / "chats.jsonl"
    rows = [{"messages": [{"role": "user", "content": "Which element is Leo?"},
                          {"role": "assistant", "content": "Fire."}]}] * 4
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = RunConfig()
    config.dataset.source = str(path)
    config.adapter.method = "lora"
    dataset = DatasetForm()
    qtbot.addWidget(dataset)
    form = _model_form(qtbot)
    adapter = form.adapter_form
    dataset.chat_changed.connect(adapter.set_chat)  # as the window connects them
    form.load(config)
    dataset.load(config)
    qtbot.waitUntil(lambda: dataset.preview_model.rowCount() == 4, timeout=WAIT)
    assert dataset.effective_format() == "messages"  # detected in the preview ("auto")
    qtbot.waitUntil(lambda: adapter.trainable_label.text().startswith("39,040"), timeout=WAIT)
    settle(qtbot, adapter)
    assert adapter.trainable_label.text() == "39,040 of 231,104 (16.89 %)"
    assert adapter.size_label.text() == "907.8 kB (adapter_model.safetensors)"  # the grown embeddings are saved
    assert "<|im_start|>, <|im_end|>" in adapter.figures_hint.text()

    dataset.format_combo.setCurrentIndex(dataset.format_combo.findData("text"))  # the same file read as plain text
    qtbot.waitUntil(lambda: adapter.trainable_label.text().startswith("38,912"), timeout=WAIT)
    settle(qtbot, adapter)
    assert adapter.trainable_label.text() == "38,912 of 230,848 (16.86 %)"
    assert adapter.size_label.text() == "159.2 kB (adapter_model.safetensors)"
    assert adapter.figures_hint.text() == ""
