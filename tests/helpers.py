"""Small builders the test modules share (fixtures live in tests/conftest.py)."""

from __future__ import annotations

import contextlib
import gc
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "resources" / "sample_horoscopes.jsonl"


def small_config(dataset: Path, runs: Path, **training: object):
    """The demo recipe shrunk to seconds: same collator, model and Trainer, fewer and bigger steps."""
    from finetune_studio.core.config import default_config

    config = default_config()
    config.runs_dir = str(runs)
    config.dataset.source = str(dataset)
    config.dataset.max_length = 64
    config.training.update({
        "num_train_epochs": 1, "max_steps": 12, "per_device_train_batch_size": 8, "gradient_accumulation_steps": 1,
        "learning_rate": 1e-3, "logging_steps": 2, "eval_strategy": "steps", "save_strategy": "steps",
        "eval_steps": 6, "save_steps": 6, "activation_checkpointing": False, **training,
    })
    return config


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now (the kernel's choice): for tests that give torchrun an endpoint of their
    own (the app's one-machine runs let torchrun bind port 0 itself, core.launch.ONE_MACHINE_ENDPOINT)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def lora_run(root: Path, name: str, rows: int, max_steps: int) -> Path:
    """A finished LoRA run (r 4) of the demo recipe on the first `rows` sample rows, in root/runs/name: what the
    export and generate tests load, merge and answer with."""
    from finetune_studio.core.training import run

    data = root / "small.jsonl"
    data.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:rows]) + "\n", encoding="utf-8")
    config = small_config(data, root / "runs", max_steps=max_steps, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False, learning_rate=1e-2)
    config.name = name
    config.adapter.method = "lora"
    config.adapter.r = 4
    result = run(config)
    assert result.state == "finished", result.message
    return Path(result.run_dir)


def stopped_lora_run(root: Path) -> Path:
    """A LoRA r 4 run saving a checkpoint each step, stopped after step 2 of 4, in root/runs/stopped-run: checkpoints
    1 and 2 (each with its optimizer state), no model/. What a push or export of a checkpoint starts from."""
    from finetune_studio.core.training import run

    data = root / "small.jsonl"
    data.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:16]) + "\n", encoding="utf-8")
    config = small_config(data, root / "runs", max_steps=4, eval_strategy="no", save_strategy="steps",
                          save_steps=1, load_best_model_at_end=False, learning_rate=1e-2)
    config.name, config.adapter.method, config.adapter.r = "stopped-run", "lora", 4
    stop = threading.Event()

    def sink(event: dict) -> None:
        if event["event"] == "step" and event["step"] == 2:
            stop.set()

    result = run(config, sink, stop)
    assert result.state == "stopped", result.message
    folder = Path(result.run_dir)
    assert sorted(p.name for p in folder.glob("checkpoint-*")) == ["checkpoint-1", "checkpoint-2"]
    assert not (folder / "model").exists() and (folder / "checkpoint-2" / "optimizer.pt").is_file()
    return folder


@contextlib.contextmanager
def collection_threads() -> Iterator[list[int]]:
    """The threads each garbage collection starts in while the block runs (gc.callbacks are called in the
    collecting thread): what the GUI's and core's collection-owner tests check."""
    seen: list[int] = []

    def record(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(threading.get_ident())

    gc.callbacks.append(record)
    try:
        yield seen
    finally:
        gc.callbacks.remove(record)


def hold_like_another_process(run_dir: Path) -> int:
    """What a CLI run training this folder holds: the flock on run.lock and its record (pid and start time of a
    live process: this one's), with status.json saying running. Returns the lock's descriptor: close it to let go."""
    import fcntl
    import os
    import socket
    import time

    from finetune_studio.core.runs import process_start_time

    fd = os.open(run_dir / "run.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    record = {"state": "held", "pid": os.getpid(), "process_started": process_start_time(os.getpid()),
              "host": socket.gethostname(), "heartbeat": time.time(), "since": time.time()}
    data = json.dumps(record).encode()
    os.pwrite(fd, data, 0)  # over an earlier record from offset 0, and cut to it, as core.runs.RunLock writes: a
    os.ftruncate(fd, len(data))  # longer one's tail left after it made the record unreadable (held by nobody)
    status = json.loads((run_dir / "status.json").read_text())
    (run_dir / "status.json").write_text(json.dumps({**status, "state": "running", "pid": os.getpid()}))
    return fd


def checkpoint(parent: Path, step: int, weights: bool = True) -> Path:
    """parent/checkpoint-<step> as the Trainer leaves a complete save: trainer_state.json, config.json and, with
    `weights`, a tiny but whole model.safetensors, so Resume can continue from it (core.runs' resume_point); without
    them it is the checkpoint whose weights were deleted, which Resume cannot load and does not offer."""
    import numpy as np
    from safetensors.numpy import save_file

    folder = parent / f"checkpoint-{step}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text("{}", encoding="utf-8")
    if weights:
        save_file({"w": np.zeros((2, 2), dtype=np.float32)}, str(folder / "model.safetensors"))
    (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}), encoding="utf-8")  # written last
    return folder


def weight_dtypes(folder: Path) -> set[str]:
    """The dtypes ("F16", "BF16", "F32") of every tensor in the folder's .safetensors files, as stored."""
    from safetensors import safe_open

    found = set()
    for path in folder.glob("*.safetensors"):
        with safe_open(str(path), "pt") as opened:
            found |= {str(opened.get_slice(name).get_dtype()) for name in opened.keys()}
    return found


def title_body_rows(count: int) -> bytes:
    """`count` rows of JSON lines with a title and a body column ("T0", "body text number 0", ...)."""
    return "".join(json.dumps({"title": f"T{i}", "body": f"body text number {i}"}) + "\n"
                   for i in range(count)).encode()


def dataset_config(path: Path, column: str = "text"):
    """The default config's dataset section, reading `path` with `column` as its text column."""
    from finetune_studio.core.config import default_config

    dataset = default_config().dataset
    dataset.source, dataset.text_column = str(path), column
    return dataset


def data_refusal(read, *args: object) -> str:
    """The message of the DataError that read(*args) raises (core.data's readers, checks and previews)."""
    import pytest

    from finetune_studio.core.errors import DataError

    with pytest.raises(DataError) as refused:
        read(*args)
    return str(refused.value)


def read_events(run_dir: Path, kind: str) -> list[dict]:
    """Every event of one kind from a run's metrics.jsonl, in order."""
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()
            if json.loads(line)["event"] == kind]


def shown(qtbot, widget, width: int, height: int):  # qtbot/widget: no Qt import here
    """The widget owned by qtbot, sized and exposed on the (offscreen) screen, for tests that look at it drawn."""
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def window_on_runs(qtbot, runs: Path, monkeypatch):  # no Qt import here: the window's module is imported inside
    """The real main window, shown, on the runs folder `runs`, whose close never asks to save (saved prompts
    modify the config)."""
    from finetune_studio.gui import dialogs
    from finetune_studio.gui.main_window import MainWindow

    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *args: dialogs.SaveChoice.DISCARD)
    made = MainWindow()
    qtbot.addWidget(made)
    made.try_tab.waits_for_stack = False  # no warm-up runs here: the Try tab lists the runs as it shows
    made.session.config.runs_dir = str(runs)
    made.show()
    qtbot.waitExposed(made)
    return made


def update_json(path: Path, **values: object) -> dict:
    """Set `values` in a JSON file (a model's generation_config.json, a tokenizer's config); returns its content."""
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(values)
    path.write_text(json.dumps(data), encoding="utf-8")
    return data


def demo_model_copy(folder: Path, **generation: object) -> Path:
    """A copy of the demo model's real files in `folder` (built first if need be), its generation_config.json
    updated with `generation`."""
    import shutil

    from finetune_studio.core.demo import demo_model_path

    shutil.copytree(demo_model_path(), folder)
    if generation:
        update_json(folder / "generation_config.json", **generation)
    return folder


def delete_last_character(qtbot, form, edit) -> None:  # qtbot/form/edit: no Qt import here
    """The user's one key on a field's shown text: the form shown, the field focused, the cursor at its end and one
    Backspace typed, so the field holds the user's text from then on."""
    form.show()
    qtbot.waitExposed(form)
    edit.setFocus()
    edit.end(False)
    qtbot.keyClick(edit, "\b")


def trl_labels(tokenizer, chat_template: str, rows: list[dict], output_dir: Path) -> list[tuple[list[int], list[int]]]:
    """TRL's SFTTrainer's (input_ids, labels) for `rows` (assistant_only_loss, max_length 1024, the demo model), the
    tokenizer given `chat_template` (and its end-of-text token as pad): what core.chat's labels are compared to."""
    import datasets
    from transformers import AutoModelForCausalLM
    from trl import SFTConfig, SFTTrainer

    from finetune_studio.core.demo import demo_model_path

    tokenizer.chat_template = chat_template
    tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(demo_model_path())
    model.resize_token_embeddings(len(tokenizer))
    args = SFTConfig(output_dir=str(output_dir), max_length=1024, report_to="none", use_cpu=True,
                     shuffle_dataset=False, assistant_only_loss=True)
    trainer = SFTTrainer(model=model, args=args, train_dataset=datasets.Dataset.from_list(rows),
                         processing_class=tokenizer)
    return [(list(r["input_ids"]), list(r["labels"])) for r in trainer.train_dataset]


def app_env(home: Path) -> dict[str, str]:
    """The environment of the app started as a user starts it, offscreen, its home, settings and runs under `home`."""
    import os

    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
            "FINETUNE_STUDIO_RUNS": str(home / "runs")}


def launched_app(driver: str, home: Path, timeout: float = 180) -> dict:
    """What the app, launched in app_env(home) by `driver` (Python that ends in gui.launcher's main), printed as JSON
    on its last stdout line; it must have exited 0."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", driver], cwd=ROOT, env=app_env(home), capture_output=True, text=True,
                         timeout=timeout)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def folder_calls(monkeypatch, *names: str) -> list[str]:  # monkeypatch: pytest's, not imported here
    """Every call to the named folder functions ("os.mkdir", "os.rmdir", "os.makedirs", "tempfile.mkdtemp") from now
    on, in order, as "mkdir PATH" ("mkdtemp DIR": its dir= argument); each still does its work."""
    import importlib

    made: list[str] = []
    for name in names:
        module_name, function = name.split(".")
        module = importlib.import_module(module_name)
        real = getattr(module, function)

        def spy(*args, _real=real, _function=function, **kwargs):
            if _function == "mkdtemp":
                where = kwargs.get("dir")
            else:  # os.mkdir(path), os.rmdir(path), os.makedirs(name)
                where = args[0] if args else kwargs.get("path", kwargs.get("name"))
            made.append(f"{_function} {where}")
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, function, spy)
    return made


def said(yaml_text: str, field: str) -> list[str]:
    """The messages validate() gives at `field` for a config file of `yaml_text` (the message tests' one reading)."""
    from finetune_studio.core.config import from_yaml
    from finetune_studio.core.validation import validate

    config, _notices = from_yaml(yaml_text)
    return [p.message for p in validate(config, check_files=False) if p.field == field]


_AFTER_IMPORT = '''
import importlib.abc, importlib.util, json, os, sys

PATCHES = {patches}


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs PATCHES[name] (code with the imported module as `module`) once module `name` is loaded."""

    def __init__(self):
        self.wanted = {{name for name, code in PATCHES.items() if code}}

    def find_spec(self, name, path, target=None):
        if name not in self.wanted:
            return None
        self.wanted.discard(name)
        if not self.wanted:
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            exec(PATCHES[name], {{"module": module, "os": os, "json": json}})

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _AfterImport())
'''

# A training step that raises `error` (an expression) from step `step` on: what a failing rank does in the tests
# of several processes (a bad batch, out of memory). `when` narrows it (an expression of self, inputs).
FAILING_STEP = '''
step = module.Trainer.training_step

def training_step(self, model, inputs, *args, **kwargs):
    if self.state.global_step >= {step} and ({when}):
        raise {error}
    return step(self, model, inputs, *args, **kwargs)

module.Trainer.training_step = training_step
'''


def after_import_site(folder: Path, **patches: str) -> Path:
    """A sitecustomize.py in `folder` (put it on PYTHONPATH) that runs each patch, code with the module as `module`,
    once the module it is keyed by (dots as "__": transformers__trainer) is imported, in every process started with
    it: how the tests of several processes make one torchrun rank fail. A patch checks os.environ["RANK"] itself."""
    folder.mkdir(parents=True, exist_ok=True)
    named = {name.replace("__", "."): code for name, code in patches.items()}
    (folder / "sitecustomize.py").write_text(_AFTER_IMPORT.format(patches=repr(named)), encoding="utf-8")
    return folder


def failing_step(rank: int | str, step: int, error: str, when: str = "True") -> str:
    """A transformers.trainer patch for after_import_site: rank `rank` (a number, or code for it) raises `error`
    from step `step` on, when `when` holds."""
    guard = f"if os.environ.get('RANK') == str({rank}):\n"
    body = FAILING_STEP.format(step=step, error=error, when=when)
    return guard + "".join(f"    {line}\n" for line in body.strip("\n").splitlines())


# CUDA's out-of-memory error as torch raises it, for failing_step: what the tests of a run too large for its GPU raise.
CUDA_OOM = ('__import__("torch").OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 7.79 GiB '
            'total capacity)")')


def rank_out_of_memory(monkeypatch, folder: Path, rank: int, step: int, when: str = "True") -> None:
    """Processes started from now on (a sitecustomize in `folder`, first on PYTHONPATH) have rank `rank` run out of
    CUDA memory at every step from `step` on where `when` holds: a multi-process run on a GPU too small for it."""
    import os

    inject = after_import_site(folder, transformers__trainer=failing_step(rank, step, CUDA_OOM, when=when))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(inject), os.environ.get("PYTHONPATH", "")]))


class CycleTracer:
    """Garbage in a reference cycle (only the cycle collector frees it) that records the thread which collected it:
    the collection tests' witness that a collection ran on the owner's thread (core.collection)."""

    def __init__(self, seen: list[int]) -> None:
        self.seen = seen
        self.me = self

    def __del__(self) -> None:
        self.seen.append(threading.get_ident())
