"""validate() refuses a chosen GPU the machine does not have, as the Hardware tab does, so the CLI cannot start one."""

from __future__ import annotations

import pytest

from finetune_studio.core import gpus
from finetune_studio.core.config import default_config
from finetune_studio.core.validation import validate


@pytest.mark.parametrize("table, expected", [
    (gpus.GpuTable(unavailable="no driver"), "GPU 1 does not exist: this machine has no GPU."),
    (gpus.GpuTable(gpus=(gpus.Gpu(index=0, name="RTX 4090", total_bytes=24 << 30, used_bytes=1 << 30,
                                  free_bytes=23 << 30, utilization=3),)),
     "GPU 1 does not exist: this machine has GPUs 0."),
])
def test_a_gpu_the_machine_lacks_is_a_problem_at_launch_devices(monkeypatch: pytest.MonkeyPatch,
                                                               table: gpus.GpuTable, expected: str) -> None:
    monkeypatch.setattr(gpus, "read_gpus", lambda with_cpu=True: table)
    config = default_config()
    config.launch.devices = [0, 1] if table.gpus else [1]
    found = [p for p in validate(config) if p.field == "launch.devices"]
    assert len(found) == 1 and found[0].message.startswith(expected), found
    config.launch.devices = [0] if table.gpus else []
    assert [p for p in validate(config) if p.field == "launch.devices"] == []
