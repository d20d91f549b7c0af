"""A push (a full run, or an adapter run's adapter alone) whose files could not be written into its staging folder
(a full disk, a folder it may not write) said "Failed while preparing the files to upload: OSError: [Errno 28]
...", naming neither the folder nor what to do; a merged push out of room there already said both. Both now say it
in one way (core.hub._staging_failed). Against the local test Hub in this process; the staging write is made to
fail where the push links (or copies) each run file into the staging folder."""

from __future__ import annotations

import errno
import tempfile
from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core import hub as core_hub
from tests.core.test_cli_push_export_input import _adapter_run, quiet_hub  # noqa: F401 - a fixture
from tests.hub_fixtures import hub, make_finished_run
from tests.hub_server import HubServer

_CAUSES = {errno.ENOSPC: "No space left on device", errno.EACCES: "Permission denied"}


def _failing_staging(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, code: int) -> Path:
    """TMPDIR is tmp_path/stage, and each run file linked (or copied) into the push's staging folder there fails
    with `code`, as the copy does on a full disk or a folder it may not write."""
    import torch._dynamo.package  # noqa: F401 - it makes torch's cache folder (torchinductor_USER) in the temp dir:
    # imported before TMPDIR moves, as an earlier test of the same process did, as test_push_merged_checks' merges

    stage = tmp_path / "stage"
    stage.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(stage))

    def link_or_copy(source: Path, target: Path) -> None:
        raise OSError(code, _CAUSES[code], str(target))

    monkeypatch.setattr(core_hub, "_link_or_copy", link_or_copy)
    return stage


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert out == "" and len(errors) == 1 and "Traceback" not in err, err
    return errors[0]


@pytest.mark.parametrize("kind", ["full", "adapter"])
def test_a_push_out_of_staging_space_names_the_folder_the_cause_and_the_fix(
        kind: str, quiet_hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    run = make_finished_run(tmp_path / "runs") if kind == "full" else _adapter_run(tmp_path / "runs")
    stage = _failing_staging(monkeypatch, tmp_path, errno.ENOSPC)
    assert cli.main(["push", str(run), "--repo", "alice/m"]) == cli.EXIT_FAILED
    assert _error_line(capsys) == (
        f"error: Could not prepare the files to upload in the push's staging folder in {stage}: the disk ran out of "
        "space (No space left on device). The repository alice/m exists on the Hub, but no files were uploaded to "
        f"it. To fix: free some space on the disk that holds {stage}, or set TMPDIR to a folder on a disk with room "
        "and start the push (or the app) again.")
    assert list(stage.iterdir()) == []  # the half-staged folder is gone
    assert quiet_hub.repos["alice/m"].files == {}


def test_a_staging_folder_it_may_not_write_says_make_it_writable(quiet_hub: HubServer, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    run = make_finished_run(tmp_path / "runs")
    stage = _failing_staging(monkeypatch, tmp_path, errno.EACCES)
    with pytest.raises(core_hub.HubError) as failed:
        core_hub.push_run(run, repo_id="alice/m")
    assert failed.value.kind == core_hub.STAGING_FAILED
    assert failed.value.message == (f"Could not prepare the files to upload in the push's staging folder in {stage}: "
                                    "permission denied. The repository alice/m exists on the Hub, but no files were "
                                    "uploaded to it.")
    assert failed.value.fix == (f"To fix: make {stage} writable, or set TMPDIR to a folder on a disk with room and "
                                "start the push (or the app) again.")
    assert list(stage.iterdir()) == [] and quiet_hub.repos["alice/m"].files == {}
