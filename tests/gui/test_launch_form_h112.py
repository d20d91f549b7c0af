"""The Launch tab in the window with launch settings a hostile user writes (helper-112): every problem is marked at
its field in the same check, Start and Copy launch command wait for all of them, and the endpoint's message says
what to write. A port in use here showed nowhere while the run lacked a name (the first check named the name alone,
and the port came up only once that was fixed)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from finetune_studio.core.config import RunConfig, load_config, save_config
from tests.gui.test_app import dialog_log, make_window

NAME = ("A run on several machines needs a name: every machine's launch command names the same run folder. To fix: "
        "give the run a name (Run name on the Training tab, name: in the file), e.g. two-machines.")


def _open(qtbot: Any, window: Any, path: Path, **launch: object) -> Any:
    config = RunConfig()
    for key, value in launch.items():
        setattr(config.launch, key, value)
    save_config(config, path)
    config, _ = load_config(path)
    window.set_config(config, path)
    window.validate_now()
    window.validator.wait()
    qtbot.waitUntil(lambda: bool(window.problems), timeout=10_000)
    form = window.launch_form
    window.tabs.setCurrentWidget(window.pages[form])
    return form


def _shown(form: Any, key: str) -> str | None:
    label = form._fields[key].error
    return label.text() if hasattr(label, "text") and label.isVisibleTo(form) else None


def test_a_port_in_use_is_marked_in_the_same_check_as_a_missing_name(qtbot: Any, make_window: Any,
                                                                    tmp_path: Path) -> None:
    window = make_window()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        form = _open(qtbot, window, tmp_path / "two.yaml", processes=2, nodes=2, rdzv_endpoint=f"127.0.0.1:{port}")
        in_use = (f"Port {port} is in use by another program on this machine, so the rendezvous cannot listen there. "
                  "To fix: choose another port (or leave the endpoint empty on one machine: a free port is chosen).")
        errors = [(p.field, p.message) for p in window.problems if p.level == "error"]
        assert errors == [("name", NAME), ("launch.rdzv_endpoint", in_use)]
        assert _shown(form, "launch.rdzv_endpoint") == in_use
        assert not window.start_action.isEnabled() and not form.copy_button.isEnabled()
        assert form.copy_button.toolTip() == f"Copy launch command waits for this to be fixed: {NAME} {in_use}"


def test_the_worst_launch_settings_are_all_marked_with_what_to_write(qtbot: Any, make_window: Any,
                                                                     tmp_path: Path) -> None:
    window = make_window()
    window.resize(1100, 900)
    form = _open(qtbot, window, tmp_path / "worst.yaml", processes=0, nodes=2, node_rank=5,
                 rdzv_endpoint="http://node0:29500")
    assert sorted(p.field for p in window.problems if p.level == "error") == [
        "launch.node_rank", "launch.processes", "launch.rdzv_endpoint", "name"]
    assert _shown(form, "launch.rdzv_endpoint") == (
        "The rendezvous endpoint 'http://node0:29500' is not host:port (e.g. 192.168.1.10:29500): it is a URL, and "
        "torchrun takes the bare host and port, without http:// or a path. To fix: write node0:29500.")
    assert _shown(form, "launch.processes").startswith("processes is 0; it must be 1 or more")
    assert _shown(form, "launch.node_rank").startswith("This machine is number 5, but the run has 2 machines")
    assert form.endpoint_edit.text() == "http://node0:29500"  # as written, to be fixed in place
    assert not window.start_action.isEnabled() and not form.copy_button.isEnabled()
    qtbot.wait(50)
    assert window.grab().save(str(tmp_path / "launch-worst.png"))

    form.endpoint_edit.setText("node0:29500")  # the fix the message gives, typed
    form.endpoint_edit.textEdited.emit("node0:29500")
    window.validate_now()
    window.validator.wait()
    qtbot.waitUntil(lambda: _shown(form, "launch.rdzv_endpoint") is None, timeout=10_000)
    assert sorted(p.field for p in window.problems if p.level == "error") == [
        "launch.node_rank", "launch.processes", "name"]
