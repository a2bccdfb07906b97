"""Regenerate every benchmark result of the course, one benchmark at a time, in lesson order.

    python3 course.py run benchmarks/run_all.py          # every result in mbrl_helpers/results/
                                                         # (a few hours), then README's
                                                         # "Results at a glance" from them
    python3 course.py run benchmarks/run_all.py --quick  # checks every benchmark still runs; writes nothing
    python3 course.py run benchmarks/run_all.py --list   # prints the commands it would run

BENCHMARKS below is the one list of the course's benchmarks (tests/test_benchmarks.py checks
that every benchmarks/bench_*.py is in it). Each runs in its own process, so one benchmark's
threads and caches do not skew the next one's timings; the runs never overlap. Timings depend on
the machine and its load: each report states both.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent


class Benchmark(NamedTuple):
    """One benchmark: its script, the full-run argument lists (one process each), what it measures."""

    script: str
    full: tuple[tuple[str, ...], ...]
    about: str
    minutes: float          # rough length of the full run on the 2-core reference machine


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("bench_dyna_q.py", ((),), "01: Figure 8.2, slider latency, vs a plain-Python Dyna-Q", 1),
    Benchmark("bench_tabular_02.py", ((),), "02: Figures 8.4, 8.5 and Example 8.4", 1),
    Benchmark("bench_models.py", ((),), "03: neural models' error, training time, batched predictions", 2),
    # The three parts append each finished run to their own files and skip runs already stored
    # (resumable); --report merges them. From scratch the parts take about three hours (3.2 h recorded).
    Benchmark("bench_imagined.py", (("--part", "model_free"), ("--part", "model_based"),
                                    ("--part", "grid"), ("--report",)),
              "04: real steps to solve CartPole-v1, DQN vs learning from a model", 190),
    # MPC's parts are resumable like bench_imagined's; --report merges them (the DQN control needs
    # the cartpole_h30 part's updates per real step, so it runs after it). From scratch about 8 hours.
    Benchmark("bench_mpc.py", (("--part", "cartpole"), ("--part", "cartpole_h30"), ("--part", "pendulum"),
                               ("--part", "ablations"), ("--part", "dqn_control"),
                               ("--part", "simple_control"), ("--part", "grid"), ("--report",)),
              "05: real steps to solve CartPole-v1 and Pendulum-v1 by MPC, planning cost, slider grid", 480),
    Benchmark("bench_mcts.py", ((),), "06: UCT simulations/s on CartPole vs a naive reference", 2),
    Benchmark("bench_dyna_mcts.py", ((),), "07: Dyna-MCTS vs Dyna-Q at equal budgets of model calls", 2),
    Benchmark("bench_learned_mcts.py", ((),), "07: tree search on a learned CartPole model vs the true one",
              40),
    # speed, then one agent run per seed (each written to its own file), then the merge
    Benchmark("bench_alphazero.py", (("--part", "speed"), ("--part", "agent"), ("--report",)),
              "07: batched PUCT speed; AlphaZero-style agent on a learned CartPole model", 60),
    Benchmark("bench_methods.py", ((),), "08: every method on common tasks (steps, model calls, CPU)", 1),
)


def commands(quick: bool) -> list[list[str]]:
    """The command lines to run, in order: one per benchmark in quick mode, one per part in full."""
    out = []
    for bench in BENCHMARKS:
        runs = (("--quick",),) if quick else bench.full
        out += [[sys.executable, str(HERE / bench.script), *args] for args in runs]
    return out


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    todo = commands(quick)
    if "--list" in argv:
        print("\n".join(" ".join(cmd[1:]) for cmd in todo))
        return 0
    total = sum(b.minutes for b in BENCHMARKS)
    print(f"{'Checking' if quick else 'Regenerating'} {len(BENCHMARKS)} benchmarks, one at a time"
          + ("" if quick else f" (roughly {total / 60:.0f} hours from scratch on 2 cores; bench_imagined's "
                              "parts take about three hours unless their stored runs are already there)"))
    for bench in BENCHMARKS:
        print(f"  {bench.script}: {bench.about}")
    for cmd in todo:
        print(f"\n=== {' '.join(Path(c).name if i < 2 else c for i, c in enumerate(cmd))}", flush=True)
        start = time.perf_counter()
        code = subprocess.call(cmd, cwd=HERE.parent)
        print(f"=== exit {code} after {time.perf_counter() - start:.0f} s", flush=True)
        if code != 0:
            print(f"stopped: {' '.join(cmd[1:])} failed", file=sys.stderr)
            return code
    if not quick:
        # README's "Results at a glance" is generated from the files just written.
        return subprocess.call([sys.executable, str(HERE.parent / "tools" / "update_readme.py")],
                               cwd=HERE.parent)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
