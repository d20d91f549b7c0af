"""Bad models: a missing or incomplete folder, custom code, the Hub while offline, a tokenizer without a pad token.
Each is caught by validate() where it can be (before anything loads), or fails fast with a ModelError that says what
to do; nothing saved earlier changes."""

from __future__ import annotations

import json
import shutil
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import hub_access
from finetune_studio.core.cli import main
from finetune_studio.core.config import ModelConfig
from finetune_studio.core.errors import ModelError
from finetune_studio.core.model import load_model, load_tokenizer
from finetune_studio.core.training import run
from finetune_studio.core.validation import validate
from tests.helpers import small_config
from tests.robustness.faults import Snapshot


@pytest.fixture
def demo_folder(demo_cache: Path) -> Path:
    from finetune_studio.core.demo import demo_model_path

    return demo_model_path()


def copy_model(demo: Path, target: Path, drop: tuple[str, ...] = ()) -> Path:
    shutil.copytree(demo, target, ignore=shutil.ignore_patterns(*drop))
    return target


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens here once the socket closes


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> str:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return endpoint


def model_problems(runs_dir: Path, small_dataset: Path, **model: Any) -> list[str]:
    config = small_config(small_dataset, runs_dir)
    for key, value in model.items():
        setattr(config.model, key, value)
    return [str(p) for p in validate(config)]


# id, how to build the folder from the demo model (None: nothing there), the message
FOLDERS = [
    ("missing-path", None, "Model folder not found: {path}. To fix: give the folder where the model is now"),
    ("a-file-not-a-folder", "file", "{path} is a file, not a model folder. To fix: pick the folder that holds "
                                    "config.json and the weights (the folder save_pretrained wrote)."),
    ("no-config-json", ("config.json",), "{path} is not a model folder: it has no config.json. To fix: copy the "
                                         "model's config.json (from where the model came from) into {path}, beside "
                                         "its weights."),
    ("config-but-no-weights", ("*.safetensors",), "{path} has a config.json but no weights (model.safetensors or "
                                                  "pytorch_model.bin). To fix: copy the model's weight files into "
                                                  "{path}"),
]


@pytest.mark.parametrize("build, expected", [f[1:] for f in FOLDERS], ids=[f[0] for f in FOLDERS])
def test_bad_model_folder_is_caught_before_loading(build: Any, expected: str, demo_folder: Path, tmp_path: Path,
                                                   runs_dir: Path, small_dataset: Path, earlier_run: Path) -> None:
    path = tmp_path / "model"
    if build == "file":
        path.write_text("not a model")
    elif build is not None:
        copy_model(demo_folder, path, drop=build)
    saved = Snapshot(earlier_run, demo_folder, *([path] if path.exists() else []))
    message = expected.format(path=path)
    problems = model_problems(runs_dir, small_dataset, name_or_path=str(path))
    assert len(problems) == 1 and problems[0].startswith(f"model.name_or_path: {message}")
    with pytest.raises(ModelError) as info:
        load_model(ModelConfig(name_or_path=str(path)))
    assert str(info.value).startswith(message)
    saved.assert_unchanged()


def test_model_with_its_own_code_is_refused_unless_trusted(demo_folder: Path, tmp_path: Path, runs_dir: Path,
                                                           small_dataset: Path, earlier_run: Path) -> None:
    path = copy_model(demo_folder, tmp_path / "custom")
    config = json.loads((path / "config.json").read_text())
    config.update(model_type="horoscope-net", auto_map={"AutoConfig": "configuration_horoscope.HoroscopeConfig",
                                                        "AutoModelForCausalLM": "modeling_horoscope.HoroscopeLM"})
    (path / "config.json").write_text(json.dumps(config))
    (path / "configuration_horoscope.py").write_text("raise RuntimeError('the folder code ran')\n")
    (path / "modeling_horoscope.py").write_text("raise RuntimeError('the folder code ran')\n")
    saved = Snapshot(earlier_run, path)
    message = (f"{path} ships its own Python code (configuration_horoscope.py, modeling_horoscope.py) that runs when "
               "the model loads. To fix: tick Trust remote code on the Model tab (model.trust_remote_code: true) only "
               "if you trust the model's authors, or pick a model that transformers supports itself.")
    assert model_problems(runs_dir, small_dataset, name_or_path=str(path)) == [f"model.trust_remote_code: {message}"]
    with pytest.raises(ModelError) as info:
        load_model(ModelConfig(name_or_path=str(path)))
    assert str(info.value) == message
    assert model_problems(runs_dir, small_dataset, name_or_path=str(path), trust_remote_code=True) == []
    saved.assert_unchanged()


def test_known_architecture_with_auto_map_needs_no_trust(demo_folder: Path, tmp_path: Path, runs_dir: Path,
                                                         small_dataset: Path) -> None:
    path = copy_model(demo_folder, tmp_path / "qwen-with-auto-map")
    config = json.loads((path / "config.json").read_text())
    config["auto_map"] = {"AutoModelForCausalLM": "modeling_qwen.QWenLMHeadModel"}  # model_type stays qwen3
    (path / "config.json").write_text(json.dumps(config))
    assert model_problems(runs_dir, small_dataset, name_or_path=str(path)) == []


def test_hub_model_while_offline_fails_within_seconds(offline: str, earlier_run: Path) -> None:
    saved = Snapshot(earlier_run)
    started = time.monotonic()
    with pytest.raises(hub_access.HubUnreachable) as info:
        load_tokenizer(ModelConfig(name_or_path="someone/horoscope-lm"))
    assert time.monotonic() - started < 5
    assert str(info.value) == (f"Cannot reach the Hugging Face Hub ({offline}) to load the model "
                               "'someone/horoscope-lm': it is not in the local cache, so it must be downloaded. To "
                               "fix: pick a local model folder or the built-in demo model, or check your network "
                               "connection or proxy (or HF_ENDPOINT) and try again.")
    saved.assert_unchanged()


def test_hub_offline_mode_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(hub_access.HubUnreachable, match=r"^Cannot load the model 'someone/horoscope-lm': offline "
                                                        r"mode is on \(HF_HUB_OFFLINE\)"):
        load_model(ModelConfig(name_or_path="someone/horoscope-lm"))


def test_cli_with_a_hub_model_offline_exits_1_quickly(offline: str, demo_cache: Path, small_dataset: Path,
                                                      runs_dir: Path, earlier_run: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    saved = Snapshot(earlier_run, small_dataset)
    started = time.monotonic()
    code = main(["train", "--set", "model.name_or_path=someone/horoscope-lm", "--set",
                 f"dataset.source={small_dataset}", "--name", "offline", "--quiet"])
    assert code == 1 and time.monotonic() - started < 20
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: Cannot reach the Hugging Face Hub ({offline}) to load the model 'someone/horoscope-lm': it is not "
        "in the local cache, so it must be downloaded. To fix: pick a local model folder or the built-in demo model, "
        "or check your network connection or proxy (or HF_ENDPOINT) and try again.")
    saved.assert_unchanged()


def test_cli_with_a_missing_model_folder_exits_2(tmp_path: Path, small_dataset: Path, runs_dir: Path,
                                                 earlier_run: Path, capsys: pytest.CaptureFixture) -> None:
    saved = Snapshot(runs_dir)
    missing = tmp_path / "no-model-here"
    code = main(["train", "--set", f"model.name_or_path={missing}", "--set", f"dataset.source={small_dataset}"])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: model.name_or_path: Model folder not found: {missing}. To fix: give the folder where the model is "
        "now (it holds config.json and the weights), a Hugging Face model id (owner/name), or the built-in demo "
        "model builtin:demo."]
    saved.assert_unchanged()


def test_unknown_dtype_is_a_validation_problem(runs_dir: Path, small_dataset: Path) -> None:
    assert model_problems(runs_dir, small_dataset, dtype="float8") == [
        "model.dtype: dtype 'float8' is not a precision to load the weights in. To fix: write one of auto, float32, "
        "bfloat16, float16."]


def test_tokenizer_without_pad_token_pads_with_eos_and_says_so(demo_folder: Path) -> None:
    notices: list[str] = []
    tokenizer = load_tokenizer(ModelConfig(), notices.append)  # the demo tokenizer has no pad token on purpose
    assert notices == ["The tokenizer has no pad token; using its eos token '<|endoftext|>' for padding."]
    assert tokenizer.pad_token == tokenizer.eos_token == "<|endoftext|>"


def test_tokenizer_without_pad_or_eos_token_is_refused(demo_folder: Path, tmp_path: Path) -> None:
    path = copy_model(demo_folder, tmp_path / "no-eos")
    settings = json.loads((path / "tokenizer_config.json").read_text())
    for key in ("eos_token", "bos_token", "pad_token"):
        settings.pop(key, None)
    (path / "tokenizer_config.json").write_text(json.dumps(settings))
    with pytest.raises(ModelError) as info:
        load_tokenizer(ModelConfig(name_or_path=str(path)))
    assert str(info.value) == (f"The tokenizer of {path} has neither a pad nor an eos token, so batches cannot be "
                               "padded. Use a tokenizer that defines an eos token.")


def test_a_good_run_still_works_after_the_bad_models(demo_cache: Path, small_dataset: Path, runs_dir: Path) -> None:
    config = small_config(small_dataset, runs_dir, max_steps=2, eval_strategy="no", load_best_model_at_end=False,
                          save_strategy="no")
    result = run(config)
    assert (result.state, result.step) == ("finished", 2)
    notices = [json.loads(line)["message"] for line in (result.run_dir / "metrics.jsonl").read_text().splitlines()
               if json.loads(line)["event"] == "notice"]
    assert "The tokenizer has no pad token; using its eos token '<|endoftext|>' for padding." in notices
