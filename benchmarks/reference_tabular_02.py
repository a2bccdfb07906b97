"""Dyna-Q+ and prioritized sweeping written the obvious way: dicts, heapq, plain Python.

The yardstick for benchmarks/bench_tabular_02.py: same algorithms and settings as
mbrl_helpers.agents.dyna_q_plus and mbrl_helpers.agents.sweeping (book's boxes, random
tie-breaking), in the style of the book's reference code, with no arrays and no
compiler. Not used by the course itself.
"""

from __future__ import annotations

import heapq
import math
import random

from mbrl_helpers.worlds.envs import ChangingMaze, GridMaze


def _greedy(rng: random.Random, values: list[float]) -> int:
    best = max(values)
    return rng.choice([a for a in range(4) if values[a] == best])


def dyna_q_plus_plain(maze: ChangingMaze, steps: int, seed: int, *, plus: bool, kappa: float = 1e-3,
                      planning_steps: int = 10, alpha: float = 1.0, epsilon: float = 0.1,
                      gamma: float = 0.95) -> list[int]:
    """One Dyna-Q (plus=False) or Dyna-Q+ agent in a changing maze; cumulative reward per step."""
    rng = random.Random(seed)
    worlds = [GridMaze(layout) for layout in maze.layouts]
    q: dict[tuple[int, int], float] = {}
    model: dict[tuple[int, int], tuple[float, int, bool]] = {}
    last_tried: dict[tuple[int, int], int] = {}
    tried: dict[int, list[int]] = {}
    seen: list[int] = []

    def value(s: int, a: int) -> float:
        return q.get((s, a), 0.0)

    def update(s: int, a: int, r: float, s_next: int, done: bool) -> None:
        target = r if done else r + gamma * max(value(s_next, b) for b in range(4))
        q[(s, a)] = value(s, a) + alpha * (target - value(s, a))

    s, goals, cumulative = worlds[0].start, 0, []
    for t in range(steps):
        world = worlds[int(t >= maze.switch_step)]
        if t == maze.switch_step and world.walls.flat[s]:
            s = world.start
        a = rng.randrange(4) if rng.random() < epsilon else _greedy(rng, [value(s, b) for b in range(4)])
        s_next = world.move(s, a)
        done = world.is_goal(s_next)
        r = 1.0 if done else 0.0
        update(s, a, r, s_next, done)
        if s not in tried:
            tried[s] = list(range(4)) if plus else []
            seen.append(s)
            if plus:
                for b in range(4):
                    model[(s, b)] = (0.0, s, False)
        if a not in tried[s]:
            tried[s].append(a)
        model[(s, a)] = (r, s_next, done)
        last_tried[(s, a)] = t + 1
        for _ in range(planning_steps):
            ps = rng.choice(seen)
            pa = rng.choice(tried[ps])
            pr, ps_next, pdone = model[(ps, pa)]
            if plus:
                pr += kappa * math.sqrt(t + 1 - last_tried.get((ps, pa), 0))
            update(ps, pa, pr, ps_next, pdone)
        goals += int(done)
        cumulative.append(goals)
        s = world.start if done else s_next
    return cumulative


def updates_until_near_optimal_plain(maze: GridMaze, seed: int, *, sweeping: bool, planning_steps: int = 5,
                                     alpha: float = 0.5, epsilon: float = 0.1, gamma: float = 0.95,
                                     theta: float = 1e-4, factor: float = 1.2) -> int:
    """Example 8.4 for one agent: Q updates until the greedy path is within factor x shortest."""
    rng = random.Random(seed)
    limit = int(math.floor(factor * maze.shortest_path_length() + 1e-9))
    q: dict[tuple[int, int], float] = {}
    model: dict[tuple[int, int], tuple[float, int, bool]] = {}
    predecessors: dict[int, set[tuple[int, int]]] = {}
    tried: dict[int, list[int]] = {}
    seen: list[int] = []
    queue: list[tuple[float, int, tuple[int, int]]] = []  # (-priority, tie-breaker, pair), lazy deletion
    queued: dict[tuple[int, int], float] = {}
    counter = 0

    def value(s: int, a: int) -> float:
        return q.get((s, a), 0.0)

    def target(s: int, a: int) -> float:
        r, s_next, done = model[(s, a)]
        return r if done else r + gamma * max(value(s_next, b) for b in range(4))

    def push(pair: tuple[int, int], priority: float) -> None:
        nonlocal counter
        if priority > theta and priority > queued.get(pair, 0.0):
            queued[pair] = priority
            counter += 1
            heapq.heappush(queue, (-priority, counter, pair))

    def pop() -> tuple[int, int] | None:
        while queue:
            priority, _, pair = heapq.heappop(queue)
            if queued.get(pair) == -priority:
                del queued[pair]
                return pair
        return None

    def greedy_ok() -> bool:
        s = maze.start
        for _ in range(limit):
            a = max(range(4), key=lambda b: (value(s, b), -b))
            s_next = maze.move(s, a)
            if maze.is_goal(s_next):
                return True
            s = s_next
        return False

    updates = 0
    while True:
        s = maze.start
        while True:
            a = rng.randrange(4) if rng.random() < epsilon else _greedy(rng, [value(s, b) for b in range(4)])
            s_next = maze.move(s, a)
            done = maze.is_goal(s_next)
            model[(s, a)] = (1.0 if done else 0.0, s_next, done)
            if sweeping:
                predecessors.setdefault(s_next, set()).add((s, a))
                push((s, a), abs(target(s, a) - value(s, a)))
                for _ in range(planning_steps):
                    pair = pop()
                    if pair is None:
                        break
                    q[pair] = value(*pair) + alpha * (target(*pair) - value(*pair))
                    updates += 1
                    for before in predecessors.get(pair[0], ()):
                        push(before, abs(target(*before) - value(*before)))
            else:
                q[(s, a)] = value(s, a) + alpha * (target(s, a) - value(s, a))
                updates += 1
                if s not in tried:
                    tried[s] = []
                    seen.append(s)
                if a not in tried[s]:
                    tried[s].append(a)
                for _ in range(planning_steps):
                    ps = rng.choice(seen)
                    pa = rng.choice(tried[ps])
                    q[(ps, pa)] = value(ps, pa) + alpha * (target(ps, pa) - value(ps, pa))
                    updates += 1
            s = s_next
            if done:
                break
        if greedy_ok():
            return updates
