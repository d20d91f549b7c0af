"""Help > About and Help > Check runtime, and the first-run check: what they show, what Copy copies, that the
fix command is never run, and when the first-run dialog appears."""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QProcess
from PySide6.QtWidgets import QApplication

from finetune_studio.core import doctor
from finetune_studio.gui import background, runtime_check
from finetune_studio.gui.about import AboutDialog, version_rows

MISMATCH = doctor.judge(doctor.Gpu("nvidia", ("NVIDIA GeForce RTX 4090",), "570.86.15", "12.8", "NVML"),
                        doctor.TorchBuild("cpu", "2.13.0+cpu"),
                        (doctor.Disk("runs folder", Path("/runs"), 200 * 1024**3),), python="/venv/bin/python")
FINE = doctor.judge(doctor.Gpu("none", how="none"), doctor.TorchBuild("cpu", "2.13.0+cpu"),
                    (doctor.Disk("runs folder", Path("/runs"), 200 * 1024**3),))


@pytest.fixture
def nothing_runs(monkeypatch: pytest.MonkeyPatch) -> list:
    """Any attempt to start a process (the fix command) is recorded and refused."""
    started: list = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        started.append(args)
        raise AssertionError(f"a process was started: {args}")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(QProcess, "start", refuse)
    monkeypatch.setattr(QProcess, "startDetached", refuse)
    return started


def test_about_shows_every_version_and_copies_them(qtbot: Any) -> None:
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    assert dialog.value_labels["GPU"].text() == "looking…"
    background.wait_idle()
    qtbot.waitUntil(lambda: dialog.gpu is not None)
    import PySide6

    lines = dialog.text().splitlines()
    assert lines[0] == f"Finetune Studio: {metadata.version('finetune-studio')}"
    assert f"torch: {metadata.version('torch')} (CPU only)" in lines  # this VM: the CPU wheel, "2.13.0+cpu"
    for name in ("transformers", "datasets", "peft"):
        assert f"{name}: {metadata.version(name)}" in lines
    assert any(line.startswith(f"PySide6: {PySide6.__version__} (Qt ") for line in lines)
    assert "GPU: no GPU found (NVML, nvidia-smi and /dev/kfd found none)" in lines
    assert dialog.value_labels["GPU"].text() == "no GPU found (NVML, nvidia-smi and /dev/kfd found none)"
    dialog.copy_button.click()
    assert QApplication.clipboard().text() == dialog.text()
    assert dialog.copy_button.text() == "Copied"


def test_about_names_the_cuda_and_rocm_builds_of_torch() -> None:
    gpu = doctor.Gpu("nvidia", ("NVIDIA H100",), "570.1", "12.8", "NVML")
    rows = dict(version_rows(doctor.TorchBuild("cuda", "2.13.0+cu128", cuda="12.8"), gpu))
    assert rows["torch"] == "2.13.0+cu128 (CUDA 12.8)"
    assert rows["GPU"] == "NVIDIA H100 (driver 570.1, CUDA 12.8; read with NVML)"
    rows = dict(version_rows(doctor.TorchBuild("rocm", "2.13.0+rocm6.4", rocm="6.4"), None))
    assert rows["torch"] == "2.13.0+rocm6.4 (ROCm 6.4)" and rows["GPU"] == "looking…"


def test_runtime_dialog_shows_the_fix_copies_it_and_runs_nothing(qtbot: Any, nothing_runs: list) -> None:
    dialog = runtime_check.RuntimeCheckDialog(MISMATCH)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.headline.text().endswith("Training will not use this machine's GPU</b>")
    assert dialog.command.toPlainText() == ('/venv/bin/python -m pip install "torch==2.13.0+cu128" '
                                            "--index-url https://download.pytorch.org/whl/cu128")
    assert dialog.command.isReadOnly() and dialog.command.isVisible() and dialog.copy_command.isVisible()
    dialog.copy_command.click()
    assert QApplication.clipboard().text() == MISMATCH.fix_command
    dialog.copy_report.click()
    assert QApplication.clipboard().text() == MISMATCH.text()
    assert nothing_runs == []


def test_runtime_dialog_without_a_problem_offers_no_command(qtbot: Any) -> None:
    dialog = runtime_check.RuntimeCheckDialog(FINE)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.headline.text().endswith("Ready to train</b>")
    assert not dialog.command.isVisible() and not dialog.copy_command.isVisible()
    assert "they match" in dialog.findings.text()


def test_first_run_shows_a_problem_once_and_again_when_it_changes(qtbot: Any) -> None:
    first = runtime_check.at_start(MISMATCH, None)
    assert first is not None and first.report is MISMATCH
    first.close()
    assert runtime_check.at_start(MISMATCH, None) is None  # the same state: not again at every launch
    other_torch = doctor.judge(MISMATCH.gpu, doctor.TorchBuild("cpu", "2.13.1+cpu"), MISMATCH.disks)
    again = runtime_check.at_start(other_torch, None)
    assert again is not None
    again.close()
    assert runtime_check.at_start(FINE, None) is None  # fine: nothing to show, ever


@pytest.mark.slow
def test_help_menu_is_last_and_check_runtime_reports_this_machine(qtbot: Any, runs_dir: Path) -> None:
    from finetune_studio.gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    menus = [action.text() for action in window.menuBar().actions()]
    assert menus[-1] == "&Help"
    assert [a.text() for a in window.help_menu.menu.actions() if a.text()] == ["Check &runtime…",
                                                                              "&About Finetune Studio"]
    window.help_menu.check_action.trigger()
    background.wait_idle()
    qtbot.waitUntil(lambda: window.help_menu.runtime_dialog is not None)
    dialog = window.help_menu.runtime_dialog
    assert dialog.report.torch.kind == "cpu" and not dialog.report.gpu.present
    assert f"runs folder {runs_dir}:" in dialog.facts.text()
    assert window.help_menu.check_action.isEnabled()
    dialog.close()
    window.help_menu.about_action.trigger()
    assert window.help_menu.about_dialog.isVisible()
    background.wait_idle()
    qtbot.waitUntil(lambda: window.help_menu.about_dialog.gpu is not None)
    window.help_menu.about_dialog.close()
