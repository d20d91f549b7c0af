"""The export dialog's Model box as a hostile user meets it (helper-214): a checkpoint deleted or damaged after the box
listed it, the run's folder deleted or renamed while the dialog is open, the Export… button of a run deleted since it
was shown, the dialog at its smallest, and a run with 60 checkpoints. Real tiny LoRA runs, exported through
core.export."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui.export_dialog import ExportController, ExportDialog
from tests.gui.test_export_dialog_checkpoint_h211 import _train

WAIT = 120_000


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, demo_cache: Path) -> tuple[Path, Path]:
    """A finished run (checkpoint-1 to checkpoint-3 and its final model) and a stopped one (checkpoint-1 and 2)."""
    root = tmp_path_factory.mktemp("h214")
    return _train(root, "three-ckpts", 3), _train(root, "stopped-run", 4, stop_at=2)


def _gone(run: Path) -> str:
    """What the dialog and the Export… button say of a run whose folder went (gui.export_dialog.run_gone_text)."""
    return (f"The run {run.name} is no longer in {run.parent} (deleted, moved or renamed since it was shown), so "
            "there is nothing to export there. Nothing was exported. To fix: if it was moved or renamed, open it from "
            "its new place (the Runs tab, or File → Open run folder) and export it from there.")


def _nothing_left(run: Path) -> str:
    """What they say of a run whose final model and checkpoints were all deleted (nothing_left_text)."""
    return (f"The run {run.name} holds no adapter to export now: its final model and checkpoints were deleted since "
            "it was shown. Nothing was exported. To fix: open another run, or train this one again (the Runs tab, Use "
            "its settings, then Start).")


def _copy(run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    return copy


def _items(dialog: ExportDialog) -> list[tuple[str, Any]]:
    box = dialog.what_box
    return [(box.itemText(row), box.itemData(row)) for row in range(box.count())]


def _listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def _export(qtbot: Any, dialog: ExportDialog) -> str:
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=WAIT)
    return dialog.message.text()


def _dialog(qtbot: Any, run: Path, checkpoint: int) -> ExportDialog:
    dialog = ExportDialog(run)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.what_box.setCurrentIndex([step for _, step in _items(dialog)].index(checkpoint))
    assert dialog.checkpoint == checkpoint
    return dialog


@pytest.mark.slow
def test_a_checkpoint_deleted_while_the_dialog_is_open_is_said_as_the_model_box_and_no_longer_offered(
        qtbot: Any, runs: tuple[Path, Path], tmp_path: Path) -> None:
    run = _copy(runs[0], tmp_path)
    dialog = _dialog(qtbot, run, 2)
    shutil.rmtree(run / "checkpoint-2")
    before = _listing(run)
    said = _export(qtbot, dialog)
    # It said the command line's fix: "To fix: give one of its checkpoints: 1 or 3.", and kept offering checkpoint-2.
    assert said == ("The run three-ckpts has no complete checkpoint 2. Nothing was exported. To fix: pick another "
                    "model in the Model box: checkpoint-1 or checkpoint-3, or the final model.")
    assert dialog.message.property("kind") == "error"
    assert _items(dialog) == [("Final model", None), ("checkpoint-3", 3), ("checkpoint-1", 1)]
    assert dialog.checkpoint is None and dialog.out_edit.text() == str(run / "export-adapter")  # the newest, proposed
    assert _listing(run) == before  # nothing written, nothing half-written


@pytest.mark.slow
@pytest.mark.parametrize(("damage", "kind"), [("truncated", "adapter"), ("truncated", "merged"),
                                              ("no weights", "adapter"), ("unreadable config", "adapter")])
def test_a_damaged_checkpoint_names_itself_and_the_whole_ones_in_the_model_box(
        qtbot: Any, runs: tuple[Path, Path], tmp_path: Path, damage: str, kind: str) -> None:
    run = _copy(runs[0], tmp_path)
    dialog = _dialog(qtbot, run, 2)
    if kind == "merged":
        dialog.merged_radio.click()
    weights = run / "checkpoint-2" / "adapter_model.safetensors"
    if damage == "truncated":
        weights.write_bytes(weights.read_bytes()[:1000])
    elif damage == "no weights":
        weights.unlink()
    else:
        (run / "checkpoint-2" / "adapter_config.json").write_text("{not json", encoding="utf-8")
    before = _listing(run)
    said = _export(qtbot, dialog)
    # It said "To fix: pick a whole one: --checkpoint 1 or 3, or leave out --checkpoint for its final model.", and not
    # that nothing was exported.
    assert said.startswith("three-ckpts · checkpoint-2 is damaged: "), said
    assert said.endswith(". Nothing was exported. To fix: pick a whole one in the Model box: checkpoint-1 or "
                         "checkpoint-3, or the final model."), said
    assert "--checkpoint" not in said
    assert _items(dialog) == [("Final model", None), ("checkpoint-3", 3), ("checkpoint-2 (damaged)", 2),
                              ("checkpoint-1", 1)]
    assert dialog.what_box.currentText() == "checkpoint-2 (damaged)"
    assert dialog.out_edit.text() == str(run / f"export-{kind}-checkpoint-2")
    assert _listing(run) == before and not (run / f"export-{kind}-checkpoint-2").exists()


@pytest.mark.slow
def test_every_checkpoint_of_a_stopped_run_deleted_while_open_leaves_nothing_to_export(
        qtbot: Any, runs: tuple[Path, Path], tmp_path: Path) -> None:
    run = _copy(runs[1], tmp_path)
    dialog = _dialog(qtbot, run, 2)
    for checkpoint in run.glob("checkpoint-*"):
        shutil.rmtree(checkpoint)
    said = _export(qtbot, dialog)
    # It said "… has no complete checkpoint at all, so --checkpoint 2 has none to pick … To fix: start it again under
    # another name …: 'finetune-studio train …'", left the box empty and Export enabled: pressed again, it exported
    # "the final model" (the empty box's pick) and said the run has no saved model.
    assert said == _nothing_left(run)
    assert _items(dialog) == [] and not dialog.export_button.isEnabled() and dialog.export_button.toolTip() == said


@pytest.mark.slow
def test_the_final_model_deleted_while_open_offers_the_newest_checkpoint(
        qtbot: Any, runs: tuple[Path, Path], tmp_path: Path) -> None:
    run = _copy(runs[0], tmp_path)
    dialog = ExportDialog(run)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.checkpoint is None
    shutil.rmtree(run / "model")
    said = _export(qtbot, dialog)
    # It kept offering "Final model", and its fix named no checkpoint.
    assert said.startswith("The run three-ckpts finished, but its model folder ")
    assert said.endswith(" Or export one of its checkpoints: the Model box now picks the newest, checkpoint-3."), said
    assert _items(dialog) == [("checkpoint-3", 3), ("checkpoint-2", 2), ("checkpoint-1", 1)]
    assert dialog.out_edit.text() == str(run / "export-adapter-checkpoint-3") and dialog.export_button.isEnabled()
    assert _export(qtbot, dialog).startswith("Exported the adapter of checkpoint-3 of three-ckpts (")


@pytest.mark.slow
@pytest.mark.parametrize("how", ["deleted", "renamed"])
def test_the_run_deleted_or_renamed_while_the_dialog_is_open_disables_export(
        qtbot: Any, runs: tuple[Path, Path], tmp_path: Path, how: str) -> None:
    run = _copy(runs[0], tmp_path)
    dialog = _dialog(qtbot, run, 3)
    if how == "deleted":
        shutil.rmtree(run)
    else:
        run.rename(tmp_path / "renamed")
        before = _listing(tmp_path / "renamed")
    said = _export(qtbot, dialog)
    # It said core's "No run folder at …. To fix: give a run's folder …; `finetune-studio runs` lists the runs.", and
    # Export stayed enabled on a run that is not there.
    assert said == _gone(run)
    assert not dialog.export_button.isEnabled() and dialog.export_button.toolTip() == said
    assert _items(dialog) == [] and not dialog.what_box.isEnabled()
    assert not run.exists()
    if how == "renamed":
        assert _listing(tmp_path / "renamed") == before


@pytest.mark.slow
def test_the_export_button_of_a_run_deleted_since_it_was_shown_says_so_and_goes(
        qtbot: Any, runs: tuple[Path, Path], tmp_path: Path) -> None:
    from finetune_studio.core.session import Session

    run = _copy(runs[1], tmp_path)
    session = Session()
    said: list[str] = []
    controller = ExportController(session, lambda text, ms: said.append(text))
    qtbot.addWidget(controller.button)
    session.show_recorded(run)
    assert not controller.button.isHidden()
    shutil.rmtree(run)
    controller.button.click()  # it did nothing, and stayed
    assert controller.dialog is None and said == [_gone(run)] and controller.button.isHidden()

    other = _copy(runs[1], tmp_path / "other")
    session.show_recorded(other)
    assert not controller.button.isHidden()
    for checkpoint in other.glob("checkpoint-*"):
        shutil.rmtree(checkpoint)
    controller.button.click()
    assert controller.dialog is None and controller.button.isHidden()
    assert said[1] == _nothing_left(other)


def _overlaps(dialog: ExportDialog) -> list[str]:
    """Lines of the dialog's column that run into the next one, or past its bottom."""
    layout = dialog.layout()
    shown = [layout.itemAt(row) for row in range(layout.count())]
    boxes = [(item.widget().objectName() or type(item.widget()).__name__, item.geometry()) if item.widget()
             else ("form", item.geometry()) for item in shown
             if (item.widget() is None and item.layout() is not None)
             or (item.widget() is not None and item.widget().isVisible())]
    found = [f"{a} runs into {b}" for (a, first), (b, second) in zip(boxes, boxes[1:])
             if first.bottom() >= second.top()]
    needed = [f"{name} needs {item.widget().heightForWidth(geometry.width())} px, has {geometry.height()}"
              for item in shown if item.widget() is not None and item.widget().isVisible()
              and item.widget().hasHeightForWidth() for name, geometry in [(item.widget().objectName(),
                                                                            item.geometry())]
              if item.widget().heightForWidth(geometry.width()) > geometry.height()]
    return found + needed + ([] if boxes[-1][1].bottom() < dialog.height() else ["the buttons are cut off"])


@pytest.mark.slow
def test_the_dialog_at_its_smallest_cuts_nothing(qtbot: Any, runs: tuple[Path, Path], tmp_path: Path) -> None:
    run = _copy(runs[0], tmp_path)
    dialog = _dialog(qtbot, run, 2)
    dialog.merged_radio.click()  # its hint and the Weights row shown
    dialog.resize(1, 1)  # as small as it lets the user make it
    qtbot.wait(100)
    # It was 325 by 301 px: the hints ran into each other, the folder row and the checkbox were cut off at the bottom.
    assert dialog.width() == 440 and _overlaps(dialog) == [], (dialog.size(), _overlaps(dialog))
    weights = run / "checkpoint-2" / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    said = _export(qtbot, dialog)  # a message of four lines: the dialog grows to show it
    qtbot.wait(100)
    assert "is damaged" in said and dialog.message.isVisible()
    assert _overlaps(dialog) == [], (dialog.size(), _overlaps(dialog))
    assert dialog.what_box.width() >= dialog.what_box.sizeHint().width()  # "checkpoint-2 (damaged)" not cut


@pytest.mark.slow
def test_60_checkpoints_newest_first_and_no_weight_file_read_to_open(qtbot: Any, runs: tuple[Path, Path],
                                                                     tmp_path: Path, monkeypatch) -> None:
    """Held on HEAD: the box lists them newest first, and opening reads no weight file (core.generate.damage and
    core.runs.checkpoint_problem, which read safetensors headers, are not called)."""
    import finetune_studio.core.generate as generate
    import finetune_studio.core.runs as core_runs

    run = _copy(runs[0], tmp_path)
    for step in range(4, 61):
        shutil.copytree(run / "checkpoint-1", run / f"checkpoint-{step}")
    read: list[Path] = []
    monkeypatch.setattr(generate, "damage", lambda path, *a, **k: read.append(path))
    monkeypatch.setattr(core_runs, "checkpoint_problem", lambda path, *a, **k: read.append(path))
    dialog = ExportDialog(run)
    qtbot.addWidget(dialog)
    dialog.show()
    assert read == []
    assert [text for text, _ in _items(dialog)] == ["Final model", *(f"checkpoint-{n}" for n in range(60, 0, -1))]
