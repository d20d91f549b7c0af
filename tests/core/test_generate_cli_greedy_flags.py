"""`finetune-studio generate` on a model that decodes greedily: a sampling-only flag (--temperature, --top-p,
--top-k, --seed) changes nothing then, and a note says so and how to sample; a bad value of one is refused the same
whether the command would sample or not (it was refused on a greedy model, but let through with --greedy); --sample
and --greedy together are refused by argparse instead of the last one winning."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.test_generate_cli_model_defaults_note import generate, notes
from tests.helpers import demo_model_copy

TEMPERATURE_REFUSED = ("error: --temperature must be a finite number above 0 (got -1.0). To fix: give a positive "
                       "--temperature (1 samples as the model learned, lower is safer), or leave it out.")


@pytest.fixture(scope="module")
def greedy_model(demo_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo model whose generation_config.json decodes greedily (do_sample false)."""
    return demo_model_copy(tmp_path_factory.mktemp("greedy") / "model", do_sample=False)


def test_a_sampling_flag_on_a_greedy_model_is_noted_as_unused(greedy_model: Path, capsys,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: --temperature 0.7 answered greedily without a word."""
    code, err, settings = generate(capsys, monkeypatch, str(greedy_model), "--temperature", "0.7")
    assert code == 0, err
    assert notes(err) == ["note: --temperature has no effect: this model decodes greedily (its generation_config "
                          "does not sample), always taking the likeliest token. To sample with it: add --sample."]
    assert not settings.do_sample


def test_sampling_flags_with_greedy_are_noted_as_unused(greedy_model: Path, capsys,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    code, err, settings = generate(capsys, monkeypatch, str(greedy_model), "--greedy", "--temperature", "0.7",
                                   "--top-k", "5", "--repetition-penalty", "1.1")
    assert code == 0, err
    assert notes(err) == ["note: --temperature, --top-k have no effect with --greedy: greedy decoding always takes "
                          "the likeliest token. To sample with them: give --sample instead of --greedy."]
    assert (settings.do_sample, settings.repetition_penalty) == (False, 1.1)


def test_no_note_when_sampling_or_without_sampling_flags(greedy_model: Path, capsys,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    code, err, settings = generate(capsys, monkeypatch, str(greedy_model), "--sample", "--temperature", "0.7")
    assert code == 0, err
    assert notes(err) == [] and (settings.do_sample, settings.temperature) == (True, 0.7)
    code, err, settings = generate(capsys, monkeypatch, str(greedy_model), "--repetition-penalty", "1.1")
    assert code == 0, err
    assert notes(err) == [] and not settings.do_sample


@pytest.mark.parametrize("flags", [[], ["--greedy"], ["--sample"]])
def test_a_bad_temperature_is_refused_alike_whether_sampling_or_not(greedy_model: Path, capsys,
                                                                    flags: list[str]) -> None:
    """Before: refused on the greedy model (which samples nothing) 'when sampling', but let through with --greedy."""
    from finetune_studio.core.cli import main

    code = main(["generate", str(greedy_model), "--prompt", "Hi", "--max-new-tokens", "5", "--temperature", "-1",
                 *flags])
    out, err = capsys.readouterr()
    assert (code, out, err.splitlines()) == (2, "", [TEMPERATURE_REFUSED])


def test_sample_and_greedy_together_are_refused(capsys) -> None:
    """Before: the last of the two won silently."""
    from finetune_studio.core.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["generate", "x", "--prompt", "Hi", "--sample", "--greedy"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == ("finetune-studio generate: error: argument --greedy: not "
                                                        "allowed with argument --sample")
