"""A merged push in float16 (`finetune-studio push RUN --merged --dtype float16`, the push dialog's merged option
with float16 in its Weights box: both call core.hub.push_run) whose merged weights exceed float16's range found it
only once merged, after the repository was created: an empty repository was left on the Hub, and the refusal said
"The repository ... exists on the Hub, but no files were uploaded to it." The push now looks at the repository
(a read, creating nothing), merges, and only then creates it: the refusal comes with nothing created, says so and
what to do. Cancel still stops the merge at its next stage. Against the local test Hub in this process, whose
requests are asserted; the overflow is core.export's real _check_fits, run on the merged demo model with one weight
made 70,000 (as tests/core/test_push_dtype_h183.py makes it)."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import cli, export
from finetune_studio.core import hub as core_hub
from finetune_studio.core.export import ExportResult
from tests import helpers
from tests.core.test_cli_push_export_input import _adapter_run, quiet_hub  # noqa: F401 - a fixture
from tests.core.test_push_merged_checks import small_merged_model
from tests.hub_fixtures import BOB, WRITE, hub, instant_retries, patch_client
from tests.hub_server import HubServer

PROBLEM = ("The merged model cannot be saved in float16: its weight model.norm.weight holds values up to 70,000, and "
           "float16 holds at most 65,504, so they would be saved as inf and the model would answer NaN.")
FIX = ("To fix: push it in bfloat16 (as small as float16, with float32's range: --dtype bfloat16, or bfloat16 in the "
       "push dialog's Weights box), or in float32, the dtype the run trained in (--dtype auto, or Same as training).")


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory: pytest.TempPathFactory, demo_cache: Path) -> Path:
    return helpers.lora_run(tmp_path_factory.mktemp("merge first"), "lora-run", rows=60, max_steps=2)


@pytest.fixture
def local_hub(hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    instant_retries(monkeypatch)
    monkeypatch.setenv("HF_TOKEN", WRITE)
    staging = tmp_path / "staging"
    staging.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(staging))  # where the push merges and stages
    hub.staging = staging
    return hub


@pytest.fixture
def overflowing(monkeypatch: pytest.MonkeyPatch) -> None:
    """core.export's float16 range check, run for real on the merged model with one weight past float16's range."""
    import torch

    real = export._check_fits

    def too_large(merged: Any, dtype: str, trained: str) -> None:
        with torch.no_grad():
            dict(merged.named_parameters())["model.norm.weight"][0] = 70000.0
        real(merged, dtype, trained)

    monkeypatch.setattr(export, "_check_fits", too_large)


def _requests(hub: HubServer) -> list[tuple[str, str]]:
    return [(request.method, request.path.split("?")[0]) for request in hub.requests]


LOOKED = [("GET", "/api/whoami-v2"), ("GET", "/api/models/alice/big")]  # the account, then a look at the repository


@pytest.mark.slow
def test_a_float16_overflow_is_refused_before_the_repository_is_created(lora_run: Path, local_hub: HubServer,
                                                                       overflowing: None) -> None:
    """The push dialog's way (core.hub.push_run, with its progress and cancel)."""
    phases: list[str] = []
    with pytest.raises(core_hub.HubError) as raised:
        core_hub.push_run(lora_run, repo_id="alice/big", form=core_hub.PUSH_MERGED, dtype="float16",
                          progress=lambda event: phases.append(event["phase"]), cancel=threading.Event())
    assert raised.value.kind == core_hub.DTYPE_OVERFLOW and not raised.value.bad_input
    assert raised.value.message == f"{PROBLEM} Nothing was sent to the Hub, and alice/big was not created."
    assert raised.value.fix == FIX
    assert "exists on the Hub" not in str(raised.value)
    assert phases == ["account", "repo", "merge"]
    assert _requests(local_hub) == LOOKED  # no create, no upload: only reads
    assert local_hub.repos == {}
    assert list(local_hub.staging.iterdir()) == []  # the merge's temporary folder is gone


@pytest.mark.slow
def test_the_cli_refuses_a_float16_overflow_with_nothing_created(lora_run: Path, local_hub: HubServer,
                                                                  overflowing: None,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["push", str(lora_run), "--repo", "alice/big", "--merged", "--dtype", "float16"]
    assert cli.main(argv) == cli.EXIT_FAILED == 1
    out, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert out == "" and "Traceback" not in err, err
    assert errors == [f"error: {PROBLEM} Nothing was sent to the Hub, and alice/big was not created. {FIX}"], err
    assert "Creating alice/big" not in err and "Checking alice/big on the Hub…" in err
    assert _requests(local_hub) == LOOKED and local_hub.repos == {}

    # bfloat16, as the fix says: the same run goes through, created only now
    local_hub.requests.clear()
    assert cli.main([*argv[:-1], "bfloat16"]) == 0
    assert capsys.readouterr().out.startswith("Pushed ")
    posts = [path for method, path in _requests(local_hub) if method == "POST"]
    assert posts[0] == "/api/repos/create" and local_hub.repos["alice/big"].files


@pytest.mark.slow
def test_cancel_while_the_base_model_loads_stops_the_merge_with_nothing_created(
        lora_run: Path, local_hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.core import model as models

    cancel = threading.Event()
    real_load = models.load_model
    loads: list[int] = []

    def load_model(*args: Any, **kwargs: Any) -> Any:
        loads.append(1)
        loaded = real_load(*args, **kwargs)
        cancel.set()  # Cancel (Ctrl-C) pressed while the base model loads
        return loaded

    monkeypatch.setattr(models, "load_model", load_model)
    with pytest.raises(core_hub.HubCancelled) as raised:
        core_hub.push_run(lora_run, repo_id="alice/big", form=core_hub.PUSH_MERGED, dtype="float16", cancel=cancel)
    assert str(raised.value) == ("Push cancelled while merging the adapter into its base model: nothing of the merge "
                                 "was kept. Nothing was sent to the Hub, and alice/big was not created.")
    assert loads == [1]
    assert _requests(local_hub) == LOOKED and local_hub.repos == {}
    assert list(local_hub.staging.iterdir()) == []


@pytest.fixture
def merges(monkeypatch: pytest.MonkeyPatch, quiet_hub: HubServer) -> list[list[str]]:
    """Stands in for core.export.export_merged: records the repositories the Hub held when the merge began, and
    writes a small whole model where the push asked."""
    calls: list[list[str]] = []

    def merged(run_dir: Path, out_dir: Path, *args: Any, **kwargs: Any) -> ExportResult:
        calls.append(sorted(quiet_hub.repos))
        return small_merged_model(Path(out_dir))

    monkeypatch.setattr(export, "export_merged", merged)
    return calls


def test_a_merged_push_merges_before_it_creates_the_repository(merges: list[list[str]], quiet_hub: HubServer,
                                                                tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    said: list[tuple[str, str]] = []
    result = core_hub.push_run(run, repo_id="alice/m", form=core_hub.PUSH_MERGED,
                               progress=lambda event: said.append((event["phase"], event["message"])))
    assert merges == [[]]  # nothing created when the merge began
    assert said[:4] == [("account", "Checking your Hugging Face account"), ("repo", "Checking alice/m on the Hub"),
                        ("merge", "Merging the adapter into its base model (peft merge_and_unload)"),
                        ("repo", "Creating alice/m on the Hub")]
    assert {"config.json", "model.safetensors"} <= set(result.files) <= set(quiet_hub.repos["alice/m"].files)
    requests = _requests(quiet_hub)
    assert requests[:3] == [("GET", "/api/whoami-v2"), ("GET", "/api/models/alice/m"), ("POST", "/api/repos/create")]


@pytest.mark.parametrize(("owner_token", "repo", "said"), [
    (BOB, "bob/public", "You cannot push to bob/public: it belongs to bob, and you are logged in as alice (a member "
                        "of no organization). Nothing was uploaded; bob/public is as it was."),
    (None, "bob/new", "You cannot push to bob/new: its namespace, bob, is not yours, and you are logged in as alice "
                      "(a member of no organization). Nothing was sent to the Hub, and bob/new was not created."),
    (WRITE, "alice/public", "alice/public already exists and is public, and you asked for a private push: pushing "
                            "would publish the run. Nothing was uploaded."),
], ids=["bob's repository", "bob's namespace", "public for a private push"])
def test_a_repository_that_cannot_take_the_push_is_refused_before_merging(
        owner_token: str | None, repo: str, said: str, merges: list[list[str]], quiet_hub: HubServer,
        tmp_path: Path) -> None:
    from huggingface_hub import HfApi

    if owner_token:
        HfApi(endpoint=quiet_hub.url).create_repo(repo, private=False, token=owner_token)
    run = _adapter_run(tmp_path / "runs")
    before = len(quiet_hub.requests)
    with pytest.raises(core_hub.HubPermissionError) as raised:
        core_hub.push_run(run, repo_id=repo, private=True, form=core_hub.PUSH_MERGED)
    assert raised.value.message == said and raised.value.fix.startswith("To fix: ")
    assert merges == []  # the base model was never loaded nor merged
    assert _requests(quiet_hub)[before:] == [("GET", "/api/whoami-v2"), ("GET", f"/api/models/{repo}")]
    assert (quiet_hub.repos[repo].files == {}) if owner_token else (repo not in quiet_hub.repos)
