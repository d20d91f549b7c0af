"""The window's number fields and validate say the same of a number typed with a comma: core.config.comma_fix is
gui.forms.common._comma_fix's rule, case for case (until the form calls core's, this keeps the two from drifting)."""

from __future__ import annotations

import pytest

from finetune_studio.core.config import comma_fix
from finetune_studio.gui.forms.common import _comma_fix

CASES = ["1,5e-4", ",5", "-,5", "8,", "8 ,", "1,000", "12,345,678", "-1,000", "2,5", "1,5", "1,2,3", "a,b", "1.5",
         "1,5.0", "1e3,", "0,0001", "1,000.5", "3,", ",", "1,5e400"]


@pytest.mark.parametrize("integer", [False, True])
def test_core_comma_rule_matches_the_form(integer: bool) -> None:
    assert [comma_fix(text, integer) for text in CASES] == [_comma_fix(text, integer) for text in CASES]
