"""`launch: devices: [true]`: YAML's true is Python's True, an int equal to 1, and no GPU number."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import launch
from finetune_studio.core.config import RunConfig, load_config, save_config


def _devices_written(tmp_path: Path, text: str) -> RunConfig:
    path = tmp_path / "c.yaml"
    save_config(RunConfig(), path)
    path.write_text(path.read_text().replace("devices: []", f"devices: {text}"))
    return load_config(path)[0]


@pytest.mark.parametrize(("written", "said"), [("[true]", "true is not a GPU number"),
                                               ("[0, false]", "false is not a GPU number"),
                                               ("[true, false]", "false and true are not GPU numbers")])
def test_true_and_false_in_devices_are_said_to_be_no_gpu_numbers(tmp_path: Path, written: str, said: str) -> None:
    config = _devices_written(tmp_path, written)
    problems = [p for p in launch.launch_problems(config, gpu_count=2) if p.field == "launch.devices"]
    assert len(problems) == 1
    assert f"{said} (GPU 1 is written 1). To fix: tick GPUs in the Hardware panel" in problems[0].message


def test_is_gpu_number() -> None:
    assert [launch.is_gpu_number(v) for v in (0, 1, 7, True, False, -1, 1.0, "1", None)] == [
        True, True, True, False, False, False, False, False, False]
