"""The push dialog's merged option has a Weights box, as the export dialog's merged model does (c4c1f64): Same as
training (float32), float16, bfloat16, float32, disabled unless Merged is chosen, with the export dialog's note under
it and its hint as the merged choice's tooltip. The file list gives the sizes of the dtype chosen, and the local Hub
receives config.json saying it and weights of that size. A merged push always saved the dtype the run trained in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import hub as core_hub
from finetune_studio.gui import export_dialog
from tests import helpers
from tests.hub_fixtures import (
    PUSH_WAIT_MS,
    WRITE,
    connect_client,
    hub,
    make_finished_run,
    push,
    push_dialog,
)


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory: pytest.TempPathFactory, demo_cache: Path) -> Path:
    return helpers.lora_run(tmp_path_factory.mktemp("push dialog dtype"), "lora-run", rows=60, max_steps=2)


def _listed(dialog: Any) -> dict[str, int]:
    return dict(dialog.plan)


def _choose(qtbot: Any, dialog: Any, dtype: str) -> None:
    """Pick `dtype` in the Weights box, then wait for the list it asks for."""
    dialog.dtype_box.setCurrentIndex(dialog.dtype_box.findData(dtype))
    qtbot.waitUntil(lambda: not dialog.plan_task.busy and bool(dialog.plan), timeout=PUSH_WAIT_MS)


@pytest.mark.slow
def test_the_weights_box_follows_the_merged_choice_and_the_push_uploads_its_dtype(
        lora_run: Path, hub: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    connect_client(monkeypatch, hub, tmp_path / "hf_home", token=WRITE)
    with push_dialog(qtbot, lora_run, core_hub.whoami()) as dialog:
        box = dialog.dtype_box
        assert [box.itemText(i) for i in range(box.count())] == ["Same as training (float32)", "float16", "bfloat16",
                                                                  "float32"]
        # the adapter: uploaded as the run saved it, no dtype to choose
        assert dialog.adapter_radio.isChecked() and dialog.dtype is None
        assert not dialog.dtype_row.isEnabled() and not box.isEnabled() and not dialog.dtype_note.isEnabled()
        assert "adapter_model.safetensors" in _listed(dialog)

        dialog.merged_radio.click()
        qtbot.waitUntil(lambda: "model.safetensors" in _listed(dialog), timeout=PUSH_WAIT_MS)
        assert dialog.dtype_row.isEnabled() and box.isEnabled() and dialog.dtype_note.isEnabled()
        assert dialog.dtype == "auto"
        assert dialog.dtype_note.text() == export_dialog.dtype_note(lora_run, "auto")
        assert dialog.dtype_note.text().startswith("About ") and dialog.dtype_note.text().endswith(
            " of weights in float32.")
        as_trained = _listed(dialog)["model.safetensors"]

        _choose(qtbot, dialog, "float16")
        assert dialog.dtype == "float16"
        half = _listed(dialog)["model.safetensors"]
        assert half < as_trained * 0.51 and half == dict(core_hub.plan_push(
            lora_run, form=core_hub.PUSH_MERGED, dtype="float16"))["model.safetensors"]
        assert dialog.dtype_note.text().endswith(" of weights in float16. float16 holds values up to 65,504: a model "
                                                 "with larger weights is refused (bfloat16 is as small, with "
                                                 "float32's range).")
        assert dialog.merged_radio.toolTip().startswith("A standalone model half the size of ")
        assert dialog.merged_radio.toolTip() == export_dialog.merged_hint(lora_run, dialog._base, "float16")

        # the export dialog says the same of the same run and dtype
        exporting = export_dialog.ExportDialog(lora_run, kind=export_dialog.MERGED)
        qtbot.addWidget(exporting)
        exporting.dtype_box.setCurrentIndex(exporting.dtype_box.findData("float16"))
        assert [exporting.dtype_box.itemText(i) for i in range(exporting.dtype_box.count())] == [
            box.itemText(i) for i in range(box.count())]
        assert exporting.dtype_note.text() == dialog.dtype_note.text()

        listed = _listed(dialog)
        dialog.push_button.click()
        assert dialog.pushing and not box.isEnabled()  # the choice is fixed while it pushes
        qtbot.waitUntil(lambda: not dialog.pushing, timeout=PUSH_WAIT_MS)
        assert dialog.message.property("kind") == "success", dialog.message.text()
        got = hub.repos[f"alice/{lora_run.name}"].files
        config = json.loads(got["config.json"])
        assert (config["dtype"], config["torch_dtype"]) == ("float16", "float16")
        assert len(got["model.safetensors"]) == listed["model.safetensors"] == half
        assert box.isEnabled()  # ready to push again

        # back to the adapter: the box is disabled again, and the list is the adapter's
        dialog.adapter_radio.click()
        qtbot.waitUntil(lambda: "adapter_model.safetensors" in _listed(dialog), timeout=PUSH_WAIT_MS)
        assert not box.isEnabled() and dialog.dtype is None


def test_a_run_that_trained_every_weight_has_no_weights_box(qtbot: Any, tmp_path: Path) -> None:
    with push_dialog(qtbot, make_finished_run(tmp_path / "runs"),
                     core_hub.Account("alice", "write", "saved login")) as dialog:
        assert dialog.form is None and dialog.dtype is None
        assert not dialog.dtype_box.isVisibleTo(dialog) and not dialog.dtype_row.isEnabled()


def test_the_push_gets_the_dtype_chosen(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What Push hands core.hub: the box's dtype for a merged push, none for the adapter."""
    from tests.core.test_cli_push_export_input import _adapter_run

    asked: list[dict[str, Any]] = []

    def push_run(run_dir: Path, **kw: Any) -> core_hub.PushResult:
        asked.append({"form": kw["form"], "dtype": kw["dtype"]})
        return core_hub.PushResult(url="http://hub/alice/lora-run", repo_id="alice/lora-run", files=["x"])

    monkeypatch.setattr(core_hub, "push_run", push_run)
    monkeypatch.setattr(core_hub, "plan_push", lambda run_dir, repo_id, form, dtype=None: [("x", 1)])
    with push_dialog(qtbot, _adapter_run(tmp_path / "runs"), core_hub.Account("alice", "write", "saved login")) \
            as dialog:
        push(qtbot, dialog)
        dialog.merged_radio.click()
        dialog.dtype_box.setCurrentIndex(dialog.dtype_box.findData("bfloat16"))
        qtbot.waitUntil(lambda: bool(dialog.plan), timeout=PUSH_WAIT_MS)
        push(qtbot, dialog)
    assert asked == [{"form": "adapter", "dtype": None}, {"form": "merged", "dtype": "bfloat16"}]
