"""huggingface_hub's own log lines ("HTTP Error 503 thrown while requesting POST …", "Retrying in 1s [Retry 1/5].",
"No files have been modified since last commit. Skipping to prevent empty commit.") printed in the middle of
`finetune-studio push`. Now the CLI prints the app's lines only; a retry is said in the app's words as push
progress, the library's words go to the app's log (core.hub at INFO), and the library's logging is as it was after
the call. Against the local test Hub: a server that fails a request once, and a push of files the repository holds
already."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from tests.hub_fixtures import WRITE, HubClient, client, hub, instant_retries, patch_client, run_dir  # fixtures
from tests.hub_server import HubServer

LIBRARY_WORDS = ("thrown while requesting", "Retrying in", "Skipping to prevent empty commit",
                 "No files have been modified")


def _app_lines(repo: str) -> list[str]:
    return ["Checking your Hugging Face account…", f"Creating {repo} on the Hub…", "Preparing 10 files (270.7 kB)…",
            f"Uploading 10 files (270.7 kB) to {repo}…"]


def test_cli_push_prints_the_apps_lines_only(client: HubClient, hub: HubServer, run_dir: Path) -> None:
    client.env["HF_TOKEN"] = WRITE
    first = client.finetune("push", str(run_dir))
    assert first.returncode == 0, first.stderr
    assert first.stderr.splitlines() == _app_lines("alice/tiny-run")
    assert first.stdout.splitlines() == [f"Pushed 10 files to {hub.url}/alice/tiny-run"]

    hub.fail_next("/preupload/", 503)  # answered once with a server error: the client waits 1 s and asks again
    again = client.finetune("push", str(run_dir))  # the same files: huggingface_hub skips the commit
    assert again.returncode == 0, again.stderr
    assert hub.count("/preupload/") == 3  # the first push's, the failed one and its retry
    assert hub.count("/commit/") == 1  # the second push made no commit
    assert again.stderr.splitlines() == [*_app_lines("alice/tiny-run"),
                                         "The Hub answered HTTP 503: trying again in 1 s (retry 1 of 5)…"]
    assert again.stdout.splitlines() == [f"Nothing new to push: {hub.url}/alice/tiny-run holds these 10 files "
                                         "already (no commit was made)"]
    for words in LIBRARY_WORDS:
        assert words not in again.stdout + again.stderr


def test_cli_push_that_runs_out_of_retries_says_each_and_fails_in_one_line(
        hub: HubServer, run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    """In this process (the back-off's sleeps return at once: instant_retries); capfd also sees what the library's
    own handler writes to the process's stderr."""
    from finetune_studio.core import cli

    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    clock = instant_retries(monkeypatch)
    monkeypatch.setenv("HF_TOKEN", WRITE)
    hub.fail_next("/preupload/", 503, count=6)
    assert cli.main(["push", str(run_dir), "--repo", "alice/flaky"]) == cli.EXIT_FAILED
    out, err = capfd.readouterr()
    lines = err.splitlines()
    assert lines[:4] == _app_lines("alice/flaky")
    assert lines[4:9] == [f"The Hub answered HTTP 503: trying again in {wait} s (retry {n} of 5)…"
                          for n, wait in enumerate((1, 2, 4, 8, 8), start=1)]
    assert len(lines) == 10 and lines[9].startswith("error: The Hub had a server error (HTTP 503) while uploading "
                                                    "to alice/flaky.")
    assert out == "" and clock.sleeps == [1, 2, 4, 8, 8]
    assert hub.count("/preupload/") == 6 and hub.count("/commit/") == 0
    for words in LIBRARY_WORDS:
        assert words not in out + err


def test_a_user_who_asks_for_the_librarys_lines_keeps_them(client: HubClient, hub: HubServer,
                                                           run_dir: Path) -> None:
    client.env.update(HF_TOKEN=WRITE, HF_HUB_VERBOSITY="info")
    assert client.finetune("push", str(run_dir)).returncode == 0
    again = client.finetune("push", str(run_dir))
    assert again.returncode == 0
    assert "No files have been modified since last commit. Skipping to prevent empty commit." in again.stderr


def test_in_the_app_a_retry_is_progress_and_the_library_words_go_to_the_log(
        hub: HubServer, run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    from huggingface_hub.utils import logging as hub_logging

    from finetune_studio.core import hub as core_hub

    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    clock = instant_retries(monkeypatch)
    library = hub_logging.get_logger()
    http = hub_logging.get_logger("huggingface_hub.utils._http")
    before = (library.level, list(library.handlers), http.level, http.propagate, list(http.handlers))
    hub.fail_next("/preupload/", 503)
    events: list[dict[str, Any]] = []
    with caplog.at_level(logging.INFO, logger="finetune_studio.core.hub"):
        result = core_hub.push_run(run_dir, repo_id="alice/app", token=WRITE, progress=events.append)
    assert result.files and clock.sleeps == [1]
    retries = [event for event in events if event["phase"] == "retry"]
    assert retries == [{"event": "push", "phase": "retry", "retry": 1, "retries": 5, "wait_s": 1.0,
                        "message": "The Hub answered HTTP 503: trying again in 1 s (retry 1 of 5)"}]
    logged = [record.getMessage() for record in caplog.records if record.name == "finetune_studio.core.hub"]
    assert "huggingface_hub: Retrying in 1s [Retry 1/5]." in logged
    assert any(line.startswith("huggingface_hub: HTTP Error 503 thrown while requesting POST") for line in logged)
    assert (library.level, list(library.handlers), http.level, http.propagate, list(http.handlers)) == before
