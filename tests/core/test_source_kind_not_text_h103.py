"""core.sources with a model name or dataset source that is no text: a YAML list or mapping the config file wrote (the
forms keep it as written), or a number. source_kind read it with `.strip()` and fell over it (AttributeError: 'list'
object has no attribute 'strip'), reached from the Dataset tab's statistics through core.model.load_tokenizer ->
model_name_problem. Now source_kind (and is_local) refuse it with the project's own error saying what it is and what
to write; the predicates answer no; model_name_problem says it before any lookup, and load_tokenizer raises that as a
ModelError without importing a tokenizer."""

from __future__ import annotations

from typing import Any

import pytest

from finetune_studio.core import sources
from finetune_studio.core.config import ModelConfig
from finetune_studio.core.errors import FinetuneError, ModelError
from finetune_studio.core.model import load_tokenizer, model_name_problem
from finetune_studio.core.sources import hub_repo_id, is_local, source_kind, starts_like_path, written_as_path

FIX = "To fix: give one model name or folder in name_or_path"
VALUES = [  # (value, as the user reads it, what not_one_model says)
    (["a", "b"], "A list ([a, b])", "name_or_path holds a list ([a, b]), not one model"),
    ({"org": "a", "name": "b"}, "A mapping ({org: a, name: b})",
     "name_or_path holds a mapping ({org: a, name: b}), not one model"),
    (7, "A number (7)", "name_or_path holds a number (7), not one model"),
    ([], "A list ([])", "name_or_path holds a list ([]), not one model"),
]
IDS = ["list", "mapping", "number", "empty-list"]


@pytest.mark.parametrize(("value", "shown", "said"), VALUES, ids=IDS)
def test_source_kind_refuses_a_value_that_is_no_text(value: Any, shown: str, said: str) -> None:
    expected = (f"{shown} is not one model or dataset: a name or path is one piece of text. {FIX} (or one file, "
                "folder or Hub id in dataset.source).")
    for ask in (source_kind, is_local):
        with pytest.raises(FinetuneError) as caught:  # the forms show its message as it stands
            ask(value)
        assert str(caught.value) == expected
        assert type(caught.value) is sources.NotOneName


@pytest.mark.parametrize(("value", "shown", "said"), VALUES, ids=IDS)
def test_the_predicates_answer_no_and_the_model_problem_says_what_to_do(value: Any, shown: str, said: str) -> None:
    assert (starts_like_path(value), written_as_path(value), hub_repo_id(value)) == (False, False, None)
    assert sources.not_one_model(value) == said
    assert model_name_problem(value) == f"{said}. {FIX}."
    assert model_name_problem(value, weights=False) == f"{said}. {FIX}."


def test_load_tokenizer_of_a_list_raises_the_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import transformers

    calls: list[Any] = []
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", lambda *a, **k: calls.append(a))
    with pytest.raises(ModelError) as caught:
        load_tokenizer(ModelConfig(name_or_path=["a", "b"]))
    assert str(caught.value) == f"name_or_path holds a list ([a, b]), not one model. {FIX}."
    assert calls == []


def test_one_model_as_text_is_read_as_before() -> None:
    assert sources.not_one_model("Qwen/Qwen3-0.6B") is None and sources.not_one_model("  ") == "No model is chosen"
    assert sources.not_one_model(None) == "No model is chosen"
    assert source_kind("Qwen/Qwen3-0.6B").value == "hub" and source_kind("./m").value == "local"
    assert hub_repo_id("Qwen/Qwen3-0.6B") == "Qwen/Qwen3-0.6B" and starts_like_path("./m")
    assert model_name_problem("builtin:demo") is None
