"""Every notebook, as committed, reproduces its stored outputs: nbval, cell by cell.

nbval runs each notebook top to bottom in a kernel of the course environment and compares every
cell's outputs with the stored ones (strict mode, the sanitizers in notebooks/nbval_sanitize.cfg;
see pyproject.toml), so every `assert` of the lessons is checked again. The run is one of the
session's background runs (tests/background_run.py); this test reads its verdict. One notebook by
itself: `python3 course.py run -m pytest notebooks/NN_name.ipynb`.
"""

from __future__ import annotations

import re

import background_run
import nbformat
import pytest


@pytest.mark.background_notebooks("instructor")
def test_every_notebook_reproduces_its_stored_outputs():
    run = background_run.start("instructor")
    code, output = run.result()
    assert code == 0, run.failure_report("nbval over notebooks/")
    code_cells = sum(cell.cell_type == "code"
                     for path in background_run.NOTEBOOKS for cell in nbformat.read(path, 4).cells)
    passed = re.search(r"(\d+) passed", output)
    assert passed and int(passed.group(1)) == code_cells, (
        f"nbval should have run all {code_cells} code cells of notebooks/:\n" + output[-2000:])
