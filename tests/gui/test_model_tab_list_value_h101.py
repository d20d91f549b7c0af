"""A config file's model.name_or_path that names no one model (`name_or_path: [a, b]`, a mapping, [], nothing) is kept
as written and shown as the file writes it ([a, b]). The Model tab's adapter section read the model named by the
field's text, so it looked up a model literally called "[a, b]" and said what a mistyped Hub id gets ("'[a, b]' is not
a valid Hugging Face model id: it contains '['…"), and the hint under the field called it a Hub model id that is
downloaded on first use. Now no lookup is made for such a value: the target modules and the figures say what the value
is and what to do, and they come back as soon as one model name is typed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from finetune_studio.core import adapter_layout
from finetune_studio.core.config import RunConfig, from_yaml
from finetune_studio.gui import background
from finetune_studio.gui.forms.model_form import ModelForm
from tests.gui.test_app import dialog_log, make_window, window  # fixtures
from tests.helpers import SAMPLE

WAIT = 60_000  # ms: the first layout imports torch, transformers and peft
TO_FIX = "To fix: give one model name or folder in name_or_path (the Model field above) to see"
FIX_HINT = "as the config file writes it, not one model. To fix: type one Hub id (owner/name), or pick a local folder."
CASES = [  # (as the file writes it, what the sections say it is, the hint under the field)
    ("[a, b]", "name_or_path holds a list ([a, b]), not one model",
     f"A list {FIX_HINT}"),
    ("{org: a, name: b}", "name_or_path holds a mapping ({org: a, name: b}), not one model",
     f"A mapping {FIX_HINT}"),
    ("[]", "name_or_path holds a list ([]), not one model",
     f"A list {FIX_HINT}"),
    ("''", "No model is chosen", "Enter a Hub model id (owner/name) or pick a local folder."),
]


pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every name_or_path the model's config is looked up for (core.adapter_layout.module_layout: the layout job,
    and the figures job through it)."""
    seen: list[Any] = []
    real = adapter_layout.module_layout

    def spy(model: Any) -> Any:
        seen.append(model.name_or_path)
        return real(model)

    monkeypatch.setattr(adapter_layout, "module_layout", spy)
    return seen


def _config(written: str, method: str = "lora") -> RunConfig:
    config, _ = from_yaml(f"model:\n  name_or_path: {written}\nadapter:\n  method: {method}\n")
    return config


def _settle(qtbot: Any, form: ModelForm) -> None:
    qtbot.waitUntil(lambda: not form.adapter_form.busy, timeout=WAIT)


def _no_model_shown(form: ModelForm, said: str) -> None:
    adapter = form.adapter_form
    assert adapter.targets_hint.text() == f"{said}: no layers to show. {TO_FIX} its layers."
    assert adapter.figures_hint.text() == f"{said}: nothing to count. {TO_FIX} these figures."
    assert (adapter.trainable_label.text(), adapter.size_label.text()) == ("—", "—")
    assert adapter.layout_info is None and adapter.figures is None and adapter._module_checks == {}


def _type(qtbot: Any, form: ModelForm, text: str) -> None:
    form.source_edit.setFocus()
    form.source_edit.selectAll()
    qtbot.keyClicks(form.source_edit, text)


@pytest.mark.parametrize(("written", "said", "hint"), CASES, ids=[c[0] for c in CASES])
def test_a_value_naming_no_model_is_looked_up_for_nothing_and_says_what_to_do(qtbot: Any, demo_cache: Path,
                                                                              lookups: list[Any], written: str,
                                                                              said: str, hint: str) -> None:
    form = ModelForm()
    qtbot.addWidget(form)
    form.resize(560, 1000)
    form.load(_config(written))
    form.show()
    qtbot.waitExposed(form)
    form.adapter_form.refresh_now()
    _settle(qtbot, form)
    assert form.source_edit.text() == ("" if written == "''" else written)
    assert form.source_hint.text() == hint
    _no_model_shown(form, said)
    assert lookups == []  # not "[a, b]", nor ['a', 'b'], nor ""
    assert form.adapter_form.targets_hint.isVisible() and form.adapter_form.figures_hint.isVisible()

    demo = str(demo_cache / "demo-model-v1")  # core.demo.demo_model_path(), built by the fixture
    from finetune_studio.core.demo import demo_model_path

    assert demo == str(demo_model_path(build=False))
    _type(qtbot, form, demo)  # the user's own name: the sections come back, from that model
    qtbot.waitUntil(lambda: form.adapter_form.layout_info is not None and form.adapter_form.figures is not None,
                    timeout=WAIT)
    _settle(qtbot, form)
    adapter = form.adapter_form
    assert form.source_hint.text() == "Local model folder."
    assert adapter.targets_hint.text() == "The qwen3 model's modules, from its config alone."
    assert list(adapter._module_checks) == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                            "down_proj", "embed_tokens", "lm_head"]
    assert adapter.trainable_label.text() == "38,912 of 230,848 (16.86 %)"
    assert adapter.figures_hint.text() == ""
    assert lookups and set(lookups) <= {demo} | {demo[:i] for i in range(1, len(demo))}  # typed text only
    assert lookups[-1] == demo


def test_a_lookup_on_its_way_for_the_model_before_is_dropped(qtbot: Any, demo_cache: Path,
                                                             lookups: list[Any]) -> None:
    form = ModelForm()
    qtbot.addWidget(form)
    form.load(_config("builtin:demo"))
    form.adapter_form.refresh_now()  # the demo's layout is asked for ...
    form.load(_config("[a, b]"))  # ... and the file is replaced before it arrives
    form.adapter_form.refresh_now()
    assert background.wait_idle(WAIT)
    qtbot.wait(50)  # any outcome still queued for the GUI thread is delivered (and dropped)
    _settle(qtbot, form)
    _no_model_shown(form, "name_or_path holds a list ([a, b]), not one model")
    assert ["a", "b"] not in lookups and "[a, b]" not in lookups


def test_the_windows_model_tab_with_a_list_value(qtbot: Any, window: Any, tmp_path: Path,
                                                 lookups: list[Any]) -> None:
    path = tmp_path / "list-model.yaml"
    path.write_text(f"name: r\nmodel:\n  name_or_path: [a, b]\ndataset:\n  source: {SAMPLE}\n", encoding="utf-8")
    assert window.open_config(path)
    window.validator.wait()
    form = window.model_form
    window.tabs.setCurrentWidget(window.pages[form])
    qtbot.waitUntil(lambda: "no layers to show" in form.adapter_form.targets_hint.text(), timeout=WAIT)
    _settle(qtbot, form)
    said = "name_or_path holds a list ([a, b]), not one model"
    _no_model_shown(form, said)
    assert form.adapter_form.adapter_box.isHidden()  # full fine-tuning: the figures say it, under Size on disk
    assert form.adapter_form.figures_hint.isVisible()
    assert form.source_hint.text() == CASES[0][2]
    assert all(isinstance(name, str) and name.strip() and name != "[a, b]" for name in lookups)
    assert window.config.model.name_or_path == ["a", "b"]  # still kept as written
    qtbot.mouseClick(form.demo_button, Qt.MouseButton.LeftButton)  # one model: the section reads it
    qtbot.waitUntil(lambda: form.adapter_form.figures is not None, timeout=WAIT)
    assert form.adapter_form.trainable_label.text() == "all 191,936 parameters (100 %)"
    assert form.adapter_form.figures_hint.text() == ""
    assert lookups[-1] == "builtin:demo" and window.config.model.name_or_path == "builtin:demo"
