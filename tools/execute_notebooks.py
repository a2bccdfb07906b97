"""Execute notebooks top to bottom, in place, so their stored outputs are fresh.

    python3 course.py run tools/execute_notebooks.py                      # every notebook
    python3 course.py run tools/execute_notebooks.py notebooks/01_dyna_q.ipynb

Runs with the same environment variables as the test command (one thread,
no progress bars, Agg backend), so nbval compares against what it will see.
Run it inside the course environment (after `python3 course.py test` or `lab`).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from course import TEST_ENV  # noqa: E402


def execute(path: Path) -> float:
    """Execute one notebook in place; returns the wall time in seconds."""
    os.environ.update(TEST_ENV)
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    # Unix-socket transport: two kernels started at once cannot race for a TCP port (that race
    # left the client waiting forever on a kernel that never answered).
    # The socket path must be absolute: the kernel runs in the notebook's folder, the client here.
    sockets = Path(tempfile.mkdtemp(prefix="mbrl-kernel-")) / "kernel-ipc"
    kernel = KernelManager(kernel_name="python3", transport="ipc", ip=str(sockets))
    client = NotebookClient(
        nb, km=kernel, timeout=1200, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    elapsed = time.perf_counter() - start
    # Widget state would bloat the file and is meaningless without a kernel.
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    return elapsed


def main(argv: list[str]) -> int:
    paths = [Path(p) for p in argv] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        print(f"{path.name}: executing ...", flush=True)
        print(f"{path.name}: {execute(path):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
