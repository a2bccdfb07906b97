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
