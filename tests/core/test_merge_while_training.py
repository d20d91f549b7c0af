"""A merge (a merged export, a merged push) is refused while a run trains in the app's process: it would load the
whole base model into the memory that run is using. The refusal told the user to run "finetune-studio export RUN
--merged" from another terminal: a placeholder for the run, an export for a push, and another process takes the
same memory from the run. It now says to export or push the adapter alone now, or to wait until the training run
ends (or stop it) and then export or push the merged model again; a merged push says so before the repository is
created. Runs are made without training; the Hub is the local test Hub in this process."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import cli, export, shared_state
from finetune_studio.core import model as models
from finetune_studio.core.export import ExportError, export_merged
from tests.core.test_cli_push_export_input import _adapter_run, quiet_hub  # noqa: F401 - a fixture
from tests.hub_fixtures import hub
from tests.hub_server import HubServer


def _refusal(verb: str, nothing: str) -> str:
    return ("Cannot merge the adapter of the run lora-run into its base model now: a run is training in this app, and "
            "merging loads the whole base model into the app's process and the memory that run is using. "
            f"{nothing} To fix: {verb} the adapter alone now (it needs no merge), or wait until that run ends (or "
            f"stop it), then {verb} the merged model again.")


def test_a_merged_export_while_a_run_trains_here_says_wait_or_export_the_adapter(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _adapter_run(tmp_path / "runs")
    loads: list[Any] = []
    monkeypatch.setattr(models, "load_model", lambda *args, **kwargs: loads.append(args))
    with shared_state.training_owns_process_state(), pytest.raises(ExportError) as refused:
        export_merged(run, tmp_path / "merged")
    assert str(refused.value) == _refusal("export", "Nothing was exported.")
    assert refused.value.kind == export.TRAINING_HERE and not refused.value.bad_input
    assert "finetune-studio" not in str(refused.value) and "RUN" not in str(refused.value)
    assert loads == [] and not (tmp_path / "merged").exists()


def test_a_merged_push_while_a_run_trains_here_is_refused_before_anything_is_sent(
        quiet_hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    run = _adapter_run(tmp_path / "runs")
    merges: list[Any] = []
    monkeypatch.setattr(export, "export_merged", lambda *args, **kwargs: merges.append(args))
    with shared_state.training_owns_process_state():
        assert cli.main(["push", str(run), "--repo", "alice/m", "--merged"]) == cli.EXIT_FAILED
    out, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert out == "" and errors == [f"error: {_refusal('push', 'Nothing was sent to the Hub.')}"], err
    assert merges == [] and "alice/m" not in quiet_hub.repos  # not even the repository was created


def test_a_run_that_starts_training_before_the_merge_is_said_for_the_push(
        quiet_hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run started in the window between the push's first checks and its merge: the merge refuses, in a push's
    words: it merges before the repository is created, so the Hub was only read (the account, a look at alice/m)."""
    from finetune_studio.core import hub as core_hub

    run = _adapter_run(tmp_path / "runs")
    real = export.export_merged
    with contextlib.ExitStack() as training:
        def merge_as_a_run_starts(*args: Any, **kwargs: Any) -> Any:
            training.enter_context(shared_state.training_owns_process_state())
            return real(*args, **kwargs)

        monkeypatch.setattr(export, "export_merged", merge_as_a_run_starts)
        with pytest.raises(core_hub.HubError) as refused:
            core_hub.push_run(run, repo_id="alice/m", form=core_hub.PUSH_MERGED)
    assert str(refused.value) == _refusal("push", "Nothing was sent to the Hub, and alice/m was not created.")
    assert refused.value.kind == core_hub.TRAINING_HERE
    assert [(request.method, request.path.split("?")[0]) for request in quiet_hub.requests] == [
        ("GET", "/api/whoami-v2"), ("GET", "/api/models/alice/m")]
    assert "alice/m" not in quiet_hub.repos
