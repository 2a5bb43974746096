"""`python -m hri_emo.cli ...` (and `torchrun ... -m hri_emo.cli ...`): the `hri-emo` command."""

import sys

from hri_emo.cli.main import main

sys.exit(main())
