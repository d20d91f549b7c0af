"""One rule for sizes: `finetune-studio estimate` (core.estimate.gib) says a size as the window's estimate bar does
(gui.estimate_bar.size_text is core's function); the CLI said '3.97 GiB' where the window said '4.0 GiB'."""

from __future__ import annotations

from finetune_studio.core.estimate import GIB, MIB, Budget, Estimate, describe, gib


def test_gib_rounds_as_the_window_does() -> None:
    assert [gib(v) for v in (0, 0.5 * MIB, 0.7 * MIB, MIB, 9.96 * MIB, 68.3 * MIB, 300 * MIB, 1023.7 * MIB,
                             1.5 * GIB, 3.97 * GIB, 22.48 * GIB, 182.75 * GIB, 999.994 * GIB, 2855062.63 * GIB)] == [
        "0 MiB", "0.5 MiB", "0.7 MiB", "1.0 MiB", "10 MiB", "68 MiB", "300 MiB", "1.0 GiB", "1.5 GiB", "4.0 GiB",
        "22 GiB", "183 GiB", "1,000 GiB", "2,855,063 GiB"]


def test_the_cli_verdict_says_the_window_sizes() -> None:
    parts = dict(weights=int(1.2 * GIB), gradients=int(1.2 * GIB), optimizer=int(1.5 * GIB), activations=0,
                 runtime=int(0.07 * GIB))
    result = Estimate(**parts)
    text = describe(result, Budget(int(8 * GIB), "RAM"))
    assert f"({gib(result.total)} of 8.0 GiB free RAM)." in text and "4.0 GiB of 8.0 GiB" in text
    assert "  total                  4.0 GiB" in text.splitlines()
