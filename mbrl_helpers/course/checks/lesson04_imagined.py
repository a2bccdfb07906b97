"""Self-checks for notebook 04, learning from imagined experience: the DQN target and the branched rollout."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mbrl_helpers.course.checks.common import call, never_raises, report

# == notebook 04: learning from imagined experience (DQN target, branched rollout) =================
# The reference functions live in mbrl_helpers.agents.dqn and mbrl_helpers.agents.imagined.

def _dqn_target_reference(rewards: np.ndarray, next_q: np.ndarray, terminated: np.ndarray,
                          gamma: float) -> np.ndarray:
    import torch

    from mbrl_helpers.agents import dqn

    return dqn.td_targets(torch.as_tensor(rewards), torch.as_tensor(next_q), torch.as_tensor(terminated),
                          gamma).numpy()


def _dqn_target_wrong_versions(rewards, next_q, terminated, gamma) -> dict[str, np.ndarray]:
    """Common mistakes for rewards (B,), next_q (B, A), terminated (B,), each named by the hint it earns,
    and the (B,) targets it returns."""
    best = next_q.max(axis=1)
    not_done = 1.0 - terminated
    return {
        "Terminal transitions must not bootstrap: where the episode ended there is no next state, "
        "so the target is the reward alone.":
            rewards + gamma * best,
        "The terminal mask is the wrong way round: the future counts only where the episode did not end.":
            rewards + gamma * terminated * best,
        "The future value is not discounted: multiply it by gamma.":
            rewards + not_done * best,
        "That uses the index of the best next action (argmax) as if it were a value: use the best "
        "value itself.":
            rewards + gamma * not_done * next_q.argmax(axis=1),
        "That uses the value of one fixed next action: the target takes the best value over all "
        "next actions a'.":
            rewards + gamma * not_done * next_q[:, 0],
        "That reduces over the wrong axis: take the best value among each transition's actions, one "
        "value per transition.":
            rewards + gamma * not_done * next_q.max(axis=0)[: len(rewards)]
            if next_q.shape[1] >= len(rewards) else rewards * np.nan,
        "Use the best next action's value, not the average over actions.":
            rewards + gamma * not_done * next_q.mean(axis=1),
        "The reward is received now, so it is not discounted; only the future value is.":
            gamma * (rewards + not_done * best),
    }


@never_raises
def check_dqn_target(student_fn: Callable) -> bool:
    """Check fn(rewards (B,), next_q (B, A), terminated (B,) bool, gamma) -> (B,) DQN targets.

    Expected: y = r + gamma * (1 - terminated) * max_a' next_q[:, a'] (dqn.td_targets).
    """
    name = "dqn_target"
    rng = np.random.default_rng(4)
    # The first case tells every named mistake apart (one terminal and one non-terminal row).
    cases = [(np.array([1.0, 1.0]), np.array([[2.0, 6.0], [4.0, 5.0]]), np.array([True, False]), 0.9)]
    for _ in range(20):
        b, a = int(rng.integers(2, 7)), int(rng.integers(2, 4))
        cases.append((np.round(rng.normal(size=b), 2), np.round(rng.normal(size=(b, a)) * 3, 2),
                      rng.random(b) < 0.4, float(rng.choice([0.5, 0.9, 0.99]))))
    for rewards, next_q, terminated, gamma in cases:
        terminated[0] = True  # every case has a terminal and (b >= 2) usually a non-terminal row
        expected = _dqn_target_reference(rewards, next_q, terminated, gamma)
        got, error = call(student_fn, rewards.copy(), next_q.copy(), terminated.copy(), gamma)
        case = (f"Input: rewards={rewards.tolist()}, next_q={next_q.tolist()}, "
                f"terminated={terminated.tolist()}, gamma={gamma}.")
        if error:
            return report(False, name, f"{case}\n{error}")
        try:
            got_arr = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            return report(False, name, f"{case}\nReturn an array of {len(rewards)} targets; got {got!r}.")
        if got_arr.shape != expected.shape:
            return report(False, name, f"{case}\nExpected one target per transition, shape "
                           f"{expected.shape}; got shape {got_arr.shape}.")
        if not np.allclose(got_arr, expected, atol=1e-5):
            hint = f"Expected {np.round(expected, 4).tolist()}, got {np.round(got_arr, 4).tolist()}."
            for why, wrong in _dqn_target_wrong_versions(rewards, next_q, terminated, gamma).items():
                if np.allclose(got_arr, wrong, atol=1e-5):
                    hint += " " + why
                    break
            return report(False, name, f"{case}\n{hint}")
    return report(True, name)


def _rows(batch: dict) -> np.ndarray:
    """Transitions as sorted rows (order-free comparison)."""
    table = np.column_stack([np.asarray(batch["states"], float), np.asarray(batch["actions"], float),
                             np.asarray(batch["rewards"], float), np.asarray(batch["next_states"], float),
                             np.asarray(batch["terminated"], float)])
    return table[np.lexsort(table.T[::-1])] if len(table) else table


def _wrong_rollout(step_fn: Callable, policy: Callable, starts: np.ndarray, horizon: int, *,
                   stop: bool = True, restart: bool = False, keep_terminal: bool = True,
                   stop_all: bool = False) -> dict:
    """A branched rollout with one common mistake (the keywords), for the hints of check_branched_rollout.

    stop=False: every rollout makes `horizon` steps, even past a terminal one;
    restart=True: every step starts from the start states again (the rollout never advances);
    keep_terminal=False: the terminal transitions are left out;
    stop_all=True: all rollouts stop as soon as any one terminates.
    """
    parts, states = [], np.asarray(starts, np.float32)
    for _ in range(horizon):
        if len(states) == 0:
            break
        actions = np.asarray(policy(states), np.int64)
        next_states, rewards, terminated = step_fn(states, actions)
        next_states = np.asarray(next_states, np.float32)
        terminated = np.asarray(terminated, bool)
        kept = np.ones(len(states), bool) if keep_terminal else ~terminated
        parts.append((states[kept], actions[kept], np.asarray(rewards, np.float32)[kept], next_states[kept],
                      terminated[kept]))
        if stop_all and terminated.any():
            break
        states = (np.asarray(starts, np.float32) if restart
                  else next_states[~terminated] if stop else next_states)
    keys = ("states", "actions", "rewards", "next_states", "terminated")
    return {key: np.concatenate([p[i] for p in parts]) for i, key in enumerate(keys)}


def _branched_rollout_wrong_versions(step_fn: Callable, policy: Callable, starts: np.ndarray,
                                     horizon: int) -> dict[str, dict]:
    """Common mistakes, each named by the hint it earns, and the transitions it returns."""
    from mbrl_helpers.agents import imagined

    return {
        "The rollout went on after a terminal step: a rollout the model says has ended has no next "
        "state, so carry on only from the rollouts still running.":
            _wrong_rollout(step_fn, policy, starts, horizon, stop=False),
        "Every step started again from the start states, so no rollout ever got past its first "
        "step: each step continues from the previous step's next states.":
            _wrong_rollout(step_fn, policy, starts, horizon, restart=True),
        "The terminal transitions are missing: the step into a terminal state is a real piece of "
        "experience (it teaches that the episode ends); keep it, then stop that rollout.":
            _wrong_rollout(step_fn, policy, starts, horizon, keep_terminal=False),
        "All rollouts stopped when one of them terminated: only the rollout that ended stops, the "
        "others go on.":
            _wrong_rollout(step_fn, policy, starts, horizon, stop_all=True),
        f"That is one model step too many per rollout: make at most horizon = {horizon} steps.":
            imagined.branched_rollout(step_fn, policy, starts, horizon + 1),
        f"That is one model step too few per rollout: make up to horizon = {horizon} steps.":
            imagined.branched_rollout(step_fn, policy, starts, horizon - 1),
    }


@never_raises
def check_branched_rollout(student_fn: Callable) -> bool:
    """Check fn(step_fn, policy, start_states (M, D), horizon) -> dict of imagined transitions.

    Expected: the same transitions as imagined.branched_rollout (any order):
    up to `horizon` model steps from each start state, none after a terminal one.
    Tested with CartPole's true dynamics as the model and a fixed policy.
    """
    from mbrl_helpers.agents import imagined
    from mbrl_helpers.worlds.simulators import cartpole_step

    def model(states, actions):
        return cartpole_step(np.asarray(states, np.float64), np.asarray(actions, np.int64))

    def policy(states):  # push towards the side the pole leans to, except when moving fast
        states = np.asarray(states)
        return ((states[:, 2] > 0) ^ (np.abs(states[:, 1]) > 1.5)).astype(np.int64)

    name = "branched_rollout"
    rng = np.random.default_rng(8)
    for case_index in range(10):
        m, horizon = int(rng.integers(2, 6)), int(rng.integers(1, 8))
        starts = (rng.normal(size=(m, 4)) * [0.5, 0.5, 0.05, 0.5]).astype(np.float32)
        starts[0] = [0.0, 0.0, 0.2, 2.0]   # about to fall: the rollout must stop after 1 step
        if case_index == 0:
            horizon = 4
        expected = imagined.branched_rollout(model, policy, starts, horizon)
        got, error = call(student_fn, model, policy, starts.copy(), horizon)
        case = f"Input: {m} start states (the first about to fall: theta = 0.2 rad), horizon={horizon}."
        if error:
            return report(False, name, f"{case}\n{error}")
        try:
            got_rows = _rows(got)
        except (TypeError, KeyError, ValueError) as problem:
            return report(False, name, f"{case}\nReturn a dict with states, actions, rewards, "
                           f"next_states and terminated arrays ({type(problem).__name__}: {problem}).")
        want_rows = _rows(expected)
        if got_rows.shape == want_rows.shape and np.allclose(got_rows, want_rows, atol=1e-5):
            continue
        n_got, n_want = len(got_rows), len(want_rows)
        hint = f"Expected {n_want} transitions, got {n_got}."
        for why, wrong in _branched_rollout_wrong_versions(model, policy, starts, horizon).items():
            wrong_rows = _rows(wrong)
            if wrong_rows.shape == got_rows.shape and np.allclose(wrong_rows, got_rows, atol=1e-5):
                hint += " " + why
                break
        else:
            hint += (" Each step continues from the previous step's next states, actions come from the "
                     "policy, and every transition made is kept, terminal ones included.")
        return report(False, name, f"{case}\n{hint}")
    return report(True, name)
