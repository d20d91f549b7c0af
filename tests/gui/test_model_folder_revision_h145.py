"""Revision beside a model folder: transformers reads a folder as it is and ignores the revision, so a revision
typed (or kept from a Hub id) trained the folder with no word (finetune-studio train of a folder with revision
'no-such-branch' finished). The Model tab disables Revision for a folder, as it does for the built-in demo, saying
why in its tooltip; the value is kept and stored, and comes back with a Hub id. Remote code stays: a folder's code is
its own. PNGs at 900x600: /tmp/h145/revision_before_900x600.png, revision_after_900x600.png."""

from __future__ import annotations

from finetune_studio.core.config import default_config
from finetune_studio.gui.forms.model_form import NOT_FOR_DEMO, ModelForm

HELP = "Branch, tag or commit of a Hub model."
NOT_FOR_FOLDER = ("Not used for a model folder: its files are read as they are, with no branch. A revision picks a "
                  "branch, tag or commit of a Hub model (owner/name).")


def _form(qtbot, name: str, revision: str | None = "no-such-branch") -> ModelForm:
    config = default_config()
    config.model.name_or_path = name
    config.model.revision = revision
    form = ModelForm()
    qtbot.addWidget(form)
    form.load(config)
    return form


def test_folder_disables_revision_and_keeps_it(qtbot, tmp_path):
    folder = tmp_path / "my model ünï"
    folder.mkdir()
    form = _form(qtbot, str(folder))
    # The revision is kept and stored; its field stays enabled while it holds one, so the warning validation gives
    # at it ("To fix: remove revision") can be acted on, and is disabled once it is cleared.
    assert form.revision_edit.isEnabled()
    assert form.revision_edit.toolTip() == NOT_FOR_FOLDER
    assert form.trust_check.isEnabled() and form.trust_check.toolTip() != NOT_FOR_DEMO
    stored = default_config()
    form.store(stored)
    assert (stored.model.name_or_path, stored.model.revision) == (str(folder), "no-such-branch")
    form.revision_edit.clear()
    assert not form.revision_edit.isEnabled() and form.revision_edit.toolTip() == NOT_FOR_FOLDER
    form.store(stored)
    assert stored.model.revision is None
    assert not _form(qtbot, str(folder), revision=None).revision_edit.isEnabled()  # nothing to clear: no field


def test_hub_id_enables_it_again_and_demo_says_its_own(qtbot, tmp_path):
    form = _form(qtbot, str(tmp_path))
    form.source_edit.setText("Qwen/Qwen3-0.6B")
    assert form.revision_edit.isEnabled() and form.revision_edit.toolTip().startswith(HELP)
    assert form.revision_edit.text() == "no-such-branch"
    form.source_edit.setText("./models/not-made-yet")  # written as a path: a folder, made or not
    assert form.revision_edit.isEnabled() and form.revision_edit.toolTip() == NOT_FOR_FOLDER  # holds one to clear
    form.demo_button.click()
    assert not form.revision_edit.isEnabled() and form.revision_edit.toolTip() == NOT_FOR_DEMO
    form.source_edit.setText("")
    assert form.revision_edit.isEnabled()
