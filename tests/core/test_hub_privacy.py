"""What reaches the Hub, and what a config may carry (issue 12, items 11 and 12).

- TrainingArguments' own push (push_to_hub and the hub_* fields) is refused at its field with a pointer to the Hub
  tab, and never passed on to the Trainer: it would upload the whole run folder to a public repository.
- An access token is never written to a config or a run folder, whatever field it comes through.
- The metrics a push uploads name no path of this machine, also inside message text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.config import default_config, load_config, save_config
from tests.hub_fixtures import WRITE, HubClient, client, files_containing, hub, make_finished_run
from tests.hub_server import HubServer


def _problems(config) -> dict[str, str]:
    from finetune_studio.core.validation import validate

    return {p.field: p.message for p in validate(config, check_files=False)}


# ---- item 11: the Trainer's own push is refused, and never passed on -----------------------------------------


def test_push_to_hub_is_refused_at_its_field_with_a_pointer_to_the_hub_tab() -> None:
    config = default_config()
    config.training["push_to_hub"] = True
    problems = _problems(config)
    message = problems["training.push_to_hub"]
    assert "public repository" in message and "whole run folder" in message
    assert "'Push when training ends' on the Hub tab (hub.push_when_done)" in message
    assert "private by default" in message

    config.training["push_to_hub"] = False  # off is what the app does anyway
    assert "training.push_to_hub" not in _problems(config)


@pytest.mark.parametrize(("key", "value", "instead"), [
    ("hub_model_id", "alice/somewhere", "hub.repo_id"),
    ("hub_private_repo", False, "hub.private"),
    ("hub_strategy", "all_checkpoints", "hub.push_when_done"),
    ("hub_always_push", True, "hub.push_when_done"),
    ("hub_revision", "dev", "hub.repo_id"),
])
def test_every_field_of_the_trainers_push_points_to_the_hub_tab(key: str, value: object, instead: str) -> None:
    config = default_config()
    config.training[key] = value
    message = _problems(config)[f"training.{key}"]
    assert "Trainer's own push" in message and "Hub tab" in message and instead in message


def test_library_defaults_of_the_push_fields_are_not_problems() -> None:
    config = default_config()
    config.training.update(push_to_hub=False, hub_strategy="every_save", hub_always_push=False, hub_model_id=None)
    assert not [field for field in _problems(config) if "hub" in field or "push" in field]


def test_training_arguments_never_carry_the_trainers_push_or_a_token(tmp_path: Path) -> None:
    from finetune_studio.core.training import training_arguments

    config = default_config()
    config.training.update(push_to_hub=True, hub_token=WRITE, hub_model_id="alice/x", hub_private_repo=False,
                           hub_strategy="all_checkpoints")
    args = training_arguments(config, tmp_path)
    assert args.push_to_hub is False
    assert args.hub_token is None and args.hub_model_id is None and args.hub_private_repo is None
    assert args.hub_strategy.value == "every_save"
    assert WRITE not in repr(args.__dict__)


# ---- item 11: a token is never written to a config or a run folder -----------------------------------------


def test_hub_token_is_refused_by_validate_with_what_to_do_instead() -> None:
    config = default_config()
    config.training["hub_token"] = WRITE
    message = _problems(config)["training.hub_token"]
    assert "access token" in message and "never saves or uses a token from a config" in message
    assert "Hub → Log in…" in message and "finetune-studio login" in message
    assert WRITE not in message


def test_a_token_in_any_other_field_is_refused_too() -> None:
    config = default_config()
    config.model.revision = WRITE  # pasted into the wrong box
    config.training["run_name"] = f"run with {WRITE}"
    problems = _problems(config)
    for field in ("model.revision", "training.run_name"):
        assert "looks like a Hugging Face access token" in problems[field]
        assert WRITE not in problems[field]


def test_save_config_never_writes_a_token(tmp_path: Path) -> None:
    config = default_config()
    config.training.update(hub_token=WRITE, push_to_hub_token=WRITE, learning_rate=1e-4)
    config.model.revision = WRITE
    path = tmp_path / "run.yaml"
    save_config(config, path)
    text = path.read_text()
    assert WRITE not in text
    assert "hub_token" not in text and "push_to_hub_token" not in text
    loaded = load_config(path)[0]
    assert loaded.training["learning_rate"] == 1e-4  # the rest is kept as it was
    assert loaded.model.revision == "<redacted>"


def test_cli_refuses_the_trainers_push_and_a_token_before_any_run_folder(tmp_path: Path, runs_dir: Path,
                                                                          capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "tutorial.yaml"
    path.write_text("training:\n  push_to_hub: true\n  hub_model_id: alice/horoscopes\n"
                    f"  hub_token: {WRITE}\n")
    assert main(["validate", str(path)]) == 2
    out = capsys.readouterr().out
    assert "problem: training.push_to_hub: push_to_hub makes the Trainer upload the whole run folder" in out
    assert "problem: training.hub_model_id:" in out and "problem: training.hub_token:" in out
    assert WRITE not in out

    assert main(["train", str(path)]) == 2
    captured = capsys.readouterr()
    assert "push_to_hub" in captured.err and WRITE not in captured.out + captured.err
    assert not runs_dir.exists() or not any(runs_dir.iterdir())  # no run folder, no config.yaml with the token


# ---- item 12: no local path in the uploaded metrics ----------------------------------------------------------


def _run_with_local_paths(tmp_path: Path) -> tuple[Path, list[str]]:
    """A finished run whose messages name the dataset file, the demo model's cache folder and the run folder, as a
    real run's do ("Loading dataset /home/…/notes.jsonl", "Model saved to /…/model.")."""
    import os

    from finetune_studio.core.demo import demo_model_path
    from finetune_studio.core.runs import MetricsLog

    data = tmp_path / "private data" / "client notes.jsonl"
    data.parent.mkdir()
    data.write_text('{"horoscope": "x"}\n')
    run = make_finished_run(tmp_path / "runs", name="paths-run", dataset=str(data))
    demo = demo_model_path(build=False)
    log = MetricsLog(run / "metrics.jsonl")
    log.append({"event": "phase", "phase": "data", "message": f"Loading dataset {data}", "time": 21.0})
    log.append({"event": "warning", "source": "transformers", "time": 22.0,
                "message": f"Some weights of {demo} were not initialized from {demo}/model.safetensors"})
    log.append({"event": "notice", "message": f"Model saved to {run / 'model'}.", "time": 23.0,
                "then": [f"see {run}/checkpoint-12", f"file://{tmp_path}/other/thing.txt"]})
    log.append({"event": "warning", "source": "py.warnings", "time": 24.0,
                "message": f"{os.path.expanduser('~')}/.venv/lib/python3.11/site-packages/x.py:3: Warning"})
    log.close()
    private = [str(tmp_path), str(data), str(demo), str(run), os.path.expanduser("~") + "/"]
    return run, private


def test_uploaded_metrics_name_no_local_path(client: HubClient, hub: HubServer, tmp_path: Path) -> None:
    run, private = _run_with_local_paths(tmp_path)
    assert files_containing(run, str(tmp_path).encode()), "the run folder itself keeps its paths"
    assert client.call("login", token=WRITE).ok
    result = client.call("push_run", run_dir=run)
    assert result.ok, result
    uploaded = hub.repos["alice/paths-run"].files["metrics.jsonl"].decode()
    for path in private:
        assert path not in uploaded, path
    events = [json.loads(line) for line in uploaded.splitlines()]
    messages = [e.get("message", "") for e in events]
    # still readable: the file, the folder and the run by name, the demo model as the app calls it
    assert "Loading dataset client notes.jsonl" in messages
    assert "Some weights of builtin:demo were not initialized from builtin:demo/model.safetensors" in messages
    assert "Model saved to paths-run/model." in messages
    [notice] = [e for e in events if e.get("then")]
    assert notice["then"] == ["see paths-run/checkpoint-12", "thing.txt"]
    assert "x.py:3: Warning" in messages
    for name in ("README.md", "loss_curve.svg"):
        assert str(tmp_path) not in hub.repos["alice/paths-run"].files[name].decode()


def test_model_card_hyperparameters_name_no_local_path(tmp_path: Path) -> None:
    from finetune_studio.core.config import save_config as save
    from finetune_studio.core.model_card import render_model_card

    run = make_finished_run(tmp_path / "runs")
    config = load_config(run / "config.yaml")[0]
    config.training["deepspeed"] = str(tmp_path / "secret" / "ds_config.json")
    save(config, run / "config.yaml")
    text = (run / "config.yaml").read_text()  # a run folder written before tokens were refused
    (run / "config.yaml").write_text(text.replace("training:\n", f"training:\n  hub_token: {WRITE}\n", 1))
    card = render_model_card(run)
    assert str(tmp_path) not in card and WRITE not in card and "hub_token" not in card
    assert "| deepspeed | ds_config.json |" in card
