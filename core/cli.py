"""`finetune-studio`'s headless commands: training, checks and run listing, one subcommand each.

The console script itself is gui.launcher: with no command (or `gui`) it opens the desktop app, otherwise it
calls `main` here, so core imports nothing of gui and `finetune-studio train` never imports Qt.

Failures print one line that says what to do and exit non-zero: 2 for bad input (a bad config, a folder that
holds no run, an export's --out that cannot take it, a mistyped --repo: nothing ran), 1 for a failed run or
operation, 3 for a run stopped by Ctrl-C (resumable).
"""

from __future__ import annotations

import argparse
import errno
import functools
import linecache
import operator
import os
import re
import shlex
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from finetune_studio.core.errors import ConfigError, FinetuneError, Problem
from finetune_studio.core.runs import (
    RunBusy,
    RunFolderUnusable,
    holds_a_run,
    require_run_folder,
    run_as_runs_dir_words,
    run_holding,
    runs_folder_above,
)

EXIT_FAILED, EXIT_CONFIG, EXIT_STOPPED = 1, 2, 3


EXIT_CODES_HELP = ("Exit codes: 0 done; 1 it failed (a failed run or operation, a Hub that cannot be reached, "
                   "estimate's 'will not fit', a second Ctrl-C); 2 bad input, refused with nothing changed (a bad "
                   "config, a folder that holds no run, a bad flag); 3 stopped by Ctrl-C or SIGTERM (train and resume "
                   "can resume it). README's 'Exit codes' lists every case.")
QUIET_HELP = "no progress bar or progress lines: warnings, errors and the final line only"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="finetune-studio",
                                     description="Point-and-click fine-tuning of Hugging Face causal LMs. "
                                                 "Without a command, opens the desktop app.",
                                     epilog=EXIT_CODES_HELP)
    sub = parser.add_subparsers(dest="command")

    def config_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("config", nargs="?", help="a run config YAML, or - to read it from standard input (default: "
                                                 "the built-in offline demo)")
        p.add_argument("--preset", choices=["demo", "seed", "chat-demo"],
                       help="start from a preset instead of a config file (not with one)")
        p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override a setting, e.g. --set training.learning_rate=1e-4 (a bare key is a "
                            "training field); repeatable")
        p.add_argument("--runs-dir", help="folder that holds the runs (overrides runs_dir)")
        p.add_argument("--name", help="run name (overrides name)")

    train = sub.add_parser("train", help="train headless with a progress bar")
    config_args(train)
    train.add_argument("--quiet", action="store_true", help=QUIET_HELP)
    check = sub.add_parser("validate", help="check a config and list every problem")
    config_args(check)
    resume = sub.add_parser("resume", help="continue a stopped or interrupted run from its latest checkpoint")
    resume.add_argument("run_dir", help="the run's folder")
    resume.add_argument("--epochs", type=float, help="train this many more epochs than configured")
    resume.add_argument("--steps", type=int, metavar="K",
                        help="for a run its config's max_steps caps: raise max_steps by K in its config.yaml and "
                             "train on to it from the latest checkpoint (K more steps for a finished run; a stopped "
                             "or failed one also trains the steps it had left); the Runs tab's Train N more steps")
    resume.add_argument("--apply-fix", action="store_true",
                        help="first apply the fix a failed run proposed (e.g. a smaller batch after running out of "
                             "memory) to its config.yaml, keeping the old one as config.before-fix.yaml")
    resume.add_argument("--quiet", action="store_true", help=QUIET_HELP)
    init = sub.add_parser("init", help="write a config file to edit")
    init.add_argument("path", help="where to write the YAML (a new file), or - for standard output")
    init.add_argument("--preset", choices=["demo", "seed", "chat-demo"], default="demo",
                      help="the settings to write: demo (the built-in offline model and data, the default), seed "
                           "(the tutorial's Qwen/Qwen3-0.6B on a Hub dataset) or chat-demo (the demo model on the "
                           "built-in chats, offline)")
    runs = sub.add_parser("runs", help="list the runs in the runs folder")
    runs.add_argument("--runs-dir", help="the folder that holds the runs (default: FINETUNE_STUDIO_RUNS, else the "
                                         "per-user folder)")
    sub.add_parser("gui", help="open the desktop app (the default)")
    _add_launch_commands(sub)
    doctor = sub.add_parser("doctor", help="check the GPU stack: GPU, torch build (CPU/CUDA/ROCm), whether they "
                                           "match, free disk; prints the command that fixes a mismatch")
    doctor.add_argument("--runs-dir", help="the runs folder whose free space to check (default: the usual one)")
    _add_hub_commands(sub)
    from finetune_studio.core.generate_cli import add_cli_arguments as add_generate

    add_generate(sub)
    _add_export_command(sub)
    from finetune_studio.core.estimate import add_cli_arguments as add_estimate

    add_estimate(sub, config_args)
    return parser


def _load(args: argparse.Namespace) -> Any:
    from finetune_studio.core.config import PRESETS, apply_overrides, load_config

    if args.config and args.preset:  # the preset was dropped without a word: `train my.yaml --preset seed` trained
        raise ConfigError([Problem("", (  # my.yaml, `validate x.yaml --preset demo` validated x.yaml
            f"both a config file ({args.config}) and --preset {args.preset} were given; a run starts from one of "
            f"them. To fix: drop --preset to use the file, or drop the file to start from the {args.preset} preset."))])
    refusal = (_empty_config_refusal(args) or _blank_flag_refusal(args) or _split_set_refusal(args)
               or _run_as_runs_dir_refusal(args))
    if refusal:
        raise ConfigError([Problem("", refusal)])
    try:
        if args.config == STDIN:
            config, notices = _config_from_stdin(args.command)
        elif args.config:
            config, notices = load_config(user_path(args.config))
        else:
            config, notices = PRESETS[args.preset or "demo"](), []
        if args.overrides:
            config, more = apply_overrides(config, args.overrides)
            notices += more
    except ConfigError as exc:
        if exc.partial is None:
            raise
        # Unknown keys: every other problem of the file is said with them, at once, not after they are fixed.
        from finetune_studio.core.validation import validate

        said = {(problem.field, problem.message) for problem in exc.problems}
        more = [problem for problem in validate(exc.partial) if (problem.field, problem.message) not in said]
        raise ConfigError(exc.problems + more) from None
    if args.runs_dir is not None:
        config.runs_dir = args.runs_dir
    if args.name is not None:
        config.name = args.name
    for notice in notices:
        print(f"note: {notice}", file=sys.stderr)
    return config


STDIN = "-"  # the config argument that reads the config from standard input: `finetune-studio init - | ... validate -`


def _blank_flag_refusal(args: argparse.Namespace) -> str | None:
    """Why an empty --name or --runs-dir is refused, or None. Both were dropped without a word (`--name ''`, most
    often an empty shell variable: `--name "$NAME"`), so the run took the config's name, or a generated one, and
    the runs folder the config names, and nothing said so."""
    for flag, value, meaning in (("--name", getattr(args, "name", None), "names the run's folder"),
                                 ("--runs-dir", getattr(args, "runs_dir", None), "is the folder that holds the runs")):
        if value is not None and not value.strip():
            keeps = ("the config's name, or a generated one when it has none" if flag == "--name" else
                     "the config's runs_dir, else the default runs folder" if hasattr(args, "name") else
                     "the default runs folder")
            example = "--name my-run" if flag == "--name" else "--runs-dir ~/runs"
            return (f"{flag} is empty ({flag} {shell_word(value)}); it {meaning}, and an empty one names none. To fix: "
                    f"give one, e.g. {example}, or leave {flag} out ({keeps}).")
    return None


def _run_folder(args: argparse.Namespace) -> Path:
    """The run folder `args.run_dir` names (core.runs.require_run_folder), an empty one refused first: `resume
    "$RUN"` with RUN unset gave '', read as '.', and was refused as ". is not a run folder (it has no config.yaml)",
    naming a folder the user never gave (or, run from inside a run's folder, took that run)."""
    if not args.run_dir.strip():
        command = f"{args.command} --{args.kind}" if args.command == "export" else args.command
        raise ConfigError([Problem("", (
            f"the run folder is empty ({shell_word(args.run_dir)}); it names the run to {args.command}, and an empty "
            f"one names none. To fix: give the run's folder, e.g. finetune-studio {command} ~/runs/my-run; "
            "`finetune-studio runs` lists the runs."))])
    return require_run_folder(user_path(args.run_dir))


def _empty_config_refusal(args: argparse.Namespace) -> str | None:
    """Why an empty config argument is refused, or None. `finetune-studio train "$CONFIG"` with CONFIG unset gave ''
    as the config, which was taken for no config at all: it trained the built-in demo (and `validate ''` said "ok:
    the config is valid.") without a word of the file it was meant to read."""
    if args.config is None or args.config.strip():
        return None
    return (f"the config file name is empty ({shell_word(args.config)}); nothing was read. To fix: give the config "
            f"file, e.g. finetune-studio {args.command} my-run.yaml, or leave it out to use the built-in demo (or "
            "--preset NAME).")


def _empty_flag_refusal(flag: str, value: str | None, meaning: str, example: str, default: str) -> str | None:
    """Why an empty value of `flag` is refused, or None: in _blank_flag_refusal's words, for the flags that name a
    folder elsewhere. `export --out ''` wrote to the default folder and `launch-command --run-dir ''` printed lines
    for the default run folder, most often from an empty shell variable (--out "$OUT"), and nothing said so."""
    if value is None or value.strip():
        return None
    return (f"{flag} is empty ({flag} {shell_word(value)}); it {meaning}, and an empty one names none. To fix: give "
            f"one, e.g. {flag} {example}, or leave {flag} out ({default}).")


def _run_as_runs_dir_refusal(args: argparse.Namespace) -> str | None:
    """Why --runs-dir that is one run's own folder is refused, or None: `validate --runs-dir runs/r3` said ok, and
    `train` made the new run inside r3's folder, where the Runs tab and `runs` never list it (`runs --runs-dir` of
    such a folder is refused already)."""
    held = run_holding(user_path(args.runs_dir)) if args.runs_dir else None
    if held is None:
        return None
    run, inside = held
    return (f"--runs-dir {shell_word(args.runs_dir)} {run_as_runs_dir_words(run.name, inside)} pass the folder that "
            f"holds the runs: --runs-dir {shell_word(runs_folder_above(user_path(args.runs_dir), run))}")


def _split_set_refusal(args: argparse.Namespace) -> str | None:
    """Why `--set KEY VALUE` (a space for the '=') is refused, or None: argparse gives --set the KEY and takes the
    VALUE for the config file, which was then "not found" with the advice to write a config named 1e-4 with
    `finetune-studio init 1e-4`."""
    bare = [item for item in args.overrides if "=" not in item]
    if not bare or not args.config or args.config == STDIN or user_path(args.config).exists():
        return None
    key, value = bare[-1], args.config
    return (f"--set {key} has no '=', so the {shell_word(value)} after it was read as the config file, and there is "
            f"no such file. To fix: join them with '=': --set {shell_word(f'{key}={value}')}")


def _config_from_stdin(command: str) -> tuple[Any, list[str]]:
    """The config given as `-`: YAML read from standard input (`finetune-studio init - | finetune-studio validate -`),
    refused in words when there is none to read. `validate -` looked for a file named "-" and, not finding one,
    advised writing it with `finetune-studio init -`."""
    from finetune_studio.core.config import from_yaml, yaml_load

    source = "the config read from standard input"
    fix = f"pipe a config in (e.g. finetune-studio {command} - < my-run.yaml), or give the config file's name"
    if sys.stdin is None:
        raise ConfigError([Problem("", f"the config is - (standard input), and standard input is closed; nothing "
                                       f"was read. To fix: {fix}.")])
    if _terminal(sys.stdin):
        print("Reading the config from standard input (type or paste it, then Ctrl-D)…", file=sys.stderr)
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError([Problem("", f"{source} is not UTF-8 text ({exc.reason} at line {line}). To fix: save the "
                                       "config as UTF-8 and pipe it in again.")]) from None
    config, notices = from_yaml(text, source=source)
    if not text.strip() or yaml_load(text) is None:  # only whitespace, comments or "---": not the demo
        raise ConfigError([Problem("", f"{source} is empty: it holds no settings. To fix: {fix}, or leave the "
                                       "config out to use the built-in demo.")])
    return config, notices


_PY_WARNING = re.compile(r"^(?P<file>.+?):(?P<line>\d+): \w+: ")  # how logging.captureWarnings words one


def warning_text(message: str, source: str = "") -> str:
    """A library's warning as the command line prints it: all of it, its later lines indented under the first (the
    first line alone cut "The following arguments do not match the ones in the trainer_state.json …:" off before
    the arguments it names), without a "Warning:" of the library's own after ours ("warning: Warning: …"), and
    without the line of code Python's warnings module appends to a captured warning (source "py.warnings")."""
    lines = [line.rstrip() for line in str(message).strip().splitlines()] or [""]
    match = _PY_WARNING.match(lines[0]) if source == "py.warnings" and len(lines) > 1 else None
    if match and lines[-1].strip() == linecache.getline(match["file"], int(match["line"])).strip():
        lines.pop()
    first = re.sub(r"^warning:\s*", "", lines[0], flags=re.IGNORECASE)
    return "\n".join([f"warning: {first}", *(f"  {line.strip()}" for line in lines[1:] if line.strip())])


class ProgressPrinter:
    """Turns run events into a tqdm bar and a few lines; the same events the GUI draws."""

    def __init__(self, quiet: bool = False, said: Iterable[str] = (), lagged: bool = False):
        self.quiet = quiet
        # Events that come late: a run of several processes (core.launch.follow) reads rank 0's metrics.jsonl every
        # POLL_S, so the run may have begun training before its train_begin reaches this printer.
        self.lagged = lagged
        self.bar: Any = None
        self.seen_warnings: set[str] = set(said)  # printed already (before the run: config_warnings)
        self.run_dir: str | None = None  # the run's folder once it is made (run_start): a second Ctrl-C names it
        # The first step has begun (train_begin, sent after core.training's last look at Stop before the first step,
        # its on_train_begin; its "train" phase comes before the Trainer's set-up, where a Stop still trains nothing).
        self.training = False
        # The last loss measured and its step, and the step since which no window measured one: a logging window
        # whose steps trained no token logs no loss (core.training), and the bar keeps the last one and says so.
        self.loss: tuple[Any, int] | None = None
        self.measured_step = 0
        self.said_untrained = False

    def write(self, text: str, always: bool = False) -> None:
        """Show a line on stderr, above the bar; with --quiet only when `always` (the answer to a Ctrl-C)."""
        if self.quiet and not always:
            return
        if self.bar is not None:
            outlive_reader(lambda: self.bar.write(text, file=sys.stderr))
        else:
            outlive_reader(lambda: print(text, file=sys.stderr))

    def stop_text(self) -> str:
        """The answer to a Ctrl-C (or SIGTERM), before "(Ctrl-C again to abort)": what the Stop will do. With late
        events and no train_begin seen yet, the run may be training already, so it promises neither."""
        if self.training:
            return "Stopping at the end of this step and saving a checkpoint…"
        if self.lagged:
            return ("Stopping: at the end of the current step, with a checkpoint, if training has begun; before that "
                    "nothing is trained or saved…")
        return "Stopping before training begins (nothing will be trained or saved)…"

    def __call__(self, event: dict[str, Any]) -> None:
        outlive_reader(lambda: self._show(event))

    def _show(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "run_start":
            self.run_dir = event.get("run_dir")
        if kind == "phase":
            self.write(f"{event['message']}…")
        elif kind in ("notice",):
            if event["message"] not in self.seen_warnings:  # a reply-cut note `train` printed as a warning first
                self.write(f"note: {event['message']}")
        elif kind == "warning":
            message = event["message"]
            if message not in self.seen_warnings:
                self.seen_warnings.add(message)
                self.write(warning_text(message, str(event.get("source") or "")))
        if kind == "train_begin":
            self.training = True
            self.measured_step = int(event.get("step") or 0)  # a resume: the steps before it are not this bar's
        if kind == "train_begin" and not self.quiet:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=event["max_steps"], initial=event["step"], unit="step", file=sys.stderr,
                            dynamic_ncols=True)
        elif kind == "step" and self.bar is not None:
            self.bar.update(event["step"] - self.bar.n)
        elif kind == "log" and self.bar is not None:
            postfix = {"loss": self._loss_text(event)}
            if event.get("tokens_per_s"):
                postfix["tok/s"] = _figure(event["tokens_per_s"], ".0f")
            self.bar.set_postfix(postfix, refresh=False)
        elif kind == "eval" and not self.quiet:
            self.write(f"epoch {_figure(event.get('epoch'), '.2f')} step {event.get('step')}: "
                       f"eval_loss {_figure(event.get('eval_loss'), '.4f')}")
        elif kind == "end" and self.bar is not None:
            self.bar.close()
            self.bar = None

    def _loss_text(self, event: dict[str, Any]) -> str:
        """The bar's loss for a log event. A window whose steps trained no token (chat rows that max_length cuts
        before their reply, or whose settings mask every token) has no loss: the bar keeps the last one measured,
        with its step, and names the steps that trained nothing; the first such window also gets a line that says
        why. The Runs tab and status.json show that same last measured loss."""
        step = int(event.get("step") or 0)
        if "loss" in event:
            self.loss, self.measured_step = (event["loss"], step), step
            return _figure(event["loss"], ".4f")
        first = self.measured_step + 1  # every step since the last loss was in a window that trained no token
        steps = f"step {step}" if first >= step else f"steps {first}-{step}"
        if not self.said_untrained:
            self.said_untrained = True
            self.write(f"note: {steps} trained no token (max_length cut every reply in their batches, or the chat "
                       "settings train none of their tokens), so no loss was measured for them; the bar keeps the "
                       "last measured loss")
        if self.loss is None:
            return f"none yet ({steps} trained no token)"
        return f"{_figure(self.loss[0], '.4f')} at step {self.loss[1]} ({steps} trained no token)"


def _figure(value: Any, spec: str) -> str:
    """A logged number as text; a diverged run logs NaN/inf as the text "nan"/"inf", which is shown as it is."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, spec)
    return "?" if value is None else str(value)


def _train(execute: Any, quiet: bool, term_stops: bool = True, said: Iterable[str] = (), lagged: bool = False) -> int:
    """Run `execute` (a train or resume) with the progress printer. Ctrl-C (SIGINT), and SIGTERM unless
    `term_stops` is off, stop the run at the end of the step with a checkpoint, as the window's Stop does: SIGTERM is
    what `timeout`, `kill`, `docker stop`, systemd and Slurm send, and a run killed by it lost every step since its
    last checkpoint. The same signal again aborts at once. `said`: warnings printed before the run (config_warnings),
    which the run's own notes and warnings do not print again. `lagged`: the events come late (a run of several
    processes, followed through its metrics.jsonl), so the answer to a Stop before train_begin promises nothing."""
    stop = threading.Event()
    printer = ProgressPrinter(quiet, said, lagged)

    def on_interrupt(signum: int, frame: Any) -> None:
        if signum == getattr(signal, "SIGHUP", None):  # the terminal closed: writes to it fail with EIO from now on
            _drop_terminal_outputs()
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        again = "Ctrl-C" if signum == signal.SIGINT else "the same signal"
        # --quiet too: a stop can take a long step
        printer.write(f"{printer.stop_text()} ({again} again to abort)", always=True)

    handled = [signal.SIGINT, signal.SIGTERM] if term_stops else [signal.SIGINT]
    if term_stops and hasattr(signal, "SIGHUP") and signal.getsignal(signal.SIGHUP) is signal.SIG_DFL:
        handled.append(signal.SIGHUP)  # not under nohup (SIG_IGN): the terminal closing stops as SIGTERM does
    previous = {signum: signal.signal(signum, on_interrupt) for signum in handled}
    try:
        result = execute(printer, stop)
    except KeyboardInterrupt:
        return _aborted(printer.run_dir)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if getattr(result, "untrained", None):  # a resume that trained no step: "finished: …" read as if it had trained
        from finetune_studio.core.training import EPOCHS_CAPPED

        outlive_reader(lambda: print(f"nothing trained: {result.message}", flush=True))
        return EXIT_CONFIG if result.untrained == EPOCHS_CAPPED else 0  # more epochs asked, max_steps stops them
    outlive_reader(lambda: print(f"{result.state}: {result.message}", flush=True))
    if result.state == "stopped":
        if result.step > 0:  # a Stop before a new run's first step trained and saved nothing
            outlive_reader(lambda: print(_resume_hint(result.run_dir, always=True).lstrip(), flush=True))
        return EXIT_STOPPED
    return 0


def outlive_reader(say: Any) -> None:
    """Call `say` (a write to stdout or stderr), going on quietly when that stream's reader has left (`train 2>&1 |
    head -1`): the run is not the reader's to end. A write there raised BrokenPipeError inside the run's progress
    sink, which failed the run ("Training failed: BrokenPipeError", nothing trained) and main then exited 0 as for
    any reader gone. Now the streams whose reader left point at devnull and the run trains on; the command exits
    with the run's own code (3 for a stopped one)."""
    try:
        say()
    except BrokenPipeError:
        if not reader_gone():
            raise
        drop_closed_outputs()
    except OSError as exc:  # EIO: the terminal closed (SIGHUP), and this write came before its handler ran
        if exc.errno != errno.EIO or not (HUNG_UP.is_set() or _terminal_gone()):  # the handler may run first
            raise
        _drop_terminal_outputs()


def _aborted(run_dir: str | None) -> int:
    """A second Ctrl-C: say what the run's folder holds now, not a placeholder (the first Ctrl-C's stop may have
    saved its checkpoint just before)."""
    if run_dir:
        from finetune_studio.core.runs import RunFolder

        folder = RunFolder(Path(run_dir))
        status = folder.read_status()
        said = str(status.get("message") or status.get("state") or "no status recorded").rstrip(".") + "."
        print(f"aborted: {run_dir}: {said}{_resume_hint(run_dir)}", file=sys.stderr)
    else:
        print("aborted before the run's folder was made: nothing was trained.", file=sys.stderr)
    return EXIT_FAILED


def _resume_hint(run_dir: Any, always: bool = False) -> str:
    """What follows a run's last line: the resume command when the run has a checkpoint Resume can load (core.runs'
    resume_point, the rule the window's Resume follows); why it cannot resume when it saved checkpoints none of
    which loads; else "", or with `always` the command still (a Stop saves a checkpoint, perhaps in an output_dir
    its config moved them to)."""
    from finetune_studio.core.runs import UNLOADABLE_FIX, RunFolder

    point = RunFolder(Path(run_dir)).resume_point()
    why = point.why_not()
    if why:
        return f" It cannot resume: {why}. To fix: {UNLOADABLE_FIX}."
    resume = f" Resume with: finetune-studio resume {shell_word(run_dir)}"
    return resume if point.checkpoint is not None or always else ""


WINDOW_COMMANDS = (None, "gui")  # no command, or `gui`: gui.launcher opens the desktop app instead of main()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line as `finetune-studio` reads it (exits with usage on --help or a bad argument)."""
    tolerant_stdout()
    try:
        return _parse(_parser(), argv)
    except SystemExit:
        try:  # the help goes now, so a reader that has left (`--help | head -1`) is met here and not at exit
            flush_stdout()
        except BrokenPipeError:
            if not reader_gone():
                raise
            drop_closed_outputs()
        raise


def _parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """`parser.parse_args(argv)`, with an argument the command does not take refused by that command's parser:
    argparse refuses it in the top parser, so `finetune-studio estimate --quiet` printed the usage of the whole
    program (its list of commands) and 'finetune-studio: error: unrecognized arguments: --quiet', nothing of the
    options estimate has."""
    args, extras = parser.parse_known_args(argv)
    if extras:
        commands = next((action.choices for action in parser._actions
                         if isinstance(action, argparse._SubParsersAction)), {})
        command = commands.get(getattr(args, "command", None)) or parser
        command.error(f"unrecognized arguments: {' '.join(extras)}. To fix: drop "
                      f"{'it' if len(extras) == 1 else 'them'}; {command.prog} --help lists its options.")
    return args


def tolerant_stdout() -> None:
    """Let stdout write what its encoding has no character for as a \\u escape, as Python's stderr does, instead of
    failing: under a locale that is not UTF-8 (LANG=de_DE.ISO-8859-1, PYTHONIOENCODING=latin-1) `finetune-studio runs`
    ended with 'finetune-studio runs failed: UnicodeEncodeError: 'latin-1' codec can't encode character '\\u2026'',
    exit 1, over a run message's '…', and `generate` could fail partway through an answer the same way."""
    stream = sys.stdout
    if stream is None or getattr(stream, "errors", None) != "strict" or not hasattr(stream, "reconfigure"):
        return
    try:
        stream.reconfigure(errors="backslashreplace")
    except (AttributeError, OSError, ValueError):  # a stream that cannot change it is left as it is
        pass


def flush_stdout() -> None:
    """Send what is buffered for stdout. A command started with stdout closed (`finetune-studio init a.yaml >&-`, a
    service or cron job that closes it) has sys.stdout None: print() writes nothing there, and the command did its
    work (init wrote the file), but flushing None ended every command with a traceback and exit 1."""
    if sys.stdout is not None:
        sys.stdout.flush()


def reader_gone() -> bool:
    """Whether stdout or stderr is a pipe whose reader has left (`| head -1` took its line and exited): a write
    there raises BrokenPipeError. poll() flags such a pipe with POLLERR. Where poll() is missing (Windows), a
    BrokenPipeError is taken to be that reader's."""
    import select

    if not hasattr(select, "poll"):
        return True
    return any(_closed(stream) for stream in (sys.stdout, sys.stderr))


def _poll_flags(stream: Any) -> int:
    """poll()'s flags for writing to `stream` now; 0 when it has no descriptor to look at (captured in tests, or
    closed) or the platform has no poll()."""
    import select

    if not hasattr(select, "poll"):
        return 0
    try:
        poller = select.poll()
        poller.register(stream.fileno(), select.POLLOUT)
        return functools.reduce(operator.or_, (mask for _, mask in poller.poll(0)), 0)
    except (AttributeError, OSError, ValueError):
        return 0


def _closed(stream: Any) -> bool:
    """Whether `stream` writes to a pipe with no reader left."""
    import select

    return bool(_poll_flags(stream) & select.POLLERR)


def _terminal(stream: Any) -> bool:
    try:
        return os.isatty(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False


HUNG_UP = threading.Event()  # set once the closed terminal's outputs point at devnull (_drop_terminal_outputs)


def _terminal_gone() -> bool:
    """Whether stdout or stderr is a terminal that hung up (closed: poll() flags it with POLLHUP)."""
    import select

    return any(_terminal(stream) and _poll_flags(stream) & (select.POLLHUP | select.POLLERR)
               for stream in (sys.stdout, sys.stderr))


def _to_devnull(which: Callable[[Any], bool]) -> None:
    """Point stdout and stderr, those `which` picks, at devnull: the pattern Python's signal docs give for SIGPIPE."""
    for stream in (sys.stdout, sys.stderr):
        if not which(stream):
            continue
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)
        except (AttributeError, OSError, ValueError):
            pass


def _drop_terminal_outputs() -> None:
    """Point stdout and stderr, those that write to a terminal, at devnull: after a hangup (SIGHUP, the terminal
    closed) every write there fails with EIO, which would fail the run in its progress sink. Nobody reads them now;
    the run's folder keeps its status and metrics."""
    HUNG_UP.set()
    _to_devnull(_terminal)


def drop_closed_outputs() -> None:
    """Point stdout and stderr, those whose reader has left, at devnull: nothing more is written there, and Python's
    last flush at exit does not fail again ('Exception ignored ... BrokenPipeError', exit 120)."""
    _to_devnull(_closed)


def main(argv: list[str] | None = None) -> int:
    """Run one headless command. The window is not core's to open (core imports nothing of gui): the
    `finetune-studio` console script is gui.launcher, which opens it for WINDOW_COMMANDS and calls this otherwise.

    A reader that leaves early (`finetune-studio estimate run.yaml | head -1`) ends any command quietly with exit 0,
    as `generate` does: that is the reader's choice, not a failure (a 141 would fail every `set -o pipefail` script
    that pipes into head), and nothing more is written."""
    args = parse_args(argv)
    try:
        code = _command(args)
        flush_stdout()  # lines still buffered go now, so a reader gone is met here and not at exit
        return code
    except BrokenPipeError:
        if not reader_gone():
            raise
        drop_closed_outputs()
        return 0


def shell_word(path: Any) -> str:
    """`path` as one word of a command the user can paste into a shell: quoted where it holds spaces, quotes or other
    characters the shell splits or reads (a run folder "runs dir/tiny ü" printed bare in "Resume with: finetune-studio
    resume …" pasted as three arguments), as core.advice's and core.runs' commands are. A plain path stays as it is."""
    return shlex.quote(str(path))


def user_path(written: str) -> Path:
    """A path as the user typed it, with ~ for their home folder: what the shell leaves as typed (`--out=~/merged`,
    a quoted '~/run.yaml') was made as a folder named ~ in the current one by init and export (and said "Exported
    ... to ~/merged"), and not found by validate, train and estimate, while runs, generate and resume read ~."""
    return Path(written).expanduser()


def _init_refusal(written: str) -> str | None:
    """Why `init` writes nothing at `written`, or None: it never replaces what is there (a config the user edited, a
    folder, a link), and an empty name is no file. A folder was refused as a file that "exists already" with "move
    that file away first", which names the wrong thing and the wrong fix."""
    if not written.strip():
        return ("the file name is empty; nothing was written. To fix: give the config's file name, e.g. "
                "finetune-studio init my-run.yaml")
    path = user_path(written)
    if path.is_dir():
        return (f"{path} is a folder; nothing was written. To fix: give a file name in it, e.g. finetune-studio "
                f"init {shell_word(path / 'my-run.yaml')}")
    if written.endswith(("/", os.sep)) and path.name not in ("", ".", ".."):  # Path drops the '/': the file was made
        return (f"{written} ends with '/', so it names a folder, and init writes a file; nothing was written. To fix: "
                f"give a file name in it, e.g. finetune-studio init {shell_word(path / 'my-run.yaml')} (init makes "
                "the folder)")
    if path.exists() or path.is_symlink():  # a link to nowhere too: writing would replace the link
        return _exists_message(path)
    return None


def _exists_message(path: Path) -> str:
    return f"{path} exists already; nothing was written. To fix: pick another name, or move that file away first."


def _write_reason(path: Path, exc: OSError) -> str:
    """Why `path` could not be written, in words: the file on the way that is not a folder ("a.yaml is a file, not
    a folder", where the OS says only "File exists" or "Not a directory", of a.yaml/x.yaml), else the OS's reason."""
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            return f"{parent} is a file, not a folder"
    return exc.strerror or str(exc)


def _command(args: argparse.Namespace) -> int:
    """main's work: run the command `args` names and return its exit code."""
    if args.command in WINDOW_COMMANDS:
        print("error: python -m finetune_studio.core.cli runs headless commands only. To fix: open the desktop app "
              "with 'finetune-studio' (or python -m finetune_studio.gui), or name a command, e.g. "
              "'finetune-studio train'.",
              file=sys.stderr)
        return EXIT_FAILED
    try:
        if args.command == "init":
            from finetune_studio.core.config import PRESETS, to_yaml
            from finetune_studio.core.fileio import write_new_text

            if args.path == STDIN:  # the config to standard output, to pipe (`init - | validate -`) or redirect
                print(to_yaml(PRESETS[args.preset]()), end="")
                return 0
            path = user_path(args.path)
            refusal = _init_refusal(args.path)
            if refusal:
                print(f"error: {refusal}", file=sys.stderr)
                return EXIT_CONFIG  # bad input, refused with nothing changed (README's exit codes)
            try:
                written = write_new_text(path, to_yaml(PRESETS[args.preset]()))
            except OSError as exc:
                print(f"error: could not write {path}: {_write_reason(path, exc)}; nothing was written. To fix: pick "
                      f"a folder you can write to, e.g. finetune-studio init ~/{shell_word(path.name)}",
                      file=sys.stderr)
                return EXIT_CONFIG
            if not written:  # made there since the check above (another process): kept, and said as the check says
                print(f"error: {_init_refusal(args.path) or _exists_message(path)}", file=sys.stderr)
                return EXIT_CONFIG
            print(f"Wrote {path}. Run it with: finetune-studio train {shell_word(path)}")
            return 0
        if args.command == "generate":
            from finetune_studio.core.generate_cli import run_cli

            return run_cli(args)
        if args.command in ("runs", "doctor") and _blank_flag_refusal(args):
            print(f"error: {_blank_flag_refusal(args)}", file=sys.stderr)
            return EXIT_CONFIG
        if args.command == "runs":
            return _list_runs(args.runs_dir)
        if args.command == "doctor":
            from finetune_studio.core import doctor

            # A file given as the runs folder was reported as "runs folder notes.txt: 40.2 GB free", exit 0.
            refusal = _runs_file_refusal(user_path(args.runs_dir)) if args.runs_dir else None
            if refusal:
                print(f"error: {refusal}", file=sys.stderr)
                return EXIT_CONFIG
            return doctor.main(args.runs_dir)
        if args.command in HUB_COMMANDS:
            return _hub_command(args)
        if args.command == "export":
            return _export(args)
        if args.command in LAUNCH_COMMANDS:
            return _launch_command(args)
        if args.command == "estimate":
            from finetune_studio.core.estimate import run_cli as estimate_cli

            config = _load(args)
            return estimate_cli(config, command_problems(config))  # validate's refusals stop it, in its words
        if args.command == "validate":
            config = _load(args)
            problems = command_problems(config)
            for problem in problems:
                print(f"problem: {problem}")
            for warning in config_warnings(config, problems):
                print(f"warning: {warning}")
            if problems:
                return EXIT_CONFIG
            print("ok: the config is valid.")
            return 0
        if args.command == "train":
            from finetune_studio.core.training import run

            config = _load(args)
            problems = command_problems(config)  # as `validate` finds them, before the run's folder
            warnings = config_warnings(config, problems)
            for warning in warnings:  # as `validate` prints them: they never block a run
                outlive_reader(lambda: print(f"warning: {warning}", file=sys.stderr))
            if problems:
                raise ConfigError(problems)
            from finetune_studio.core import launch

            said = [warning.message for warning in warnings]  # the run's own note of the same words is not repeated
            if launch.uses_torchrun(config):  # several processes: torchrun trains, this process supervises
                return _train(lambda sink, stop: launch.run(config, sink, stop), args.quiet, said=said, lagged=True)
            return _train(lambda sink, stop: run(config, sink, stop), args.quiet, said=said)
        if args.command == "resume":
            run_dir = _run_folder(args)
        if args.command == "resume" and args.apply_fix and args.steps is not None:
            print(f"error: --apply-fix resumes a failed run with its fix, and --steps {args.steps} trains a run past "
                  f"its max_steps; a resume does one or the other, so nothing was changed. To fix: resume with "
                  f"--apply-fix first; once the run has finished, train it further with finetune-studio resume "
                  f"{shell_word(run_dir)} --steps {args.steps}.", file=sys.stderr)
            return EXIT_CONFIG
        if args.command == "resume" and args.apply_fix:
            from finetune_studio.core import launch
            from finetune_studio.core.advice import apply_fix_and_resume

            # A run of several processes resumes under torchrun with the same processes, as a plain resume does
            return _train(lambda sink, stop: apply_fix_and_resume(run_dir, sink, stop, args.epochs), args.quiet,
                          lagged=launch.run_uses_torchrun(run_dir))
        if args.command == "resume":
            from finetune_studio.core import launch
            from finetune_studio.core.training import resume

            if launch.run_uses_torchrun(run_dir):  # the same number of processes as it started with
                return _train(lambda sink, stop: launch.resume(run_dir, sink, stop, args.epochs,
                                                               extra_steps=args.steps), args.quiet, lagged=True)
            return _train(lambda sink, stop: resume(run_dir, sink, stop, args.epochs, extra_steps=args.steps),
                          args.quiet)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    except (RunBusy, RunFolderUnusable) as exc:  # a run still training, or a folder that is no usable run: nothing
        print(f"error: {exc}", file=sys.stderr)  # was touched, and the user must change something
        return EXIT_CONFIG
    except FinetuneError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if getattr(exc, "bad_input", False):  # export's and push's refusals of what was given (core.export and
            return EXIT_CONFIG  # core.hub BAD_INPUT_KINDS: an --out that is a file, a mistyped --repo): nothing ran
        _print_fix(exc)
        return EXIT_FAILED
    except KeyboardInterrupt:  # Ctrl-C outside a run's own handler (_train): loading, checking, exporting
        # Nothing had trained yet, so there is nothing to resume: "Resume from the latest checkpoint" was said here
        # of a run never started (train's config being checked) and of an export.
        print(f"error: aborted (Ctrl-C){_aborted_before(args)}.", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # one line instead of a traceback; the run folder has the status
        if isinstance(exc, BrokenPipeError) and reader_gone():
            raise  # the reader of stdout left: main ends the command quietly; nothing failed
        print(f"error: {failure_text(args.command, exc)}", file=sys.stderr)
        return EXIT_FAILED
    return 0


READING_COMMANDS = ("validate", "estimate", "runs", "doctor", "whoami", "launch-command")  # they change nothing


def _aborted_before(args: argparse.Namespace) -> str:
    """What a Ctrl-C outside a run's own handler left, after "aborted (Ctrl-C)": "error: aborted (Ctrl-C)." of an
    export said nothing of its destination, which core.export leaves as it was (the partial folder is deleted)."""
    if args.command in TRAINING_COMMANDS:
        return " before training began: nothing was trained or changed"
    if args.command == "export":
        from finetune_studio.core.export import holds_files

        out = user_path(args.out) if args.out else _default_export_dir(args)
        again = " ".join(shell_word(arg) for arg in _export_argv(args))
        # A new folder the export made is removed with what it held: "holds what it held before" was said of none.
        kept = f"{out} holds what it held before" if holds_files(out) else f"no {out} was left"
        return (f": nothing was exported ({kept}) and the run is unchanged. To fix: run finetune-studio {again} "
                "again")
    if args.command in READING_COMMANDS:
        return ": it only reads, so nothing was changed"
    return ""


TRAINING_COMMANDS = ("train", "resume")  # the commands whose unexplained failure is a failed training


def failure_text(command: str, exc: BaseException) -> str:
    """One line for an exception no command explains, in the words of the command that failed: core.training's
    describe_failure for train and resume, whose failure is a failed run; for the others "finetune-studio export
    failed: …", not
    "Training failed: …" of an estimate, an export or a listing that trained nothing, and not its out-of-memory
    advice about batch sizes. A full disk is said as such for every command."""
    from finetune_studio.core.config import RunConfig
    from finetune_studio.core.training import describe_failure

    if command in TRAINING_COMMANDS:
        return describe_failure(exc, RunConfig())
    from finetune_studio.core.advice import disk_full_cause, raised_in

    full = disk_full_cause(exc)
    if full is not None:
        where = f" in {Path(full.filename).parent}" if full.filename else ""
        return f"The disk is full: {command} could not write{where}. To fix: free some space, then try again."
    text = str(exc).strip().splitlines()[0].rstrip(".:") if str(exc).strip() else ""
    where = raised_in(exc)
    said = f"finetune-studio {command} failed: {type(exc).__name__}" + (f": {text}" if text else "")
    return said + (f" (raised in {where})" if where else "") + (
        ". To fix: check the files it reads (a config, a model or run folder) that the message points at; if it "
        "fails the same way again, report it with the command line and this message.")


def command_problems(config: Any) -> list[Any]:
    """What `validate` refuses in a config, and so what `train` and `estimate` refuse before they start: one check
    for the three commands. `estimate` checked only the fields it reads, and estimated a learning_rate of [1] or
    num_train_epochs of 'x' that `validate` refuses (exit 2) as if the run could start."""
    from finetune_studio.core.validation import validate

    return validate(config, render_rows=True)


def config_warnings(config: Any, problems: list[Any]) -> list[Any]:
    """The warnings `validate` prints for a config, and `train` before it trains: core.validation.warnings_for's,
    and, when validation found no problem, what rendering the first chat rows says (token_warnings). Asked after
    validate(config, render_rows=True), whose checks they read: the adapter rank past break-even reads the model's
    layers validation read (core.adapters.warnings_for, build=False), and `train` asked before it, so in a fresh
    process the rank warning was missing from `train`."""
    from finetune_studio.core.validation import token_warnings, warnings_for

    return warnings_for(config) + ([] if problems else token_warnings(config))


def _print_fix(exc: FinetuneError) -> None:
    """A failure that proposes a config change (core.advice.Fix): print it and the command that applies it. A run of
    several processes carries the fix of its failing rank on the supervisor's TrainingError (core.launch's
    failed_with_fix), as a run of one process carries it on its OutOfMemoryFailure."""
    fix, run_dir = getattr(exc, "fix", None), getattr(exc, "run_dir", None)
    if fix is None or run_dir is None:
        return
    from finetune_studio.core.advice import fix_command

    print(f"fix: {fix.as_flags()}", file=sys.stderr)
    print(f"Apply it and restart from the latest checkpoint with: {fix_command(run_dir)}", file=sys.stderr)


def _list_runs(runs_dir: str | None) -> int:
    """`finetune-studio runs`: the Runs tab's listing (core.runs.list_runs), as text. A run training in another
    process shows the step its metrics have reached, a run whose process died says interrupted, and a folder with
    missing or garbled files is listed as broken with the reason, never hidden."""
    from finetune_studio.core.config import default_runs_dir
    from finetune_studio.core.runs import CHECKPOINT_RE, list_runs, scan_runs_dir, unreadable_text

    folder = Path(runs_dir).expanduser() if runs_dir else default_runs_dir()
    if folder.exists() and not folder.is_dir():
        if not runs_dir and os.environ.get("FINETUNE_STUDIO_RUNS"):  # "the default is <that file>" told nothing
            print(f"error: {folder} is a file, not a runs folder (FINETUNE_STUDIO_RUNS names it). To fix: point "
                  "FINETUNE_STUDIO_RUNS at the folder that holds the runs, or pass that folder with --runs-dir.",
                  file=sys.stderr)
            return EXIT_CONFIG
        print(f"error: {_runs_file_refusal(folder)}", file=sys.stderr)
        return EXIT_CONFIG
    if folder.is_dir() and not os.access(folder, os.R_OK | os.X_OK):
        print(f"error: cannot read the runs folder {folder}: permission denied. To fix: make it readable (chmod u+rx "
              f"{shell_word(folder)}), or pass another folder with --runs-dir.", file=sys.stderr)
        return EXIT_CONFIG
    runs = list_runs(folder)  # newest first, as the Runs tab sorts them by default
    if not runs and holds_a_run(folder):  # "No runs in <a run's folder>." of the run itself
        print(f"error: {folder} is the folder of the run {folder.name}, not a runs folder{_env_names(runs_dir)}. To "
              f"fix: {_runs_folder_fix(runs_dir, folder.parent)}", file=sys.stderr)
        return EXIT_CONFIG
    run = _enclosing_run(folder) if not runs else None
    if run is not None:  # a checkpoint (or another folder) of a run said "No runs in <it>.", as if the run had none
        what = (f"a checkpoint of the run {run.name}" if folder.absolute().parent == run and
                CHECKPOINT_RE.match(folder.name) else f"a folder inside the run {run.name}")
        print(f"error: {folder} is {what}, not a runs folder{_env_names(runs_dir)}. To fix: "
              f"{_runs_folder_fix(runs_dir, run.parent)}", file=sys.stderr)
        return EXIT_CONFIG
    # Folders that cannot be looked into (chmod 000, another user's) are named, as the Runs tab names them, not
    # left out as if deleted.
    unreadable = unreadable_text(scan_runs_dir(folder)[1], folder)
    if unreadable:
        outlive_reader(lambda: print(f"warning: {unreadable}", file=sys.stderr))
    if not runs:
        # A folder not made yet has no runs, but a mistyped --runs-dir read as an empty runs folder: say which.
        print(f"No runs in {folder}." if folder.is_dir() else
              f"No runs in {folder}: the folder does not exist (yet; the first run there makes it).")
        return 0
    print(runs_table(runs))
    return 0


def _by_env(runs_dir: str | None) -> bool:
    """Whether `runs` lists the folder FINETUNE_STUDIO_RUNS names (no --runs-dir given)."""
    return not runs_dir and bool(os.environ.get("FINETUNE_STUDIO_RUNS"))


def _env_names(runs_dir: str | None) -> str:
    return " (FINETUNE_STUDIO_RUNS names it)" if _by_env(runs_dir) else ""


def _runs_folder_fix(runs_dir: str | None, parent: Path) -> str:
    """How to list the runs folder `parent` instead. With FINETUNE_STUDIO_RUNS naming a run's folder, the fix said
    only '--runs-dir', so the next `runs` (and the app, and `train`, which made its new run inside that run's folder)
    went on reading the variable."""
    given = f"finetune-studio runs --runs-dir {shell_word(parent)}"
    if _by_env(runs_dir):
        return (f"point FINETUNE_STUDIO_RUNS at the folder that holds the runs (export "
                f"FINETUNE_STUDIO_RUNS={shell_word(parent)}), or pass it: {given}")
    return f"pass the folder that holds the runs: {given}"


def _runs_file_refusal(folder: Path) -> str | None:
    """Why `folder`, given with --runs-dir, is no runs folder, or None: it is a file (`runs` and `doctor`)."""
    from finetune_studio.core.config import default_runs_dir

    if not folder.exists() or folder.is_dir():
        return None
    return (f"{folder} is a file, not a runs folder. To fix: pass the folder that holds the runs with --runs-dir "
            f"(the default is {default_runs_dir()}).")


def _enclosing_run(folder: Path) -> Path | None:
    """The run whose folder holds `folder` (a checkpoint-N, its model/ or ranks/ folder, given as a runs folder), or
    None: the nearest folder above it that is a run's own (core.runs.holds_a_run)."""
    for parent in folder.absolute().parents:
        if holds_a_run(parent):
            return parent
    return None


def _loss_text(value: float | None) -> str:
    """A loss for the runs table in the Runs tab's words (core.metrics.loss_text: 3.403e+38 rather than 44 digits
    of a diverging run), "-" for none."""
    from finetune_studio.core.metrics import loss_text

    return "-" if value is None else loss_text(value)


def step_count(value: Any) -> str:
    """A step count for the runs table, in core.metrics.count_text's words (1,234; from 1e9 on in short, 1.23e12): one
    run with a step of 1e18 (a broken or hand-edited status.json) widened the steps column, and so the whole table,
    for every row; the Runs tab and the loss note say counts by the same rule."""
    from finetune_studio.core.metrics import count_text

    return count_text(value)


def runs_table(runs: list[Any]) -> str:
    """Aligned text, one run (core.runs.RunSummary) a line: name, state, steps, the last train and eval loss (the
    last points of the curves the chart draws), and the run's message. A train loss that is not the loss at the
    run's last step (a resumed run that logged none since, RunSummary.train_loss_note) is marked * and said below
    the table, in the model card's and the Runs tab's words."""
    rows = [("run", "state", "steps", "train loss", "eval loss", "message")]
    notes = []
    for run in runs:
        steps = f"{step_count(run.step)}/{step_count(run.max_steps)}" if run.max_steps else step_count(run.step)
        marked = _loss_text(run.train_loss) + ("*" if run.train_loss_note else "")
        rows.append((run.name, str(run.state), steps, marked, _loss_text(run.eval_loss), run.message))
        if run.train_loss_note:
            notes.append(f"* {run.name}: train loss {_loss_text(run.train_loss)}: {run.train_loss_note}.")
    widths = [max(display_width(row[i]) for row in rows) for i in range(5)]
    lines = []
    for row in rows:
        cells = [_pad(cell, width, right=i >= 2) for i, (cell, width) in enumerate(zip(row, widths))]
        lines.append("  ".join([*cells, row[5]]).rstrip())
    return "\n".join(lines + notes)


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal: East Asian wide and fullwidth characters (a Japanese or Chinese run name)
    take two, combining marks none. len() counts characters, so a table padded with it skews on such names."""
    import unicodedata

    return sum(0 if unicodedata.combining(char) else 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
               for char in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    """`text` padded with spaces to `width` display columns, on the left when `right` (numbers line up)."""
    space = " " * max(0, width - display_width(text))
    return space + text if right else text + space


# ---- the Hugging Face Hub: login, logout, whoami, push ------------------------------------------------------

HUB_COMMANDS = ("login", "logout", "whoami", "push")


def _add_hub_commands(sub: Any) -> None:
    from finetune_studio.core.export import MERGED_DTYPES, SAME_DTYPE

    login = sub.add_parser(
        "login", help="log in to the Hugging Face Hub with an access token",
        description="Check an access token with the Hub, then save it where huggingface_hub keeps its login (shared "
                    "with the app, the hf command and transformers). The token is asked for without echo, or read "
                    "from standard input with --token-stdin; it is never a command-line argument, which shell "
                    "history and process lists would keep.")
    login.add_argument("--token-stdin", action="store_true",
                       help="read the token from standard input, e.g. from a secret store: ... | finetune-studio "
                            "login --token-stdin")
    sub.add_parser("logout", help="forget the Hugging Face login saved on this computer")
    sub.add_parser("whoami", help="show the Hugging Face account in use and the kind of token")
    push = sub.add_parser("push", help="upload a finished run (model, model card, metrics, loss curve) to the Hub",
                          description="Upload a finished run's model, a model card, its metrics and a loss curve "
                                      "to a model repository, created private unless --public. The run folder is "
                                      "only read.")
    push.add_argument("run_dir", help="the run's folder")
    push.add_argument("--repo", metavar="ID", help="owner/name (default: the run's hub.repo_id, else <your user>/"
                                                   "<run name>)")
    push.add_argument("--public", action="store_true", help="create the repository public (default: private)")
    push.add_argument("--message", metavar="MSG", help="commit message (default: Upload <run> from Finetune Studio)")
    push.add_argument("--merged", dest="form", action="store_const", const="merged",
                      help="an adapter run (LoRA, QLoRA, DoRA): push it merged into its base model, loadable without "
                           "peft, in the dtype the run trained in unless --dtype says another (default: the adapter "
                           "alone)")
    push.add_argument("--dtype", choices=MERGED_DTYPES, default=SAME_DTYPE,
                      help=f"with --merged: the dtype the merged weights are saved in, as export --merged --dtype; "
                           f"{SAME_DTYPE} (the default) is the one the run trained in (its model.dtype, or the base "
                           "model's own). float16 and bfloat16 take half of float32's size; float16 is refused for "
                           "weights past 65,504. Without --merged the model is uploaded as saved, so it takes no "
                           "--dtype")
    push.add_argument("--checkpoint", type=checkpoint_step, metavar="N",
                      help="push the run's checkpoint-N (as `export --checkpoint N` exports it) instead of its final "
                           "model, e.g. one saved before it overfit, or a stopped run's: its weights (an adapter, or "
                           "with --merged the adapter merged), the run's card (naming the checkpoint), metrics and "
                           "loss curve; never the optimizer state only Resume reads")


def _hub_command(args: argparse.Namespace) -> int:
    from finetune_studio.core import hub

    if args.command == "login":
        token, given = _read_token(args.token_stdin, hub.endpoint())
        if not token.strip():  # bad input, refused before the Hub is asked (README: exit 2), not a refused request
            at_prompt = given == "none was entered"  # a terminal asked, and the user pressed Enter
            print(f"error: no access token was given ({given}); nothing was saved. To fix: "
                  + ("paste the token at the prompt" if at_prompt else
                     "pipe the token in, e.g. finetune-studio login --token-stdin < token.txt")
                  + f" (create one at {hub.endpoint()}/settings/tokens).", file=sys.stderr)
            return EXIT_CONFIG
        account = hub.login(token)
        from huggingface_hub import constants

        print(f"{account.describe()} Saved to {constants.HF_TOKEN_PATH}.")
        return 0
    if args.command == "whoami":
        print(hub.whoami().describe())
        return 0
    if args.command == "logout":
        had_saved = _saved_login_exists()
        hub.logout()
        if hub.current_token_source() == hub.FROM_ENVIRONMENT:
            print("The HF_TOKEN environment variable is set and still logs you in: unset it to log out"
                  + (" (the saved login was removed)." if had_saved else "."))
        else:
            print("Logged out of the Hugging Face Hub." if had_saved else "Not logged in: nothing to log out.")
        return 0
    return _push(args)


def _read_token(from_stdin: bool, endpoint: str) -> tuple[str, str]:
    """The token `login` was given, and, for none, why, in words: from standard input (--token-stdin), else asked for
    at the prompt. Standard input closed (`<&-`: sys.stdin is None) or at its end before a token (`< /dev/null`, a
    job with no terminal, where getpass reads it) gives none: it ended in a traceback-like "login failed:
    AttributeError: 'NoneType' object has no attribute 'readline'" or "login failed: EOFError", exit 1."""
    if sys.stdin is None and (from_stdin or not _has_terminal()):
        return "", "standard input is closed"
    if from_stdin:
        return sys.stdin.readline(), "the line read from standard input was empty"
    try:
        token = _ask_token(endpoint)
    except EOFError:
        print(file=sys.stderr)  # the error's own line, not after "Token (input hidden): "
        return "", "standard input ended before one was entered, and there is no terminal to type it in"
    return token, "none was entered"


def _has_terminal() -> bool:
    """Whether this process has a terminal getpass can ask on (/dev/tty, which it prefers to standard input; on
    Windows the console of a standard input that is one)."""
    if os.name == "nt":
        return sys.stdin is not None and sys.stdin.isatty()
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
    except OSError:
        return False
    return True


def _ask_token(endpoint: str) -> str:
    import getpass
    import warnings

    print(f"Paste a Hugging Face access token (create one with write access at {endpoint}/settings/tokens).",
          file=sys.stderr)
    with warnings.catch_warnings():  # no terminal: getpass says "Password input may be echoed" itself; its warning
        warnings.simplefilter("ignore", getpass.GetPassWarning)  # added a path and a line of getpass's code
        return getpass.getpass("Token (input hidden): ")


def _saved_login_exists() -> bool:
    from huggingface_hub import constants

    return Path(constants.HF_TOKEN_PATH).is_file()


def _push(args: argparse.Namespace) -> int:
    from finetune_studio.core import hub
    from finetune_studio.core.config import load_config
    from finetune_studio.core.runs import RunFolder

    inside = _checkpoint_given_as_run(args, _push_argv, "Nothing was sent to the Hub.")
    if inside:
        print(f"error: {inside}", file=sys.stderr)
        return EXIT_CONFIG
    run_dir = _run_folder(args)
    repo_id = args.repo
    if not repo_id and RunFolder(run_dir).config_path.is_file():
        try:
            repo_id = load_config(RunFolder(run_dir).config_path)[0].hub.repo_id or None
        except ConfigError:
            pass  # plan_push reports a broken run folder in words
    cancel = threading.Event()

    def progress(event: dict[str, Any]) -> None:  # a reader that leaves does not end the push (outlive_reader)
        if event.get("phase") != "done":
            outlive_reader(lambda: print(f"{event.get('message')}…", file=sys.stderr, flush=True))

    def on_interrupt(signum: int, frame: Any) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        print("Cancelling… (an upload that has started runs to its end; Ctrl-C again to abort)", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        result = hub.push_run(run_dir, repo_id=repo_id, private=not args.public, commit_message=args.message,
                              progress=progress, cancel=cancel, form=args.form,
                              dtype=args.dtype,  # without --merged, anything but auto is refused (bad input)
                              # one the run has not whole is refused with those it has; none: the call as before it
                              **({"checkpoint": args.checkpoint} if args.checkpoint is not None else {}))
    except hub.HubError as exc:
        if exc.kind not in (hub.NO_CHECKPOINT, hub.CHECKPOINT_REMOVED) or exc.refusal is None:
            raise
        print(f"error: {_checkpoint_refusal(args, exc.refusal, _push_argv)}", file=sys.stderr)
        return EXIT_CONFIG if exc.kind == hub.NO_CHECKPOINT else EXIT_FAILED  # deleted while pushed: a failure
    except KeyboardInterrupt:
        again = " ".join(shell_word(arg) for arg in _push_argv(args))
        print(f"error: aborted. The repository got every file or none; push again to be sure: finetune-studio "
              f"{again}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        signal.signal(signal.SIGINT, previous)
    outlive_reader(lambda: print(f"Nothing new to push: {result.url} holds these {len(result.files)} files already "
                                 "(no commit was made)" if result.unchanged else
                                 f"Pushed {len(result.files)} files to {result.url}", flush=True))
    return 0


def _push_argv(args: argparse.Namespace) -> list[str]:
    """The push command as given (its run folder, --checkpoint, --repo, --public, --message, --merged and a --dtype
    other than auto), to repeat after a second Ctrl-C: a push again with another dtype would upload other weights."""
    from finetune_studio.core.export import SAME_DTYPE

    checkpoint = ["--checkpoint", str(args.checkpoint)] if args.checkpoint is not None else []
    argv = ["push", args.run_dir, *checkpoint, *(["--repo", args.repo] if args.repo else []),
            *(["--public"] if args.public else []),
            *(["--message", args.message] if args.message else []), *(["--merged"] if args.form else [])]
    return argv + (["--dtype", args.dtype] if args.dtype not in (None, SAME_DTYPE) else [])


# ---------------------------------------------------------------------------------------------- several processes
LAUNCH_COMMANDS = ("worker", "supervise", "launch-command")


def _add_launch_commands(sub: Any) -> None:
    worker = sub.add_parser("worker", help="one rank of a multi-process run (torchrun starts it; see "
                                           "launch-command)")
    worker.add_argument("run_dir", help="the run's folder (created on a machine that has none yet)")
    worker.add_argument("--config", help="the run config YAML (default: RUN_DIR/config.yaml)")
    worker.add_argument("--resume-from", metavar="CHECKPOINT", help="a checkpoint folder, or 'latest'")
    supervise = sub.add_parser("supervise", help="train a prepared run folder with torchrun and watch its "
                                                 "processes (the app starts this)")
    supervise.add_argument("run_dir", help="the run's folder, prepared by the app")
    supervise.add_argument("--resume", action="store_true", help="continue from the latest checkpoint")
    supervise.add_argument("--epochs", type=float, help="with --resume: this many more epochs")
    supervise.add_argument("--steps", type=int, metavar="K",
                           help="with --resume: K more optimizer steps of a run its config's max_steps caps")
    supervise.add_argument("--restart", action="store_true",
                           help="with --resume: start again from step 0 when no complete checkpoint was saved (after "
                                "a fix was applied)")
    supervise.add_argument("--rdzv-timeout", type=float,
                           help="seconds to wait for every machine to join (default: the config's launch.join_timeout)")
    command = sub.add_parser("launch-command", help="print the torchrun line for every machine of a "
                                                    "multi-machine run")
    command.add_argument("config", help="the run config YAML (its launch: section)")
    command.add_argument("--run-dir", help="the run folder on every machine (default: RUNS/NAME)")
    command.add_argument("--resume", action="store_true", help="lines that resume from the latest checkpoint")


def _launch_command(args: argparse.Namespace) -> int:
    from finetune_studio.core import launch

    if args.command == "worker":
        from finetune_studio.core.distributed import SUPERVISED_ENV, rank_info, worker_main

        info = rank_info()
        if info is not None and info.is_main and not os.environ.get(SUPERVISED_ENV):
            # A torchrun line run by hand starts a segment: a stop file there is an earlier segment's (a SIGKILLed
            # supervisor or rank 0 ran no clean-up), and rank 0 would stop this one before its first step.
            launch.drop_stop_request(Path(args.run_dir))
        return worker_main(user_path(args.run_dir), user_path(args.config) if args.config else None, args.resume_from)
    if args.command == "supervise":
        def on_term(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt  # the supervisor's cleanup ends torchrun and every rank

        signal.signal(signal.SIGTERM, on_term)
        timeout = args.rdzv_timeout  # None: the config's launch.join_timeout
        run_dir = _run_folder(args)
        refusal = _supervise_refusal(run_dir, args)
        if refusal:
            print(f"error: {refusal}", file=sys.stderr)
            return EXIT_CONFIG
        # Started by the window (start_detached cleared the stop file just before): a Stop there now is this
        # segment's. Run by hand: one there is an earlier segment's. Not passed on to torchrun and its ranks.
        keep_stop = os.environ.pop(launch.STOP_CLEARED_ENV, None) is not None
        return _train(lambda sink, stop: launch.supervise(run_dir, sink, stop, args.resume, args.epochs, timeout,
                                                          keep_stop, args.restart, args.steps),
                      quiet=True, term_stops=False)
    from finetune_studio.core.config import load_config

    empty = _empty_flag_refusal("--run-dir", args.run_dir, "is the run folder on every machine", "~/runs/my-run",
                                "the default: the config's runs folder and run name")
    if empty:
        print(f"error: {empty}", file=sys.stderr)
        return EXIT_CONFIG
    # ~ as the user's home, as every command reads it: a quoted '~/runs/x' (--run-dir='~/runs/x') made every line
    # train in a folder named ~ under this one, and a quoted '~/run.yaml' was not found.
    if args.config == STDIN:  # the lines name the config file for every machine to read; stdin is no file
        print("error: launch-command needs the config as a file (-, standard input, was given): every machine's line "
              "names that file. To fix: save the config first (e.g. finetune-studio init - > run.yaml, or your own "
              "YAML), copy it to every machine, and give its name.", file=sys.stderr)
        return EXIT_CONFIG
    config_path = user_path(args.config)
    config, notices = load_config(config_path)
    for notice in notices:
        print(f"note: {notice}", file=sys.stderr)
    problems, warnings, note = _launch_checks(config, args.config)
    for problem in problems:  # validate's words; stdout stays for the lines alone
        print(f"error: {problem}", file=sys.stderr)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if note:
        print(f"note: {note}", file=sys.stderr)
    if problems:
        return EXIT_CONFIG
    for line in launch.node_commands(config, config_path, user_path(args.run_dir) if args.run_dir else None,
                                     args.resume):
        print(line)
    return 0


def _supervise_refusal(run_dir: Path, args: argparse.Namespace) -> str | None:
    """Why `supervise` run by hand must not start, or None. Without --resume it trains the folder from step 0, as the
    app's Start does for a folder it has just prepared: run on a run that had trained (a finished one), it trained it
    again from scratch and replaced its model and checkpoints. And --epochs without --resume was dropped without a
    word, as was --restart without --resume."""
    if getattr(args, "restart", False) and not args.resume:
        return ("--restart starts a resumed run again from step 0 when it has no complete checkpoint, and --resume was "
                "not given; nothing was started. To fix: add --resume, or apply the run's fix and restart it with "
                f"finetune-studio resume {shell_word(run_dir)} --apply-fix.")
    if args.epochs is not None and not args.resume:
        return (f"--epochs {args.epochs:g} adds epochs to a resumed run, and --resume was not given; nothing was "
                f"started. To fix: add --resume, or resume with finetune-studio resume {shell_word(run_dir)} "
                f"--epochs {args.epochs:g}.")
    steps = getattr(args, "steps", None)  # as restart: a Namespace of the command's older flags has none
    if steps is not None and not args.resume:
        return (f"--steps {steps} adds steps to a resumed run, and --resume was not given; nothing was started. "
                f"To fix: add --resume, or resume with finetune-studio resume {shell_word(run_dir)} --steps "
                f"{steps}.")
    if args.resume:
        return None
    from finetune_studio.core.runs import RunFolder

    folder = RunFolder(run_dir)
    status = folder.read_status()
    step = status.get("step")
    trained = (isinstance(step, int) and step > 0) or folder.model_dir.exists() or bool(folder.checkpoints())
    if not trained:
        return None
    said = str(status.get("message") or status.get("state") or "it holds a model or checkpoints").rstrip(".")
    return (f"The run {run_dir.name} has trained already ({said}), and supervise without --resume trains a prepared "
            "run from its first step, replacing its model and checkpoints; nothing was started. To fix: resume it "
            f"with finetune-studio resume {shell_word(run_dir)} (or supervise --resume), or start a new run with "
            "finetune-studio train.")


def _launch_checks(config: Any, config_path: str) -> tuple[list[Any], list[Any], str]:
    """What `validate` says of the config, for the lines launch-command prints: (problems, warnings, a note on the
    checks left out, or ''). Which checks of this machine apply is core.launch.lines_checks' rule, the one the Launch
    tab's Copy launch command follows: where machine 0's line runs here, every check applies, as `validate` and
    `train` make them. Elsewhere the lines run on other machines, so the checks of this machine alone (its GPUs and
    memory, a port in use; its files: validate's `check_files`) are left out, and the note says so."""
    from finetune_studio.core import launch
    from finetune_studio.core.validation import validate, warnings_for

    host = launch.rendezvous_host(config)
    here = launch.machine_zero_here(config)
    # Elsewhere, warnings first: torch is not imported yet, so none is said of this machine's GPUs and cores
    # (launch_warnings). Here, after validate: they are machine 0's.
    warnings = [] if here else warnings_for(config)
    problems, this_machine = launch.lines_checks(config, validate(config, check_files=here), here)
    if here:
        warnings = warnings_for(config)
        nodes = config.launch.nodes
        others = isinstance(nodes, int) and nodes > 1 and host is not None and not launch.is_loopback(host)
        rest = "machine 1 runs its line" if nodes == 2 else f"machines 1 to {nodes - 1} run theirs"
        note = (f"the checks of this machine (its GPUs, memory, ports and files) are machine 0's ({host}); {rest} "
                f"elsewhere, unchecked: check each on its machine with finetune-studio validate "
                f"{shell_word(config_path)}."
                ) if others and not problems else ""
        return problems, warnings, note
    said = f" Here they find: {' '.join(p.message for p in this_machine)}" if this_machine else ""
    note = (f"machine 0 ({host}) is not this machine, so the lines run on other machines: the checks of this "
            f"machine alone (its GPUs, memory, ports and files) were left out.{said} To check a machine, run "
            f"finetune-studio validate {shell_word(config_path)} on it.")
    return problems, warnings, note


# ---- export an adapter run: the adapter alone, or merged into its base model --------------------------------------


def _add_export_command(sub: Any) -> None:
    from finetune_studio.core.export import MERGED_DTYPES, SAME_DTYPE

    export = sub.add_parser("export", help="export a finished adapter run: the adapter alone or merged into its base",
                            description="Write a finished LoRA/QLoRA/DoRA run's model to a folder: --adapter copies "
                                        "the adapter (loads with peft on top of its base model), --merged merges it "
                                        "into the base model (loads with transformers alone). Free disk space is "
                                        "checked first. By default the export is written into the run folder "
                                        "(export-adapter/ or export-merged/); nothing else of the run changes.")
    kind = export.add_mutually_exclusive_group(required=True)
    kind.add_argument("--merged", dest="kind", action="store_const", const="merged",
                      help="the base model with the adapter merged in (merge_and_unload), in the dtype the run "
                           "trained in unless --dtype says another")
    kind.add_argument("--adapter", dest="kind", action="store_const", const="adapter",
                      help="adapter_model.safetensors + adapter_config.json and the tokenizer")
    export.add_argument("run_dir", help="the run's folder")
    export.add_argument("--out", metavar="DIR", help="where to write (default: RUN_DIR/export-merged or "
                                                      "RUN_DIR/export-adapter); must be empty or new, or hold an "
                                                      "earlier export with --replace")
    export.add_argument("--replace", action="store_true",
                        help="replace an earlier export in that folder (it is kept until the new one is written); a "
                             "folder that holds anything else is still refused")
    export.add_argument("--dtype", choices=MERGED_DTYPES, default=SAME_DTYPE,
                        help=f"with --merged: the dtype its weights are saved in; {SAME_DTYPE} (the default) is the "
                             "one the run trained in (its model.dtype, or the base model's own). float16 and "
                             "bfloat16 take half of float32's size; float16 is refused for weights past 65,504. "
                             "An adapter is copied as saved, so --adapter takes no --dtype")
    export.add_argument("--checkpoint", type=checkpoint_step, metavar="N",
                        help="export the run's checkpoint-N (as `generate RUN --checkpoint N` answers with it) instead "
                             "of its final model, e.g. one saved before it overfit; default folder: "
                             "RUN_DIR/export-merged-checkpoint-N or RUN_DIR/export-adapter-checkpoint-N")


def checkpoint_step(text: str) -> int:
    """--checkpoint's N: a whole number (the run then says whether it has that checkpoint, and which it has).
    "--checkpoint abc" said "invalid int value: 'abc'", and "--checkpoint checkpoint-2" (the folder's name) too."""
    word = text.strip()
    named = word.removeprefix("checkpoint-")
    try:
        return int(named)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a checkpoint's step. To fix: give the N of a checkpoint-N folder of the run, a whole "
            "number (--checkpoint 2), or leave --checkpoint out for its final model.") from None


def _export(args: argparse.Namespace) -> int:
    """`finetune-studio export`. A destination that holds an earlier export (a second export after the run trained
    on, the default folder included) was refused with "delete it first" and no way to replace it from the command
    line, which the window's Export dialog offers: --replace does it, by core.export's own replace (the earlier
    export is moved aside and deleted only once the new one is in place; a folder holding anything else is refused
    either way)."""
    from finetune_studio.core.export import CHECKPOINT_REMOVED, NO_CHECKPOINT, NOT_EMPTY, ExportError, export_run

    empty = _empty_flag_refusal("--out", args.out, "names the folder the export is written to", "~/exported",
                                f"the default: {shell_word(_default_export_dir(args))}")
    if empty:
        print(f"error: {empty}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        inside = _checkpoint_given_as_run(args)
        if inside:
            print(f"error: {inside}", file=sys.stderr)
            return EXIT_CONFIG
        run_dir = _run_folder(args)
        # A reader that leaves (`export … 2>&1 | head -1`) does not end the export: outlive_reader, as a run does.
        result = export_run(run_dir, args.kind, user_path(args.out) if args.out else None, overwrite=args.replace,
                            progress=lambda message: outlive_reader(lambda: print(f"{message}…", file=sys.stderr,
                                                                                  flush=True)),
                            dtype=args.dtype,  # with --adapter, anything but auto is refused in core.export's words
                            # one the run has not whole is refused with those it has; none: the call as before it
                            **({"checkpoint": args.checkpoint} if args.checkpoint is not None else {}))
    except ExportError as exc:
        if exc.kind in (NO_CHECKPOINT, CHECKPOINT_REMOVED) and exc.refusal is not None:
            print(f"error: {_checkpoint_refusal(args, exc.refusal, _export_argv)}", file=sys.stderr)
            # one the run deleted while it was exported was whole when given: a failure (exit 1), as README has an
            # export of a run another process trains, not bad input
            return EXIT_CONFIG if exc.kind == NO_CHECKPOINT else EXIT_FAILED
        if exc.problem != NOT_EMPTY:
            raise
        again = " ".join(shell_word(arg) for arg in _export_argv(args))
        # core says which earlier export it holds (core.export.earlier_export_text): "It holds an earlier export."
        # said it of none
        print(f"error: {str(exc).split(' To fix: ')[0]} To fix: replace it with finetune-studio {again} --replace, or "
              "choose another folder (--out DIR).", file=sys.stderr)
        return EXIT_CONFIG
    outlive_reader(lambda: print(result.message, flush=True))
    return 0


def _checkpoint_refusal(args: argparse.Namespace, refusal: Any, argv: Callable[[argparse.Namespace], list[str]]
                        ) -> str:
    """The refusal of a checkpoint generate, export or push cannot use (core.generate.CheckpointRefusal: why, and the
    run's other whole models), with its fix said as the command is typed (_checkpoint_choices_words): the one wording
    of the three commands. Push said the bare numbers core.generate words ("give one of its checkpoints: 1 or 2"),
    and generate said them still; export and push read the fix out of core's message text to reword it."""
    fix = _checkpoint_choices_words(args, refusal.choices, argv) if refusal.choices else refusal.fallback
    if refusal.elsewhere is not None:  # a link to another run's checkpoint: that run's folder gives it
        step = refusal.elsewhere.name.rpartition("-")[2]
        fix = f"give that run's folder ({refusal.elsewhere.parent} --checkpoint {step}), or {fix}"
    return f"{refusal.reason} To fix: {fix}" + (f" {refusal.also}" if refusal.also and refusal.choices else "")


def _checkpoint_choices_words(args: argparse.Namespace, choices: tuple[int | None, ...],
                              argv: Callable[[argparse.Namespace], list[str]] | None = None) -> str:
    """The fix of a checkpoint `export --checkpoint N` cannot use, as the user types it: "give --checkpoint 1 or
    --checkpoint 3 (finetune-studio export --adapter RUN --checkpoint 3), or leave --checkpoint out for its final
    model." from core.export's ExportError.choices (the run's other whole models), with the command of the newest
    checkpoint as given otherwise. The fix said them as bare numbers ("give one of its checkpoints: 1 or 3"), and as
    core.generate's "--checkpoint 1 or 3" (helper-216). More than four: the newest four, and how many there are.
    `argv`: the command as given (_export_argv, the default; _push_argv for a push)."""
    steps = [step for step in choices if step is not None]
    shown = steps[-4:]
    named = [f"--checkpoint {step}" for step in shown]
    ways = []
    if named:
        again = (argv or _export_argv)(args)
        again[again.index("--checkpoint") + 1] = str(shown[-1])
        listed = f"{', '.join(named[:-1])} or {named[-1]}" if len(named) > 1 else named[0]
        if len(steps) > len(shown):
            listed = f"one of the newest {len(shown)} of its {len(steps)} whole checkpoints, {listed}"
        ways.append(f"give {listed} (finetune-studio {' '.join(shell_word(arg) for arg in again)})")
    if None in choices:
        ways.append("leave --checkpoint out for its final model")
    return f"{', or '.join(ways)}."


def generate_refusal(args: argparse.Namespace, exc: BaseException) -> str | None:
    """What `generate RUN --checkpoint N` says of a checkpoint the run cannot answer with (not there, none at all,
    damaged: core.generate.resolve's GenerationError carrying a CheckpointRefusal), as export and push say it, with
    the generate command to type (_checkpoint_refusal); None for any other error, said as it is. Printed by
    core.generate_cli.run_cli, which said resolve's bare "give one of its checkpoints: 4, 8 or 12"."""
    refusal = getattr(exc, "refusal", None)
    if refusal is None or getattr(args, "checkpoint", None) is None:
        return None
    return _checkpoint_refusal(args, refusal, _generate_argv)


def _generate_argv(args: argparse.Namespace) -> list[str]:
    """The generate command as given: its folder, --checkpoint, --base, the prompt (or prompts file) and --system."""
    prompt = (["--prompt", args.prompt] if getattr(args, "prompt", None) is not None else
              ["--prompts", args.prompts] if getattr(args, "prompts", None) else [])
    return ["generate", args.folder, "--checkpoint", str(args.checkpoint), *(["--base"] if args.base else []),
            *prompt, *(["--system", args.system] if getattr(args, "system", "") else [])]


def _export_argv(args: argparse.Namespace) -> list[str]:
    """The export command as given (its kind, run folder, --checkpoint, --out and a --dtype other than auto), to
    repeat with --replace or after a Ctrl-C."""
    from finetune_studio.core.export import SAME_DTYPE

    dtype = ["--dtype", args.dtype] if args.dtype not in (None, SAME_DTYPE) else []
    checkpoint = ["--checkpoint", str(args.checkpoint)] if args.checkpoint is not None else []
    return ["export", f"--{args.kind}", args.run_dir, *checkpoint, *(["--out", args.out] if args.out else []), *dtype]


def _default_export_dir(args: argparse.Namespace) -> Path:
    """Where `export` writes without --out (core.export.default_out_dir: a checkpoint's has a folder of its own)."""
    from finetune_studio.core.export import default_out_dir

    return default_out_dir(Path(args.run_dir), args.kind, args.checkpoint)


def _checkpoint_given_as_run(args: argparse.Namespace, argv: Callable[[argparse.Namespace], list[str]] | None = None,
                             nothing: str = "Nothing was exported.") -> str | None:
    """Why a run's checkpoint-N folder given as the run to export (or push) is refused, with the command that
    exports (pushes) it; None for anything else (core.runs.run_folder_problem words the rest). "give the folder of
    the run it is in" was the fix, and that exported the run's final model, not the checkpoint the user picked.
    `argv`: the command as given (_export_argv, _push_argv: the run folder, then --checkpoint N where given);
    `nothing`: what was done of it."""
    from finetune_studio.core.runs import CHECKPOINT_RE, RunFolder

    given = user_path(args.run_dir) if args.run_dir.strip() else None
    try:
        if given is None or not given.is_dir() or RunFolder(given).exists():
            return None
        if not CHECKPOINT_RE.match(given.name):  # `.` or `..` naming it: its own name, and the run's whole path
            given = given.resolve()
        match = CHECKPOINT_RE.match(given.name)
        run = given.parent
        if match is None or not RunFolder(run).exists():
            return None
    except OSError:  # a name the disk cannot take: core.runs.run_folder_problem says it, as for any command
        return None
    step = int(match.group(1))
    again = (argv or _export_argv)(args)  # ["export", "--KIND", RUN, (--checkpoint N), …] or ["push", RUN, …]
    at = again.index(args.run_dir)
    again[at] = str(run)
    if args.checkpoint is None:
        again[at + 1:at + 1] = ["--checkpoint", str(step)]
    else:
        again[at + 2] = str(step)
    other = args.checkpoint not in (None, step)
    also = f" (and --checkpoint {args.checkpoint} names another one, checkpoint-{args.checkpoint})" if other else ""
    return (f"{given} is checkpoint-{step} of the run {run.name}, not a run folder: {again[0]} takes the run's folder "
            f"and the checkpoint's step{also}. {nothing} To fix: finetune-studio "
            f"{' '.join(shell_word(arg) for arg in again)}" + (f", or --checkpoint {args.checkpoint} in its place for "
                                                                f"checkpoint-{args.checkpoint}." if other else "."))


if __name__ == "__main__":
    sys.exit(main())
