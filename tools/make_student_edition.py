"""Make the student edition of the course, and a solutions reference, from the instructor notebooks.

    python3 course.py run tools/make_student_edition.py        # every notebook -> student/ and solutions/
    python3 course.py run tools/make_student_edition.py notebooks/01_dyna_q.ipynb --out /tmp/student

The instructor notebooks in notebooks/ stay the single source. In them, each
exercise's solution sits between two marker lines in a code cell:

    def q_learning_update(q, s, a, r, s_next, terminated, alpha, gamma):
        ### BEGIN SOLUTION
        ### HINT: the target is r alone when terminated is True.
        target = ...
        ### END SOLUTION

    exercise_1_passed = checks.check_q_learning_update(q_learning_update)

In the student edition the lines from BEGIN to END (inclusive) become a stub
at the same indentation that raises NotImplementedError with the hint (the
optional `### HINT:` lines, or a general one), and that cell's outputs are
cleared (a stub at top level is tagged `raises-exception`, so that Run All goes on past
it). The check after it then says "not yet: ... NotImplementedError", and
the rest of the notebook runs on the package's own implementation
(tests/test_student_edition.py holds every notebook to that).

The solutions reference (solutions/NN_name.md) lists every exercise's solution
under the heading of the section it belongs to. Both folders are generated,
git-ignored, and never edited by hand.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
HINT = "### HINT:"
EDITION_NOTE = (
    "**Student edition.** Each exercise below is a stub that raises `NotImplementedError`:\n"
    "replace it with your code and run the cell; the check after it tells you whether it is\n"
    "right, and if not, gives one concrete hint. If you skip an exercise, the notebook still\n"
    "runs: the cells after it use the package's own implementation (`mbrl_helpers`), not yours."
)


@dataclass
class Exercise:
    number: int  # 1-based, in notebook order
    cell_index: int  # index of the cell in the instructor notebook
    section: str  # the nearest markdown heading above it
    solution: str  # the instructor cell's source, markers removed
    hint: str


def _stub(indent: str, hint: str) -> list[str]:
    message = hint.replace("\\", "\\\\").replace('"', '\\"')
    return [
        f"{indent}# YOUR CODE HERE: replace these two lines with your solution.",
        f'{indent}raise NotImplementedError("{message}")',
    ]


def _last_heading(text: str) -> str | None:
    heading = None
    in_fence = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        elif not in_fence and re.match(r"#{1,6} ", line):
            heading = line.lstrip("#").strip()
    return heading


def split_cell(source: str, number: int, cell_index: int, name: str) -> tuple[str, str, list[str]]:
    """(student source, solution source without markers, hints) of one exercise cell.

    Raises ValueError on unbalanced or nested markers.
    """
    student: list[str] = []
    solution: list[str] = []
    hints: list[str] = []
    inside = False
    indent = ""
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ValueError(f"{name}, cell {cell_index}: '{BEGIN}' inside another solution block")
            inside, indent, hints_here = True, line[: len(line) - len(line.lstrip())], []
            continue
        if stripped == END:
            if not inside:
                raise ValueError(f"{name}, cell {cell_index}: '{END}' without '{BEGIN}' above it")
            inside = False
            hint = " ".join(hints_here) or (
                f"Exercise {number}: write your code here (see the text above), "
                "then run this cell; the check below says whether it is right."
            )
            hints.append(hint)
            student.extend(_stub(indent, hint))
            continue
        if inside:
            if stripped.startswith(HINT):
                hints_here.append(stripped[len(HINT):].strip())
                continue
            solution.append(line)
        else:
            student.append(line)
            solution.append(line)
    if inside:
        raise ValueError(f"{name}, cell {cell_index}: '{BEGIN}' without '{END}'")
    return "\n".join(student), "\n".join(solution), hints


def make_student_edition(nb: nbformat.NotebookNode, name: str = "notebook") -> tuple[
    nbformat.NotebookNode, list[Exercise]
]:
    """Return (student notebook, exercises). The instructor notebook is not changed."""
    student = copy.deepcopy(nb)
    exercises: list[Exercise] = []
    section = ""
    for index, cell in enumerate(student.cells):
        if cell.cell_type == "markdown":
            section = _last_heading(cell.source) or section
            continue
        if cell.cell_type != "code":
            continue
        if BEGIN not in cell.source and END not in cell.source:
            continue
        number = len(exercises) + 1
        new_source, solution, hints = split_cell(cell.source, number, index, name)
        cell.source = new_source
        cell.outputs = []
        cell.execution_count = None
        cell.metadata.pop("execution", None)
        if any(line.startswith("raise NotImplementedError") for line in new_source.splitlines()):
            # A stub at top level raises when its cell runs: with this tag Run All (JupyterLab,
            # nbclient, nbval) goes on past it, as it does past a stub inside a function.
            tags = cell.metadata.setdefault("tags", [])
            if "raises-exception" not in tags:
                tags.append("raises-exception")
        for hint in hints:
            exercises.append(Exercise(len(exercises) + 1, index, section, solution, hint))
        following = student.cells[index + 1] if index + 1 < len(student.cells) else None
        if following is not None and following.cell_type == "code" and "check_" in following.source:
            # the check's stored "Correct" was about the instructor's solution
            following.outputs, following.execution_count = [], None
    student.metadata["mbrl_edition"] = "student"
    if exercises:
        note = nbformat.v4.new_markdown_cell(EDITION_NOTE)
        note.metadata["tags"] = ["student-edition-note"]
        student.cells.insert(1 if student.cells and student.cells[0].cell_type == "markdown" else 0, note)
    return student, exercises


def solutions_markdown(title: str, exercises: list[Exercise]) -> str:
    lines = [f"# Solutions: {title}", "", "Generated by tools/make_student_edition.py from the instructor "
             "notebook; do not edit.", ""]
    seen_cells: set[int] = set()
    for exercise in exercises:
        if exercise.cell_index in seen_cells:
            continue
        seen_cells.add(exercise.cell_index)
        heading = exercise.section if exercise.section.lower().startswith("exercise") else (
            f"Exercise {exercise.number}: {exercise.section}")
        lines += [f"## {heading}", "", "```python",
                  exercise.solution.rstrip(), "```", ""]
    return "\n".join(lines)


def build(paths: list[Path], out: Path, solutions: Path) -> dict[Path, list[Exercise]]:
    """Write the student edition of each notebook to out/ and its solutions to solutions/."""
    out.mkdir(parents=True, exist_ok=True)
    solutions.mkdir(parents=True, exist_ok=True)
    made = {}
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        student, exercises = make_student_edition(nb, path.name)
        nbformat.write(student, out / path.name)
        first = nb.cells[0] if nb.cells else None
        title = _last_heading(first.source) if first is not None and first.cell_type == "markdown" else None
        (solutions / f"{path.stem}.md").write_text(solutions_markdown(title or path.stem, exercises))
        made[path] = exercises
    return made


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "student")
    parser.add_argument("--solutions", type=Path, default=ROOT / "solutions")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for path, exercises in build(paths, args.out, args.solutions).items():
        print(f"{path.name}: {len(exercises)} exercise(s) -> {args.out / path.name}, "
              f"{args.solutions / (path.stem + '.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
