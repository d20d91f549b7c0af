"""PySide6 asks of every module imported after it whether the module's source mentions PySide6; the app answers that
from the file read raw (gui.early_init.read_sources_raw_for_pyside), so the warm-up's thousands of sources are not
kept in linecache and not read through inspect. Each case runs in a fresh interpreter: the answers are cached per
module name for the life of the process, and linecache too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import ctypes, json, linecache, sys  # ctypes: early_init imports it
    sys.path.insert(0, sys.argv[2])
    import PySide6.QtCore
    feature = sys.modules["shibokensupport.feature"]
    from finetune_studio.gui.early_init import early_init  # both sides import the same modules
    if sys.argv[1] == "raw":
        early_init()  # what gui.app.main runs first, PySide6 being imported by then
    before = set(sys.modules)
    import qt_user, plain_module, email.mime.multipart, xml.dom.minidom, pyqtgraph
    new = sorted(set(sys.modules) - before)
    print(json.dumps({
        "answers": {name: feature.pyside_feature_dict.get(name) for name in new},
        "kept": sorted(path for path in linecache.cache if path.startswith(sys.argv[2])),
        "kept_files": len(linecache.cache),
        "raw": getattr(feature._mod_uses_pyside, "reads_raw", False),
    }))
    """
)


def _run(mode: str, folder) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(folder)], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_same_answers_without_keeping_sources(tmp_path):
    (tmp_path / "qt_user.py").write_text("from PySide6.QtCore import QObject  # a module of a Qt app\n")
    (tmp_path / "plain_module.py").write_text("VALUE = 'no Qt here'\n")
    pyside = _run("pyside", tmp_path)
    raw = _run("raw", tmp_path)

    assert raw["raw"] is True and pyside["raw"] is False
    # PySide6's own answers, module by module, for a Qt user, a plain module, the stdlib and pyqtgraph (whose Qt shim
    # names PySide6): the raw read gives every one of them the same.
    assert pyside["answers"]["qt_user"] == 0 and pyside["answers"]["plain_module"] == -1
    assert pyside["answers"]["pyqtgraph.Qt"] == 0 and pyside["answers"]["email.message"] == -1
    assert raw["answers"] == pyside["answers"]
    answered = [name for name, answer in raw["answers"].items() if answer is not None]
    assert len(answered) > 250  # each module PySide6 asked about (the rest are not imported by an import statement)
    # PySide6's check left each imported source in linecache; the raw read leaves none of them there.
    assert pyside["kept"] == [str(tmp_path / "plain_module.py"), str(tmp_path / "qt_user.py")]
    assert raw["kept"] == []
    assert pyside["kept_files"] - raw["kept_files"] > 100
