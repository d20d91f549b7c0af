"""Module names typed apart by a space in the Model tab's 'Also train fully' field ('lm_head embed_tokens', as
the placeholder's 'embed_tokens, lm_head' without its comma): the field splits on commas, so it stored one name and
validation said 'The model has no module named lm_head embed_tokens', listing both names among the model's. It now
says they are names with a space between them, and to separate them with commas."""

from __future__ import annotations

from finetune_studio.core.config import default_config
from finetune_studio.core.validation import validate


def _save_problems(qtbot, text: str) -> list[str]:
    from finetune_studio.gui.forms.adapter_form import AdapterForm

    form = AdapterForm()
    qtbot.addWidget(form)
    config = default_config()
    config.adapter.method = "lora"
    form.load(config)
    form.save_edit.setText(text)
    form.store(config)
    return [p.message for p in validate(config) if p.field == "adapter.modules_to_save"]


def test_names_apart_by_a_space_are_told_to_take_commas(qtbot):
    assert _save_problems(qtbot, "lm_head embed_tokens") == [
        "modules_to_save has 'lm_head embed_tokens': 2 module names with spaces between them, read as one name, "
        "which no module has. To fix: separate them with commas: lm_head, embed_tokens (in a config file, as list "
        "items: [lm_head, embed_tokens])."]


def test_with_commas_they_are_accepted(qtbot):
    assert _save_problems(qtbot, "lm_head, embed_tokens") == []


def test_unknown_words_keep_the_unknown_name_message(qtbot):
    said = _save_problems(qtbot, "lm_head nothing")
    assert len(said) == 1 and said[0].startswith("The model has no module named lm_head nothing. Its modules that")


def test_yaml_target_modules_too():
    config = default_config()
    config.adapter.method = "lora"
    config.adapter.target_modules = ["q_proj v_proj"]
    assert [p.message for p in validate(config) if p.field == "adapter.target_modules"] == [
        "target_modules has 'q_proj v_proj': 2 module names with spaces between them, read as one name, which no "
        "module has. To fix: separate them with commas: q_proj, v_proj (in a config file, as list items: "
        "[q_proj, v_proj])."]
