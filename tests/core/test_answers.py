"""core.answers: answers.jsonl keeps every answer a comparison wrote, whatever a crash or a full disk did to it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from finetune_studio.core import answers as saved
from finetune_studio.core.generate import GenerationError


def record(prompt: str, model: str, answer: str) -> dict[str, str]:
    return {"prompt": prompt, "model": model, "answer": answer}


def test_a_line_cut_mid_character_hides_only_itself(tmp_path: Path) -> None:
    for step in range(10):
        saved.append_answer(tmp_path, record(f"p{step}", "base", f"answer {step}"))
    with saved.answers_path(tmp_path).open("ab") as handle:
        handle.write('{"prompt": "p", "model": "base", "answer": "caf'.encode() + "é".encode()[:1])
    found = saved.read_answers(tmp_path)
    assert [r["answer"] for r in found] == [f"answer {step}" for step in range(10)]


def test_a_bad_byte_inside_a_line_skips_that_line_and_keeps_the_next(tmp_path: Path) -> None:
    path = saved.answers_path(tmp_path)
    good = json.dumps(record("Leo", "base", "a week")).encode()
    path.write_bytes(good + b"\n" + b'{"prompt": "x\xff", "model": "base"}\n' + good.replace(b"base", b"final")
                     + b"\n")
    table = saved.answer_table(saved.read_answers(tmp_path))
    assert table.models == ["base", "final"] and table.answer("Leo", "final") == "a week"


def test_an_answer_after_a_cut_off_line_is_kept(tmp_path: Path) -> None:
    saved.append_answer(tmp_path, record("Leo", "base", "first"))
    with saved.answers_path(tmp_path).open("a", encoding="utf-8") as handle:
        handle.write('{"prompt": "Leo", "model": "checkp')  # a crash mid-write: no newline
    saved.append_answer(tmp_path, record("Leo", "checkpoint-2", "second"))
    saved.append_answer(tmp_path, record("Leo", "final", "third"))
    assert [r["answer"] for r in saved.read_answers(tmp_path)] == ["first", "second", "third"]
    lines = saved.answers_path(tmp_path).read_text(encoding="utf-8").splitlines()
    assert lines[1] == '{"prompt": "Leo", "model": "checkp' and len(lines) == 4


def test_appending_to_a_new_or_empty_file_starts_no_blank_line(tmp_path: Path) -> None:
    saved.answers_path(tmp_path).write_bytes(b"")
    saved.append_answer(tmp_path, record("Leo", "base", "one"))
    assert saved.answers_path(tmp_path).read_text(encoding="utf-8") == json.dumps(record("Leo", "base", "one")) + "\n"


@contextlib.contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """`path` (a file or a folder) made unwritable for this process: chmod for a user, chattr +i for root (whom
    permission bits do not bind); the test is skipped where neither is possible."""
    if os.name != "posix":
        pytest.skip("needs POSIX permissions")
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("root, and chattr +i is not available here")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


def test_an_unwritable_answers_file_says_which_file_and_what_to_do(tmp_path: Path) -> None:
    saved.append_answer(tmp_path, record("Leo", "base", "kept"))
    path = saved.answers_path(tmp_path)
    with unwritable(path), pytest.raises(GenerationError) as caught:
        saved.append_answer(tmp_path, record("Leo", "final", "not kept"))
    message = str(caught.value)
    assert message.startswith(f"Cannot save answers to {path}: ") and "Errno" not in message
    assert message.endswith(f"To fix: make the run folder and the file writable for your user (chmod u+w "
                            f"'{tmp_path}' '{path}'), then compare again.")
    assert [r["answer"] for r in saved.read_answers(tmp_path)] == ["kept"]


def test_a_read_only_run_folder_raises_generation_error(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    with unwritable(folder), pytest.raises(GenerationError) as caught:
        saved.append_answer(folder, record("Leo", "base", "x"))
    assert str(caught.value).startswith(f"Cannot save answers to {folder / 'answers.jsonl'}: ")
    assert not saved.answers_path(folder).exists()


# ---------------------------------------------------------------------------------------------- what could not be read


def test_a_folder_where_the_answers_file_should_be_says_why_and_what_to_do(tmp_path: Path) -> None:
    """Before: read_answers returned [] and the Compare page showed an empty table, as for a run never compared."""
    saved.answers_path(tmp_path).mkdir()
    found = saved.load_answers(tmp_path)
    path = saved.answers_path(tmp_path)
    assert found.records == [] and found.skipped == 0
    assert found.note == found.problem == (
        f"Cannot read the saved answers: {path} is a folder, not a file. To fix: move that folder out of the run "
        "folder (or delete it); Compare checkpoints then writes the answers file anew.")
    assert saved.read_answers(tmp_path) == []


def test_damaged_lines_are_skipped_counted_and_the_good_ones_kept(tmp_path: Path) -> None:
    path = saved.answers_path(tmp_path)
    path.write_bytes(b"".join([json.dumps(record("Leo", "base", "one")).encode() + b"\n",
                               b'{"prompt": "Leo", "mod\n',  # cut off by a crash
                               b"\n",  # blank: nothing lost, not counted
                               b'["not", "an", "answer"]\n',
                               json.dumps(record("Leo", "final", "two")).encode() + b"\n"]))
    found = saved.load_answers(tmp_path)
    assert [r["answer"] for r in found.records] == ["one", "two"] and found.skipped == 2 and found.problem == ""
    assert found.note == (f"2 lines of {path} could not be read (cut off or damaged) and were skipped; 2 answers "
                          "are shown. To fix: run Compare checkpoints again (the Try tab) to answer the saved "
                          "prompts anew, or remove the damaged lines from the file.")


def test_no_answers_file_is_no_answers_yet_and_no_problem(tmp_path: Path) -> None:
    found = saved.load_answers(tmp_path)
    assert (found.records, found.skipped, found.problem, found.note) == ([], 0, "", "")


def test_an_answers_file_without_read_permission_says_so(tmp_path: Path) -> None:
    if os.name != "posix" or os.geteuid() == 0:
        pytest.skip("root reads a file whatever its permission bits say")
    saved.append_answer(tmp_path, record("Leo", "base", "kept"))
    path = saved.answers_path(tmp_path)
    path.chmod(0)
    try:
        found = saved.load_answers(tmp_path)
    finally:
        path.chmod(0o644)
    assert found.records == [] and found.problem == (
        f"Cannot read the saved answers: permission denied on {path}. To fix: make the file readable for your user "
        f"(chmod u+r '{path}'), then look again.")
