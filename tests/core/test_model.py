"""Model and tokenizer loading: local folders, the demo, and the messages for every way it can fail."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from finetune_studio.core import hub_access
from finetune_studio.core.config import ModelConfig
from finetune_studio.core.errors import ModelError
from finetune_studio.core.model import load_model, load_tokenizer


def test_demo_loads_with_pad_notice(demo_cache: Path) -> None:
    notes: list[str] = []
    tokenizer = load_tokenizer(ModelConfig(), notes.append)
    assert tokenizer.pad_token == tokenizer.eos_token == "<|endoftext|>"
    assert len(notes) == 1
    model = load_model(ModelConfig())
    assert model.config.model_type == "qwen3"


def test_missing_folder_and_folder_without_config(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        load_tokenizer(ModelConfig(name_or_path=str(tmp_path / "gone")))
    assert str(info.value) == (f"Model folder not found: {tmp_path / 'gone'}. To fix: give the folder where the "
                               "model is now (it holds config.json and the weights), a Hugging Face model id "
                               "(owner/name), or the built-in demo model builtin:demo.")
    with pytest.raises(ModelError) as info:
        load_model(ModelConfig(name_or_path=str(tmp_path)))
    assert str(info.value) == (f"{tmp_path} is not a model folder: it has no config.json. To fix: pick the folder "
                               "save_pretrained wrote: it holds config.json beside the weights.")


@pytest.fixture
def dead_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Hub endpoint nothing listens on: connection refused at once, as with no network."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    hub_access._CACHE.clear()
    yield
    hub_access._CACHE.clear()


def test_unreachable_hub_fails_fast_with_message(dead_hub: None) -> None:
    started = time.monotonic()
    with pytest.raises(hub_access.HubUnreachable) as info:
        load_tokenizer(ModelConfig(name_or_path="someone/some-model-not-cached"))
    assert time.monotonic() - started < 5
    assert str(info.value).startswith("Cannot reach the Hugging Face Hub (http://127.0.0.1:")
    assert "to load the model 'someone/some-model-not-cached'" in str(info.value)
    assert str(info.value).endswith("To fix: pick a local model folder or the built-in demo model, or check your "
                                    "network connection or proxy (or HF_ENDPOINT) and try again.")


def test_offline_mode_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(hub_access.HubUnreachable, match=r"offline mode is on \(HF_HUB_OFFLINE\)"):
        load_model(ModelConfig(name_or_path="someone/uncached"))


@pytest.mark.parametrize("error, expected", [
    ("GatedRepoError", "someone/model is a gated model: accept its license on its Hub page"),
    ("RepositoryNotFoundError", "The model someone/model was not found on the Hub. Check the id"),
])
def test_hub_errors_get_their_own_message(monkeypatch: pytest.MonkeyPatch, error: str, expected: str) -> None:
    import huggingface_hub.errors as hub_errors
    from transformers import AutoTokenizer

    exc_type = getattr(hub_errors, error)

    def fake(name: str, local_files_only: bool = False, **kwargs: object) -> None:
        if local_files_only:
            raise OSError("not cached")
        try:
            raise exc_type("boom", response=SimpleNamespace(headers={}, request=None))
        except exc_type as hub_error:  # transformers wraps Hub errors in OSError
            raise OSError("wrapped by transformers") from hub_error

    monkeypatch.setattr(AutoTokenizer, "from_pretrained", fake)
    monkeypatch.setattr(hub_access, "hub_reachable", lambda timeout=3.0: True)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(ModelError) as info:
        load_tokenizer(ModelConfig(name_or_path="someone/model"))
    assert str(info.value).startswith(expected)


@pytest.mark.parametrize("name, expected", [
    ("Qwen/Qwen3 0.6B!", "'Qwen/Qwen3 0.6B!' is not a valid Hugging Face model id: it contains a space and '!'."),
    ("a//b", "'a//b' is neither a folder on this computer nor a valid Hugging Face model id: it has more than one "
             "'/'."),
    ("someone/model--x", "'someone/model--x' is not a valid Hugging Face model id: it contains '--' or '..'."),
])
def test_invalid_model_id_gets_its_own_message(name: str, expected: str, monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    """Neither the cache nor the Hub is asked: the id itself is wrong, and "not in the local cache" would mislead."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from finetune_studio.core.config import RunConfig
    from finetune_studio.core.validation import validate

    asked: list[str] = []
    monkeypatch.setattr(AutoTokenizer, "from_pretrained", lambda name, **kw: asked.append(name))
    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", lambda name, **kw: asked.append(name))
    monkeypatch.setattr(hub_access, "require_hub", lambda *a: asked.append("hub"))
    monkeypatch.chdir(tmp_path)  # "a//b" is looked for as a folder here
    hint = (" A model id is owner/name with letters, digits, '-', '_' and '.' only, e.g. Qwen/Qwen3-0.6B; a folder "
            "on this computer starts with /, ./ or ~.")
    for load in (load_tokenizer, load_model):
        with pytest.raises(ModelError) as info:
            load(ModelConfig(name_or_path=name))
        assert str(info.value) == expected + hint
    assert asked == []
    config = RunConfig()
    config.model.name_or_path = name
    config.runs_dir = str(tmp_path / "runs")
    assert [(p.field, p.message) for p in validate(config) if p.field.startswith("model.")] == [
        ("model.name_or_path", expected + hint)]


def test_a_folder_named_like_a_bad_id_is_still_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a" / "b").mkdir(parents=True)  # "a//b" exists here: it is a folder, judged as one
    with pytest.raises(ModelError) as info:
        load_tokenizer(ModelConfig(name_or_path="a//b"))
    assert str(info.value) == ("a/b is not a model folder: it has no config.json. To fix: pick the folder "
                               "save_pretrained wrote: it holds config.json beside the weights.")


@pytest.mark.parametrize(("text", "words"), [
    ('{"model_type": "qwen3", "hidden_size": 10', "is not valid JSON (line 1, column 42: Expecting ',' delimiter)"),
    ("[1, 2]", "holds list JSON, not the object of settings a model's config is"),
])
def test_a_model_folder_with_a_corrupt_config_json_is_refused_before_loading(tmp_path: Path, text: str,
                                                                              words: str) -> None:
    from finetune_studio.core.model import check_local_model, model_name_problem

    (tmp_path / "config.json").write_text(text)
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    said = check_local_model(str(tmp_path))
    assert said == model_name_problem(str(tmp_path))  # what validate says at model.name_or_path
    assert said is not None and said.startswith(f"{tmp_path / 'config.json'} {words}")
    assert said.endswith("To fix: copy config.json again from where the model came from (or save the model again "
                         "with save_pretrained).")
    (tmp_path / "config.json").write_text('{"model_type": "qwen3"}')
    assert check_local_model(str(tmp_path)) is None
