"""`finetune-studio doctor`: each GPU/torch combination, with NVML, nvidia-smi and torch/version.py faked at their
boundary; the real check on this machine (no GPU, CPU torch) without importing torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from finetune_studio.core import doctor, gpus
from finetune_studio.core.cli import main as cli_main
from finetune_studio.core.doctor import PROBLEM, WARNING, Disk, Gpu, TorchBuild

PY = "/opt/venv/bin/python"


class FakeNvml:
    """pynvml's calls core.gpus.read_gpus makes (the doctor's NVML reader), answering like a machine with these GPUs
    (or failing like no driver); `install` puts it in place of the library as core.gpus sees it."""

    def __init__(self, names: list[str] | None, cuda: int = 12080, driver: str = "570.86.15"):
        self.names, self.cuda, self.driver = names, cuda, driver
        self.shut_down = False

    def nvmlInit(self) -> None:  # noqa: N802 - pynvml's names
        if self.names is None:
            raise RuntimeError("NVML Shared Library Not Found")

    def nvmlShutdown(self) -> None:  # noqa: N802
        self.shut_down = True

    def nvmlDeviceGetCount(self) -> int:  # noqa: N802
        return len(self.names or [])

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:  # noqa: N802
        return i

    def nvmlDeviceGetName(self, handle: int) -> bytes:  # noqa: N802
        return self.names[handle].encode()  # older nvidia-ml-py returns bytes

    def nvmlSystemGetDriverVersion(self) -> str:  # noqa: N802
        return self.driver

    def nvmlSystemGetCudaDriverVersion(self) -> int:  # noqa: N802
        return self.cuda

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> SimpleNamespace:  # noqa: N802
        return SimpleNamespace(total=24 << 30, used=1 << 30, free=23 << 30)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> FakeNvml:
        monkeypatch.setattr(gpus, "pynvml", self)
        return self


def no_smi(command: list[str]) -> str:
    raise FileNotFoundError("nvidia-smi")


CPU_TORCH = TorchBuild("cpu", "2.13.0+cpu")
DISKS = (Disk("runs folder", Path("/runs"), 500 * 1024**3),)


def version_py(version: str, cuda: str | None = None, hip: str | None = None) -> str:
    return (f"from typing import Optional\n__version__ = {version!r}\ndebug = False\n"
            f"cuda: Optional[str] = {cuda!r}\nhip: Optional[str] = {hip!r}\n")


def test_cuda_gpu_with_cpu_torch_gets_the_cuda_build_of_the_same_torch(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    nvml = FakeNvml(["NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 4090"], cuda=12080).install(monkeypatch)
    gpu = doctor.find_gpu(run=no_smi, kfd=tmp_path / "kfd")  # NVML as core.gpus reads it
    assert gpu == Gpu("nvidia", ("NVIDIA GeForce RTX 4090",) * 2, "570.86.15", "12.8", "NVML")
    assert nvml.shut_down
    report = doctor.judge(gpu, CPU_TORCH, DISKS, python=PY)
    assert not report.ok
    assert [f.level for f in report.findings] == [PROBLEM]
    assert "cannot use it: training would run on the CPU" in report.problems[0].message
    assert report.fix_command == (f'{PY} -m pip install "torch==2.13.0+cu128" '
                                  "--index-url https://download.pytorch.org/whl/cu128")
    assert report.text().splitlines()[0] == ("GPU:    2× NVIDIA GeForce RTX 4090 (driver 570.86.15, CUDA 12.8; "
                                             "read with NVML)")
    assert report.text().splitlines()[-1] == f"  {report.fix_command}"


@pytest.mark.parametrize(("driver_cuda", "build"), [("13.1", "13.0"), ("12.9", "12.8"), ("12.6", "12.6"),
                                                    ("12.4", "12.6"), ("11.8", None), (None, "12.6")])
def test_the_cuda_build_is_the_newest_this_driver_runs(driver_cuda: str | None, build: str | None) -> None:
    assert doctor.cuda_build_for(driver_cuda) == build


def test_a_driver_older_than_every_build_says_update_the_driver_and_offers_no_pip_command() -> None:
    report = doctor.judge(Gpu("nvidia", ("Tesla V100",), "470.1", "11.4", "NVML"), CPU_TORCH, DISKS, python=PY)
    assert report.fix_command is None
    assert "To fix: update the NVIDIA driver" in report.problems[0].message


def test_nvidia_smi_is_the_fallback_when_nvml_cannot_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = {"--query-gpu=name,driver_version": "NVIDIA H100 80GB HBM3, 550.54.15\n",
               "": "| NVIDIA-SMI 550.54.15   Driver Version: 550.54.15   CUDA Version: 12.4     |\n"}

    def smi(command: list[str]) -> str:
        assert command[0] == "nvidia-smi"
        return outputs["--query-gpu=name,driver_version" if len(command) > 1 else ""]

    FakeNvml(None).install(monkeypatch)
    gpu = doctor.find_gpu(run=smi, kfd=tmp_path / "kfd")
    assert gpu == Gpu("nvidia", ("NVIDIA H100 80GB HBM3",), "550.54.15", "12.4", "nvidia-smi")
    report = doctor.judge(gpu, CPU_TORCH, DISKS, python=PY)
    assert report.fix_command.endswith('"torch==2.13.0+cu126" --index-url https://download.pytorch.org/whl/cu126')


def test_amd_gpu_with_cpu_torch_gets_the_rocm_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kfd = tmp_path / "kfd"
    kfd.touch()
    FakeNvml(None).install(monkeypatch)
    gpu = doctor.find_gpu(run=no_smi, kfd=kfd)
    assert gpu.vendor == "amd"
    report = doctor.judge(gpu, CPU_TORCH, DISKS, python=PY)
    assert report.fix_command == (f'{PY} -m pip install "torch==2.13.0+rocm6.4" '
                                  "--index-url https://download.pytorch.org/whl/rocm6.4")


def test_torch_builds_are_read_from_version_py() -> None:
    assert doctor.torch_build(lambda: version_py("2.13.0+cpu")) == TorchBuild("cpu", "2.13.0+cpu")
    assert doctor.torch_build(lambda: version_py("2.13.0+cu128", cuda="12.8")) == TorchBuild(
        "cuda", "2.13.0+cu128", cuda="12.8")
    assert doctor.torch_build(lambda: version_py("2.13.0+rocm6.4", hip="6.4.43482-0f2d60242")) == TorchBuild(
        "rocm", "2.13.0+rocm6.4", rocm="6.4")
    assert doctor.torch_build(lambda: None) == TorchBuild("missing")


def test_cuda_torch_newer_than_the_driver_is_a_problem_with_the_older_build() -> None:
    torch = TorchBuild("cuda", "2.13.0+cu130", cuda="13.0")
    report = doctor.judge(Gpu("nvidia", ("RTX 3090",), "560.1", "12.6", "NVML"), torch, DISKS, python=PY)
    assert "runs CUDA 12.6 at most" in report.problems[0].message
    assert '"torch==2.13.0+cu126"' in report.fix_command
    matched = doctor.judge(Gpu("nvidia", ("RTX 3090",), "570.1", "12.8", "NVML"),
                           TorchBuild("cuda", "2.13.0+cu128", cuda="12.8"), DISKS, python=PY)
    assert matched.ok and matched.fix_command is None


def test_missing_torch_gets_the_build_for_this_machine() -> None:
    report = doctor.judge(Gpu("none", how="x"), TorchBuild("missing"), DISKS, python=PY)
    assert not report.ok
    assert report.fix_command == f"{PY} -m pip install torch --index-url https://download.pytorch.org/whl/cpu"


def test_low_disk_warns_without_failing(tmp_path: Path) -> None:
    disks = (Disk("runs folder", tmp_path, 3 * 1024**3), Disk("Hugging Face cache", tmp_path, 200 * 1024**3))
    report = doctor.judge(Gpu("none", how="x"), CPU_TORCH, disks, python=PY)
    assert report.ok
    warnings = [f.message for f in report.findings if f.level == WARNING]
    assert len(warnings) == 1 and warnings[0].startswith("only 3.0 GiB free in the runs folder")


def test_free_space_of_a_folder_that_does_not_exist_yet_is_its_parents(tmp_path: Path) -> None:
    disk = doctor.free_space("runs folder", tmp_path / "not" / "yet")
    assert disk.free is not None and disk.free > 0 and disk.path == tmp_path / "not" / "yet"


def test_this_machine_no_gpu_and_cpu_torch_without_importing_torch(tmp_path: Path) -> None:
    """The real probes here: a CPU-only VM with the CPU wheel of torch; torch itself is never imported."""
    code = ("import json, sys\nfrom finetune_studio.core import doctor\nr = doctor.check()\n"
            "print(json.dumps({'gpu': r.gpu.vendor, 'torch': r.torch.kind, 'version': r.torch.version, "
            "'ok': r.ok, 'fix': r.fix_command, 'disks': [d.free is not None for d in r.disks], "
            "'imported': 'torch' in sys.modules}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(out.stdout)
    import torch

    assert result == {"gpu": "none", "torch": "cpu", "version": torch.__version__, "ok": True, "fix": None,
                      "disks": [True, True], "imported": False}


def test_cli_doctor_prints_the_fix_and_exits_1_on_a_mismatch(monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture, runs_dir: Path) -> None:
    assert cli_main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert f"disk:   runs folder {runs_dir}:" in out
    monkeypatch.setattr(doctor, "find_gpu", lambda: Gpu("nvidia", ("RTX 4090",), "570.1", "12.8", "NVML"))
    monkeypatch.setattr(doctor, "torch_build", lambda: CPU_TORCH)
    assert cli_main(["doctor", "--runs-dir", str(runs_dir)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2] == "To fix (install the CUDA 12.8 build of the same torch), run:"
    assert lines[-1].endswith('-m pip install "torch==2.13.0+cu128" --index-url https://download.pytorch.org/whl/cu128')
