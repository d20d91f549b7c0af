"""A run whose status.json holds a state this version does not know (a newer version's 'paused'; core.runs.
unknown_state) is neither offered for Resume nor resumed: a resume writes a status.json of its own over the one the
newer version wrote. The window's offer (core.session.can_resume) and the one core resume behind the CLI, the window
and torchrun runs (core.training.resume) both ask."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.events import RunState
from finetune_studio.core.session import can_resume
from tests.core.test_runs_messages_h109 import _stopped_run

NEWER = b'{"state": "paused", "message": "held by a newer version"}'


@pytest.mark.slow
def test_a_newer_versions_run_is_not_offered_or_resumed_and_its_status_is_kept(tmp_path: Path, capsys) -> None:
    from finetune_studio.core import cli

    path = _stopped_run(tmp_path, "newer")
    assert can_resume(RunState.BROKEN, path)  # with its own status.json damaged, not newer: offered
    (path / "status.json").write_bytes(NEWER)
    before = sorted(p.relative_to(path) for p in path.rglob("*"))
    assert not can_resume(RunState.BROKEN, path) and not can_resume(RunState.UNKNOWN, path)

    capsys.readouterr()
    assert cli.main(["resume", str(path)]) == 2
    err = capsys.readouterr().err
    assert (f"The run {path.name} cannot be resumed here: status.json says its state is 'paused', which this "
            "version of Finetune Studio does not know") in err
    assert "To fix: open it with the Finetune Studio that wrote it" in err
    assert (path / "status.json").read_bytes() == NEWER
    assert sorted(p.relative_to(path) for p in path.rglob("*")) == before  # nothing written, lock file gone
