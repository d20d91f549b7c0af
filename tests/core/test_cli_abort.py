"""A second Ctrl-C during `train` aborts: the message names the run's folder and what it holds now, never the
placeholder 'RUN_DIR' (a tester saw that while status.json said the run had stopped with a checkpoint)."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.config import save_config
from finetune_studio.core.runs import RunFolder
from tests.helpers import checkpoint as make_checkpoint
from tests.helpers import small_config

# The status a run stopped before its first checkpoint is left with (core.training's no_checkpoint_text, 07b0703)
NO_CHECKPOINT = ("Interrupted. No checkpoint was saved, so it cannot resume. To fix: start it again under another "
                 "name, with its settings: 'finetune-studio train {run_dir}/config.yaml --runs-dir {run_dir.parent} "
                 "--name {run_dir.name}-2' (this folder, which holds the steps it trained, keeps the name "
                 "{run_dir.name}).")


def aborting_run(run_dir: Path | None, checkpoint: bool):
    def execute(sink, stop):
        if run_dir is not None:
            run_dir.mkdir(parents=True)
            save_config(small_config(run_dir / "d.jsonl", run_dir.parent), run_dir / "config.yaml")
            RunFolder(run_dir).write_status("failed", "Interrupted. Resume continues from checkpoint-78." if checkpoint
                                            else NO_CHECKPOINT.format(run_dir=run_dir))
            if checkpoint:
                make_checkpoint(run_dir, 78)  # one Resume can load (core.runs' resume_point)
            sink({"event": "run_start", "run_dir": str(run_dir), "name": run_dir.name})
        raise KeyboardInterrupt  # the second Ctrl-C
    return execute


@pytest.mark.parametrize("checkpoint", [True, False])
def test_a_second_ctrl_c_names_the_run_folder_and_what_it_holds(tmp_path: Path, capsys, checkpoint: bool) -> None:
    run_dir = tmp_path / "runs" / "long"
    assert cli._train(aborting_run(run_dir, checkpoint), quiet=True) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert "RUN_DIR" not in err
    if checkpoint:
        assert err.strip() == (f"aborted: {run_dir}: Interrupted. Resume continues from checkpoint-78. Resume with: "
                               f"finetune-studio resume {run_dir}")
    else:
        assert err.strip() == f"aborted: {run_dir}: {NO_CHECKPOINT.format(run_dir=run_dir)}"


def test_a_second_ctrl_c_before_the_run_folder_says_nothing_was_trained(capsys) -> None:
    assert cli._train(aborting_run(None, False), quiet=True) == cli.EXIT_FAILED
    assert capsys.readouterr().err.strip() == "aborted before the run's folder was made: nothing was trained."


@pytest.mark.slow
@pytest.mark.parametrize("save_steps, said", [
    (100, NO_CHECKPOINT),  # two steps trained: they keep the folder, and the command names aborted-2
    (1, "Interrupted. Resume continues from checkpoint-1."),
])
def test_an_aborted_run_says_what_it_can_do_next_as_it_is(demo_cache: Path, small_dataset: Path, runs_dir: Path,
                                                          save_steps: int, said: str) -> None:
    """The second Ctrl-C's KeyboardInterrupt at step 2: the status (Runs tab, `runs`, the CLI's last line) used to
    say "Resume to continue from the latest checkpoint" when there was none, and resume then refused."""
    from finetune_studio.core.session import can_resume
    from finetune_studio.core.training import run

    config = small_config(small_dataset, runs_dir, save_steps=save_steps, eval_steps=save_steps, max_steps=10)
    config.name = "aborted"

    def sink(event: dict) -> None:
        if event.get("event") == "step" and event["step"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(config, sink)
    status = RunFolder(runs_dir / "aborted").read_status()
    assert (status["state"], status["message"]) == ("failed", said.format(run_dir=runs_dir / "aborted"))
    assert can_resume("failed", runs_dir / "aborted") == (save_steps == 1)
