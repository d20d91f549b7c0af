"""`finetune-studio generate` refuses a run whose config.yaml names its base model as no one model, where the base
is loaded (--base), with exit 2 and the run's own fix, by the rule the Try tab uses (core.generate.base_problem):
it went on to fail at load with exit 1, the code of a model that cannot load."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.core.test_generate_cli import _run_with_checkpoint_2, cli, no_loading  # noqa: F401 - a fixture


def listed_base(tmp_path: Path) -> Path:
    run_dir = _run_with_checkpoint_2(tmp_path)
    import numpy
    from safetensors.numpy import save_file

    weights = run_dir / "checkpoint-2" / "model.safetensors"  # whole, for resolve; never loaded
    save_file({"w": numpy.zeros(1, dtype=numpy.float32)}, weights)
    path = run_dir / "config.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["model"]["name_or_path"] = ["a", "b"]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return run_dir


def test_base_named_as_a_list_exits_2_before_loading(tmp_path: Path, no_loading, capsys) -> None:
    run_dir = listed_base(tmp_path)
    code, out, err = cli(capsys, str(run_dir), "--base", "--prompt", "hi")
    assert (code, out) == (2, "")
    assert err == (f"error: The run run its config.yaml names its base model as a list (model.name_or_path: [a, b]), "
                   f"not as one model, so --base has no model to load. To fix: write the one model it was trained "
                   f"from in {run_dir / 'config.yaml'}, e.g. model: {{name_or_path: Qwen/Qwen3-0.6B}} or a model "
                   "folder, then run the command again.\n")

