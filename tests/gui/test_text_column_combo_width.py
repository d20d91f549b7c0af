"""The Text column box keeps one width hint whatever the columns are called (forms.common.narrow_combo).

With AdjustToContents its hint followed the longest column name: 91 px for 'horoscope', 1374 px for a long name.
Each change of hint asked its ProblemFrame to lay out again, and under a real window system (Xvfb; offscreen does
not show it) the frame's layout could stay pending with the box left at the old hint: the Text column drawn 91 px
wide in a 462 px row until the window was resized (seen in a screenshot of the Dataset tab with the max_length
warning). A hint that does not change with the items leaves nothing to lay out again."""

from __future__ import annotations

from finetune_studio.core.data import Preview
from finetune_studio.gui.forms import DatasetForm

LONG = "a_very_long_column_name_" * 8


def _preview(columns: list[str]) -> Preview:
    return Preview(columns=columns, rows=[{c: f"{c} value" for c in columns}], text_column=columns[0],
                   format="json", text_columns=columns)


def test_the_text_column_box_hint_does_not_follow_the_column_names(qtbot) -> None:
    form = DatasetForm()
    qtbot.addWidget(form)
    form._preview_ready(_preview(["horoscope"]))
    short = form.text_column_combo.sizeHint().width()
    form._preview_ready(_preview(["horoscope", LONG]))
    assert form.text_column_combo.findText(LONG) >= 0  # the long name is one of its items
    assert form.text_column_combo.sizeHint().width() == short
    assert short < 300  # the row's width, not a column name's, decides how wide it is drawn
