"""core.generate: what is loaded, how prompts render, streaming with stop reasons, the checkpoint comparison."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from finetune_studio.core import answers as saved
from finetune_studio.core import generate as g
from finetune_studio.core.config import ModelConfig, save_config
from finetune_studio.core.errors import ModelError
from tests.helpers import small_config

PROMPTS = ["The eleventh house is busy", "Taurus: You"]


@pytest.fixture(scope="module")
def demo_dir(demo_cache: Path) -> Path:
    from finetune_studio.core.demo import demo_model_path

    return demo_model_path()


@pytest.fixture(scope="module")
def demo_model(demo_dir: Path):
    from finetune_studio.core.model import load_model, load_tokenizer

    config = ModelConfig(name_or_path=str(demo_dir))
    return load_model(config).eval(), load_tokenizer(config)


@pytest.fixture(scope="module")
def trained_run(demo_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo run with three complete checkpoints (4, 8, 12) and a final model."""
    from finetune_studio.core.training import run
    from tests.helpers import SAMPLE

    root = tmp_path_factory.mktemp("generate-run")
    data = root / "small.jsonl"
    data.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:200]) + "\n", encoding="utf-8")
    config = small_config(data, root / "runs", save_steps=4, eval_steps=4, load_best_model_at_end=False)
    config.name = "three-checkpoints"
    result = run(config)
    assert result.state == "finished"
    return Path(result.run_dir)


def plain_greedy(model, tokenizer, prompt: str, max_new_tokens: int) -> str:
    """What a plain model.generate script answers, greedily."""
    import torch

    ids = tokenizer(prompt, return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False,
                             pad_token_id=tokenizer.pad_token_id)
    return tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)


# ---------------------------------------------------------------------------------------------- resolving


def test_a_run_without_checkpoint_or_model_says_what_it_holds(tmp_path: Path) -> None:
    run_dir = tmp_path / "empty-run"
    run_dir.mkdir()
    save_config(small_config(tmp_path / "d.jsonl", tmp_path), run_dir / "config.yaml")
    (run_dir / "checkpoint-3").mkdir()  # no trainer_state.json: cut off while saving
    (run_dir / "metrics.jsonl").write_text("")
    with pytest.raises(g.GenerationError) as caught:
        g.resolve(run_dir)
    message = str(caught.value)
    assert "no final model and no complete checkpoint" in message
    assert "checkpoint-3/" in message and "incomplete" in message and "metrics.jsonl" in message


def test_resolve_picks_final_model_or_the_checkpoint_asked_for(trained_run: Path) -> None:
    assert [t.label for t in g.targets(trained_run)] == ["checkpoint-4", "checkpoint-8", "checkpoint-12",
                                                         "final model"]
    assert g.resolve(trained_run).target.path == trained_run / "model"
    source = g.resolve(trained_run, checkpoint=8)
    assert source.target.path == trained_run / "checkpoint-8" and source.base.name_or_path == "builtin:demo"
    assert source.chat is False  # the demo recipe is a text run
    assert g.resolve(trained_run / "checkpoint-4").target.step == 4
    with pytest.raises(g.GenerationError, match="no complete checkpoint 5.*4, 8 or 12"):
        g.resolve(trained_run, checkpoint=5)


def test_a_model_folder_that_fails_to_load_says_which(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "qwen3"}')
    (folder / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(g.GenerationError) as caught:  # found from the files, before anything loads
        g.resolve(folder)
    assert str(caught.value) == (f"The model folder {folder} cannot load: its model.safetensors is cut short or not "
                                 "a safetensors file. To fix: save the model there again, or pick another folder.")
    with pytest.raises(ModelError, match=str(folder)):  # what the files do not show, loading says
        g.load_weights(ModelConfig(name_or_path=str(folder)), "cpu")


@pytest.fixture(scope="module")
def exported_lora_run(demo_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished LoRA run with both exports where `finetune-studio export` puts them by default: inside the run
    folder, as export-merged/ and export-adapter/."""
    from finetune_studio.core.export import export_adapter, export_merged
    from tests.helpers import lora_run

    run_dir = lora_run(tmp_path_factory.mktemp("generate-export"), "lora-exported", rows=64, max_steps=2)
    assert export_merged(run_dir).out_dir == run_dir / "export-merged"
    assert export_adapter(run_dir).out_dir == run_dir / "export-adapter"
    return run_dir


def test_an_export_inside_its_run_folder_loads_as_the_model_folder_it_is(exported_lora_run: Path) -> None:
    """`export RUN --merged` writes RUN/export-merged; `generate RUN/export-merged` refused it ("is not a complete
    checkpoint or final model of lora. To fix: pick one of final model") while a copy elsewhere loaded."""
    merged = g.resolve(exported_lora_run / "export-merged")
    assert merged.target.path == exported_lora_run / "export-merged" and merged.run_dir is None
    assert merged.base is None and merged.adapter is False and merged.chat is False
    adapter = g.resolve(exported_lora_run / "export-adapter")
    assert adapter.target.path == exported_lora_run / "export-adapter" and adapter.adapter is True
    named = json.loads((exported_lora_run / "export-adapter" / "adapter_config.json").read_text())
    assert adapter.base.name_or_path == named["base_model_name_or_path"]
    with pytest.raises(g.InputError, match="--checkpoint needs a run folder"):
        g.resolve(exported_lora_run / "export-merged", checkpoint=2)


@pytest.mark.slow
def test_cli_answers_with_the_exports_inside_the_run_folder(exported_lora_run: Path, tmp_path: Path,
                                                             capsys) -> None:
    """The merged export answers as plain transformers does with that folder, and as the same folder copied
    elsewhere; the adapter export answers as the run itself (the same adapter on the same base)."""
    import shutil

    from finetune_studio.core.model import load_model, load_tokenizer

    merged = exported_lora_run / "export-merged"
    flags = ["--prompt", PROMPTS[1], "--max-new-tokens", "8", "--greedy"]
    code, out, err = cli(capsys, str(merged), *flags)
    assert code == 0, err
    folder = ModelConfig(name_or_path=str(merged))
    assert out == plain_greedy(load_model(folder).eval(), load_tokenizer(folder), PROMPTS[1], 8) + "\n"
    copy = tmp_path / "merged-elsewhere"
    shutil.copytree(merged, copy)
    assert cli(capsys, str(copy), *flags)[:2] == (0, out)
    code, from_adapter, err = cli(capsys, str(exported_lora_run / "export-adapter"), *flags)
    assert code == 0, err
    assert (code, from_adapter) == cli(capsys, str(exported_lora_run), *flags)[:2]


def test_a_folder_of_a_run_that_is_none_of_its_models_says_which_are(trained_run: Path, tmp_path: Path) -> None:
    """A checkpoint cut off while saving is still refused though its weights are there (only trainer_state.json,
    written last, is missing), and the models to pick instead are named in words: "pick one of final model" was
    said for a run with one model."""
    import shutil

    run_dir = _copy_run(trained_run, tmp_path)
    shutil.copytree(run_dir / "checkpoint-12", run_dir / "checkpoint-16")
    (run_dir / "checkpoint-16" / "trainer_state.json").unlink()
    with pytest.raises(g.InputError) as caught:
        g.resolve(run_dir / "checkpoint-16")
    assert str(caught.value) == (
        f"{run_dir / 'checkpoint-16'} is not a complete checkpoint or the final model of {run_dir.name} (a "
        "checkpoint cut off while saving, or a folder with no config.json or adapter_config.json). To fix: give the "
        f"run folder {run_dir}, or one of its models: checkpoint-4/, checkpoint-8/, checkpoint-12/ or model/ (the "
        "final model).")
    for name in ("checkpoint-4", "checkpoint-8", "checkpoint-12", "checkpoint-16"):
        shutil.rmtree(run_dir / name)
    (run_dir / "logs").mkdir()
    with pytest.raises(g.InputError) as caught:
        g.resolve(run_dir / "logs")
    assert str(caught.value).endswith(f"To fix: give the run folder {run_dir}, or its only model: model/ (the final "
                                      "model).")
    with pytest.raises(g.InputError) as caught:
        g.resolve(run_dir, checkpoint=99)
    assert str(caught.value).startswith(f"The run {run_dir.name} has no complete checkpoint at all, so --checkpoint "
                                        "99 has none to pick (it holds ")
    assert str(caught.value).endswith(". To fix: leave out --checkpoint to use its final model.")


def test_a_checkpoint_the_run_does_not_have_names_the_ones_it_has(trained_run: Path, tmp_path: Path) -> None:
    import shutil

    with pytest.raises(g.InputError) as caught:
        g.resolve(trained_run, checkpoint=99)
    assert str(caught.value) == (f"The run {trained_run.name} has no complete checkpoint 99. To fix: give one of its "
                                 "checkpoints: 4, 8 or 12.")
    run_dir = _copy_run(trained_run, tmp_path)
    shutil.rmtree(run_dir / "checkpoint-4")
    shutil.rmtree(run_dir / "checkpoint-8")
    with pytest.raises(g.InputError) as caught:
        g.resolve(run_dir, checkpoint=99)
    assert str(caught.value) == (f"The run {run_dir.name} has no complete checkpoint 99. To fix: give --checkpoint "
                                 "12, its only complete checkpoint.")


# ---------------------------------------------------------------------------------------------- rendering


def test_text_runs_continue_the_prompt_and_chat_runs_use_the_template(demo_model) -> None:
    _, tokenizer = demo_model
    assert g.render(tokenizer, "Leo: the stars", chat=False).text == "Leo: the stars"
    history = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    rendered = g.render(tokenizer, "and now?", chat=True, history=history, system="Be brief.", template=g.CHATML)
    assert rendered.text == ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
                             "<|im_start|>assistant\nhello<|im_end|>\n<|im_start|>user\nand now?<|im_end|>\n"
                             "<|im_start|>assistant\n")
    assert rendered.add_special_tokens is False
    with pytest.raises(g.GenerationError, match="empty"):
        g.render(tokenizer, "   ", chat=False)


def test_a_chat_run_without_a_saved_template_renders_as_the_chat_core_trains(demo_model) -> None:
    from finetune_studio.core.chat import resolve_template
    from finetune_studio.core.config import ChatConfig

    _, tokenizer = demo_model
    assert not getattr(tokenizer, "chat_template", None)
    expected = resolve_template(tokenizer, ChatConfig())[0]
    assert g.chat_template(tokenizer, ChatConfig()) == expected
    rendered = g.render(tokenizer, "hi", chat=True, template=g.chat_template(tokenizer, ChatConfig()))
    assert rendered.text == tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False,
                                                          add_generation_prompt=True, chat_template=expected)


def test_settings_default_from_generation_config() -> None:
    from transformers import GenerationConfig

    settings = g.GenerationSettings.from_generation_config(
        GenerationConfig(do_sample=True, temperature=0.6, top_p=0.95, top_k=20))
    assert (settings.do_sample, settings.temperature, settings.top_p, settings.top_k) == (True, 0.6, 0.95, 20)
    assert settings.max_new_tokens == 128 and settings.greedy().do_sample is False


# ---------------------------------------------------------------------------------------------- streaming


def test_greedy_streaming_answers_what_plain_generate_answers(demo_model) -> None:
    model, tokenizer = demo_model
    chunks: list[str] = []
    settings = g.GenerationSettings(max_new_tokens=24, repetition_penalty=1.3)
    answer = g.stream_answer(model, tokenizer, g.Rendered(PROMPTS[0]), settings, on_text=chunks.append)
    import torch

    ids = tokenizer(PROMPTS[0], return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(**ids, max_new_tokens=24, do_sample=False, repetition_penalty=1.3,
                             pad_token_id=tokenizer.pad_token_id)
    expected = tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    assert answer.text == expected and "".join(chunks) == expected and len(chunks) > 1
    assert answer.tokens == out.shape[1] - ids["input_ids"].shape[1]
    assert answer.prompt_tokens == ids["input_ids"].shape[1] and answer.tokens_per_s > 0
    assert answer.first_token_s is not None and answer.first_token_s <= answer.seconds


def test_the_first_text_shows_at_its_token_and_later_text_comes_together(demo_model) -> None:
    """The stream hands on an answer's text at the first token that shows any (not at the next space, as
    TextIteratorStreamer does), holds a half character back, and merges what comes within the interval."""
    import torch

    _, tokenizer = demo_model
    pieces: list[str] = []
    stream = g._TextStream(tokenizer, pieces.append, interval_s=3600)
    stream.put(torch.tensor([[701, 1242]]))  # the prompt: never shown
    assert pieces == []
    stream.put(torch.tensor([128]))  # the first byte of "é": nothing to show yet
    assert pieces == [] and stream.first is None
    stream.put(torch.tensor([103]))
    assert pieces == ["é"] and stream.first is not None  # at once, with no space after it
    for token in (221, 159, 247, 226, 0):  # " ☃" and the end-of-text token, within the interval
        stream.put(torch.tensor([token]))
    assert pieces == ["é"]
    stream.end()
    assert pieces == ["é", " ☃"]
    assert "".join(pieces) == tokenizer.decode([128, 103, 221, 159, 247, 226, 0], skip_special_tokens=True)
    every: list[str] = []
    stream = g._TextStream(tokenizer, every.append, interval_s=0)
    stream.put(torch.tensor([[701]]))
    for token in (1242, 369, 302):
        stream.put(torch.tensor([token]))
    stream.end()
    assert every == [" eleventh", " house", " is"]


def test_streaming_generates_in_the_calling_thread(demo_model) -> None:
    model, tokenizer = demo_model
    threads: set[int] = set()
    answer = g.stream_answer(model, tokenizer, g.Rendered("Aries"), g.GenerationSettings(max_new_tokens=6),
                             on_text=lambda _t: threads.add(threading.get_ident()), interval_s=0)
    assert answer.tokens == 6 and threads == {threading.get_ident()}  # no helper thread, no queue


def test_stop_reasons_max_tokens_eos_and_user(demo_model) -> None:
    model, tokenizer = demo_model
    capped = g.stream_answer(model, tokenizer, g.Rendered("Aries"), g.GenerationSettings(max_new_tokens=3))
    assert capped.tokens == 3 and capped.stop_reason is g.StopReason.MAX_TOKENS
    ended = g.stream_answer(model, tokenizer, g.Rendered(PROMPTS[0]), g.GenerationSettings(max_new_tokens=400))
    assert ended.stop_reason is g.StopReason.EOS and ended.tokens < 400
    stop = threading.Event()
    sampled = g.GenerationSettings(do_sample=True, temperature=1.5, top_k=0, max_new_tokens=400, seed=3)
    stopped = g.stream_answer(model, tokenizer, g.Rendered("Aries"), sampled, stop, on_text=lambda _t: stop.set())
    assert stopped.stop_reason is g.StopReason.USER and stopped.tokens < 400


def test_max_new_tokens_beyond_the_context_is_clamped_and_said(demo_model) -> None:
    model, tokenizer = demo_model
    answer = g.stream_answer(model, tokenizer, g.Rendered("Aries " * 500), g.GenerationSettings(max_new_tokens=50))
    assert answer.prompt_tokens + answer.tokens <= 512
    assert answer.notes and "clamped to" in answer.notes[0] and "512" in answer.notes[0]
    with pytest.raises(g.GenerationError, match="at most 512"):
        g.stream_answer(model, tokenizer, g.Rendered("Aries " * 900), g.GenerationSettings())


@pytest.mark.parametrize("tokens", [0, -5])
def test_max_new_tokens_below_one_is_refused_with_what_to_do_not_made_one(demo_model, tokens: int) -> None:
    model, tokenizer = demo_model
    with pytest.raises(g.GenerationError, match=rf"^Max new tokens must be at least 1 \(got {tokens}\)\. To fix"):
        g.stream_answer(model, tokenizer, g.Rendered("Aries"), g.GenerationSettings(max_new_tokens=tokens))


def test_sampling_with_a_seed_repeats_its_answer(demo_model) -> None:
    model, tokenizer = demo_model
    settings = g.GenerationSettings(do_sample=True, temperature=1.3, max_new_tokens=20, seed=7)
    first = g.stream_answer(model, tokenizer, g.Rendered("Leo"), settings).text
    assert g.stream_answer(model, tokenizer, g.Rendered("Leo"), settings).text == first
    other = {g.stream_answer(model, tokenizer, g.Rendered("Leo"), g.GenerationSettings(
        do_sample=True, temperature=1.3, max_new_tokens=20, seed=seed)).text for seed in (1, 2, 3)}
    assert other - {first}, "another seed samples another answer"


def test_an_exception_inside_generate_reaches_the_caller_and_the_other_side_answers(demo_dir: Path,
                                                                                     monkeypatch) -> None:
    source = g.Source(g.Target("demo", demo_dir, None), ModelConfig())
    loaded = g.load(source, where="cpu")
    assert loaded.mode == "both" and set(loaded.models) == {"base", "tuned"}

    def boom(*args, **kwargs):
        raise RuntimeError("kernel exploded")

    monkeypatch.setattr(loaded.models["base"], "generate", boom)
    events: list[dict] = []
    answers = g.answer_both(loaded, "Leo", g.GenerationSettings(max_new_tokens=5), sink=events.append)
    assert set(answers) == {"tuned"} and answers["tuned"].tokens > 0
    errors = [e for e in events if e["event"] == "error"]
    assert errors[0]["side"] == "base" and "kernel exploded" in errors[0]["message"]


def test_the_rendered_prompt_follows_each_sides_first_text(demo_dir: Path) -> None:
    """Not before generate: the window would set it while the model reads the prompt."""
    source = g.Source(g.Target("demo", demo_dir, None), ModelConfig())
    loaded = g.load(source, where="cpu")
    events: list[dict] = []
    g.answer_both(loaded, "Leo", g.GenerationSettings(max_new_tokens=5), sink=events.append)
    for side in ("base", "tuned"):
        kinds = [e["event"] for e in events if e.get("side") == side]
        assert kinds[:2] == ["text", "rendered"] and kinds[-1] == "answer" and kinds.count("rendered") == 1
        assert next(e["text"] for e in events if e.get("side") == side and e["event"] == "rendered") == "Leo"


def test_one_after_the_other_when_both_do_not_fit(demo_dir: Path) -> None:
    source = g.Source(g.Target("demo", demo_dir, None), ModelConfig())
    loaded = g.load(source, where="cpu", free=g.weights_bytes(demo_dir))  # room for one copy only
    assert loaded.mode == "one after the other" and set(loaded.models) == {"tuned"}
    assert "one after the other" in loaded.notes[0]
    events: list[dict] = []
    answers = g.answer_both(loaded, "Leo", g.GenerationSettings(max_new_tokens=6), sink=events.append)
    assert set(answers) == {"base", "tuned"} and answers["base"].text == answers["tuned"].text  # same weights
    assert len(loaded.models) == 1, "never two copies at once"
    assert any(e["event"] == "progress" and "Loading the base model" in e["text"] for e in events)


def test_adapter_runs_load_the_base_once_and_switch_the_adapter_off_for_it(demo_model, demo_dir: Path,
                                                                             tmp_path: Path) -> None:
    import torch
    from peft import LoraConfig, get_peft_model

    from finetune_studio.core.model import load_model

    torch.manual_seed(0)
    peft_model = get_peft_model(load_model(ModelConfig(name_or_path=str(demo_dir))),
                                LoraConfig(r=8, target_modules="all-linear", init_lora_weights=False))
    folder = tmp_path / "adapter"
    peft_model.save_pretrained(str(folder))
    demo_model[1].save_pretrained(str(folder))
    assert json.loads((folder / "adapter_config.json").read_text())["base_model_name_or_path"]
    source = g.resolve(folder)
    assert source.adapter and source.base is not None
    loaded = g.load(source, where="cpu")
    assert loaded.mode == "adapter" and list(loaded.models) == ["tuned"]  # one copy of the weights
    settings = g.GenerationSettings(max_new_tokens=12)
    answers = g.answer_both(loaded, "Aries", settings)
    base_model, tokenizer = demo_model
    assert answers["base"].text == plain_greedy(base_model, tokenizer, "Aries", 12)
    assert answers["tuned"].text == plain_greedy(peft_model.eval(), tokenizer, "Aries", 12)
    assert answers["tuned"].text != answers["base"].text


# ---------------------------------------------------------------------------------------------- comparing


@pytest.mark.slow
def test_compare_checkpoints_fills_the_table_and_writes_each_answer(trained_run: Path) -> None:
    events: list[dict] = []
    table = g.compare_checkpoints(trained_run, PROMPTS, g.GenerationSettings(max_new_tokens=10, do_sample=True),
                                  sink=events.append, where="cpu")
    assert table.prompts == PROMPTS
    assert table.models == ["base", "checkpoint-4", "checkpoint-8", "checkpoint-12", "final"]
    records = saved.read_answers(trained_run)
    assert len(records) == len(PROMPTS) * 5 and [e["event"] for e in events].count("answer") == 10
    assert all(r["settings"]["do_sample"] is False for r in records), "the comparison is greedy"
    from finetune_studio.core.model import load_model, load_tokenizer

    tokenizer = load_tokenizer(ModelConfig(name_or_path=str(trained_run / "model")))
    checkpoint = load_model(ModelConfig(name_or_path=str(trained_run / "checkpoint-8"))).eval()
    assert table.answer(PROMPTS[1], "checkpoint-8") == plain_greedy(checkpoint, tokenizer, PROMPTS[1], 10)
    again = saved.answer_table(saved.read_answers(trained_run), PROMPTS)
    assert again.cells == table.cells


def test_answers_file_skips_a_cut_off_line_and_keeps_the_latest_answer(tmp_path: Path) -> None:
    saved.append_answer(tmp_path, {"prompt": "p", "model": "checkpoint-2", "answer": "old"})
    saved.append_answer(tmp_path, {"prompt": "p", "model": "base", "answer": "b"})
    saved.append_answer(tmp_path, {"prompt": "p", "model": "checkpoint-2", "answer": "new"})
    with (tmp_path / saved.ANSWERS_FILE).open("a") as handle:
        handle.write('{"prompt": "p", "mod')
    table = saved.answer_table(saved.read_answers(tmp_path))
    assert table.models == ["base", "checkpoint-2"] and table.answer("p", "checkpoint-2") == "new"


# ---------------------------------------------------------------------------------------------- the command line


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    from finetune_studio.core.cli import main

    code = main(["generate", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_cli_streams_the_final_model_a_checkpoint_or_the_base(trained_run: Path, demo_model, capsys) -> None:
    from finetune_studio.core.model import load_model, load_tokenizer

    tokenizer = load_tokenizer(ModelConfig(name_or_path=str(trained_run / "model")))
    code, out, err = cli(capsys, str(trained_run), "--prompt", PROMPTS[0], "--max-new-tokens", "8", "--greedy")
    final = load_model(ModelConfig(name_or_path=str(trained_run / "model"))).eval()
    assert code == 0 and out == plain_greedy(final, tokenizer, PROMPTS[0], 8) + "\n"
    assert "tokens/s · stopped: " in err
    code, out, _ = cli(capsys, str(trained_run), "--checkpoint", "4", "--prompt", PROMPTS[1], "--max-new-tokens", "8")
    checkpoint = load_model(ModelConfig(name_or_path=str(trained_run / "checkpoint-4"))).eval()
    assert code == 0 and out == plain_greedy(checkpoint, tokenizer, PROMPTS[1], 8) + "\n"
    code, out, _ = cli(capsys, str(trained_run), "--base", "--prompt", PROMPTS[1], "--max-new-tokens", "8")
    assert code == 0 and out == plain_greedy(*demo_model, PROMPTS[1], 8) + "\n"


def test_cli_prompts_file_and_rendered_prompt(demo_dir: Path, tmp_path: Path, capsys) -> None:
    prompts = tmp_path / "prompts.yaml"
    prompts.write_text("prompts:\n- Aries\n- Leo\n")
    code, out, err = cli(capsys, str(demo_dir), "--prompts", str(prompts), "--max-new-tokens", "3",
                         "--show-prompt")
    assert code == 0 and out.splitlines()[0] == "> Aries" and "> Leo" in out.splitlines()
    assert err.count("--- rendered prompt ---") == 2 and err.count("[3 tokens") == 2


def test_cli_bad_input_says_what_to_do(demo_dir: Path, tmp_path: Path, capsys) -> None:
    code, _, err = cli(capsys, str(demo_dir), "--prompt", "  ")
    assert code == 2 and "The prompt is empty" in err and "Loading" not in err  # refused before loading
    code, _, err = cli(capsys, str(tmp_path), "--prompt", "hi")
    assert code == 2 and "neither a run folder" in err
    code, _, err = cli(capsys, str(demo_dir), "--base", "--prompt", "hi")
    assert code == 2 and "no base model" in err


def test_cli_notes_that_system_is_for_chat_runs_on_a_text_run_folder(trained_run: Path, capsys) -> None:
    """`--system` on a text run is not used: said on stderr (the answer is the same as without it), not an error."""
    code, out, err = cli(capsys, str(trained_run), "--prompt", "Leo", "--system", "Be brief.", "--greedy",
                         "--max-new-tokens", "4")
    assert code == 0 and err.splitlines()[0] == (f"note: --system is not used: {trained_run.name} is a text run, "
                                                 "which continues the prompt as written; a system prompt is for chat "
                                                 "runs.")
    assert (0, out) == cli(capsys, str(trained_run), "--prompt", "Leo", "--greedy", "--max-new-tokens", "4")[:2]


def test_cli_prints_the_saved_answers(tmp_path: Path, capsys) -> None:
    save_config(small_config(tmp_path / "d.jsonl", tmp_path), tmp_path / "config.yaml")
    saved.append_answer(tmp_path, {"prompt": "Leo", "model": "checkpoint-2", "answer": "a bright week"})
    saved.append_answer(tmp_path, {"prompt": "Leo", "model": "base", "answer": "the the"})
    code, out, _ = cli(capsys, str(tmp_path), "--answers")
    assert code == 0 and out.splitlines()[:3] == ["> Leo", "  [base] the the", "  [checkpoint-2] a bright week"]


@pytest.mark.slow
def test_a_lora_chat_run_that_added_tokens_loads_and_answers(demo_cache: Path, tmp_path: Path) -> None:
    """A chat run on the demo model adds ChatML's tokens and saves its embeddings at the grown size: the Try tab
    loads its adapter on a base grown to match (core.adapters.load_adapter), for the final model and a
    checkpoint alike, where peft alone refused the sizes."""
    from finetune_studio.core.training import run

    path = tmp_path / "chats.jsonl"
    rows = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": "Fire."}]}
            for q in ("Which element is Leo?", "Who rules Aries?", "Lucky color today?", "Is Cancer a water sign?")]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows * 4), encoding="utf-8")
    config = small_config(path, tmp_path / "runs", max_steps=2, eval_strategy="no", save_strategy="steps",
                          save_steps=1, load_best_model_at_end=False, logging_steps=1)
    config.dataset.test_size = 0.0
    config.adapter.method = "lora"
    result = run(config)
    assert result.state == "finished"
    settings = g.GenerationSettings(max_new_tokens=4)
    for checkpoint in (None, 1):
        source = g.resolve(result.run_dir, checkpoint)
        assert source.adapter and source.chat
        loaded = g.load(source, where="cpu")
        assert loaded.mode == "adapter"
        answers = g.answer_both(loaded, "Which element is Leo?", settings)
        assert set(answers) == {"base", "tuned"} and answers["tuned"].tokens > 0
    table = g.compare_checkpoints(result.run_dir, ["Who rules Aries?"], settings)
    assert table


@pytest.mark.slow
def test_the_base_of_a_full_chat_run_that_added_tokens_answers(demo_cache: Path, tmp_path: Path) -> None:
    """A full fine-tuning chat run grows the demo model's embeddings for ChatML's two added tokens; its base model,
    loaded as the hub/demo config says, has 1457 rows, and the chat prompt rendered for both sides holds the added
    ids: the base must grow to the run's tokenizer (it raised IndexError in the embedding lookup on every prompt),
    side by side and one after the other alike."""
    from finetune_studio.core.training import run

    path = tmp_path / "chats.jsonl"
    rows = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": "Fire."}]}
            for q in ("Which element is Leo?", "Who rules Aries?")]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows * 4), encoding="utf-8")
    config = small_config(path, tmp_path / "runs", max_steps=1, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False)
    config.dataset.test_size = 0.0
    result = run(config)
    assert result.state == "finished"
    source = g.resolve(result.run_dir)
    assert source.chat and not source.adapter
    settings = g.GenerationSettings(max_new_tokens=3)
    for free in (None, 0):  # both loaded; then too little memory: one after the other
        loaded = g.load(source, where="cpu", free=free)
        assert loaded.mode == ("both" if free is None else "one after the other")
        assert len(loaded.tokenizer) == 1459
        events: list[dict] = []
        answers = g.answer_both(loaded, "Which element is Leo?", settings, sink=events.append)
        assert [e for e in events if e["event"] == "error"] == []
        assert answers["base"].tokens == 3 and answers["tuned"].tokens == 3
        with loaded.model_for("base") as base:
            assert base.get_input_embeddings().weight.shape[0] == 1459


# ---------------------------------------------------------------------------------------------- damaged models


def _copy_run(trained_run: Path, tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / trained_run.name
    shutil.copytree(trained_run, copy, ignore=shutil.ignore_patterns("optimizer.pt", "*.lock"))
    config = (copy / "config.yaml").read_text(encoding="utf-8")
    (copy / "config.yaml").write_text(config.replace(str(trained_run.parent), str(tmp_path)), encoding="utf-8")
    return copy


def _truncate(path: Path, cut: int = 4096) -> None:
    """The file cut short by `cut` bytes, as a full disk or an interrupted copy leaves it: its header whole."""
    data = path.read_bytes()
    path.write_bytes(data[:-cut])


def test_damage_finds_what_stops_a_model_folder_from_loading(tmp_path: Path) -> None:
    """Found from the files alone: a config.json that is not JSON, no weights, a safetensors file cut short (its
    header says its tensors end past the file's end) or not one at all, a shard the index names that is gone."""
    import torch
    from safetensors.torch import save_file

    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "gpt2"}', encoding="utf-8")
    assert g.damage(folder) == "it holds no weights (model*.safetensors)"
    save_file({"w": torch.zeros(64, 64)}, str(folder / "model.safetensors"))
    assert g.damage(folder) is None
    _truncate(folder / "model.safetensors")
    assert g.damage(folder) == "its model.safetensors is cut short (smaller than its tensors)"
    (folder / "model.safetensors").write_bytes(b"not a safetensors file at all")
    assert g.damage(folder) == "its model.safetensors is cut short or not a safetensors file"
    save_file({"w": torch.zeros(2)}, str(folder / "model.safetensors"))
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"w": "model-00002.safetensors"}}))
    assert g.damage(folder) == "its weights file model-00002.safetensors is missing"
    (folder / "model.safetensors.index.json").unlink()
    (folder / "config.json").write_text('{"model_type": ', encoding="utf-8")
    assert g.damage(folder).startswith("its config.json cannot be read (")
    adapter = tmp_path / "a"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}", encoding="utf-8")
    assert g.damage(adapter) == "it holds no weights (adapter_model.safetensors)"


def test_a_damaged_final_model_falls_back_to_the_latest_whole_checkpoint(trained_run: Path, tmp_path: Path) -> None:
    """The tester's run: the final model's config.json broken by hand and checkpoint-12's weights cut short. The
    run folder answers with checkpoint-8 and says why; asked for by name, a damaged one is refused with what is
    wrong and which are whole (it was blamed on the tokenizer: "save the tokenizer there again")."""
    run_dir = _copy_run(trained_run, tmp_path)
    (run_dir / "model" / "config.json").write_text("{ broken", encoding="utf-8")
    _truncate(run_dir / "checkpoint-12" / "model.safetensors")
    source = g.resolve(run_dir)
    assert source.target.label == "checkpoint-8"
    assert source.notes[0].startswith(f"{run_dir.name} · final model is damaged: its config.json cannot be read")
    assert source.notes[1] == (f"{run_dir.name} · checkpoint-12 is damaged: its model.safetensors is cut short "
                               "(smaller than its tensors); skipped.")
    assert source.notes[2] == (f"{run_dir.name} has no whole final model; using its latest whole checkpoint, "
                               "checkpoint-8.")
    with pytest.raises(g.GenerationError) as caught:
        g.resolve(run_dir, 12)
    assert str(caught.value) == (f"{run_dir.name} · checkpoint-12 is damaged: its model.safetensors is cut short "
                                 "(smaller than its tensors). To fix: pick a whole one: --checkpoint 4 or 8.")
    with pytest.raises(g.GenerationError) as caught:
        g.resolve(run_dir / "model")
    assert "final model is damaged: its config.json cannot be read" in str(caught.value)


def test_checkpoint_asked_for_on_a_checkpoint_folder_is_refused(trained_run: Path) -> None:
    """`generate RUN/checkpoint-4 --checkpoint 8` answered with checkpoint-4 and said nothing."""
    with pytest.raises(g.GenerationError) as caught:
        g.resolve(trained_run / "checkpoint-4", 8)
    assert str(caught.value).startswith(f"--checkpoint 8 picks a checkpoint of a run folder, and "
                                        f"{trained_run / 'checkpoint-4'} is already one of {trained_run.name}'s models")


def test_compare_skips_a_damaged_checkpoint_and_compares_the_rest(trained_run: Path, tmp_path: Path) -> None:
    """checkpoint-8's weights cut short: the comparison used to end at it (base and checkpoint-4 answered, the
    later ones never); now it says which and why, and the others answer."""
    run_dir = _copy_run(trained_run, tmp_path)
    (run_dir / "answers.jsonl").unlink(missing_ok=True)
    _truncate(run_dir / "checkpoint-8" / "model.safetensors")
    events: list[dict] = []
    table = g.compare_checkpoints(run_dir, ["Leo"], g.GenerationSettings(max_new_tokens=2), sink=events.append,
                                  where="cpu")
    assert table.models == ["base", "checkpoint-4", "checkpoint-12", "final"]
    assert [e["text"] for e in events if e["event"] == "skipped"] == [
        "checkpoint-8 skipped: it is damaged: its model.safetensors is cut short (smaller than its tensors)"]
    assert [r["model"] for r in saved.read_answers(run_dir)] == ["base", "checkpoint-4", "checkpoint-12", "final"]


def test_compare_that_cannot_keep_its_answers_says_so_once_and_goes_on(trained_run: Path, tmp_path: Path) -> None:
    """An answers.jsonl that cannot be written (here a folder in its place; a read-only folder, a full disk) ended
    the comparison ("make the run folder writable"), so the answers not yet made were lost. Now the real cause is
    said once (core.answers.write_problem), and every model answers every prompt, shown, not saved."""
    run_dir = _copy_run(trained_run, tmp_path)
    (run_dir / "answers.jsonl").unlink(missing_ok=True)
    (run_dir / "answers.jsonl").mkdir()
    events: list[dict] = []
    table = g.compare_checkpoints(run_dir, ["Leo"], g.GenerationSettings(max_new_tokens=2), sink=events.append,
                                  where="cpu")
    said = ("The answers are shown but not saved from here on (0 of this comparison's answers were saved before). "
            f"Cannot save answers to {run_dir / 'answers.jsonl'}: a folder is in its place. To fix: move that folder "
            "out of the run folder (or delete it), then compare again.")
    assert [e["text"] for e in events if e["event"] == "unsaved"] == [said] and table.unsaved == said
    assert [e["model"] for e in events if e["event"] == "answer"] == table.models == [
        "base", "checkpoint-4", "checkpoint-8", "checkpoint-12", "final"]


def test_a_side_that_cannot_load_leaves_the_other_to_answer(trained_run: Path, tmp_path: Path) -> None:
    """A run whose base model is gone (moved, a cache cleared): loading was all or nothing, so the fine-tuned model
    could not be tried either and both panes showed the base's error. Now the fine-tuned model answers; the base's
    pane says why at each prompt, and the status says the fine-tuned model answers alone. Both gone: the error."""
    source = g.resolve(trained_run)
    source.base = ModelConfig(name_or_path=str(tmp_path / "moved-away"))
    loaded = g.load(source, where="cpu", free=10**12)
    assert loaded.mode == "both" and set(loaded.models) == {"tuned"} and not loaded.concurrent
    assert loaded.describe().startswith("The base model could not load, so the fine-tuned model answers alone. ")
    assert str(tmp_path / "moved-away") in loaded.failed["base"]
    events: list[dict] = []
    answers = g.answer_both(loaded, "Leo", g.GenerationSettings(max_new_tokens=3), sink=events.append)
    assert set(answers) == {"tuned"} and answers["tuned"].tokens == 3
    assert [(e["side"], e["message"]) for e in events if e["event"] == "error"] == [("base", loaded.failed["base"])]
    (tmp_path / "emptied").mkdir()
    source.target = g.Target("emptied", tmp_path / "emptied", None)
    with pytest.raises(ModelError, match="moved-away"):
        g.load(source, where="cpu", free=10**12)


# ---------------------------------------------------------------------------------------------- a prompt's length


def test_answer_room_is_the_one_rule_for_a_prompts_length() -> None:
    """No room for one answer token: refused (PromptTooLong, with the figures); less room than asked: clamped and
    said; a context that is not known: as asked."""
    assert g.answer_room(10, 512, 128) == (128, [])
    assert g.answer_room(500, 512, 128) == (12, ["Max new tokens clamped to 12: the model reads at most 512 tokens "
                                                 "and the prompt takes 500."])
    assert g.answer_room(511, 512, 128)[0] == 1
    assert g.answer_room(5000, None, 128) == (128, [])
    with pytest.raises(g.PromptTooLong) as info:
        g.answer_room(512, 512, 1)
    assert (info.value.tokens, info.value.limit) == (512, 512)
    assert str(info.value) == ("The prompt is 512 tokens long; this model reads at most 512. To fix: shorten "
                               "it.")  # no conversation to start anew: answer_both says that for a chat with turns


def test_stream_answer_refuses_by_the_same_rule(demo_model) -> None:
    model, tokenizer = demo_model
    rendered = g.Rendered("Aries " * 900)
    with pytest.raises(g.PromptTooLong) as info:
        g.stream_answer(model, tokenizer, rendered, g.GenerationSettings())
    assert (info.value.tokens, info.value.limit) == (g.prompt_length(tokenizer, rendered), 512)


def _config_folder(root: Path, demo_dir: Path, positions: int) -> Path:
    """A model folder holding only a config.json: the demo's, with another context length."""
    root.mkdir()
    config = json.loads((demo_dir / "config.json").read_text(encoding="utf-8"))
    (root / "config.json").write_text(json.dumps({**config, "max_position_embeddings": positions}), encoding="utf-8")
    return root


def test_prompts_are_measured_before_loading_against_the_side_that_answers(demo_dir: Path, tmp_path: Path,
                                                                           monkeypatch) -> None:
    """The context comes from config.json (no weights read): the fine-tuned folder's own for a full model, the
    base's for the base and for an adapter, whose folder has none."""
    monkeypatch.setattr(g, "load_weights", lambda *_a, **_k: pytest.fail("weights were loaded"))
    tuned = _config_folder(tmp_path / "tuned", demo_dir, 64)
    base = ModelConfig(name_or_path=str(demo_dir))
    full = g.Source(g.Target("final model", tuned, None), base)
    tokenizer = g.load_tokenizer(g.Source(g.Target("demo", demo_dir, None), None))
    assert g.side_context_length(full, g.TUNED, tokenizer) == 64
    assert g.side_context_length(full, g.BASE, tokenizer) == 512
    adapter_dir = tmp_path / "adapter"
    adapter_dir.mkdir()
    (adapter_dir / g.ADAPTER_FILE).write_text("{}", encoding="utf-8")
    adapter = g.Source(g.Target("final model", adapter_dir, None), base)
    assert g.side_context_length(adapter, g.TUNED, tokenizer) == 512
    alone = g.Source(g.Target("tuned", tuned, None), None)
    assert g.side_context_length(alone, g.BASE, tokenizer) is None
    unreadable = g.Source(g.Target("x", tmp_path / "gone", None), None)
    assert g.side_context_length(unreadable, g.TUNED, tokenizer) is None  # left to loading, which says why

    prompts = ["Aries", "word " * 40, "Leo"]  # 82 tokens: past the fine-tuned model's 64, within the base's 512
    found = g.prompt_problems(full, tokenizer, prompts, g.TUNED)
    assert [(number, exc.tokens, exc.limit) for number, exc in found] == [(2, 82, 64)]
    assert g.prompt_problems(full, tokenizer, prompts, g.BASE) == []


def test_a_chat_runs_prompt_is_measured_as_its_template_renders_it(demo_dir: Path, tmp_path: Path) -> None:
    """A chat run reads the system prompt and the template's markers too: those tokens count."""
    tuned = _config_folder(tmp_path / "tuned", demo_dir, 64)
    chat = g.Source(g.Target("final model", tuned, None), ModelConfig(name_or_path=str(demo_dir)), chat=True)
    tokenizer = g.load_tokenizer(chat)
    prompt = "word " * 40
    rendered = g.render(tokenizer, prompt, chat=True, system="Be brief.", template=g.chat_template(tokenizer, None))
    [(number, exc)] = g.prompt_problems(chat, tokenizer, [prompt], g.TUNED, system="Be brief.")
    assert (number, exc.tokens, exc.limit) == (1, g.prompt_length(tokenizer, rendered), 64)
    assert exc.tokens > g.prompt_length(tokenizer, g.Rendered(prompt))
