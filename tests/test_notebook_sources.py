"""Every lesson has a text source (notebooks/source/NN_name.py, jupytext's percent format) that
holds exactly its cells: the .ipynb is the executed copy students read, the .py is what a
reviewer diffs. See CONTRIBUTING.md for editing one and re-executing the other."""

from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SOURCES = ROOT / "notebooks" / "source"
SYNC = "python3 course.py run -m jupytext --sync notebooks/{name}"


def cells(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source.strip("\n")) for cell in notebook.cells]


def first_difference(a: list[tuple[str, str]], b: list[tuple[str, str]]) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"cell {i}: notebook has {x[0]} {x[1][:120]!r}, source has {y[0]} {y[1][:120]!r}"
    return f"the notebook has {len(a)} cells, the source {len(b)}"


def test_every_lesson_has_a_source_and_every_source_a_lesson():
    lessons = {p.stem for p in NOTEBOOKS}
    sources = {p.stem for p in SOURCES.glob("*.py")}
    assert lessons, "no notebooks found"
    assert lessons == sources, (f"notebooks without a source: {sorted(lessons - sources)}; sources without "
                                f"a notebook: {sorted(sources - lessons)}; pair them with "
                                f"`{SYNC.format(name='NN_name.ipynb')}`")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_the_source_holds_the_notebooks_cells(notebook):
    source = SOURCES / f"{notebook.stem}.py"
    if not source.exists():
        pytest.fail(f"no source for {notebook.name}: `{SYNC.format(name=notebook.name)}`")
    executed = cells(nbformat.read(notebook, as_version=4))
    text = cells(jupytext.read(source))
    assert executed == text, (f"{notebook.name} and {source.relative_to(ROOT)} disagree ("
                              f"{first_difference(executed, text)}); bring the older one up to date with "
                              f"`{SYNC.format(name=notebook.name)}` and re-execute the notebook")


def test_a_changed_cell_is_caught():
    """The comparison sees one changed character."""
    notebook = nbformat.read(NOTEBOOKS[0], as_version=4)
    text = jupytext.read(SOURCES / f"{NOTEBOOKS[0].stem}.py")
    assert cells(notebook) == cells(text)
    text.cells[-1].source += "x"
    assert cells(notebook) != cells(text)
