"""A model's generation_config values outside core.generate.LIMITS are not taken as defaults (CLI and Try tab)."""

from types import SimpleNamespace

from finetune_studio.core.generate import GenerationSettings


def test_out_of_range_model_defaults_fall_back_to_app_defaults() -> None:
    config = SimpleNamespace(temperature=0.0, top_p=0.0, top_k=40, do_sample=True, max_new_tokens=64)
    settings = GenerationSettings.from_generation_config(config)
    assert settings.temperature == 1.0
    assert settings.top_p == 1.0
    assert settings.top_k == 40
    assert settings.max_new_tokens == 64


def test_out_of_range_model_default_is_named_in_a_note() -> None:
    config = SimpleNamespace(top_p=0.0)
    assert GenerationSettings.ignored_defaults(config) == [
        "The model's generation_config.json sets top_p 0.0, but it must be above 0 and at most 1: using 1.0 "
        "instead. To fix: correct it in that file."]


def test_cli_uses_the_app_default_and_says_so(capsys) -> None:  # type: ignore[no-untyped-def]
    from finetune_studio.core import generate_cli
    from finetune_studio.core.cli import parse_args

    model = SimpleNamespace(generation_config=SimpleNamespace(temperature=0.0, top_p=0.9))
    settings = generate_cli._settings_from_args(parse_args(["generate", "x", "--prompt", "hi", "--sample"]), model)
    assert (settings.temperature, settings.top_p) == (1.0, 0.9)
    assert capsys.readouterr().err == ("note: The model's generation_config.json sets temperature 0.0, but it must be "
                                       "a finite number above 0: using 1.0 instead. To fix: correct it in that file.\n")
