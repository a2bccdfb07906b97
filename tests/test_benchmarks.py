"""The benchmark scripts still run (quick mode); their timings are not tested."""

import importlib.util
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load(name: str):
    sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dyna_q_benchmark_runs_in_quick_mode():
    bench = load("bench_dyna_q")
    row = bench.main(quick=True)
    assert row["figure_8_2_updates"] > 0
    assert row["speedup_vs_plain_python"] > 1
    assert "| speed-up over the reference" in bench.report(row)


def test_plain_reference_learns_like_the_package():
    """The yardstick must be the same algorithm: with planning it learns much faster."""
    from reference_dyna_q import dyna_q_plain

    from mbrl_helpers.envs import DYNA_MAZE_LAYOUT, GridMaze

    maze = GridMaze(DYNA_MAZE_LAYOUT)
    runs = range(10)
    planned = sum(dyna_q_plain(maze, 50, 5, seed=s)[2] for s in runs) / 10
    unplanned = sum(dyna_q_plain(maze, 0, 5, seed=s)[2] for s in runs) / 10
    assert planned < 30 < unplanned


def test_mcts_benchmark_runs_in_quick_mode():
    bench = load("bench_mcts")
    row = bench.main(quick=True)
    assert "simulations" in bench.report(row).lower()


def test_imagined_experience_benchmark_runs_in_quick_mode(capsys):
    bench = load("bench_imagined")
    assert bench.main(["--quick"]) == 0
    assert "elapsed" in capsys.readouterr().out
