"""Is this machine's GPU stack ready to train: the runtime check behind `finetune-studio doctor` and the app's
first-run check (Help > Check runtime).

The usual failure is a CUDA GPU with a CPU-only torch (pip's default index on some platforms, or an old venv):
training then runs on the CPU, hundreds of times slower, and nothing says why. This module finds that without
importing torch (which takes seconds and would hold the GUI thread): the GPU from NVML (core.gpus.read_gpus, the
app's one NVML reader) or, failing that, `nvidia-smi`; AMD's ROCm driver from /dev/kfd; the torch build from
torch/version.py, a plain file every torch wheel ships with its CUDA/ROCm version in it. A mismatch comes with the
one pip command that fixes it for this machine, built here and never run: the caller shows it, and runs it only if
the user asks.

Every probe takes its source as an argument (the NVML table, the command runner, the file reader), so tests
drive each case (GPU + CPU torch, ROCm, no GPU, old driver, full disk) without the hardware.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

TORCH_INDEX = "https://download.pytorch.org/whl"
# CUDA builds download.pytorch.org offers for recent torch releases (2.9 and later: 12.6, 12.8, 13.0), newest
# first. A driver runs a build whose CUDA version is no newer than the CUDA version the driver reports (CUDA's
# minor-version compatibility makes any 12.x build run on a 12.x driver, but the matching one needs no PTX JIT).
CUDA_BUILDS = ("13.0", "12.8", "12.6")
ROCM_BUILD = "6.4"  # the ROCm build offered next to those CUDA builds
LOW_DISK_BYTES = 10 * 1024**3  # a 0.6B-parameter model's checkpoints take ~7 GiB each (weights + Adam state)


def _size(value: int) -> str:
    """Bytes in the app's one rule (core.estimate.gib: MiB and GiB, as the estimate and the Hardware tab say them):
    the free space read "36.2 GB" for 36.2 GiB (divided by 1024**3), beside the estimate's "22 GiB free RAM"."""
    from finetune_studio.core.estimate import gib

    return gib(value)

OK, WARNING, PROBLEM = "ok", "warning", "problem"


@dataclass(frozen=True)
class Gpu:
    """What the driver says about the GPUs; `vendor` "none" when none was found (then `how` says where we looked)."""

    vendor: str  # "nvidia", "amd" or "none"
    names: tuple[str, ...] = ()
    driver: str | None = None  # the driver's version, e.g. "570.86.15"
    cuda: str | None = None  # the newest CUDA version the NVIDIA driver runs, e.g. "12.8"
    how: str = ""  # where this was read: "NVML", "nvidia-smi", "/dev/kfd", or what was tried

    @property
    def present(self) -> bool:
        return self.vendor != "none"

    def describe(self) -> str:
        if not self.present:
            return f"no GPU found ({self.how})"
        count = f"{len(self.names)}× " if len(self.names) > 1 else ""
        names = self.names[0] if self.names else f"{self.vendor.upper()} GPU"
        details = [f"driver {self.driver}" if self.driver else "", f"CUDA {self.cuda}" if self.cuda else ""]
        extra = ", ".join(d for d in details if d)
        return f"{count}{names}" + (f" ({extra}; read with {self.how})" if extra else f" (read with {self.how})")


@dataclass(frozen=True)
class TorchBuild:
    """The installed torch wheel, read from torch/version.py; `kind` "missing" when torch is not installed."""

    kind: str  # "cpu", "cuda", "rocm" or "missing"
    version: str | None = None  # e.g. "2.13.0+cpu"
    cuda: str | None = None  # e.g. "12.8" for a CUDA build
    rocm: str | None = None  # e.g. "6.4" for a ROCm build

    @property
    def release(self) -> str | None:
        """The version without its local build tag ("2.13.0" for "2.13.0+cu128"), what a reinstall pins."""
        return self.version.split("+", 1)[0] if self.version else None

    def describe(self) -> str:
        if self.kind == "missing":
            return "torch is not installed"
        build = {"cpu": "CPU only", "cuda": f"CUDA {self.cuda}", "rocm": f"ROCm {self.rocm}"}[self.kind]
        return f"torch {self.version} ({build})"


@dataclass(frozen=True)
class Disk:
    """Free space where runs (checkpoints) and downloaded models go."""

    what: str  # "runs folder" or "Hugging Face cache"
    path: Path
    free: int | None  # bytes; None when the folder's file system could not be read
    total: int | None = None

    @property
    def low(self) -> bool:
        return self.free is not None and self.free < LOW_DISK_BYTES

    def describe(self) -> str:
        if self.free is None:
            return f"{self.what} {self.path}: free space unknown"
        return f"{self.what} {self.path}: {_size(self.free)} free"


@dataclass(frozen=True)
class Finding:
    """One line of the report: `level` OK, WARNING (works, but look) or PROBLEM (training will not use the GPU)."""

    level: str
    message: str


@dataclass(frozen=True)
class Report:
    gpu: Gpu
    torch: TorchBuild
    disks: tuple[Disk, ...]
    findings: tuple[Finding, ...]
    fix_command: str | None = None  # the command that fixes the PROBLEM findings; shown, never run here
    fix_reason: str = ""  # one line: what the command changes

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.level == PROBLEM]

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        """The report as `finetune-studio doctor` prints it and the Copy buttons copy it."""
        lines = [f"GPU:    {self.gpu.describe()}", f"torch:  {self.torch.describe()}"]
        lines += [f"disk:   {d.describe()}" for d in self.disks]
        lines += [f"{f.level}: {f.message}" for f in self.findings]
        if self.fix_command:
            lines += [f"To fix ({self.fix_reason}), run:", f"  {self.fix_command}"]
        return "\n".join(lines)


# ---- probes ------------------------------------------------------------------------------------------------------

Runner = Callable[[list[str]], str]  # runs a command, returns its stdout; raises OSError/CalledProcessError


def _run(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, timeout=10, check=True).stdout


def nvidia_from_nvml(table: Any) -> Gpu | None:
    """The NVIDIA GPUs in core.gpus' NVML table (the app's one NVML reader: names, driver, its CUDA version), or None
    when NVML could not start (no driver, no library), failed mid-way, or sees none."""
    if not table.gpus:
        return None
    return Gpu("nvidia", tuple(gpu.name for gpu in table.gpus), table.driver or None, table.cuda or None, "NVML")


def nvidia_from_smi(run: Runner) -> Gpu | None:
    """The NVIDIA GPUs `nvidia-smi` lists (its header has the driver's CUDA version), or None."""
    try:
        listing = run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"])
        header = run(["nvidia-smi"])
    except (OSError, subprocess.SubprocessError):
        return None
    rows = [[c.strip() for c in line.split(",")] for line in listing.splitlines() if line.strip()]
    if not rows:
        return None
    cuda = re.search(r"CUDA Version:\s*([0-9]+\.[0-9]+)", header)
    return Gpu("nvidia", tuple(r[0] for r in rows), rows[0][1] if len(rows[0]) > 1 else None,
               cuda.group(1) if cuda else None, "nvidia-smi")


def _read_gpus() -> Any:
    from finetune_studio.core.gpus import read_gpus

    return read_gpus(with_cpu=False)


def find_gpu(read: Callable[[], Any] = _read_gpus, run: Runner = _run, kfd: Path = Path("/dev/kfd")) -> Gpu:
    """NVIDIA through NVML (core.gpus.read_gpus), else nvidia-smi; then AMD through ROCm's kernel driver
    (/dev/kfd)."""
    gpu = nvidia_from_nvml(read()) or nvidia_from_smi(run)
    if gpu:
        return gpu
    if kfd.exists():
        return Gpu("amd", (), None, None, str(kfd))
    return Gpu("none", how="NVML, nvidia-smi and /dev/kfd found none")


def torch_build(read: Callable[[], str | None] | None = None) -> TorchBuild:
    """The installed torch's build, from torch/version.py read as text (torch itself is not imported)."""
    source = (read or _torch_version_file)()
    if source is None:
        return TorchBuild("missing")
    values: dict[str, Any] = {}
    for node in ast.parse(source).body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        value = getattr(node, "value", None)
        if isinstance(target, ast.Name) and isinstance(value, ast.Constant):
            values[target.id] = value.value
    version, cuda, hip = values.get("__version__"), values.get("cuda"), values.get("hip")
    if hip:
        rocm = values.get("rocm") or ".".join(str(hip).split(".")[:2])
        return TorchBuild("rocm", version, rocm=str(rocm))
    if cuda:
        return TorchBuild("cuda", version, cuda=str(cuda))
    return TorchBuild("cpu", version)


def _torch_version_file() -> str | None:
    """torch/version.py of the torch this interpreter would import, without importing torch."""
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "version.py"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    try:  # a torch without version.py (never seen in a wheel): its version at least
        return f"__version__ = {metadata.version('torch')!r}"
    except metadata.PackageNotFoundError:
        return None


def hf_cache_dir() -> Path:
    """Where downloaded models go (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub)."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def free_space(what: str, path: Path) -> Disk:
    """Free bytes on the file system that holds `path` (or its nearest existing parent: it may not exist yet)."""
    probe = path.expanduser()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        usage = shutil.disk_usage(probe)
    except OSError:
        return Disk(what, path, None)
    return Disk(what, path, usage.free, usage.total)


# ---- judgement ---------------------------------------------------------------------------------------------------

def cuda_build_for(driver_cuda: str | None) -> str | None:
    """The CUDA build in CUDA_BUILDS for this driver: the newest no newer than the driver's CUDA version, else
    (minor-version compatibility) the oldest of the driver's major version; None when the driver is too old."""
    if driver_cuda is None:
        return CUDA_BUILDS[-1]  # the driver did not say: the oldest build runs on the most drivers
    have = _version_tuple(driver_cuda)
    same_major = [b for b in CUDA_BUILDS if _version_tuple(b)[0] == have[0]]
    return next((b for b in CUDA_BUILDS if _version_tuple(b) <= have), same_major[-1] if same_major else None)


def pip_command(torch: TorchBuild, index_tag: str, python: str | None = None) -> str:
    """The pip command that replaces torch by the `index_tag` build ("cu128", "rocm6.4", "cpu") of the same
    release, for the interpreter that runs the app: the same torch version keeps the pinned dependencies happy."""
    python = python or sys.executable
    release = torch.release
    requirement = f'"torch=={release}+{index_tag}"' if release else "torch"
    if importlib.util.find_spec("pip") is None and shutil.which("uv"):  # a uv-made venv has no pip
        return f"uv pip install --python {python} {requirement} --index-url {TORCH_INDEX}/{index_tag}"
    return f"{python} -m pip install {requirement} --index-url {TORCH_INDEX}/{index_tag}"


def judge(gpu: Gpu, torch: TorchBuild, disks: tuple[Disk, ...], python: str | None = None) -> Report:
    """The findings and, for a GPU that torch cannot use, the command that installs the build that can."""
    findings: list[Finding] = []
    command, reason = None, ""

    def fix(tag: str, why: str) -> None:
        nonlocal command, reason
        command, reason = pip_command(torch, tag, python), why

    if torch.kind == "missing":
        findings.append(Finding(PROBLEM, "torch is not installed: nothing can train."))
        tag = "cpu"
        if gpu.vendor == "nvidia":
            tag = f"cu{(cuda_build_for(gpu.cuda) or CUDA_BUILDS[-1]).replace('.', '')}"
        elif gpu.vendor == "amd":
            tag = f"rocm{ROCM_BUILD}"
        fix(tag, f"install torch for this machine ({tag})")
    elif gpu.vendor == "nvidia" and torch.kind != "cuda":
        build = cuda_build_for(gpu.cuda)
        if build is None:
            findings.append(Finding(PROBLEM, f"{gpu.names[0] if gpu.names else 'The NVIDIA GPU'} is here, but "
                                    f"{torch.describe()} cannot use it, and the driver (CUDA {gpu.cuda}) is older "
                                    f"than every CUDA build of torch ({', '.join(CUDA_BUILDS)}). To fix: update the "
                                    "NVIDIA driver, then run finetune-studio doctor again."))
        else:
            findings.append(Finding(PROBLEM, f"{gpu.names[0] if gpu.names else 'An NVIDIA GPU'} is here, but "
                                    f"{torch.describe()} cannot use it: training would run on the CPU."))
            fix(f"cu{build.replace('.', '')}", f"install the CUDA {build} build of the same torch")
    elif gpu.vendor == "amd" and torch.kind != "rocm":
        findings.append(Finding(PROBLEM, f"An AMD GPU (ROCm driver) is here, but {torch.describe()} cannot use it: "
                                "training would run on the CPU."))
        fix(f"rocm{ROCM_BUILD}", f"install the ROCm {ROCM_BUILD} build of the same torch")
    elif torch.kind == "cuda" and gpu.vendor == "nvidia":
        if gpu.cuda and _version_tuple(gpu.cuda)[0] < _version_tuple(torch.cuda or "0")[0]:
            build = cuda_build_for(gpu.cuda)
            findings.append(Finding(PROBLEM, f"torch is built for CUDA {torch.cuda}, but the NVIDIA driver runs "
                                    f"CUDA {gpu.cuda} at most: torch will not see the GPU."))
            if build:
                fix(f"cu{build.replace('.', '')}", f"install the CUDA {build} build, which this driver runs")
        else:
            findings.append(Finding(OK, f"torch's CUDA {torch.cuda} build matches the NVIDIA driver "
                                    f"(CUDA {gpu.cuda or 'version unknown'})."))
    elif torch.kind == "rocm" and gpu.vendor == "amd":
        findings.append(Finding(OK, f"torch's ROCm {torch.rocm} build matches the AMD GPU."))
    elif not gpu.present and torch.kind in ("cuda", "rocm"):
        findings.append(Finding(WARNING, f"{torch.describe()} is installed but no GPU was found: training runs on "
                                "the CPU (a CPU-only torch is smaller, but this one works)."))
    else:
        findings.append(Finding(OK, "no GPU and a CPU-only torch: they match; training runs on the CPU."))
    for disk in disks:
        if disk.low:
            findings.append(Finding(WARNING, f"only {_size(disk.free)} free in the {disk.what} "
                                    f"({disk.path}); a checkpoint of a 0.6B-parameter model takes about 7 GiB. "
                                    "To fix: free space there, or choose another folder."))
    return Report(gpu, torch, disks, tuple(findings), command, reason)


def check(runs_dir: Path | None = None) -> Report:
    """The whole check on this machine: GPU, torch build, free space in the runs folder and the HF cache."""
    from finetune_studio.core.config import default_runs_dir

    disks = (free_space("runs folder", runs_dir or default_runs_dir()), free_space("Hugging Face cache",
                                                                                     hf_cache_dir()))
    return judge(find_gpu(), torch_build(), disks)


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:2]) or (0,)


def main(runs_dir: str | None = None) -> int:
    """`finetune-studio doctor`: print the report; exit 1 when a problem keeps training off the GPU."""
    report = check(Path(runs_dir).expanduser() if runs_dir else None)
    print(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":  # python -m finetune_studio.core.doctor
    sys.exit(main())
