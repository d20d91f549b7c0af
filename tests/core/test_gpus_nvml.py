"""core.gpus with NVML faked at its boundary: the real pynvml module's functions are replaced, nothing of ours."""

from __future__ import annotations

from types import SimpleNamespace

import pynvml
import pytest

from finetune_studio.core import gpus
from finetune_studio.core.errors import ERROR, WARNING

GIB = 2**30


class FakeNvml:
    """Two or more GPUs as NVML would describe them, installed over pynvml's functions with monkeypatch."""

    def __init__(self, devices: list[dict]):
        self.devices = devices
        self.inits = self.shutdowns = 0

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def init():
            self.inits += 1

        def shutdown():
            self.shutdowns += 1

        def util(handle):
            if self.devices[handle]["util"] is None:
                raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
            return SimpleNamespace(gpu=self.devices[handle]["util"], memory=0)

        def memory(handle):
            device = self.devices[handle]
            return SimpleNamespace(total=device["total"], used=device["used"], free=device["total"] - device["used"])

        names = {proc["pid"]: proc["name"] for d in self.devices for proc in d.get("procs", [])}
        for name, fn in {
            "nvmlInit": init, "nvmlShutdown": shutdown,
            "nvmlDeviceGetCount": lambda: len(self.devices),
            "nvmlDeviceGetHandleByIndex": lambda i: i,
            "nvmlDeviceGetName": lambda h: self.devices[h]["name"],
            "nvmlDeviceGetMemoryInfo": memory,
            "nvmlDeviceGetUtilizationRates": util,
            "nvmlDeviceGetPciInfo": lambda h: SimpleNamespace(busId=f"00000000:{h + 1:02X}:00.0"),
            "nvmlSystemGetDriverVersion": lambda: "570.86",
            "nvmlDeviceGetComputeRunningProcesses": lambda h: [
                SimpleNamespace(pid=p["pid"], usedGpuMemory=p["used"]) for p in self.devices[h].get("procs", [])],
            "nvmlSystemGetProcessName": lambda pid: names[pid],
        }.items():
            monkeypatch.setattr(pynvml, name, fn)


def two_gpus(monkeypatch, second_name="NVIDIA H100 80GB HBM3", busy=False) -> FakeNvml:
    fake = FakeNvml([
        {"name": "NVIDIA H100 80GB HBM3", "total": 80 * GIB, "used": 2 * GIB, "util": 7},
        {"name": second_name, "total": 80 * GIB, "used": (70 if busy else 1) * GIB, "util": None,
         "procs": [{"pid": 4242, "name": "/usr/bin/python3.11", "used": 69 * GIB}] if busy else []},
    ])
    fake.install(monkeypatch)
    return fake


def test_table_reads_every_gpu_in_nvml_order(monkeypatch) -> None:
    fake = two_gpus(monkeypatch)
    table = gpus.read_gpus()
    assert [g.index for g in table.gpus] == [0, 1]
    first = table.gpus[0]
    assert (first.name, first.total_bytes, first.used_bytes, first.free_bytes, first.utilization) == (
        "NVIDIA H100 80GB HBM3", 80 * GIB, 2 * GIB, 78 * GIB, 7)
    assert table.gpus[1].utilization is None  # NOT_SUPPORTED is shown as unknown, not as a failure
    assert first.pci_bus_id == "00000000:01:00.0"
    assert table.driver == "570.86" and table.unavailable == ""
    assert fake.inits == fake.shutdowns == 1


def test_pci_bus_order_is_set_unless_the_user_chose(monkeypatch) -> None:
    two_gpus(monkeypatch)
    monkeypatch.delenv("CUDA_DEVICE_ORDER", raising=False)
    gpus.read_gpus()
    import os

    assert os.environ["CUDA_DEVICE_ORDER"] == "PCI_BUS_ID"
    monkeypatch.setenv("CUDA_DEVICE_ORDER", "FASTEST_FIRST")
    gpus.read_gpus()
    assert os.environ["CUDA_DEVICE_ORDER"] == "FASTEST_FIRST"


def test_no_driver_says_so_and_shows_cpu(monkeypatch) -> None:
    def missing():
        raise pynvml.NVMLError_LibraryNotFound(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)

    monkeypatch.setattr(pynvml, "nvmlInit", missing)
    table = gpus.read_gpus()
    assert table.gpus == ()
    assert table.unavailable.startswith("No NVIDIA GPU found") and "CPU" in table.unavailable
    assert table.cpu is not None and table.cpu.cores >= 1 and table.cpu.ram_total_bytes > 2**28
    assert gpus.sample([]) == {}


def test_missing_gpu_is_an_error(monkeypatch) -> None:
    two_gpus(monkeypatch)
    problems = gpus.device_problems([0, 3], gpus.read_gpus())
    assert [(p.level, p.message.split(":")[0]) for p in problems] == [(ERROR, "GPU 3 does not exist")]
    assert "GPUs 0, 1" in problems[0].message
    assert 'untick it in the Hardware panel (its row says "not on this machine")' in problems[0].message


def test_busy_gpu_names_the_process(monkeypatch) -> None:
    two_gpus(monkeypatch, busy=True)
    problems = gpus.device_problems([0, 1], gpus.read_gpus(), own_pid=1)
    assert len(problems) == 1 and problems[0].level == WARNING
    assert "GPU 1 is busy" in problems[0].message
    assert "GPU 1 is busy: 70.00 of 80.00 GiB are in use by" in problems[0].message
    assert "python3.11 (pid 4242, 69.00 GiB)" in problems[0].message  # the table's unit (was 70,656 MiB)
    assert gpus.device_problems([0], gpus.read_gpus(), own_pid=1) == []
    # the app's own run filling the GPU is not "busy"
    assert gpus.device_problems([1], gpus.read_gpus(), own_pid=4242) == []


def test_mixed_models_warned(monkeypatch) -> None:
    two_gpus(monkeypatch, second_name="NVIDIA A100-SXM4-40GB")
    problems = gpus.device_problems([0, 1], gpus.read_gpus())
    assert [p.level for p in problems] == [WARNING]
    assert "different models (NVIDIA A100-SXM4-40GB, NVIDIA H100 80GB HBM3)" in problems[0].message
    assert gpus.device_problems([1], gpus.read_gpus()) == []


def test_sample_reads_chosen_gpus(monkeypatch) -> None:
    two_gpus(monkeypatch)
    assert gpus.sample([1]) == {"gpu_memory_mb": [1024.0], "gpu_util": [pytest.approx(float("nan"), nan_ok=True)]}
    assert gpus.sample([])["gpu_memory_mb"] == [2048.0, 1024.0]


def test_budget_is_the_fullest_chosen_gpu_or_ram(monkeypatch) -> None:
    from finetune_studio.core.estimate import budget_of

    two_gpus(monkeypatch, busy=True)
    table = gpus.read_gpus()
    assert budget_of([0, 1], table).free_bytes == 10 * GIB
    assert budget_of([0], table).free_bytes == 78 * GIB and budget_of([0], table).device == "cuda"
    assert budget_of([], table).free_bytes == 78 * GIB  # none chosen: the first GPU, as a run uses
    no_gpu = gpus.GpuTable(cpu=gpus.CpuInfo(cores=2, ram_total_bytes=8 * GIB, ram_available_bytes=5 * GIB))
    assert (budget_of([], no_gpu).free_bytes, budget_of([], no_gpu).device) == (5 * GIB, "cpu")


def test_sampler_throttles_and_gives_up_without_nvml(monkeypatch) -> None:
    two_gpus(monkeypatch)
    now = [0.0]
    sampler = gpus.Sampler(devices=[0], interval_s=2.0, clock=lambda: now[0])
    assert sampler() == {"gpu_memory_mb": [2048.0], "gpu_util": [7.0]}
    now[0] = 1.0
    assert sampler() == {}
    now[0] = 2.5
    assert sampler()["gpu_memory_mb"] == [2048.0]
    no_driver = FakeNvml([])
    calls = []

    def missing():
        calls.append(1)
        raise pynvml.NVMLError_LibraryNotFound(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)

    no_driver.install(monkeypatch)
    monkeypatch.setattr(pynvml, "nvmlInit", missing)
    cpu = gpus.Sampler(interval_s=0.0)
    assert cpu() == {} and cpu() == {} and len(calls) == 1


def test_visible_devices(monkeypatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2, 0")
    assert gpus.visible_devices() == [2, 0]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-1234")
    assert gpus.visible_devices() == []
