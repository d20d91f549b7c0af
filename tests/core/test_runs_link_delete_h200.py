"""Delete of a run listed through a link in the runs folder (a run kept on another disk, linked in): it is refused,
as before, in words that say it is a link, to what, and what to do, not '... is not inside the runs folder' of
an entry that is in it. Fabricated runs (tests/core/test_runs_history.py's builders)."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.errors import FinetuneError
from finetune_studio.core.runs import delete_run, run_folders
from tests.core.test_runs_history import make_run, segment

FINISHED = {"state": "finished", "message": "Finished 20 steps.", "step": 20, "max_steps": 20}


def test_a_linked_run_is_not_deleted_and_the_words_say_it_is_a_link(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    make_run(runs, "here", segment(2, 20), FINISHED)
    target = make_run(tmp_path / "big-disk", "kept-there", segment(2, 20), FINISHED)
    link = runs / "linked"
    link.symlink_to(target)
    assert run_folders(runs) == [runs / "here", link]  # listed, as the Runs tab lists it
    with pytest.raises(FinetuneError) as raised:
        delete_run(link, runs)
    assert str(raised.value) == (
        f"linked in {runs} is a link to {target}, a folder not inside the runs folder, so nothing was deleted: "
        "deleting through the link would remove that folder. To fix: delete the link itself in your file manager "
        "(the folder it points to stays), or that folder if you mean to.")
    (runs / "again").symlink_to(runs / "here")  # a link to a run beside it
    with pytest.raises(FinetuneError) as raised:
        delete_run(runs / "again", runs)
    assert str(raised.value).startswith(f"again in {runs} is a link to {runs / 'here'}, the run here beside it, so "
                                        "nothing was deleted")
    assert (runs / "here" / "config.yaml").is_file()
    assert link.is_symlink() and (target / "config.yaml").is_file()
    with pytest.raises(FinetuneError) as raised:  # a path outside the runs folder: its own words, as before
        delete_run(target, runs)
    assert str(raised.value).startswith(f"{target} is not inside the runs folder {runs}, so it was not deleted.")
