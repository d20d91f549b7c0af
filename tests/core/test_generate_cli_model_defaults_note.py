"""`finetune-studio generate` on a real model whose generation_config.json sets values outside core.generate.LIMITS
(temperature -1, top_p 5): a note on stderr names each one the command line left to the model, and none for a
setting a flag gives (the flag's value is used then, not the app's default the note would name)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import generate_cli
from tests.helpers import demo_model_copy

TEMPERATURE_NOTE = ("note: The model's generation_config.json sets temperature -1.0, but it must be a finite number "
                    "above 0: using 1.0 instead. To fix: correct it in that file.")
TOP_P_NOTE = ("note: The model's generation_config.json sets top_p 5.0, but it must be above 0 and at most 1: using "
              "1.0 instead. To fix: correct it in that file.")


@pytest.fixture(scope="module")
def bad_defaults_model(demo_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo model's real files whose generation_config.json samples with temperature -1 and top_p 5."""
    return demo_model_copy(tmp_path_factory.mktemp("bad-defaults") / "model", do_sample=True, temperature=-1.0,
                           top_p=5.0)


def generate(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, str, Any]:
    """The real CLI entry; returns its exit code, its stderr and the settings it answered with (stream_answer is
    the real one, watched)."""
    from finetune_studio.core.cli import main

    used: list[Any] = []
    real = generate_cli.stream_answer

    def watched(model: Any, tokenizer: Any, rendered: Any, settings: Any, *args: Any) -> Any:
        used.append(settings)
        return real(model, tokenizer, rendered, settings, *args)

    monkeypatch.setattr(generate_cli, "stream_answer", watched)
    code = main(["generate", *argv, "--prompt", "Aries", "--max-new-tokens", "3"])
    assert len(used) == 1
    return code, capsys.readouterr().err, used[0]


def notes(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("note:")]


def test_a_model_default_out_of_range_is_noted_when_no_flag_sets_it(bad_defaults_model: Path, capsys,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    code, err, settings = generate(capsys, monkeypatch, str(bad_defaults_model))
    assert code == 0, err
    assert notes(err) == [TEMPERATURE_NOTE, TOP_P_NOTE]
    assert (settings.do_sample, settings.temperature, settings.top_p) == (True, 1.0, 1.0)


def test_no_note_for_a_setting_the_command_line_gives(bad_defaults_model: Path, capsys,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: `--temperature 0.7` still printed "sets temperature -1.0 … using 1.0 instead", and 0.7 was used."""
    code, err, settings = generate(capsys, monkeypatch, str(bad_defaults_model), "--temperature", "0.7")
    assert code == 0, err
    assert notes(err) == [TOP_P_NOTE], "top_p is still the model's to set: its note stays"
    assert (settings.do_sample, settings.temperature, settings.top_p) == (True, 0.7, 1.0)
    code, err, settings = generate(capsys, monkeypatch, str(bad_defaults_model), "--temperature", "0.7",
                                   "--top-p", "0.9")
    assert code == 0, err
    assert notes(err) == []
    assert (settings.temperature, settings.top_p) == (0.7, 0.9)


REPETITION_NOTE = ("note: The model's generation_config.json sets repetition_penalty 0.0, but it must be a finite "
                   "number above 0: using 1.0 instead. To fix: correct it in that file.")


def damaged_copy(root: Path, **values: Any) -> Path:
    """A copy of the demo model's real files whose generation_config.json holds `values` on top of its own."""
    return demo_model_copy(root / "model", **values)


@pytest.fixture(scope="module")
def bad_everything_model(demo_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sampling by default with every sampling setting out of range, and a repetition_penalty greedy uses, too."""
    return damaged_copy(tmp_path_factory.mktemp("bad-everything"), do_sample=True, temperature=-1.0, top_p=5.0,
                        top_k=-3, repetition_penalty=0.0)


def test_greedy_notes_no_setting_only_sampling_uses(bad_everything_model: Path, capsys,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: `--greedy` still printed notes for the model's temperature, top_p and top_k, which no token used."""
    code, err, settings = generate(capsys, monkeypatch, str(bad_everything_model), "--greedy")
    assert code == 0, err
    assert notes(err) == [REPETITION_NOTE], "repetition_penalty applies to greedy decoding too: its note stays"
    assert (settings.do_sample, settings.repetition_penalty) == (False, 1.0)
    code, err, settings = generate(capsys, monkeypatch, str(bad_everything_model))  # sampling, as the model says
    assert code == 0, err
    assert [note.split(" sets ")[1].split(",")[0] for note in notes(err)] == [
        "temperature -1.0", "top_p 5.0", "top_k -3", "repetition_penalty 0.0"]
    assert settings.do_sample and (settings.temperature, settings.top_p, settings.top_k) == (1.0, 1.0, 50)


def test_a_model_that_decodes_greedily_itself_gets_no_sampling_notes(demo_cache: Path, tmp_path: Path, capsys,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    model = damaged_copy(tmp_path, do_sample=False, temperature=-1.0, repetition_penalty=0.0)
    code, err, settings = generate(capsys, monkeypatch, str(model))
    assert code == 0, err
    assert notes(err) == [REPETITION_NOTE] and not settings.do_sample
    code, err, settings = generate(capsys, monkeypatch, str(model), "--sample")  # now the temperature is used
    assert code == 0, err
    assert notes(err) == [TEMPERATURE_NOTE, REPETITION_NOTE] and settings.do_sample
