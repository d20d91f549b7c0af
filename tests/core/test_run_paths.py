"""A run's config.yaml holds its local paths absolute, so the run resumes the same from any working directory."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from finetune_studio.core.config import load_config
from finetune_studio.core.training import resume, run
from tests.helpers import read_events, small_config


@pytest.mark.slow
def test_a_run_started_with_relative_paths_resumes_on_the_same_data_from_another_folder(
        demo_cache: Path, small_dataset: Path, tmp_path: Path, monkeypatch) -> None:
    start, elsewhere = tmp_path / "start", tmp_path / "elsewhere"
    for folder, rows in ((start, 200), (elsewhere, 50)):  # the same relative name, other rows
        (folder / "data").mkdir(parents=True)
        lines = small_dataset.read_text(encoding="utf-8").splitlines()[:rows]
        (folder / "data" / "rows.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.chdir(start)
    config = small_config(Path("data/rows.jsonl"), Path("runs"), max_steps=6, save_steps=2, eval_steps=2)
    config.name = "relative"
    stop = threading.Event()

    def sink(event: dict) -> None:
        if event.get("event") == "step" and event["step"] >= 2:
            stop.set()

    first = run(config, sink, stop)
    assert first.state == "stopped" and first.run_dir == start / "runs" / "relative"
    saved, _ = load_config(first.run_dir / "config.yaml")
    assert saved.dataset.source == str(start / "data" / "rows.jsonl")
    assert saved.runs_dir == str(start / "runs")
    monkeypatch.chdir(elsewhere)
    again = resume(first.run_dir)
    assert (again.state, again.step) == ("finished", 6)
    rows = [event["train_rows"] for event in read_events(first.run_dir, "data")]
    assert len(rows) == 2 and rows[0] == rows[1] == 180  # 200 rows less the 10 % test split, both times


@pytest.mark.slow
def test_a_resume_on_changed_data_says_so_and_one_on_the_same_data_does_not(demo_cache: Path, small_dataset: Path,
                                                                            runs_dir: Path) -> None:
    config = small_config(small_dataset, runs_dir, max_steps=6, save_steps=2, eval_steps=2)
    config.name = "changed"
    stop = threading.Event()

    def sink(event: dict) -> None:
        if event.get("event") == "step" and event["step"] >= 2:
            stop.set()

    def said() -> list[str]:
        return [e["message"] for e in read_events(runs_dir / "changed", "notice")
                if e["message"].startswith("The dataset changed")]

    assert run(config, sink, stop).state == "stopped"
    stop.clear()
    assert resume(runs_dir / "changed", sink, stop).state == "stopped"  # the same data: nothing to say
    assert said() == []
    lines = small_dataset.read_text(encoding="utf-8").splitlines()[:50]
    small_dataset.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert resume(runs_dir / "changed").state == "finished"
    assert said() == ["The dataset changed since this run began (180 training and 20 test rows then, 45 and 5 now): "
                      "the resumed steps train on the rows as they are now, so the run is no longer the one an "
                      "uninterrupted run would give (data order, splits). To keep it, restore the data as it was, "
                      "or start a new run on the new data."]
