"""The Try tab on run folders a user may well have: a config.yaml that names the base model as a list, a mapping or
nothing, and one that cannot be read, then fixed. Each is picked through the real run list, the pick's state read
from the real widgets (status line, Send, pane titles, base model box) and any exception a slot raises kept.

Loading and answering are tests/gui/test_try_tab_states.py's fakes: what is under test is the pick, not a model."""

from __future__ import annotations

import re
import sys
import traceback
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.generate import BASE, SIDES, TUNED
from tests.gui.test_try_tab_states import WAIT, Fakes, make_run


@pytest.fixture
def slot_errors(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Exceptions raised in slots (Qt hands them to sys.excepthook and carries on)."""
    caught: list[str] = []
    monkeypatch.setattr(sys, "excepthook", lambda *info: caught.append("".join(traceback.format_exception(*info))))
    return caught


def open_tab(qtbot: Any, runs: Path) -> Any:
    """The Try tab on `runs`, shown, once the pick it made as it showed has ended (loaded or refused)."""
    from finetune_studio.core.session import Session
    from finetune_studio.gui.try_tab import TryTab

    session = Session()
    session.config.runs_dir = str(runs)
    tab = TryTab(session)
    qtbot.addWidget(tab)
    tab.resize(1100, 760)
    tab.show()
    qtbot.waitExposed(tab)
    qtbot.waitUntil(lambda: tab.run_combo.count() > 0 and not tab.runner.running, timeout=WAIT)
    return tab


def pick_run(qtbot: Any, tab: Any, name: str) -> None:
    index = tab.run_combo.findText(name)
    assert index >= 0, [tab.run_combo.itemText(i) for i in range(tab.run_combo.count())]
    tab.run_combo.setCurrentIndex(index)
    qtbot.waitUntil(lambda: not tab.runner.running, timeout=WAIT)
    qtbot.wait(20)


def with_model(run_dir: Path, written: str) -> None:
    config = run_dir / "config.yaml"
    config.write_text(re.sub(r"name_or_path: .*", f"name_or_path: {written}", config.read_text(encoding="utf-8")),
                      encoding="utf-8")


@pytest.mark.parametrize(("written", "said"), [
    ("[a, b]", "names its base model as a list (model.name_or_path: [a, b]), not as one model"),
    ("{x: 1}", "names its base model as a mapping (model.name_or_path: {x: 1}), not as one model"),
    ("", "names no base model (model.name_or_path is empty)"),
])
def test_a_run_whose_config_names_no_one_base_model_is_refused_in_words(qtbot: Any, demo_cache: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        slot_errors: list[str], written: str,
                                                                        said: str) -> None:
    """Before: `name_or_path: [a, b]` raised TypeError in the pick's slot (QLineEdit.setText(list)), leaving the last
    run's pane titles, 'Both models are loaded…' and Send enabled for a pick half made; an empty one titled the left
    pane 'Base model · None' and sent prompts to a base model named None."""
    from finetune_studio.core.demo import demo_model_path

    fakes = Fakes(monkeypatch)
    runs = tmp_path / "runs"
    make_run(runs, "good", demo_model_path())
    odd = make_run(runs, "odd", demo_model_path())
    with_model(odd, written)
    tab = open_tab(qtbot, runs)
    pick_run(qtbot, tab, "good")
    assert tab.loaded is not None and tab.send_button.isEnabled()
    loads = len(fakes.loads)

    pick_run(qtbot, tab, "odd")
    assert slot_errors == []
    assert tab.status_label.text() == (
        f"The run odd cannot be tried: its config.yaml {said}, so the left pane has no base model to answer with. To "
        f"fix: write the one model it was trained from in {odd / 'config.yaml'}, e.g. model: {{name_or_path: "
        "Qwen/Qwen3-0.6B} or a model folder, then press Refresh.")
    assert tab.loaded is None and len(fakes.loads) == loads  # nothing loads, and good's models went
    assert not tab.send_button.isEnabled()
    assert [tab.panes[side].title() for side in SIDES] == ["Base model", "Fine-tuned"]
    assert tab.base_edit.text() == "" and [tab.panes[side].text.toPlainText() for side in SIDES] == ["", ""]

    # fixed in the file, Refresh tries the run again
    with_model(odd, str(demo_model_path()))
    tab.refresh_button.click()
    qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=WAIT)
    assert tab.loaded.source.name == "odd · final model" and tab.send_button.isEnabled()
    assert tab.panes[BASE].title() == f"Base model · {demo_model_path()}"
    assert tab.panes[TUNED].title() == "Fine-tuned · odd · final model"
    assert slot_errors == []
    tab.shutdown()


def test_a_run_whose_config_is_unreadable_shows_nothing_of_the_last_run_and_refresh_retries_it(
        qtbot: Any, demo_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slot_errors: list[str]) -> None:
    """Before: picking a run whose config.yaml is not valid YAML after a good run kept that run's answers, its pane
    titles ('Fine-tuned · good · final model') and its base model in the box; once the file was fixed, Refresh listed
    the run's models but loaded none and kept the old refusal, Send disabled, until another run was picked and back."""
    from finetune_studio.core.demo import demo_model_path

    Fakes(monkeypatch)
    runs = tmp_path / "runs"
    make_run(runs, "good", demo_model_path())
    broken = make_run(runs, "broken", demo_model_path())
    written = (broken / "config.yaml").read_text(encoding="utf-8")
    (broken / "config.yaml").write_text("name: [unclosed\nmodel: {", encoding="utf-8")
    tab = open_tab(qtbot, runs)
    pick_run(qtbot, tab, "good")
    tab.prompt_edit.setPlainText("hello")
    tab.send_button.click()
    qtbot.waitUntil(lambda: not tab.runner.running and tab.panes[TUNED].text.toPlainText() != "", timeout=WAIT)

    pick_run(qtbot, tab, "broken")
    assert tab.status_label.text().startswith("The run broken has an unreadable config.yaml (")
    assert not tab.send_button.isEnabled() and tab.loaded is None
    assert [tab.panes[side].title() for side in SIDES] == ["Base model", "Fine-tuned"]
    assert [tab.panes[side].text.toPlainText() for side in SIDES] == ["", ""]
    assert tab.base_edit.text() == ""

    (broken / "config.yaml").write_text(written, encoding="utf-8")
    tab.refresh_button.click()
    qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=WAIT)
    assert tab.loaded.source.name == "broken · final model" and tab.send_button.isEnabled()
    assert tab.status_label.text() == "Both models are loaded and answer at the same time."
    assert tab.panes[TUNED].title() == "Fine-tuned · broken · final model"
    assert slot_errors == []
    tab.shutdown()


def test_a_run_name_of_one_long_word_does_not_widen_the_tab(qtbot: Any, demo_cache: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: the status line naming a run of a 247-character one-word name ('The run ünïcødélonglong… has no final
    model and no complete checkpoint yet…') asked for 1,599 px, and the tab shown at 1000 px grew to 1,611 px (its
    minimum), with the window around it, past the screen. Now the line takes the tab's width, wraps what it can, and
    the whole text is its tooltip; a message of ordinary words still gets every line it wraps to."""
    import shutil

    from finetune_studio.core.demo import demo_model_path

    Fakes(monkeypatch)
    runs = tmp_path / "runs"
    name = "ünïcødé" + "long" * 60
    empty = make_run(runs, name, demo_model_path(), steps=())
    shutil.rmtree(empty / "model")
    (empty / "model").mkdir()
    tab = open_tab(qtbot, runs)
    tab.resize(1000, 700)
    qtbot.wait(20)
    label = tab.status_label
    assert label.text().startswith(f"The run {name} has no final model and no complete checkpoint yet, so there is "
                                   "nothing to talk to")
    assert tab.width() == 1000 and tab.minimumSizeHint().width() < 1000
    assert label.width() <= tab.width() and label.toolTip() == label.text()

    broken = make_run(runs, "broken", demo_model_path())
    (broken / "config.yaml").write_text("name: [unclosed\nmodel: {", encoding="utf-8")
    tab.refresh_button.click()
    pick_run(qtbot, tab, "broken")
    assert label.text().startswith("The run broken has an unreadable config.yaml (")
    assert label.height() >= label.heightForWidth(label.width()) > 2 * label.fontMetrics().lineSpacing()
    tab.shutdown()


def test_the_compare_pages_lines_naming_a_long_run_do_not_widen_the_tab(qtbot: Any, demo_cache: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: 'Done: 9 answers, kept in ünïcødélonglong…/answers.jsonl.' under the Compare page's buttons, for a
    run of a 247-character one-word name, asked for its whole width and the tab at 1000 px grew past it; so did the
    note on an answers file that cannot be read, which names its path."""
    from finetune_studio.core.demo import demo_model_path

    Fakes(monkeypatch)
    runs = tmp_path / "runs"
    name = "ünïcødé" + "long" * 60
    make_run(runs, name, demo_model_path())
    tab = open_tab(qtbot, runs)
    tab.resize(1000, 700)
    qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=WAIT)
    for prompt in ("Aries", "Leo"):
        tab.prompt_edit.setPlainText(prompt)
        tab.save_prompt_button.click()
    view = tab.compare
    tab.pages.setCurrentWidget(view)
    view.compare_button.click()
    qtbot.waitUntil(lambda: not tab.runner.running and not view.status.isHidden(), timeout=WAIT)
    qtbot.wait(20)
    assert view.status.text() == f"Done: 8 answers, kept in {name}/answers.jsonl."
    assert tab.width() == 1000 and tab.minimumSizeHint().width() < 1000
    assert view.status.toolTip() == view.status.text()
    assert view.status.height() >= view.status.heightForWidth(view.status.width())

    (runs / name / "answers.jsonl").unlink()
    (runs / name / "answers.jsonl").mkdir()  # a folder in its place: the note names the path
    tab.refresh_button.click()
    qtbot.wait(20)
    assert view.read_note.text().startswith(f"Cannot read the saved answers: {runs / name / 'answers.jsonl'} is a "
                                            "folder, not a file. To fix:")
    assert tab.width() == 1000 and tab.minimumSizeHint().width() < 1000
    assert view.read_note.toolTip() == view.read_note.text()
    tab.shutdown()
