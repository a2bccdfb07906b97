"""The changing mazes of Figures 8.4 / 8.5 and the scaled mazes of Example 8.4."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import mbrl_helpers  # noqa: F401  (registers the environments)
from mbrl_helpers.worlds.envs import (
    BLOCKING_MAZE_LAYOUTS,
    DYNA_MAZE_LAYOUT,
    SHORTCUT_MAZE_LAYOUTS,
    ChangingMaze,
    make_blocking_maze,
    make_scaled_dyna_maze,
    scale_layout,
)

UP, DOWN, LEFT, RIGHT = 0, 1, 2, 3


@pytest.mark.parametrize("env_id, layouts, default_switch", [
    ("mbrl/BlockingMaze-v0", BLOCKING_MAZE_LAYOUTS, 1000),
    ("mbrl/ShortcutMaze-v0", SHORTCUT_MAZE_LAYOUTS, 3000),
])
def test_registered_with_the_books_defaults(env_id, layouts, default_switch):
    maze = gym.make(env_id).unwrapped
    assert isinstance(maze, ChangingMaze)
    assert maze.switch_step == default_switch
    assert maze.layout == layouts[0] and maze.layouts == layouts
    assert maze.to_cell(maze.start) == (5, 3) and [maze.to_cell(g) for g in maze.goals] == [(0, 8)]
    check_env(gym.make(env_id, switch_step=3).unwrapped, skip_render_check=True)


def test_the_switch_happens_after_exactly_switch_step_steps():
    maze = gym.make("mbrl/BlockingMaze-v0", switch_step=25).unwrapped
    maze.reset(seed=0)
    rng = np.random.default_rng(0)
    for step in range(1, 40):
        _, _, terminated, _, info = maze.step(int(rng.integers(4)))
        assert info["world_steps"] == step
        assert info["switched"] == (step >= 25)
        assert maze.layout == BLOCKING_MAZE_LAYOUTS[int(step >= 25)]
        if terminated:
            maze.reset()  # a new episode: the world keeps its count and its walls
    assert maze.world_steps == 39


def test_shortest_path_before_and_after_the_switch():
    blocking, shortcut = make_blocking_maze(switch_step=1), gym.make("mbrl/ShortcutMaze-v0").unwrapped
    assert blocking.shortest_path_length() == 10
    blocking.step(LEFT)
    assert blocking.switched and blocking.shortest_path_length() == 16
    assert shortcut.shortest_path_length() == 16
    shortcut.switch_step = 1
    shortcut.step(LEFT)
    assert shortcut.switched and shortcut.shortest_path_length() == 10


def test_an_agent_walled_in_by_the_switch_goes_back_to_start():
    maze = make_blocking_maze(switch_step=7)  # 5 right, 2 up: (3, 8), the gap that closes
    maze.reset(seed=0)
    for action in [RIGHT] * 5 + [UP] * 1:
        observation, *_ = maze.step(action)
    assert maze.to_cell(observation) == (4, 8)
    observation, *_ = maze.step(UP)
    assert maze.switched and observation == maze.start == maze.agent


def test_the_agent_position_stays_valid_under_random_play():
    rng = np.random.default_rng(1)
    for switch in (0, 5, 60):
        maze = make_blocking_maze(switch_step=switch)
        observation, _ = maze.reset(seed=int(switch))
        for _ in range(300):
            observation, _, terminated, _, _ = maze.step(int(rng.integers(4)))
            row, col = maze.to_cell(observation)
            assert not maze.walls[row, col] and observation == maze.agent
            if terminated:
                observation, _ = maze.reset()


def test_reset_with_a_seed_restarts_the_world():
    maze = make_blocking_maze(switch_step=2)
    maze.reset(seed=0)
    maze.step(LEFT)
    maze.step(LEFT)
    assert maze.switched
    maze.reset()
    assert maze.switched and maze.world_steps == 2
    maze.reset(seed=1)
    assert not maze.switched and maze.world_steps == 0 and maze.layout == BLOCKING_MAZE_LAYOUTS[0]
    maze.reset(options={"restart_world": True})
    assert maze.world_steps == 0


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (2.5, TypeError), (True, TypeError)])
def test_bad_switch_step(bad, error):
    with pytest.raises(error, match="switch_step"):
        make_blocking_maze(switch_step=bad)


def test_numpy_integer_switch_step_is_accepted():
    assert make_blocking_maze(switch_step=np.int64(500)).switch_step == 500


def test_layouts_of_a_changing_maze_must_match_in_size():
    with pytest.raises(ValueError, match="grid size"):
        ChangingMaze((DYNA_MAZE_LAYOUT, ("S.G",)), 5)
    with pytest.raises(ValueError, match="two layouts"):
        ChangingMaze((DYNA_MAZE_LAYOUT,), 5)


@pytest.mark.parametrize("resolution", [1, 2, 3, 4, 5, 6])
def test_scaled_maze_grows_with_resolution(resolution):
    maze = gym.make("mbrl/ScaledDynaMaze-v0", resolution=resolution).unwrapped
    assert (maze.n_rows, maze.n_cols) == (6 * resolution, 9 * resolution)
    assert len(maze.open_states()) == 47 * resolution**2
    assert len(maze.goals) == resolution**2
    assert maze.to_cell(maze.start) == (2 * resolution, 0)
    # the shortest path scales with r: 13 steps of size r, plus one into the goal block
    assert maze.shortest_path_length() == 13 * resolution + 1


def test_resolution_one_is_the_dyna_maze_and_walls_become_blocks():
    assert scale_layout(DYNA_MAZE_LAYOUT, 1) == DYNA_MAZE_LAYOUT
    big = make_scaled_dyna_maze(3)
    assert big.walls[3:6, 6:9].all() and big.walls[12:15, 15:18].all()  # (1, 2) and (4, 5)
    assert big.walls.sum() == 7 * 9


@pytest.mark.parametrize("bad", [0, -2, 1.5])
def test_bad_resolution(bad):
    with pytest.raises(ValueError, match="resolution"):
        scale_layout(DYNA_MAZE_LAYOUT, bad)
