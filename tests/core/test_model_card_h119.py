"""The model card describes the weights it is pushed with (helper-119): with load_best_model_at_end the model
folder holds the best checkpoint's weights, not the last step's, and the card said only the last losses."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from finetune_studio.core.model_card import render_model_card
from tests.helpers import SAMPLE, small_config


def _overfitting_run(tmp_path: Path, name: str, **training: object) -> Path:
    """20 rows at a constant learning rate of 1e-2: the eval loss is lowest at step 5 (~2.54) and higher at 10."""
    from finetune_studio.core.training import run

    data = tmp_path / "rows.jsonl"
    data.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:20]) + "\n", encoding="utf-8")
    config = small_config(data, tmp_path / "runs", max_steps=10, eval_steps=5, save_steps=5, logging_steps=5,
                          learning_rate=1e-2, lr_scheduler_type="constant", **training)
    config.name = name
    result = run(config)
    assert result.state == "finished", result.message
    return Path(result.run_dir)


def _results(card: str) -> list[str]:
    return card[card.index("## Results"):card.index("## Training data")].splitlines()


@pytest.fixture(scope="module")
def best_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _overfitting_run(tmp_path_factory.mktemp("best"), "best")


def test_the_card_says_the_weights_are_the_best_checkpoints(best_run: Path) -> None:
    from safetensors.numpy import load_file

    from tests.helpers import read_events

    evals = {e["step"]: e["eval_loss"] for e in read_events(best_run, "eval")}
    assert sorted(evals) == [5, 10] and evals[5] < evals[10]
    saved = load_file(str(best_run / "model" / "model.safetensors"))
    best = load_file(str(best_run / "checkpoint-5" / "model.safetensors"))
    assert all((saved[k] == best[k]).all() for k in saved)  # the Trainer restored step 5's weights

    card = render_model_card(best_run, repo_id="alice/best")
    results = _results(card)
    assert results[2].startswith("- Steps: 10 of 10")
    assert results[3] == (f"- Weights: those of step 5, the checkpoint with the best eval loss ({evals[5]:.4f}), "
                          "which load_best_model_at_end restored when training ended; the final losses below are "
                          "those of the last steps, not of these weights")
    assert f"- Final eval loss: {evals[10]:.4f}" in results
    assert f"| 5 | {evals[5]:.4f} (these weights) |" in results and f"| 10 | {evals[10]:.4f} |" in results
    assert yaml.safe_load(card.split("---\n")[1])["library_name"] == "transformers"


def test_without_checkpoints_the_best_step_comes_from_the_eval_losses(best_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(best_run, copy, ignore=shutil.ignore_patterns("checkpoint-*"))
    assert "- Weights: those of step 5, the checkpoint with the best eval loss" in render_model_card(copy)


def test_a_run_that_keeps_its_last_weights_says_no_weights_line(tmp_path: Path) -> None:
    run_dir = _overfitting_run(tmp_path, "last", load_best_model_at_end=False)
    card = render_model_card(run_dir)
    assert not any(line.startswith("- Weights:") for line in card.splitlines())
    assert "(these weights)" not in card


def test_the_steps_line_says_how_many_epochs_ran(best_run: Path) -> None:
    """max_steps 10 over 18 training rows at batch size 8 is 3.33 epochs, while num_train_epochs says 1: the card
    listed only 'num_train_epochs | 1' (helper-119)."""
    from tests.helpers import read_events

    epoch = read_events(best_run, "step")[-1]["epoch"]
    assert read_events(best_run, "data")[0]["train_rows"] == 18 and round(epoch, 2) == 3.33
    card = render_model_card(best_run)
    assert _results(card)[2] == "- Steps: 10 of 10 (3.33 epochs)"
    assert "| num_train_epochs | 1 |" in card


def test_a_run_name_with_markdown_characters_is_the_headings_text(tmp_path: Path) -> None:
    """The heading is the run name as typed: '*bold*' was italic, '<draft>' an HTML tag (dropped), '[link](x)' a
    link and a closing ' #' was eaten as the heading's closing sequence (helper-119)."""
    markdown_it = pytest.importorskip("markdown_it")
    from finetune_studio.core.config import load_config, save_config
    from tests.hub_fixtures import make_finished_run

    run_dir = make_finished_run(tmp_path / "runs")
    config, _ = load_config(run_dir / "config.yaml")
    config.name = 'My | run: "x" #1 *bold* <draft> [link](x) `v2` a_b_ & co \\ ~~old~~ #'
    save_config(config, run_dir / "config.yaml")
    card = render_model_card(run_dir)
    heading = next(line for line in card.splitlines() if line.startswith("# "))
    assert heading == ('# My | run: "x" #1 \\*bold\\* \\<draft\\> \\[link\\](x) \\`v2\\` a\\_b\\_ \\& co \\\\ '
                       '\\~\\~old\\~\\~ \\#')
    html = markdown_it.MarkdownIt("commonmark").render(heading + "\n")
    assert html == ('<h1>My | run: &quot;x&quot; #1 *bold* &lt;draft&gt; [link](x) `v2` a_b_ &amp; co \\ ~~old~~ #'
                    '</h1>\n')


def test_the_hyperparameters_list_the_defaults_the_run_trained_with(best_run: Path) -> None:
    """Seed, optimizer, warmup, weight decay, clipping and the eval batch size were missing from the card of a run
    whose config left them out, though they ran (helper-119): the values are the run's own TrainingArguments,
    as the Trainer saved them next to the model."""
    import torch

    ran = torch.load(best_run / "model" / "training_args.bin", weights_only=False)
    card = render_model_card(best_run)
    table = card[card.index("## Hyperparameters"):card.index("## Framework versions")].splitlines()
    assert f"| seed | {ran.seed} (default) |" in table and ran.seed == 42
    assert f"| optim | {ran.optim.value} (default) |" in table
    assert f"| warmup_steps | {ran.warmup_steps} (default) |" in table
    assert f"| weight_decay | {ran.weight_decay} (default) |" in table
    assert f"| max_grad_norm | {ran.max_grad_norm} (default) |" in table
    assert f"| per_device_eval_batch_size | {ran.per_device_eval_batch_size} (default) |" in table
    assert "| lr_scheduler_type | constant |" in table and ran.lr_scheduler_type.value == "constant"  # set: no default
    assert not any(line.startswith("| lr_scheduler_type |") and "(default)" in line for line in table)


@pytest.fixture(scope="module")
def chat_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The chat demo on its first 40 chats as a LoRA run of 4 steps with eval_strategy 'no': split 36 / 4."""
    from finetune_studio.core.config import chat_demo_preset
    from finetune_studio.core.training import run

    root = tmp_path_factory.mktemp("chat")
    chats = root / "chats.jsonl"
    sample = (SAMPLE.parent / "sample_chats.jsonl").read_text(encoding="utf-8")
    chats.write_text("\n".join(sample.splitlines()[:40]) + "\n", encoding="utf-8")
    config = chat_demo_preset()
    config.runs_dir = str(root / "runs")
    config.dataset.source = str(chats)
    config.name = "chat"
    config.adapter.method = "lora"
    config.adapter.r = 4
    config.training.update(max_steps=4, logging_steps=1, eval_strategy="no", save_strategy="no",
                           load_best_model_at_end=False, per_device_train_batch_size=4)
    result = run(config)
    assert result.state == "finished", result.message
    return Path(result.run_dir)


def test_the_builtin_chats_are_named_as_such(tmp_path: Path) -> None:
    """The card called the chat demo's data 'a local dataset (`builtin:chat`)' (helper-119)."""
    from tests.hub_fixtures import make_finished_run

    card = render_model_card(make_finished_run(tmp_path / "runs", dataset="builtin:chat"), repo_id="alice/chat")
    data = next(line for line in card.splitlines() if line.startswith("- Dataset: "))
    assert data.startswith("- Dataset: the builtin sample chat dataset of Finetune Studio (conversations; not on "
                           "the Hub), split `train`")
    assert "builtin:chat" not in card
    assert "datasets" not in yaml.safe_load(card.split("---\n")[1])


def test_a_split_no_evaluation_used_is_not_called_no_split(chat_run: Path) -> None:
    """eval_strategy 'no' with test_size 0.1 held out 4 of 40 chats, which the card called 'no evaluation split';
    the card now says what happened, with the rows as the run's data event logged them (helper-119)."""
    from tests.helpers import read_events

    data = read_events(chat_run, "data")[-1]
    assert (data["train_rows"], data["eval_rows"]) == (36, 4)
    lines = render_model_card(chat_run).splitlines()
    assert "- Final eval loss: n/a (no evaluation ran, though 4 rows were held out for it)" in lines
    assert "- Held out for evaluation: 0.1 (4 rows; 36 trained on)" in lines


def test_a_run_with_no_split_still_says_so(tmp_path: Path) -> None:
    from finetune_studio.core.config import load_config, save_config
    from finetune_studio.core.runs import MetricsLog
    from tests.hub_fixtures import make_finished_run

    run_dir = make_finished_run(tmp_path / "runs")
    config, _ = load_config(run_dir / "config.yaml")
    config.dataset.test_size = 0
    save_config(config, run_dir / "config.yaml")
    log = MetricsLog(run_dir / "metrics.jsonl")
    log.append({"event": "data", "train_rows": 64, "eval_rows": 0, "time": 1.2})
    log.close()
    (run_dir / "metrics.jsonl").write_text("\n".join(line for line in (run_dir / "metrics.jsonl").read_text()
                                                     .splitlines() if '"eval"' not in line) + "\n")
    status = json.loads((run_dir / "status.json").read_text())
    status.pop("eval_loss")
    (run_dir / "status.json").write_text(json.dumps(status))
    lines = render_model_card(run_dir).splitlines()
    assert "- Final eval loss: n/a (no evaluation split)" in lines
    assert "- Held out for evaluation: 0 (0 rows; 64 trained on)" in lines
