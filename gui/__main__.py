"""`python -m finetune_studio.gui [command …]`: the same as the `finetune-studio` command (gui.launcher)."""

import sys

from finetune_studio.gui.launcher import main

sys.exit(main())
