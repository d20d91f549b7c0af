"""A source refused for the reason its preview failed was said three times: in the header's list, under the Dataset
field, and the same paragraph again under Preview. Preview now points up, as Row format and Text column do, and
says the message itself again once the Dataset field no longer does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from finetune_studio.core.config import default_config
from finetune_studio.core.errors import Problem
from finetune_studio.core.validation import validate
from finetune_studio.gui import background
from finetune_studio.gui.forms.dataset_form import UNREAD_PREVIEW
from tests.gui.test_dataset_form_hints_h184 import HELLO, WAIT, _form, form_config, two_file_zip


def test_the_preview_points_to_the_refusal_under_dataset_instead_of_repeating_it(qtbot: Any, tmp_path: Path) -> None:
    two = two_file_zip(tmp_path)
    form = _form(qtbot, default_config().dataset.source, 20)
    form._choose_source(str(two))
    qtbot.waitUntil(lambda: not form.error_label.isHidden(), timeout=WAIT)
    refusal = form.error_label.text()
    assert refusal.startswith(f"{two} is a zip archive holding 2 data files") and "To fix:" in refusal
    assert form.preview_status.text() == ""  # before validation ran, Preview is where the reason is

    form.show_problems(validate(form_config(form)))  # the window's validation: the same words under Dataset
    source = form._fields["dataset.source"].error_label()
    assert source.text() == refusal and not source.isHidden()
    assert form.error_label.isHidden() and form.error_label.text() == ""
    assert form.preview_status.text() == UNREAD_PREVIEW == "No preview: the data could not be read (see under Dataset)."

    form.show_problems([])  # the field no longer says it (say, a validation that ran before this source): said here
    assert not form.error_label.isHidden() and form.error_label.text() == refusal
    assert form.preview_status.text() == ""

    one = tmp_path / "one.jsonl"
    one.write_text("".join(json.dumps({"messages": HELLO}) + "\n" for _ in range(4)))
    form._choose_source(str(one))
    form.show_problems(validate(form_config(form)))
    qtbot.waitUntil(lambda: form.preview_model.rowCount() == 4, timeout=WAIT)
    assert form.error_label.isHidden() and form.preview_status.text() not in ("", UNREAD_PREVIEW)
    assert background.wait_idle(120_000)


def test_a_preview_failure_the_dataset_field_words_otherwise_stays_under_preview(qtbot: Any, tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "fine"}\n{"text": "cut\n')
    form = _form(qtbot, default_config().dataset.source, 20)
    form._choose_source(str(broken))
    qtbot.waitUntil(lambda: not form.error_label.isHidden(), timeout=WAIT)
    said = form.error_label.text()
    assert said.startswith(f"{broken}, line 2")
    form.show_problems([Problem("dataset.source", "Another reason the source is refused.")])
    assert not form.error_label.isHidden() and form.error_label.text() == said  # not the same words: both stay
    assert form.preview_status.text() != UNREAD_PREVIEW
    form.show_problems(validate(form_config(form)))  # validation reads the file too, and says the same: once
    assert form.error_label.isHidden() and form.preview_status.text() == UNREAD_PREVIEW
    assert background.wait_idle(120_000)
