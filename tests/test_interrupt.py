"""Every long computation stops on Ctrl-C ("Interrupt kernel" in Jupyter sends SIGINT).

Each test starts a subprocess on a run that would take hours, waits until it is
inside the run, sends SIGINT and expects KeyboardInterrupt within 2 seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a subprocess")

WARM_UP = """
import mbrl_helpers
from mbrl_helpers import dyna_mcts, dyna_q_plus, envs, mcts, simulators, sweeping, tabular
sweeping.run_updates_until_near_optimal((1,), runs=2, seed=0)
dyna_mcts.run_dyna_mcts("mbrl/DynaMaze-v0", budget=5, episodes=2, runs=2, seed=0)
dyna_q_plus.run_changing_maze(envs.make_blocking_maze(), agent=1, steps=20, runs=2, seed=0)
tabular.run_dyna_q("mbrl/DynaMaze-v0", planning_steps=5, episodes=2, runs=2, seed=0)
mcts.mcts_search(simulators.cartpole_step, [0.0, 0.0, 0.01, 0.0], n_actions=2,
                 n_simulations=10, depth=5, seed=0)
mcts.rollout_planning(simulators.cartpole_step, [0.0, 0.0, 0.01, 0.0], n_actions=2,
                      n_simulations=10, depth=5, seed=0)
"""

HUGE_RUNS = {
    "dyna_q_planning": 'tabular.run_dyna_q("mbrl/DynaMaze-v0", planning_steps=10**12, '
                       'episodes=5, runs=2, seed=0)',
    "dyna_q_many_runs": 'tabular.run_dyna_q("mbrl/DynaMaze-v0", planning_steps=50, '
                        'episodes=10**6, runs=30, seed=0)',
    "changing_maze": "dyna_q_plus.run_changing_maze(envs.make_shortcut_maze(), agent=1, "
                     "steps=10**5, runs=30, seed=0, planning_steps=10**9)",
    "dyna_mcts": 'dyna_mcts.run_dyna_mcts("mbrl/DynaMaze-v0", budget=1000, episodes=10**6, '
                 'runs=30, seed=0)',
    # gamma = 0: no value reaches S, so no greedy path is ever near-optimal
    "sweeping": "sweeping.run_updates_until_near_optimal((1,), runs=30, seed=0, gamma=0.0, "
                "max_episodes=10**9)",
    "q_snapshot": 'tabular.q_snapshot("mbrl/DynaMaze-v0", planning_steps=10**12, seed=0)',
    "mcts_search": "mcts.mcts_search(simulators.cartpole_step, [0.0, 0.0, 0.01, 0.0], "
                   "n_actions=2, n_simulations=2 * 10**7, depth=200, seed=0)",
    "rollout_planning": "mcts.rollout_planning(simulators.cartpole_step, [0.0, 0.0, 0.01, 0.0], "
                        "n_actions=2, n_simulations=10**12, depth=200, seed=0)",
}


@pytest.mark.parametrize("name", sorted(HUGE_RUNS))
def test_sigint_stops_a_huge_run_within_two_seconds(name):
    script = textwrap.dedent(WARM_UP) + textwrap.dedent(f"""
        import sys, time
        print("inside", flush=True)
        started = time.perf_counter()
        try:
            {HUGE_RUNS[name]}
        except KeyboardInterrupt:
            print(f"interrupted after {{time.perf_counter() - started:.2f}} s", flush=True)
            sys.exit(42)
        print("finished", flush=True)
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        assert proc.stdout.readline().strip() == "inside", proc.stderr.read()
        time.sleep(1.0)  # well inside the run
        assert proc.poll() is None, "the run ended before the signal"
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        waited = time.perf_counter() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 42, f"expected KeyboardInterrupt; stdout {out!r} stderr {err[-2000:]}"
    assert waited < 2.0, f"took {waited:.2f} s to stop after SIGINT"
