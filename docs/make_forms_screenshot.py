"""Render the left-side forms with the demo config and save docs/forms.png (plus one image per tab).

Run under a virtual display:  xvfb-run -a -s "-screen 0 1280x800x24" python docs/make_forms_screenshot.py
Add `--review DIR` to also write each tab as it appears in the window, with and without problem marks, to DIR
(what to look at after changing a form). The window mimics the main window's proportions (forms take ~45% of a
1280x800 window, inside scroll areas), so clipped labels or cramped fields show up here before anyone files a bug
about them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QRect, Qt  # noqa: E402
from PySide6.QtGui import QColor, QPainter, QPixmap  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QApplication,
    QLabel,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QWidget,
)

from finetune_studio.core.config import default_config  # noqa: E402
from finetune_studio.core.errors import Problem  # noqa: E402
from finetune_studio.gui import background  # noqa: E402
from finetune_studio.gui.forms import ArgumentsPanel, DatasetForm, HubForm, ModelForm, TrainingForm  # noqa: E402

OUT = ROOT / "docs"
WIDTH, HEIGHT = 1280, 800


def wait(app: QApplication, done, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the background jobs")
        app.processEvents()
        time.sleep(0.02)


def scrolled(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidget(widget)
    widget.setContentsMargins(10, 10, 10, 10)
    return area


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--review", type=Path, help="also save per-tab window shots here")
    args = parser.parse_args()
    review: Path | None = args.review
    if review:
        review.mkdir(parents=True, exist_ok=True)

    def save_review(pixmap: QPixmap, name: str) -> None:
        if review:
            pixmap.save(str(review / name))

    app = QApplication(sys.argv[:1])
    config = default_config()
    dataset, model, training, arguments, hub = DatasetForm(), ModelForm(), TrainingForm(), ArgumentsPanel(), HubForm()
    forms = [dataset, model, training, arguments, hub]
    for form in forms:
        form.load(config)
    dataset.set_recent(["builtin:sample", "~/data/horoscopes.jsonl"])

    tabs = QTabWidget()
    tabs.addTab(scrolled(dataset), "Dataset")
    tabs.addTab(scrolled(model), "Model")
    tabs.addTab(scrolled(training), "Training")
    arguments.setContentsMargins(10, 10, 10, 10)
    tabs.addTab(arguments, "All arguments")
    tabs.addTab(scrolled(hub), "Hub")
    right = QLabel("Run monitor (chart, log): main window")
    right.setAlignment(Qt.AlignmentFlag.AlignCenter)
    splitter = QSplitter()
    splitter.addWidget(tabs)
    splitter.addWidget(right)
    splitter.setWindowTitle("Finetune Studio: forms")
    splitter.resize(WIDTH, HEIGHT)
    splitter.setSizes([int(WIDTH * 0.45), WIDTH - int(WIDTH * 0.45)])
    splitter.show()

    from finetune_studio.core.hardware import detect
    from finetune_studio.core.validation import training_fields

    training.set_hardware(detect())
    fields = training_fields()
    training.populate(fields)
    arguments.populate(fields)
    print(f"ArgumentsPanel.populate: {arguments.populate_ms:.0f} ms for {len(arguments._rows)} rows")
    dataset.refresh_statistics(config.model)
    wait(app, lambda: dataset.preview_model.rowCount() > 0 and dataset.histogram.has_data()
         and not dataset.stats_task.busy)

    # One edited argument, so the "changed" marker is visible.
    row = arguments.row("weight_decay")
    row.editor.setText("0.01")
    row.editor.textEdited.emit("0.01")
    arguments.filter_edit.setText("")
    app.processEvents()

    shots: list[tuple[str, QPixmap]] = []
    for index, name in enumerate(["dataset", "model", "training", "arguments", "hub"]):
        tabs.setCurrentIndex(index)
        for _ in range(5):
            app.processEvents()
        save_review(splitter.grab(), f"forms-{name}.png")
        shots.append((name, tabs.grab()))
    # Full height of the dataset form (it scrolls in the window).
    tabs.setCurrentIndex(0)
    app.processEvents()
    dataset_full = dataset.grab()
    dataset.max_length_spin.setValue(128)  # the max_length line inside the bars, and a truncation count
    app.processEvents()
    save_review(dataset.grab(), "forms-dataset-128.png")
    dataset.max_length_spin.setValue(512)

    # Problem marks, as validate() would report them.
    problems = [Problem("dataset.max_length", "max_length must be a whole number above 0 (got 0)."),
                Problem("training.learning_rate", "learning_rate must be above 0 (got 0); the seed uses 2e-5."),
                Problem("training.save_strategy", "load_best_model_at_end needs save_strategy to match "
                                                  "eval_strategy ('epoch'), but it is 'steps'."),
                Problem("training.bf16", "bf16 needs a GPU that supports it (NVIDIA Ampere or newer), but this "
                                         "machine has no GPU. Choose precision 'auto' or fp32."),
                Problem("dataset.text_column", "builtin:sample: there is no column 'horoscop'. Columns: sign, "
                                               "date, category, horoscope. Did you mean 'horoscope'?"),
                Problem("training.warmup_steps", "warmup_steps must be a number (got 'ten')."),
                Problem("model.name_or_path", "Model folder not found: /models/qwen."),
                Problem("training", "TrainingArguments rejected these settings: an example of a whole-section "
                                    "message.")]
    for form in forms:
        form.show_problems(problems)
    model.trust_check.setChecked(True)
    arguments.filter_edit.setText("warmup")
    for index, name in ((2, "training"), (0, "dataset"), (1, "model"), (3, "arguments")):
        tabs.setCurrentIndex(index)
        for _ in range(5):
            app.processEvents()
        save_review(splitter.grab(), f"forms-problems-{name}.png")
    for form in forms:
        form.show_problems([])
    model.trust_check.setChecked(False)
    arguments.filter_edit.setText("")

    # docs/forms.png: the full dataset form next to the Training and All arguments tabs as they appear.
    pieces = [dataset_full, shots[2][1], shots[3][1]]
    gap = 16
    width = sum(p.width() for p in pieces) + gap * (len(pieces) + 1)
    height = max(p.height() for p in pieces) + 2 * gap
    mosaic = QPixmap(width, height)
    mosaic.fill(QColor("#dfe3e8"))
    painter = QPainter(mosaic)
    x = gap
    for piece in pieces:
        painter.fillRect(QRect(x, gap, piece.width(), piece.height()), app.palette().window())
        painter.drawPixmap(x, gap, piece)
        x += piece.width() + gap
    painter.end()
    mosaic.save(str(OUT / "forms.png"))
    print(f"saved {OUT / 'forms.png'} ({width}x{height})" + (f"; review shots in {review}" if review else ""))
    splitter.close()
    background.wait_idle()


if __name__ == "__main__":
    main()
