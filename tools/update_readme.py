"""Rewrite README.md's "Results at a glance" from the committed benchmark results.

    python3 course.py run tools/update_readme.py

The block between the two markers below is generated (mbrl_helpers.course.summary builds the table from
mbrl_helpers/results/*.json); everything else in README.md is left as it is. tests/test_summary.py
fails when the README's block differs from what the results say. benchmarks/run_all.py runs this
after regenerating the results; re-execute notebook 08 afterwards (it shows the same table).
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from mbrl_helpers import results
from mbrl_helpers.course import summary

README = Path(__file__).resolve().parent.parent / "README.md"
README_BEGIN = ("<!-- results-at-a-glance: written by "
                "`python3 course.py run tools/update_readme.py`; do not edit -->")
README_END = "<!-- end of results-at-a-glance -->"


def readme_section(folder: Path | str | None = None) -> str:
    """README's "Results at a glance" block, markers included, generated from the results files."""
    rows = summary.build_table(folder)
    dates = sorted({m.split(",")[0] for m in summary.machines(folder).values()})
    text = ("Every method of the course on common tasks, read from `mbrl_helpers/results/*.json` by "
            "`mbrl_helpers.course.summary` (notebook 08 explains them; regenerate them with "
            f"`{results.REGENERATE_ALL}`). Real steps to solve: Dyna Maze, greedy path within "
            "1.2 x the shortest; Dyna Maze, 14-step path (notebook 07's benchmark): the greedy path is a "
            "shortest one; CartPole-v1, return 475 (learners: mean of 5 greedy evaluation "
            "episodes); Pendulum-v1, return -200 (mean of 5 evaluation episodes). Milliseconds per real "
            "step: CPU time of the tabular and search rows and of MPC's planning, wall time of the "
            "other one-thread torch runs of the CartPole learners, on the 2-core machine named "
            f"in each results file (measured {dates[0]} to {dates[-1]}).")
    lines = [README_BEGIN, "", "## Results at a glance", "", textwrap.fill(text, width=95), "",
             summary.table_markdown(rows, long=False), "", README_END]
    return "\n".join(lines)


def update_readme(path: Path | str, folder: Path | str | None = None) -> None:
    """Replace README's results-at-a-glance block (between the markers) with readme_section()."""
    path = Path(path)
    text = path.read_text()
    if README_BEGIN not in text or README_END not in text:
        raise ValueError(f"{path} has no results-at-a-glance markers ({README_BEGIN!r} ... {README_END!r})")
    head, rest = text.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    path.write_text(head + readme_section(folder) + tail)


if __name__ == "__main__":
    update_readme(README)
    print(f"{README}: results at a glance rewritten; re-execute notebook 08:\n"
          "    python3 course.py run tools/execute_notebooks.py notebooks/08_choosing_a_method.ipynb")
    sys.exit(0)
