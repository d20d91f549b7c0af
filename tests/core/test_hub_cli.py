"""`finetune-studio login/whoami/push/logout` and "push when training ends", against the local test Hub.

The CLI runs as a real process (python -m core.cli) whose environment points huggingface_hub at the server, the way
a user runs it; "push when training ends" runs in this process with the client re-pointed (hub_fixtures.
patch_client), because it is driven by core.training's event sink.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.hub_fixtures import (  # hub, client, run_dir: fixtures
    MODEL_FILES,
    READ,
    WRITE,
    HubClient,
    client,
    files_containing,
    hub,
    instant_retries,
    make_finished_run,
    patch_client,
    run_dir,
    tree_digest,
)
from tests.hub_server import HubServer

UPLOADS = ("/preupload/", "/commit/")


def _one_error_line(proc) -> str:  # CompletedProcess
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, proc.stderr
    return errors[0]


# ---- the CLI -----------------------------------------------------------------------------------------------


def test_cli_login_whoami_push_logout(client: HubClient, hub: HubServer, run_dir: Path) -> None:
    before = tree_digest(run_dir)
    login = client.finetune("login", "--token-stdin", stdin=WRITE + "\n")
    assert login.returncode == 0, login.stderr
    assert login.stdout.startswith("Logged in as alice (write token).")
    assert (client.hf_home / "token").read_text().strip() == WRITE

    whoami = client.finetune("whoami")
    assert whoami.returncode == 0 and whoami.stdout.strip() == "Logged in as alice (write token).", whoami.stderr

    push = client.finetune("push", str(run_dir))
    assert push.returncode == 0, push.stderr
    assert push.stdout.strip() == f"Pushed 10 files to {hub.url}/alice/tiny-run"
    progress = push.stderr.splitlines()
    assert progress[0] == "Checking your Hugging Face account…"
    assert any(line.startswith("Uploading 10 files (") and "to alice/tiny-run…" in line for line in progress)
    repo = hub.repos["alice/tiny-run"]
    assert repo.private and repo.files["model.safetensors"] == MODEL_FILES["model.safetensors"]

    custom = client.finetune("push", str(run_dir), "--repo", "alice/shared", "--public", "--message", "First cut")
    assert custom.returncode == 0, custom.stderr
    assert not hub.repos["alice/shared"].private
    assert hub.repos["alice/shared"].commit_messages == ["First cut"]
    assert tree_digest(run_dir) == before

    logout = client.finetune("logout")
    assert logout.returncode == 0 and logout.stdout.strip() == "Logged out of the Hugging Face Hub."
    assert not (client.hf_home / "token").exists()
    after = client.finetune("whoami")
    assert after.returncode == 1
    assert _one_error_line(after).startswith("error: You are not logged in to the Hugging Face Hub.")
    again = client.finetune("logout")
    assert again.returncode == 0 and again.stdout.strip() == "Not logged in: nothing to log out."
    assert all(WRITE not in text for text in client.outputs)


def test_cli_push_uses_the_runs_own_repository(client: HubClient, hub: HubServer, tmp_path: Path) -> None:
    from finetune_studio.core.config import load_config, save_config

    run = make_finished_run(tmp_path / "runs", name="configured")
    config, _ = load_config(run / "config.yaml")
    config.hub.repo_id = "alice/from-config"
    save_config(config, run / "config.yaml")
    client.env["HF_TOKEN"] = WRITE
    push = client.finetune("push", str(run))
    assert push.returncode == 0, push.stderr
    assert set(hub.repos) == {"alice/from-config"}


def test_cli_bad_token_saves_nothing_and_says_so_in_one_line(client: HubClient) -> None:
    bad = "hf_TESTSECRETbadbadbadAbCdEfGhIjKlMnOpQr"
    login = client.finetune("login", "--token-stdin", stdin=bad)
    assert login.returncode == 1
    assert _one_error_line(login).startswith("error: This Hugging Face token was rejected")
    assert not (client.hf_home / "token").exists() and not (client.hf_home / "stored_tokens").exists()
    assert bad not in login.stdout + login.stderr


def test_cli_never_takes_the_token_as_an_argument(client: HubClient) -> None:
    login = client.finetune("login", WRITE)
    assert login.returncode == 2 and "unrecognized arguments" in login.stderr
    assert not (client.hf_home / "token").exists()


def test_cli_login_asks_without_echo(hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    import getpass

    from finetune_studio.core.cli import main

    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    prompts: list[str] = []
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": prompts.append(prompt) or WRITE)
    assert main(["login"]) == 0
    assert prompts == ["Token (input hidden): "]
    out, err = capsys.readouterr()
    assert f"{hub.url}/settings/tokens" in err and out.startswith("Logged in as alice")
    assert (tmp_path / "hf_home" / "token").read_text().strip() == WRITE


def test_cli_read_only_token_is_refused_before_any_upload(client: HubClient, hub: HubServer, run_dir: Path) -> None:
    assert client.finetune("login", "--token-stdin", stdin=READ).returncode == 0
    push = client.finetune("push", str(run_dir))
    assert push.returncode == 1
    assert "read-only" in _one_error_line(push)
    assert not any(hub.count(part) for part in UPLOADS) and not hub.count("/api/repos/create")


@pytest.mark.parametrize("fault", ["500", "drop"])
def test_cli_push_failure_then_retry(fault: str, client: HubClient, hub: HubServer, run_dir: Path) -> None:
    hub.fail_next("/api/repos/create", 500 if fault == "500" else "drop")
    client.env["HF_TOKEN"] = WRITE
    before = tree_digest(run_dir)
    failed = client.finetune("push", str(run_dir))
    assert failed.returncode == 1
    words = "server error (HTTP 500)" if fault == "500" else "Cannot reach the Hugging Face Hub"
    line = _one_error_line(failed)
    assert words in line and "Nothing in your run folder changed" in line
    assert tree_digest(run_dir) == before
    retried = client.finetune("push", str(run_dir))
    assert retried.returncode == 0, retried.stderr
    assert hub.count("/commit/") == 1


# ---- push when training ends ------------------------------------------------------------------------------


@pytest.fixture
def in_process(hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """huggingface_hub in this process pointed at the test hub; returns HF_HOME."""
    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    instant_retries(monkeypatch)
    return tmp_path / "hf_home"


def test_push_when_done_reports_success_as_events(in_process: Path, hub: HubServer, run_dir: Path) -> None:
    from finetune_studio.core import hub as core_hub

    core_hub.login(WRITE)
    events: list[dict] = []
    result = core_hub.push_when_done(run_dir, "", True, events.append)
    assert result is not None and result.repo_id == "alice/tiny-run"
    phases = [e for e in events if e["event"] == "phase"]
    assert phases and all(e["phase"] == "push" for e in phases)
    assert phases[0]["message"] == "Checking your Hugging Face account"
    assert events[-1] == {"event": "notice", "push": "done", "url": f"{hub.url}/alice/tiny-run",
                          "repo_id": "alice/tiny-run", "files": 10,
                          "message": f"Pushed the model to {hub.url}/alice/tiny-run"}


def test_push_when_done_failure_is_a_warning_not_an_exception(in_process: Path, hub: HubServer,
                                                              run_dir: Path) -> None:
    from finetune_studio.core import hub as core_hub

    core_hub.login(WRITE)
    hub.fail_next("/api/repos/create", 500)
    events: list[dict] = []
    assert core_hub.push_when_done(run_dir, "alice/later", True, events.append) is None
    warning = events[-1]
    assert warning["event"] == "warning" and warning["push"] == "failed" and warning["source"] == "hub"
    assert warning["message"].startswith("The model was not pushed to the Hub: The Hub had a server error (HTTP 500)")
    assert f"finetune-studio push {run_dir}" in warning["message"]
    # The same text in two parts, so the window's status bar shows what went wrong without parsing the message.
    assert warning["problem"].startswith("The model was not pushed to the Hub: The Hub had a server error")
    assert warning["fix"].startswith("The run itself finished") and f"finetune-studio push {run_dir}" in warning["fix"]
    assert warning["message"] == f"{warning['problem']} {warning['fix']}"

    events.clear()
    import threading

    cancel = threading.Event()
    cancel.set()
    assert core_hub.push_when_done(run_dir, "alice/later", True, events.append, cancel) is None
    assert events[-1]["push"] == "cancelled" and "Push cancelled" in events[-1]["message"]


def test_a_read_only_token_is_refused_with_a_kind_that_says_log_in(in_process: Path, hub: HubServer,
                                                                    run_dir: Path) -> None:
    """The window offers its Log in button on `needs_login`, never by looking for "read-only" in the text."""
    from finetune_studio.core import hub as core_hub

    with pytest.raises(core_hub.HubPermissionError) as caught:
        core_hub.push_run(run_dir, token=READ)
    error = caught.value
    assert error.kind == core_hub.READ_ONLY_TOKEN and error.needs_login
    assert error.message.endswith("is read-only, so it cannot push.")
    assert error.fix == (f"To fix: create a token with write access at {hub.url}/settings/tokens, then log in again "
                         "with it: finetune-studio login, or Hub → Log in… in the app.")
    assert str(error) == f"{error.message} {error.fix}"

    hub.fail_next("/api/repos/create", 403)  # someone else's namespace: a permission error that login won't fix
    core_hub.login(WRITE)
    with pytest.raises(core_hub.HubPermissionError) as caught:
        core_hub.push_run(run_dir, repo_id="carol/theirs")
    assert caught.value.kind == "" and not caught.value.needs_login


def test_earlier_push_events_are_not_uploaded(run_dir: Path) -> None:
    from finetune_studio.core.hub import _public_metrics
    from finetune_studio.core.runs import MetricsLog, RunFolder

    log = MetricsLog(run_dir / "metrics.jsonl")
    log.append({"event": "phase", "phase": "push", "message": "Uploading", "time": 30.0})
    log.append({"event": "notice", "push": "done", "url": "http://hub/alice/x", "message": "Pushed", "time": 31.0})
    log.close()
    uploaded = [json.loads(line) for line in _public_metrics(RunFolder(run_dir)).decode().splitlines()]
    assert uploaded[-1]["event"] == "end"
    assert not [e for e in uploaded if e.get("phase") == "push" or "push" in e]


def test_push_when_done_needs_a_login_to_validate(in_process: Path) -> None:
    from finetune_studio.core import hub as core_hub
    from finetune_studio.core.config import default_config
    from finetune_studio.core.validation import validate

    config = default_config()
    config.hub.push_when_done = True
    problems = [p for p in validate(config, check_files=False) if p.field == "hub.push_when_done"]
    assert len(problems) == 1
    assert "not logged in to the Hugging Face Hub" in problems[0].message
    assert "finetune-studio login" in problems[0].message
    core_hub.login(WRITE)
    assert not [p for p in validate(config, check_files=False) if p.field.startswith("hub")]


def test_push_when_done_is_not_the_trainers_push(tmp_path: Path) -> None:
    """The Trainer's own push would upload the whole run folder and write the weights into it a second time."""
    from finetune_studio.core.config import default_config
    from finetune_studio.core.training import training_arguments

    config = default_config()
    config.hub.push_when_done = True
    config.hub.repo_id = "alice/x"
    args = training_arguments(config, tmp_path)
    assert args.push_to_hub is False and args.hub_model_id is None


@pytest.mark.slow
def test_training_with_push_when_done_uploads_the_model(in_process: Path, hub: HubServer, demo_cache: Path,
                                                        small_dataset: Path, tmp_path: Path) -> None:
    from finetune_studio.core import hub as core_hub
    from finetune_studio.core.training import run
    from tests.helpers import read_events, small_config

    core_hub.login(WRITE)
    config = small_config(small_dataset, tmp_path / "runs", max_steps=4, eval_steps=2, save_steps=2)
    config.name = "pushed-at-end"
    config.hub.push_when_done = True
    hub.fail_next("/api/repos/create", 500)  # the first run's push fails: the run still finishes
    failed = run(config)
    assert failed.state == "finished"
    status = json.loads((failed.run_dir / "status.json").read_text())
    assert status["state"] == "finished"
    [warning] = [e for e in read_events(failed.run_dir, "warning") if e.get("push")]
    assert warning["push"] == "failed" and "HTTP 500" in warning["message"]

    config.name = "pushed-at-end-2"
    result = run(config)
    assert result.state == "finished"
    [notice] = [e for e in read_events(result.run_dir, "notice") if e.get("push")]
    assert notice["url"] == f"{hub.url}/alice/pushed-at-end-2"
    repo = hub.repos["alice/pushed-at-end-2"]
    assert repo.private
    model_dir = result.run_dir / "model"
    for path in model_dir.rglob("*"):
        name = path.relative_to(model_dir).as_posix()
        if path.is_file() and name != "training_args.bin":
            assert repo.files[name] == path.read_bytes(), name
    assert {"README.md", "loss_curve.svg", "metrics.jsonl"} <= set(repo.files)
    assert not {"config.yaml", "status.json", "training_args.bin"} & set(repo.files)  # not the run folder
    assert not (result.run_dir / "model.safetensors").exists()  # no second copy of the weights
    assert files_containing(result.run_dir, WRITE.encode()) == []
    metrics = repo.files["metrics.jsonl"].decode()  # a real run's messages name the dataset file and the run folder
    assert str(small_dataset) in (result.run_dir / "metrics.jsonl").read_text()
    for private in (str(tmp_path), str(demo_cache), str(small_dataset)):
        assert private not in metrics, private
    assert "Loading dataset small.jsonl" in metrics
    shutil.rmtree(failed.run_dir)
