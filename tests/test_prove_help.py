"""``prove --only`` lists in its help exactly the theorem ids the registry builds."""

from __future__ import annotations

import os
import subprocess
import sys

from gemsym.cli.prove import ONLY_IDS
from gemsym.proofs import THEOREMS


def test_only_ids_are_the_registry():
    assert ONLY_IDS == tuple(THEOREMS)


def test_help_lists_every_id():
    wide = {**os.environ, "COLUMNS": "10000"}  # argparse wraps at hyphens otherwise
    out = subprocess.run([sys.executable, "-m", "gemsym", "prove", "--help"],
                         capture_output=True, text=True, check=True, env=wide).stdout
    flat = " ".join(out.split())
    for tid in THEOREMS:
        assert tid in flat
    listed = subprocess.run([sys.executable, "-m", "gemsym", "prove", "--list"],
                            capture_output=True, text=True, check=True).stdout.split()
    assert tuple(listed) == ONLY_IDS
