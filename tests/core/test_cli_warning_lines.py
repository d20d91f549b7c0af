"""The command line prints a library's warning whole. It printed only its first line, so a resume whose settings
differ from the checkpoint's said "warning: Warning: The following arguments do not match the ones in the
`trainer_state.json` within the checkpoint directory: " and cut off which arguments, with the prefix doubled."""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

import pytest

from finetune_studio.core import cli

MISMATCH = ("Warning: The following arguments do not match the ones in the `trainer_state.json` within the "
            "checkpoint directory: \n\tper_device_train_batch_size: 8 (from args) != 4 (from trainer_state.json)")


def printed(capsys: pytest.CaptureFixture[str], *events: dict) -> list[str]:
    printer = cli.ProgressPrinter()
    for event in events:
        printer(event)
    return capsys.readouterr().err.splitlines()


def test_every_line_of_a_warning_is_printed_once_without_the_library_prefix(capsys) -> None:
    event = {"event": "warning", "source": "transformers.trainer_utils", "message": MISMATCH}
    assert printed(capsys, event, dict(event)) == [
        "warning: The following arguments do not match the ones in the `trainer_state.json` within the checkpoint "
        "directory:",
        "  per_device_train_batch_size: 8 (from args) != 4 (from trainer_state.json)"]


def test_a_one_line_warning_is_printed_as_it_is(capsys) -> None:
    assert printed(capsys, {"event": "warning", "source": "datasets", "message": "Warning is near."}) == [
        "warning: Warning is near."]


def test_a_python_warning_loses_the_line_of_code_python_appends(capsys) -> None:
    """logging.captureWarnings words a warning as 'file:line: Category: message' plus the line that warned."""
    import logging

    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage().strip())

    logger = logging.getLogger("py.warnings")
    handler = Keep()
    logger.addHandler(handler)
    logging.captureWarnings(True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn("`x` is deprecated.\nUse `y` instead.", FutureWarning, stacklevel=1)
    finally:
        logging.captureWarnings(False)
        logger.removeHandler(handler)
    assert records[0].endswith("warnings.warn(\"`x` is deprecated.\\nUse `y` instead.\", FutureWarning, "
                               "stacklevel=1)")
    lines = printed(capsys, {"event": "warning", "source": "py.warnings", "message": records[0]})
    assert lines[0].startswith("warning: ") and lines[0].endswith(": FutureWarning: `x` is deprecated.")
    assert lines[1:] == ["  Use `y` instead."]


@pytest.mark.slow
def test_resume_with_another_batch_size_names_it(demo_cache: Path, small_dataset: Path, runs_dir: Path,
                                                 capsys) -> None:
    from finetune_studio.core.training import run
    from tests.helpers import small_config

    config = small_config(small_dataset, runs_dir, max_steps=6, save_steps=3, eval_steps=3,
                          per_device_train_batch_size=4, load_best_model_at_end=False)
    config.name = "batch"
    stop = threading.Event()
    first = run(config, lambda event: stop.set() if event.get("step") == 3 else None, stop)
    assert first.state == "stopped"
    run_dir = Path(first.run_dir)
    text = (run_dir / "config.yaml").read_text()
    (run_dir / "config.yaml").write_text(text.replace("per_device_train_batch_size: 4",
                                                      "per_device_train_batch_size: 8"))
    capsys.readouterr()
    assert cli.main(["resume", str(run_dir)]) == 0
    err = capsys.readouterr().err.splitlines()
    at = next(i for i, line in enumerate(err) if "do not match the ones in the `trainer_state.json`" in line)
    assert err[at].startswith("warning: The following arguments")
    assert err[at + 1] == "  per_device_train_batch_size: 8 (from args) != 4 (from trainer_state.json)"
