"""The Hardware tab: the GPU table from NVML (pynvml's functions stubbed, the panel real), tick boxes that write
config.launch.devices, what it says on a machine without a GPU, the estimate bar and Start's question."""

from __future__ import annotations

import pynvml
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from finetune_studio.core.config import default_config
from finetune_studio.core.estimate import GIB, WONT_FIT, Budget, Estimate, EstimateFix, Preflight
from finetune_studio.gui.estimate_bar import EstimateBar, confirm_start
from finetune_studio.gui.hardware_panel import HardwarePanel
from tests.core.test_gpus_nvml import two_gpus


def no_nvml(monkeypatch) -> None:
    def missing():
        raise pynvml.NVMLError_LibraryNotFound(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)

    monkeypatch.setattr(pynvml, "nvmlInit", missing)


def rows(panel: HardwarePanel) -> list[list[str]]:
    table = panel.table
    return [[table.item(r, c).text() for c in range(1, table.columnCount())] for r in range(table.rowCount())]



def panel_choosing(qtbot, devices: list[int]) -> HardwarePanel:
    """A Hardware panel that has read the (faked) GPUs and shows a config choosing `devices`."""
    panel = HardwarePanel()
    qtbot.addWidget(panel)
    panel.refresh()
    config = default_config()
    config.launch.devices = devices
    panel.load(config)
    return panel

def test_gpu_table_shows_nvml_figures(qtbot, monkeypatch) -> None:
    two_gpus(monkeypatch)
    panel = HardwarePanel()
    qtbot.addWidget(panel)
    panel.refresh()
    assert not panel.table.isHidden()
    assert rows(panel) == [["0: H100 80GB HBM3", "2.00 / 80.00 GiB", "78.00 GiB", "7 %"],
                           ["1: H100 80GB HBM3", "1.00 / 80.00 GiB", "79.00 GiB", "—"]]
    assert panel.table.item(0, 1).toolTip() == "NVIDIA H100 80GB HBM3\nPCI bus 00000000:01:00.0"
    assert "2 NVIDIA GPUs · driver 570.86" in panel.summary.text()
    assert "None ticked: the run uses GPU 0" in panel.hint.text()


def test_ticks_write_the_device_list(qtbot, monkeypatch) -> None:
    two_gpus(monkeypatch)
    panel = HardwarePanel()
    qtbot.addWidget(panel)
    panel.refresh()
    config = default_config()
    panel.load(config)
    with qtbot.waitSignal(panel.changed):
        panel.table.item(1, 0).setCheckState(Qt.CheckState.Checked)
    panel.store(config)
    assert config.launch.devices == [1]
    panel.table.item(0, 0).setCheckState(Qt.CheckState.Checked)
    panel.store(config)
    assert config.launch.devices == [0, 1]
    config.launch.devices = [1]
    panel.load(config)  # a loaded config ticks its devices, without a `changed`
    assert [panel.table.item(r, 0).checkState() for r in range(2)] == [Qt.CheckState.Unchecked,
                                                                        Qt.CheckState.Checked]


def test_busy_and_mixed_gpus_are_said(qtbot, monkeypatch) -> None:
    two_gpus(monkeypatch, second_name="NVIDIA A100-SXM4-40GB", busy=True)
    panel = panel_choosing(qtbot, [0, 1])
    text = panel.problems_label.text()
    assert not panel.problems_label.isHidden()
    assert "GPU 1 is busy" in text and "python3.11 (pid 4242" in text
    assert "different models" in text


def test_missing_gpu_marks_the_table(qtbot, monkeypatch) -> None:
    two_gpus(monkeypatch)
    panel = panel_choosing(qtbot, [5])
    assert "GPU 5 does not exist" in panel.error.text() and not panel.error.isHidden()
    assert panel.table.property("problem") is True or panel.table.parentWidget().property("problem") is True


def test_a_gpu_chosen_on_another_machine_is_a_row_to_untick(qtbot, monkeypatch) -> None:
    """A config made on a GPU machine, opened on one without: GPU 3 blocks Start, and its row is the way out."""
    no_nvml(monkeypatch)
    panel = HardwarePanel()
    qtbot.addWidget(panel)
    panel.refresh()
    config = default_config()
    config.launch.devices = [3]
    panel.load(config)
    assert not panel.table.isHidden() and rows(panel) == [["3: not on this machine", "—", "—", "—"]]
    assert "untick them to train on the CPU" in panel.hint.text()
    assert "GPU 3 does not exist" in panel.error.text() and not panel.error.isHidden()
    with qtbot.waitSignal(panel.changed):
        panel.table.item(0, 0).setCheckState(Qt.CheckState.Unchecked)
    panel.store(config)
    assert config.launch.devices == []
    assert panel.table.isHidden() and panel.error.isHidden() and panel.device_errors() == []


def test_a_missing_gpu_sits_under_this_machines_gpus(qtbot, monkeypatch) -> None:
    two_gpus(monkeypatch)
    panel = HardwarePanel()
    qtbot.addWidget(panel)
    panel.refresh()
    config = default_config()
    config.launch.devices = [1, 5]
    panel.load(config)
    assert [row[0] for row in rows(panel)] == ["0: H100 80GB HBM3", "1: H100 80GB HBM3", "5: not on this machine"]
    assert "Untick the GPUs this machine does not have" in panel.hint.text()
    panel.table.item(2, 0).setCheckState(Qt.CheckState.Unchecked)
    panel.store(config)
    assert config.launch.devices == [1] and panel.table.rowCount() == 2 and panel.error.isHidden()


def test_no_gpu_says_so_and_shows_cpu(qtbot, monkeypatch) -> None:
    no_nvml(monkeypatch)
    panel = HardwarePanel()
    qtbot.addWidget(panel)
    panel.refresh()
    assert panel.table.isHidden()
    text = panel.summary.text()
    assert text.startswith("No NVIDIA GPU found") and "CPU:" in text and "cores" in text and "RAM" in text


def sample_preflight(verdict: str = WONT_FIT) -> Preflight:
    estimate = Estimate(weights=3 * GIB, gradients=3 * GIB, optimizer=6 * GIB, activations=2 * GIB, batch=8,
                        max_length=512)
    smaller = Estimate(weights=3 * GIB, gradients=3 * GIB, optimizer=6 * GIB, activations=GIB // 2)
    fix = EstimateFix("Turn on activation checkpointing", {"training.activation_checkpointing": True}, smaller,
                      "tight")
    return Preflight(budget=Budget(13 * GIB, "RAM"), estimate=estimate, verdict=verdict, fixes=(fix,))


def test_bar_shows_parts_verdict_and_applies_a_fix(qtbot) -> None:
    bar = EstimateBar()
    qtbot.addWidget(bar)
    bar.show_result(sample_preflight())
    assert bar.bar.parts == [("weights", 3 * GIB), ("gradients", 3 * GIB), ("optimizer states", 6 * GIB),
                             ("activations", 2 * GIB)]
    assert bar.bar.limit == 13 * GIB
    assert bar.verdict_label.text() == "Will not fit: about 14 GiB of 13 GiB free RAM."
    assert len(bar.fix_buttons) == 1 and not bar.fixes_title.isHidden()
    from PySide6.QtGui import QTextDocument

    document = QTextDocument()
    document.setHtml(bar.fix_buttons[0].parentWidget().findChild(type(bar.legend)).text())
    assert document.toRawText() == "Turn on activation checkpointing →\u00a012\u00a0GiB, tight"  # no break inside
    with qtbot.waitSignal(bar.fix_chosen) as chosen:
        bar.fix_buttons[0].click()
    assert chosen.args == [{"training.activation_checkpointing": True}]


@pytest.mark.slow
def test_bar_estimates_the_demo_off_thread(qtbot, demo_cache) -> None:
    from finetune_studio.core.gpus import CpuInfo, GpuTable

    bar = EstimateBar()
    qtbot.addWidget(bar)
    table = GpuTable(cpu=CpuInfo(cores=2, ram_total_bytes=8 * GIB, ram_available_bytes=4 * GIB))
    with qtbot.waitSignal(bar.shown, timeout=60_000):
        bar.request(default_config(), table)
    assert bar.verdict == "fits" and bar.result.estimate.weights == 191936 * 4
    assert bar.verdict_label.text().startswith("Fits: about")
    assert [label for label, _ in bar.bar.parts][:4] == ["weights", "gradients", "optimizer states", "activations"]


@pytest.mark.parametrize("answer, verdict, expected", [
    (QMessageBox.StandardButton.No, WONT_FIT, False),
    (QMessageBox.StandardButton.Yes, WONT_FIT, True),
    (QMessageBox.StandardButton.No, "tight", True),
])
def test_start_asks_when_it_will_not_fit(qtbot, monkeypatch, answer, verdict, expected) -> None:
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args: asked.append(args[2]) or answer)
    assert confirm_start(None, sample_preflight(verdict)) is expected
    assert bool(asked) is (verdict == WONT_FIT)
    if asked:
        assert "The memory estimate is 14 GiB, but RAM has 13 GiB free" in asked[0]
        assert "Best fix: Turn on activation checkpointing" in asked[0]


def test_resource_plot_draws_gpu_samples_or_process_memory(qtbot, monkeypatch) -> None:
    no_nvml(monkeypatch)
    panel = HardwarePanel()
    qtbot.addWidget(panel)
    panel.refresh()
    assert panel.resources.plot is None  # pyqtgraph waits for the first points
    for step in (1, 2, 3):
        panel.add_event({"event": "step", "step": step, "max_steps": 3, "epoch": step / 3, "memory_mb": 200.0 + step,
                         **({"gpu_memory_mb": [1000.0 * step, 10.0], "gpu_util": [50.0, 0.0]} if step != 2 else {})})
    panel.resources.redraw()
    assert panel.resources.drawn == {"GPU 0 memory": 2, "GPU 1 memory": 2, "GPU 0 utilization": 2,
                                     "GPU 1 utilization": 2}
    curve = panel.resources._items["GPU 0 memory"]
    assert list(curve.getData()[1]) == [1000.0, 3000.0]
    assert "NVML" in panel.resources.caption.text()
    panel.load_events([{"event": "step", "step": s, "max_steps": 2, "epoch": 1.0, "memory_mb": 50.0 * s}
                       for s in (1, 2)])
    assert panel.resources.drawn == {"process memory": 2}
    assert list(panel.resources._items["process memory"].getData()[1]) == [50.0, 100.0]
    assert panel.resources.caption.text().startswith("No GPU")
    assert panel.resources._items["GPU 0 memory"].getData()[1] is None or \
        len(panel.resources._items["GPU 0 memory"].getData()[1]) == 0  # the GPU run's curves are gone
    panel.clear_run()
    assert len(panel.resources.curves.memory) == 0
    assert list(panel.resources._items["process memory"].getData()[1] or []) == []


def test_estimate_is_judged_again_when_free_memory_moves(qtbot, monkeypatch) -> None:
    fake = two_gpus(monkeypatch)
    panel = HardwarePanel()
    qtbot.addWidget(panel)
    panel.refresh()
    asked = []
    monkeypatch.setattr(panel.estimate_bar, "rejudge", lambda table: asked.append(table))
    fake.devices[0]["used"] += 2**20  # 1 MiB more: the verdict cannot change
    panel.refresh()
    assert asked == []
    fake.devices[0]["used"] += 30 * 2**30  # another program took 30 GiB of GPU 0
    panel.refresh()
    assert len(asked) == 1 and asked[0].gpus[0].free_bytes < 50 * 2**30


def test_a_hidden_resource_plot_draws_nothing_until_it_is_shown(qtbot, monkeypatch) -> None:
    """During a run the Hardware tab is usually behind another: its plot must not redraw every 250 ms there (the
    redraws take the GUI thread's time from the run, benchmarks/overhead.py), and shows every point once seen."""
    no_nvml(monkeypatch)
    panel = HardwarePanel()
    qtbot.addWidget(panel)
    for step in (1, 2, 3):
        panel.add_event({"event": "step", "step": step, "max_steps": 3, "epoch": step / 3, "memory_mb": 100.0 + step})
    qtbot.wait(600)  # two throttle periods
    assert panel.resources.plot is None  # never drawn (a redraw with points builds the plot)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: panel.resources.drawn == {"process memory": 3}, timeout=5000)
    assert list(panel.resources._items["process memory"].getData()[1]) == [101.0, 102.0, 103.0]


def test_warnings_set_after_layout_are_not_cut(qtbot, monkeypatch) -> None:
    """In the window the panel sits in a scroll area; warnings that arrive after it was laid out (a config loaded,
    a GPU ticked) must get the height their wrapped lines need, not that of one long line (cut at top and bottom)."""
    from PySide6.QtWidgets import QApplication, QLabel, QScrollArea

    two_gpus(monkeypatch, second_name="NVIDIA A100-SXM4-40GB", busy=True)
    panel = HardwarePanel()
    area = QScrollArea()
    qtbot.addWidget(area)
    area.setWidgetResizable(True)
    area.setWidget(panel)
    area.resize(440, 400)
    area.show()
    for _ in range(5):
        QApplication.processEvents()
    config = default_config()
    config.launch.devices = [0, 1]
    panel.load(config)
    qtbot.wait(300)
    assert "GPU 1 is busy" in panel.problems_label.text()
    for label in panel.findChildren(QLabel):
        if label.isVisible() and label.wordWrap() and label.text():
            assert label.height() >= label.heightForWidth(label.width()), label.text()


def _legend_lines(bar: EstimateBar, width: int) -> list[str]:
    """The legend's lines as the label lays them out at width (its own rich text, its own font)."""
    from PySide6.QtGui import QTextDocument

    document = QTextDocument()
    document.setDefaultFont(bar.legend.font())
    document.setHtml(bar.legend.text())
    document.setTextWidth(width)
    document.size()  # laid out
    block = document.firstBlock()
    layout, text = block.layout(), block.text()
    lines = [text[layout.lineAt(i).textStart():layout.lineAt(i).textStart() + layout.lineAt(i).textLength()]
             for i in range(layout.lineCount())]
    ends = [i for i, line in enumerate(lines) if "\u2028" in line]  # the <br> before the recipe line
    return lines[:ends[0] + 1] if ends else lines


def test_legend_wraps_between_entries_only(qtbot) -> None:
    bar = EstimateBar()
    qtbot.addWidget(bar)
    result = sample_preflight()
    bar.show_result(result)
    for width in (240, 300, 380, 460):
        lines = _legend_lines(bar, width)
        assert len(lines) > 1, width  # narrow enough to wrap
        for line in lines:
            assert line.lstrip().startswith("■"), (width, lines)  # each line starts with an entry's swatch
    assert any("optimizer\u00a0states\u00a06.0\u00a0GiB" in line for line in _legend_lines(bar, 240))


def test_a_small_estimate_still_shows_its_parts(qtbot) -> None:
    from finetune_studio.core.estimate import MIB
    from finetune_studio.gui.estimate_bar import MIN_SEGMENT_PX

    bar = EstimateBar()
    qtbot.addWidget(bar)
    bar.resize(420, 200)
    bar.show()
    qtbot.waitExposed(bar)
    tiny = Estimate(weights=MIB, gradients=MIB, optimizer=2 * MIB, activations=18 * MIB, batch=2, max_length=512)
    bar.show_result(Preflight(budget=Budget(22 * GIB, "RAM"), estimate=tiny, verdict="fits"))
    segments = bar.bar.segments()
    assert [label for label, _ in segments] == [label for label, value in tiny.parts()]
    for (label, rect), (_, value) in zip(segments, tiny.parts()):
        assert rect.width() >= (MIN_SEGMENT_PX if value else 0), label
    assert segments[-1][1].right() < bar.bar.area().right() / 2  # still small against 22 GiB


def test_an_invalid_config_is_said_in_validations_words_and_shared_ram_is_said(qtbot) -> None:
    """A config validation refuses is not estimated (core.estimate.preflight): the bar says so as core words it,
    not as 'No estimate: …' in the warning colour; several CPU processes add up in one machine's RAM, and the
    verdict and legend say so (before: the same figure as one process, judged alone)."""
    import dataclasses

    from finetune_studio.core.errors import Problem

    bar = EstimateBar()
    qtbot.addWidget(bar)
    problem = Problem("training.per_device_train_batch_size", "per_device_train_batch_size must be at least 1 "
                      "(got 0).")
    bar.show_result(Preflight(budget=Budget(13 * GIB, "RAM"), error="The estimate waits for a valid config: "
                              "per_device_train_batch_size must be at least 1 (got 0).", problems=(problem,)))
    assert bar.verdict_label.text() == ("The estimate waits for a valid config: per_device_train_batch_size must "
                                        "be at least 1 (got 0).")
    assert bar.verdict_label.styleSheet() == ""
    shared = dataclasses.replace(sample_preflight().estimate, sharing=2)
    bar.show_result(dataclasses.replace(sample_preflight(), estimate=shared))
    assert bar.verdict_label.text() == (f"Will not fit: about {shared.total / GIB:.0f} GiB for 2 processes of "
                                        "13 GiB free RAM.")
    assert "2 processes share this machine's RAM" in bar.legend.text()
