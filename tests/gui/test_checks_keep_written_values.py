"""A true/false setting written as something else in a config file ('no' and 'yes' are text as the app's YAML reads
them, for eval_strategy: no; a number; a list) is shown unticked and stored as written until the user clicks its
check, so validation names it at the field. Before, the forms ticked it by bool() and stored true:
`trust_remote_code: no` trusted the model's remote code, `private: no` made the repository private, and bf16: yes
was stored as bf16 false, the written value gone without a word."""

from __future__ import annotations

from typing import Any

import pytest

from finetune_studio.core.config import default_config
from finetune_studio.core.validation import validate
from finetune_studio.gui.forms.adapter_form import AdapterForm
from finetune_studio.gui.forms.dataset_form import DatasetForm
from finetune_studio.gui.forms.hub_form import HubForm
from finetune_studio.gui.forms.model_form import ModelForm
from finetune_studio.gui.forms.training_form import TrainingForm

CHECKS = [  # (form, section, name, the form's check)
    (ModelForm, "model", "trust_remote_code", "trust_check"),
    (HubForm, "hub", "private", "private_check"),
    (HubForm, "hub", "push_when_done", "push_check"),
    (AdapterForm, "adapter", "rslora", "rslora_check"),
    (DatasetForm, "dataset", "truncation", "truncation_check"),
    (DatasetForm, "chat", "drop_untrained_rows", "drop_untrained_check"),
    (TrainingForm, "training", "activation_checkpointing", "checkpointing_check"),
    (TrainingForm, "training", "load_best_model_at_end", "best_check"),
]


def _set(config: Any, section: str, name: str, value: Any) -> None:
    if section == "training":
        config.training[name] = value
    else:
        setattr(getattr(config, section), name, value)


def _get(config: Any, section: str, name: str) -> Any:
    return config.training.get(name) if section == "training" else getattr(getattr(config, section), name)


@pytest.mark.parametrize(("form_type", "section", "name", "check"), CHECKS, ids=[c[2] for c in CHECKS])
def test_a_check_written_as_text_is_unticked_and_stored_as_written_until_clicked(qtbot, form_type: Any,
                                                                                 section: str, name: str,
                                                                                 check: str) -> None:
    form = form_type()
    qtbot.addWidget(form)
    config = default_config()
    _set(config, section, name, "no")
    form.load(config)
    box = getattr(form, check)
    assert not box.isChecked()
    stored = default_config()
    form.store(stored)
    assert _get(stored, section, name) == "no"
    box.setChecked(True)  # the user's own choice replaces what was written
    form.store(stored)
    assert _get(stored, section, name) is True


def test_trust_remote_code_no_is_refused_not_trusted(qtbot) -> None:
    form = ModelForm()
    qtbot.addWidget(form)
    config = default_config()
    config.model.trust_remote_code = "no"
    form.load(config)
    stored = default_config()
    form.store(stored)
    assert stored.model.trust_remote_code != True  # noqa: E712 - exactly not the flag that runs remote code
    assert any(p.field == "model.trust_remote_code" for p in validate(stored))


@pytest.mark.parametrize("key", ["bf16", "fp16"])
def test_precision_written_as_text_is_stored_as_written_until_a_precision_is_picked(qtbot, key: str) -> None:
    form = TrainingForm()
    qtbot.addWidget(form)
    config = default_config()
    config.training[key] = "yes"
    form.load(config)
    stored = default_config()
    form.store(stored)
    assert stored.training[key] == "yes"
    index = form.precision_combo.findData("fp32")  # shown already: the user picks it from the list
    form.precision_combo.setCurrentIndex(index)
    form.precision_combo.activated.emit(index)
    form.store(stored)
    assert (stored.training.get("bf16"), stored.training.get("fp16")) == (False, False)
