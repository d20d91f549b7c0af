"""A LoRA chat run on a model whose tokenizer lacks ChatML's control tokens adds <|im_start|> and <|im_end|> and
grows the embeddings; the new rows must train (peft's trainable_token_indices), or the model can never learn to emit
<|im_end|>. Checked on the demo model (tied output head) and on an untied copy of it: exactly the added rows change,
in the input embeddings and in an untied head; the saved adapter reloads with them; the merged export keeps them
and the stop tokens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import small_config

PAIRS = [("Which element is Leo?", "Fire."), ("Who rules Aries?", "Fire."), ("Lucky color today?", "Fire."),
         ("Is Cancer a water sign?", "Fire.")]
ADDED = ["<|im_start|>", "<|im_end|>"]


def untied_demo(folder: Path) -> Path:
    """The demo model with an output head of its own (a copy of the tied weights), saved as a local model."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from finetune_studio.core.demo import demo_model_path

    model = AutoModelForCausalLM.from_pretrained(str(demo_model_path()))
    model.config.tie_word_embeddings = False
    model.lm_head.weight = torch.nn.Parameter(model.get_input_embeddings().weight.detach().clone())
    model.save_pretrained(str(folder))
    AutoTokenizer.from_pretrained(str(demo_model_path())).save_pretrained(str(folder))
    return folder


def grown_base(config):
    """The base model as the run prepared it before training: tokens added, embeddings grown (fixed seed)."""
    from finetune_studio.core import chat as chats
    from finetune_studio.core import model as models

    tokenizer = models.load_tokenizer(config.model)
    plan = chats.template_plan(tokenizer, config.chat)
    model = models.load_model(config.model)
    chats.prepare_model(model, tokenizer, plan)
    return model, tokenizer


@pytest.mark.slow
@pytest.mark.parametrize("tied", [True, False])
def test_a_lora_chat_run_trains_the_added_tokens_rows_and_only_those(demo_cache: Path, runs_dir: Path,
                                                                      tmp_path: Path, tied: bool) -> None:
    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig

    from finetune_studio.core.adapters import load_adapter
    from finetune_studio.core.export import export_merged
    from finetune_studio.core.training import run

    path = tmp_path / "chats.jsonl"
    rows = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]} for q, a in PAIRS]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows * 4), encoding="utf-8")
    config = small_config(path, runs_dir, max_steps=3, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False, logging_steps=1, learning_rate=1e-2)
    config.dataset.test_size = 0.0
    config.adapter.method = "lora"
    if not tied:
        config.model.name_or_path = str(untied_demo(tmp_path / "untied"))
    result = run(config)
    assert result.state == "finished"

    before, tokenizer = grown_base(config)
    ids = tokenizer.convert_tokens_to_ids(ADDED)
    vocab = before.get_input_embeddings().weight.shape[0]
    assert vocab == len(tokenizer) and all(i >= vocab - len(ADDED) for i in ids)  # they were added, not found
    assert (before.get_output_embeddings().weight is before.get_input_embeddings().weight) is tied
    others = torch.ones(vocab, dtype=torch.bool)
    others[ids] = False

    saved = json.loads((result.model_dir / "adapter_config.json").read_text(encoding="utf-8"))

    def check(model) -> None:
        for layer in (model.get_input_embeddings(), model.get_output_embeddings()):
            weight = layer.weight.detach()
            start = (before.get_input_embeddings() if layer is model.get_input_embeddings()
                     else before.get_output_embeddings()).weight.detach()
            assert weight.shape == start.shape
            assert torch.equal(weight[others], start[others])  # every other row exactly as the base had it
            for i in ids:  # each added token's row trained
                assert not torch.allclose(weight[i], start[i]), (layer, i)

    # The saved adapter, reloaded on a fresh base (grown to the saved tokenizer's size), carries the trained rows.
    base = AutoModelForCausalLM.from_pretrained(saved["base_model_name_or_path"])
    peft_model = load_adapter(base, result.model_dir).eval()
    merged_here = peft_model.merge_and_unload()
    check(merged_here)
    expected = {"model.embed_tokens": ids} if tied else {"model.embed_tokens": ids, "lm_head": ids}
    assert saved["trainable_token_indices"] == expected

    # The merged export keeps them, and the end of a reply stays a stop token.
    exported = export_merged(result.run_dir, tmp_path / "merged")
    merged = AutoModelForCausalLM.from_pretrained(str(exported.out_dir))
    check(merged)
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    stops = GenerationConfig.from_pretrained(str(exported.out_dir)).eos_token_id
    assert end in (stops if isinstance(stops, list) else [stops])


@pytest.mark.slow
def test_a_stopped_and_resumed_lora_chat_run_matches_an_uninterrupted_one(demo_cache: Path, runs_dir: Path,
                                                                           tmp_path: Path) -> None:
    """The trained token rows are part of the adapter's checkpoint: a resume continues them, bit for bit."""
    import threading

    import torch
    from safetensors.torch import load_file

    from finetune_studio.core.runs import RunFolder
    from finetune_studio.core.training import resume, run

    path = tmp_path / "chats.jsonl"
    rows = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]} for q, a in PAIRS]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows * 8), encoding="utf-8")

    def config(name: str):
        config = small_config(path, runs_dir, max_steps=6, eval_steps=3, save_steps=3, logging_steps=1,
                              load_best_model_at_end=False, learning_rate=1e-2, per_device_train_batch_size=4)
        config.name = name
        config.adapter.method = "lora"
        return config

    def losses(run_dir: Path) -> dict[int, float]:
        return {e["step"]: e["loss"] for e in RunFolder(run_dir).read_metrics() if e["event"] == "log"}

    whole = run(config("straight"))
    stop = threading.Event()
    first = run(config("interrupted"), lambda e: e["event"] == "step" and e["step"] == 2 and stop.set(), stop)
    assert first.state == "stopped" and first.step == 2
    second = resume(first.run_dir)
    assert second.state == "finished"
    expected, got = losses(whole.run_dir), losses(first.run_dir)
    assert sorted(got) == list(range(1, 7))
    for step in range(1, 7):
        assert got[step] == pytest.approx(expected[step], rel=1e-6), step
    a = load_file(str(whole.model_dir / "adapter_model.safetensors"))
    b = load_file(str(second.model_dir / "adapter_model.safetensors"))
    assert any("trainable_tokens_delta" in name for name in a)
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


@pytest.mark.parametrize("tied", [True, False])
@pytest.mark.parametrize(("modules_to_save", "targets", "tied_rows", "untied_rows"), [
    ([], ["all-linear"], ["model.embed_tokens"], ["model.embed_tokens", "lm_head"]),
    (["lm_head"], ["all-linear"], [], ["model.embed_tokens"]),  # a tied head trained whole learns the new rows
    (["embed_tokens"], ["all-linear"], [], ["lm_head"]),
    ([], ["q_proj", "embed_tokens"], [], ["lm_head"]),  # LoRA on the embeddings covers their new rows
    ([], ["q_proj", "lm_head"], [], ["model.embed_tokens"]),
])
def test_the_added_rows_train_where_nothing_else_trains_them(demo_cache: Path, tmp_path: Path, tied: bool,
                                                            modules_to_save: list[str], targets: list[str],
                                                            tied_rows: list[str], untied_rows: list[str]) -> None:
    """Which layers get peft's trainable_token_indices beside the method's own settings, and that each such model
    wraps and back-propagates (a tied head trained whole once made peft fail: it cannot tie token rows to it)."""
    import torch
    from transformers import AutoModelForCausalLM

    from finetune_studio.core import adapters
    from finetune_studio.core.config import default_config
    from finetune_studio.core.demo import demo_model_path

    model = AutoModelForCausalLM.from_pretrained(str(demo_model_path() if tied else untied_demo(tmp_path / "u")))
    vocab = model.get_input_embeddings().weight.shape[0]
    model.resize_token_embeddings(vocab + 2, mean_resizing=False)
    ids = [vocab, vocab + 1]
    config = default_config()
    config.adapter.method = "lora"
    config.adapter.modules_to_save, config.adapter.target_modules = modules_to_save, targets
    rows = adapters.new_token_rows(model, config, ids)
    assert rows == {name: ids for name in (tied_rows if tied else untied_rows)}
    wrapped = adapters.wrap_model(model, config, 0, ids)
    batch = torch.tensor([[1, *ids]])
    wrapped(input_ids=batch, labels=batch).loss.backward()
    assert adapters.new_token_rows(model, config, []) == {}


@pytest.mark.parametrize("tied", [True, False])
def test_the_model_tabs_figures_count_the_added_rows_as_the_training_wrap_does(demo_cache: Path, tmp_path: Path,
                                                                              tied: bool) -> None:
    """The Model tab's figures for a LoRA chat run that adds ChatML's tokens are peft's count (and saved file) of
    the run's own wrap: the grown base with the added rows training beside the adapter. Without the chat settings
    they are the plain figures, fewer by exactly those rows (in the input embeddings, and the head when untied)."""
    from finetune_studio.core import adapters
    from finetune_studio.core import chat as chats
    from finetune_studio.core.adapter_layout import adapter_figures, module_layout
    from finetune_studio.core.config import ChatConfig, default_config

    config = default_config()
    config.adapter.method = "lora"
    if not tied:
        config.model.name_or_path = str(untied_demo(tmp_path / "untied"))
    plain = adapter_figures(config.model, config.adapter)
    figures = adapter_figures(config.model, config.adapter, ChatConfig())

    model, tokenizer = grown_base(config)  # what core.training does before the wrap
    ids = chats.added_token_ids(tokenizer, chats.template_plan(tokenizer, config.chat))
    wrapped = adapters.wrap_model(model, config, 0, ids)
    count = adapters.trainable_count(wrapped)  # the run logs these: "training 39,040 of 231,104 parameters"
    wrapped.save_pretrained(str(tmp_path / "adapter"))

    assert (figures.trainable, figures.total) == (count.trainable, count.total)
    assert figures.percent == pytest.approx(count.percent)
    assert figures.size_bytes == (tmp_path / "adapter" / "adapter_model.safetensors").stat().st_size
    assert figures.added_tokens == tuple(ADDED)
    hidden = model.get_input_embeddings().weight.shape[1]
    layers = 1 if tied else 2  # the head's rows train too when it is not tied to the input embeddings
    assert figures.trainable - plain.trainable == layers * len(ADDED) * hidden
    # the base grows by the rows (a tied head shares them), and the trained copies of the rows come on top
    assert figures.total - plain.total == 2 * layers * len(ADDED) * hidden
    if tied:
        assert (plain.trainable, plain.total, figures.trainable, figures.total) == (38912, 230848, 39040, 231104)
        assert (plain.size_bytes, figures.size_bytes) == (159200, 907784)
        qwen3 = adapter_figures(config.model, config.adapter, ChatConfig(template="qwen3"))  # another template
        assert qwen3.added_tokens == ("<|im_start|>", "<|im_end|>", "<think>", "</think>")
        assert qwen3.trainable == plain.trainable + 4 * hidden
    # counting the grown model leaves the plain model as it was (its cached config is not grown with it)
    config.adapter.r = 8
    smaller = adapter_figures(config.model, config.adapter)
    assert smaller.total == module_layout(config.model).total_params + smaller.trainable


def test_which_rows_a_run_renders_with_a_chat_template() -> None:
    """core.chat.template_chat (the Model tab's figures ask it with the Dataset tab's preview rows) says what the run's
    prepare_dataset decides: chats and alpaca rows take the template, plain text and prompt/completion text do not."""
    from finetune_studio.core.chat import ChatRows, template_chat
    from finetune_studio.core.config import ChatConfig

    chat = ChatConfig()
    messages = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Fire."}]}
    assert template_chat(ChatRows(chat, [messages], ["messages"])) is chat
    alpaca = {"instruction": "Hi", "input": "", "output": "Fire."}
    assert template_chat(ChatRows(chat, [alpaca], list(alpaca))) is chat
    assert template_chat(ChatRows(chat, [{"prompt": "Q: Hi", "completion": " Fire."}], ["prompt", "completion"])) \
        is None
    turns = {"prompt": messages["messages"][:1], "completion": messages["messages"][1:]}
    assert template_chat(ChatRows(chat, [turns], ["prompt", "completion"])) is chat
    assert template_chat(ChatRows(chat, [{"text": "Leo is fire."}], ["text"])) is None
    assert template_chat(ChatRows(ChatConfig(format="text"), [messages], ["messages"])) is None
    assert template_chat(ChatRows(ChatConfig(format="messages"), [], [])) == ChatConfig(format="messages")
