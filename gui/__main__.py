"""`python -m gui [command …]`: the same as the `finetune-studio` command (gui.launcher)."""

import sys

from gui.launcher import main

sys.exit(main())
