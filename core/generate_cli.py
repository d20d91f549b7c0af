"""`finetune-studio generate`: a run's model (or its base) answers prompts on the command line, streaming to stdout,
rendered, clamped and sampled as the Try tab does (core.generate); `--answers` prints what Compare checkpoints kept
(core.answers)."""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections.abc import Collection
from pathlib import Path
from typing import Any

from finetune_studio.core.answers import answer_table, answers_path, load_answers
from finetune_studio.core.cli import EXIT_CONFIG, EXIT_FAILED, EXIT_STOPPED, generate_refusal, shell_word
from finetune_studio.core.errors import FinetuneError
from finetune_studio.core.generate import (
    BASE,
    LIMITS,
    SAMPLING_ONLY,
    TUNED,
    Conversation,
    GenerationError,
    GenerationSettings,
    InputError,
    PromptTooLong,
    StopReason,
    base_problem,
    chat_template,
    describe_error,
    first_words,
    load,
    load_tokenizer,
    prompt_problems,
    render,
    resolve,
    run_config,
    stream_answer,
    system_share,
)
from finetune_studio.core.model import quiet_transformers
from finetune_studio.core.runs import RunFolder, enclosing_run


def add_cli_arguments(sub: Any) -> None:
    """`finetune-studio generate`: declared here, beside what it runs, so core/cli.py only registers it."""
    parser = sub.add_parser("generate", help="answer a prompt with a run's model (or its base), streaming to stdout")
    parser.add_argument("folder", help="a run folder (its final model, else its latest checkpoint) or a model folder")
    parser.add_argument("--checkpoint", type=int, metavar="N", help="answer with the run's checkpoint-N")
    parser.add_argument("--base", action="store_true", help="answer with the base model the run started from")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--prompt", help="the prompt (text runs continue it; chat runs answer it)")
    what.add_argument("--prompts", metavar="FILE", help="prompts to answer in turn: one a line, or a YAML/JSON list "
                                                         "(or a config file's prompts:); - reads them from standard "
                                                         "input, one a line")
    what.add_argument("--answers", action="store_true", help="print the answers Compare checkpoints saved in the "
                                                             "run folder (answers.jsonl)")
    parser.add_argument("--system", default="", help="chat runs: the system prompt")
    parser.add_argument("--show-prompt", action="store_true", help="print the exact rendered prompt to stderr")
    defaults = GenerationSettings()
    decoding = parser.add_mutually_exclusive_group()  # both given: argparse refuses them (exit 2), not last-wins
    decoding.add_argument("--sample", action="store_true", default=None,
                          help="sample instead of greedy decoding (default: the model's generation_config)")
    decoding.add_argument("--greedy", dest="sample", action="store_false", help="greedy decoding")
    for declared in dataclasses.fields(GenerationSettings):
        if declared.name != "do_sample":
            parser.add_argument(f"--{declared.name.replace('_', '-')}", type=type(declared.default),
                                help=f"{declared.metadata['help']} (default: the model's generation_config, else "
                                     f"{getattr(defaults, declared.name)})")


def read_prompts_file(path: Path) -> list[str]:
    """Prompts from a file: a YAML/JSON list, a mapping with `prompts:` (a run config), or one prompt a line. A
    UTF-8 byte order mark at its start (Notepad writes one) is not part of the first prompt."""
    if Path(path).is_dir():  # was "Cannot read the prompts file p: [Errno 21] Is a directory: 'p'"
        raise InputError(f"{path} is a folder, not a prompts file. To fix: give a UTF-8 text file in it, one prompt a "
                         "line (or a YAML/JSON list, or a config file with prompts:).")
    try:
        data = Path(path).read_bytes()
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:  # was "'utf-8' codec can't decode byte 0xa0 in position 0: invalid start byte"
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{path} is not UTF-8 text ({exc.reason} at line {line}); a prompts file is text, one prompt "
                         "a line. To fix: save it as UTF-8 (or give the text file of prompts, not a model or data "
                         "file).") from None
    except OSError as exc:
        raise InputError(f"Cannot read the prompts file {path}: {exc}. To fix: give a UTF-8 text file, one prompt "
                         "a line.") from None
    if Path(path).suffix.lower() in (".yaml", ".yml", ".json"):
        from finetune_studio.core.config import _prompts, yaml_load

        try:
            data = yaml_load(text, config_file=True)  # `- 12:30` is the prompt "12:30", not 750
        except Exception as exc:  # noqa: BLE001 - yaml's own error: say the file and what it holds
            raise InputError(_yaml_refusal(path, exc)) from None
        value, label = (data.get("prompts"), "prompts:") if isinstance(data, dict) else (data, "the file")
        prompts = _prompts(_text_prompts(path, value, label))
    else:
        prompts = [line for line in text.splitlines() if line.strip()]
    if not prompts and Path(path).suffix.lower() in (".yaml", ".yml", ".json"):  # a run config with no prompts:
        raise InputError(f"{path} holds no prompts (a YAML/JSON list of them, or a config's prompts:). To fix: add "
                         "prompts: to it with one prompt a line under it (- Aries:), or give a text file, one prompt "
                         "a line, or give one with --prompt TEXT.")
    if not prompts:
        raise InputError(f"{path} holds no prompts. To fix: write one prompt a line.")
    return prompts


def _yaml_refusal(path: Path, exc: Exception) -> str:
    """A prompts file YAML cannot read, in one line, where it broke as a config's YAML error says it
    (core.config.from_yaml): yaml's own text, with its excerpt of the file and a caret under it, went into the
    message whole, so `error: …` ran over six lines ('… (while parsing a flow mapping / in "<unicode string>", line 1,
    column 1: / {bad / ^ / expected …')."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    lines = str(exc).strip().splitlines()
    problem = getattr(exc, "problem", None) or (lines[0] if lines else type(exc).__name__)
    start, context = getattr(exc, "context_mark", None), getattr(exc, "context", None)
    if start and context and (not mark or start.line != mark.line):  # an unclosed [ or { is found at the end
        problem += f" ({context} that starts at line {start.line + 1}, column {start.column + 1})"
    line = f"correct line {mark.line + 1}, or " if mark else ""
    return (f"{path} is not valid YAML/JSON{where}: {problem}. To fix: {line}write the prompts as a list, one a line "
            "(- Aries:), or as plain text in a .txt file, one prompt a line.")


def read_prompts_stdin() -> list[str]:
    """`--prompts -`: one prompt a line from standard input (`cat prompts.txt | finetune-studio generate RUN --prompts
    -`), as the config's `-` is read (core.cli). It was taken for a file named "-": "Cannot read the prompts file -:
    [Errno 2] No such file or directory: '-'"."""
    fix = "pipe the prompts in, one a line (e.g. finetune-studio generate RUN --prompts - < prompts.txt), or give one "
    fix += "with --prompt TEXT"
    if sys.stdin is None:
        raise InputError(f"--prompts - reads standard input, and it is closed. To fix: {fix}.")
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"The prompts read from standard input are not UTF-8 text ({exc.reason} at line {line}). To "
                         "fix: save them as UTF-8 and pipe them in again.") from None
    prompts = [line for line in text.splitlines() if line.strip()]
    if not prompts:
        raise InputError(f"Standard input holds no prompts (--prompts -). To fix: {fix}.")
    return prompts


def _text_prompts(path: Path, value: Any, label: str) -> Any:
    """`value` as config._prompts takes it, refused unless it is text or a list of text (empty entries allowed:
    _prompts skips them): _prompts would turn `prompts: 5` into the prompt "5" and a mapping into its repr."""
    items = value if isinstance(value, (list, tuple)) else [value]
    for number, item in enumerate(items, 1):
        if item is None or isinstance(item, str):
            continue
        from finetune_studio.core.validation import written_value  # [a], {text: Aries}: as YAML writes it

        where = f"prompt {number} is" if isinstance(value, (list, tuple)) else f"{label} holds"
        raise InputError(f"{path}: {where} {written_value(item)} ({_kind(item)}), not text. To fix: write each "
                         "prompt as text, in quotes where YAML would read a number, e.g. - \"5\"; a list of prompts "
                         "goes one per line under prompts:.")
    return value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    return {dict: "a mapping", list: "a list"}.get(type(value), type(value).__name__)


# What to give instead of a refused flag, in this command's words; the rule itself is core.generate.LIMITS'.
_SETTING_FIXES = {
    "max_new_tokens": "give the longest answer you want in tokens, e.g. --max-new-tokens 128.",
    "temperature": "give a positive --temperature (1 samples as the model learned, lower is safer), or leave it "
                   "out.",
    "top_p": "give e.g. --top-p 0.9, or 1 to draw from all tokens.",
    "top_k": "give e.g. --top-k 50, or 0 to draw from all tokens.",
    "repetition_penalty": "give 1 for no penalty, or a little above 1 (e.g. 1.1) to repeat less.",
    "seed": "give a seed in that range, e.g. --seed 0.",
}
_SETTING_ORDER = ("max_new_tokens", "temperature", "top_p", "top_k", "repetition_penalty", "seed")


def settings_problems(args: Any) -> list[str]:
    """Every generation setting given on the command line that cannot work, each with what to give instead: checked
    before the model loads, all at once (transformers would refuse them one at a time, after loading, in its own
    words), by core.generate.LIMITS, the rule the Try tab's fields take their ranges from. A setting only sampling
    uses is checked even when decoding greedily: whether this command samples is often the model's choice, known
    only once it loads, and a flag value that would be refused with one model but not another is a trap; a valid
    one greedy decoding ignores gets a note instead (_unused_sampling_note)."""
    problems = []
    for name in _SETTING_ORDER:
        value, limit = getattr(args, name, None), LIMITS[name]
        if value is None or limit.allows(value):
            continue
        problems.append(f"--{name.replace('_', '-')} must be {limit.rule} (got {value}). To fix: "
                        f"{_SETTING_FIXES[name]}")
    return problems


def _empty_argument(args: Any) -> str | None:
    """Why an empty folder or --prompts file is refused, or None: `generate "$RUN" --prompt hi` with RUN unset (or
    --prompts "$FILE") gave '', read as '.', and was refused as ". is neither a run folder … nor a model folder" (". is
    a folder, not a prompts file"), naming a folder never given; run inside a run's folder, '' took that run."""
    if not args.folder.strip():
        names, then = (("the run whose saved answers to print", "--answers") if args.answers else
                       ("the run (or model folder) to answer with", "--prompt TEXT"))
        return (f"the folder is empty ({shell_word(args.folder)}); it names {names}, and an empty one names none. To "
                f"fix: give the run's folder, e.g. finetune-studio generate ~/runs/my-run {then}; `finetune-studio "
                "runs` lists the runs.")
    if args.prompts is not None and not args.prompts.strip():
        return (f"--prompts is empty (--prompts {shell_word(args.prompts)}); it names the prompts file, and an empty "
                "one names none. To fix: give the file, one prompt a line (or - to read them from standard input), or "
                "give one prompt with --prompt TEXT.")
    return None


def _base_and_checkpoint(args: Any) -> list[str]:
    """--base with --checkpoint N, refused: the base model is the one the run started from, the same for every
    checkpoint, so `generate RUN --checkpoint 1 --base` loaded the base model and dropped --checkpoint without a
    word (it only picked the folder the tokenizer was read from)."""
    if not getattr(args, "base", False) or getattr(args, "checkpoint", None) is None:
        return []
    return [f"--base answers with the base model the run started from, the same for every checkpoint, so "
            f"--checkpoint {args.checkpoint} would change nothing. To fix: drop --checkpoint {args.checkpoint} to "
            f"answer with the base model, or drop --base to answer with checkpoint-{args.checkpoint}."]


def _unused_sampling_note(args: Any, given: Collection[str], sampling: bool) -> str | None:
    """A note naming the sampling-only flags (core.generate.SAMPLING_ONLY) given while decoding greedily, which
    change nothing then, and how to sample; None when there are none or the command samples."""
    unused = [f"--{name.replace('_', '-')}" for name in SAMPLING_ONLY if name in given]
    if sampling or not unused:
        return None
    flags = ", ".join(unused)
    has, them = ("has", "it") if len(unused) == 1 else ("have", "them")
    if args.sample is False:
        return (f"{flags} {has} no effect with --greedy: greedy decoding always takes the likeliest token. To sample "
                f"with {them}: give --sample instead of --greedy.")
    return (f"{flags} {has} no effect: this model decodes greedily (its generation_config does not sample), always "
            f"taking the likeliest token. To sample with {them}: add --sample.")


def _settings_from_args(args: Any, model: Any, whose: str = "model") -> GenerationSettings:
    """The model's defaults (its generation_config, within LIMITS) with the flags given on top. A model default
    outside LIMITS is noted on stderr only when no flag sets that setting (with one, the flag's value is used, not
    the app's default the note would name), and, decoding greedily (--greedy, or the model's own choice), only when
    greedy decoding uses that setting: a note about a temperature no token is drawn with would be noise. A sampling
    flag given while decoding greedily gets a note that it has no effect (_unused_sampling_note). `whose`: whose file
    the note names (core.generate.Loaded.defaults_config: an adapter run's is its base model's)."""
    config = getattr(model, "generation_config", None)
    settings = GenerationSettings.from_generation_config(config)
    given = {declared.name: getattr(args, declared.name, None) for declared in dataclasses.fields(GenerationSettings)
             if declared.name != "do_sample" and getattr(args, declared.name, None) is not None}
    if args.sample is not None:
        settings.do_sample = args.sample
    for name, value in given.items():
        setattr(settings, name, value)
    for note in GenerationSettings.ignored_defaults(config, given, greedy=not settings.do_sample, whose=whose):
        print(f"note: {note}", file=sys.stderr)
    unused = _unused_sampling_note(args, given, settings.do_sample)
    if unused:
        print(f"note: {unused}", file=sys.stderr)
    return settings


def print_answers(run_dir: Path, out: Any) -> int:
    """The run's saved answers, prompt by prompt; a run with none is refused (InputError: exit 2), saying how
    answers are made, and so is an answers file that cannot be read (a folder in its place, no permission), saying
    why. Lines that could not be read are skipped, and a note on stderr says how many."""
    saved = load_answers(run_dir)
    if saved.problem:
        raise InputError(saved.problem)
    table = answer_table(saved.records)
    if not table.cells:
        raise InputError(no_answers_message(run_dir, saved.skipped))
    for prompt in table.prompts:
        print(f"> {prompt}", file=out)
        for model in table.models:
            answer = table.answer(prompt, model)
            if answer is not None:
                print(f"  [{model}] {answer}", file=out)
        print(file=out)
    if saved.skipped:
        print(f"note: {saved.note}", file=sys.stderr)
    return 0


def answers_unused_flags(args: Any) -> str | None:
    """The flags given with --answers that it does not use, refused in words, or None. --answers prints what Compare
    checkpoints saved, for every model; a --checkpoint 4 (to see that checkpoint's answers), --base, --system or a
    generation setting were dropped without a word and every saved answer printed."""
    given = [f"--checkpoint {args.checkpoint}"] if args.checkpoint is not None else []
    given += [flag for flag, on in (("--base", args.base), ("--show-prompt", args.show_prompt),
                                    ("--system", bool(args.system))) if on]
    given += [{True: "--sample", False: "--greedy"}[args.sample]] if args.sample is not None else []
    given += [f"--{declared.name.replace('_', '-')}" for declared in dataclasses.fields(GenerationSettings)
              if declared.name != "do_sample" and getattr(args, declared.name, None) is not None]
    if not given:
        return None
    them = "it" if len(given) == 1 else "them"
    return (f"--answers prints the answers Compare checkpoints saved, for every model it asked, and answers nothing "
            f"new: {', '.join(given)} {'is' if len(given) == 1 else 'are'} for answering a prompt and would change "
            f"nothing. To fix: drop {them}, or give --prompt TEXT instead of --answers to answer with {them}.")


def answers_folder_problem(folder: Path) -> str | None:
    """Why `generate FOLDER --answers` has no run folder to read, or None. A file or a folder inside a run (its
    config.yaml, its checkpoint-N/ or model/) was said to be "not a run folder (no config.yaml)", of config.yaml
    itself too; it now names the run folder it is in, and a path that is not there says so."""
    if RunFolder(folder).exists():
        return None
    if not folder.exists():
        return (f"{folder} does not exist, so it has no saved answers. To fix: give the run folder Compare checkpoints "
                "answered in; `finetune-studio runs` lists the runs.")
    what = f"{folder} is a file, not a run folder" if not folder.is_dir() else (
        f"{folder} is not a run folder (no config.yaml)")
    run = enclosing_run(folder)
    fix = (f"give the run folder it is in: finetune-studio generate {shell_word(run)} --answers" if run is not None
           else "give the run folder Compare checkpoints answered in")
    return f"{what}, so it has no saved answers. To fix: {fix}."


def no_answers_message(run_dir: Path, skipped: int = 0) -> str:
    """Why `generate RUN --answers` has nothing to print, and how answers are made: Compare checkpoints (the app's
    Try tab) answers the prompts of the config open in the app (its prompts:, which Save prompt adds to), not the
    run's config.yaml, and keeps the answers in the run's answers.jsonl; the run's own saved prompts reach it when
    its settings are loaded (Runs tab, Use its settings). `skipped`: its lines that could not be read (cut off or
    damaged)."""
    path = answers_path(run_dir)
    lines = f"{skipped} line{'s' if skipped != 1 else ''}"
    said = (f"{path} holds no readable answer ({lines} cut off or damaged, skipped)" if skipped else
            f"Compare checkpoints keeps a run's answers in {path}, and there are none yet")
    try:
        prompts = run_config(run_dir).prompts
    except GenerationError:
        prompts = []
    if prompts:
        saved = f"{len(prompts)} saved prompt{'s' if len(prompts) != 1 else ''}"
        fix = (f"in the app, load the run's {saved} (Runs tab: select {run_dir.name}, Use its settings), then pick "
               "the run in the Try tab and press Compare checkpoints: it answers the prompts of the config open in "
               "the app with each checkpoint and keeps the answers. To answer the run's prompts now without keeping "
               f"the answers: finetune-studio generate {shell_word(run_dir)} --prompts "
               f"{shell_word(run_dir / 'config.yaml')}")
    else:
        fix = ("open the run in the app's Try tab, save prompts on its Chat page (Save prompt: they are kept with "
               "the config open in the app), then press Compare checkpoints: it answers them with each checkpoint "
               "and keeps the answers. To answer a prompt now without keeping the answer: "
               f"finetune-studio generate {shell_word(run_dir)} --prompt TEXT")
    return f"{run_dir.name} has no saved answers: {said}. To fix: {fix}."


def too_long_problems(args: Any, source: Any, tokenizer: Any, prompts: list[str], side: str) -> list[str]:
    """Each prompt too long for the model, in this command's words, measured before the weights load (the
    tokenizer and the model's config.json: core.generate.prompt_problems, the rule stream_answer applies)."""
    found = prompt_problems(source, tokenizer, prompts, side, system=args.system)
    filling = next((exc for _, exc in found if exc.system_tokens >= exc.limit), None)
    if filling is not None:  # every prompt fails for it: one line that blames --system, not one per prompt
        return [_system_fills_context(filling)]
    return [f"{_which(prompts, number)} {_too_long_reason(exc)}" for number, exc in found]


def _system_fills_context(exc: PromptTooLong) -> str:
    return (f"--system is {exc.system_tokens} tokens long and this model reads at most {exc.limit} tokens (system "
            "prompt, prompt and answer together), so no prompt leaves room for an answer. To fix: shorten --system "
            f"to well under {exc.limit} tokens, or leave it out.")


def _which(prompts: list[str], number: int) -> str:
    """A prompt as an error names it: "the prompt", or its number and first words among several."""
    return f"prompt {number} ({first_words(prompts[number - 1])})" if len(prompts) > 1 else "the prompt"


def _too_long_reason(exc: PromptTooLong) -> str:
    """Why a prompt does not fit, and what to shorten: with a system prompt, which part takes how many tokens."""
    if exc.system_tokens:
        own = exc.tokens - exc.system_tokens
        return (f"is {exc.tokens} tokens long with the system prompt (--system takes {exc.system_tokens} of them, the "
                f"prompt itself {own}) and this model reads at most {exc.limit} tokens (system prompt, prompt and "
                f"answer together), so no room is left for an answer. To fix: shorten --system or the prompt so "
                f"together they stay well under {exc.limit} tokens; the answer gets the room left, up to "
                "--max-new-tokens.")
    return (f"is {exc.tokens} tokens long and this model reads at most {exc.limit} tokens (prompt and answer "
            "together), so no room is left for an answer. To fix: shorten the prompt to well under "
            f"{exc.limit} tokens; the answer gets the room left, up to --max-new-tokens.")


class _OutlivedStderr:
    """sys.stderr while `generate` runs: a reader of stderr alone that leaves (`generate RUN --prompts p.txt 2>&1
    >answers.txt | head -1`, a log filter that exits) no longer ends the command. Its first note raised
    BrokenPipeError, which ended generate quietly with exit 0 as for a reader of the answers gone: answers.txt stayed
    empty, 0 of 300 prompts answered. Now stderr points at devnull (core.cli.drop_closed_outputs) and the answers go
    on to stdout; when stdout's reader has left too (`2>&1 | head -1`), the error goes up and the command ends as
    before."""

    def __init__(self, stream: Any):
        self._stream = stream

    def _outlive(self, write: Any) -> Any:
        from finetune_studio.core import cli

        try:
            return write()
        except BrokenPipeError:
            if not cli.reader_gone() or sys.stdout is None or cli._closed(sys.stdout):
                raise
            cli.drop_closed_outputs()
            return None

    def write(self, text: str) -> int:
        written = self._outlive(lambda: self._stream.write(text))
        return len(text) if written is None else written

    def flush(self) -> None:
        self._outlive(self._stream.flush)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def run_cli(args: Any) -> int:
    """`finetune-studio generate`: stream each answer to stdout, its figures and notes to stderr. Exits 0 when every
    prompt was answered; 2 for bad input, refused before loading (settings that cannot work, an empty prompt or one
    too long for the model, a prompts file that cannot be read, a folder or checkpoint that is not there, a run
    with no saved answers for --answers: InputError); 1 for a model that
    cannot load, a failure or prompts left unanswered; 3 when Ctrl-C stopped it; a reader of stdout that went away
    (`| head`) ends it quietly, 0. SIGTERM (`timeout`, `kill`) stops it as Ctrl-C does, with exit 3, as README's exit
    codes say: it killed the command (exit 143) with no word of what was left unanswered."""
    import signal

    stopped_by: list[str] = []

    def on_term(signum: int, frame: Any) -> None:  # while reading, resolving or loading: end before answering
        stopped_by.append("SIGTERM")
        raise KeyboardInterrupt

    in_main = threading.current_thread() is threading.main_thread()  # signal handlers are the main thread's
    previous = signal.signal(signal.SIGTERM, on_term) if in_main else None
    stderr = sys.stderr
    sys.stderr = _OutlivedStderr(stderr) if stderr is not None else None
    try:
        return _generate(args)
    except KeyboardInterrupt:  # Ctrl-C before the stop handler is in place: reading, resolving or loading
        print(f"stopped before answering ({stopped_by[0] if stopped_by else 'Ctrl-C'}).", file=sys.stderr)
        return EXIT_STOPPED
    except BrokenPipeError as exc:
        from finetune_studio.core.cli import reader_gone

        if reader_gone():  # the reader took what it wanted and left, as `head` does: core.cli.main ends it, exit 0
            raise
        print(f"error: {describe_error(exc)}", file=sys.stderr)  # a pipe of another program's: a failure
        return EXIT_FAILED
    except InputError as exc:  # a --checkpoint the run cannot answer with is said as export and push say it
        print(f"error: {generate_refusal(args, exc) or exc}", file=sys.stderr)
        return EXIT_CONFIG
    except FinetuneError as exc:
        print(f"error: {generate_refusal(args, exc) or exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - one line that says what to do, instead of a traceback
        print(f"error: {describe_error(exc)}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        sys.stderr = stderr
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _generate(args: Any) -> int:
    import signal

    empty = _empty_argument(args)
    if empty:
        raise InputError(empty)
    if args.answers:
        unused = answers_unused_flags(args)
        if unused:
            print(f"error: {unused}", file=sys.stderr)
            return EXIT_CONFIG
        folder = Path(args.folder).expanduser()
        problem = answers_folder_problem(folder)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return EXIT_CONFIG
        return print_answers(folder, sys.stdout)
    problems = settings_problems(args) + _base_and_checkpoint(args)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return EXIT_CONFIG
    prompts = ([args.prompt] if args.prompt is not None else read_prompts_stdin() if args.prompts == "-" else
               read_prompts_file(Path(args.prompts).expanduser()))
    if not any(prompt.strip() for prompt in prompts):
        raise InputError("The prompt is empty. To fix: give --prompt some text to answer or continue.")
    try:
        source = resolve(args.folder, args.checkpoint)
    except InputError:
        # The runs folder given for a run: said as resume, export and push say it (core.runs.run_folder_problem),
        # with the runs it holds. It was "neither a run folder (no config.yaml) nor a model folder".
        from finetune_studio.core.runs import run_folder_problem, run_folders

        folder = Path(args.folder).expanduser()
        if folder.is_dir() and not RunFolder(folder).config_path.exists() and run_folders(folder):
            raise InputError(str(run_folder_problem(folder))) from None
        raise
    side = BASE if args.base else TUNED
    unusable_base = base_problem(source)
    if unusable_base and (args.base or source.adapter):  # the base is loaded: for --base, and under an adapter
        said, fix = unusable_base
        what = source.run_dir.name if source.run_dir is not None else source.name
        needs = "--base has no model to load" if args.base else "its adapter has no base model to load on"
        raise InputError(f"The run {what} {said}, so {needs}. To fix: {fix}, then run the command again.")
    if args.base and source.base is None:
        raise InputError(f"{source.name} is a model folder with no base model recorded, so --base has nothing to "
                         "load. To fix: give the run folder, or drop --base.")
    for note in source.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.system and not source.chat:
        what = source.run_dir.name if source.run_dir is not None else source.name
        print(f"note: --system is not used: {what} is a text run, which continues the prompt as written; a system "
              "prompt is for chat runs.", file=sys.stderr)
    with quiet_transformers():
        print(f"Loading the tokenizer of {source.name}…", file=sys.stderr)
        tokenizer = load_tokenizer(source)
        too_long = too_long_problems(args, source, tokenizer, prompts, side)  # before the weights load
        for problem in too_long:
            print(f"error: {problem}", file=sys.stderr)
        if too_long:
            return EXIT_CONFIG
        loaded = load(source, lambda text: print(text, file=sys.stderr), sides=(side,), tokenizer=tokenizer)
        stop = threading.Event()
        stopped_by: list[str] = []

        def on_stop(signum: int, frame: Any) -> None:
            stopped_by.append("Ctrl-C" if signum == signal.SIGINT else "SIGTERM")
            stop.set()

        previous = {signum: signal.signal(signum, on_stop) for signum in (signal.SIGINT, signal.SIGTERM)}
        reached: list[int] = []  # the prompts begun, and the one Ctrl-C cut off
        try:
            unanswered = _answer_all(args, prompts, source, loaded, side, stop, reached)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    if stop.is_set():
        print(f"stopped ({stopped_by[0] if stopped_by else 'Ctrl-C'}): {stopped_text(len(prompts), reached)}",
              file=sys.stderr)
        return EXIT_STOPPED
    if unanswered and len(prompts) > 1:
        print(f"error: {len(unanswered)} of {len(prompts)} prompts not answered (prompt "
              f"{', '.join(map(str, unanswered))}). To fix: see each one's error above.", file=sys.stderr)
    return EXIT_FAILED if unanswered else 0


def stopped_text(total: int, reached: list[int]) -> str:
    """What a Ctrl-C left of `generate`'s work, for its last line: the answer it cut off, and the prompts it left
    unanswered. `reached`: the numbers of the prompts begun, then -1 when the last one's answer was cut off. A Ctrl-C
    among 300 prompts ended at "[26 tokens · … · stopped: stopped by the user]", exit 3, with no word of the 178
    prompts never answered."""
    cut = bool(reached) and reached[-1] == -1
    begun = [number for number in reached if number > 0]
    last = begun[-1] if begun else 0
    said = [f"the answer to prompt {last} is cut off" if total > 1 else "the answer is cut off"] if cut else []
    if last < total:
        first = last + 1
        left = f"prompt {first}" if first == total else f"prompts {first} to {total}"
        said.append(f"{left} of {total} {'was' if first == total else 'were'} not answered")
    return ("; ".join(said) or "every prompt was answered") + "."


def _answer_all(args: Any, prompts: list[str], source: Any, loaded: Any, side: str, stop: threading.Event,
                reached: list[int] | None = None) -> list[int]:
    """Each prompt answered in turn; one that cannot be (too long for the model) is reported by its number and
    first words and the rest still answered. Returns the numbers of those left unanswered. `reached` gets the number
    of each prompt begun, and -1 after one whose answer a Ctrl-C cut off (stopped_text)."""
    conversation = Conversation(system=args.system)
    unanswered = []
    reached = [] if reached is None else reached
    with loaded.model_for(side) as model:
        settings = _settings_from_args(args, model, loaded.defaults_config()[1])
        template = chat_template(loaded.tokenizer, source.chat_config) if source.chat else None
        for number, prompt in enumerate(prompts, 1):
            if stop.is_set():
                break
            reached.append(number)
            if len(prompts) > 1:
                print(f"> {prompt}", flush=True)
            try:
                rendered = render(loaded.tokenizer, prompt, chat=source.chat, system=conversation.system,
                                  template=template)
                if args.show_prompt:
                    print(f"--- rendered prompt ---\n{rendered.text}\n---", file=sys.stderr)
                answer = stream_answer(model, loaded.tokenizer, rendered, settings, stop,
                                       lambda text: print(text, end="", flush=True), side)
            except GenerationError as exc:
                if isinstance(exc, PromptTooLong) and source.chat and conversation.system.strip():
                    exc.system_tokens = system_share(loaded.tokenizer, prompt, conversation.system, template)
                print(f"error: {_which(prompts, number)} was not answered: {_cli_reason(exc)}", file=sys.stderr,
                      flush=True)
                unanswered.append(number)
                continue
            print(flush=True)
            if answer.stop_reason == StopReason.USER:
                reached.append(-1)
            for note in answer.notes:
                print(f"note: {note}", file=sys.stderr)
            print(f"[{answer.summary()}]", file=sys.stderr, flush=True)
    return unanswered


def _cli_reason(exc: GenerationError) -> str:
    """Why a prompt was not answered, in this command's words (--system's share, the flags to change). A prompt too
    long is normally refused before loading (too_long_problems); this is for a model whose context only the loaded
    model says."""
    if isinstance(exc, PromptTooLong):
        return f"it {_too_long_reason(exc)}"
    return str(exc)
