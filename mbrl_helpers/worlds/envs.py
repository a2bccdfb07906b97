"""Grid-world environments of Sutton & Barto chapter 8, as real gymnasium environments.

A maze is built from an ASCII layout, a list of equal-length strings:

    "#" wall    "S" start (exactly one)    "G" goal (one or more)    "." free

Observations are cell indices, row-major over the whole grid (walls included,
so index = row * n_cols + col). Actions: 0 up, 1 down, 2 left, 3 right.
Bumping into a wall or the edge leaves the agent where it is. Reaching a goal
gives reward 1 and ends the episode; every other step gives 0.
"""

from __future__ import annotations

from collections import deque
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np

from mbrl_helpers.core.validation import check_int

UP, DOWN, LEFT, RIGHT = 0, 1, 2, 3
ACTION_NAMES = ("up", "down", "left", "right")
# (d_row, d_col) per action, in action order.
ACTION_DELTAS = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]], dtype=np.int64)

LAYOUT_CHARS = {"#": "wall", "S": "start", "G": "goal", ".": "free"}

# Sutton & Barto, Figure 8.2: 6 x 9, start (2, 0), goal (0, 8), 7 wall cells.
DYNA_MAZE_LAYOUT: tuple[str, ...] = (
    ".......#G",
    "..#....#.",
    "S.#....#.",
    "..#......",
    ".....#...",
    ".........",
)


class MazeTables(NamedTuple):
    """The maze as a perfect tabular model, for planners and compiled agents.

    next_state: (n_states, 4) int64, the cell each action leads to.
    reward:     (n_states, 4) float64, reward of that transition.
    terminated: (n_states, 4) bool, True where the transition enters a goal.
    start:      the start cell index.
    """

    next_state: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    start: int


def parse_layout(layout: list[str] | tuple[str, ...]) -> tuple[np.ndarray, int, np.ndarray]:
    """Check an ASCII layout and return (walls, start, goals).

    walls: (n_rows, n_cols) bool; start: cell index; goals: sorted int64 cell indices.
    Raises ValueError saying what is wrong with a malformed layout.
    """
    if isinstance(layout, str) or not hasattr(layout, "__len__"):
        raise TypeError(
            f"layout must be a list of equal-length strings, got {type(layout).__name__}"
        )
    rows = list(layout)
    if not rows or not all(isinstance(r, str) for r in rows) or len(rows[0]) == 0:
        raise ValueError("layout must be a non-empty list of non-empty strings")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        lengths = [len(r) for r in rows]
        raise ValueError(f"layout rows are ragged: row lengths {lengths}; all must be equal")
    for i, row in enumerate(rows):
        for j, ch in enumerate(row):
            if ch not in LAYOUT_CHARS:
                raise ValueError(
                    f"layout has unknown character {ch!r} at row {i}, col {j}; "
                    f"allowed: '#' wall, 'S' start, 'G' goal, '.' free"
                )
    grid = np.array([list(r) for r in rows])
    n_starts = int((grid == "S").sum())
    if n_starts != 1:
        raise ValueError(f"layout must have exactly one start 'S', found {n_starts}")
    if not (grid == "G").any():
        raise ValueError("layout has no goal 'G'; at least one is needed")
    n_cols = grid.shape[1]
    start_row, start_col = np.argwhere(grid == "S")[0]
    goals = np.flatnonzero(grid == "G").astype(np.int64)
    return grid == "#", int(start_row * n_cols + start_col), goals


class GridMaze(gym.Env):
    """A deterministic grid maze from an ASCII layout (see the module docstring).

    Parameters
    ----------
    layout: list of equal-length strings of '#', 'S', 'G', '.'.
    render_mode: None, "ansi" (a string) or "rgb_array" ((H, W, 3) uint8).
    max_episode_steps: optional truncation limit per episode (None: no limit,
        as in the book).
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 8}
    CELL_PIXELS = 16

    def __init__(
        self,
        layout: list[str] | tuple[str, ...] = DYNA_MAZE_LAYOUT,
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be None, 'ansi' or 'rgb_array', got {render_mode!r}"
            )
        if max_episode_steps is not None:
            check_int("max_episode_steps", max_episode_steps, low=1)
        self.render_mode = render_mode
        self.max_episode_steps = max_episode_steps
        self._set_layout(layout)
        self.observation_space = gym.spaces.Discrete(self.n_states)
        self.action_space = gym.spaces.Discrete(4)
        self.agent = self.start
        self._episode_steps = 0

    # -- layout ---------------------------------------------------------------
    def _set_layout(self, layout: list[str] | tuple[str, ...]) -> None:
        """Parse and install a layout; subclasses call this to change the walls."""
        walls, start, goals = parse_layout(layout)
        if hasattr(self, "walls") and walls.shape != self.walls.shape:
            raise ValueError(
                f"a new layout must keep the grid size {self.walls.shape}, got {walls.shape}"
            )
        self.layout = tuple(layout)
        self.walls = walls
        self.start = start
        self.goals = goals
        self.n_rows, self.n_cols = walls.shape
        self.n_states = self.n_rows * self.n_cols
        self._is_goal = np.zeros(self.n_states, dtype=bool)
        self._is_goal[goals] = True
        if self.shortest_path_length() < 0:
            # An agent could only wander until a step cap; refuse the layout instead.
            raise ValueError(
                "layout must let the agent reach a goal G from the start S; in "
                f"{list(layout)} every G is walled off from S"
            )

    def to_cell(self, state: int) -> tuple[int, int]:
        """(row, col) of a cell index."""
        return divmod(int(state), self.n_cols)

    def to_state(self, row: int, col: int) -> int:
        """Cell index of (row, col)."""
        return int(row) * self.n_cols + int(col)

    def is_goal(self, state: int) -> bool:
        return bool(self._is_goal[state])

    def move(self, state: int, action: int) -> int:
        """The cell that `action` leads to from `state` (walls and edges block)."""
        row, col = self.to_cell(state)
        d_row, d_col = ACTION_DELTAS[action]
        new_row, new_col = row + d_row, col + d_col
        if not (0 <= new_row < self.n_rows and 0 <= new_col < self.n_cols):
            return int(state)
        if self.walls[new_row, new_col]:
            return int(state)
        return self.to_state(new_row, new_col)

    def tables(self) -> MazeTables:
        """The whole maze as arrays (a perfect model), for compiled agents and planners."""
        next_state = np.empty((self.n_states, 4), dtype=np.int64)
        for s in range(self.n_states):
            for a in range(4):
                next_state[s, a] = self.move(s, a)
        terminated = self._is_goal[next_state]
        reward = terminated.astype(np.float64)
        return MazeTables(next_state, reward, terminated, self.start)

    def open_states(self) -> np.ndarray:
        """Cell indices that are not walls, int64."""
        return np.flatnonzero(~self.walls.ravel()).astype(np.int64)

    def shortest_path_length(self, start: int | None = None) -> int:
        """Fewest steps from `start` (default S) to any goal; -1 if no goal is reachable."""
        origin = self.start if start is None else int(start)
        distance = {origin: 0}
        queue = deque([origin])
        while queue:
            s = queue.popleft()
            if self._is_goal[s]:
                return distance[s]
            for a in range(4):
                nxt = self.move(s, a)
                if nxt not in distance:
                    distance[nxt] = distance[s] + 1
                    queue.append(nxt)
        return -1

    # -- gymnasium API --------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        super().reset(seed=seed)
        self.agent = self.start
        self._episode_steps = 0
        return self.agent, {}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(action):
            raise ValueError(f"action must be 0 (up), 1 (down), 2 (left) or 3 (right), got {action!r}")
        self.agent = self.move(self.agent, int(action))
        self._episode_steps += 1
        terminated = bool(self._is_goal[self.agent])
        truncated = (
            self.max_episode_steps is not None
            and self._episode_steps >= self.max_episode_steps
            and not terminated
        )
        return self.agent, float(terminated), terminated, bool(truncated), {}

    def render(self) -> str | np.ndarray | None:
        if self.render_mode == "ansi":
            return self._render_ansi()
        if self.render_mode == "rgb_array":
            return self._render_rgb()
        return None

    def _render_ansi(self) -> str:
        lines = []
        for r in range(self.n_rows):
            chars = []
            for c in range(self.n_cols):
                s = self.to_state(r, c)
                if s == self.agent:
                    chars.append("A")
                elif self.walls[r, c]:
                    chars.append("#")
                elif self._is_goal[s]:
                    chars.append("G")
                elif s == self.start:
                    chars.append("S")
                else:
                    chars.append(".")
            lines.append("".join(chars))
        return "\n".join(lines) + "\n"

    def _render_rgb(self) -> np.ndarray:
        colours = np.full((self.n_rows, self.n_cols, 3), 245, dtype=np.uint8)
        colours[self.walls] = (60, 60, 60)
        goal_rows, goal_cols = np.divmod(self.goals, self.n_cols)
        colours[goal_rows, goal_cols] = (0, 158, 115)  # Okabe-Ito bluish green
        start_row, start_col = self.to_cell(self.start)
        colours[start_row, start_col] = (86, 180, 233)  # Okabe-Ito sky blue
        agent_row, agent_col = self.to_cell(self.agent)
        colours[agent_row, agent_col] = (213, 94, 0)  # Okabe-Ito vermillion
        px = self.CELL_PIXELS
        image = np.repeat(np.repeat(colours, px, axis=0), px, axis=1)
        image[::px, :, :] = 200  # grid lines
        image[:, ::px, :] = 200
        return image


def make_dyna_maze(**kwargs: Any) -> GridMaze:
    """The book's Dyna Maze (Figure 8.2)."""
    return GridMaze(DYNA_MAZE_LAYOUT, **kwargs)


def as_maze(maze: GridMaze | str | gym.Env) -> GridMaze:
    """Accept a GridMaze, a registered id such as "mbrl/DynaMaze-v0", or a wrapped GridMaze."""
    if isinstance(maze, str):
        maze = gym.make(maze)
    base = maze.unwrapped if isinstance(maze, gym.Env) else maze
    if not isinstance(base, GridMaze):
        raise TypeError(
            f"maze must be a GridMaze or the id of a registered GridMaze, got {type(maze).__name__}"
        )
    return base


# -- mazes that change (Sutton & Barto, section 8.3) ----------------------------

# Figure 8.4, the blocking maze: the short way round the wall (on the right) closes
# after 1000 steps and a longer one opens on the left.
BLOCKING_MAZE_LAYOUTS: tuple[tuple[str, ...], tuple[str, ...]] = (
    (
        "........G",
        ".........",
        ".........",
        "########.",
        ".........",
        "...S.....",
    ),
    (
        "........G",
        ".........",
        ".........",
        ".########",
        ".........",
        "...S.....",
    ),
)

# Figure 8.5, the shortcut maze: after 3000 steps a shorter way opens on the right
# and the long way on the left stays open.
SHORTCUT_MAZE_LAYOUTS: tuple[tuple[str, ...], tuple[str, ...]] = (
    (
        "........G",
        ".........",
        ".........",
        ".########",
        ".........",
        "...S.....",
    ),
    (
        "........G",
        ".........",
        ".........",
        ".#######.",
        ".........",
        "...S.....",
    ),
)


class ChangingMaze(GridMaze):
    """A GridMaze whose walls change once, after `switch_step` real steps.

    The step count runs over the agent's whole life: reset() (after reaching
    the goal) puts the agent back at S but neither restarts the count nor
    restores the first layout. reset(seed=...) starts a new life (a new
    experiment) and does both, as does reset(options={"restart_world": True}).
    Steps 1 .. switch_step use layouts[0], every later step layouts[1]. If the
    switch walls in the agent's cell, the agent is moved to S.

    info of every step holds "world_steps" (real steps so far) and "switched".
    """

    def __init__(
        self,
        layouts: tuple[list[str] | tuple[str, ...], list[str] | tuple[str, ...]],
        switch_step: int,
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
    ) -> None:
        if len(layouts) != 2:
            raise ValueError(f"layouts must hold two layouts (before, after), got {len(layouts)}")
        check_int("switch_step", switch_step, low=0)
        switch_step = int(switch_step)
        super().__init__(layouts[0], render_mode=render_mode, max_episode_steps=max_episode_steps)
        self.layouts = (tuple(layouts[0]), tuple(layouts[1]))
        self._set_layout(self.layouts[1])  # checks the second layout (same size, one S, a G)
        self._set_layout(self.layouts[0])
        self.switch_step = switch_step
        self.world_steps = 0
        if switch_step == 0:
            self._switch()

    @property
    def switched(self) -> bool:
        """True once the world has changed to layouts[1]."""
        return self.layout == self.layouts[1] and self.world_steps >= self.switch_step

    def _switch(self) -> None:
        self._set_layout(self.layouts[1])
        row, col = self.to_cell(self.agent)
        if self.walls[row, col]:
            self.agent = self.start

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        if seed is not None or (options and options.get("restart_world")):
            self.world_steps = 0
            self._set_layout(self.layouts[0])
            if self.switch_step == 0:
                self._switch()
        return super().reset(seed=seed, options=options)

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = super().step(action)
        self.world_steps += 1
        if self.world_steps == self.switch_step:
            self._switch()
            observation = self.agent
        info = {**info, "world_steps": self.world_steps, "switched": self.switched}
        return observation, reward, terminated, truncated, info


class ChangingMazeTables(NamedTuple):
    """A changing maze as tables, what maze_pair_tables returns.

    next_state, reward, terminated: (2, n_states, 4), the maze before [0] and after [1]
    the switch. walls_after: (n_states,) bool, walls of the second layout (an agent
    walled in at the switch is moved to S). start: the start state of both layouts.
    """

    next_state: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    walls_after: np.ndarray
    start: int


def maze_pair_tables(maze: ChangingMaze) -> ChangingMazeTables:
    """A changing maze's two layouts as stacked tables (see ChangingMazeTables)."""
    before, after = (GridMaze(layout).tables() for layout in maze.layouts)
    if before.start != after.start:
        raise ValueError("the two layouts of a changing maze must have the same start")
    walls_after = GridMaze(maze.layouts[1]).walls.ravel().copy()
    return ChangingMazeTables(
        np.stack([before.next_state, after.next_state]),
        np.stack([before.reward, after.reward]),
        np.stack([before.terminated, after.terminated]),
        walls_after,
        before.start,
    )


def make_blocking_maze(switch_step: int = 1000, **kwargs: Any) -> ChangingMaze:
    """The book's blocking maze (Figure 8.4): the short way (right) closes, a long one (left) opens."""
    return ChangingMaze(BLOCKING_MAZE_LAYOUTS, switch_step, **kwargs)


def make_shortcut_maze(switch_step: int = 3000, **kwargs: Any) -> ChangingMaze:
    """The book's shortcut maze (Figure 8.5): a shorter way opens on the right."""
    return ChangingMaze(SHORTCUT_MAZE_LAYOUTS, switch_step, **kwargs)


# -- mazes of growing resolution (Example 8.4) -----------------------------------

def scale_layout(layout: list[str] | tuple[str, ...], resolution: int) -> tuple[str, ...]:
    """Split every cell of a layout into resolution x resolution cells.

    Walls become resolution x resolution blocks of walls and a goal a block of
    goals; the start becomes the top-left cell of its block (one start), as in
    the reference code of the book's Example 8.4. resolution 1 returns the layout.
    """
    parse_layout(layout)
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 1:
        raise ValueError(f"resolution must be an integer >= 1, got {resolution!r}")
    rows = []
    for row in layout:
        wide = "".join(("." if ch == "S" else ch) * resolution for ch in row)
        rows.extend([wide] * resolution)
    start_row, start_col = next(
        (i, j) for i, row in enumerate(layout) for j, ch in enumerate(row) if ch == "S"
    )
    r, c = start_row * resolution, start_col * resolution
    rows[r] = rows[r][:c] + "S" + rows[r][c + 1 :]
    return tuple(rows)


def make_scaled_dyna_maze(resolution: int = 1, **kwargs: Any) -> GridMaze:
    """The Dyna Maze with each cell split into resolution x resolution cells (Example 8.4)."""
    return GridMaze(scale_layout(DYNA_MAZE_LAYOUT, resolution), **kwargs)


def register_envs() -> None:
    """Register the course's environments with gymnasium (idempotent).

    mbrl/DynaMaze-v0, mbrl/BlockingMaze-v0 (kwarg switch_step, default 1000),
    mbrl/ShortcutMaze-v0 (switch_step, default 3000), mbrl/ScaledDynaMaze-v0
    (kwarg resolution, default 1).
    """
    entry_points = {
        "mbrl/DynaMaze-v0": "mbrl_helpers.worlds.envs:make_dyna_maze",
        "mbrl/BlockingMaze-v0": "mbrl_helpers.worlds.envs:make_blocking_maze",
        "mbrl/ShortcutMaze-v0": "mbrl_helpers.worlds.envs:make_shortcut_maze",
        "mbrl/ScaledDynaMaze-v0": "mbrl_helpers.worlds.envs:make_scaled_dyna_maze",
    }
    for env_id, entry_point in entry_points.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point)
