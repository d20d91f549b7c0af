"""A run folder deleted while its checkpoints are compared: each model after it was said to be "damaged: its
config.json cannot be read ([Errno 2] …)", which sent the user to check files that were simply gone. The comparison
now says the run folder is gone, in full once and then in short."""

from __future__ import annotations

import shutil
from pathlib import Path

from finetune_studio.core import generate as g
from tests.gui.test_try_tab_states import make_run


def test_a_run_folder_deleted_mid_comparison_is_said_gone_not_damaged(demo_cache: Path, tmp_path: Path) -> None:
    from finetune_studio.core.demo import demo_model_path

    run_dir = make_run(tmp_path / "runs", "run two", demo_model_path(), steps=(4,))
    events: list[dict] = []

    def sink(event: dict) -> None:
        events.append(event)
        if event["event"] == "answer" and event["model"] == "base" and run_dir.exists():
            shutil.rmtree(run_dir)  # the base answered (it is not in the run): the run's own models go

    g.compare_checkpoints(run_dir, ["Aries"], g.GenerationSettings(max_new_tokens=2), sink=sink, where="cpu")
    assert [e["model"] for e in events if e["event"] == "answer"] == ["base"]
    skipped = [(e["model"], e["text"]) for e in events if e["event"] == "skipped"]
    assert skipped == [
        ("checkpoint-4", f"checkpoint-4 skipped: the run folder {run_dir} is gone (deleted or moved while comparing), "
                         "so its models cannot be loaded. To fix: put it back, or pick the run where it is now "
                         "(Refresh lists the runs as they are), then compare again"),
        ("final", "final model skipped: the run folder is gone (see above)"),
    ]
    assert not any("damaged" in e.get("text", "") for e in events)
