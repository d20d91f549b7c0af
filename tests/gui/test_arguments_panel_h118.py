"""The All arguments panel probed as a demanding user (helper-118): a mapping typed half-way, and what the row says."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from typing import Any

import pytest

from finetune_studio.core.config import RunConfig, default_config
from finetune_studio.gui.forms import ArgumentsPanel


@pytest.fixture(scope="module")
def fields() -> Any:
    from finetune_studio.core.validation import training_fields

    return training_fields()


def type_into(row: Any, text: str) -> None:
    row.editor.setText(text)
    row.editor.textEdited.emit(text)


def test_an_unclosed_mapping_is_named_with_what_was_typed_and_the_fix(qtbot: Any, fields: Any) -> None:
    """'{' typed into lr_scheduler_kwargs was marked "Not valid YAML: expected the node content, but found
    '<stream end>'." — the parser's words, without the text or what to write. The row now says the { is never
    closed, with the text as typed and a To fix:; the text is kept and stored as typed until it is fixed."""
    panel = ArgumentsPanel()
    qtbot.addWidget(panel)
    panel.populate(fields)
    panel.load(default_config())
    row = panel.row("lr_scheduler_kwargs")

    type_into(row, "{")
    assert row.editor.text() == "{"
    assert row.editor.property("problem") is True
    assert row.error_label().text() == ("'{' is not valid YAML: its { is never closed. To fix: close it with }, as in "
                                        "{key: value}, or clear the field to use the default.")
    config = RunConfig()
    panel.store(config)
    assert config.training["lr_scheduler_kwargs"] == "{"

    report = panel.row("report_to")
    type_into(report, "[wandb, tensorboard")
    assert report.error_label().text() == ("'[wandb, tensorboard' is not valid YAML: its [ is never closed. To fix: "
                                           "close it with ], as in [a, b], or clear the field to use the default.")

    type_into(row, "a: b: c")
    assert row.error_label().text() == ("'a: b: c' is not valid YAML (mapping values are not allowed here). To fix: "
                                        "write it as in {key: value}, or clear the field to use the default.")

    type_into(row, "{min_lr: 1e-6}")  # fixed: the mark goes, the mapping is stored
    assert row.editor.property("problem") is False
    assert not row.error_label().isVisibleTo(panel)
    panel.store(config)
    assert config.training["lr_scheduler_kwargs"] == {"min_lr": 1e-6}


def test_a_flag_written_as_no_is_not_shown_ticked(qtbot: Any, fields: Any) -> None:
    """push_to_hub: no (text to the app's YAML, as the Training tab's checks treat it) showed a ticked box — the
    row said the run would push — with "The config holds 'no', not true or false." and no fix. The box is now
    ticked for a real true only, the message names the value as written and the fix, and the value is stored as
    written until the box is clicked."""
    panel = ArgumentsPanel()
    qtbot.addWidget(panel)
    panel.populate(fields)
    config = default_config()
    config.training.update({"push_to_hub": "no", "use_cpu": 5, "torch_compile": True})
    panel.load(config)
    push, cpu, compile_ = panel.row("push_to_hub"), panel.row("use_cpu"), panel.row("torch_compile")
    assert (push.editor.isChecked(), cpu.editor.isChecked(), compile_.editor.isChecked()) == (False, False, True)
    assert push.editor.property("problem") is True
    assert push.error_label().text() == ("push_to_hub must be true or false; the config holds 'no', which YAML reads "
                                         "as text. To fix: tick or untick the box, or write true or false in the "
                                         "file.")
    assert cpu.error_label().text() == ("use_cpu must be true or false; the config holds 5. To fix: tick or untick "
                                        "the box, or write true or false in the file.")
    stored = RunConfig()
    panel.store(stored)
    assert (stored.training["push_to_hub"], stored.training["use_cpu"]) == ("no", 5)

    push.editor.click()  # the user decides: a real true/false, the mark goes
    panel.store(stored)
    assert stored.training["push_to_hub"] is True
    assert push.editor.property("problem") is False


def test_an_unknown_key_names_the_field_it_was_meant_to_be(qtbot: Any, fields: Any) -> None:
    """learnin_rate: 1e-4 in a loaded YAML: validate says "Did you mean 'learning_rate'? To fix: rename it to
    learning_rate.", but the row's own mark replaced it with "Not a TrainingArguments field of the installed
    transformers: fix the name or remove it (↺)." — the suggestion lost. The row now names the likely field and
    where to set it; a name near none says so without a guess."""
    panel = ArgumentsPanel()
    qtbot.addWidget(panel)
    panel.populate(fields)
    config = default_config()
    config.training.update({"learnin_rate": 1e-4, "wieght_decay": 0.1, "zzz_unheard_of": 3})
    panel.load(config)
    messages = {name: panel.row(name).error_label().text() for name in ("learnin_rate", "wieght_decay",
                                                                         "zzz_unheard_of")}
    assert messages == {
        "learnin_rate": "'learnin_rate' is not a TrainingArguments field of the installed transformers. Did you "
                        "mean 'learning_rate'? To fix: remove it (↺) and set learning_rate on the Training tab.",
        "wieght_decay": "'wieght_decay' is not a TrainingArguments field of the installed transformers. Did you "
                        "mean 'weight_decay'? To fix: remove it (↺) and set weight_decay in its own row here.",
        "zzz_unheard_of": "'zzz_unheard_of' is not a TrainingArguments field of the installed transformers. To fix: "
                          "correct the name in the file, or remove it (↺).",
    }
    assert panel.row("learnin_rate").editor.property("problem") is True
    stored = RunConfig()
    panel.store(stored)
    assert stored.training["learnin_rate"] == 1e-4  # kept as written until removed
    panel.reset("learnin_rate")
    panel.store(stored)
    assert "learnin_rate" not in stored.training and panel.row("learnin_rate") is None
