"""A pytest plugin for nbval runs: write each notebook as it was executed, outputs included.

nbval compares a cell's outputs with the stored ones and then forgets them. With this plugin
(`pytest -p nbval_keep_outputs`, tests/ on the path) and MBRL_KEEP_OUTPUTS_IN set to a folder,
every notebook of the session is written there at its end: each cell that ran holds the
outputs of this run (execution_count 1), every other code cell holds none (execution_count
None). tests/background_run.py uses it so that one execution of a student edition serves both
nbval's comparison and tests/test_student_edition.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

FOLDER = "MBRL_KEEP_OUTPUTS_IN"
RAN: set[int] = set()  # id() of the cells that ran


def _is_nbval_cell(item: pytest.Item) -> bool:
    return hasattr(item, "cell") and hasattr(item.parent, "nb")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    yield  # nbval runs the cell and compares its outputs with the stored ones
    # nbval keeps what the kernel sent as `test_outputs`; a cell that never reached the kernel has none.
    outputs = getattr(item, "test_outputs", None) if _is_nbval_cell(item) else None
    if outputs is not None:
        item.cell.outputs, item.cell.execution_count = list(outputs), 1
        RAN.add(id(item.cell))


def pytest_sessionfinish(session: pytest.Session) -> None:
    folder = os.environ.get(FOLDER)
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    notebooks = {id(item.parent): item.parent for item in session.items if _is_nbval_cell(item)}
    for notebook in notebooks.values():
        for cell in notebook.nb.cells:
            if cell.cell_type == "code" and id(cell) not in RAN:
                cell.outputs, cell.execution_count = [], None  # the stored outputs are not this run's
        (Path(folder) / Path(str(notebook.fspath)).name).write_text(json.dumps(notebook.nb, indent=1))
