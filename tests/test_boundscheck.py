"""The compiled code, run again with numba's bounds checking on.

Compiled code does not check indices: an index out of range reads or writes
memory it does not own (a crash, or silent garbage). Under NUMBA_BOUNDSCHECK=1
such an access raises IndexError instead, so running the compiled pieces' own
tests this way proves no index they use goes out of range. The checked build
gets its own numba cache (the flag is not part of the cache key).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The compiled pieces' draw-for-draw and by-hand tests (fast).
TESTS = [
    "tests/test_tabular.py",
    "tests/test_mcts.py",
]


def test_compiled_code_stays_in_bounds():
    cache = ROOT / ".pytest_cache" / "numba_boundscheck"
    env = {**os.environ, "NUMBA_BOUNDSCHECK": "1", "NUMBA_CACHE_DIR": str(cache),
           "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    tests = [t for t in TESTS if (ROOT / t.split("::")[0]).exists()]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                           "-p", "no:randomly", *tests], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
