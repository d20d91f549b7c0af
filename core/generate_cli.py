"""`finetune-studio generate`: a run's model (or its base) answers prompts on the command line, streaming to stdout,
rendered, clamped and sampled as the Try tab does (core.generate); `--answers` prints what Compare checkpoints kept
(core.answers)."""

from __future__ import annotations

import dataclasses
import sys
import threading
from pathlib import Path
from typing import Any

from finetune_studio.core.answers import answer_table, read_answers
from finetune_studio.core.generate import (
    BASE,
    TUNED,
    Conversation,
    GenerationError,
    GenerationSettings,
    chat_template,
    load,
    render,
    resolve,
    stream_answer,
)
from finetune_studio.core.runs import RunFolder


def add_cli_arguments(sub: Any) -> None:
    """`finetune-studio generate`: declared here, beside what it runs, so core/cli.py only registers it."""
    parser = sub.add_parser("generate", help="answer a prompt with a run's model (or its base), streaming to stdout")
    parser.add_argument("folder", help="a run folder (its final model, else its latest checkpoint) or a model folder")
    parser.add_argument("--checkpoint", type=int, metavar="N", help="answer with the run's checkpoint-N")
    parser.add_argument("--base", action="store_true", help="answer with the base model the run started from")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--prompt", help="the prompt (text runs continue it; chat runs answer it)")
    what.add_argument("--prompts", metavar="FILE", help="prompts to answer in turn: one a line, or a YAML/JSON list "
                                                         "(or a config file's prompts:)")
    what.add_argument("--answers", action="store_true", help="print the answers Compare checkpoints saved in the "
                                                             "run folder (answers.jsonl)")
    parser.add_argument("--system", default="", help="chat runs: the system prompt")
    parser.add_argument("--show-prompt", action="store_true", help="print the exact rendered prompt to stderr")
    defaults = GenerationSettings()
    parser.add_argument("--sample", action="store_true", default=None,
                        help="sample instead of greedy decoding (default: the model's generation_config)")
    parser.add_argument("--greedy", dest="sample", action="store_false", help="greedy decoding")
    for declared in dataclasses.fields(GenerationSettings):
        if declared.name != "do_sample":
            parser.add_argument(f"--{declared.name.replace('_', '-')}", type=type(declared.default),
                                help=f"{declared.metadata['help']} (default: the model's generation_config, else "
                                     f"{getattr(defaults, declared.name)})")


def read_prompts_file(path: Path) -> list[str]:
    """Prompts from a file: a YAML/JSON list, a mapping with `prompts:` (a run config), or one prompt a line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GenerationError(f"Cannot read the prompts file {path}: {exc}. To fix: give a UTF-8 text file, one "
                              "prompt a line.") from None
    if Path(path).suffix.lower() in (".yaml", ".yml", ".json"):
        from finetune_studio.core.config import _prompts, yaml_load

        try:
            data = yaml_load(text)
        except Exception as exc:  # noqa: BLE001 - yaml's own error: say the file and what it holds
            raise GenerationError(f"{path} is not valid YAML/JSON ({exc}). To fix: write a list of prompts.") \
                from None
        prompts = _prompts(data.get("prompts") if isinstance(data, dict) else data)
    else:
        prompts = [line for line in text.splitlines() if line.strip()]
    if not prompts:
        raise GenerationError(f"{path} holds no prompts. To fix: write one prompt a line.")
    return prompts


def _settings_from_args(args: Any, model: Any) -> GenerationSettings:
    settings = GenerationSettings.from_generation_config(getattr(model, "generation_config", None))
    if args.sample is not None:
        settings.do_sample = args.sample
    for declared in dataclasses.fields(GenerationSettings):
        value = getattr(args, declared.name, None) if declared.name != "do_sample" else None
        if value is not None:
            setattr(settings, declared.name, value)
    return settings


def print_answers(run_dir: Path, out: Any) -> int:
    table = answer_table(read_answers(run_dir))
    if not table.cells:
        print(f"error: {run_dir.name} has no saved answers yet. To fix: run Compare checkpoints in the app's Try "
              "tab.", file=sys.stderr)
        return 1
    for prompt in table.prompts:
        print(f"> {prompt}", file=out)
        for model in table.models:
            answer = table.answer(prompt, model)
            if answer is not None:
                print(f"  [{model}] {answer}", file=out)
        print(file=out)
    return 0


def run_cli(args: Any) -> int:
    """`finetune-studio generate`: stream each answer to stdout, its figures and notes to stderr."""
    import signal

    if args.answers:
        folder = Path(args.folder).expanduser()
        if not RunFolder(folder).exists():
            print(f"error: {folder} is not a run folder (no config.yaml).", file=sys.stderr)
            return 1
        return print_answers(folder, sys.stdout)
    prompts = [args.prompt] if args.prompt is not None else read_prompts_file(Path(args.prompts))
    if not any(prompt.strip() for prompt in prompts):
        raise GenerationError("The prompt is empty. To fix: give --prompt some text to answer or continue.")
    source = resolve(args.folder, args.checkpoint)
    side = BASE if args.base else TUNED
    if args.base and source.base is None:
        raise GenerationError(f"{source.name} is a model folder with no base model recorded, so --base has nothing "
                              "to load. To fix: give the run folder, or drop --base.")
    for note in source.notes:
        print(f"note: {note}", file=sys.stderr)
    loaded = load(source, lambda text: print(text, file=sys.stderr), sides=(side,))
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    conversation = Conversation(system=args.system)
    try:
        with loaded.model_for(side) as model:
            settings = _settings_from_args(args, model)
            template = chat_template(loaded.tokenizer, source.chat_config) if source.chat else None
            for prompt in prompts:
                if stop.is_set():
                    break
                if len(prompts) > 1:
                    print(f"> {prompt}", flush=True)
                rendered = render(loaded.tokenizer, prompt, chat=source.chat, system=conversation.system,
                                  template=template)
                if args.show_prompt:
                    print(f"--- rendered prompt ---\n{rendered.text}\n---", file=sys.stderr)
                answer = stream_answer(model, loaded.tokenizer, rendered, settings, stop,
                                       lambda text: print(text, end="", flush=True), side)
                print(flush=True)
                for note in answer.notes:
                    print(f"note: {note}", file=sys.stderr)
                print(f"[{answer.summary()}]", file=sys.stderr, flush=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    return 3 if stop.is_set() else 0
