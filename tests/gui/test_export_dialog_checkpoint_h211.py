"""The export dialog exports a checkpoint (helper-211): `finetune-studio export --adapter RUN --checkpoint N` could, the
window's Export… dialog exported only the final model, and a stopped run (no final model, its checkpoints saved) had
no Export… button at all. Now the dialog's Model box lists the final model, then each complete checkpoint, newest
first (core.generate.targets, the reader export --checkpoint resolves through); a checkpoint's export goes into
export-KIND-checkpoint-N, holds that checkpoint's adapter, and the dialog says which checkpoint it exported."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui.export_dialog import ExportController, ExportDialog
from tests import helpers

WAIT = 120_000


def _train(root: Path, name: str, max_steps: int, stop_at: int | None = None) -> Path:
    """A LoRA r 4 run saving a checkpoint at each step; `stop_at`: stopped (Stop pressed) after that step, so it has
    checkpoints and no final model."""
    from finetune_studio.core.training import run

    data = root / "small.jsonl"
    data.write_text("\n".join(helpers.SAMPLE.read_text(encoding="utf-8").splitlines()[:16]) + "\n", encoding="utf-8")
    config = helpers.small_config(data, root / "runs", max_steps=max_steps, eval_strategy="no", save_strategy="steps",
                                  save_steps=1, load_best_model_at_end=False, learning_rate=1e-2)
    config.name, config.adapter.method, config.adapter.r = name, "lora", 4
    stop = threading.Event()

    def sink(event: dict) -> None:
        if stop_at is not None and event["event"] == "step" and event["step"] == stop_at:
            stop.set()

    result = run(config, sink, stop)
    assert result.state == ("finished" if stop_at is None else "stopped"), result.message
    return Path(result.run_dir)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, demo_cache: Path) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("h211")
    finished = _train(root, "ckpt-run", 2)
    stopped = _train(root, "stopped-run", 4, stop_at=2)
    assert sorted(p.name for p in finished.glob("checkpoint-*")) == ["checkpoint-1", "checkpoint-2"]
    assert sorted(p.name for p in stopped.glob("checkpoint-*")) == ["checkpoint-1", "checkpoint-2"]
    assert not (stopped / "model").exists()
    return finished, stopped


def _tensors(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(folder / "adapter_model.safetensors"))


def _same(a: dict, b: dict) -> bool:
    import torch

    return sorted(a) == sorted(b) and all(torch.equal(a[name], b[name]) for name in a)


def _items(dialog: ExportDialog) -> list[tuple[str, Any]]:
    box = dialog.what_box
    return [(box.itemText(row), box.itemData(row)) for row in range(box.count())]


@pytest.mark.slow
def test_the_choices_are_the_final_model_then_each_checkpoint_newest_first(runs: tuple[Path, Path],
                                                                           tmp_path: Path) -> None:
    import shutil

    from finetune_studio.gui.export_dialog import PICK_CHECKPOINT, choice_tip, export_choices, window_words

    finished, stopped = runs
    assert [(c.label, c.checkpoint, c.path) for c in export_choices(finished)] == [
        ("Final model", None, finished / "model"), ("checkpoint-2", 2, finished / "checkpoint-2"),
        ("checkpoint-1", 1, finished / "checkpoint-1")]
    assert [(c.label, c.checkpoint) for c in export_choices(stopped)] == [("checkpoint-2", 2), ("checkpoint-1", 1)]
    # A checkpoint cut off while saving (no trainer_state.json yet) is not offered, as generate does not offer it.
    bare = tmp_path / "bare"
    shutil.copytree(finished, bare, ignore=shutil.ignore_patterns("checkpoint-*"))
    (bare / "checkpoint-3").mkdir()
    assert [(c.label, c.checkpoint) for c in export_choices(bare)] == [("Final model", None)]
    assert choice_tip(export_choices(bare)) == ("This run kept no complete checkpoint, so its final model is the "
                                                "one to export.")
    assert "a checkpoint's export goes into a folder of its own" in choice_tip(export_choices(finished))
    # core's refusal of a damaged checkpoint names the command line's flag; the dialog names its box and folder.
    said = window_words(f"To fix: {PICK_CHECKPOINT}. Or leave --out out for the default (export-adapter or "
                        "export-merged in the run folder).", finished, "adapter", 2)
    assert said == (f"To fix: pick another model in the Model box. Or use the default folder, "
                    f"{finished / 'export-adapter-checkpoint-2'}.")


@pytest.mark.slow
def test_checkpoint_1_exported_from_the_dialog_holds_its_adapter(qtbot: Any, runs: tuple[Path, Path]) -> None:
    finished, _ = runs
    dialog = ExportDialog(finished)
    qtbot.addWidget(dialog)
    dialog.show()
    assert _items(dialog) == [("Final model", None), ("checkpoint-2", 2), ("checkpoint-1", 1)]
    assert dialog.what_box.currentText() == "Final model" and dialog.what_box.isEnabled()
    assert dialog.out_edit.text() == str(finished / "export-adapter")

    dialog.what_box.setCurrentIndex(2)  # checkpoint-1: the proposed folder follows it, and the kind
    assert dialog.checkpoint == 1
    assert dialog.out_edit.text() == str(finished / "export-adapter-checkpoint-1")
    dialog.merged_radio.click()
    assert dialog.out_edit.text() == str(finished / "export-merged-checkpoint-1")
    dialog.adapter_radio.click()
    assert dialog.out_edit.text() == str(finished / "export-adapter-checkpoint-1")

    dialog.export_button.click()
    assert dialog.phase_label.text() == "Copying the adapter of checkpoint-1…"
    assert not dialog.what_box.isEnabled()  # as the kind and the folder, while it exports
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=WAIT)
    out = finished / "export-adapter-checkpoint-1"
    assert dialog.message.property("kind") == "success", dialog.message.text()
    assert dialog.message.text().startswith("Exported the adapter of checkpoint-1 of ckpt-run (")
    assert f") to {out}." in dialog.message.text()
    assert dialog.result.out_dir == out
    assert dialog.load_edit.text() == ("from peft import AutoPeftModelForCausalLM; model = "
                                       f"AutoPeftModelForCausalLM.from_pretrained({str(out)!r})")
    exported, first = _tensors(out), _tensors(finished / "checkpoint-1")
    assert _same(exported, first)
    assert not _same(exported, _tensors(finished / "model")), "checkpoint-1 equals the final model: shows nothing"
    assert not (finished / "export-adapter").exists()  # the final model's default folder is left alone

    # A folder the user typed stays when the model changes; back to the final model, the proposal is its own.
    typed = str(finished.parent / "mine")
    dialog.out_edit.setText(typed)
    dialog.out_edit.textEdited.emit(typed)
    dialog.what_box.setCurrentIndex(1)
    assert dialog.out_edit.text() == typed
    dialog.out_edit.setText("")
    dialog.out_edit.textEdited.emit("")
    dialog.what_box.setCurrentIndex(0)
    assert dialog.checkpoint is None and dialog.out_edit.text() == str(finished / "export-adapter")


@pytest.mark.slow
def test_a_stopped_run_opens_the_dialog_and_exports_its_newest_checkpoint(qtbot: Any,
                                                                         runs: tuple[Path, Path]) -> None:
    from finetune_studio.core.session import Session

    _, stopped = runs
    session = Session()
    said: list[str] = []
    controller = ExportController(session, lambda text, ms: said.append(text))
    qtbot.addWidget(controller.button)
    session.show_recorded(stopped)
    assert session.state.value == "stopped" and not controller.button.isHidden()
    dialog = controller.open_export()
    assert dialog is not None  # a child of the button's window, closed (and deleted) below
    assert _items(dialog) == [("checkpoint-2", 2), ("checkpoint-1", 1)]
    assert dialog.checkpoint == 2 and dialog.out_edit.text() == str(stopped / "export-adapter-checkpoint-2")
    assert "on " in dialog.run_label.text() and "its base model" not in dialog.run_label.text()  # read from it
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=WAIT)
    assert dialog.message.property("kind") == "success", dialog.message.text()
    assert dialog.message.text().startswith("Exported the adapter of checkpoint-2 of stopped-run (")
    assert said == [dialog.message.text()]  # the status bar says it too
    assert _same(_tensors(stopped / "export-adapter-checkpoint-2"), _tensors(stopped / "checkpoint-2"))
    assert not _same(_tensors(stopped / "checkpoint-1"), _tensors(stopped / "checkpoint-2"))
    dialog.close()

    session.begin("Preparing…")  # no run shown, or one being trained: no button
    assert controller.button.isHidden()


@pytest.mark.slow
def test_a_merged_export_of_a_checkpoint_passes_it_to_core_export(qtbot: Any, runs: tuple[Path, Path],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.core.export import ExportError
    from finetune_studio.gui import export_dialog

    seen: list[tuple[str, Path, Any]] = []
    gate = threading.Event()

    def export(run_dir: Path, kind: str, out_dir: Path, overwrite: bool, progress: Any, cancel: Any = None,
               dtype: str = "auto", checkpoint: int | None = None) -> Any:
        seen.append((kind, out_dir, checkpoint))
        gate.wait(10)
        raise ExportError("Stopped here by the test.")

    monkeypatch.setattr(export_dialog, "_export", export)
    finished, _ = runs
    dialog = ExportDialog(finished, kind="merged")
    qtbot.addWidget(dialog)
    dialog.what_box.setCurrentIndex(1)
    assert dialog.out_edit.text() == str(finished / "export-merged-checkpoint-2")
    dialog.export_button.click()
    assert dialog.phase_label.text() == "Merging checkpoint-2… (loads the base model)"
    gate.set()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=10_000)
    dialog.what_box.setCurrentIndex(0)
    dialog.export_button.click()
    assert dialog.phase_label.text() == "Merging… (loads the base model)"
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=10_000)
    assert seen == [("merged", finished / "export-merged-checkpoint-2", 2),
                    ("merged", finished / "export-merged", None)]
    assert dialog.message.text() == "Stopped here by the test."
