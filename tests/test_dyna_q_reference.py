"""The plain-Python Dyna-Q and the compiled one are the same agent, draw for draw."""

import numpy as np
import pytest

from mbrl_helpers.agents import tabular
from mbrl_helpers.agents.dyna_q_reference import dyna_q_reference, numba_like_generator
from mbrl_helpers.worlds.envs import DYNA_MAZE_LAYOUT, GridMaze


def test_the_generator_draws_what_numba_draws():
    tabular.seed_numba(12345)
    compiled = [tabular.random_index(1 << 30) for _ in range(50)]
    rng = numba_like_generator(12345)
    assert [int(rng.random() * (1 << 30)) for _ in range(50)] == compiled


@pytest.mark.parametrize("planning_steps", [0, 5, 50])
def test_reference_and_compiled_take_the_same_steps_and_end_with_the_same_q(planning_steps):
    maze = GridMaze(DYNA_MAZE_LAYOUT)
    compiled = tabular.run_dyna_q(maze, planning_steps=planning_steps, episodes=6, runs=3, seed=4)
    for run, run_seed in enumerate(compiled.run_seeds):
        steps, q = dyna_q_reference(maze, planning_steps, 6, int(run_seed))
        assert steps == compiled.steps[run].tolist()
        np.testing.assert_array_equal(np.array(q), compiled.q[run])
