"""A run killed before its first checkpoint was told three different things: `runs` said "start it again under
another name, or delete this run first", resume said "Start it again…" with no command and no "To fix:", and
generate said "train it until it saves a checkpoint, or resume it", which resume refuses; a start under its name said
"or resume that run". All say now that it cannot resume, with "To fix:" and the same command, which works: under
another name when it trained steps (they keep the folder and its name), under its own when it trained none (a killed
run, read as interrupted, takes its folder over as a failed or stopped one does)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.config import PRESETS, save_config
from finetune_studio.core.runs import NO_CHECKPOINT_TEXT, RunFolder, summarize


def killed_run(runs: Path, name: str, steps: int) -> Path:
    """A demo run (max_steps 1) whose process was killed after `steps` steps, before any checkpoint."""
    run = runs / name
    run.mkdir(parents=True)
    config = PRESETS["demo"]()
    config.name, config.runs_dir = name, str(runs)
    config.training.update(max_steps=1, save_strategy="steps", save_steps=100, eval_strategy="no",
                           load_best_model_at_end=False)
    save_config(config, run / "config.yaml")
    events = [{"time": 1e9 + i, "event": "step", "step": i, "max_steps": 300} for i in range(1, steps + 1)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (run / "status.json").write_text(json.dumps({"state": "running", "message": "Training", "step": steps,
                                                 "max_steps": 300, "pid": gone.pid}))
    return run


def said_command(text: str) -> list[str]:
    found = re.findall(r"'(finetune-studio train [^']+)'", text)
    assert len(found) == 1, text
    return shlex.split(found[0])[1:]


@pytest.mark.slow
@pytest.mark.parametrize("steps", [45, 0])
def test_runs_resume_and_generate_say_the_same_fix_and_it_works(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], steps: int) -> None:
    run = killed_run(tmp_path, "k1", steps)
    listed = summarize(run).message
    assert listed == f"The process running this run ended without finishing it. {NO_CHECKPOINT_TEXT}."
    assert "To fix: start it again under another name" in listed and "delete this run first" not in listed

    assert cli.main(["resume", str(run)]) == 1
    resumed = capsys.readouterr().err
    assert resumed.startswith("error: The run k1 has no complete checkpoint to resume from, so it cannot resume. "
                              "To fix: start it again ")
    assert cli.main(["generate", str(run), "--prompt", "hi"]) == 1
    generated = capsys.readouterr().err
    assert "To fix: start it again " in generated and "resume it" not in generated
    command = said_command(resumed)
    assert said_command(generated) == command  # the same fix, word for word
    if steps:  # steps trained: they keep the folder and its name, and the command names another
        assert command == ["train", str(run / "config.yaml"), "--runs-dir", str(tmp_path), "--name", "k1-2"]
        assert "(this folder, which holds the steps it trained, keeps the name k1)." in resumed
        assert cli.main(["train", str(run / "config.yaml"), "--quiet"]) == cli.EXIT_CONFIG  # its own name: refused
        refused = capsys.readouterr().err
        assert "or delete that run's folder first: it saved no checkpoint, so it cannot resume." in refused
        assert "resume that run" not in refused
    else:  # nothing trained: the same name takes the folder over
        assert command == ["train", str(run / "config.yaml"), "--runs-dir", str(tmp_path), "--name", "k1"]
        assert "nothing was trained, so the same name takes this folder over" in resumed

    assert cli.main([*command, "--quiet"]) == 0  # the command said works
    started = tmp_path / command[-1]
    status = RunFolder(started).read_status()
    assert (status["state"], status["step"]) == ("finished", 1)
    assert (run / "metrics.jsonl").exists()  # the killed run's folder is still there (the other name) or reused
