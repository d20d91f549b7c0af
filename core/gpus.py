"""The machine's GPUs as nvidia-smi shows them (NVML, through nvidia-ml-py's `pynvml`), and its CPU and RAM.

NVML numbers devices by PCI bus id, as nvidia-smi does; CUDA numbers them fastest first unless
CUDA_DEVICE_ORDER=PCI_BUS_ID. `use_pci_bus_order()` sets that (unless the user chose otherwise) before anything
initializes CUDA, so "GPU 1" in the hardware panel, in `launch.devices`, in nvidia-smi and in torch is one device.

Everything NVML says comes through `read_gpus()`, which talks to the library only through the module-level name
`pynvml` (tests replace that name's functions: the real library's calls are stubbed, nothing else). A machine
without the driver gets a table with no GPUs and a sentence saying why, never an exception. Qt-free.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from finetune_studio.core.errors import ERROR, WARNING, Problem

try:  # nvidia-ml-py is a dependency, but a broken install must not stop the app
    import pynvml
except ImportError:  # pragma: no cover - the lock installs it
    pynvml = None  # type: ignore[assignment]

BUSY_SHARE = 0.5  # a GPU whose memory is more than half used by other processes is busy
MIB = 2**20
GIB = 2**30  # the Hardware table's unit: its messages say the same


def use_pci_bus_order() -> None:
    """Number CUDA devices as nvidia-smi and NVML do (unless CUDA_DEVICE_ORDER is already set)."""
    os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")


@dataclass(frozen=True)
class GpuProcess:
    pid: int
    name: str  # the executable, when NVML (or the OS) tells it; "" when neither does
    used_bytes: int | None  # None when the driver does not say (e.g. inside some containers)


@dataclass(frozen=True)
class Gpu:
    index: int  # nvidia-smi's number
    name: str  # "NVIDIA H100 80GB HBM3"
    total_bytes: int
    used_bytes: int
    free_bytes: int
    utilization: int | None  # % of the last sample period a kernel ran; None when NVML cannot say
    pci_bus_id: str = ""
    processes: tuple[GpuProcess, ...] = ()

    def others(self, own_pid: int | None = None) -> tuple[GpuProcess, ...]:
        """The processes on this GPU that are not this app (nor the training processes it started)."""
        own = own_pids(own_pid)
        return tuple(p for p in self.processes if p.pid not in own)

    def used_by_others(self, own_pid: int | None = None) -> int:
        """Memory in use that is not this app's: what NVML says is used, less what it lists for our processes."""
        own = own_pids(own_pid)
        mine = sum(p.used_bytes or 0 for p in self.processes if p.pid in own)
        return max(0, self.used_bytes - mine)


def own_pids(own_pid: int | None = None) -> set[int]:
    """This process and its children (a torchrun run's ranks), whose GPU memory is the app's own."""
    pid = os.getpid() if own_pid is None else own_pid
    found = {pid}
    try:
        import psutil

        found |= {child.pid for child in psutil.Process(pid).children(recursive=True)}
    except Exception:  # noqa: BLE001 - gone or not ours to list: the pid alone
        pass
    return found


@dataclass(frozen=True)
class CpuInfo:
    cores: int
    ram_total_bytes: int
    ram_available_bytes: int


@dataclass(frozen=True)
class GpuTable:
    """What read_gpus found: the GPUs (maybe none), the driver version, and why there are none."""

    gpus: tuple[Gpu, ...] = ()
    driver: str = ""
    # why there are no GPUs ("" when there are): a sentence for the panel, then on lines of its own what NVML said
    # (the panel's tooltip: the clue on a machine whose GPU it did not find)
    unavailable: str = ""
    cpu: CpuInfo | None = None
    cuda: str = ""  # the newest CUDA version the driver runs, e.g. "12.8" ("" when it does not say)

    def by_index(self, index: int) -> Gpu | None:
        return next((gpu for gpu in self.gpus if gpu.index == index), None)


def cpu_info() -> CpuInfo:
    import psutil

    memory = psutil.virtual_memory()
    return CpuInfo(cores=os.cpu_count() or 1, ram_total_bytes=int(memory.total),
                   ram_available_bytes=int(memory.available))


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _process_name(pid: int) -> str:
    try:
        name = _text(pynvml.nvmlSystemGetProcessName(pid))
        if name:
            return os.path.basename(name)
    except Exception:  # noqa: BLE001 - NVML may not see another container's processes; ask the OS next
        pass
    try:
        import psutil

        return psutil.Process(pid).name()
    except Exception:  # noqa: BLE001 - gone, or not ours to see: the pid alone is shown
        return ""


def _processes(handle: Any) -> tuple[GpuProcess, ...]:
    try:
        running = pynvml.nvmlDeviceGetComputeRunningProcesses(handle)
    except Exception:  # noqa: BLE001 - not supported on this GPU / driver: no process list, the rest still shows
        return ()
    found = []
    for proc in running or ():
        used = getattr(proc, "usedGpuMemory", None)
        found.append(GpuProcess(pid=int(proc.pid), name=_process_name(int(proc.pid)),
                                used_bytes=int(used) if isinstance(used, int) and used >= 0 else None))
    return tuple(found)


def _gpu(index: int) -> Gpu:
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
    try:
        utilization: int | None = int(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)
    except Exception:  # noqa: BLE001 - some GPUs (and MIG slices) do not report it
        utilization = None
    try:
        bus = _text(pynvml.nvmlDeviceGetPciInfo(handle).busId)
    except Exception:  # noqa: BLE001 - only shown in a tooltip
        bus = ""
    return Gpu(index=index, name=_text(pynvml.nvmlDeviceGetName(handle)), total_bytes=int(memory.total),
               used_bytes=int(memory.used), free_bytes=int(memory.free), utilization=utilization, pci_bus_id=bus,
               processes=_processes(handle))


def read_gpus(with_cpu: bool = True) -> GpuTable:
    """The GPUs NVML sees now, numbered as nvidia-smi numbers them; never raises."""
    use_pci_bus_order()
    cpu = cpu_info() if with_cpu else None
    if pynvml is None:
        return GpuTable(unavailable="GPUs cannot be listed: nvidia-ml-py is not installed, so training runs on the "
                                    "CPU. To fix: pip install nvidia-ml-py, then restart the app.", cpu=cpu)
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # noqa: BLE001 - NVMLError_LibraryNotFound / DriverNotLoaded / …: a machine without GPU
        said = str(exc).rstrip(".")
        return GpuTable(unavailable=f"No NVIDIA GPU found: training runs on the CPU.\nNVML, the NVIDIA driver's "
                                    f"library, said: {said}. On a machine with an NVIDIA GPU, its driver is not "
                                    "installed or not loaded. To fix: install the driver; nvidia-smi should then "
                                    "list the GPU.", cpu=cpu)
    try:
        try:
            driver = _text(pynvml.nvmlSystemGetDriverVersion())
        except Exception:  # noqa: BLE001 - shown in a tooltip only
            driver = ""
        try:
            version = int(pynvml.nvmlSystemGetCudaDriverVersion())  # 12080 for CUDA 12.8
            cuda = f"{version // 1000}.{version % 1000 // 10}"
        except Exception:  # noqa: BLE001 - core.doctor then picks the build that runs on the most drivers
            cuda = ""
        count = int(pynvml.nvmlDeviceGetCount())
        gpus = tuple(_gpu(index) for index in range(count))
    except Exception as exc:  # noqa: BLE001 - a driver error mid-way: say so rather than show half a table
        return GpuTable(unavailable=f"The NVIDIA driver did not answer: training runs on the CPU.\nNVML said: "
                                    f"{str(exc).rstrip('.')}. To fix: check the GPUs with nvidia-smi.", cpu=cpu)
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:  # noqa: BLE001 - nothing to do about a failed shutdown
            pass
    if not gpus:
        return GpuTable(driver=driver, unavailable="The NVIDIA driver reports no GPU: training runs on the CPU.",
                        cpu=cpu, cuda=cuda)
    return GpuTable(gpus=gpus, driver=driver, cpu=cpu, cuda=cuda)


def device_problems(devices: list[int], table: GpuTable, own_pid: int | None = None) -> list[Problem]:
    """What is wrong with the chosen GPUs: one that does not exist (an error), one whose memory is mostly used by
    other processes (a warning naming them; this app's own run does not count), several models mixed (a warning:
    the slowest sets the pace)."""
    problems: list[Problem] = []
    chosen: list[Gpu] = []
    for index in sorted({d for d in devices if list(devices).count(d) > 1}):
        problems.append(Problem("launch.devices", f"GPU {index} is listed twice: each process trains on a GPU of "
                                                  "its own. To fix: list each GPU once.", ERROR))
    for index in dict.fromkeys(devices):  # each GPU once, in the order chosen
        gpu = table.by_index(index)
        if gpu is None:
            have = (f"this machine has GPUs {', '.join(str(g.index) for g in table.gpus)}" if table.gpus
                    else "this machine has no GPU")
            problems.append(Problem("launch.devices", f"GPU {index} does not exist: {have}. To fix: untick it in "
                                                      "the Hardware panel (its row says \"not on this machine\"), or "
                                                      "remove it from launch.devices.", ERROR))
            continue
        chosen.append(gpu)
        others = gpu.others(own_pid)
        if gpu.total_bytes and gpu.used_by_others(own_pid) > BUSY_SHARE * gpu.total_bytes:
            who = ", ".join(f"{p.name or 'pid'} (pid {p.pid}"
                            + (f", {p.used_bytes / GIB:.2f} GiB)" if p.used_bytes is not None else ")")
                            for p in others)
            by = f" by {who}" if who else " by another process"
            problems.append(Problem(
                "launch.devices",
                f"GPU {index} is busy: {gpu.used_bytes / GIB:.2f} of {gpu.total_bytes / GIB:.2f} GiB are in use{by}. "
                "To fix: pick another GPU, or end that process first.", WARNING))
    names = sorted({gpu.name for gpu in chosen})
    if len(names) > 1:
        problems.append(Problem("launch.devices", f"The chosen GPUs are different models ({', '.join(names)}): "
                                                  "every step waits for the slowest, and memory is limited by the "
                                                  "smallest. To fix: choose GPUs of one model.", WARNING))
    return problems


def sample(devices: list[int]) -> dict[str, list[float]]:
    """Memory used (MiB) and utilization (%) of each chosen GPU (all GPUs when none is chosen) as event fields
    {"gpu_memory_mb": [...], "gpu_util": [...]}; {} on a machine without NVML (the step's memory_mb, the process's
    memory, is then the figure to plot)."""
    if pynvml is None:
        return {}
    try:
        pynvml.nvmlInit()
    except Exception:  # noqa: BLE001 - no GPU: nothing to sample
        return {}
    try:
        indices = devices or list(range(int(pynvml.nvmlDeviceGetCount())))
        memory, util = [], []
        for index in indices:
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory.append(round(int(pynvml.nvmlDeviceGetMemoryInfo(handle).used) / MIB, 1))
            try:
                util.append(float(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu))
            except Exception:  # noqa: BLE001 - not reported by this GPU
                util.append(float("nan"))
        return {"gpu_memory_mb": memory, "gpu_util": util}
    except Exception:  # noqa: BLE001 - a sample is a nice-to-have; never fail a run over it
        return {}
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:  # noqa: BLE001 - nothing to do about a failed shutdown
            pass


def visible_devices() -> list[int]:
    """The GPUs this process trains on, by nvidia-smi number: CUDA_VISIBLE_DEVICES when it lists numbers (torchrun
    and the launcher set it from launch.devices), else [] (every GPU)."""
    text = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
    parts = [part.strip() for part in text.split(",") if part.strip()]
    return [int(part) for part in parts] if parts and all(part.isdigit() for part in parts) else []


class Sampler:
    """GPU samples for a run's step events, at most one per `interval_s` ({} in between), and none at all after
    NVML first fails (a machine without a GPU pays one failed init per run, not one per step)."""

    def __init__(self, devices: list[int] | None = None, interval_s: float = 2.0,
                 clock: Any = None) -> None:
        import time

        self.devices = visible_devices() if devices is None else list(devices)
        self.interval_s = interval_s
        self.clock = clock or time.monotonic
        self.last: float | None = None
        self.enabled = pynvml is not None

    def __call__(self) -> dict[str, list[float]]:
        if not self.enabled:
            return {}
        now = self.clock()
        if self.last is not None and now - self.last < self.interval_s:
            return {}
        self.last = now
        found = sample(self.devices)
        if not found:
            self.enabled = False
        return found
