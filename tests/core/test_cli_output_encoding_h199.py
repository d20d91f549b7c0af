"""Under a locale that is not UTF-8 (PYTHONIOENCODING=latin-1 stands for LANG=de_DE.ISO-8859-1), stdout writes what
its encoding has no character for as a \\u escape, as Python's stderr does: `finetune-studio runs` ended with
'finetune-studio runs failed: UnicodeEncodeError: 'latin-1' codec can't encode character '\\u2026'', exit 1, over a
run message's '…', listing nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.core.test_runs_history import make_run, segment
from tests.gui.test_runs_unreadable_h139 import FINISHED


def test_runs_lists_under_a_latin_1_locale(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    make_run(runs, "tiny-日本", segment(2, 20), {**FINISHED, "message": "Finished 20 steps… saved.", "step": 20,
                                                "max_steps": 20})
    env = {**os.environ, "PYTHONIOENCODING": "latin-1", "HOME": str(tmp_path), "FINETUNE_STUDIO_CACHE": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "finetune_studio.core.cli", "runs", "--runs-dir", str(runs)],
                          capture_output=True, env=env, timeout=120)
    assert (done.returncode, done.stderr) == (0, b""), done.stderr.decode("latin-1")
    lines = done.stdout.decode("latin-1").splitlines()
    assert lines[0].split() == ["run", "state", "steps", "train", "loss", "eval", "loss", "message"]
    assert lines[1].split()[:3] == ["tiny-\\u65e5\\u672c", "finished", "20/20"]
    assert lines[1].endswith("Finished 20 steps\\u2026 saved.")
