"""helper-110's CLI flaws: --set of a list or mapping for a text field is judged as the same value in a config file
(not kept as the text "[a, b]"), and `init` never replaces a file made after its check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.config import apply_overrides, default_config
from finetune_studio.core.errors import ConfigError


def _file_text(key: str, value: str) -> str:
    head, _, rest = key.partition(".")
    return f"{head}:\n  {rest}: {value}\n" if rest else f"{head}: {value}\n"


def _lines_about(key: str, out: str) -> list[str]:
    return [line for line in out.splitlines() if f": {key}: " in line]


@pytest.mark.parametrize(("key", "value", "said"), [
    ("name", "[a, b]", "error: name: name must be one run name as text, not a list (got [a, b]). To fix: write one "
                       "name of letters, digits, - and _, e.g. name: my-run, or remove name to have one made from "
                       "the date and time."),
    ("runs_dir", "{a: b}", "error: runs_dir: runs_dir must be one folder as text, not a mapping (got {a: b}). To fix: "
                           "write one folder, e.g. runs_dir: ~/finetune-runs, or remove runs_dir to use the per-user "
                           "default ("),
    ("hub.repo_id", "[a, b]", "problem: hub.repo_id: repo_id must look like owner/name (got [a, b]). To fix: write "
                              "it as your Hub user or organization, a slash and a name, e.g. me/my-model."),
    ("model.name_or_path", "[a, b]", "problem: model.name_or_path: model.name_or_path must be one model as text (got "
                                     "[a, b], a list). To fix: write one Hub id (owner/name) or folder, e.g. "
                                     "name_or_path: Qwen/Qwen3-0.6B."),
    ("dataset.source", "[a.jsonl, b.jsonl]", "problem: dataset.source: dataset.source must be one file, folder or Hub "
                                             "id as text (got [a.jsonl, b.jsonl], a list). To fix: write one source, "
                                             "or put the files in one folder and give the folder."),
    ("dataset.split", "[train, test]", "problem: dataset.split: split must be text (got [train, test]). To fix: write "
                                       "text."),
    ("chat.format", "[text]", "problem: chat.format: chat.format must be a name, not a list (got [text]). To fix: "
                              "write one of auto, text, prompt_completion, alpaca, messages, sharegpt."),
    ("training.run_name", "[a, b]", "problem: training.run_name: run_name must be text (got [a, b]). To fix: write "
                                    "text, or remove run_name to use the default."),
])
def test_set_a_list_or_mapping_for_a_text_field_is_refused_as_in_a_file(
        tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture, key: str, value: str, said: str) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(_file_text(key, value), encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    from_file = _lines_about(key, captured.out + captured.err)
    assert main(["validate", "--set", f"{key}={value}"]) == 2
    captured = capsys.readouterr()
    from_set = _lines_about(key, captured.out + captured.err)
    assert from_set == from_file
    assert len(from_set) == 1 and from_set[0].startswith(said)


def test_set_name_list_is_refused_where_it_is_parsed() -> None:
    """The rule of a config file's name (core.config.name_problem's words): not the run "[a, b]"."""
    with pytest.raises(ConfigError) as raised:
        apply_overrides(default_config(), ["name=[a, b]"])
    assert [p.field for p in raised.value.problems] == ["name"]
    assert "(got [a, b])" in raised.value.problems[0].message and "To fix:" in raised.value.problems[0].message
    assert raised.value.partial is not None and raised.value.partial.name == ""


def test_set_keeps_text_that_is_not_written_as_a_list_or_mapping() -> None:
    config, _ = apply_overrides(default_config(), ["dataset.source=data/a: b.jsonl", "hub.repo_id=me/model",
                                                   "dataset.text_column=2024", "report_to=[wandb, tensorboard]",
                                                   "name=[draft] run"])
    assert config.dataset.source == "data/a: b.jsonl"  # a path with ': ' in it, which YAML reads as a mapping
    assert config.hub.repo_id == "me/model" and config.dataset.text_column == "2024"
    assert config.training["report_to"] == ["wandb", "tensorboard"]  # a field that takes a list keeps it
    assert config.name == "[draft] run"  # not YAML at all: the text typed


# ---------------------------------------------------------------------------------------------- init


def _made_after_the_check(monkeypatch: pytest.MonkeyPatch, make: Callable[[Path], object]) -> None:
    """`init` checks the path (cli._init_refusal) before it writes: another process makes something there in
    between, which `make` plays, right after the first check found nothing."""
    from finetune_studio.core import cli

    real = cli._init_refusal
    made: list[bool] = []

    def racing(written: str) -> str | None:
        said = real(written)
        if not made:
            made.append(True)
            make(cli.user_path(written))
        return said

    monkeypatch.setattr(cli, "_init_refusal", racing)


def test_init_keeps_a_file_made_after_its_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "run.yaml"
    _made_after_the_check(monkeypatch, lambda p: p.write_text("theirs: true\n", encoding="utf-8"))
    assert main(["init", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"error: {path} exists already; nothing was written. To fix: pick another "
                                         "name, or move that file away first."]
    assert captured.out == ""
    assert path.read_text(encoding="utf-8") == "theirs: true\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.yaml"]  # no temporary file left beside it


def test_init_keeps_a_folder_made_after_its_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "run.yaml"
    _made_after_the_check(monkeypatch, lambda p: p.mkdir())
    assert main(["init", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {path} is a folder; nothing was written. To fix: give a file name in it, e.g. finetune-studio init "
        f"{path / 'my-run.yaml'}"]
    assert path.is_dir() and list(path.iterdir()) == []


def test_init_on_a_disk_without_hard_links_still_never_replaces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture) -> None:
    """Where os.link is refused (FAT, exFAT), the file is created with open mode 'x': written when nothing is there,
    and a file made after the check is still kept."""
    import errno
    import os

    from finetune_studio.core.config import load_config

    def no_links(*args: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    fresh = tmp_path / "fresh.yaml"
    assert main(["init", str(fresh)]) == 0
    assert capsys.readouterr().out == f"Wrote {fresh}. Run it with: finetune-studio train {fresh}\n"
    assert load_config(fresh)[0].model.name_or_path == "builtin:demo"
    path = tmp_path / "run.yaml"
    _made_after_the_check(monkeypatch, lambda p: p.write_text("theirs: true\n", encoding="utf-8"))
    assert main(["init", str(path)]) == 2
    assert "exists already; nothing was written." in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == "theirs: true\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.yaml", "run.yaml"]


# ---------------------------------------------------------------------------------------------- --help


def test_every_option_of_every_command_says_what_it_does() -> None:
    """`resume --quiet`, `init --preset`, `runs --runs-dir` and supervise's run folder showed no help at all in
    their command's --help (train's --quiet had its line)."""
    import argparse

    from finetune_studio.core.cli import _parser

    commands = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    silent = [f"{name} {action.dest}" for name, parser in commands.items() for action in parser._actions
              if not isinstance(action, argparse._HelpAction) and not action.help]
    assert silent == []
    helped = {name: parser.format_help() for name, parser in commands.items()}
    for command in ("train", "resume"):  # warnings, errors and the Ctrl-C answer still print (ProgressPrinter)
        assert ("--quiet no progress bar or progress lines: warnings, errors and the final line only"
                in " ".join(helped[command].split()))
    assert "the settings to write: demo" in helped["init"]
    assert "the folder that holds the runs" in helped["runs"]
