"""core.hub.size_text, the sizes of a push and of an export (files, free disk space): a huge size read
"1152921504.6 GB". It now goes on to TB, and from 1,000 TB on says whole TB with separators, as the estimate's gib()
does for GiB; a figure that rounds to 1000.0 of a unit is said in the next unit."""

from __future__ import annotations

import pytest

from finetune_studio.core.hub import size_text


@pytest.mark.parametrize(("size", "said"), [
    (0, "0 bytes"), (1, "1 byte"), (398, "398 bytes"), (999, "999 bytes"), (1000, "1.0 kB"), (270_700, "270.7 kB"),
    (999_949, "999.9 kB"), (999_950, "1.0 MB"), (1_500_000_000, "1.5 GB"), (999_400_000_000, "999.4 GB"),
    (999_960_000_000, "1.0 TB"), (2_500_000_000_000, "2.5 TB"), (999_900_000_000_000, "999.9 TB"),
    (10**15, "1,000 TB"), (2**60, "1,152,922 TB"),
])
def test_size_text(size: int, said: str) -> None:
    assert size_text(size) == said
