"""`finetune-studio generate` as a user meets it: settings refused before loading, failures in its own words, Ctrl-C
and a closed pipe ending it quietly, a batch of prompts that survives one bad prompt."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from finetune_studio.core import generate_cli
from finetune_studio.core.generate import GenerationError


@pytest.fixture(scope="module")
def demo_dir(demo_cache: Path) -> Path:
    """The built-in demo model's folder: a plain text model folder, answered by `generate` as a run's model is."""
    from finetune_studio.core.demo import demo_model_path

    return demo_model_path()


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from finetune_studio.core.cli import main

    code = main(["generate", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def no_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any model load fails the test: what these tests refuse must be refused before it."""
    def load(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(generate_cli, "load", load)


# ---------------------------------------------------------------------------------------------- settings


def test_every_bad_setting_is_refused_before_loading_at_once_with_exit_2(tmp_path: Path, no_loading, capsys) -> None:
    code, out, err = cli(capsys, str(tmp_path), "--prompt", "hi", "--sample", "--temperature", "0", "--top-k", "-3",
                         "--top-p", "2", "--repetition-penalty", "0", "--seed", "99999999999999999999",
                         "--max-new-tokens", "0")
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert [line.split(" must ")[0] for line in lines] == ["error: --max-new-tokens", "error: --temperature",
                                                           "error: --top-p", "error: --top-k",
                                                           "error: --repetition-penalty", "error: --seed"]
    assert lines[1] == ("error: --temperature must be a finite number above 0 (got 0.0). To fix: give a positive "
                        "--temperature (1 samples as the model learned, lower is safer), or leave it out.")
    assert all("To fix: " in line for line in lines)
    assert "must be at least 1 (got 0)" in lines[0] and "(got -3)" in lines[3]
    assert "from 0 to 18446744073709551615 (got 99999999999999999999)" in lines[5]
    assert "Training failed" not in err and "transformers" not in err


@pytest.mark.parametrize(("flags", "says"), [
    (["--temperature", "-1"], "error: --temperature must be a finite number above 0 (got -1.0)"),
    (["--max-new-tokens", "-5"], "error: --max-new-tokens must be at least 1 (got -5)"),
    (["--sample", "--top-p", "2"], "error: --top-p must be above 0 and at most 1 (got 2.0)"),
    (["--top-p", "0"], "error: --top-p must be above 0 and at most 1 (got 0.0)"),
    (["--sample", "--temperature", "nan"],
     "error: --temperature must be a finite number above 0 (got nan)"),
    (["--seed", "-1"], "error: --seed must be a whole number from 0 to"),
    (["--seed", "-5"], "error: --seed must be a whole number from 0 to 18446744073709551615 (got -5). To fix: give a "
                       "seed in that range, e.g. --seed 0."),  # it said "give a smaller seed" (helper-50)
])
def test_one_bad_setting_is_refused_alone(tmp_path: Path, no_loading, capsys, flags: list[str], says: str) -> None:
    code, _, err = cli(capsys, str(tmp_path), "--prompt", "hi", *flags)
    assert code == 2 and err.startswith(says) and len(err.splitlines()) == 1


def test_settings_at_their_edges_are_accepted() -> None:
    from finetune_studio.core.cli import parse_args

    args = parse_args(["generate", "x", "--prompt", "hi", "--greedy", "--temperature", "0.01", "--top-k", "0",
                       "--top-p", "1", "--max-new-tokens", "1", "--seed", str(2**64 - 1)])
    assert generate_cli.settings_problems(args) == []


# ---------------------------------------------------------------------------------------------- failures and stops


def test_a_failure_inside_generation_says_generation_failed(demo_dir: Path, monkeypatch, capsys) -> None:
    def fail(*_args: object, **_kwargs: object) -> None:
        raise ValueError("`top_k` has to be a strictly positive integer, but is -3")

    monkeypatch.setattr(generate_cli, "stream_answer", fail)
    code, _, err = cli(capsys, str(demo_dir), "--prompt", "hi")
    assert code == 1
    assert err.splitlines()[-1] == ("error: Generation failed: ValueError: `top_k` has to be a strictly positive "
                                    "integer, but is -3. To fix: try other settings or another checkpoint.")
    assert "Training failed" not in err


def test_ctrl_c_while_loading_stops_before_answering_with_exit_3(demo_dir: Path, monkeypatch, capsys) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(generate_cli, "load", interrupted)
    code, out, err = cli(capsys, str(demo_dir), "--prompt", "hi")
    assert code == 3 and out == ""
    # no training advice (resume RUN_DIR); the tokenizer loads first, to measure the prompt before the weights
    assert err == f"Loading the tokenizer of {demo_dir}…\nstopped before answering (Ctrl-C).\n"


@pytest.mark.slow
def test_a_reader_that_closes_the_pipe_ends_the_command_quietly(demo_dir: Path) -> None:
    """`finetune-studio generate … | head -c 3`: the reader leaves after 3 bytes; the command exits 0, silently."""
    process = subprocess.Popen([sys.executable, "-m", "finetune_studio.core.cli", "generate", str(demo_dir),
                                "--prompt", "Today", "--max-new-tokens", "500"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
    assert process.stdout is not None
    first = process.stdout.read(3)
    process.stdout.close()  # as head does once it has its bytes
    _, err = process.communicate(timeout=120)
    text = err.decode()
    assert len(first) == 3
    assert process.returncode == 0, text
    assert "error" not in text and "BrokenPipe" not in text and "Exception ignored" not in text
    assert "tokens/s" not in text  # it stopped at the broken pipe, not after generating the whole answer


# ---------------------------------------------------------------------------------------------- prompts


TOO_LONG = ("is 1402 tokens long and this model reads at most 512 tokens (prompt and answer together), so no room is "
            "left for an answer. To fix: shorten the prompt to well under 512 tokens; the answer gets the room left, "
            "up to --max-new-tokens.")


def test_prompts_too_long_are_refused_before_the_model_loads_with_exit_2(demo_dir: Path, tmp_path: Path, no_loading,
                                                                          capsys) -> None:
    """Bad input, found with the tokenizer and the model's config.json (max_position_embeddings 512): each prompt
    too long is named at once, and nothing loads or answers (this exited 1, per prompt, after loading)."""
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Aries\n" + "word " * 700 + "\nLeo\n" + "word " * 255 + "\n", encoding="utf-8")
    code, out, err = cli(capsys, str(demo_dir), "--prompts", str(prompts), "--max-new-tokens", "3")
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"Loading the tokenizer of {demo_dir}…",
                                f'error: prompt 2 ("word word word word word word…") {TOO_LONG}',
                                f'error: prompt 4 ("word word word word word word…") {TOO_LONG.replace("1402", "512")}']


def test_one_prompt_too_long_says_so_in_one_line(demo_dir: Path, no_loading, capsys) -> None:
    code, out, err = cli(capsys, str(demo_dir), "--prompt", "word " * 700)
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == f"error: the prompt {TOO_LONG}"


def test_a_prompt_that_leaves_room_is_answered_in_the_room_left(demo_dir: Path, capsys) -> None:
    """510 of the 512 tokens: not refused; the answer gets the 2 tokens left (the Try tab's clamp, said)."""
    code, out, err = cli(capsys, str(demo_dir), "--prompt", "word " * 254, "--max-new-tokens", "100", "--greedy")
    assert code == 0, err
    assert ("note: Max new tokens clamped to 2: the model reads at most 512 tokens and the prompt takes 510."
            in err.splitlines())
    assert "[2 tokens" in err


def test_a_prompt_too_long_found_only_after_loading_is_reported_and_the_others_answered(
        demo_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """A model whose config.json cannot be read before loading (a Hub model not cached): stream_answer's own check
    still names the prompt, in this command's words, and the others are answered."""
    from finetune_studio.core import generate

    monkeypatch.setattr(generate, "side_context_length", lambda *_args: None)
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Aries\n" + "word " * 700 + "\nLeo\n", encoding="utf-8")
    code, out, err = cli(capsys, str(demo_dir), "--prompts", str(prompts), "--max-new-tokens", "3")
    assert code == 1
    headers = [line for line in out.splitlines() if line.startswith("> ")]
    assert [h[:12] for h in headers] == ["> Aries", "> word word ", "> Leo"]
    assert err.count("[3 tokens") == 2  # Aries and Leo were answered
    error = next(line for line in err.splitlines() if line.startswith("error: prompt 2 "))
    assert error == f'error: prompt 2 ("word word word word word word…") was not answered: it {TOO_LONG}'
    assert "conversation" not in err
    assert err.splitlines()[-1] == ("error: 1 of 3 prompts not answered (prompt 2). To fix: see each one's error "
                                    "above.")


def test_transformers_bar_and_warnings_stay_off_the_command_output(demo_dir: Path, tmp_path: Path, capsys) -> None:
    heard: list[str] = []

    class Listener(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            heard.append(record.getMessage())

    from transformers.utils import logging as hf_logging

    before = hf_logging.get_verbosity()
    listener = Listener()
    logging.getLogger("transformers").addHandler(listener)
    try:
        prompts = tmp_path / "prompts.txt"
        prompts.write_text("word " * 700 + "\nLeo\n", encoding="utf-8")
        refused = cli(capsys, str(demo_dir), "--prompts", str(prompts), "--max-new-tokens", "2")  # measured, refused
        code, _, err = cli(capsys, str(demo_dir), "--prompt", "Leo", "--max-new-tokens", "2")
    finally:
        logging.getLogger("transformers").removeHandler(listener)
    assert not [message for message in heard if "Token indices sequence length" in message]
    assert refused[0] == 2 and "Token indices" not in refused[2]
    assert "Loading weights" not in err
    assert code == 0 and "[2 tokens" in err
    assert hf_logging.get_verbosity() == before  # restored for the rest of the process


def test_system_on_a_text_run_is_noted(demo_dir: Path, capsys) -> None:
    code, out, err = cli(capsys, str(demo_dir), "--prompt", "Aries", "--system", "Be brief.", "--max-new-tokens", "2")
    assert code == 0 and out.strip()
    assert (f"note: --system is not used: {demo_dir} is a text run, which continues the prompt as written; a system "
            "prompt is for chat runs.") in err


@pytest.mark.parametrize(("content", "says"), [
    (5, "the file holds 5 (a number), not text."),
    ({"prompts": [{"text": "Aries"}]}, "prompt 1 is {text: Aries} (a mapping), not text."),
    ({"prompts": {"first": "Aries"}}, "prompts: holds {first: Aries} (a mapping), not text."),
])
def test_prompts_that_are_not_text_are_refused(tmp_path: Path, no_loading, capsys, content: object,
                                               says: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    code, _, err = cli(capsys, str(tmp_path), "--prompts", str(path))
    assert code == 2 and err == f"error: {path}: {says}" + err.split(says, 1)[1] and "To fix: " in err


@pytest.mark.parametrize(("name", "content", "prompts"), [
    ("p.json", '{"prompts": 5}', ["5"]),
    ("p.json", '["Aries", 5]', ["Aries", "5"]),
    ("p.json", '{"prompts": [true]}', ["true"]),
    ("p.yaml", "- 12:30\n- 1e2\n- 0x10\n", ["12:30", "1e2", "0x10"]),
    ("p.yaml", "prompts: [12:30, 1e2]\n", ["12:30", "1e2"]),
])
def test_prompts_are_the_text_as_written(tmp_path: Path, name: str, content: str, prompts: list[str]) -> None:
    """A prompt that looks like a number, a time or true is the text written (read as a config file is), not what
    YAML makes of it: `- 12:30` was the prompt "750", so it was refused as a number or changed."""
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert generate_cli.read_prompts_file(path) == prompts


def test_prompts_as_text_with_empty_entries_still_read(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text('prompts:\n- Aries\n-\n- "5"\n', encoding="utf-8")
    assert generate_cli.read_prompts_file(path) == ["Aries", "5"]
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(GenerationError, match="holds no prompts"):
        generate_cli.read_prompts_file(path)


# ---------------------------------------------------------------------------------------------- a byte order mark


@pytest.mark.parametrize(("name", "content"), [
    ("prompts.txt", "Aries:\r\nLeo\r\n"),
    ("prompts.yaml", 'prompts:\n- "Aries:"\n- Leo\n'),
    ("prompts.json", '["Aries:", "Leo"]'),
])
def test_a_byte_order_mark_is_not_part_of_the_first_prompt(tmp_path: Path, name: str, content: str) -> None:
    """Notepad saves "UTF-8 with BOM": the mark (U+FEFF) was read into a text file's first prompt, so the model was
    asked "\ufeffAries:". YAML and JSON files already dropped it (the YAML reader does); they stay so."""
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + content.encode("utf-8"))
    assert generate_cli.read_prompts_file(path) == ["Aries:", "Leo"]


def test_a_prompts_file_with_a_byte_order_mark_answers_its_first_prompt_as_typed(demo_dir: Path, tmp_path: Path,
                                                                                 capsys) -> None:
    """The tester's file: the same prompt twice, the first behind a BOM. Both now render as "Aries:" and get the
    same greedy answer (the first got another, the model having read the BOM)."""
    path = tmp_path / "prompts_bom.txt"
    path.write_bytes(b"\xef\xbb\xbfAries:\nAries:\n")
    code, out, err = cli(capsys, str(demo_dir), "--prompts", str(path), "--greedy", "--max-new-tokens", "6",
                         "--show-prompt")
    assert code == 0 and "\ufeff" not in out + err
    assert err.count("--- rendered prompt ---\nAries:\n---") == 2
    headers = out.split("> Aries:\n")
    assert headers[0] == "" and len(headers) == 3 and headers[1] == headers[2] and headers[1].strip()


# ---------------------------------------------------------------------------------------------- exit codes


def _run_with_checkpoint_2(root: Path) -> Path:
    """A run folder holding one complete checkpoint (checkpoint-2) and no final model; nothing in it loads."""
    from finetune_studio.core.config import save_config
    from tests.helpers import small_config

    run_dir = root / "run"
    (run_dir / "checkpoint-2").mkdir(parents=True)
    save_config(small_config(root / "d.jsonl", root), run_dir / "config.yaml")
    (run_dir / "checkpoint-2" / "config.json").write_text("{}", encoding="utf-8")
    (run_dir / "checkpoint-2" / "trainer_state.json").write_text('{"global_step": 2}', encoding="utf-8")
    return run_dir


@pytest.mark.parametrize(("argv", "says"), [
    (["{run}", "--prompt", ""], "error: The prompt is empty. To fix: give --prompt some text to answer or "
                                "continue."),
    (["{run}", "--prompts", "{root}/no-such-file.txt"],
     "error: Cannot read the prompts file {root}/no-such-file.txt: [Errno 2] No such file or directory: "
     "'{root}/no-such-file.txt'. To fix: give a UTF-8 text file, one prompt a line."),
    (["{run}", "--prompts", "{root}/empty.txt"], "error: {root}/empty.txt holds no prompts. To fix: write one prompt "
                                                 "a line."),
    (["{run}", "--checkpoint", "99", "--prompt", "hi"],
     "error: The run run has no complete checkpoint 99. To fix: give --checkpoint 2, its only complete checkpoint."),
    (["{run}/checkpoint-2", "--checkpoint", "2", "--prompt", "hi"],
     "error: --checkpoint 2 picks a checkpoint of a run folder, and {run}/checkpoint-2 is already one of run's "
     "models. To fix: give the run folder {run} with --checkpoint, or this folder alone."),
    (["{root}/no-such-run", "--prompt", "hi"],
     "error: {root}/no-such-run does not exist. To fix: give a run folder (it holds config.yaml) or a model folder "
     "(it holds config.json or adapter_config.json)."),
    (["{root}", "--prompt", "hi"],
     "error: {root} is not a run folder: it holds runs (1, e.g. run). To fix: give one run's folder, e.g. "
     "{root}/run; `finetune-studio runs --runs-dir {root}` lists them."),
    (["{root}", "--answers"], "error: {root} is not a run folder (no config.yaml), so it has no saved answers. To "
                              "fix: give the run folder Compare checkpoints answered in."),
])
def test_bad_input_exits_2_with_what_to_do_before_loading(tmp_path: Path, no_loading, capsys, argv: list[str],
                                                          says: str) -> None:
    """As a bad setting does (and a bad config for train): these exited 1, as a failed generation does."""
    run_dir = _run_with_checkpoint_2(tmp_path)
    (tmp_path / "empty.txt").write_text("\n  \n", encoding="utf-8")
    code, out, err = cli(capsys, *[arg.format(run=run_dir, root=tmp_path) for arg in argv])
    assert (code, out, err) == (2, "", says.format(run=run_dir, root=tmp_path) + "\n")


def test_base_of_a_model_folder_with_no_base_exits_2(demo_dir: Path, no_loading, capsys) -> None:
    code, _, err = cli(capsys, str(demo_dir), "--base", "--prompt", "hi")
    assert code == 2
    assert err == (f"error: {demo_dir} is a model folder with no base model recorded, so --base has nothing to load. "
                   "To fix: give the run folder, or drop --base.\n")


def test_a_model_that_cannot_load_still_exits_1(demo_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """Not bad input: a damaged model folder (found before loading) and a load that fails both exit 1."""
    from finetune_studio.core.errors import ModelError

    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "gpt2"}', encoding="utf-8")
    (folder / "model.safetensors").write_bytes(b"not safetensors")
    code, _, err = cli(capsys, str(folder), "--prompt", "hi")
    assert code == 1 and err == (f"error: The model folder {folder} cannot load: its model.safetensors is cut short "
                                 "or not a safetensors file. To fix: save the model there again, or pick another "
                                 "folder.\n")

    def fails(*_args: object, **_kwargs: object) -> None:
        raise ModelError("Could not load the model: out of disk. To fix: free some space.")

    monkeypatch.setattr(generate_cli, "load", fails)
    code, _, err = cli(capsys, str(demo_dir), "--prompt", "hi")
    assert code == 1 and err == (f"Loading the tokenizer of {demo_dir}…\n"
                                 "error: Could not load the model: out of disk. To fix: free some space.\n")


# ---------------------------------------------------------------------------------------------- --answers


def test_answers_of_a_run_with_none_saved_exits_2_saying_how_to_make_some(tmp_path: Path, no_loading,
                                                                          capsys) -> None:
    """Bad input, as a folder that is not a run is (this exited 1, as a failed generation does): the run has no
    answers.jsonl yet. The fix names Compare checkpoints, and how to answer without keeping the answers."""
    run_dir = _run_with_checkpoint_2(tmp_path)
    code, out, err = cli(capsys, str(run_dir), "--answers")
    assert (code, out) == (2, "")
    assert err == (f"error: run has no saved answers: Compare checkpoints keeps a run's answers in "
                   f"{run_dir}/answers.jsonl, and there are none yet. To fix: open the run in the app's Try tab, save "
                   "prompts on its Chat page (Save prompt: they are kept with the config open in the app), then press "
                   "Compare checkpoints: it answers them with each checkpoint and keeps the answers. To answer a "
                   f"prompt now without keeping the answer: finetune-studio generate {run_dir} --prompt TEXT.\n")


def test_answers_of_a_run_with_saved_prompts_but_no_answers_names_them(tmp_path: Path, no_loading, capsys) -> None:
    from finetune_studio.core.config import load_config, save_config

    run_dir = _run_with_checkpoint_2(tmp_path)
    config = load_config(run_dir / "config.yaml")[0]
    config.prompts = ["Aries", "Leo"]
    save_config(config, run_dir / "config.yaml")
    (run_dir / "answers.jsonl").write_text('{"prompt": "Aries", "mod', encoding="utf-8")  # a line cut off
    code, out, err = cli(capsys, str(run_dir), "--answers")
    assert (code, out) == (2, "")
    assert err == (f"error: run has no saved answers: {run_dir}/answers.jsonl holds no readable answer (1 line cut "
                   "off or damaged, skipped). To fix: in the app, load the run's 2 saved prompts (Runs tab: select "
                   "run, Use its settings), then pick the run in the Try tab and press Compare checkpoints: it "
                   "answers the prompts of the config open in the app with each checkpoint and keeps the answers. To "
                   "answer the run's prompts now without keeping the answers: "
                   f"finetune-studio generate {run_dir} --prompts {run_dir}/config.yaml.\n")
    # the command it suggests reads those prompts
    assert generate_cli.read_prompts_file(run_dir / "config.yaml") == ["Aries", "Leo"]


def test_answers_file_that_cannot_be_read_exits_2_saying_why(tmp_path: Path, no_loading, capsys) -> None:
    """Before: a folder in the answers file's place read as no answers ("holds no readable answer": it has a size)."""
    run_dir = _run_with_checkpoint_2(tmp_path)
    (run_dir / "answers.jsonl").mkdir()
    code, out, err = cli(capsys, str(run_dir), "--answers")
    assert (code, out) == (2, "")
    assert err == (f"error: Cannot read the saved answers: {run_dir}/answers.jsonl is a folder, not a file. To fix: "
                   "move that folder out of the run folder (or delete it); Compare checkpoints then writes the answers "
                   "file anew.\n")


def test_answers_with_a_damaged_line_print_the_rest_and_say_one_was_skipped(tmp_path: Path, no_loading,
                                                                           capsys) -> None:
    run_dir = _run_with_checkpoint_2(tmp_path)
    (run_dir / "answers.jsonl").write_text('{"prompt": "Leo", "model": "base", "answer": "a week"}\n'
                                           '{"prompt": "Leo", "mod\n'
                                           '{"prompt": "Leo", "model": "final", "answer": "a month"}\n',
                                           encoding="utf-8")
    code, out, err = cli(capsys, str(run_dir), "--answers")
    assert (code, out) == (0, "> Leo\n  [base] a week\n  [final] a month\n\n")
    assert err == (f"note: 1 line of {run_dir}/answers.jsonl could not be read (cut off or damaged) and was skipped; "
                   "2 answers are shown. To fix: run Compare checkpoints again (the Try tab) to answer the "
                   "saved prompts anew, or remove the damaged line from the file.\n")
