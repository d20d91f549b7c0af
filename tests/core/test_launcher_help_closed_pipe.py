"""`finetune-studio --help | head -1`: the launcher's own lines after the commands' help (the desktop-entry
options) met the reader that had left and ended with a BrokenPipeError traceback (helper-115's finding). It ends
quietly with exit 0 now, as every command's help does (tests/core/test_cli_closed_pipe.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("unbuffered", [True, False], ids=["unbuffered", "buffered"])
def test_the_launchers_help_into_a_closed_pipe_exits_0_silently(unbuffered: bool) -> None:
    reading, writing = os.pipe()
    os.close(reading)
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        environment["PYTHONUNBUFFERED"] = "1"
    try:
        done = subprocess.run([sys.executable, "-c", "import sys; from finetune_studio.gui.launcher import main; "
                               "sys.exit(main(['--help']))"], stdout=writing, stderr=subprocess.PIPE,
                              env=environment, timeout=120)
    finally:
        os.close(writing)
    assert (done.returncode, done.stderr.decode()) == (0, "")


def test_the_launchers_help_says_its_own_options() -> None:
    done = subprocess.run([sys.executable, "-c", "import sys; from finetune_studio.gui.launcher import main; "
                           "sys.exit(main(['--help']))"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert "--install-desktop-entry" in done.stdout and done.stdout.startswith("usage: finetune-studio")
