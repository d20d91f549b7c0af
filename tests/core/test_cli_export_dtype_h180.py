"""`finetune-studio export --merged --dtype float16|bfloat16|float32` saves a merged export in that dtype, as the
window's Export dialog does since c4c1f64 (core.export's dtype); auto, the default, is the dtype the run trained in.
--dtype with --adapter is refused in core.export's words (exit 2, nothing written), a name that is no dtype by
argparse's choices, and the command the CLI repeats (after --replace's refusal, after a Ctrl-C) keeps the --dtype."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.export import MERGED_DTYPES
from tests import helpers
from tests.core.test_cli_push_export_input import _adapter_run


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory: pytest.TempPathFactory, demo_cache: Path) -> Path:
    return helpers.lora_run(tmp_path_factory.mktemp("cli dtype"), "lora-run", rows=60, max_steps=2)


def test_export_help_offers_the_dtypes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        cli.main(["export", "--help"])
    assert ended.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())  # argparse wraps the help to the terminal's width
    assert "--dtype {auto,float16,bfloat16,float32}" in shown
    assert "auto (the default) is the one the run trained in" in shown
    assert "--adapter takes no --dtype" in shown
    assert MERGED_DTYPES == ("auto", "float16", "bfloat16", "float32")
    assert cli._parser().parse_args(["export", "--merged", "r"]).dtype == "auto"


def test_a_dtype_for_an_adapter_export_is_refused_in_core_exports_words(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    run = _adapter_run(tmp_path / "runs")
    assert cli.main(["export", "--adapter", str(run), "--dtype", "float16"]) == cli.EXIT_CONFIG == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == ("error: An adapter export copies the adapter as the run saved it, so it has no dtype to choose "
                   "(got float16). Nothing was exported. To fix: leave the dtype out, or export the merged model, "
                   "whose weights can be saved in another dtype.\n")
    assert not (run / "export-adapter").exists()
    # auto, the default, changes nothing of an adapter export
    assert cli.main(["export", "--adapter", str(run)]) == 0
    assert (run / "export-adapter" / "adapter_model.safetensors").is_file()


def test_a_name_that_is_no_dtype_is_refused_by_the_parser(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _adapter_run(tmp_path / "runs")
    with pytest.raises(SystemExit) as ended:
        cli.main(["export", "--merged", str(run), "--dtype", "fp16"])
    assert ended.value.code == 2
    assert "argument --dtype: invalid choice: 'fp16' (choose from auto, float16, bfloat16, float32)" in \
        capsys.readouterr().err.replace("'auto', 'float16', 'bfloat16', 'float32'", "auto, float16, bfloat16, float32")
    assert not (run / "export-merged").exists()


def test_the_repeated_command_keeps_a_dtype_other_than_auto(tmp_path: Path) -> None:
    parse = cli._parser().parse_args
    assert cli._export_argv(parse(["export", "--merged", "r", "--out", "o", "--dtype", "bfloat16"])) == [
        "export", "--merged", "r", "--out", "o", "--dtype", "bfloat16"]
    assert cli._export_argv(parse(["export", "--merged", "r", "--dtype", "auto"])) == ["export", "--merged", "r"]
    aborted = cli._aborted_before(parse(["export", "--merged", "my run", "--dtype", "float16"]))
    assert aborted.endswith("To fix: run finetune-studio export --merged 'my run' --dtype float16 again")


@pytest.mark.slow
def test_a_merged_export_is_saved_in_the_dtype_given(lora_run: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "half"
    assert cli.main(["export", "--merged", str(lora_run), "--out", str(out), "--dtype", "float16"]) == 0
    said = capsys.readouterr().out
    assert said.startswith("Exported the merged model (")
    assert f", in float16, converted from float32, the dtype the run trained in) to {out}." in said
    assert helpers.weight_dtypes(out) == {"F16"}
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert (config["dtype"], config["torch_dtype"]) == ("float16", "float16")

    # a second export there: the command to replace it keeps --dtype, and replaces it in that dtype
    first = (out / "model.safetensors").read_bytes()
    assert cli.main(["export", "--merged", str(lora_run), "--out", str(out), "--dtype", "float16"]) == 2
    err = capsys.readouterr().err
    command = shlex.split(err.split("replace it with ")[1].split(", or")[0])
    assert command == ["finetune-studio", "export", "--merged", str(lora_run), "--out", str(out), "--dtype",
                       "float16", "--replace"]
    assert (out / "model.safetensors").read_bytes() == first  # left as it was
    assert cli.main(command[1:]) == 0
    assert ", in float16, converted from float32" in capsys.readouterr().out
    assert helpers.weight_dtypes(out) == {"F16"}

    # auto, the default: the dtype the run trained in
    same = tmp_path / "same"
    assert cli.main(["export", "--merged", str(lora_run), "--out", str(same)]) == 0
    said = capsys.readouterr().out
    assert f", in float32) to {same}." in said and "converted" not in said
    assert helpers.weight_dtypes(same) == {"F32"}


def test_readme_shows_export_dtype_as_a_command_that_parses() -> None:
    lines = [line for line in (helpers.ROOT / "README.md").read_text(encoding="utf-8").splitlines()
             if line.startswith("finetune-studio export ") and "--dtype" in line]
    assert len(lines) == 1
    command, note = lines[0].split("#", 1)
    args = cli._parser().parse_args(shlex.split(command.replace("<run>", "runs/x"))[1:])
    assert (args.command, args.kind, args.dtype, args.run_dir) == ("export", "merged", "bfloat16", "runs/x")
    assert "default auto" in note
