"""The adapter's numbers as a user writes them wrong but means right: r: '16' in quotes, 1,024 with a comma, 8.0
with a decimal point. They were told 'got '16' ... To fix: set r to a whole number such as 16', a fix the value
already seemed to follow; the fix now says what to change in what was written, as the training settings' do."""

from __future__ import annotations

import pytest

from finetune_studio.core.config import default_config


def _said(key: str, value) -> list[str]:
    from finetune_studio.core.adapters import problems

    config = default_config()
    config.adapter.method = "lora"
    setattr(config.adapter, key, value)
    return [p.message for p in problems(config, check_files=False) if p.field == f"adapter.{key}"]


@pytest.mark.parametrize(("key", "value", "said"), [
    ("r", "16", "r (the adapter rank) must be a whole number above 0 (got '16'); 8 to 64 is usual. To fix: write 16 "
                "without quotes."),
    ("r", "1,024", "r (the adapter rank) must be a whole number above 0 (got '1,024'); 8 to 64 is usual. A comma "
                   "cannot group the digits here. To fix: write 1024."),
    ("r", 8.0, "r (the adapter rank) must be a whole number above 0 (got 8.0); 8 to 64 is usual. To fix: write 8, "
               "without the decimal point."),
    ("alpha", "32", "alpha must be a number above 0 (got '32'); twice r is usual. To fix: write 32 without quotes."),
    ("dropout", "0,1", "dropout must be from 0 up to (not including) 1 (got '0,1'); 0.05 is usual. A comma cannot "
                       "mark the decimals here. To fix: write 0.1, with a decimal point."),
    ("dropout", "0.1", "dropout must be from 0 up to (not including) 1 (got '0.1'); 0.05 is usual. To fix: write 0.1 "
                       "without quotes."),
])
def test_fix_says_what_to_change_in_what_was_written(key, value, said):
    assert _said(key, value) == [said]


@pytest.mark.parametrize(("key", "value", "fix"), [
    ("r", "0", "To fix: set r to a whole number such as 16."),
    ("r", 8.5, "To fix: set r to a whole number such as 16."),
    ("r", -4, "To fix: set r to a whole number such as 16."),
    ("alpha", "-2", "To fix: set alpha to 32."),
    ("dropout", "1", "To fix: set dropout to 0.05, or 0 for none."),
    ("dropout", float("nan"), "To fix: set dropout to 0.05, or 0 for none."),
])
def test_values_wrong_unquoted_keep_the_usual_fix(key, value, fix):
    said = _said(key, value)
    assert len(said) == 1 and said[0].endswith(fix)
