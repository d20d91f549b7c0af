"""The Compare page after helpers 136, 138 and 142's notes (helper-143), on the real Try tab offscreen.

1. A training run that takes over mid-comparison: the page said only "Stopped: 3 of 12 answers kept in …"; it now
   says why (training started) and what to do next (compare again once the run ends).
2. Another run picked during a comparison whose answers could not be saved (answers.jsonl unwritable): the page said
   "The answers so far are kept in …answers.jsonl". It now says they are not saved, why, and that they stay in that
   run's table while the app is open.
3. A run whose models are all damaged: Compare was enabled, and a comparison failed as it began, in core.generate's
   words. It is disabled, and its tooltip says why and what to do, as Send's does. A run with some damaged models
   compares the whole ones, counts only their answers, and names the ones left out, even when stopped before the
   comparison reached them.

The runs and the tab are tests/gui/test_try_tab_states.py's (the demo model's files; load and answer are fakes);
the comparisons here are fakes that behave as core.generate.compare_checkpoints does (answers appended to
answers.jsonl, "skipped" for a damaged model, "unsaved" when the file cannot be written), held where the test
needs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import generate
from finetune_studio.gui.compare_view import COMPARE_TIP
from tests.gui.test_try_tab_states import (  # noqa: F401 - fixtures
    WAIT,
    Fakes,
    fakes,
    hold_a_comparison,
    idle,
    make_run,
    runs,
    save_prompts,
    tab,
)

TRAINING_TIP = "A training run is using the memory; compare when it ends."
START_AGAIN = ("start it again with its settings (in the app: Runs tab, Use its settings, then Start)")


def answer_record(prompt: str, model: str) -> dict[str, Any]:
    return {"prompt": prompt, "model": model, "step": None, "answer": f"{model} on {prompt}", "tokens": 3,
            "stop_reason": "eos", "seconds": 0.1, "settings": {}, "time": "now"}


def lines_of(path: Path) -> list[tuple[str, str]]:
    return [(r["prompt"], r["model"]) for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())]


class Comparison:
    """compare_checkpoints as core.generate runs it: the base model, then each model of the run oldest first; a
    damaged one is skipped and said; each answer is sent, then appended (`unwritable_from`: the answers from that
    one on are not written, and the first failure is said once). Holds after `hold_after` answers until stopped."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, hold_after: int | None = None,
                 unwritable_from: int | None = None, unsaved: str = ""):
        self.hold_after, self.unwritable_from, self.unsaved = hold_after, unwritable_from, unsaved
        monkeypatch.setattr(generate, "compare_checkpoints", self)

    def __call__(self, run_dir: Path, prompts: list[str], settings: Any = None, sink: Any = None, stop: Any = None,
                 where: Any = None) -> Any:
        from finetune_studio.core.answers import answer_table, append_answer

        records: list[dict[str, Any]] = []
        for target in [None, *generate.targets(run_dir)]:
            key = "base" if target is None else target.key
            problem = None if target is None else generate.damage(target.path)
            if problem is not None:
                sink({"event": "skipped", "model": key, "text": f"{target.label} skipped: it is damaged: {problem}"})
                continue
            for prompt in prompts:
                if stop.is_set():
                    return answer_table(records, prompts)
                record = answer_record(prompt, key)
                records.append(record)
                sink({"event": "answer", "prompt": prompt, "model": key, "record": dict(record)})
                if self.unwritable_from is None or len(records) < self.unwritable_from:
                    append_answer(run_dir, record)
                elif len(records) == self.unwritable_from:
                    sink({"event": "unsaved", "text": self.unsaved})
                if self.hold_after is not None and len(records) >= self.hold_after:
                    stop.wait(WAIT / 1000)
        return answer_table(records, prompts)


def test_training_that_takes_over_a_comparison_says_why_on_the_compare_page(qtbot: Any, tab: Any, runs: Path,
                                                                             fakes: Fakes) -> None:
    """Before: "Stopped: 3 of 12 answers kept in newer/answers.jsonl." and nothing of why or what next."""
    view = hold_a_comparison(qtbot, tab, fakes, ["Aries", "Leo", "Virgo"], 3)
    tab.release_for_training()  # Start pressed: the window asks the tab to let go (main_window._after_try_job)
    idle(qtbot, tab)
    tab.session.set_running(True)  # the run begins once the tab is idle
    assert view.status.text() == (
        "Stopped because training started and needs the memory (training always wins): 3 of 12 answers kept in "
        "newer/answers.jsonl. To compare every checkpoint: press Compare checkpoints again once the run ends.")
    assert tab.status_label.text() == ("Training started, so the models were released to give it the memory "
                                       "(training always wins). They load again when it ends.")
    assert lines_of(runs / "newer" / "answers.jsonl") == [("Aries", "base"), ("Leo", "base"), ("Virgo", "base")]
    button = view.compare_button
    assert not button.isEnabled() and button.toolTip() == TRAINING_TIP
    tab.prompt_edit.setPlainText("Libra")
    tab.save_prompt_button.click()  # the page's prompts change while the run trains: Compare stays disabled
    assert tab.session.config.prompts[-1] == "Libra"
    assert not button.isEnabled() and button.toolTip() == TRAINING_TIP
    tab.session.set_running(False)  # the run ended: the tab loads its models again, then Compare is enabled
    qtbot.waitUntil(lambda: tab.loaded is not None, timeout=WAIT)
    idle(qtbot, tab)
    assert button.isEnabled() and button.toolTip() == COMPARE_TIP
    # The user's own Stop says no more than that it stopped.
    view.compare_button.click()
    qtbot.waitUntil(lambda: len(lines_of(runs / "newer" / "answers.jsonl")) == 6, timeout=WAIT)  # 3 more, held
    view.stop_button.click()
    idle(qtbot, tab)
    assert view.status.text() == "Stopped: 3 of 16 answers kept in newer/answers.jsonl."  # 4 prompts × 4 models


UNSAVED = ("The answers are shown but not saved from here on (1 of this comparison's answers was saved before). "
           "Cannot save answers to {path}: the disk is full. To fix: free space on the disk, then compare again.")


def test_another_run_picked_while_answers_could_not_be_saved_says_they_are_not_saved(
        qtbot: Any, tab: Any, runs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: "Stopped: another run was picked. The answers so far are kept in newer/answers.jsonl." while the one
    answer after the first was never written there."""
    path = runs / "newer" / "answers.jsonl"
    unsaved = UNSAVED.format(path=path)
    Comparison(monkeypatch, hold_after=2, unwritable_from=2, unsaved=unsaved)
    save_prompts(tab, ["Aries", "Leo"])
    view = tab.compare
    tab.pages.setCurrentWidget(view)
    view.compare_button.click()
    qtbot.waitUntil(lambda: len(view.table_data.cells) == 2 and bool(view.unsaved), timeout=WAIT)
    tab.select_run(runs / "older")
    assert view.status.text() == (f"Stopped: another run was picked. {unsaved} The answers not saved stay in the "
                                  "table of newer while the app is open: pick newer again to read them.")
    qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=WAIT)
    idle(qtbot, tab)
    assert view.run_dir == runs / "older" and not view.table_data.cells
    assert lines_of(path) == [("Aries", "base")]  # the answer of Leo was not written
    tab.select_run(runs / "newer")  # what the line says: picked again, the answer not saved is there
    idle(qtbot, tab)
    assert view.answer("Leo", "base") == "base on Leo" and view.answer("Aries", "base") == "base on Aries"

    # Answers that were all saved: the line says where, as before.
    Comparison(monkeypatch, hold_after=1)
    view.compare_button.click()
    qtbot.waitUntil(lambda: tab.runner.running and len(lines_of(path)) == 2, timeout=WAIT)
    tab.select_run(runs / "older")
    assert view.status.text() == "Stopped: another run was picked. The answers so far are kept in newer/answers.jsonl."
    qtbot.waitUntil(lambda: not tab.runner.running, timeout=WAIT)
    idle(qtbot, tab)


def test_a_run_whose_models_are_all_damaged_cannot_be_compared_and_says_why(qtbot: Any, tab: Any, runs: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: Compare stayed enabled, and a comparison failed as it began ('Every model broken saved is damaged
    (broken · final model is damaged: …; skipped. …). To fix: …')."""
    from finetune_studio.core.demo import demo_model_path

    asked: list[Path] = []
    monkeypatch.setattr(generate, "compare_checkpoints", lambda run_dir, *_a, **_k: asked.append(run_dir))
    broken = make_run(runs, "broken", demo_model_path(), steps=(4,))
    (broken / "checkpoint-4" / "config.json").write_text("{ broken", encoding="utf-8")
    (broken / "model" / "model.safetensors").unlink()
    save_prompts(tab, ["Aries"])
    view = tab.compare
    tab.pages.setCurrentWidget(view)
    tab.select_run(broken)
    idle(qtbot, tab)
    fix = (f"(the model picker's list says what is wrong with each). To fix: put their files back from a copy of the "
           f"run, then press Refresh; or pick another run; or {START_AGAIN}.")
    button = view.compare_button
    assert not button.isEnabled()
    assert button.toolTip() == f"Every model broken saved is damaged, so there is nothing to compare {fix}"
    assert tab.send_button.toolTip() == f"Every model broken saved is damaged, so none can answer {fix}"  # alike
    assert view.explain.text() == ("1 saved prompt, answered greedily by the base model and every complete checkpoint "
                                   "of the run. Every model of this run is damaged, so there is nothing to compare "
                                   "(Compare checkpoints' tooltip says what to do).")
    view.start()  # what "Compare automatically when a run finishes" calls: it starts nothing either
    assert asked == [] and not tab.runner.running
    assert view.status.text() == button.toolTip()

    # Its final model put back, Refresh: Compare is enabled and says what it does.
    shutil.copy(demo_model_path() / "model.safetensors", broken / "model" / "model.safetensors")
    tab.refresh_button.click()
    idle(qtbot, tab)
    assert button.isEnabled() and button.toolTip() == COMPARE_TIP
    assert view.explain.text() == ("1 saved prompt, answered greedily by the base model and every complete checkpoint "
                                   "of the run. Left out, damaged (the model picker's list says why): checkpoint-4.")
    # A run with no model saved yet: Compare says what its pick said.
    empty = make_run(runs, "empty", demo_model_path(), steps=())
    shutil.rmtree(empty / "model")
    tab.select_run(empty)
    idle(qtbot, tab)
    assert not button.isEnabled() and button.toolTip() == tab.status_label.text()
    assert button.toolTip().startswith("The run empty has no final model and no complete checkpoint yet, so there is "
                                       "nothing to talk to")
    assert view.explain.text().endswith(" This run has no model yet, so there is nothing to compare (Compare "
                                        "checkpoints' tooltip says what to do).")
    # Another run whose models are whole: nothing is said of damage.
    tab.select_run(runs / "older")
    idle(qtbot, tab)
    assert button.isEnabled() and view.explain.text().endswith("every complete checkpoint of the run.")


def test_a_run_with_a_damaged_checkpoint_compares_the_whole_ones_and_names_it(qtbot: Any, tab: Any, runs: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: stopped before the comparison reached the damaged checkpoint, the page said "Stopped: 2 of 12 answers"
    (its answers counted, none to come) and did not name it."""
    weights = runs / "newer" / "checkpoint-4" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4096])
    tab.refresh_button.click()
    idle(qtbot, tab)
    save_prompts(tab, ["Aries", "Leo", "Virgo"])
    view = tab.compare
    tab.pages.setCurrentWidget(view)
    assert view.compare_button.isEnabled()
    assert view.explain.text().endswith(" Left out, damaged (the model picker's list says why): checkpoint-4.")
    Comparison(monkeypatch, hold_after=2)
    view.compare_button.click()
    qtbot.waitUntil(lambda: len(view.table_data.cells) == 2, timeout=WAIT)
    view.stop_button.click()
    idle(qtbot, tab)
    assert view.status.text() == ("Stopped: 2 of 9 answers kept in newer/answers.jsonl. Left out, damaged (the model "
                                  "picker's list says why): checkpoint-4.")  # 3 prompts × (base + 2 whole models)
    (runs / "newer" / "answers.jsonl").unlink()
    Comparison(monkeypatch)
    view.compare_button.click()
    idle(qtbot, tab)
    assert view.status.text() == ("Done: 9 answers, kept in newer/answers.jsonl. checkpoint-4 skipped: it is damaged: "
                                  "its model.safetensors is cut short (smaller than its tensors).")
    assert view.table_data.models == ["base", "checkpoint-8", "final"]
    assert sorted({model for _prompt, model in lines_of(runs / "newer" / "answers.jsonl")}) == [
        "base", "checkpoint-8", "final"]
