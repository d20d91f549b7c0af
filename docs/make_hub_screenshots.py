"""Render docs/hub-login.png and docs/hub-push.png from the real dialogs.

    xvfb-run -a -s "-screen 0 1280x800x24" python docs/make_hub_screenshots.py [--extra DIR]

The login dialog is shown as a user first sees it (the real huggingface.co token page as its link, a pasted token
masked). The push dialog is shown after a real push of a short demo run to a local Hub-compatible test server
(tests/hub_server.py) on 127.0.0.1, so nothing leaves the machine; its link therefore points at that server.
Runs, HF_HOME and QSettings go to a temporary folder: the user's login and settings are never touched.
`--extra DIR` also saves a rejected-token login, a failed push and the main window (status bar, push button).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STEPS = 40
TOKEN = "hf_DOCSxScreenshotxTokenxAbCdEfGhIjKlMn"  # accepted by the local test server only


def settle(app: object, seconds: float = 0.3) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.01)


def wait(app: object, condition: object, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the dialog did not reach the expected state")
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder for hub-login.png and hub-push.png")
    parser.add_argument("--extra", help="folder for more states (rejected token, failed push, main window)")
    args = parser.parse_args()
    out = Path(args.out)
    tmp = Path(tempfile.mkdtemp(prefix="ft-hub-screenshots-"))
    os.environ["FINETUNE_STUDIO_RUNS"] = str(tmp / "runs")
    os.environ["HF_HOME"] = str(tmp / "hf_home")  # read by huggingface_hub when it is imported
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_ENDPOINT", "HF_HUB_OFFLINE"):
        os.environ.pop(name, None)
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp / "settings"))
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Finetune Studio")
    app.setStyle("Fusion")

    from finetune_studio.gui import dialogs
    from finetune_studio.gui.main_window import MainWindow

    dialogs.ask_save_changes = lambda *a: dialogs.SaveChoice.DISCARD
    window = MainWindow()
    window.resize(1280, 800)
    window.move(0, 0)
    window.show()
    wait(app, lambda: window.hub.status.kind != "checking")

    # 1. The login dialog as a user first sees it: huggingface.co's token page, a pasted token, masked.
    login = window.hub.open_login()
    login.token_edit.setText("hf_" + "x" * 34)
    settle(app)
    login.grab().save(str(out / "hub-login.png"))
    print(f"wrote {out / 'hub-login.png'} ({login.width()}x{login.height()})")
    login.reject()

    # 2. Everything else against a local Hub.
    import pytest

    from tests.hub_fixtures import patch_client
    from tests.hub_server import HubServer

    with HubServer() as hub:
        hub.add_token(TOKEN, "alice", "write", display_name="finetune-studio")
        patch = pytest.MonkeyPatch()
        patch_client(patch, hub.url, tmp / "hf_home")
        if args.extra:
            extra = Path(args.extra)
            extra.mkdir(parents=True, exist_ok=True)
            rejected = window.hub.open_login()
            rejected.token_edit.setText("hf_" + "y" * 34)
            rejected.submit()
            wait(app, lambda: not rejected.checking)
            settle(app)
            rejected.grab().save(str(extra / "hub-login-rejected.png"))
            rejected.reject()
        login = window.hub.open_login()
        login.token_edit.setText(TOKEN)
        login.submit()
        wait(app, lambda: window.hub.status.kind == "account")

        run_dir = train_demo(app, window, wait)
        window.show_run(run_dir)
        dialog = window.hub.push_current_run()
        wait(app, lambda: bool(dialog.plan))
        if args.extra:
            hub.fail_next("/api/repos/create", 500)
            dialog.start_push()
            wait(app, lambda: not dialog.pushing)
            settle(app)
            dialog.grab().save(str(extra / "hub-push-failed.png"))
        dialog.message_edit.setText("Horoscope demo, 40 steps")
        dialog.start_push()
        wait(app, lambda: not dialog.pushing)
        settle(app)
        dialog.grab().save(str(out / "hub-push.png"))
        print(f"wrote {out / 'hub-push.png'} ({dialog.width()}x{dialog.height()})")
        dialog.reject()
        if args.extra:
            settle(app)
            window.grab().save(str(extra / "hub-window.png"))
            print(f"wrote the extra states to {extra}")
        patch.undo()
    window.setWindowModified(False)
    window.close()
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def train_demo(app: object, window: object, wait: object) -> Path:
    """A short real demo run in the window, so the push lists the files a real run has."""
    from finetune_studio.core.config import PRESETS
    from finetune_studio.core.demo import demo_model_path

    demo_model_path()
    config = PRESETS["demo"]()
    config.name = "horoscopes-demo"
    config.training.update(max_steps=STEPS, per_device_train_batch_size=8, gradient_accumulation_steps=1,
                           learning_rate=1e-3, logging_steps=2, eval_strategy="steps", eval_steps=20,
                           save_strategy="steps", save_steps=20, activation_checkpointing=False)
    window.set_config(config)  # type: ignore[attr-defined]
    window.begin_warmup()  # type: ignore[attr-defined]
    wait(app, lambda: window.start_action.isEnabled())  # type: ignore[operator, attr-defined]
    window.start_action.trigger()  # type: ignore[attr-defined]
    wait(app, lambda: window.run_dir is not None and not window.runner.running)  # type: ignore[operator, attr-defined]
    return Path(window.run_dir)  # type: ignore[attr-defined]


if __name__ == "__main__":
    sys.exit(main())
