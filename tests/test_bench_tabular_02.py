"""Notebook 02's benchmark script still runs (quick mode); its timings are not tested."""

import importlib.util
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_tabular_02_benchmark_runs_in_quick_mode():
    sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("bench_tabular_02", BENCHMARKS / "bench_tabular_02.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    row = bench.main(quick=True)
    assert row["figure_8_4_updates"] > 0 and row["example_8_4_updates"] > 0
    assert "| **all three** |" in bench.report(row)


def test_plain_reference_shows_the_same_effects():
    """The yardstick must be the same algorithms: Dyna-Q+ recovers better, sweeping saves updates."""
    sys.path.insert(0, str(BENCHMARKS))
    from reference_tabular_02 import dyna_q_plus_plain, updates_until_near_optimal_plain

    from mbrl_helpers.worlds.envs import make_blocking_maze, make_scaled_dyna_maze

    def after_switch(plus):
        return sum(c[-1] - c[999] for c in (dyna_q_plus_plain(make_blocking_maze(), 3000, s, plus=plus)
                                             for s in range(3)))

    assert after_switch(True) > 1.2 * after_switch(False)
    maze = make_scaled_dyna_maze(1)
    swept = sum(updates_until_near_optimal_plain(maze, s, sweeping=True) for s in range(4))
    uniform = sum(updates_until_near_optimal_plain(maze, s, sweeping=False) for s in range(4))
    assert swept * 2 < uniform
