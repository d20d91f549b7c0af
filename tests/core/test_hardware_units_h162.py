"""Memory and disk sizes read in one convention wherever the user reads them: the estimate's rule (core.estimate.gib,
binary units named MiB/GiB). `finetune-studio doctor` (and Help > Check runtime) said the free disk space as
"36.2 GB" while dividing by 1024**3, beside the estimate's "22 GiB free RAM" and the Hardware tab's GiB."""

from __future__ import annotations

from pathlib import Path

from finetune_studio.core import doctor
from finetune_studio.core.doctor import WARNING, Disk, Gpu, TorchBuild
from finetune_studio.core.estimate import GIB, MIB


def test_doctor_says_free_disk_space_in_gib(tmp_path: Path) -> None:
    assert Disk("runs folder", tmp_path, int(36.2 * GIB)).describe() == f"runs folder {tmp_path}: 36 GiB free"
    assert Disk("runs folder", tmp_path, int(3.04 * GIB)).describe() == f"runs folder {tmp_path}: 3.0 GiB free"
    assert Disk("Hugging Face cache", tmp_path, 700 * MIB).describe() == f"Hugging Face cache {tmp_path}: 700 MiB free"


def test_doctors_low_disk_warning_says_gib(tmp_path: Path) -> None:
    disks = (Disk("runs folder", tmp_path, 3 * GIB),)
    report = doctor.judge(Gpu("none", how="x"), TorchBuild("cpu", "2.13.0+cpu"), disks, python="python")
    warnings = [finding.message for finding in report.findings if finding.level == WARNING]
    assert warnings == [f"only 3.0 GiB free in the runs folder ({tmp_path}); a checkpoint of a 0.6B-parameter model "
                        "takes about 7 GiB. To fix: free space there, or choose another folder."]
