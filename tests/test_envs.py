import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import mbrl_helpers  # noqa: F401  (registers the environments)
from mbrl_helpers.worlds.envs import DOWN, DYNA_MAZE_LAYOUT, LEFT, RIGHT, UP, GridMaze, as_maze

SMALL = ["S.#", "..G"]


def test_dyna_maze_matches_the_book():
    maze = GridMaze(DYNA_MAZE_LAYOUT)
    assert (maze.n_rows, maze.n_cols) == (6, 9)
    assert len(maze.open_states()) == 47
    assert maze.to_cell(maze.start) == (2, 0)
    assert [maze.to_cell(g) for g in maze.goals] == [(0, 8)]
    walls = {tuple(int(v) for v in rc) for rc in np.argwhere(maze.walls)}
    assert walls == {(1, 2), (2, 2), (3, 2), (0, 7), (1, 7), (2, 7), (4, 5)}
    assert maze.shortest_path_length() == 14


def test_registered_and_made_with_gymnasium():
    env = gym.make("mbrl/DynaMaze-v0")
    obs, info = env.reset(seed=0)
    assert obs == 2 * 9 + 0 and info == {}
    assert env.observation_space == gym.spaces.Discrete(54)
    assert env.action_space == gym.spaces.Discrete(4)
    assert isinstance(as_maze("mbrl/DynaMaze-v0"), GridMaze)


@pytest.mark.parametrize("render_mode", [None, "ansi", "rgb_array"])
def test_passes_gymnasium_env_checker(render_mode):
    check_env(GridMaze(DYNA_MAZE_LAYOUT, render_mode=render_mode), skip_render_check=False)


def test_moves_walls_and_edges():
    maze = GridMaze(SMALL)
    maze.reset()
    assert maze.agent == 0
    assert maze.step(UP)[0] == 0  # edge: stay
    assert maze.step(LEFT)[0] == 0  # edge: stay
    assert maze.step(RIGHT)[0] == 1
    assert maze.step(RIGHT)[0] == 1  # wall at (0, 2): stay
    obs, reward, terminated, truncated, _ = maze.step(DOWN)
    assert (obs, reward, terminated, truncated) == (4, 0.0, False, False)
    obs, reward, terminated, truncated, _ = maze.step(RIGHT)
    assert (obs, reward, terminated, truncated) == (5, 1.0, True, False)


def test_rewards_only_on_reaching_a_goal_and_truncation_is_optional():
    maze = GridMaze(SMALL, max_episode_steps=2)
    maze.reset()
    assert maze.step(UP)[1:4] == (0.0, False, False)
    assert maze.step(UP)[1:4] == (0.0, False, True)


def test_tables_agree_with_step():
    maze = GridMaze(DYNA_MAZE_LAYOUT)
    tables = maze.tables()
    for s in maze.open_states():
        for a in range(4):
            maze.agent = int(s)
            obs, reward, terminated, _, _ = maze.step(a)
            assert tables.next_state[s, a] == obs
            assert tables.reward[s, a] == reward
            assert tables.terminated[s, a] == terminated


def test_several_goals():
    maze = GridMaze(["G.S.G"])
    assert list(maze.goals) == [0, 4]
    assert maze.shortest_path_length() == 2


def test_render_ansi_and_rgb():
    maze = GridMaze(SMALL, render_mode="ansi")
    maze.reset()
    assert maze.render() == "A.#\n..G\n"
    image = GridMaze(SMALL, render_mode="rgb_array").render()
    assert image.shape == (2 * GridMaze.CELL_PIXELS, 3 * GridMaze.CELL_PIXELS, 3)
    assert image.dtype == np.uint8
    # the wall cell is dark, the goal cell is not
    px = GridMaze.CELL_PIXELS
    assert image[px // 2, 2 * px + px // 2].max() < 100
    assert image[px + px // 2, 2 * px + px // 2].max() > 100


@pytest.mark.parametrize(
    "layout, message",
    [
        (["S..", ".G"], "ragged"),
        (["...", "..G"], "exactly one start"),
        (["S.S", "..G"], "exactly one start"),
        (["S..", "..."], "no goal"),
        (["S.x", "..G"], "unknown character 'x' at row 0, col 2"),
        ([], "non-empty"),
    ],
)
def test_malformed_layouts_are_rejected(layout, message):
    with pytest.raises(ValueError, match=message):
        GridMaze(layout)


def test_bad_arguments():
    with pytest.raises(TypeError, match="layout"):
        GridMaze("S.G")
    with pytest.raises(ValueError, match="render_mode"):
        GridMaze(SMALL, render_mode="human")
    with pytest.raises(ValueError, match="action"):
        GridMaze(SMALL).step(4)
    with pytest.raises(TypeError, match="GridMaze"):
        as_maze(gym.make("CartPole-v1"))
