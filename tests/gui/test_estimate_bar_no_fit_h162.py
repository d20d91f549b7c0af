"""A run that will not fit and whose fixes each leave it not fitting (a config with Llama-70B widths on a machine with
20 GiB free: LoRA 137 GiB, its one fix 'Cut rows at 256 tokens → 135 GiB, will not fit') ended at that list, with
nothing said about what to do next. The bar now says it under the fixes; a fix that fits hides it."""

from __future__ import annotations

from typing import Any

from finetune_studio.core.estimate import FITS, GIB, WONT_FIT, Budget, Estimate, EstimateFix, Preflight
from finetune_studio.gui.estimate_bar import EstimateBar

RAM = Budget(free_bytes=20 * GIB, what="RAM")
BIG = Estimate(132 * GIB, GIB, GIB, 3 * GIB, batch=2, max_length=512, method="lora")


def fix(verdict: str, total_gib: int) -> EstimateFix:
    return EstimateFix("Cut rows at 256 tokens instead of 512", {"dataset.max_length": 256},
                       Estimate(total_gib * GIB, 0, 0, 0, batch=2, max_length=256), verdict, keeps_maths=False)


def test_fixes_that_all_leave_it_not_fitting_say_what_is_left(qtbot: Any) -> None:
    bar = EstimateBar()
    qtbot.addWidget(bar)
    bar.show_result(Preflight(budget=RAM, estimate=BIG, verdict=WONT_FIT, fixes=(fix(WONT_FIT, 135),)))
    assert not bar.no_fit_note.isHidden()
    assert bar.no_fit_note.text() == (
        "None of the fixes above makes this run fit on its own. To fix: apply one and see the fixes of the new "
        "estimate (they add up), pick a smaller model on the Model tab, or train on a machine with more RAM or a GPU.")

    bar.show_result(Preflight(budget=RAM, estimate=BIG, verdict=WONT_FIT))
    assert bar.no_fit_note.text() == ("No change the estimate knows of makes this run fit. To fix: pick a smaller "
                                      "model on the Model tab, or train on a machine with more RAM or a GPU.")
    gpu = Budget(free_bytes=20 * GIB, what="GPU 0 (NVIDIA L4)", device="cuda")
    bar.show_result(Preflight(budget=gpu, estimate=BIG, verdict=WONT_FIT))
    assert bar.no_fit_note.text().endswith("or train on a machine with more GPU memory.")


def test_a_fix_that_fits_or_no_estimate_hides_it(qtbot: Any) -> None:
    bar = EstimateBar()
    qtbot.addWidget(bar)
    bar.show_result(Preflight(budget=RAM, estimate=BIG, verdict=WONT_FIT, fixes=(fix(WONT_FIT, 135),)))
    bar.show_result(Preflight(budget=RAM, estimate=BIG, verdict=WONT_FIT, fixes=(fix(FITS, 10),)))
    assert bar.no_fit_note.isHidden()
    bar.show_result(Preflight(budget=RAM, estimate=BIG, verdict=WONT_FIT))
    bar.show_result(Preflight(budget=RAM, error="The memory of this model cannot be estimated: ... To fix: ..."))
    assert bar.no_fit_note.isHidden()
    assert bar.verdict_label.text().startswith("No estimate: The memory of this model cannot be estimated")
