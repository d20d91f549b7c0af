"""Push refusals found by helper-117, against the local test Hub (in process: hub_fixtures.patch_client)."""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import hub as core_hub
from tests import hub_server
from tests.hub_fixtures import WRITE, hub, instant_retries, patch_client, run_dir, tree_digest

FIX = ("To fix: write the repository as owner/name (letters, digits, '-', '_' and '.'), or leave it empty for "
       "<your user>/<run name>.")


@pytest.fixture
def hub_env(hub: hub_server.HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> hub_server.HubServer:
    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    instant_retries(monkeypatch)
    return hub


def _push(run: Path, caplog: pytest.LogCaptureFixture, **kw: Any) -> core_hub.HubError:
    events: list[dict] = []
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(core_hub.HubError) as caught:
            core_hub.push_run(run, token=WRITE, progress=events.append, **kw)
    error = caught.value
    said = " ".join([str(error), error.detail, caplog.text, repr(events)])
    assert WRITE not in said
    return error


ODD_IDS = {
    "a/b/c": "it has 2 '/' where a repository id has one, between the owner and the name",
    "alice/with space": "its name has characters the Hub does not allow: ' ' (a space)",
    "alice/ünï": "its name has characters the Hub does not allow: 'ü', 'ï'",
    "alice/": "the name after '/' is missing",
    "/tiny": "the owner before '/' is missing",
    "alice/a..b": "its name has '..' in it",
    "alice/-x": "its name starts or ends with '-' or '.'",
    "alice/x.git": "its name ends with '.git'",
    "name": "it has no owner",
    "https://huggingface.co/alice/tiny-run/tree/main": "it is a web address, not owner/name (the page's repository is "
                                                       "alice/tiny-run)",
    "https://huggingface.co/datasets/alice/notes": "it is a web address, not owner/name",
    "not a valid id!": "it has no owner; its name has characters the Hub does not allow: ' ' (a space), '!'",
}


@pytest.mark.parametrize("repo_id", list(ODD_IDS))
def test_an_odd_repository_id_is_refused_in_the_users_words_before_anything_is_sent(
        repo_id: str, hub_env: hub_server.HubServer, run_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    error = _push(run_dir, caplog, repo_id=repo_id)
    assert str(error) == f"{repo_id} is not a valid repository id: {ODD_IDS[repo_id]}. {FIX}"
    assert error.kind == core_hub.BAD_REPO_ID and error.bad_input
    assert hub_env.paths() == []  # not even the account was asked


def test_an_over_long_repository_id_is_shortened_in_the_message(hub_env: hub_server.HubServer, run_dir: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    repo_id = "alice/" + "x" * 120
    error = _push(run_dir, caplog, repo_id=repo_id)
    shown = "alice/" + "x" * 26 + "…" + "x" * 20 + " (126 characters)"
    assert str(error) == (f"{shown} is not a valid repository id: its name is 120 characters long, and the Hub "
                          f"allows at most 96. {FIX}")
    assert hub_env.paths() == []


@pytest.mark.parametrize(("private", "form"), [(True, None), (False, None), (True, core_hub.PUSH_MERGED)])
def test_someone_elses_public_repository_is_refused_before_the_visibility_merge_or_upload(
        private: bool, form: str | None, hub_env: hub_server.HubServer, run_dir: Path,
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """create_repo(exist_ok=True) hides the Hub's 403 for a repository it can see: a private push was told to untick
    'private' "to publish the run there" (bob's repository), and a public one went on to stage and upload."""
    hub_env.repos["bob/shared"] = hub_server.HubRepo("bob/shared", "bob", private=False)
    monkeypatch.setattr(core_hub, "_merge_problem", lambda run: None)  # this run trained every weight
    monkeypatch.setattr(core_hub, "_merged_model", lambda *a: pytest.fail("merged for a push that cannot upload"))
    error = _push(run_dir, caplog, repo_id="bob/shared", private=private, form=form)
    assert isinstance(error, core_hub.HubPermissionError) and error.needs_login is False
    assert str(error) == ("You cannot push to bob/shared: it belongs to bob, and you are logged in as alice (a member "
                          "of no organization). Nothing was uploaded; bob/shared is as it was. To fix: push to your "
                          "own namespace (leave the repository empty for alice/<run name>, or write alice/<name>), or "
                          "log in with a token that can write to bob's repositories.")
    if form == core_hub.PUSH_MERGED:  # a merged push looks at the repository before it merges, creating nothing
        assert hub_env.paths() == ["/api/whoami-v2", "/api/models/bob/shared"]
    else:
        assert hub_env.paths() == ["/api/whoami-v2", "/api/repos/create", "/api/models/bob/shared",
                                   "/api/models/bob/shared"]
    assert not hub_env.repos["bob/shared"].files and not hub_env.repos["bob/shared"].private


def _commit_then_drop(monkeypatch: pytest.MonkeyPatch, hub: hub_server.HubServer, then_stop: bool) -> None:
    """The Hub makes each commit, then the connection drops before its answer (then_stop: and the Hub goes away, so
    the client's retries are refused)."""
    real = hub_server._Handler._route_commit

    def commit(handler: Any, **kw: Any) -> None:
        def drop(*args: Any, **kwargs: Any) -> None:
            handler.connection.shutdown(socket.SHUT_RDWR)
            if then_stop:
                threading.Thread(target=hub.stop).start()

        handler._json = drop
        real(handler, **kw)

    monkeypatch.setattr(hub_server._Handler, "_route_commit", commit)


def test_a_commit_made_before_the_connection_dropped_is_not_said_to_be_missing(
        hub_env: hub_server.HubServer, run_dir: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _commit_then_drop(monkeypatch, hub_env, then_stop=False)
    error = _push(run_dir, caplog)
    assert isinstance(error, core_hub.HubConnectionError)
    assert len(hub_env.repos["alice/tiny-run"].files) == 10  # every file arrived
    assert str(error) == (f"Cannot reach the Hugging Face Hub ({hub_env.url}): the connection was dropped while "
                          "uploading to alice/tiny-run. Nothing in your run folder changed. alice/tiny-run has a new "
                          "commit since this push began, and it "
                          "holds all 10 of this push's files: the upload most likely went through before the "
                          f"connection failed. To fix: open {hub_env.url}/alice/tiny-run to check it; pushing again "
                          "uploads only what differs (nothing, if every file arrived).")


def test_a_dropped_upload_the_hub_cannot_be_asked_about_says_it_is_not_known(
        hub_env: hub_server.HubServer, run_dir: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _commit_then_drop(monkeypatch, hub_env, then_stop=True)
    error = _push(run_dir, caplog)
    assert isinstance(error, core_hub.HubConnectionError)
    assert len(hub_env.repos["alice/tiny-run"].files) == 10
    assert "none of this push's files reached it" not in str(error)
    assert str(error).endswith(
        "Whether alice/tiny-run received this push's files is not known: the Hub could not be asked after the upload "
        "failed. The upload is one commit, so the repository holds all of them or none. To fix: once the Hub can be "
        f"reached, open {hub_env.url}/alice/tiny-run to see, or push again (files the repository holds already are "
        "not uploaded twice).")


def test_a_server_error_before_the_commit_still_says_no_file_reached_it(
        hub_env: hub_server.HubServer, run_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    hub_env.fail_next("/preupload/", 500, count=6)
    error = _push(run_dir, caplog)
    assert isinstance(error, core_hub.HubServerError) and not hub_env.repos["alice/tiny-run"].files
    assert str(error) == ("The Hub had a server error (HTTP 500) while uploading to alice/tiny-run. Nothing in your "
                          "run folder changed. alice/tiny-run exists on the Hub, but none of this push's files reached "
                          "it (the upload is one commit). To fix: try again in a moment.")


FAILURES = {
    # name: (what the Hub does, the sentence said, its To fix:)
    "someone else's namespace": (
        "bob", "You cannot push to bob/new: You don't have the rights to create a model under the namespace \"bob\".",
        "To fix: push to your own namespace (leave the repository empty for <your user>/<run name>), or use a token "
        "with write access to it."),
    "rate limited": (429, "The Hub is limiting requests (HTTP 429) while creating alice/tiny-run.",
                     "To fix: wait a minute, then try again."),
    "hub gone": ("stop", "Cannot reach the Hugging Face Hub ({url}) while checking your Hugging Face account.",
                 "To fix: check your network connection or proxy (or HF_ENDPOINT), then try again."),
    "dropped": ("drop", "Cannot reach the Hugging Face Hub ({url}): the connection was dropped while creating "
                        "alice/tiny-run. Nothing in your run folder changed.",
                "To fix: check your network connection, then try again."),
}


@pytest.mark.parametrize("name", list(FAILURES))
def test_a_hub_failure_ends_with_what_to_do(name: str, hub_env: hub_server.HubServer, run_dir: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    """These said what to do in a sentence of their own ('Check your network connection or proxy, then try
    again.'), which an upload's 'none of this push's files reached it' then followed; now it is the To fix:, last."""
    fault, said, fix = FAILURES[name]
    repo_id = "bob/new" if fault == "bob" else None
    if fault == "stop":
        hub_env.stop()
    elif fault != "bob":
        hub_env.fail_next("/api/repos/create", fault, count=9)
    error = _push(run_dir, caplog, repo_id=repo_id)
    assert (error.message, error.fix) == (said.format(url=hub_env.url), fix)
    assert str(error) == f"{error.message} {error.fix}"


PASTED = {
    # name: (the token as pasted, what is said of it)
    "zero-width space": (WRITE[:10] + "\u200b" + WRITE[10:], "a character that no token has: zero width space (U+200B) "
                                                              "at character 11"),
    "space inside": (WRITE[:10] + " " + WRITE[10:], "a character that no token has: space (U+0020) at character 11"),
    "control character": (WRITE + "\x00", "a character that no token has: a control character (U+0000) at character "
                                          "41"),
    "accented letters": ("hf_üñ" + WRITE[5:], "2 characters that no token has: latin small letter u with diaeresis "
                                              "(U+00FC) at character 4; latin small letter n with tilde (U+00F1) at "
                                              "character 5"),
}


@pytest.mark.parametrize("name", list(PASTED))
def test_a_token_pasted_with_a_stray_character_is_said_before_it_is_sent(
        name: str, hub_env: hub_server.HubServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A zero-width space copied with the token said 'Failed while checking your Hugging Face account:
    UnicodeEncodeError: 'ascii' codec can't encode character '\\u200b' in position 11 …', a NUL 'the connection was
    dropped' (the Hub was never asked)."""
    token, said = PASTED[name]
    with caplog.at_level(logging.DEBUG), pytest.raises(core_hub.HubAuthError) as caught:
        core_hub.login(token)
    assert str(caught.value) == (
        f"This Hugging Face token has {said}. Nothing was sent to the Hub. To fix: copy the token again with the copy "
        f"button at {hub_env.url}/settings/tokens, or type it (hf_ then letters and digits).")
    assert hub_env.paths() == [] and not (tmp_path / "hf_home" / "token").exists()
    assert token.strip() not in str(caught.value) + caplog.text and WRITE not in str(caught.value) + caplog.text


def test_hf_token_with_a_stray_character_says_where_it_comes_from(hub_env: hub_server.HubServer,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", WRITE + "\u200b")  # a zero-width space copied with it
    with pytest.raises(core_hub.HubAuthError) as caught:
        core_hub.whoami()
    assert str(caught.value) == (
        "The token in the HF_TOKEN environment variable has a character that no token has: zero width space "
        "(U+200B) at character 41. Nothing was sent to the Hub. To fix: set HF_TOKEN again to the token as "
        f"{hub_env.url}/settings/tokens shows it, or unset it.")
    assert hub_env.paths() == []


def test_a_private_push_to_a_public_repository_says_how_to_push_it_public_in_the_app_and_the_cli(
        hub_env: hub_server.HubServer, run_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    """It said "Untick 'private' to publish the run there": `finetune-studio push` has no 'private' to untick (its
    flag is --public), and there was no To fix:."""
    hub_env.repos["alice/tiny-run"] = hub_server.HubRepo("alice/tiny-run", "alice", private=False)
    error = _push(run_dir, caplog, private=True)
    assert isinstance(error, core_hub.HubPermissionError)
    assert str(error) == ("alice/tiny-run already exists and is public, and you asked for a private push: pushing "
                          "would publish the run. Nothing was uploaded. To fix: to publish it there, push it public "
                          "(untick 'Private repository' in the push dialog, or add --public to finetune-studio push); "
                          "else choose another repository name, or make the repository private in its settings on "
                          "the Hub first.")
    assert not hub_env.repos["alice/tiny-run"].files and not hub_env.count("/preupload/")
