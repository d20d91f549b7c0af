"""core.hub against a local Hub-compatible server (tests/hub_server.py), driven by the real huggingface_hub client.

Client calls run in subprocesses whose environment points huggingface_hub at the server (see tests/hub_fixtures.py
for why); the server records every request, so a test can say what reached "the Hub" and what did not.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from tests.hub_fixtures import (  # hub, client, run_dir: fixtures
    BOB,
    MODEL_FILES,
    READ,
    WRITE,
    HubClient,
    client,
    files_containing,
    hub,
    make_finished_run,
    patch_client,
    run_dir,
    tree_digest,
)
from tests.hub_server import HubServer

UPLOADS = ("/preupload/", "/commit/")


def _uploaded_nothing(hub: HubServer) -> bool:
    return not any(hub.count(part) for part in UPLOADS)


# ---- the model card and the push plan (no network) ----------------------------------------------------------


def test_model_card_for_the_demo_run(run_dir: Path) -> None:
    from finetune_studio.core.model_card import loss_curve_svg, render_model_card

    card = render_model_card(run_dir, repo_id="alice/tiny-run")
    assert card.startswith("---\n")
    meta = yaml.safe_load(card.split("---\n")[1])
    assert meta["library_name"] == "transformers"
    assert meta["tags"] == ["finetune-studio", "text-generation"]
    assert "base_model" not in meta and "datasets" not in meta  # builtin demo model and sample data: not Hub ids
    assert "builtin demo" in card
    assert "| learning_rate | 0.001 |" in card and "| max_steps | 12 |" in card
    assert "Final train loss: 0.6000" in card and "Final eval loss: 1.1000" in card
    assert "![Training and evaluation loss](loss_curve.svg)" in card
    assert 'pipeline("text-generation", model="alice/tiny-run")' in card
    for name in ("Transformers: 5.24.0", "PyTorch:", "Datasets:", "huggingface_hub:", "Python:"):
        assert name in card
    assert str(run_dir) not in card  # no local paths

    svg = ET.fromstring(loss_curve_svg(run_dir))
    assert svg.tag.endswith("svg")
    assert len([e for e in svg.iter() if e.tag.endswith("polyline")]) == 2  # train and eval


def test_model_card_names_hub_base_model_and_dataset(tmp_path: Path) -> None:
    from finetune_studio.core.model_card import render_model_card

    run = make_finished_run(tmp_path / "runs", model="Qwen/Qwen3-0.6B", dataset="karthiksagarn/astro_horoscope")
    meta = yaml.safe_load(render_model_card(run).split("---\n")[1])
    assert meta["base_model"] == "Qwen/Qwen3-0.6B"
    assert meta["datasets"] == ["karthiksagarn/astro_horoscope"]


def test_plan_lists_model_card_metrics_and_curve(run_dir: Path) -> None:
    from finetune_studio.core.hub import plan_push

    plan = dict(plan_push(run_dir))
    expected = {name for name in MODEL_FILES if name != "training_args.bin"}
    assert set(plan) == expected | {"README.md", "loss_curve.svg", "metrics.jsonl"}
    assert plan["model.safetensors"] == len(MODEL_FILES["model.safetensors"])
    assert plan["chat_template.jinja"] == 0


def test_a_run_without_a_model_cannot_be_pushed(tmp_path: Path) -> None:
    import shutil

    from finetune_studio.core.hub import HubError, plan_push

    run = make_finished_run(tmp_path / "runs")
    shutil.rmtree(run / "model")
    with pytest.raises(HubError, match="finished, but its model folder .* is missing or empty .* no model to push"):
        plan_push(run)


# ---- login -------------------------------------------------------------------------------------------------


def test_login_saves_where_huggingface_hub_looks(client: HubClient, hub: HubServer) -> None:
    login, status, source = client.steps(("login", {"token": WRITE}), ("whoami", {}), ("current_token_source", {}))
    assert login.ok, login
    assert login.value["name"] == "alice" and login.value["role"] == "write"
    assert (client.hf_home / "token").read_text().strip() == WRITE
    assert "[studio-write]" in (client.hf_home / "stored_tokens").read_text()
    assert status.value["token_source"] == "saved login" and status.value["name"] == "alice"
    assert source.value == "saved login"
    assert hub.count("/api/whoami-v2") >= 2  # validated before saving, then asked again

    cli = client.cli("auth", "whoami")  # huggingface_hub's own CLI sees the same login
    assert cli.returncode == 0 and "alice" in cli.stdout, cli.stderr


def test_login_with_a_bad_token_saves_nothing(client: HubClient) -> None:
    bad = "hf_TESTSECRETbadbadbadAbCdEfGhIjKlMnOpQr"
    result = client.call("login", token=bad)
    assert result.is_a("HubAuthError")
    assert "token was rejected" in result.message and "mistyped" in result.message
    assert f"{client.endpoint}/settings/tokens" in result.message  # where to make a new one
    assert bad not in result.message + result.detail
    assert not (client.hf_home / "token").exists() and not (client.hf_home / "stored_tokens").exists()


def test_logout_forgets_the_saved_login(client: HubClient) -> None:
    _, logout, after = client.steps(("login", {"token": WRITE}), ("logout", {}), ("whoami", {}))
    assert logout.ok, logout
    assert not (client.hf_home / "token").exists()
    assert after.is_a("HubAuthError") and "not logged in" in after.message


def test_hf_token_environment_variable_overrides_the_saved_login(client: HubClient) -> None:
    assert client.call("login", token=WRITE).ok
    client.env["HF_TOKEN"] = BOB
    status, describe, source, logout, still = client.steps(
        ("whoami", {}), ("describe", {}), ("current_token_source", {}), ("logout", {}), ("current_token_source", {}))
    assert status.value["name"] == "bob"
    assert status.value["token_source"] == "HF_TOKEN" and status.value["env_overrides_saved"] is True
    assert "HF_TOKEN" in describe.value
    assert source.value == "HF_TOKEN"
    assert logout.ok, logout  # the saved login goes; HF_TOKEN is the environment's, not ours
    assert not (client.hf_home / "token").exists() and still.value == "HF_TOKEN"


# ---- push --------------------------------------------------------------------------------------------------


def test_read_only_token_is_refused_before_any_upload(client: HubClient, hub: HubServer, run_dir: Path) -> None:
    before = tree_digest(run_dir)
    result = client.call("push_run", run_dir=run_dir, token=READ)
    assert result.is_a("HubPermissionError") and "read-only" in result.message, result
    assert _uploaded_nothing(hub) and not hub.count("/api/repos/create")
    assert not hub.repos
    assert tree_digest(run_dir) == before


def test_push_then_download_every_file_byte_identical(client: HubClient, hub: HubServer, run_dir: Path) -> None:
    from finetune_studio.core.hub import _public_metrics
    from finetune_studio.core.model_card import loss_curve_svg, render_model_card
    from finetune_studio.core.runs import RunFolder

    before = tree_digest(run_dir)
    assert client.call("login", token=WRITE).ok
    plan, push = client.steps(("plan_push", {"run_dir": run_dir, "repo_id": "alice/tiny-run"}),
                              ("push_run", {"run_dir": run_dir}))
    assert push.ok, push
    assert push.value["repo_id"] == "alice/tiny-run"
    assert push.value["url"] == f"{hub.url}/alice/tiny-run"
    assert sorted(push.value["files"]) == sorted(name for name, _ in plan.value)
    assert [e["phase"] for e in push.value["events"]] == ["account", "repo", "prepare", "upload", "done"]
    repo = hub.repos["alice/tiny-run"]
    assert repo.private and repo.commit_messages == ["Upload tiny-run from Finetune Studio"]
    assert {name: len(data) for name, data in repo.files.items()} == dict(plan.value)

    download = client.call("download", repo_id="alice/tiny-run", files=push.value["files"], token=WRITE)
    assert download.ok, download
    expected = {name: data for name, data in MODEL_FILES.items() if name != "training_args.bin"}
    expected["README.md"] = render_model_card(run_dir, repo_id="alice/tiny-run").encode()
    expected["loss_curve.svg"] = loss_curve_svg(run_dir).encode()
    expected["metrics.jsonl"] = _public_metrics(RunFolder(run_dir))
    assert {name: Path(path).read_bytes() for name, path in download.value.items()} == expected
    assert b"run_dir" not in expected["metrics.jsonl"] and str(run_dir).encode() not in expected["metrics.jsonl"]
    assert tree_digest(run_dir) == before

    again = client.call("push_run", run_dir=run_dir)  # the repository exists (409) and nothing changed
    assert again.ok, again
    assert len(repo.commits) == 1


def test_a_public_repository_is_not_reused_for_a_private_push(client: HubClient, hub: HubServer,
                                                              run_dir: Path) -> None:
    public, private = client.steps(("push_run", {"run_dir": run_dir, "token": WRITE, "private": False}),
                                   ("push_run", {"run_dir": run_dir, "token": WRITE, "private": True}))
    assert public.ok and not hub.repos["alice/tiny-run"].private
    assert private.is_a("HubPermissionError") and "already exists and is public" in private.message


def test_pushing_again_what_the_repository_holds_says_nothing_new_was_pushed(client: HubClient, hub: HubServer,
                                                                              run_dir: Path) -> None:
    """A second push of an unchanged run said 'Pushed 8 files' while the library made no commit (helper-45)."""
    first, again = client.steps(("push_run", {"run_dir": run_dir, "token": WRITE}),
                                ("push_run", {"run_dir": run_dir, "token": WRITE}))
    assert first.ok and again.ok, (first, again)
    assert not first.value["unchanged"] and first.value["events"][-1]["message"].startswith("Pushed ")
    assert again.value["unchanged"]
    assert again.value["events"][-1]["message"] == (f"Nothing new to push: {hub.url}/alice/tiny-run holds these "
                                                    f"{len(again.value['files'])} files already (no commit was made)")
    assert len(hub.repos["alice/tiny-run"].commits) == 1


def test_a_private_repository_is_not_reported_published_by_a_public_push(client: HubClient, hub: HubServer,
                                                                         run_dir: Path) -> None:
    """A public push to an existing private repo said 'Pushed 8 files' and left it private (helper-45): the user
    believed the model published."""
    private, public = client.steps(("push_run", {"run_dir": run_dir, "token": WRITE, "private": True}),
                                   ("push_run", {"run_dir": run_dir, "token": WRITE, "private": False}))
    assert private.ok and hub.repos["alice/tiny-run"].private
    assert public.is_a("HubPermissionError") and "already exists and is private" in public.message
    assert public.message.endswith("To fix: make it public in its settings on the Hub first, push it privately (tick "
                                   "'Private repository' in the push dialog, or leave --public out of finetune-studio "
                                   "push), or choose another repository name.")
    assert hub.repos["alice/tiny-run"].private and len(hub.repos["alice/tiny-run"].commits) == 1


def test_cancel_before_the_upload_sends_no_files(client: HubClient, hub: HubServer, run_dir: Path) -> None:
    result = client.call("push_run", run_dir=run_dir, token=WRITE, cancel_at_phase="prepare")
    assert result.is_a("HubCancelled") and "no files were uploaded" in result.message
    assert _uploaded_nothing(hub)


FAULTS = {
    # name: (fault path, status, error class, words in the message)
    "server error creating the repo": ("/api/repos/create", 500, "HubServerError", "server error (HTTP 500)"),
    "dropped connection": ("/api/repos/create", "drop", "HubConnectionError", "Cannot reach the Hugging Face Hub"),
    "server error on every retry": ("/preupload/", 500, "HubServerError", "server error (HTTP 500)"),
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_a_fault_gives_its_message_and_a_retry_succeeds(name: str, client: HubClient, hub: HubServer,
                                                        run_dir: Path) -> None:
    path, status, error, words = FAULTS[name]
    # preupload is retried by the client with back-off (1, 2, 4, 8, 8 s, recorded not slept): fail all 6 tries
    hub.fail_next(path, status, count=6 if path == "/preupload/" else 1)
    before = tree_digest(run_dir)
    failed, retried = client.steps(("push_run", {"run_dir": run_dir, "token": WRITE}),
                                   ("push_run", {"run_dir": run_dir, "token": WRITE}))
    assert failed.is_a(error) and words in failed.message, failed
    assert "Nothing in your run folder changed" in failed.message
    uploading = "alice/tiny-run exists on the Hub, but none of this push's files reached it (the upload is one commit)"
    assert (uploading in failed.message) is (path == "/preupload/")  # said once the repository was made
    assert WRITE not in failed.message + failed.detail
    assert retried.ok, retried
    assert hub.count("/commit/") == 1 and len(hub.repos["alice/tiny-run"].commits) == 1
    assert tree_digest(run_dir) == before
    if path == "/preupload/":
        assert client.sleeps == [1, 2, 4, 8, 8]


@pytest.mark.parametrize("status", [503, "drop"])
def test_the_client_retries_one_failed_commit_by_itself(status: int | str, client: HubClient, hub: HubServer,
                                                        run_dir: Path) -> None:
    hub.fail_next("/commit/", status)
    result = client.call("push_run", run_dir=run_dir, token=WRITE)
    assert result.ok, result
    assert hub.count("/commit/") == 2 and client.sleeps == [1]
    assert len(hub.repos["alice/tiny-run"].commits) == 1


def test_revoked_token(client: HubClient, hub: HubServer, run_dir: Path) -> None:
    assert client.call("login", token=WRITE).ok
    del hub.tokens[WRITE]  # revoked on the Hub after the login
    before = tree_digest(run_dir)
    failed = client.call("push_run", run_dir=run_dir)
    assert failed.is_a("HubAuthError") and "token was rejected" in failed.message \
        and failed.message.endswith("To fix: log in again with a valid token.")
    assert _uploaded_nothing(hub) and tree_digest(run_dir) == before
    hub.add_token(WRITE, "alice", "write")
    assert client.call("push_run", run_dir=run_dir).ok


def test_someone_elses_namespace(client: HubClient, hub: HubServer, run_dir: Path) -> None:
    before = tree_digest(run_dir)
    failed, retried = client.steps(("push_run", {"run_dir": run_dir, "token": WRITE, "repo_id": "bob/stolen"}),
                                   ("push_run", {"run_dir": run_dir, "token": WRITE}))
    assert failed.is_a("HubPermissionError"), failed
    assert failed.message.startswith("You cannot push to bob/stolen: You don't have the rights to create a model "
                                     'under the namespace "bob"')
    assert retried.ok, retried
    assert set(hub.repos) == {"alice/tiny-run"} and hub.count("/commit/") == 1  # only the retry uploaded
    assert tree_digest(run_dir) == before


def test_hub_not_running(client: HubClient, hub: HubServer, run_dir: Path) -> None:
    before = tree_digest(run_dir)
    hub.stop()
    failed = client.call("push_run", run_dir=run_dir, token=WRITE)
    assert failed.is_a("HubConnectionError") and failed.message.startswith("Cannot reach the Hugging Face Hub"), failed
    assert tree_digest(run_dir) == before
    hub.start()  # same port, same state
    assert client.call("push_run", run_dir=run_dir, token=WRITE).ok


# ---- the token stays secret --------------------------------------------------------------------------------


def test_the_token_is_never_written_anywhere(client: HubClient, hub: HubServer, run_dir: Path) -> None:
    hub.fail_next("/api/repos/create", 500)
    results = client.steps(("login", {"token": WRITE}), ("push_run", {"run_dir": run_dir}),
                           ("push_run", {"run_dir": run_dir}), ("whoami", {}))
    assert [r.ok for r in results] == [True, False, True, True], results
    hub.tokens.pop(WRITE)
    rejected = client.call("push_run", run_dir=run_dir)  # a 401: its message and detail are searched too
    assert rejected.is_a("HubAuthError")

    secret = WRITE.encode()
    assert files_containing(run_dir, secret) == []
    assert files_containing(client.hf_home, secret, skip={"token", "stored_tokens"}) == []
    assert files_containing(client.tmpdir, secret) == []
    assert not [p for p in client.tmpdir.iterdir() if p.name.startswith("finetune-studio-push-")]  # staging removed
    for repo in hub.repos.values():
        assert not [name for name, data in repo.files.items() if secret in data]
    assert all(WRITE not in text for text in client.outputs)
    assert all(WRITE not in r.message + r.detail + r.traceback for r in [*results, rejected])
    assert any("DEBUG" in text for text in client.outputs)  # the search covered debug logging


# ---- in-process, for tests that must stay in the pytest process ----------------------------------------------


def test_in_process_client_patch(hub: HubServer, run_dir: Path, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import hf_hub_download

    from finetune_studio.core import hub as core_hub

    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    assert core_hub.login(WRITE).name == "alice"
    assert (tmp_path / "hf_home" / "token").read_text().strip() == WRITE
    result = core_hub.push_run(run_dir)
    assert result.url == f"{hub.url}/alice/tiny-run"
    path = hf_hub_download("alice/tiny-run", "model.safetensors", token=WRITE)
    assert Path(path).read_bytes() == MODEL_FILES["model.safetensors"]
    core_hub.logout()
    assert core_hub.current_token_source() is None
