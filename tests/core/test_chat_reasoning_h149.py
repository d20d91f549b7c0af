"""A message's reasoning_content reaches the chat template: core.chat kept only role and content, so Qwen3's
template (which writes reasoning_content in a <think> block) rendered an empty '<think>\\n\\n</think>' and the model
learned the answers without their reasoning. A template that never reads reasoning_content (ChatML) is said once in
the run log, with a To fix, rather than dropping the reasoning silently."""

from __future__ import annotations

import pytest

from finetune_studio.core.chat import prepare_dataset, render_and_label
from finetune_studio.core.config import ChatConfig, default_config
from finetune_studio.core.inspector import Inspector

ROW = {"messages": [{"role": "user", "content": "2+2?"},
                    {"role": "assistant", "content": "4.", "reasoning_content": "Two and two make four."}]}


@pytest.fixture()
def tokenizer(demo_cache):
    from transformers import AutoTokenizer

    from finetune_studio.core.demo import demo_model_path

    return AutoTokenizer.from_pretrained(demo_model_path())


def trained(tokenizer, ids, labels) -> str:
    assert all(label in (-100, token) for token, label in zip(ids, labels))
    return tokenizer.decode([t for t in labels if t != -100])


def test_qwen3_renders_and_trains_the_reasoning(tokenizer) -> None:
    roles = render_and_label(tokenizer, ROW, ChatConfig(template="qwen3"), 512)
    assert roles.problems == []
    assert roles.text == ("<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n<think>\nTwo and two make four."
                          "\n</think>\n\n4.<|im_end|>\n")
    assert trained(tokenizer, roles.input_ids, roles.labels) == (
        "<think>\nTwo and two make four.\n</think>\n\n4.<|im_end|>\n")
    prompt = [t for t, label in zip(roles.input_ids, roles.labels) if label == -100]
    assert tokenizer.decode(prompt) == "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"


def test_the_run_and_the_inspector_train_the_reasoning(tokenizer, tmp_path) -> None:
    import datasets

    config = default_config()
    config.dataset.source, config.dataset.test_size, config.chat.template = "reasoning.jsonl", 0, "qwen3"
    said: list[str] = []
    data = prepare_dataset(datasets.Dataset.from_list([ROW, ROW]), tokenizer, config.chat, config.dataset, 42,
                           notify=said.append)
    row = data.splits["train"][0]
    assert trained(tokenizer, row["input_ids"], row["labels"]) == (
        "<think>\nTwo and two make four.\n</think>\n\n4.<|im_end|>\n")
    assert not any("reasoning_content" in line for line in said)
    checks = Inspector(config, cache=tmp_path / "cache").load(tokenizer=tokenizer, ds=[ROW, ROW]).check()
    assert checks.counts["trained"].tolist() == [sum(1 for t in r["labels"] if t != -100)
                                                 for r in data.splits["train"]]


def test_a_template_that_never_reads_the_reasoning_is_said_once(tokenizer) -> None:
    import datasets

    config = default_config()
    config.dataset.source, config.dataset.test_size = "reasoning.jsonl", 0
    said: list[str] = []
    data = prepare_dataset(datasets.Dataset.from_list([ROW, ROW, {"messages": ROW["messages"][:1] + [
        {"role": "assistant", "content": "Four."}]}]), tokenizer, config.chat, config.dataset, 42, notify=said.append)
    assert [line for line in said if "reasoning_content" in line] == [
        "2 of the first 3 rows have 'reasoning_content' in their messages, but the chat template never reads "
        "'reasoning_content', so that reasoning is not in the rendered text and is not trained. To fix: pick a "
        "template that renders it (qwen3), or write the reasoning into the reply's content."]
    row = data.splits["train"][0]
    assert trained(tokenizer, row["input_ids"], row["labels"]) == "4.<|im_end|>\n"


def test_reasoning_that_is_not_text_is_refused(tokenizer) -> None:
    row = {"messages": [ROW["messages"][0], {"role": "assistant", "content": "4.", "reasoning_content": ["a"]}]}
    roles = render_and_label(tokenizer, row, ChatConfig(template="qwen3"), 512)
    assert roles.labels == [] and roles.problems == [
        "message 2 (assistant) of column 'messages' has a list as its 'reasoning_content', not text. To fix: write "
        "it as text, or remove it"]


def test_validate_says_once_that_the_template_never_reads_the_reasoning(demo_cache, runs_dir, tmp_path, capsys):
    import json

    from finetune_studio.core.cli import main
    from finetune_studio.core.config import save_config

    data = tmp_path / "reasoning.jsonl"
    data.write_text("".join(json.dumps(ROW) + "\n" for _ in range(4)), encoding="utf-8")
    config = default_config()
    config.runs_dir, config.dataset.source = str(runs_dir), str(data)
    path = tmp_path / "chat.yaml"
    save_config(config, path)
    capsys.readouterr()
    assert main(["validate", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines if "reasoning_content" in line] == [
        "warning: chat.template: 4 of the first 4 rows have 'reasoning_content' in their messages, but the chat "
        "template never reads 'reasoning_content', so that reasoning is not in the rendered text and is not trained. "
        "To fix: pick a template that renders it (qwen3), or write the reasoning into the reply's content."]
    config.chat.template = "qwen3"
    save_config(config, path)
    assert main(["validate", str(path)]) == 0
    assert not any("reasoning_content" in line for line in capsys.readouterr().out.splitlines())
