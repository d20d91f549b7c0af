"""Help > About: what this installation is made of, in one block a user can paste into a bug report.

The versions come from the installed distributions' metadata and torch's build from torch/version.py
(core.doctor), so opening the dialog imports none of the training libraries; the GPU is read through NVML or
nvidia-smi in the background (a hung driver must not freeze the window), and its row says "looking…" until then.
`version_rows` and `report_text` are plain functions: tests check the text without a dialog.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from finetune_studio.core import doctor
from finetune_studio.gui.background import BackgroundTask
from finetune_studio.gui.icon import app_icon

HOMEPAGE = "https://github.com/finetune-studio/finetune-studio"  # placeholder, as in pyproject's [project.urls]
LIBRARIES = ("transformers", "datasets", "peft")


def installed(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def version_rows(torch: doctor.TorchBuild, gpu: doctor.Gpu | None) -> list[tuple[str, str]]:
    """(what, version) for the app, Python, torch with its CUDA/ROCm build, the libraries, PySide6/Qt and the GPU
    (None: not read yet)."""
    import PySide6
    from PySide6.QtCore import qVersion

    build = {"cpu": "CPU only", "cuda": f"CUDA {torch.cuda}", "rocm": f"ROCm {torch.rocm}"}.get(torch.kind)
    rows = [("Finetune Studio", installed("finetune-studio")),
            ("Python", f"{platform.python_version()} ({platform.python_implementation()}, {sys.executable})"),
            ("torch", f"{torch.version} ({build})" if build else "not installed")]
    rows += [(name, installed(name)) for name in LIBRARIES]
    rows += [("PySide6", f"{PySide6.__version__} (Qt {qVersion()})"),
             ("GPU", gpu.describe() if gpu is not None else "looking…"),
             ("System", platform.platform())]
    return rows


def report_text(rows: list[tuple[str, str]]) -> str:
    """What Copy puts on the clipboard: one `what: version` line each."""
    return "\n".join(f"{what}: {value}" for what, value in rows)


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("about_dialog")
        self.setWindowTitle("About Finetune Studio")
        self.torch = doctor.torch_build()
        self.gpu: doctor.Gpu | None = None
        self.rows = version_rows(self.torch, None)

        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(64, 64))
        title = QLabel(f"<b style='font-size:16pt'>Finetune Studio</b><br>version {self.rows[0][1]}")
        blurb = QLabel("Point-and-click fine-tuning of Hugging Face language models on your own GPU.<br>"
                       f"<a href='{HOMEPAGE}'>{HOMEPAGE}</a>")
        blurb.setOpenExternalLinks(True)
        blurb.setWordWrap(True)
        header = QHBoxLayout()
        header.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.addWidget(title)
        text.addWidget(blurb)
        text.addStretch(1)
        header.addLayout(text, 1)

        self.form = QFormLayout()
        self.value_labels: dict[str, QLabel] = {}
        for what, value in self.rows:
            label = QLabel(value)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            self.value_labels[what] = label
            self.form.addRow(f"{what}:", label)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy these versions to the clipboard, for a bug report")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addSpacing(8)
        layout.addLayout(self.form)
        layout.addWidget(buttons)
        blurb.setMinimumWidth(420)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)  # as tall as its text, no empty band

        self.gpu_task = BackgroundTask(self)
        self.gpu_task.result.connect(self.set_gpu)
        self.gpu_task.submit(doctor.find_gpu)

    def set_gpu(self, gpu: doctor.Gpu) -> None:
        self.gpu = gpu
        self.rows = version_rows(self.torch, gpu)
        self.value_labels["GPU"].setText(gpu.describe())

    def text(self) -> str:
        return report_text(self.rows)

    def copy(self) -> None:
        QApplication.clipboard().setText(self.text())
        self.copy_button.setText("Copied")
        QTimer.singleShot(1500, self, lambda: self.copy_button.setText("Copy"))  # dropped if the dialog closed


def show_about(parent: QWidget | None) -> AboutDialog:
    """Open the About dialog (non-modal: the window stays usable); returns it for tests."""
    dialog = AboutDialog(parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
