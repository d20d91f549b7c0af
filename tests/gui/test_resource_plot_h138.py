"""The run's resource plot (gui/resource_plot.py) on what the hardware reader really gives: NVML figures that are
None or NaN for every GPU, a utilization the GPU does not report, a run of one sample so far, and a GPU run
followed by a CPU run (another run shown, or a run reattached from its folder) and a cleared plot."""

from __future__ import annotations

from typing import Any

from finetune_studio.gui.resource_plot import ResourcePlot


def step(number: int, **fields: Any) -> dict[str, Any]:
    return {"event": "step", "step": number, "max_steps": 9, "epoch": 0.1 * number, **fields}


def legend(plot: ResourcePlot) -> list[str]:
    return [label.text for _sample, label in plot.plot.getPlotItem().legend.items]


def values(plot: ResourcePlot, key: str) -> list[float]:
    data = plot._items[key].getData()[1]
    return [] if data is None else list(data)


def test_gpu_figures_that_are_all_none_or_nan_show_the_process_memory_and_say_why(qtbot: Any) -> None:
    """Before: 'GPU memory used (solid, left axis) and utilization (dashed, right axis)…' over empty axes, and the
    memory each step recorded was not drawn."""
    plot = ResourcePlot()
    qtbot.addWidget(plot)
    plot.load_events([step(n, memory_mb=500.0 + n, gpu_memory_mb=[None, float("nan")], gpu_util=[None, None])
                      for n in (1, 2, 3)])
    assert plot.drawn == {"process memory": 3}
    assert values(plot, "process memory") == [501.0, 502.0, 503.0]
    assert plot.caption.text() == ("NVML gave no figure for the run's GPUs (memory and utilization unknown; "
                                   "nvidia-smi shows whether the driver reports them): this is the memory the "
                                   "training process recorded at each step.")
    assert legend(plot) == ["process memory"]
    assert not plot.plot.getPlotItem().getAxis("right").isVisible()


def test_a_gpu_without_utilization_figures_says_so_and_hides_the_utilization_axis(qtbot: Any) -> None:
    plot = ResourcePlot()
    qtbot.addWidget(plot)
    plot.load_events([step(n, gpu_memory_mb=[100.0 * n], gpu_util=[float("nan")]) for n in (1, 2)])
    assert plot.drawn == {"GPU 0 memory": 2, "GPU 0 utilization": 0}
    assert plot.caption.text() == ("GPU memory used, sampled by NVML every 2 s; NVML gave no utilization figure for "
                                   "this GPU.")
    assert not plot.plot.getPlotItem().getAxis("right").isVisible()


def test_the_first_sample_of_a_run_is_drawn_as_a_dot(qtbot: Any) -> None:
    """Before: a curve of one point is a line of no length, and the plot showed empty axes until the second."""
    plot = ResourcePlot()
    qtbot.addWidget(plot)
    plot.load_events([step(1, memory_mb=500.0)])
    curve = plot._items["process memory"]
    assert values(plot, "process memory") == [500.0] and curve.opts["symbol"] == "o"
    plot.load_events([step(1, memory_mb=500.0), step(2, memory_mb=510.0)])
    assert values(plot, "process memory") == [500.0, 510.0] and curve.opts["symbol"] is None


def test_the_legend_names_only_the_curves_drawn(qtbot: Any) -> None:
    """Before: a CPU run shown after a GPU run had 'GPU 0 memory', 'GPU 1 memory' and 'process memory' in its
    legend, and a cleared plot kept all three."""
    plot = ResourcePlot()
    qtbot.addWidget(plot)
    plot.load_events([step(n, gpu_memory_mb=[100.0 * n, 50.0], gpu_util=[10.0, 20.0]) for n in (1, 2)])
    assert legend(plot) == ["GPU 0 memory", "GPU 1 memory"]
    plot.load_events([step(n, memory_mb=100.0 * n) for n in (1, 2)])
    assert legend(plot) == ["process memory"] and plot.drawn == {"process memory": 2}
    assert values(plot, "GPU 0 memory") == []
    plot.clear()
    assert legend(plot) == [] and plot.drawn == {}
    assert plot.caption.text() == "Memory over the run appears here while a run trains."
    plot.load_events([step(n, gpu_memory_mb=[7.0 * n], gpu_util=[1.0]) for n in (1, 2)])  # a GPU run again
    assert legend(plot) == ["GPU 0 memory"] and values(plot, "GPU 0 memory") == [7.0, 14.0]
