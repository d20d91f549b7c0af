"""A run's answers.jsonl grown large (a comparison run many times: 100,000 answers, 60 MB) is read off the GUI
thread: picking the run, showing the page or a comparison's end read it whole on the GUI thread (0.5-1.4 s frozen
here, offscreen). The view is the real CompareView; its owner (the Try tab) a stand-in, as in
test_compare_view_h138."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui import compare_view as view_module
from finetune_studio.gui.compare_view import CompareView
from tests.gui.test_compare_view_h138 import shown_view

PROMPTS = [f"Write a horoscope for sign {i} about work" for i in range(4)]
MODELS = ["base", "checkpoint-10", "final"]


def big_answers(run_dir: Path, rounds: int) -> Path:
    """answers.jsonl of `rounds` comparisons of PROMPTS × MODELS: each cell's latest answer ends with its round."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "answers.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for n in range(rounds):
            for prompt in PROMPTS:
                for model in MODELS:
                    handle.write(json.dumps({"prompt": prompt, "model": model, "answer": "word " * 60 + f"round {n}",
                                             "tokens": 60, "stop_reason": "max_new_tokens"}) + "\n")
    return path


@pytest.fixture(autouse=True)
def collected_on_this_thread() -> Any:
    """No garbage collection in the reading thread while these tests run. Reading 9,600 answers makes many objects,
    and a collection there once found a Qt object an earlier test left in a reference cycle and destroyed it off the
    GUI thread: 'Fatal Python error: Segmentation fault … Garbage-collecting … in load_answers' (final CI at
    4296e5e). Earlier garbage is collected here first, on the GUI thread. The app has the same exposure in any
    Python worker thread; the note of this stop says so."""
    import gc

    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.fixture
def view(qtbot: Any) -> CompareView:
    made = shown_view(qtbot)
    made.set_prompts(PROMPTS)
    return made


@pytest.fixture
def reader_threads(monkeypatch: pytest.MonkeyPatch) -> list[threading.Thread]:
    """The threads load_answers is called from, as the view calls it."""
    threads: list[threading.Thread] = []
    real = view_module.load_answers

    def recording(run_dir: Path) -> Any:
        threads.append(threading.current_thread())
        return real(run_dir)

    monkeypatch.setattr(view_module, "load_answers", recording)
    return threads


def test_a_big_answers_file_is_read_off_the_gui_thread_and_every_answer_shows(
        qtbot: Any, view: CompareView, tmp_path: Path, reader_threads: list[threading.Thread]) -> None:
    path = big_answers(tmp_path / "run", rounds=800)  # 9,600 answers, about 3.4 MB
    assert path.stat().st_size > getattr(view_module, "READ_IN_PLACE_BYTES", 1_000_000)
    view.set_run(tmp_path / "run")
    # the call returned without the table: the file is being read, and the page says so
    assert all(thread is not threading.main_thread() for thread in reader_threads)
    assert view.reading()
    assert view.read_note.isVisible()
    assert view.read_note.text().startswith(f"Reading the saved answers in {path} (")
    qtbot.waitUntil(lambda: not view.reading(), timeout=30_000)
    assert reader_threads and all(thread is not threading.main_thread() for thread in reader_threads)
    assert view.read_note.isHidden()
    assert view.table.rowCount() == len(PROMPTS)
    assert [view.table.horizontalHeaderItem(c).text() for c in range(view.table.columnCount())] == [
        "Base model", "checkpoint-10", "Final model"]
    for row, prompt in enumerate(PROMPTS):
        for col, model in enumerate(MODELS):
            assert view.answer(prompt, model).endswith("round 799")
            assert view.table.item(row, col).text().endswith("round 799")
    # the rows are fitted to their answers once the table is filled (not at each cell): several lines, up to 160 px
    line = view.table.fontMetrics().lineSpacing()
    assert all(3 * line < view.table.rowHeight(row) <= 160 for row in range(len(PROMPTS)))


def test_a_small_answers_file_is_still_read_at_once(
        view: CompareView, tmp_path: Path, reader_threads: list[threading.Thread]) -> None:
    big_answers(tmp_path / "run", rounds=2)
    view.set_run(tmp_path / "run")
    assert not view.reading()
    assert reader_threads == [threading.main_thread()]
    assert view.answer(PROMPTS[0], "final").endswith("round 1")


def test_another_run_picked_while_the_big_file_is_read_shows_only_its_own_answers(
        qtbot: Any, view: CompareView, tmp_path: Path) -> None:
    big_answers(tmp_path / "big", rounds=800)
    big_answers(tmp_path / "small", rounds=1)
    view.set_run(tmp_path / "big")
    assert view.reading()
    assert view.table.columnCount() == 0  # nothing of the last run, nothing read yet
    view.set_run(tmp_path / "small")
    assert not view.reading() and view.read_note.isHidden()
    from finetune_studio.gui import background

    background.wait_idle()
    qtbot.wait(50)  # the big file's outcome is delivered, and dropped
    assert view.run_dir == tmp_path / "small"
    assert view.answer(PROMPTS[0], "base").endswith("round 0")
    assert view.read_note.isHidden()


def test_reload_of_a_big_file_keeps_the_table_while_it_reads_and_keeps_the_done_line(
        qtbot: Any, view: CompareView, tmp_path: Path) -> None:
    big_answers(tmp_path / "run", rounds=800)
    view.set_run(tmp_path / "run")
    qtbot.waitUntil(lambda: not view.reading(), timeout=30_000)
    view._set_status("Done: 12 answers, kept in run/answers.jsonl.")
    dropped: list[bool] = []
    view.comparison_line_dropped.connect(lambda: dropped.append(True))
    view.reload()
    assert view.reading()
    assert view.table.rowCount() == len(PROMPTS)  # the same run's table stays while it is read again
    assert view.answer(PROMPTS[1], "checkpoint-10").endswith("round 799")
    qtbot.waitUntil(lambda: not view.reading(), timeout=30_000)
    assert view.status.text() == "Done: 12 answers, kept in run/answers.jsonl."
    assert not dropped
