"""The Hardware tab's words on a machine without a GPU (a screenshot review): one free-RAM figure for the Devices
line and the estimate, NVML's error in a tooltip rather than the sentence, one rounding rule for the estimate's
figures, the method by its name and what "CPU runtime" is."""

from __future__ import annotations

import dataclasses

import pynvml
from PySide6.QtGui import QTextDocument

from finetune_studio.core import estimate as core_estimate
from finetune_studio.core.config import default_config
from finetune_studio.core.estimate import GIB, MIB, Budget, Estimate, Preflight, budget_of, verdict
from finetune_studio.core.gpus import CpuInfo, GpuTable
from finetune_studio.gui import estimate_bar
from finetune_studio.gui.estimate_bar import EstimateBar
from finetune_studio.gui.hardware_panel import HardwarePanel

TINY = Estimate(weights=int(0.7 * MIB), gradients=MIB, optimizer=2 * MIB, activations=int(43.6 * MIB),
                runtime=int(20.6 * MIB), batch=2, max_length=512, checkpointing=True)


def cpu_table(available: float) -> GpuTable:
    return GpuTable(unavailable="No NVIDIA GPU found: training runs on the CPU.",
                    cpu=CpuInfo(cores=4, ram_total_bytes=int(23.54 * GIB), ram_available_bytes=int(available)))


def raw(html: str) -> str:
    document = QTextDocument()
    document.setHtml(html)
    return document.toPlainText().replace("\u00a0", " ")


def test_the_devices_line_and_the_estimate_say_one_free_ram_figure(qtbot, monkeypatch) -> None:
    """The estimate was judged against the reading taken when the config changed, the Devices line showed the
    reading of every refresh: '22.36 GiB available' above 'of 22.48 GiB free on RAM'."""
    def fake_preflight(config, table, problems=None):
        budget = budget_of([], table)
        return Preflight(budget=budget, estimate=TINY, verdict=verdict(TINY.total, budget))

    monkeypatch.setattr(core_estimate, "preflight", fake_preflight)
    readings = [cpu_table(22.6 * GIB), cpu_table(22.3 * GIB)]  # 1.3 % apart: no new estimate, as before
    panel = HardwarePanel(reader=lambda: readings[0])
    qtbot.addWidget(panel)
    panel.refresh()
    bar = panel.estimate_bar
    with qtbot.waitSignal(bar.shown, timeout=10_000):
        bar.request(default_config(), panel.table_data)
    assert bar.result.budget == Budget(int(22.6 * GIB), "RAM")
    first = (panel.summary.text(), bar.verdict_label.text())
    readings.pop(0)
    panel.refresh()
    assert bar.result.budget == Budget(int(22.3 * GIB), "RAM")  # the Devices line's reading, not the one before
    assert bar.bar.limit == int(22.3 * GIB)
    assert first == ("No NVIDIA GPU found: training runs on the CPU.\nCPU: 4 cores · RAM 24 GiB, 23 GiB available",
                     "Fits: about 68 MiB of 23 GiB free RAM.")
    assert panel.summary.text().endswith("RAM 24 GiB, 22 GiB available")
    assert bar.verdict_label.text() == "Fits: about 68 MiB of 22 GiB free RAM."


def test_nvmls_words_are_a_tooltip_not_the_sentence(qtbot, monkeypatch) -> None:
    def missing():
        raise pynvml.NVMLError_LibraryNotFound(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)

    monkeypatch.setattr(pynvml, "nvmlInit", missing)
    panel = HardwarePanel()
    qtbot.addWidget(panel)
    panel.refresh()
    first, machine = panel.summary.text().split("\n")
    assert first == "No NVIDIA GPU found: training runs on the CPU."
    assert machine.startswith("CPU: ") and "NVML" not in machine
    assert panel.summary.toolTip() == (
        "NVML, the NVIDIA driver's library, said: NVML Shared Library Not Found. On a machine with an NVIDIA GPU, "
        "its driver is not installed or not loaded. To fix: install the driver; nvidia-smi should then list the GPU.")


def test_one_rounding_rule_for_every_figure() -> None:
    assert [estimate_bar.size_text(v) for v in (0, 0.7 * MIB, MIB, 9.96 * MIB, 68.3 * MIB, 1023.7 * MIB, 2.22 * GIB,
                                   22.48 * GIB, 1500 * GIB)] == [
        "0 MiB", "0.7 MiB", "1.0 MiB", "10 MiB", "68 MiB", "1.0 GiB", "2.2 GiB", "22 GiB", "1,500 GiB"]


def test_the_legend_names_the_method_rounds_alike_and_says_what_cpu_runtime_is(qtbot) -> None:
    bar = EstimateBar()
    qtbot.addWidget(bar)
    budget = Budget(int(22.48 * GIB), "RAM")
    bar.show_result(Preflight(budget=budget, estimate=TINY, verdict="fits"))
    swatches, shape = raw(bar.legend.text()).split("\n")
    assert swatches == ("■ weights 0.7 MiB   ■ gradients 1.0 MiB   ■ optimizer states 2.0 MiB   "
                        "■ activations 44 MiB   ■ CPU runtime 21 MiB")
    assert shape == ("full fine-tuning, batch 2 × 512 tokens, activation checkpointing on; dashed line: free "
                     "memory")
    assert bar.legend.toolTip() == (
        "CPU runtime: the memory a training process takes besides its tensors, the libraries' working set (torch's "
        "CPU kernels, the model loader, the Trainer and its data loader), measured once on a tiny model; with "
        "torchrun, each process's own Python with torch and transformers imported.")
    assert bar.bar.toolTip().splitlines()[0] == "weights: 0.7 MiB"
    for method, words in (("lora", "LoRA"), ("qlora", "QLoRA"), ("dora", "DoRA")):
        adapter = dataclasses.replace(TINY, method=method, runtime=0)
        bar.show_result(Preflight(budget=budget, estimate=adapter, verdict="fits"))
        assert raw(bar.legend.text()).split("\n")[1].startswith(f"{words}, batch 2 × 512 tokens"), method
        assert bar.legend.toolTip() == ""  # no part that needs saying
