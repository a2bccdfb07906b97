"""What keeps a student working alone from getting lost: numbering, exercises, honest hints.

- Sections ("## 1. ...") and exercises ("### Exercise 1: ...") are numbered in order, from 1.
- Every notebook has at least two exercises, and opens with what it teaches, what it assumes
  and how long it takes.
- No exercise's hint (the message its stub raises in the student edition) gives away its
  solution: no run of five or more of the solution's tokens appears in the hint.
"""

from __future__ import annotations

import io
import re
import textwrap
import tokenize
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BEGIN, END, HINT = "### BEGIN SOLUTION", "### END SOLUTION", "### HINT:"
WINDOW = 5  # tokens in a row that would give the answer away


def markdown_lines(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    lines, in_fence = [], False
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.lstrip().startswith("```"):
                in_fence = not in_fence
            elif not in_fence:
                lines.append(line)
    return lines


def section_numbers(lines: list[str]) -> list[int]:
    return [int(m.group(1)) for line in lines if (m := re.match(r"## (\d+)\. ", line))]


def exercise_numbers(lines: list[str]) -> list[int]:
    return [int(m.group(1)) for line in lines if (m := re.match(r"#{2,4} Exercise (\d+)\b", line))]


def solutions_and_hints(path: Path) -> list[tuple[str, str]]:
    """(solution code, hint) of every exercise, in notebook order."""
    nb = nbformat.read(path, as_version=4)
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code" or BEGIN not in cell.source:
            continue
        solution, hints, inside = [], [], False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped == BEGIN:
                inside, solution, hints = True, [], []
            elif stripped == END:
                inside = False
                out.append(("\n".join(solution), " ".join(hints)))
            elif inside and stripped.startswith(HINT):
                hints.append(stripped.removeprefix(HINT).strip())
            elif inside:
                solution.append(line)
    return out


def tokens(text: str) -> list[str]:
    """Python tokens of text (names lower-cased; comments, whitespace and layout dropped)."""
    kept = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in (tokenize.NAME, tokenize.NUMBER, tokenize.OP, tokenize.STRING):
                kept.append(token.string.lower())
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return kept


def giveaway(solution: str, hint: str) -> str | None:
    """A run of WINDOW solution tokens found in the hint, or None."""
    hint_text = "".join(tokens(hint)) or hint.replace(" ", "").lower()
    words = tokens(textwrap.dedent(solution))
    for start in range(len(words) - WINDOW + 1):
        run = "".join(words[start:start + WINDOW])
        if len(run) >= 5 and run in hint_text:
            return " ".join(words[start:start + WINDOW])
    return None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_sections_are_numbered_in_order(path):
    numbers = section_numbers(markdown_lines(path))
    assert numbers == list(range(1, len(numbers) + 1)), f"{path.name}: sections numbered {numbers}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_has_at_least_two_exercises_numbered_in_order(path):
    numbers = exercise_numbers(markdown_lines(path))
    assert len(numbers) >= 2, f"{path.name}: {len(numbers)} exercise heading(s)"
    assert numbers == list(range(1, len(numbers) + 1)), f"{path.name}: exercises numbered {numbers}"
    assert len(solutions_and_hints(path)) >= len(numbers), f"{path.name}: an exercise has no solution block"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_says_what_it_teaches_assumes_and_takes(path):
    opening = "\n".join(markdown_lines(path)[:60]).lower()
    for words in ("in this notebook", "assumes"):
        assert words in opening, f"{path.name}: its opening does not say '{words}'"
    assert "minute" in opening or "hour" in opening, f"{path.name}: its opening does not say how long"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_hint_gives_the_solution_away(path):
    for number, (solution, hint) in enumerate(solutions_and_hints(path), start=1):
        found = giveaway(solution, hint)
        assert found is None, f"{path.name}, exercise {number}: the hint repeats the solution's '{found}'"


def test_the_numbering_and_giveaway_checks_can_fail():
    assert section_numbers(["## 1. A", "## 2. B", "## 4. C"]) == [1, 2, 4]
    assert exercise_numbers(["### Exercise 2: b", "### Exercise 1: a"]) == [2, 1]
    solution = "    return q + c * prior * math.sqrt(big_n) / (1 + n)"
    assert giveaway(solution, "q plus c times the prior times sqrt(N) / (1 + n)") is not None
    assert giveaway(solution, "the bonus shrinks as the child is visited more") is None
    assert giveaway("    target = r + gamma * np.max(q[s_next])",
                    "use target = r + gamma * np.max(q[s_next])") is not None
