"""Issue 12 items 10 and 13 through the real window (MainWindow), not only on their widgets: the progress figures'
tooltips and decimals after Start, Stop and Resume, the run header's problems, the log's last line, the Dataset
tab's max_length label and the chart's single point and learning-rate labels, at 900×600 and 1280×800.

The measuring code is the widget tests' own (imported): tests/gui/test_run_lifecycle_gui.py (figures),
tests/gui/test_window_layout.py (the log's last line) and tests/gui/test_chart.py (axis labels).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui.run_header import RunState
from tests.gui.test_app import LONG, DialogLog, dialog_log, make_window, start_run, wait_idle, wait_state, window
from tests.gui.test_chart import _axis_labels
from tests.gui.test_run_lifecycle_gui import figures
from tests.gui.test_window_layout import _last_line_shown_whole
from tests.helpers import SAMPLE, read_events, small_config

SIZES = [(900, 600), (1280, 800)]

# What each figure's tooltip must say it means (gui.progress.ProgressWidget.TIPS, in words a user reads).
MEANINGS = {
    "step": ("Optimizer steps done / steps the run trains in all", "Counts on across Stop and Resume"),
    "epoch": ("Passes over the training rows done / the epoch the run ends at", "max_steps ends it within an epoch"),
    "elapsed": ("its start and every resume added up", "the same figure as Duration in the Runs tab"),
    "eta": ("Estimated time until the last optimizer step", "Blank until that average exists"),
    "tokens": ("tokens trained per second", "averaged since this start or resume"),
}


def sized(qtbot: Any, window: Any, size: tuple[int, int]) -> None:
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size, timeout=5_000)
    qtbot.wait(50)  # the layouts and splitters settle


def tooltips_say_what_they_mean(window: Any) -> None:
    """Every figure of the window's progress panel, and its caption, carries its own meaning."""
    from PySide6.QtWidgets import QLabel

    progress = window.progress
    captions = {label.text(): label for label in progress.findChildren(QLabel)}
    tips = {}
    for key, phrases in MEANINGS.items():
        tip = progress.values[key].toolTip()
        assert all(phrase in tip for phrase in phrases), (key, tip)
        assert captions[progress.CAPTIONS[key]].toolTip() == tip, key
        tips[key] = tip
    assert len(set(tips.values())) == len(MEANINGS)


def figures_fit(window: Any) -> None:
    """Each figure is whole in its field: a read-only line edit scrolls a text wider than itself out of view."""
    for key, field in window.progress.values.items():
        margins = field.textMargins()
        room = field.contentsRect().width() - 4 - margins.left() - margins.right()  # QLineEdit's own 2 px a side
        assert field.fontMetrics().horizontalAdvance(field.text()) <= room, (key, field.text(), room)


def epoch_figure(text: str) -> tuple[float, float]:
    """"0.0002 / 0.0044" -> (0.0002, 0.0044); a figure with no real decimals ("0.00 / 0") fails here."""
    match = re.fullmatch(r"(\d+\.\d+) / (\d+(?:\.\d+)?)", text)
    assert match, text
    return float(match[1]), float(match[2])


def large_dataset(folder: Path, copies: int = 5) -> Path:
    """10,000 rows (the sample five times): 9,000 training rows, so a step at batch size 1 is 1/9000 epoch."""
    path = folder / "large.jsonl"
    path.write_text(SAMPLE.read_text(encoding="utf-8") * copies, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------- item 10


@pytest.mark.slow
def test_the_windows_figures_say_what_they_mean_and_a_tiny_epoch_keeps_its_decimals(
        qtbot: Any, window: Any, tmp_path: Path, runs_dir: Path, dialog_log: DialogLog) -> None:
    """A run of 40 steps on 10,000 rows ends at epoch 0.0044: Start, Stop and Resume in the real window each show
    the epoch with the decimals it needs ("0.0002 / 0.0044", never "0.00 / 0"), and every figure keeps the tooltip
    that says what it means. At 1280×800 every figure is whole in its field (at 900×600 see the next test)."""
    sized(qtbot, window, (1280, 800))
    tooltips_say_what_they_mean(window)  # before any run
    config = small_config(large_dataset(tmp_path), runs_dir, max_steps=40, per_device_train_batch_size=1,
                          logging_steps=5, eval_strategy="no", save_strategy="steps", save_steps=1000,
                          load_best_model_at_end=False)
    seen: list[tuple[str, dict[str, str]]] = []  # (event, the figures the user sees right after it)

    def watch(event: dict) -> None:  # after the window's own handler
        seen.append((event.get("event", ""), figures(window)))
        if event.get("event") == "step" and event["step"] >= 2 and window.state is RunState.RUNNING \
                and sum(kind == "train_begin" for kind, _ in seen) == 1:
            window.stop_action.trigger()

    window.runner.event.connect(watch)
    start_run(qtbot, window, config)
    wait_state(qtbot, window, RunState.STOPPED)
    wait_idle(qtbot, window)
    run_dir = window.run_dir
    begin, stopped = read_events(run_dir, "train_begin")[0], read_events(run_dir, "end")[-1]
    assert stopped["state"] == "stopped" and 2 <= stopped["step"] < 40
    total = begin["epochs_total"]
    assert 0.0043 < total < 0.0046  # 40 steps of a 9,000-step epoch (0.00444)
    started = next(shown for kind, shown in seen if kind == "train_begin")
    assert started["step"] == "0 / 40"
    assert epoch_figure(started["epoch"]) == (0.0, round(total, 4))  # "0.0000 / 0.0044"
    tooltips_say_what_they_mean(window)  # after Start

    after_stop = figures(window)
    assert after_stop["step"] == f"{stopped['step']} / 40"
    epoch, shown_total = epoch_figure(after_stop["epoch"])
    assert shown_total == round(total, 4) and abs(epoch - stopped["step"] / 40 * total) < 0.00006
    assert epoch > 0
    tooltips_say_what_they_mean(window)  # after Stop
    figures_fit(window)

    window.resume_action.trigger()
    wait_state(qtbot, window, RunState.FINISHED)
    wait_idle(qtbot, window)
    resumed = [shown for kind, shown in seen if kind == "train_begin"][1]
    assert resumed["step"] == f"{stopped['step']} / 40"
    assert epoch_figure(resumed["epoch"]) == (epoch, round(total, 4))
    done = figures(window)
    assert done["step"] == "40 / 40" and epoch_figure(done["epoch"]) == (round(total, 4), round(total, 4))
    tooltips_say_what_they_mean(window)  # after Resume
    figures_fit(window)
    # Never "0 / 0", nor a total of 0, at any moment of the run.
    epochs = [shown["epoch"] for _, shown in seen if shown["epoch"] != "—"]
    assert epochs and all(epoch_figure(text)[1] > 0 for text in epochs), epochs
    assert dialog_log.errors == []


def test_a_tiny_epoch_figure_is_whole_in_the_window_at_900x600(qtbot: Any, make_window: Any) -> None:
    """The figures of the run above (step 3 of 40 on 9,000 rows) in the window's progress panel at 900×600: the
    epoch field is 93 px wide and "0.0003 / 0.0044" needs 105, so it showed "0003 / 0.0044"."""
    window = make_window(warm=False)
    sized(qtbot, window, (900, 600))
    progress = window.progress
    progress.add_event({"event": "train_begin", "step": 0, "max_steps": 40, "epoch": 0.0, "epochs_total": 40 / 9000,
                        "elapsed_s": 12.0, "eta_s": None})
    progress.add_event({"event": "step", "step": 3, "max_steps": 40, "epoch": 3 / 9000, "elapsed_s": 14.0,
                        "eta_s": 2.0})
    qtbot.waitUntil(lambda: progress.values["step"].text() == "3 / 40", timeout=2_000)
    assert progress.values["epoch"].text() == "0.0003 / 0.0044"
    qtbot.wait(50)  # the grid's re-layout for the wider field
    figures_fit(window)
    assert (window.width(), window.minimumSizeHint().width() <= 900) == (900, True)  # room from the step's field
    # six decimals (a run that ends within a hundred-thousandth of an epoch) fit too
    progress.add_event({"event": "step", "step": 30, "max_steps": 40, "epoch": 3e-5, "epochs_total": 4e-5,
                        "elapsed_s": 15.0, "eta_s": 1.0})
    qtbot.waitUntil(lambda: progress.values["step"].text() == "30 / 40", timeout=2_000)
    assert progress.values["epoch"].text() == "0.000030 / 0.00004"
    qtbot.wait(50)  # the grid's re-layout for the wider field
    figures_fit(window)
    assert window.width() == 900
    wide = progress.values["epoch"].minimumWidth()
    progress.reset()  # the next run starts from the usual width, not the widest figure of the last one
    assert progress.values["epoch"].minimumWidth() < wide


# ---------------------------------------------------------------------------------------------- item 13


@pytest.mark.parametrize("size", SIZES)
def test_the_windows_problems_take_one_line_each_and_keep_their_whole_text(
        qtbot: Any, window: Any, tmp_path: Path, runs_dir: Path, size: tuple[int, int]) -> None:
    """Long problems above the chart of the real window: one line each (shortened with "…" on screen), the label
    as high as it asks, every message whole in text() and the tooltip ("… The" was all a squeezed label showed)."""
    from PySide6.QtWidgets import QLabel

    sized(qtbot, window, size)
    missing = tmp_path / ("a-folder-with-a-rather-long-name/" * 3 + "horoscopes.jsonl")
    config = small_config(missing, runs_dir, learning_rate=-1, num_train_epochs=0, max_steps=-1,
                          per_device_train_batch_size=0)
    window.set_config(config)
    label = window.header.problems_label
    qtbot.waitUntil(lambda: label.isVisible() and "Fix 4 problems to start" in label.text(), timeout=LONG)
    qtbot.wait(50)
    messages = [problem.message for problem in window.problems]
    assert len(messages) == 4
    assert messages[0].startswith(f"Dataset not found: {missing}.") and messages[0].endswith("built-in sample.")
    assert any(m.startswith("learning_rate must be above 0 (got -1)") for m in messages)
    for message in messages:  # whole where the user can read it all
        assert html.escape(message) in label.text() and html.escape(message) in label.toolTip()
    # Not cut: as high as its text needs at its width, and all of it inside the window.
    needed = max(label.sizeHint().height(), label.heightForWidth(label.width()))
    assert label.height() >= needed, (size, label.height(), needed)
    assert label.visibleRegion().boundingRect() == label.rect()
    # One line per problem: each painted line is narrower than the label (its bullet's indent aside), and the
    # label's height is the title's line and three more.
    painted = QLabel.text(label)
    lines = re.findall(r"<li>(?:<a [^>]*>)?([^<]*)", painted)
    width = label.contentsRect().width()
    assert all(label.fontMetrics().horizontalAdvance(text) <= width - 40 for text in lines), (size, width, lines)
    assert label.sizeHint().height() <= 4 * label.fontMetrics().lineSpacing() + 24
    assert len(lines) == 3 and "Fix 4 problems to start (3 shown" in painted
    assert lines[0].endswith("…") and messages[0].startswith(lines[0][:-1])  # the path is longer than any window
    assert (window.width(), window.height()) == size


LONG_LINE = ("The run wrote its config to " + "/a/rather/long/folder" * 8 + "/config.yaml. The next start reads it "
             "again; To fix: nothing, this is only said.")


def log_with_a_long_last_line(qtbot: Any, window: Any) -> Any:
    """The window's log, following its tail, after 40 short lines and a long one that wraps."""
    log = window.log
    for i in range(40):
        log.message(f"line {i}: the run wrote its config. The next line follows.")
    log.message(LONG_LINE)
    bar = log.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=2_000)
    assert log.toPlainText().endswith(LONG_LINE)
    assert log.document().lastBlock().layout().lineCount() >= 2  # the long line wraps
    assert bar.value() == bar.maximum() and _last_line_shown_whole(log)
    return log


@pytest.mark.parametrize("size", SIZES)
def test_the_windows_log_keeps_its_last_line_whole_when_the_window_gets_lower(
        qtbot: Any, window: Any, tmp_path: Path, runs_dir: Path, size: tuple[int, int]) -> None:
    """The window's log after a long (wrapped) message: the window made 300 px lower, then problems shown above the
    chart taking more height from the log, and it still shows its last line whole ("…config. Th" before)."""
    width, height = size
    sized(qtbot, window, (width, height + 300))
    log = log_with_a_long_last_line(qtbot, window)
    bar = log.verticalScrollBar()
    taller = log.viewport().height()
    sized(qtbot, window, size)
    assert log.viewport().height() < taller
    assert bar.value() == bar.maximum() and _last_line_shown_whole(log), size
    before = log.viewport().height()
    window.set_config(small_config(tmp_path / "missing.jsonl", runs_dir, learning_rate=-1))  # problems above
    qtbot.waitUntil(window.header.problems_label.isVisible, timeout=LONG)
    qtbot.wait(50)
    assert log.viewport().height() < before  # the problems took height from the log
    assert LONG_LINE in log.toPlainText()
    assert bar.value() == bar.maximum() and _last_line_shown_whole(log), size


def test_the_windows_log_keeps_its_last_line_whole_when_the_window_gets_narrower(qtbot: Any, window: Any) -> None:
    """1280×800 to 900×600: the log goes from 654 to 437 px wide and its lines wrap again. The last message showed
    as "The run wrote its config to /a/rather/long/" with the rest below the log's bottom edge, the scroll bar at
    its maximum (40 of 40) and no way for the log to follow its tail until the next message came."""
    sized(qtbot, window, (1280, 800))
    log = log_with_a_long_last_line(qtbot, window)
    bar = log.verticalScrollBar()
    sized(qtbot, window, (900, 600))
    # once the resize has settled (gui.log_panel.REWRAP_MS); it never showed again until the next message
    qtbot.waitUntil(lambda: _last_line_shown_whole(log), timeout=2_000)
    assert bar.value() == bar.maximum()


@pytest.mark.parametrize("size", SIZES)
def test_the_windows_max_length_label_stays_inside_the_histogram(
        qtbot: Any, window: Any, small_dataset: Path, runs_dir: Path, size: tuple[int, int]) -> None:
    """The Dataset tab's token histogram in the real window, counted by the real tokenizer: the "max_length N"
    label is whole inside the plot for a max_length at the axis (it showed "2"), mid-way and at the longest row."""
    sized(qtbot, window, size)
    window.set_config(small_config(small_dataset, runs_dir))
    form = window.dataset_form
    page = window.pages[form]
    window.tabs.setCurrentWidget(page)
    histogram = form.histogram
    qtbot.waitUntil(histogram.has_data, timeout=LONG)
    page.ensureWidgetVisible(histogram)
    edges = histogram._edges
    view = histogram.plot.getPlotItem().vb
    for max_length in (2, 8, (edges[0] + edges[-1]) // 2, edges[-1]):
        form.max_length_spin.setValue(max_length)
        qtbot.wait(20)
        label = histogram.line.label
        assert label.isVisible() and label.toPlainText() == f"max_length {max_length}", max_length
        inside = view.sceneBoundingRect().adjusted(-1, -1, 1, 1)
        assert inside.contains(label.sceneBoundingRect()), (size, max_length)  # whole, not cut by the axis
        on_screen = histogram.plot.mapFromScene(label.sceneBoundingRect()).boundingRect()
        assert histogram.plot.rect().contains(on_screen), (size, max_length)
    assert histogram.width() <= page.viewport().width()  # the histogram itself is not cut by the tab


def _pixels_near(window: Any, curve: Any, x: float, y: float, color: str) -> int:
    """Pixels of `color` drawn within 5 px of the point (x, y) of `curve`, in the window's chart as it paints."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QColor

    chart = window.chart
    centre = chart.plots.mapFromScene(curve.getViewBox().mapViewToScene(QPointF(x, y)))
    image = chart.plots.grab().toImage()
    want = QColor(color)
    count = 0
    for px in range(centre.x() - 5, centre.x() + 6):
        for py in range(centre.y() - 5, centre.y() + 6):
            if 0 <= px < image.width() and 0 <= py < image.height():
                got = image.pixelColor(px, py)
                if max(abs(got.red() - want.red()), abs(got.green() - want.green()),
                       abs(got.blue() - want.blue())) <= 40:
                    count += 1
    return count


def test_the_windows_chart_draws_a_run_with_one_logged_point(qtbot: Any, window: Any, small_dataset: Path,
                                                           runs_dir: Path, dialog_log: DialogLog) -> None:
    """A real run of one step, logged once: the window's chart draws that point (a line needs two, so it looked
    empty), loss and learning rate, at both sizes."""
    from finetune_studio.gui.chart import LR_COLOR, TRAIN_COLOR

    start_run(qtbot, window, small_config(small_dataset, runs_dir, max_steps=1, logging_steps=1,
                                          eval_strategy="no", load_best_model_at_end=False))
    wait_state(qtbot, window, RunState.FINISHED)
    wait_idle(qtbot, window)
    (logged,) = [e for e in read_events(window.run_dir, "log") if "loss" in e]
    assert logged["step"] == 1
    chart = window.chart
    qtbot.waitUntil(lambda: chart.point_count == 1, timeout=LONG)
    for size in SIZES:
        sized(qtbot, window, size)
        assert not chart.empty_text.isVisible()
        for item, (x, y), color in ((chart.smooth_curve, (1, logged["loss"]), TRAIN_COLOR),
                                    (chart.lr_curve, (1, logged["learning_rate"]), LR_COLOR)):
            xs, ys = item.getData()
            assert list(xs) == [x] and ys[0] == pytest.approx(y, rel=1e-6)
            (x_low, x_high), (y_low, y_high) = item.getViewBox().viewRange()
            assert x_low <= x <= x_high and y_low < y < y_high, size
            assert _pixels_near(window, item, x, y, color) >= 6, (size, color)  # painted, where the point is
            assert item.opts["symbol"] == "o" and item.isVisible()  # as a dot
    assert dialog_log.errors == []


@pytest.mark.slow
def test_the_windows_learning_rate_axis_never_repeats_a_label_for_a_constant_rate(
        qtbot: Any, window: Any, small_dataset: Path, runs_dir: Path, dialog_log: DialogLog) -> None:
    """A real run at a constant learning rate of 2e-5: the window's lr axis spans a tiny range, and its ticks must
    not all read "2e-5", at either size."""
    start_run(qtbot, window, small_config(small_dataset, runs_dir, max_steps=6, logging_steps=1, learning_rate=2e-5,
                                          lr_scheduler_type="constant", eval_strategy="no",
                                          load_best_model_at_end=False))
    wait_state(qtbot, window, RunState.FINISHED)
    wait_idle(qtbot, window)
    rates = [e["learning_rate"] for e in read_events(window.run_dir, "log") if "learning_rate" in e]
    assert len(rates) == 6 and set(rates) == {2e-5}
    chart = window.chart
    qtbot.waitUntil(lambda: chart.point_count == 6, timeout=LONG)
    axis = chart.lower_plot.getAxis("left")
    for size in SIZES:
        sized(qtbot, window, size)
        assert chart.lower_plot.isVisible()
        qtbot.waitUntil(lambda: axis.geometry().height() > 40, timeout=2_000)
        labels = _axis_labels(axis)
        assert len(labels) >= 2 and len(set(labels)) == len(labels), (size, labels)
        assert any(text in ("2e-5", "2.0e-5") for text in labels), (size, labels)
    assert dialog_log.errors == []
