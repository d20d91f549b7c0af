"""A merged push merged the adapter into its base model (minutes for a big one) before it checked the login, the
repository id and the account's right to push, and a full disk while merging told the push to use --out and
"export again" (helper-65). Against the local test Hub in this process; the merge itself is stood in for."""

from __future__ import annotations

import errno
import tempfile
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import cli, export
from finetune_studio.core import hub as core_hub
from finetune_studio.core.export import ExportResult
from tests.core.test_cli_push_export_input import _adapter_run, quiet_hub  # noqa: F401 - a fixture
from tests.hub_fixtures import READ, hub, safetensors_bytes
from tests.hub_server import HubServer


def small_merged_model(out_dir: Path) -> ExportResult:
    """What a stand-in for core.export.export_merged writes: a small whole model where the push asked."""
    out_dir.mkdir(parents=True)
    (out_dir / "config.json").write_text('{"model_type": "qwen3"}')
    (out_dir / "model.safetensors").write_bytes(safetensors_bytes(b"merged" * 16))
    return ExportResult("merged", out_dir)


@pytest.fixture
def merges(monkeypatch: pytest.MonkeyPatch, quiet_hub: HubServer, tmp_path: Path) -> list[dict[str, Any]]:
    """Stands in for core.export.export_merged (a real merge loads the whole base model): records each call, with
    the repositories the Hub held and the requests it had got at that moment, and writes a small whole model where
    the push asked."""
    import torch._dynamo.package  # noqa: F401 - importing it makes torch's cache folder (torchinductor_USER) in the
    # temp dir, not the push's: imported here first, as any earlier test in the same process did, so a run of this
    # file alone sees in the stage only what the push left there

    stage = tmp_path / "stage"
    stage.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(stage))  # the push's staging place (TMPDIR)
    calls: list[dict[str, Any]] = []

    def merged(run_dir: Path, out_dir: Path, *args: Any, **kwargs: Any) -> ExportResult:
        calls.append({"out_dir": Path(out_dir), "repos": sorted(quiet_hub.repos), "requests": _requests(quiet_hub)})
        return small_merged_model(Path(out_dir))

    monkeypatch.setattr(export, "export_merged", merged)
    return calls


def _requests(hub: HubServer) -> list[tuple[str, str]]:
    return [(request.method, request.path.split("?")[0]) for request in hub.requests]


LOOKED = [("GET", "/api/whoami-v2"), ("GET", "/api/models/alice/m")]  # the account, then a look at the repository


@pytest.mark.parametrize(("repo", "token", "code", "starts"), [
    ("alice/m", None, cli.EXIT_FAILED, "error: You are not logged in to the Hugging Face Hub."),
    ("alice/bad name", "write", cli.EXIT_CONFIG, "error: alice/bad name is not a valid repository id: "),
    ("bob/m", "write", cli.EXIT_FAILED, "error: You cannot push to bob/m: "),
    ("alice/m", "read", cli.EXIT_FAILED, "error: Your Hugging Face token (studio-read) is read-only, so it "
                                          "cannot push."),
])
def test_a_merged_push_that_cannot_be_sent_fails_before_merging(
        repo: str, token: str | None, code: int, starts: str, merges: list[dict[str, Any]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    run = _adapter_run(tmp_path / "runs")
    if token is None:
        monkeypatch.delenv("HF_TOKEN")
    elif token == "read":
        monkeypatch.setenv("HF_TOKEN", READ)
    assert cli.main(["push", str(run), "--repo", repo, "--merged"]) == code
    out, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith(starts), err
    assert merges == []  # the base model was never loaded nor merged
    assert list((tmp_path / "stage").iterdir()) == []


def test_a_merged_push_merges_before_the_repository_is_created(merges: list[dict[str, Any]], quiet_hub: HubServer,
                                                               tmp_path: Path) -> None:
    """The merge comes once the account and the repository are checked (a look, which creates nothing), and the
    repository is created only once it has succeeded: a merge that fails leaves nothing on the Hub."""
    run = _adapter_run(tmp_path / "runs")
    phases: list[str] = []
    result = core_hub.push_run(run, repo_id="alice/m", form=core_hub.PUSH_MERGED,
                               progress=lambda event: phases.append(event["phase"]))
    assert len(merges) == 1 and merges[0]["repos"] == []  # nothing created when the merge began
    assert merges[0]["requests"] == LOOKED  # only read: no create yet
    assert merges[0]["out_dir"].parent.parent == tmp_path / "stage"
    assert {"config.json", "model.safetensors"} <= set(result.files) <= set(quiet_hub.repos["alice/m"].files)
    assert phases[:5] == ["account", "repo", "merge", "repo", "prepare"]  # the look, the merge, then the create
    assert _requests(quiet_hub)[2] == ("POST", "/api/repos/create")


@pytest.mark.parametrize("failure", ["space", "write"])
def test_a_merged_push_out_of_room_names_its_staging_folder_and_no_export_flags(
        failure: str, quiet_hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    stage = tmp_path / "stage"
    stage.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(stage))

    def merged(run_dir: Path, out_dir: Path, *args: Any, **kwargs: Any) -> ExportResult:
        if failure == "space":  # core.export's own check, on the real disk, asked for far more than it has
            export.check_space(Path(out_dir), 2**60, "merged model")
        partial = Path(out_dir).parent / ".merged.partial"
        raise export.write_failed(OSError(errno.ENOSPC, "No space left on device", str(partial / "x")),
                                  "merged model", partial, Path(out_dir))

    monkeypatch.setattr(export, "export_merged", merged)
    run = _adapter_run(tmp_path / "runs")
    assert cli.main(["push", str(run), "--repo", "alice/m", "--merged"]) == cli.EXIT_FAILED
    out, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert out == "" and len(errors) == 1, err
    line = errors[0]
    problem = ("the merged model takes about 1,152,922 TB" if failure == "space" else
               "the disk ran out of space (No space left on device)")
    assert line.startswith(f"error: Could not merge the adapter into its base model in the push's staging folder "
                           f"in {stage}: {problem}"), line
    assert line.endswith(". Nothing was sent to the Hub, and alice/m was not created. To fix: "
                         f"free some space on the disk that holds {stage}, or set TMPDIR to a folder on a disk with "
                         "room and start the push (or the app) again; or push the adapter alone, which needs no "
                         "merge."), line
    assert "--out" not in line and "export" not in line and ".partial" not in line
    assert _requests(quiet_hub) == LOOKED and "alice/m" not in quiet_hub.repos  # no create, no upload
