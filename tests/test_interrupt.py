"""Every long computation stops on Ctrl-C ("Interrupt kernel" in Jupyter sends SIGINT).

A subprocess starts runs that would take hours, one after the other; for each the
test waits until it is inside the run, sends SIGINT and expects KeyboardInterrupt
within 2 seconds.
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
import signal
# Ctrl-C raises KeyboardInterrupt, as in a Jupyter kernel, even when this test was started from a
# shell that ignores SIGINT (a background job): the ignoring would be inherited otherwise.
signal.signal(signal.SIGINT, signal.default_int_handler)
import mbrl_helpers
from mbrl_helpers.agents import dyna_mcts, dyna_q_plus, sweeping, tabular
from mbrl_helpers.worlds import envs, simulators
from mbrl_helpers.planners import mcts
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


def test_sigint_stops_every_huge_run_within_two_seconds():
    """One subprocess runs the huge runs one after the other; for each, this test waits
    until it is inside the run, sends SIGINT and times how long KeyboardInterrupt takes."""
    names = sorted(HUGE_RUNS)
    cases = "".join(f"""
        print("inside {name}", flush=True)
        try:
            {HUGE_RUNS[name]}
            print("finished {name}", flush=True)
        except KeyboardInterrupt:
            print("interrupted {name}", flush=True)
    """ for name in names)
    script = textwrap.dedent(WARM_UP) + textwrap.dedent(cases)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    waited = {}
    try:
        for name in names:
            line = proc.stdout.readline().strip()
            assert line == f"inside {name}", f"{line!r}; stderr: {proc.stderr.read()[-2000:]}"
            time.sleep(1.0)  # well inside the run
            assert proc.poll() is None, f"{name}: the process ended before the signal"
            sent = time.perf_counter()
            proc.send_signal(signal.SIGINT)
            line = proc.stdout.readline().strip()
            waited[name] = time.perf_counter() - sent
            assert line == f"interrupted {name}", f"{name}: expected KeyboardInterrupt, got {line!r}"
        assert proc.wait(timeout=30) == 0, proc.stderr.read()[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
    slow = {name: round(seconds, 2) for name, seconds in waited.items() if seconds >= 2.0}
    assert not slow, f"seconds from SIGINT to KeyboardInterrupt: {slow}"
