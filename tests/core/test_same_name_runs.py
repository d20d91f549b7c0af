"""Two windows (or a window and a shell) starting a run under the same name at the same time: one trains, the other
is refused with words that say why, and the folder holds only the first run's files."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from finetune_studio.core.config import default_config, load_config
from finetune_studio.core.errors import ConfigError
from finetune_studio.core.runs import RunBusy, RunFolder
from finetune_studio.core.training import new_run_folder, run


def _named(runs: Path, name: str, learning_rate: float):
    config = default_config()
    config.runs_dir, config.name = str(runs), name
    config.training["learning_rate"] = learning_rate
    return config


def test_a_second_start_under_a_name_in_training_is_refused_and_leaves_the_first_alone(tmp_path: Path) -> None:
    inside, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def training(config, folder, sink, stop, checkpoint, finish_only):  # stands in for train_in_folder
        folder.write_status("running", "Training")
        folder.metrics_path.write_text('{"event": "step", "step": 1}\n')
        inside.set()
        release.wait(30)
        return "first run's result"

    first = threading.Thread(target=lambda: results.setdefault(
        "first", run(_named(tmp_path, "same", 1e-3), execute=training)))
    first.start()
    try:
        assert inside.wait(60), "the first run never reached its training"
        with pytest.raises(ConfigError) as refused:
            run(_named(tmp_path, "same", 5e-5), execute=lambda *args: pytest.fail("the second run trained"))
        assert "A run named 'same' already exists" in str(refused.value)
        assert "To fix: choose another name (name: in the config, or --name NEW), or resume that run" in str(
            refused.value)
    finally:
        release.set()
        first.join(60)
    assert results["first"] == "first run's result"
    folder = RunFolder(tmp_path / "same")
    assert load_config(folder.config_path)[0].training["learning_rate"] == 1e-3  # the first run's config stands
    assert folder.metrics_path.read_text() == '{"event": "step", "step": 1}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same"]


def test_two_starts_that_claim_the_same_empty_folder_at_once_train_one_run(tmp_path: Path) -> None:
    """The narrowest race: the second start claims the folder after the first made it but before the first took
    its lock. The run lock decides: the first is told another start took the name, in words for a new run (it
    said 'so it was not resumed … then resume', which a new run is not)."""
    config, folder = new_run_folder(_named(tmp_path, "race", 1e-3))  # the first start, up to its lock
    trained: list[str] = []
    said: list[str] = []

    def training(config, folder, sink, stop, checkpoint, finish_only):
        trained.append(config.name)
        from finetune_studio.core.runs import RunLock

        with pytest.raises(RunBusy) as busy:  # the first start, now reaching its lock
            with RunLock.acquire(folder.path, new_run=True):
                pass
        said.append(str(busy.value))
        return "second"

    assert run(_named(tmp_path, "race", 5e-5), execute=training) == "second"
    assert trained == ["race"]
    assert said[0].startswith("A run named race started training in this folder just now (process ")
    assert said[0].endswith("so this run was not started. To fix: give this run another name and start it again.")
    assert load_config(folder.config_path)[0].training["learning_rate"] == 5e-5
