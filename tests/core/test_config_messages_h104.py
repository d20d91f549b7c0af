"""A config file's odd values and odd files, as `validate` and `train` tell them: the value as the file writes it,
what is wrong with it, and a "To fix:" that leads to a file that passes (exit 2, nothing trained). A list or mapping
where text is wanted is refused, not turned into Python's text of it ("['a']")."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.cli import main
from finetune_studio.core.config import RunConfig, load_config, parse_config, runs_dir_of
from finetune_studio.core.errors import ConfigError

SECTIONS = "dataset, model, training, hub, adapter, chat and launch"
NOT_A_MAPPING_FIX = ("To fix: write the settings as key: value lines, e.g. model: {name_or_path: builtin:demo}, or "
                     "write a new config with 'finetune-studio init NEW.yaml' and change what you need in it.")


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "runs"
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(folder))
    monkeypatch.chdir(tmp_path)
    return folder


def _errors(capsys: pytest.CaptureFixture[str]) -> list[str]:
    out, err = capsys.readouterr()
    assert out == "", out
    return err.splitlines()


def _write(tmp_path: Path, text: str, name: str = "run.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------- values that must be text


def test_runs_dir_as_a_list_is_refused_by_validate_and_train(tmp_path: Path, runs: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """It crashed both: TypeError: expected str, bytes or os.PathLike object, not list (from runs_dir_of)."""
    path = _write(tmp_path, "runs_dir: [x]\n")
    said = (f"error: runs_dir: runs_dir must be one folder as text, not a list (got [x]). To fix: write one folder, "
            f"e.g. runs_dir: ~/finetune-runs, or remove runs_dir to use the per-user default ({runs}).")
    assert main(["validate", str(path)]) == cli.EXIT_CONFIG
    assert _errors(capsys) == [said]
    assert main(["train", str(path)]) == cli.EXIT_CONFIG
    assert _errors(capsys) == [said]
    assert not runs.exists() and not (tmp_path / "x").exists()
    _write(tmp_path, "runs_dir: ~/finetune-runs\n", "fixed.yaml")
    assert load_config(tmp_path / "fixed.yaml")[0].runs_dir == "~/finetune-runs"


def test_runs_dir_of_a_value_that_is_not_text_never_crashes(runs: Path) -> None:
    from finetune_studio.core.config import runs_dir_problem  # what validate() can report it with

    config = RunConfig()
    config.runs_dir = ["x"]  # type: ignore[assignment] - as code (not a file) could set it
    assert runs_dir_of(config) == runs
    problem = runs_dir_problem(config)
    assert problem is not None and (problem.field, problem.message) == (
        "runs_dir", f"runs_dir must be one folder as text, not a list (got [x]). To fix: write one folder, e.g. "
                    f"runs_dir: ~/finetune-runs, or remove runs_dir to use the per-user default ({runs}).")
    config.runs_dir = "elsewhere"
    assert runs_dir_of(config) == Path("elsewhere") and runs_dir_problem(config) is None


def test_a_run_name_as_a_list_is_refused_not_named_after_its_python_text(tmp_path: Path, runs: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """`name: [a]` was the run "['a']", and validate said ok."""
    path = _write(tmp_path, "name: [a]\n")
    assert main(["validate", str(path)]) == cli.EXIT_CONFIG
    assert _errors(capsys) == [
        "error: name: name must be one run name as text, not a list (got [a]). To fix: write one name of letters, "
        "digits, - and _, e.g. name: my-run, or remove name to have one made from the date and time."]
    with pytest.raises(ConfigError) as caught:
        parse_config({"name": {"a": 1}})
    assert "not a mapping (got {a: 1})" in str(caught.value)
    assert caught.value.partial.name == ""  # the default, so validate() of the rest still runs


def test_prompts_as_a_mapping_is_refused_with_the_line_in_quotes(tmp_path: Path, runs: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """`prompts: {a: b}` was the prompt "{'a': 'b'}", and validate said ok."""
    path = _write(tmp_path, "prompts: {a: b}\n")
    assert main(["validate", str(path)]) == cli.EXIT_CONFIG
    assert _errors(capsys) == [
        "error: prompts: prompts must be a list of prompts, not a mapping (got {a: b}); YAML reads a line with ': ' "
        "in it as a mapping. To fix: write each prompt as text in quotes, e.g. prompts: ['a: b'], one '- ' line per "
        "prompt."]
    _write(tmp_path, "prompts: ['a: b']\n", "fixed.yaml")
    assert load_config(tmp_path / "fixed.yaml")[0].prompts == ["a: b"]


def test_a_prompt_that_yaml_read_as_a_mapping_is_refused(tmp_path: Path, runs: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "prompts:\n- hello\n- Question: why?\n")
    assert main(["validate", str(path)]) == cli.EXIT_CONFIG
    assert _errors(capsys) == [
        "error: prompts: prompt 2 of prompts is a mapping ({Question: 'why?'}), not text; YAML reads a line with ': ' "
        "in it as a mapping. To fix: write it as one prompt in quotes, e.g. - 'Question: why?'."]
    _write(tmp_path, "prompts:\n- hello\n- 'Question: why?'\n", "fixed.yaml")
    assert load_config(tmp_path / "fixed.yaml")[0].prompts == ["hello", "Question: why?"]


def test_every_value_that_is_not_text_is_said_at_once_with_the_rest(tmp_path: Path, runs: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "name: [a]\nruns_dir: {a: 1}\nprompts: [[a, b]]\ndataset: {source: nope.jsonl}\n")
    assert main(["validate", str(path)]) == cli.EXIT_CONFIG
    errors = _errors(capsys)
    assert [line.split(":")[1].strip() for line in errors] == ["name", "runs_dir", "prompts", "dataset.source"]
    assert errors[2] == ("error: prompts: prompt 1 of prompts is a list ([a, b]), not text. To fix: write it as one "
                         "prompt in quotes, e.g. - '[a, b]'.")


# ---------------------------------------------------------------------------------- files that cannot be read


def test_a_missing_config_file_names_where_it_looked(tmp_path: Path, runs: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "nope.yaml"]) == cli.EXIT_CONFIG
    assert _errors(capsys) == [
        f"error: Config file not found: nope.yaml (looked for in {tmp_path}). To fix: check the path, or write a new "
        "config there with 'finetune-studio init nope.yaml'."]
    _write(tmp_path, "name: mine\n", "my-run.yaml")
    assert main(["validate", str(tmp_path / "my_run.yaml")]) == cli.EXIT_CONFIG
    assert _errors(capsys) == [
        f"error: Config file not found: {tmp_path / 'my_run.yaml'}. Did you mean {tmp_path / 'my-run.yaml'}? To fix: "
        f"check the path, or write a new config there with 'finetune-studio init {tmp_path / 'my_run.yaml'}'."]
    assert main(["validate", "gone/run.yaml"]) == cli.EXIT_CONFIG
    assert _errors(capsys) == [
        f"error: Config file not found: gone/run.yaml (looked for in {tmp_path}): the folder gone does not exist. To "
        "fix: check the path, or write a new config with 'finetune-studio init NEW.yaml'."]


def test_a_config_file_that_is_not_utf8_says_its_line(tmp_path: Path, runs: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: a\nrun: caf\u00e9\n".encode("latin-1"))
    assert main(["validate", str(path)]) == cli.EXIT_CONFIG
    assert _errors(capsys) == [
        f"error: Cannot read config file {path}: 'utf-8' codec can't decode byte 0xe9 in position 16: invalid "
        "continuation byte (line 2): it is not UTF-8 text. To fix: save it as UTF-8 (most editors offer the encoding "
        "when saving as), then run again."]


def test_a_folder_given_for_the_config_file_names_the_file_in_it(tmp_path: Path, runs: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "configs"
    folder.mkdir()
    assert main(["validate", str(folder)]) == cli.EXIT_CONFIG
    assert _errors(capsys) == [
        f"error: {folder} is a folder, not a config file. To fix: give the YAML config file in it, or write one with "
        f"'finetune-studio init {folder / 'my-run.yaml'}'."]
    _write(folder, "name: b\n", "b.yaml")
    _write(folder, "name: c\n", "config.yaml")
    assert main(["validate", str(folder)]) == cli.EXIT_CONFIG
    assert _errors(capsys) == [
        f"error: {folder} is a folder, not a config file. To fix: give the YAML config file in it, e.g. "
        f"{folder / 'config.yaml'}, or write one with 'finetune-studio init {folder / 'my-run.yaml'}'."]


@pytest.mark.parametrize("text, kind, got", [("- dataset\n- model\n", "a list", "[dataset, model]"),
                                             ("5\n", "a number", "5")], ids=["list", "number"])
def test_a_config_file_that_is_not_a_mapping_says_what_it_is(text: str, kind: str, got: str, tmp_path: Path,
                                                             runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, text)
    assert main(["validate", str(path)]) == cli.EXIT_CONFIG
    assert _errors(capsys) == [
        f"error: {path} must be a mapping of settings ({SECTIONS}, each as key: value at the start of a line), not "
        f"{kind} (got {got}). {NOT_A_MAPPING_FIX}"]
    with pytest.raises(ConfigError) as caught:
        parse_config(["dataset"])
    assert str(caught.value) == (f"A config must be a mapping of settings ({SECTIONS}, each as key: value at the "
                                 f"start of a line), not a list (got [dataset]). {NOT_A_MAPPING_FIX}")


# ---------------------------------------------------------------------------------- YAML the loader refuses


@pytest.mark.parametrize("text, said", [
    ("name: a\nname: b\n",
     "line 2, column 1: 'name' is given twice in the same section, and the second would silently replace the first; "
     "keep one (the first one is the 'name' that starts at line 1, column 1). To fix: delete the 'name' at line 2 or "
     "the one at line 1, keeping the value you mean."),
    ("name:\tx\n",
     "line 1, column 6: found character '\\t' that cannot start any token; YAML indents with spaces, not tabs. To "
     "fix: replace the tab at line 1, column 6 with spaces."),
    ("name: a\n---\nname: b\n",
     "line 2, column 1: but found another document (expected a single document in the stream that starts at line 1, "
     "column 1). To fix: keep one config in the file: remove the '---' at line 2 and what follows it (or move that "
     "into a file of its own)."),
    ("name: a\ntraining: [\n",
     "line 3, column 1: expected the node content, but found '<stream end>'. To fix: correct line 3 (or the line "
     "before it): each setting is key: value, a section's settings are indented under it with spaces, and text "
     "holding ': ', ' #' or a bracket goes in quotes."),
], ids=["key-twice", "tab", "two-documents", "unclosed"])
def test_yaml_that_cannot_be_read_says_what_to_change(text: str, said: str, tmp_path: Path, runs: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, text)
    assert main(["validate", str(path)]) == cli.EXIT_CONFIG
    assert _errors(capsys) == [f"error: {path} is not valid YAML at {said}"]


@pytest.mark.parametrize("text, said", [
    ("chat: [a]\n", "chat: chat must be a mapping of settings, not a list (got [a]). To fix: write each as key: value "
                    "on its own line, indented under chat:, e.g. chat: {format: auto}, or remove chat to use its "
                    "defaults."),
    ("training: 3\n", "training: training must be a mapping of TrainingArguments fields, not a number (got 3). To "
                      "fix: write each as key: value on its own line, indented under training:, e.g. training: "
                      "{num_train_epochs: 3}, or remove training to use the seed's."),
], ids=["chat-list", "training-number"])
def test_a_section_that_is_not_a_mapping_says_what_it_is(text: str, said: str, tmp_path: Path, runs: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, text)
    assert main(["validate", str(path)]) == cli.EXIT_CONFIG
    assert _errors(capsys) == [f"error: {said}"]


def test_a_set_flag_without_a_value_shows_the_flag_written_right(runs: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--set", "foo"]) == cli.EXIT_CONFIG
    assert _errors(capsys) == ["error: --set: 'foo' must look like key=value (it has no '='). To fix: give the value "
                               "after '=', e.g. --set training.learning_rate=1e-4"]
    assert main(["validate", "--set", "dataset.max_length"]) == cli.EXIT_CONFIG
    assert _errors(capsys) == ["error: --set: 'dataset.max_length' must look like key=value (it has no '='). To fix: "
                               "give the value after '=', e.g. --set dataset.max_length=512"]
    assert main(["validate", "--set", "=5"]) == cli.EXIT_CONFIG
    assert _errors(capsys) == ["error: --set: '=5' names no setting before the '='. To fix: write the setting's name "
                               "before it, e.g. --set training.learning_rate=5"]


def test_a_run_folder_without_its_config_says_to_put_it_back(tmp_path: Path) -> None:
    """A run's config.yaml gone: `init` there would write the demo's config into the run, so it is not offered."""
    run = tmp_path / "runs" / "tiny"
    run.mkdir(parents=True)
    (run / "status.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(run / "config.yaml")
    assert str(caught.value) == (f"Config file not found: {run / 'config.yaml'}. To fix: put the run's config.yaml "
                                 f"back in {run} (from a copy of it); the run cannot be resumed, exported or compared "
                                 "without it.")
