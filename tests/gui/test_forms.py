"""The left-side forms: load/store round trips, edits, problem marks, the generated arguments panel, and the
dataset preview and token statistics that run in the background."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit

from finetune_studio.core.config import (
    DEMO_MODEL_ID,
    SAMPLE_DATASET_ID,
    ModelConfig,
    RunConfig,
    default_config,
    seed_preset,
)
from finetune_studio.core.errors import Problem
from finetune_studio.gui import background
from finetune_studio.gui.forms import ArgumentsPanel, DatasetForm, HubForm, ModelForm, TrainingForm

ROOT = Path(__file__).resolve().parents[2]
FORMS = [DatasetForm, ModelForm, TrainingForm, ArgumentsPanel, HubForm]


pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


@pytest.fixture(scope="module")
def fields():
    from finetune_studio.core.validation import training_fields

    return training_fields()


def make(qtbot, cls):
    form = cls()
    qtbot.addWidget(form)
    return form


def custom_config(tmp_path: Path) -> RunConfig:
    config = seed_preset()
    config.name = "my-run"
    config.runs_dir = str(tmp_path / "runs")
    config.dataset.source = str(tmp_path / "missing.jsonl")  # local: no Hub access from a test
    config.dataset.text_column = "body"
    config.dataset.max_length = 256
    config.dataset.truncation = False
    config.dataset.test_size = 0.15
    config.dataset.batching = "padding_free"
    config.model.dtype = "bfloat16"
    config.model.trust_remote_code = True
    config.model.revision = "v1.0"
    config.training.update({"num_train_epochs": 1.5, "learning_rate": 1e-4, "bf16": True, "eval_strategy": "steps",
                            "save_strategy": "steps", "logging_steps": 5, "weight_decay": 0.0,
                            "lr_scheduler_type": "cosine", "lr_scheduler_kwargs": {"min_lr": 1e-6}})
    config.hub.repo_id = "me/model"
    config.hub.private = False
    config.hub.push_when_done = True
    return config


# ---- import cost

def test_importing_forms_does_not_import_the_training_stack() -> None:
    code = ("import gui.forms, gui.background, sys; "
            "heavy = [m for m in ('torch', 'transformers', 'datasets', 'peft') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60,
                   env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


# ---- round trips

@pytest.mark.parametrize("cls", FORMS, ids=lambda c: c.__name__)
def test_default_config_round_trips(qtbot, cls) -> None:
    original = default_config()
    form = make(qtbot, cls)
    with qtbot.assertNotEmitted(form.changed):
        form.load(original)
    stored = RunConfig()
    form.store(stored)
    assert stored.to_dict() == original.to_dict()


def test_all_forms_round_trip_a_custom_config(qtbot, tmp_path: Path, fields) -> None:
    original = custom_config(tmp_path)
    forms = [make(qtbot, cls) for cls in FORMS]
    forms[3].populate(fields)
    for form in forms:
        form.load(original)
    stored = RunConfig(training={})
    for form in forms:
        form.store(stored)
    assert stored.to_dict() == original.to_dict()


# ---- edits

def test_dataset_edits(qtbot) -> None:
    form = make(qtbot, DatasetForm)
    form.load(default_config())
    form.source_edit.clear()
    with qtbot.waitSignal(form.changed):
        qtbot.keyClicks(form.source_edit, "~/data/train.csv")
    with qtbot.waitSignal(form.changed):
        form.max_length_spin.setValue(128)
    with qtbot.waitSignal(form.changed):
        form.test_size_spin.setValue(0.2)
    with qtbot.waitSignal(form.changed):
        form.truncation_check.click()
    config = RunConfig()
    form.store(config)
    assert (config.dataset.source, config.dataset.max_length, config.dataset.test_size,
            config.dataset.truncation) == ("~/data/train.csv", 128, 0.2, False)


def test_dataset_source_chosen_and_recent(qtbot) -> None:
    form = make(qtbot, DatasetForm)
    form.load(RunConfig())
    form.set_recent(["/data/a.jsonl", "owner/name"])
    assert form.recent_button.isEnabled()
    with qtbot.waitSignal(form.source_chosen) as chosen, qtbot.waitSignal(form.changed):
        form.recent_menu.actions()[1].trigger()
    assert chosen.args == ["owner/name"] and form.source_edit.text() == "owner/name"
    with qtbot.waitSignal(form.source_chosen) as chosen:
        form.sample_button.click()
    assert chosen.args == [SAMPLE_DATASET_ID]
    form.set_recent([])
    assert not form.recent_button.isEnabled()


def test_model_edits_and_trust_warning(qtbot) -> None:
    form = make(qtbot, ModelForm)
    form.load(seed_preset())  # a Hub model: the built-in demo's Revision and Remote code are disabled
    assert not form.trust_warning.isVisibleTo(form)
    with qtbot.waitSignal(form.changed):
        form.trust_check.click()
    assert form.trust_warning.isVisibleTo(form)
    assert "Only enable for authors you trust" in form.trust_warning.text()
    with qtbot.waitSignal(form.changed):
        qtbot.keyClicks(form.revision_edit, "main")
    form.source_edit.clear()
    with qtbot.waitSignal(form.changed):
        qtbot.keyClicks(form.source_edit, "Qwen/Qwen3-0.6B")
    form.dtype_combo.setCurrentIndex(form.dtype_combo.findData("bfloat16"))
    form.dtype_combo.activated.emit(form.dtype_combo.currentIndex())
    config = RunConfig()
    form.store(config)
    assert (config.model.name_or_path, config.model.trust_remote_code, config.model.revision,
            config.model.dtype) == ("Qwen/Qwen3-0.6B", True, "main", "bfloat16")
    with qtbot.waitSignal(form.changed):
        form.demo_button.click()
    assert form.model_config().name_or_path == DEMO_MODEL_ID


def test_training_edits(qtbot) -> None:
    form = make(qtbot, TrainingForm)
    form.load(default_config())
    form.lr_edit.clear()
    with qtbot.waitSignal(form.changed):
        qtbot.keyClicks(form.lr_edit, "1e-4")
    form.epochs_edit.clear()
    with qtbot.waitSignal(form.changed):
        qtbot.keyClicks(form.epochs_edit, "2.5")
    form.batch_edit.clear()
    with qtbot.waitSignal(form.changed):
        qtbot.keyClicks(form.batch_edit, "4")
    assert "32" in form.effective_hint.text()
    form.precision_combo.setCurrentIndex(form.precision_combo.findData("fp32"))
    with qtbot.waitSignal(form.changed):
        form.precision_combo.activated.emit(form.precision_combo.currentIndex())
    with qtbot.waitSignal(form.changed):
        qtbot.keyClicks(form.name_edit, "first")
    config = RunConfig()
    form.store(config)
    t = config.training
    assert (t["learning_rate"], t["num_train_epochs"], t["per_device_train_batch_size"]) == (1e-4, 2.5, 4)
    assert (t["bf16"], t["fp16"], config.name) == (False, False, "first")
    assert isinstance(t["logging_steps"], int) and t["logging_steps"] == 10


def test_batching_mode_choice_explains_itself(qtbot) -> None:
    from finetune_studio.core.batching import BATCHING_MODES

    form = make(qtbot, TrainingForm)
    form.load(default_config())
    assert form.batching_combo.currentData() == "padded"  # the seed's collator is the default
    assert form.batching_hint.text() == BATCHING_MODES["padded"]
    assert [form.batching_combo.itemData(i) for i in range(form.batching_combo.count())] == list(BATCHING_MODES)
    form.batching_combo.setCurrentIndex(form.batching_combo.findData("group_by_length"))
    with qtbot.waitSignal(form.changed):
        form.batching_combo.activated.emit(form.batching_combo.currentIndex())
    assert form.batching_hint.text() == BATCHING_MODES["group_by_length"]
    assert form.effective_hint.text() == "= 16 rows per optimizer step"
    form.batching_combo.setCurrentIndex(form.batching_combo.findData("packed"))
    assert form.effective_hint.text() == "= 16 packed blocks per optimizer step"
    form.batching_combo.setCurrentIndex(form.batching_combo.findData("group_by_length"))
    config = RunConfig()
    form.store(config)
    assert config.dataset.batching == "group_by_length"
    refusal = "padding-free batches need an attention implementation that respects row boundaries."
    form.show_problems([Problem("dataset.batching", refusal)])
    assert form.owns("dataset.batching")
    assert form.batching_combo.property("problem") is True and form.batching_combo.toolTip() == refusal


def test_learning_rate_that_does_not_parse_is_marked_and_kept_as_text(qtbot) -> None:
    form = make(qtbot, TrainingForm)
    form.lr_edit.clear()
    qtbot.keyClicks(form.lr_edit, "2e")
    assert form.lr_edit.property("problem") is True
    config = RunConfig()
    form.store(config)
    assert config.training["learning_rate"] == "2e"  # validate() will name the field
    qtbot.keyClicks(form.lr_edit, "-5")
    assert not form.lr_edit.property("problem")


def test_set_hardware_labels_auto_and_disables_unsupported(qtbot) -> None:
    from finetune_studio.core.hardware import Hardware

    form = make(qtbot, TrainingForm)
    form.set_hardware(Hardware("cpu", "CPU", bf16=False, fp16=False))
    combo, model = form.precision_combo, form.precision_combo.model()
    assert combo.itemText(combo.findData("auto")) == "auto  (fp32 on this CPU)"
    bf16 = model.item(combo.findData("bf16"))
    assert not bf16.isEnabled() and "GPU" in bf16.toolTip()
    form.set_hardware(Hardware("cuda", "NVIDIA H100", bf16=True, fp16=True))
    assert model.item(combo.findData("bf16")).isEnabled()
    assert "bf16 on NVIDIA H100" in combo.itemText(combo.findData("auto"))


def test_hub_edits(qtbot) -> None:
    form = make(qtbot, HubForm)
    form.load(default_config())
    assert form.private_check.isChecked()
    with qtbot.waitSignal(form.changed):
        qtbot.keyClicks(form.repo_edit, "me/tuned")
    with qtbot.waitSignal(form.changed):
        form.push_check.click()
    config = RunConfig()
    form.store(config)
    assert (config.hub.repo_id, config.hub.push_when_done, config.hub.private) == ("me/tuned", True, True)


# ---- problem marks

def test_show_problems_marks_owned_fields_and_clears(qtbot) -> None:
    training, dataset = make(qtbot, TrainingForm), make(qtbot, DatasetForm)
    message = "learning_rate must be above 0 (got 0); the seed uses 2e-5."
    problems = [Problem("training.learning_rate", message), Problem("training.fp16", "fp16 needs a GPU."),
                Problem("dataset.max_length", "max_length must be above 0."), Problem("training", "Rejected.")]
    for form in (training, dataset):
        form.show_problems(problems)
    assert training.lr_edit.property("problem") is True
    assert training.lr_edit.toolTip() == message
    assert training.precision_combo.property("problem") is True  # fp16 is shown at the precision combo
    assert training.general_error.isVisibleTo(training) and training.general_error.text() == "Rejected."
    assert training.batch_edit.property("problem") is not True
    assert dataset.max_length_spin.property("problem") is True
    assert not dataset.source_edit.property("problem")  # dataset form ignores training.* and vice versa
    assert training.owns("training.learning_rate") and not training.owns("training.weight_decay")
    assert dataset.owns("dataset.max_length") and not dataset.owns("model.dtype")

    for form in (training, dataset):
        form.show_problems([])
    assert training.lr_edit.property("problem") is False
    assert training.lr_edit.toolTip() != message
    assert not training.general_error.isVisibleTo(training)
    assert dataset.max_length_spin.property("problem") is False


def test_model_and_hub_problems(qtbot) -> None:
    model, hub = make(qtbot, ModelForm), make(qtbot, HubForm)
    problems = [Problem("model.name_or_path", "Model folder not found: /x."), Problem("hub.repo_id", "Bad id.")]
    model.show_problems(problems)
    hub.show_problems(problems)
    assert model.source_edit.property("problem") is True
    assert model.source_edit.toolTip() == "Model folder not found: /x."
    assert hub.repo_edit.property("problem") is True and hub.repo_edit.toolTip() == "Bad id."


# ---- all arguments

def test_arguments_panel_editors(qtbot, fields) -> None:
    panel = make(qtbot, ArgumentsPanel)
    panel.load(default_config())
    panel.populate(fields)
    print(f"\nArgumentsPanel.populate: {panel.populate_ms:.0f} ms for {len(fields)} fields")
    assert panel.populate_ms < 1000
    assert isinstance(panel.row("weight_decay").editor, QLineEdit)
    scheduler = panel.row("lr_scheduler_type").editor
    assert isinstance(scheduler, QComboBox)
    assert scheduler.findData("cosine") >= 0 and scheduler.currentData() == "linear"
    assert isinstance(panel.row("torch_compile").editor, QCheckBox)
    tf32 = panel.row("tf32").editor  # Optional[bool]: can stay unset
    assert isinstance(tf32, QComboBox) and tf32.currentData() is None
    assert panel.row("warmup_ratio" if "warmup_ratio" in fields else "warmup_steps") is not None
    for key in ("learning_rate", "num_train_epochs", "bf16", "hub_token"):  # one editor per key; no secrets
        assert panel.row(key) is None
    assert "weight decay" in panel.row("weight_decay").editor.toolTip().lower()


def test_arguments_panel_filter(qtbot, fields) -> None:
    panel = make(qtbot, ArgumentsPanel)
    panel.populate(fields)
    panel.filter_edit.setText("Weight_Decay")
    assert not panel.row("weight_decay").isHidden()
    assert panel.row("adam_beta1").isHidden()
    panel.filter_edit.setText("liger")
    assert not panel.row("use_liger_kernel").isHidden() and panel.row("weight_decay").isHidden()
    panel.filter_edit.setText("scheduler")  # matches help text as well as names
    assert not panel.row("lr_scheduler_type").isHidden() and panel.row("weight_decay").isHidden()
    panel.filter_edit.setText("")
    assert not panel.row("adam_beta1").isHidden()
    panel.filter_edit.setText("liger")
    assert panel.field_widget("training.adam_beta1") is panel.row("adam_beta1").editor  # show_field() reveals it
    assert not panel.row("adam_beta1").isHidden() and panel.filter_edit.text() == ""
    assert panel.field_widget("training.no_such_key") is None


def test_arguments_panel_edit_reset_and_changed_only(qtbot, fields) -> None:
    panel = make(qtbot, ArgumentsPanel)
    panel.load(default_config())
    panel.populate(fields)
    row = panel.row("weight_decay")
    row.editor.clear()
    with qtbot.waitSignal(panel.changed):
        qtbot.keyClicks(row.editor, "0.01")
    assert panel.is_changed("weight_decay") and row.name_label.font().bold()
    assert row.reset_button.isEnabled()
    config = default_config()
    panel.store(config)
    assert config.training["weight_decay"] == 0.01

    panel.changed_only_check.setChecked(True)
    assert not row.isHidden() and panel.row("adam_beta1").isHidden()
    panel.changed_only_check.setChecked(False)

    with qtbot.waitSignal(panel.changed):
        row.reset_button.click()
    assert not panel.is_changed("weight_decay") and not row.name_label.font().bold()
    assert row.editor.text() == "0"
    config = default_config()
    panel.store(config)
    assert "weight_decay" not in config.training


def test_arguments_panel_yaml_and_unknown_keys(qtbot, fields) -> None:
    config = default_config()
    config.training["not_a_field"] = 3
    panel = make(qtbot, ArgumentsPanel)
    panel.load(config)
    panel.populate(fields)
    unknown = panel.row("not_a_field")
    assert unknown is not None and unknown.editor.property("problem") is True

    kwargs = panel.row("lr_scheduler_kwargs").editor
    qtbot.keyClicks(kwargs, "{min_lr: 1e-6}")
    stored = default_config()
    panel.store(stored)
    assert stored.training["lr_scheduler_kwargs"] == {"min_lr": 1e-6}
    kwargs.clear()
    qtbot.keyClicks(kwargs, "{min_lr: ")
    assert kwargs.property("problem") is True and "YAML" in kwargs.toolTip()

    panel.reset("not_a_field")
    panel.reset("lr_scheduler_kwargs")
    stored = default_config()
    panel.store(stored)
    assert "not_a_field" not in stored.training and "lr_scheduler_kwargs" not in stored.training
    assert panel.row("not_a_field") is None


def test_arguments_panel_problems_before_and_after_populate(qtbot, fields) -> None:
    panel = make(qtbot, ArgumentsPanel)
    problems = [Problem("training.warmup_steps", "warmup_steps must be a number."),
                Problem("training.learning_rate", "owned by the Training form")]
    panel.show_problems(problems)  # before the rows exist: kept
    panel.populate(fields)
    editor = panel.row("warmup_steps").editor
    assert editor.property("problem") is True and editor.toolTip() == "warmup_steps must be a number."
    assert panel.owns("training.warmup_steps") and not panel.owns("training.learning_rate")
    panel.show_problems([])
    assert editor.property("problem") is False


def test_arguments_panel_says_a_trackio_space_is_public(qtbot, fields) -> None:
    panel = make(qtbot, ArgumentsPanel)
    config = default_config()
    config.training.update(report_to="trackio", trackio_space_id="me/dashboard")
    panel.load(config)  # loaded before the rows exist (the tab is built when first shown): kept for them
    panel.populate(fields)
    warning = panel.warning_text("training.trackio_space_id")
    assert warning is not None and warning.startswith("trackio_space_id 'me/dashboard' publishes this run's metrics")
    assert panel.row("trackio_space_id").error_label().text() == warning
    row = panel.row("trackio_space_id")
    row.editor.clear()
    with qtbot.waitSignal(panel.changed):
        qtbot.keyClicks(row.editor, "x")  # another Space: the warning follows it
    assert panel.warning_text("training.trackio_space_id").startswith("trackio_space_id 'x' publishes")
    with qtbot.waitSignal(panel.changed):
        row.reset_button.click()  # back to no Space: trackio logs locally, nothing to say
    assert panel.warning_text("training.trackio_space_id") is None


# ---- background helper

def test_background_task_drops_superseded_results(qtbot) -> None:
    task = background.BackgroundTask()
    results: list[object] = []
    task.result.connect(results.append)
    task.submit(lambda: (time.sleep(0.3), "old")[1])
    with qtbot.waitSignal(task.result, timeout=5000):
        task.submit(lambda: "new")
    background.wait_idle()
    qtbot.wait(50)
    assert results == ["new"] and not task.busy
    errors: list[object] = []
    task.error.connect(errors.append)
    with qtbot.waitSignal(task.error, timeout=5000):
        task.submit(lambda: 1 / 0)
    assert isinstance(errors[0], ZeroDivisionError)


def test_load_fields_in_background(qtbot, fields) -> None:
    panel = make(qtbot, ArgumentsPanel)
    assert panel.stack.currentWidget() is panel.placeholder
    background.load_fields_in_background(panel, panel.populate)
    qtbot.waitUntil(lambda: panel.row("weight_decay") is not None, timeout=60_000)
    assert panel.stack.currentWidget() is panel.scroll


# ---- dataset preview and statistics

def test_preview_of_the_sample_dataset(qtbot) -> None:
    form = make(qtbot, DatasetForm)
    config = default_config()
    config.dataset.text_column = "no_such_column"
    form.load(config)
    qtbot.waitUntil(lambda: form.preview_model.rowCount() == 20, timeout=30_000)
    assert "horoscope" in form.preview_model.columns
    combo = form.text_column_combo  # the missing column is kept and marked, as validate refuses it
    assert combo.findText("horoscope") >= 0 and combo.currentText() == "no_such_column"
    assert combo.property("problem") and "there is no column 'no_such_column'" in combo.toolTip()
    assert not form.error_label.isVisibleTo(form)


def test_token_statistics_with_the_demo_model(qtbot, demo_cache) -> None:  # demo_cache: tests/conftest.py
    form = make(qtbot, DatasetForm)
    form.load(default_config())
    form.refresh_statistics(ModelConfig(name_or_path=DEMO_MODEL_ID))
    qtbot.waitUntil(lambda: form.histogram.has_data(), timeout=120_000)
    assert form.stats_error_label.isHidden()
    at_512 = form.truncated_count(512)
    text_512 = form.stats_label.text()
    submitted = form.stats_task._token
    form.max_length_spin.setValue(16)
    assert form.truncated_count(16) > at_512
    assert form.stats_label.text() != text_512 and "of 2,000 rows will be truncated" in form.stats_label.text()
    assert form.stats_task._token == submitted and not form.stats_task.busy  # counted from cached lengths
    form.refresh_statistics(ModelConfig(name_or_path=DEMO_MODEL_ID))  # nothing changed: no new job
    qtbot.wait(600)
    assert form.stats_task._token == submitted

    form.text_column_combo.setCurrentText("nope")  # a column the preview does not have: said at once, no job
    qtbot.waitUntil(lambda: "No column 'nope'" in form.stats_label.text(), timeout=5000)
    assert not form.histogram.has_data() and not form.stats_task.busy
    form.text_column_combo.setCurrentText("horoscope")
    qtbot.waitUntil(lambda: form.histogram.has_data(), timeout=60_000)
    assert "of 2,000 rows will be truncated" in form.stats_label.text()


def test_bad_file_shows_the_data_error(qtbot, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    form = make(qtbot, DatasetForm)
    config = default_config()
    config.dataset.source = str(empty)
    form.load(config)
    form.refresh_statistics(ModelConfig(name_or_path=DEMO_MODEL_ID))
    qtbot.waitUntil(lambda: form.error_label.isVisibleTo(form), timeout=30_000)
    assert "is empty" in form.error_label.text()
    assert form.preview_model.rowCount() == 0
    qtbot.waitUntil(lambda: "once the dataset can be read" in form.stats_label.text(), timeout=5000)
    assert form.stats_error_label.isHidden()  # one message for one problem, not two
