"""The student edition: the generator, every notebook's student edition run, and the checks' strength.

Every notebook in notebooks/ is covered automatically:
- its exercises use balanced solution markers and are followed by a check_* call;
- its student edition runs top to bottom in a kernel, where exactly the exercise
  checks report "not implemented" and no cell fails (the rest of the notebook
  falls back to the package's implementation); the run is the session's background
  one (tests/background_run.py), which nbval also compares with the stored outputs;
- every check_* in mbrl_helpers.course.checks is tested against a reference solution
  and at least two typical wrong answers.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

import background_run
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import make_student_edition as mse  # noqa: E402

from mbrl_helpers.course import checks  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NOT_IMPLEMENTED_MESSAGE = "NotImplementedError"  # what every check prints for a stub
CHECK_CALL = re.compile(r"\bchecks\.(check_\w+)\(")


def _code(source: str, outputs: list | None = None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = outputs or []
    cell.execution_count = 1
    return cell


# -- the generator, on a small notebook ----------------------------------------

def small_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A small lesson"),
        _code("x = 2", [nbformat.v4.new_output("stream", text="kept\n")]),
        nbformat.v4.new_markdown_cell("## Exercise 1: doubling\n\nWrite `double`."),
        _code(
            "def double(v):\n"
            "    ### BEGIN SOLUTION\n"
            "    ### HINT: multiply v by 2.\n"
            "    return 2 * v\n"
            "    ### END SOLUTION\n"
            "\n\nexercise_1_passed = check(double)",
            [nbformat.v4.new_output("stream", text="Correct: double\n")],
        ),
        nbformat.v4.new_markdown_cell("## Exercise 2: a constant"),
        _code("### BEGIN SOLUTION\ny = 3\n### END SOLUTION\nprint('after')"),
        _code("checks.check_y(y)", [nbformat.v4.new_output("stream", text="Correct: y\n")]),
        _code("print(x + 1)", [nbformat.v4.new_output("stream", text="3\n")]),
    ]
    return nb


def test_generator_replaces_solutions_by_stubs_and_keeps_the_rest():
    nb = small_notebook()
    before = nbformat.writes(nb)
    student, exercises = mse.make_student_edition(nb, "small.ipynb")
    assert nbformat.writes(nb) == before, "the instructor notebook must not change"
    nbformat.validate(student)
    assert [e.number for e in exercises] == [1, 2]
    assert [e.section for e in exercises] == ["Exercise 1: doubling", "Exercise 2: a constant"]
    assert exercises[0].hint == "multiply v by 2."
    assert student.metadata["mbrl_edition"] == "student"
    # title first, then the note about the student edition
    assert student.cells[0].source == "# A small lesson"
    assert "Student edition" in student.cells[1].source
    cells = student.cells[2:]
    assert cells[0].outputs[0].text == "kept\n"  # outputs of other cells are kept
    doubled = cells[2]
    assert "2 * v" not in doubled.source and "BEGIN SOLUTION" not in doubled.source
    assert '    raise NotImplementedError("multiply v by 2.")' in doubled.source  # same indentation
    assert doubled.source.endswith("exercise_1_passed = check(double)")
    assert doubled.outputs == [] and doubled.execution_count is None
    top_level = cells[4]
    assert top_level.source.startswith("# YOUR CODE HERE")
    assert top_level.metadata["tags"] == ["raises-exception"], "Run All must go on past a top-level stub"
    assert "tags" not in doubled.metadata, "a stub inside a function raises only when called"
    assert "Exercise 2:" in top_level.source and top_level.source.endswith("print('after')")
    assert cells[5].outputs == []  # a check in the next cell: its "Correct" is cleared too
    assert cells[6].outputs[0].text == "3\n"
    # the stubs are valid Python that raises NotImplementedError when run
    namespace: dict = {"check": lambda fn: None}
    exec(compile(doubled.source, "doubled", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="multiply v by 2"):
        namespace["double"](1)
    with pytest.raises(NotImplementedError, match="Exercise 2"):
        exec(compile(top_level.source, "top", "exec"), {})


def test_generator_writes_both_folders(tmp_path):
    path = tmp_path / "07_small.ipynb"
    nbformat.write(small_notebook(), path)
    made = mse.build([path], tmp_path / "student", tmp_path / "solutions")
    assert len(made[path]) == 2
    assert (tmp_path / "student" / "07_small.ipynb").exists()
    reference = (tmp_path / "solutions" / "07_small.md").read_text()
    assert reference.startswith("# Solutions: A small lesson")
    assert "## Exercise 1: doubling" in reference and "return 2 * v" in reference
    assert "y = 3" in reference and "HINT" not in reference and "BEGIN SOLUTION" not in reference


@pytest.mark.parametrize("source", [
    "### BEGIN SOLUTION\nx = 1",
    "x = 1\n### END SOLUTION",
    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",
])
def test_generator_rejects_unbalanced_markers(source):
    nb = nbformat.v4.new_notebook()
    nb.cells = [_code(source)]
    with pytest.raises(ValueError, match="cell 0"):
        mse.make_student_edition(nb, "bad.ipynb")


# -- every notebook's exercises ------------------------------------------------

def exercise_cells(nb: nbformat.NotebookNode) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and mse.BEGIN in c.source]


def check_called_after(nb: nbformat.NotebookNode, index: int) -> str | None:
    """Name of the check_* called in the exercise cell, or else in the next code cell."""
    for cell in nb.cells[index:]:
        if cell.cell_type != "code":
            continue
        found = CHECK_CALL.search(cell.source.split(mse.END)[-1])
        if found or cell is not nb.cells[index]:
            return found.group(1) if found else None
    return None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_has_markers_and_a_check(path):
    nb = nbformat.read(path, as_version=4)
    _, exercises = mse.make_student_edition(nb, path.name)  # raises on unbalanced markers
    for index in exercise_cells(nb):
        name = check_called_after(nb, index)
        assert name, f"{path.name}, cell {index}: an exercise must be followed by a checks.check_* call"
        assert callable(getattr(checks, name, None)), f"{path.name}: mbrl_helpers.course.checks has no {name}"


def _outputs_text(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


@pytest.mark.background_notebooks("student")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_student_edition_runs_with_only_the_exercises_not_implemented(path):
    """Reads the student edition as the session's background run executed it (tests/background_run.py)."""
    _, exercises = mse.make_student_edition(nbformat.read(path, as_version=4), path.name)
    if not exercises:
        pytest.skip(f"{path.name} has no exercises")  # nothing to stub: nbval runs it already
    student = background_run.start("student").executed_student_edition(path.name)
    stubbed = {
        i for i, c in enumerate(student.cells) if c.cell_type == "code" and "YOUR CODE HERE" in c.source
    }
    unrun = [i for i, c in enumerate(student.cells) if c.cell_type == "code" and c.execution_count is None]
    assert not unrun, f"{path.name}: cells {unrun} of the student edition did not run"
    reported = set()
    for index, cell in enumerate(student.cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        for error in errors:  # only a stub run at top level may raise, and only NotImplementedError
            assert index in stubbed and error.ename == "NotImplementedError", (
                f"{path.name}, cell {index} failed in the student edition with {error.ename}: "
                f"{error.evalue}\n{cell.source[:300]}\nCells after an exercise must not use the "
                "student's code; use the package's implementation instead."
            )
        checked_here = CHECK_CALL.search(cell.source) and NOT_IMPLEMENTED_MESSAGE in _outputs_text(cell)
        if index in stubbed and (errors or checked_here):
            reported.add(index)
        elif (index - 1) in stubbed and checked_here:  # the check in the cell after the exercise
            reported.add(index - 1)
        if checked_here:
            assert "Not yet" in _outputs_text(cell), f"{path.name}, cell {index}: the check must say so"
    assert reported == stubbed, (
        f"{path.name}: exercises in cells {sorted(stubbed - reported)} did not report NotImplementedError"
    )


# -- every check accepts the reference and rejects typical wrong answers ------------

CHECK_FUNCTIONS = sorted(
    name for name, fn in inspect.getmembers(checks, inspect.isfunction)
    if name.startswith("check_") and fn.__module__.startswith(checks.__name__ + ".")
)


def count_check_tests(name: str, text: str) -> tuple[int, int]:
    """(accepting asserts, rejecting asserts) of checks.<name> in test code.

    A rejecting assert inside a for loop (over a list of wrong answers) counts as two.
    """
    accepts = rejects = 0
    for chunk in re.split(r"\n(?=def )", text):
        looped = re.search(r"^\s+for \w", chunk, re.MULTILINE) is not None
        for line in chunk.splitlines():
            if f"checks.{name}(" not in line or "assert" not in line:
                continue
            if re.search(rf"assert not checks\.{name}\(", line) or re.search(r"is False|== False", line):
                rejects += 2 if looped and line.startswith(" " * 8) else 1
            else:
                accepts += 1
    return accepts, rejects


@pytest.mark.parametrize("name", CHECK_FUNCTIONS)
def test_every_check_is_tested_on_a_reference_and_two_wrong_answers(name):
    files = [p for p in (ROOT / "tests").glob("test_*.py") if p.name != Path(__file__).name]
    text = "\n".join(p.read_text() for p in files)
    accepts, rejects = count_check_tests(name, text)
    assert accepts >= 1 and rejects >= 2, (
        f"checks.{name} needs a test that it accepts a reference solution (found {accepts}) and "
        f"rejects at least two typical wrong answers (found {rejects}): `assert checks.{name}(reference)` "
        f"and `assert not checks.{name}(wrong)` for each, e.g. in tests/test_checks.py"
    )


def test_every_check_used_in_a_notebook_exists():
    for path in NOTEBOOKS:
        for name in CHECK_CALL.findall(path.read_text()):
            assert name in CHECK_FUNCTIONS, f"{path.name} calls checks.{name}, which does not exist"
