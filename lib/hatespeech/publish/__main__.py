"""``python -m hatespeech.publish [...]`` (what ./run_all.sh execs); see :mod:`hatespeech.publish.cli`."""

import sys

from .cli import main

sys.exit(main())
