"""A merged push (`finetune-studio push <run> --merged --dtype bfloat16`, the push dialog's Weights box) saves the
merged weights in the dtype chosen, through core.export's dtype handling, as a merged export does since c4c1f64: it
always saved the dtype the run trained in. The list a push shows (plan_push) gives the sizes of that dtype, and the
local Hub receives config.json saying it (dtype and torch_dtype) and weights of that size. A dtype for a push that
is not merged is refused before anything is sent (bad input, exit 2)."""

from __future__ import annotations

import json
import shlex
import struct
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import cli
from finetune_studio.core import hub as core_hub
from tests.core.test_cli_push_export_input import _adapter_run, quiet_hub  # noqa: F401 - a fixture
from tests.core.test_push_merge_first_h185 import overflowing  # noqa: F401 - a fixture: one weight past float16
from tests.core.test_push_merged_cancel_h175 import lora_run  # noqa: F401 - a fixture, the same run
from tests.hub_fixtures import WRITE, hub, instant_retries, make_finished_run, patch_client
from tests.hub_server import HubServer


@pytest.fixture
def local_hub(hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    instant_retries(monkeypatch)
    monkeypatch.setenv("HF_TOKEN", WRITE)
    return hub


def _header_dtypes(data: bytes) -> set[str]:
    """The dtypes a safetensors file's header gives its tensors (the bytes the Hub received)."""
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    return {entry["dtype"] for name, entry in header.items() if name != "__metadata__"}


def _received(hub: HubServer, repo_id: str) -> dict[str, bytes]:
    return dict(hub.repos[repo_id].files)


@pytest.mark.slow
def test_a_merged_push_uploads_the_dtype_chosen_at_the_size_listed(lora_run: Path, local_hub: HubServer) -> None:
    auto = dict(core_hub.plan_push(lora_run, repo_id="alice/half", form=core_hub.PUSH_MERGED))
    listed = dict(core_hub.plan_push(lora_run, repo_id="alice/half", form=core_hub.PUSH_MERGED, dtype="bfloat16"))
    assert listed["model.safetensors"] < auto["model.safetensors"] * 0.51  # 2 bytes a weight where the run kept 4
    phases: list[str] = []
    result = core_hub.push_run(lora_run, repo_id="alice/half", form=core_hub.PUSH_MERGED, dtype="bfloat16",
                               progress=lambda event: phases.append(str(event["message"])))
    got = _received(local_hub, "alice/half")
    assert sorted(result.files) == sorted(got) == sorted(listed)
    assert {name: len(data) for name, data in got.items()} == listed  # what the dialog lists is what arrives
    config = json.loads(got["config.json"])
    assert (config["dtype"], config["torch_dtype"]) == ("bfloat16", "bfloat16")
    assert _header_dtypes(got["model.safetensors"]) == {"BF16"}
    assert ("Merging the adapter into its base model (peft merge_and_unload), its weights saved in bfloat16"
            in phases)


@pytest.mark.slow
def test_the_cli_pushes_merged_in_the_dtype_given_and_auto_as_trained(lora_run: Path, local_hub: HubServer,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["push", str(lora_run), "--repo", "alice/f16", "--merged", "--dtype", "float16"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("Pushed ") and "/alice/f16" in out
    assert "its weights saved in float16…" in err
    got = _received(local_hub, "alice/f16")
    config = json.loads(got["config.json"])
    assert (config["dtype"], config["torch_dtype"]) == ("float16", "float16")
    assert _header_dtypes(got["model.safetensors"]) == {"F16"}
    listed = dict(core_hub.plan_push(lora_run, repo_id="alice/f16", form=core_hub.PUSH_MERGED, dtype="float16"))
    assert len(got["model.safetensors"]) == listed["model.safetensors"]

    assert cli.main(["push", str(lora_run), "--repo", "alice/same", "--merged"]) == 0  # auto: as trained
    assert "saved in" not in capsys.readouterr().err
    got = _received(local_hub, "alice/same")
    assert json.loads(got["config.json"])["dtype"] == "float32"
    assert _header_dtypes(got["model.safetensors"]) == {"F32"}
    assert len(got["model.safetensors"]) > 1.9 * len(_received(local_hub, "alice/f16")["model.safetensors"])


def test_a_dtype_without_merged_is_refused_in_core_exports_words(quiet_hub: HubServer, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    run = _adapter_run(tmp_path / "runs")
    assert cli.main(["push", str(run), "--dtype", "float16"]) == cli.EXIT_CONFIG == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == ("error: An adapter push uploads the adapter as the run saved it, so it has no dtype to choose "
                   "(got float16). Nothing was sent to the Hub. To fix: leave the dtype out, or push the merged "
                   "model (--merged), whose weights can be saved in another dtype.\n")
    full = make_finished_run(tmp_path / "full")
    assert cli.main(["push", str(full), "--dtype", "bfloat16"]) == 2
    assert capsys.readouterr().err == (
        "error: A push of the run tiny-run, which fine-tuned every weight, uploads its model as the run saved it, so "
        "it has no dtype to choose (got bfloat16). Nothing was sent to the Hub. To fix: leave the dtype out (a "
        "merged push, whose weights can be saved in another dtype, is for adapter runs: LoRA, QLoRA, DoRA).\n")
    assert quiet_hub.repos == {} and quiet_hub.paths() == []  # the Hub was asked nothing
    # auto, the default, asks for nothing: the adapter push goes on as before
    assert cli.main(["push", str(run), "--dtype", "auto"]) == 0
    assert "adapter_model.safetensors" in quiet_hub.repos["alice/lora-run"].files


def test_a_name_that_is_no_dtype_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _adapter_run(tmp_path / "runs")
    with pytest.raises(SystemExit) as ended:
        cli.main(["push", str(run), "--merged", "--dtype", "fp16"])
    assert ended.value.code == 2
    assert "argument --dtype: invalid choice: 'fp16'" in capsys.readouterr().err
    # through core (the window's way): core.export's sentence, said of a push
    for form in (core_hub.PUSH_MERGED, None):
        with pytest.raises(core_hub.HubError) as raised:
            core_hub.push_run(run, form=form, dtype="fp16")
        assert raised.value.bad_input and raised.value.kind == core_hub.BAD_DTYPE
        assert str(raised.value) == ("A merged model cannot be saved in 'fp16': the choices are float16, bfloat16, "
                                     "float32, or auto (the dtype the run trained in). Nothing was sent to the Hub. "
                                     "To fix: write float16.")
    with pytest.raises(core_hub.HubError) as raised:
        core_hub.plan_push(run, form=core_hub.PUSH_ADAPTER, dtype="bfloat16")  # the list refuses as the push does
    assert raised.value.kind == core_hub.BAD_DTYPE


def test_push_help_and_the_repeated_command_keep_the_dtype(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["push", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "--dtype {auto,float16,bfloat16,float32}" in shown
    assert "Without --merged the model is uploaded as saved, so it takes no --dtype" in shown
    parse = cli._parser().parse_args
    assert parse(["push", "r", "--merged"]).dtype == "auto"
    args = parse(["push", "my run", "--repo", "alice/m", "--merged", "--dtype", "bfloat16", "--message", "hi there"])
    assert cli._push_argv(args) == ["push", "my run", "--repo", "alice/m", "--message", "hi there", "--merged",
                                    "--dtype", "bfloat16"]
    assert cli._push_argv(parse(["push", "r", "--public", "--merged", "--dtype", "auto"])) == [
        "push", "r", "--public", "--merged"]


def test_a_second_ctrl_c_names_the_push_to_run_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    run = _adapter_run(tmp_path / "runs dir")

    def aborted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(core_hub, "push_run", aborted)
    assert cli.main(["push", str(run), "--merged", "--dtype", "bfloat16"]) == cli.EXIT_FAILED
    err = capsys.readouterr().err.strip()
    said, command = err.split("push again to be sure: ")
    assert said == "error: aborted. The repository got every file or none; "
    assert shlex.split(command) == ["finetune-studio", "push", str(run), "--merged", "--dtype", "bfloat16"]


@pytest.mark.slow
def test_float16_for_weights_past_its_range_is_refused_in_a_push_s_words(lora_run: Path, local_hub: HubServer,
                                                                        overflowing: None) -> None:
    """core.export refuses float16 once merged when a weight exceeds 65,504 (its _check_fits, run for real here on
    the merged demo model with one weight made 70,000); the push says it with a push's fix, and uploads nothing."""
    with pytest.raises(core_hub.HubError) as raised:
        core_hub.push_run(lora_run, repo_id="alice/big", form=core_hub.PUSH_MERGED, dtype="float16")
    assert raised.value.kind == core_hub.DTYPE_OVERFLOW and not raised.value.bad_input
    assert str(raised.value) == (
        "The merged model cannot be saved in float16: its weight model.norm.weight holds values up to 70,000, and "
        "float16 holds at most 65,504, so they would be saved as inf and the model would answer NaN. Nothing was "
        "sent to the Hub, and alice/big was not created. To fix: push it in bfloat16 (as small as "
        "float16, with float32's range: --dtype bfloat16, or bfloat16 in the push dialog's Weights box), or in "
        "float32, the dtype the run trained in (--dtype auto, or Same as training).")
    assert "alice/big" not in local_hub.repos and local_hub.count("/commit/") == 0
