"""Dyna-Q written the obvious way: dicts and one update at a time, in plain Python.

The yardstick for benchmarks/bench_dyna_q.py: same algorithm and settings as
mbrl_helpers.tabular.run_dyna_q (book's box, random tie-breaking), but no
arrays and no compiler. Not used by the course itself.
"""

from __future__ import annotations

import random

from mbrl_helpers.envs import GridMaze


def dyna_q_plain(maze: GridMaze, planning_steps: int, episodes: int, seed: int,
                 alpha: float = 0.1, epsilon: float = 0.1, gamma: float = 0.95) -> list[int]:
    """One agent; returns the real steps of each episode."""
    rng = random.Random(seed)
    q: dict[tuple[int, int], float] = {}
    model: dict[tuple[int, int], tuple[float, int, bool]] = {}
    seen_pairs_by_state: dict[int, list[int]] = {}
    seen_states: list[int] = []

    def value(s: int, a: int) -> float:
        return q.get((s, a), 0.0)

    def greedy(s: int) -> int:
        values = [value(s, a) for a in range(4)]
        best = max(values)
        return rng.choice([a for a in range(4) if values[a] == best])

    def update(s: int, a: int, r: float, s_next: int, done: bool) -> None:
        target = r if done else r + gamma * max(value(s_next, b) for b in range(4))
        q[(s, a)] = value(s, a) + alpha * (target - value(s, a))

    steps = []
    for _ in range(episodes):
        s, t = maze.start, 0
        while True:
            a = rng.randrange(4) if rng.random() < epsilon else greedy(s)
            s_next = maze.move(s, a)
            done = maze.is_goal(s_next)
            r = 1.0 if done else 0.0
            update(s, a, r, s_next, done)
            if s not in seen_pairs_by_state:
                seen_pairs_by_state[s] = []
                seen_states.append(s)
            if a not in seen_pairs_by_state[s]:
                seen_pairs_by_state[s].append(a)
            model[(s, a)] = (r, s_next, done)
            for _ in range(planning_steps):
                ps = rng.choice(seen_states)
                pa = rng.choice(seen_pairs_by_state[ps])
                pr, ps_next, pdone = model[(ps, pa)]
                update(ps, pa, pr, ps_next, pdone)
            s, t = s_next, t + 1
            if done:
                break
        steps.append(t)
    return steps
