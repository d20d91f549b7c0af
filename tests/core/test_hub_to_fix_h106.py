"""Hub messages that said what to do without a "To fix:" (helper-106): a merged push of a full fine-tuning run ("Push
it as it is."), `whoami` or a push while logged out ("Log in with an access token …"), and a Hub id that offline
mode or an unreachable Hub keeps from loading ("… Pick a local model folder …"). Each now says what is wrong, then
"To fix: …", and the tests follow the fix to something that works. Against the local test Hub in this process
(hub_fixtures.patch_client)."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import cli, hub_access
from finetune_studio.core import hub as core_hub
from finetune_studio.core.adapter_layout import module_layout
from finetune_studio.core.config import DEMO_MODEL_ID, ModelConfig
from tests.hub_fixtures import WRITE, hub, make_finished_run, patch_client  # hub: a fixture
from tests.hub_server import HubServer

LOGGED_OUT = ("You are not logged in to the Hugging Face Hub. No login is saved on this machine, and HF_TOKEN is "
              "not set. To fix: create an access token at {url}/settings/tokens (with write access to push), then "
              "log in with it: finetune-studio login, or Hub → Log in… in the app.")


@pytest.fixture
def local_hub(hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    return hub


def _errors(capsys: pytest.CaptureFixture[str]) -> list[str]:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return [line for line in err.splitlines() if line.startswith("error: ")]


def test_a_merged_push_of_a_full_run_says_to_push_without_merged(local_hub: HubServer, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HF_TOKEN", WRITE)
    run = make_finished_run(tmp_path / "runs")
    assert cli.main(["push", str(run), "--merged"]) == cli.EXIT_CONFIG
    assert _errors(capsys) == ["error: The run tiny-run fine-tuned every weight: its model is already whole, so there "
                               "is no adapter to merge (a merged push is for adapter runs: LoRA, QLoRA, DoRA). "
                               "Nothing was sent to the Hub. To fix: push it without --merged, which uploads the "
                               "whole model as it is."]
    assert local_hub.repos == {}
    assert cli.main(["push", str(run)]) == 0  # the fix works
    assert "model.safetensors" in local_hub.repos["alice/tiny-run"].files


def test_whoami_and_push_while_logged_out_say_how_to_log_in(local_hub: HubServer, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    expected = "error: " + LOGGED_OUT.format(url=local_hub.url)
    assert cli.main(["whoami"]) == cli.EXIT_FAILED
    assert _errors(capsys) == [expected]
    run = make_finished_run(tmp_path / "runs")
    assert cli.main(["push", str(run)]) == cli.EXIT_FAILED
    assert _errors(capsys) == [expected]
    with pytest.raises(core_hub.HubAuthError) as info:
        core_hub.whoami()
    assert info.value.needs_login and info.value.fix.startswith("To fix: create an access token at ")
    core_hub.login(WRITE)  # the fix
    assert cli.main(["whoami"]) == 0
    assert "alice" in capsys.readouterr().out


def test_the_clients_own_not_logged_in_error_reads_the_same(local_hub: HubServer) -> None:
    from huggingface_hub.errors import LocalTokenNotFoundError

    error = core_hub._translate(LocalTokenNotFoundError("no token"), "pushing", None)
    assert isinstance(error, core_hub.HubAuthError)
    assert str(error) == LOGGED_OUT.format(url=local_hub.url)


def test_a_hub_id_not_cached_while_offline_says_to_pick_a_local_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(hub_access.HubUnreachable) as info:
        module_layout(ModelConfig(name_or_path="nobody-here/not-cached-model"))
    assert str(info.value) == ("Cannot load the config of 'nobody-here/not-cached-model': offline mode is on "
                               "(HF_HUB_OFFLINE) and it is not in the local cache, so it cannot be downloaded. To "
                               "fix: pick a local model folder or the built-in demo model, or unset HF_HUB_OFFLINE "
                               "with a network connection to download it once (it is then read from the cache).")
    assert module_layout(ModelConfig(name_or_path=DEMO_MODEL_ID)).total_params > 0  # the fix works offline


def test_an_unreachable_hub_leads_with_the_local_way_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    hub_access._CACHE.clear()
    try:
        with pytest.raises(hub_access.HubUnreachable) as info:
            hub_access.require_hub("the dataset 'someone/rows'", "Pick a local file, or the built-in sample dataset.")
    finally:
        hub_access._CACHE.clear()
    assert str(info.value) == ("Cannot reach the Hugging Face Hub (http://127.0.0.1:9) to load the dataset "
                               "'someone/rows': it is not in the local cache, so it must be downloaded. To fix: pick "
                               "a local file, or the built-in sample dataset, or check your network connection or "
                               "proxy (or HF_ENDPOINT) and try again.")
