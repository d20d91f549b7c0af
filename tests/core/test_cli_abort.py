"""A second Ctrl-C during `train` aborts: the message names the run's folder and what it holds now, never the
placeholder 'RUN_DIR' (a tester saw that while status.json said the run had stopped with a checkpoint)."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.config import save_config
from finetune_studio.core.runs import RunFolder
from tests.helpers import small_config


def aborting_run(run_dir: Path | None, checkpoint: bool):
    def execute(sink, stop):
        if run_dir is not None:
            run_dir.mkdir(parents=True)
            save_config(small_config(run_dir / "d.jsonl", run_dir.parent), run_dir / "config.yaml")
            RunFolder(run_dir).write_status("stopped", "Stopped at step 78 of 3000, resumable")
            if checkpoint:
                (run_dir / "checkpoint-78").mkdir()
                (run_dir / "checkpoint-78" / "trainer_state.json").write_text('{"global_step": 78}')
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
        assert err.strip() == (f"aborted: {run_dir}: Stopped at step 78 of 3000, resumable. Resume from its latest "
                               f"checkpoint with: finetune-studio resume {run_dir}")
    else:
        assert err.strip() == f"aborted: {run_dir} has no checkpoint yet, so there is nothing to resume: start the " \
                              "run again."


def test_a_second_ctrl_c_before_the_run_folder_says_nothing_was_trained(capsys) -> None:
    assert cli._train(aborting_run(None, False), quiet=True) == cli.EXIT_FAILED
    assert capsys.readouterr().err.strip() == "aborted before the run's folder was made: nothing was trained."
