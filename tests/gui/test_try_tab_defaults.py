"""The Try tab's settings and a loaded model's generation defaults, through the real widgets and real (tiny) models:
an adapter run's note names the base model's file (the one read), a Send that loads the models answers with their
defaults as a load does, and the fields hold a model's exact defaults or say why not.

The runs are tests/gui/test_try_tab_states.py's make_run over copies of the demo model's real files (no training);
the adapter is a real LoRA (peft) saved on such a copy (tests/core/test_generate_cli_adapter_note.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.core.test_generate_cli_adapter_note import adapter_run_with_bad_base
from tests.gui.test_try_tab_states import make_run, open_try_tab
from tests.helpers import demo_model_copy

LOAD_WAIT = 120_000  # tiny models, a small shared machine


@pytest.mark.slow
def test_an_adapter_runs_defaults_note_names_the_base_models_file(qtbot: Any, demo_cache: Path,
                                                                  tmp_path: Path) -> None:
    """Before: 'The model's generation_config.json sets temperature -1.0 …', and the model's folder (the adapter's,
    model/) has a generation_config.json of its own that nothing reads: the user would correct the wrong file."""
    adapter_run_with_bad_base(tmp_path)
    tab = open_try_tab(qtbot, tmp_path / "runs", LOAD_WAIT, size=None)
    try:
        assert tab.loaded.mode == "adapter" and not tab.loaded.failed
        assert tab.status_label.text() == (
            "Adapter run: the base weights are loaded once; the base answers with the adapter switched off, then the "
            "fine-tuned model with it on. The base model's generation_config.json sets temperature -1.0, but it must "
            "be a finite number above 0: using 1.0 instead. To fix: correct it in that file.")
        box = tab.settings_box
        assert (box.sample.isChecked(), box.temperature.value(), box.top_k.value()) == (True, 1.0, 17), \
            "the base model's file gave the defaults, not the adapter folder's (0.5, 33)"
    finally:
        tab.shutdown()


@pytest.mark.slow
def test_a_send_that_loads_the_models_answers_with_their_defaults_and_shows_them(qtbot: Any, demo_cache: Path,
                                                                                 tmp_path: Path,
                                                                                 monkeypatch: Any) -> None:
    """Send with nothing loaded (the tab not shown yet, so nothing loaded it; or a load that failed) loads the models
    as a load does: the settings the user has not changed take the model's defaults before the answer, the ones
    they changed stay, and the answer uses what the box then shows. Before: the answer job loaded the models itself,
    answered with the app's defaults shown at Send (temperature 1.0, top_k 50, greedy) and left them in the box,
    while the same run loaded by showing the tab showed and used the model's 0.7 and 17."""
    from finetune_studio.core import generate
    from finetune_studio.core.session import Session
    from finetune_studio.gui.try_tab import TryTab

    model = demo_model_copy(tmp_path / "model", do_sample=True, temperature=0.7, top_k=17)
    make_run(tmp_path / "runs", "sampling", model, steps=())
    used: list[Any] = []
    real = generate.answer_both

    def watched(loaded: Any, prompt: str, settings: Any, *args: Any, **kwargs: Any) -> Any:
        used.append(settings)
        return real(loaded, prompt, settings, *args, **kwargs)

    monkeypatch.setattr(generate, "answer_both", watched)
    session = Session()
    session.config.runs_dir = str(tmp_path / "runs")
    tab = TryTab(session)
    qtbot.addWidget(tab)
    try:
        box = tab.settings_box
        tab.refresh_runs()  # listed as showing the tab lists it (7935d23), without the load showing starts
        assert tab.loaded is None and tab.target_combo.currentText() == "final model"
        assert (box.sample.isChecked(), box.temperature.value(), box.top_k.value()) == (False, 1.0, 50)
        box.max_new_tokens.setValue(3)  # the user's own: it stays
        tab.prompt_edit.setPlainText("Aries")
        with qtbot.waitSignal(tab.answered, timeout=LOAD_WAIT):
            tab.send_button.click()
            said = tab.status_label.text()
        shown = (box.sample.isChecked(), box.temperature.value(), box.top_k.value(), box.max_new_tokens.value())
        assert shown == (True, 0.7, 17, 3)
        assert len(used) == 1
        assert (used[0].do_sample, used[0].temperature, used[0].top_k, used[0].max_new_tokens) == shown
        assert said == "Loading sampling · final model… The prompt is sent as soon as the models are loaded."
        assert set(tab.answers) == {"base", "tuned"} and tab.answers["tuned"].tokens <= 3
        assert box.touched == {"max_new_tokens"} and box.defaults_button.isEnabled()
    finally:
        tab.shutdown()


def test_the_fields_hold_a_models_exact_defaults(qtbot: Any) -> None:
    """Before: 2 decimals and at most 1,000,000, so temperature 0.001 was shown and answered as 0.01, top_p 0.999 as
    1.0 and top_k 2,000,000 as 1,000,000, where `finetune-studio generate` used them as given."""
    from finetune_studio.core.generate import GenerationSettings
    from finetune_studio.gui.try_tab import SettingsBox

    box = SettingsBox()
    qtbot.addWidget(box)
    defaults = GenerationSettings(do_sample=True, temperature=0.001, top_p=0.999, top_k=2_000_000,
                                  repetition_penalty=1.05)
    box.follow_defaults(defaults)  # a model's, as a load gives them
    assert box.settings() == defaults and box.unheld(defaults) == {}
    texts = [field.text() for field in (box.temperature, box.top_p, box.top_k, box.repetition_penalty)]
    assert texts == ["0.001", "0.999", "2000000", "1.05"], "the decimals a value has, no trail of zeros"
    box.set_settings(GenerationSettings())  # a script's choice, and back
    box.set_settings(defaults)
    assert box.settings() == defaults
    assert box.touched == set(), "filled in, not the user's changes"
    box.follow_defaults(GenerationSettings(temperature=1e-7))  # within LIMITS (above 0), below the field's floor
    assert box.unheld(GenerationSettings(temperature=1e-7)) == {"temperature": 0.000001}
    from finetune_studio.gui.try_tab import unheld_note

    assert unheld_note("model", "temperature", 1e-7, 0.000001) == (
        "The model's generation_config.json sets temperature 1e-07: less than the Temperature field holds (at least "
        "0.000001), so it shows 0.000001 and answers here use that. To answer with 1e-07 exactly: finetune-studio "
        "generate --temperature 1e-07.")


@pytest.mark.slow
def test_a_default_a_field_cannot_hold_is_said_with_what_is_used(qtbot: Any, demo_cache: Path,
                                                                 tmp_path: Path) -> None:
    """A model default within LIMITS but past what a field holds (more decimals, more than a QSpinBox's int) is
    named with the value the field shows and answers use, and how to answer with the exact one. Before: changed
    without a word (and a top_k past 2**31 - 1 raised OverflowError in the load's slot)."""
    model = demo_model_copy(tmp_path / "model", do_sample=True, temperature=0.1234567, top_k=3_000_000_000, top_p=0.5)
    make_run(tmp_path / "runs", "odd-defaults", model, steps=())
    tab = open_try_tab(qtbot, tmp_path / "runs", LOAD_WAIT, size=None)
    try:
        assert tab.loaded.mode == "both" and not tab.loaded.failed
        assert tab.status_label.text() == (
            "Both models are loaded and answer at the same time. "
            "The fine-tuned model's generation_config.json sets temperature 0.1234567: more decimals than the "
            "Temperature field holds (6), so it shows 0.123457 and answers here use that. To answer with 0.1234567 "
            "exactly: finetune-studio generate --temperature 0.1234567. "
            "The fine-tuned model's generation_config.json sets top_k 3000000000: more than the Top-k field holds "
            "(at most 2,147,483,647), so it shows 2,147,483,647 and answers here use that. To answer with 3000000000 "
            "exactly: finetune-studio generate --top-k 3000000000.")
        settings = tab.settings_box.settings()
        assert (settings.temperature, settings.top_k, settings.top_p) == (0.123457, 2**31 - 1, 0.5)
    finally:
        tab.shutdown()
