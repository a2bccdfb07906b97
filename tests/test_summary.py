"""Notebook 08's table is built from the committed results files, and fails loudly when one is
missing or stale; README's "Results at a glance" is what the files say."""

import importlib.util
import json
import math
import shutil
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from mbrl_helpers.course import summary  # noqa: E402
from mbrl_helpers.results import results_dir  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """A copy of the committed results files the summary reads, to modify."""
    for spec in summary.RESULTS_FILES:
        shutil.copy(results_dir() / f"{spec.name}.json", tmp_path)
    return tmp_path


def edit(folder: Path, name: str, change) -> None:
    path = folder / f"{name}.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_committed_results_build_a_row_for_every_task():
    rows = summary.build_table()
    assert {r.task for r in rows} == set(summary.TASK_ORDER)
    assert all(r.ms_per_real_step is None or r.ms_per_real_step > 0 for r in rows)
    assert all(r.model_calls_per_real_step is None or r.model_calls_per_real_step >= 0 for r in rows)
    assert {r.source for r in rows} <= {spec.name for spec in summary.RESULTS_FILES}
    assert len(summary.build_facts()) >= len(summary.RESULTS_FILES)


def test_table_rows_change_when_the_files_change(results: Path):
    before = summary.find(summary.build_table(results), "Dyna Maze", "Dyna-Q, n = 50")

    def faster(data):
        r = data["dyna_maze"]["Dyna-Q, n = 50"]
        r["real_steps_to_solve"] = [123] * len(r["real_steps_to_solve"])
        r["cpu_ms_per_real_step"] = 7.5

    edit(results, "methods", faster)
    after = summary.find(summary.build_table(results), "Dyna Maze", "Dyna-Q, n = 50")
    assert (after.real_steps_to_solve, after.ms_per_real_step) == (123, 7.5) != (
        before.real_steps_to_solve, before.ms_per_real_step)
    assert "| Dyna-Q, n = 50 | 123 |" in summary.table_markdown(summary.build_table(results), long=False)


def test_imagined_rows_come_from_its_table(results: Path):
    def unsolved(data):
        for row in data["table"]:
            if row["method"] == "simple MBRL (policy trained only in the model, rounds of 500 real steps)":
                row["median"], row["solved"] = math.inf, 1

    edit(results, "imagined", unsolved)
    row = summary.find(summary.build_table(results), "CartPole-v1", "simple MBRL")
    assert math.isinf(row.real_steps_to_solve) and row.solved == 1
    assert summary.format_steps(row) == f"> {row.budget:,}"


def test_a_missing_file_raises_naming_it_and_its_command(results: Path):
    (results / "mcts.json").unlink()
    with pytest.raises(summary.MissingResultsError, match=r"mcts\.json.*bench_mcts\.py"):
        summary.build_table(results)


@pytest.mark.parametrize("schema", [None, 0])
def test_an_older_schema_is_stale(results: Path, schema):
    def old(data):
        if schema is None:
            del data["schema"]
        else:
            data["schema"] = schema

    edit(results, "methods", old)
    with pytest.raises(summary.StaleResultsError, match=r"stale results file .*methods\.json"):
        summary.build_table(results)


def test_a_missing_key_is_stale_and_a_newer_schema_is_refused(results: Path):
    edit(results, "imagined", lambda data: data.pop("table"))
    with pytest.raises(summary.StaleResultsError, match="stale.*'table'"):
        summary.build_table(results)
    shutil.copy(results_dir() / "imagined.json", results)
    edit(results, "dyna_q", lambda data: data.update(schema=99))
    with pytest.raises(ValueError, match="newer"):
        summary.build_facts(results)


def load_readme_writer():
    spec = importlib.util.spec_from_file_location("update_readme", ROOT / "tools" / "update_readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_results_at_a_glance_is_generated_from_the_files():
    """If this fails, run `python3 course.py run tools/update_readme.py` (the results changed)."""
    assert load_readme_writer().readme_section() in README.read_text(), (
        "README's 'Results at a glance' differs from the results files: run "
        "`python3 course.py run tools/update_readme.py` (and re-execute notebook 08)")


def test_update_readme_rewrites_only_its_section(results: Path, tmp_path: Path):
    writer = load_readme_writer()
    readme = tmp_path / "README.md"
    readme.write_text(f"# top\n\n{writer.README_BEGIN}\nold\n{writer.README_END}\n\n## after\n")
    edit(results, "methods", lambda d: d["dyna_maze"]["Dyna-Q, n = 5"].update(real_steps_to_solve=[77]))
    writer.update_readme(readme, results)
    text = readme.read_text()
    assert text.startswith("# top\n\n") and text.endswith("\n\n## after\n") and "old" not in text
    assert "| Dyna-Q, n = 5 | 77 |" in text
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="markers"):
        writer.update_readme(readme, results)


def test_figure_has_one_point_per_row_with_steps():
    rows = summary.build_table()
    fig = summary.efficiency_figure(rows)
    ax = fig.axes[0]
    assert len(ax.collections) == sum(r.real_steps_to_solve is not None and r.ms_per_real_step is not None
                                      for r in rows)
    assert ax.get_xscale() == ax.get_yscale() == "log"
    plt.close(fig)


def test_one_row_per_method_and_task_the_first_file_wins(results: Path):
    """dyna_mcts.json repeats methods.json's Dyna-Q on the Shortcut Maze: the table keeps one."""
    rows = summary.build_table(results)
    assert len({(r.task, r.method) for r in rows}) == len(rows)
    assert summary.find(rows, "Shortcut Maze", "Dyna-Q, n = 10").source == "methods"
    edit(results, "dyna_mcts", lambda d: d["shortcut_maze"]["budgets"].update(
        {"7": d["shortcut_maze"]["budgets"]["10"]}))
    assert summary.find(summary.build_table(results), "Shortcut Maze", "Dyna-Q, n = 7").source == "dyna_mcts"


def test_find_names_what_is_missing():
    with pytest.raises(KeyError, match="nope.*Dyna Maze"):
        summary.find(summary.build_table(), "Dyna Maze", "nope")


def test_figure_labels_every_point_once_and_no_two_labels_overlap():
    rows = summary.build_table()
    fig = summary.efficiency_figure(rows)
    ax = fig.axes[0]
    labels = [t for t in ax.texts if t.get_text().isdigit()]
    assert sorted(int(t.get_text()) for t in labels) == list(range(1, len(ax.collections) + 1))
    fig.canvas.draw()
    boxes = [Text.get_window_extent(t) for t in labels]    # the text alone, not its connecting line
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b), "two point labels overlap"
    plt.close(fig)


def test_recorded_run_hours_counts_parts_once(tmp_path: Path):
    (tmp_path / "bench.json").write_text(json.dumps({"runs": [{"wall_time": 3600}, {"wall_time": 3600}]}))
    (tmp_path / "bench.part1.json").write_text(json.dumps({"runs": [{"wall_time": 3600}]}))
    (tmp_path / "bench.part2.json").write_text(json.dumps({"runs": {"a": [{"wall_time": 1800}]}}))
    (tmp_path / "alone.json").write_text(json.dumps({"total_seconds": 900, "seconds": {"x": 5}}))
    (tmp_path / "untimed.json").write_text(json.dumps({"steps": [1, 2]}))
    assert summary.recorded_run_hours(tmp_path) == {"alone": 0.25, "bench": 1.5}
