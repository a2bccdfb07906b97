"""Real transitions from any gymnasium environment, as plain arrays (notebook 03).

    collect_transitions(env_id, n_steps, policy=None, seed=0) -> Transitions
    Transitions             s, a, r, s', terminated as arrays; len(), subset(), split(), as_dict()
    collect_trajectories(env_id, n_episodes, horizon, policy=None, seed=0) -> Trajectories
                            real state sequences for open-loop rollout comparisons
    random_policy(env), cartpole_balancing_policy(noise)   policies: (state, rng) -> action

Shapes (N transitions, D state dimensions, A action dimensions):

    states, next_states   (N, D) float64, the environment's units (CartPole: m, m/s, rad, rad/s)
    actions               (N,) int64 for a Discrete action space, (N, A) float64 for a Box one
    rewards               (N,) float64
    terminated            (N,) bool, True where the env said the episode ended (not truncation)

`as_dict()` gives the keys of `dqn.ReplayBuffer` batches ("states", "actions", "rewards",
"next_states", "terminated"), so both sources feed the same model code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from mbrl_helpers.core.validation import check_int, check_unit_interval

# policy(state (D,) float64, rng) -> action (an int for Discrete, a (A,) array for Box)
Policy = Callable[[np.ndarray, np.random.Generator], object]
TRANSITION_KEYS = ("states", "actions", "rewards", "next_states", "terminated")


@dataclass(frozen=True)
class Transitions:
    """N real transitions as arrays (see the module docstring for shapes and units)."""

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_states: np.ndarray
    terminated: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.states)
        if self.states.ndim != 2 or self.next_states.shape != self.states.shape:
            raise ValueError(
                f"states and next_states must both have shape (N, D), got {self.states.shape} "
                f"and {self.next_states.shape}"
            )
        for name in ("actions", "rewards", "terminated"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} must have {n} rows like states, got {len(getattr(self, name))}")

    def __len__(self) -> int:
        return len(self.states)

    @classmethod
    def from_dict(cls, data: dict[str, np.ndarray]) -> Transitions:
        """From a dict with TRANSITION_KEYS (e.g. a dqn.ReplayBuffer batch); float64 copies."""
        missing = [k for k in TRANSITION_KEYS if k not in data]
        if missing:
            raise ValueError(f"transitions need the keys {TRANSITION_KEYS}, missing {missing}")
        actions = np.asarray(data["actions"])
        actions = actions.astype(np.int64) if np.issubdtype(actions.dtype, np.integer) else actions.astype(
            np.float64)
        return cls(np.asarray(data["states"], np.float64), actions, np.asarray(data["rewards"], np.float64),
                   np.asarray(data["next_states"], np.float64), np.asarray(data["terminated"], bool))

    def as_dict(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in TRANSITION_KEYS}

    def subset(self, index: np.ndarray) -> Transitions:
        """The transitions at `index` (an int array or a boolean mask of length N)."""
        return Transitions(*(getattr(self, k)[index] for k in TRANSITION_KEYS))

    def split(self, holdout: float, seed: int = 0) -> tuple[Transitions, Transitions]:
        """(train, held-out): a random `holdout` fraction (0 < holdout < 1) is held out."""
        check_unit_interval("holdout", holdout, low_open=True)
        if holdout >= 1:
            raise ValueError(f"holdout must be < 1 so some data is left to train on, got {holdout}")
        order = np.random.default_rng(seed).permutation(len(self))
        n_out = max(1, int(round(holdout * len(self))))
        return self.subset(np.sort(order[n_out:])), self.subset(np.sort(order[:n_out]))


def random_policy(env: gym.Env) -> Policy:
    """Uniformly random actions from env.action_space, drawn with the given generator."""
    space = env.action_space
    if isinstance(space, gym.spaces.Discrete):
        return lambda state, rng: int(rng.integers(space.n))
    if isinstance(space, gym.spaces.Box):
        return lambda state, rng: rng.uniform(space.low, space.high).astype(np.float64)
    raise TypeError(f"action space must be Discrete or Box, got {type(space).__name__}")


def make_env(env: str | gym.Env) -> gym.Env:
    """gym.make(env) for a gymnasium id; an env instance as it is; TypeError for anything else."""
    if isinstance(env, str):
        return gym.make(env)
    if isinstance(env, gym.Env):
        return env
    raise TypeError(f"env must be a gymnasium env id (str) or a gymnasium.Env, got {type(env).__name__}")


def collect_transitions(env: str | gym.Env, n_steps: int, policy: Policy | None = None,
                        seed: int = 0) -> Transitions:
    """Run `policy` (default: uniformly random) for n_steps real steps, resetting at episode ends.

    Episode k is reset with seed + k, and actions come from np.random.default_rng(seed),
    so the same seed gives the same transitions. Truncated episodes are reset too;
    their last transition is stored with terminated=False.
    """
    check_int("n_steps", n_steps, low=1)
    check_int("seed", seed, low=0)
    env = make_env(env)
    policy = policy or random_policy(env)
    rng = np.random.default_rng(seed)
    columns: dict[str, list] = {k: [] for k in TRANSITION_KEYS}
    episode = 0
    state, _ = env.reset(seed=seed)
    for _ in range(n_steps):
        action = policy(np.asarray(state, np.float64), rng)
        next_state, reward, terminated, truncated, _ = env.step(action)
        for key, value in zip(TRANSITION_KEYS, (state, action, reward, next_state, terminated), strict=True):
            columns[key].append(value)
        state = next_state
        if terminated or truncated:
            episode += 1
            state, _ = env.reset(seed=seed + episode)
    env.close()
    return Transitions.from_dict({k: np.array(v) for k, v in columns.items()})


def episode_returns(env: str | gym.Env, n_episodes: int, policy: Policy | None = None,
                    seed: int = 0) -> np.ndarray:
    """(n_episodes,) float64 undiscounted returns of whole real episodes under `policy` (default:
    uniformly random), e.g. the random-policy baseline of a learning curve.

    Episode i starts from env.reset(seed=seed + i); actions come from np.random.default_rng(seed).
    """
    check_int("n_episodes", n_episodes, low=1)
    check_int("seed", seed, low=0)
    env = make_env(env)
    policy = policy or random_policy(env)
    rng = np.random.default_rng(seed)
    returns = np.zeros(n_episodes)
    for i in range(n_episodes):
        state, _ = env.reset(seed=seed + i)
        done = False
        while not done:
            state, reward, terminated, truncated, _ = env.step(policy(np.asarray(state, np.float64), rng))
            returns[i] += float(reward)
            done = terminated or truncated
    env.close()
    return returns


@dataclass(frozen=True)
class Trajectories:
    """Real episodes, for comparing a model's open-loop rollout with the truth.

    states: (N, H + 1, D) float64, states[:, 0] the start states;
    actions: (N, H) int64 or (N, H, A) float64, the actions taken;
    alive: (N, H + 1) bool, False after the real episode terminated (those states
    repeat the terminal state and must not be compared).
    """

    states: np.ndarray
    actions: np.ndarray
    alive: np.ndarray


def collect_trajectories(env: str | gym.Env, n_episodes: int, horizon: int, policy: Policy | None = None,
                         seed: int = 0) -> Trajectories:
    """n_episodes real episodes of up to `horizon` steps; episode i starts from env.reset(seed=seed + i)."""
    check_int("n_episodes", n_episodes, low=1)
    check_int("horizon", horizon, low=1)
    env = make_env(env)
    policy = policy or random_policy(env)
    rng = np.random.default_rng(seed)
    states, actions, alive = [], [], []
    for i in range(n_episodes):
        state, _ = env.reset(seed=seed + i)
        ep_states, ep_actions, ep_alive = [np.asarray(state, np.float64)], [], [True]
        done = False
        for _ in range(horizon):
            action = policy(np.asarray(state, np.float64), rng)
            if not done:
                state, _, terminated, truncated, _ = env.step(action)
                done = bool(terminated or truncated)
                ep_alive.append(True)
            else:
                ep_alive.append(False)
            ep_states.append(np.asarray(state, np.float64))
            ep_actions.append(action)
        states.append(ep_states)
        actions.append(ep_actions)
        alive.append(ep_alive)
    env.close()
    actions_arr = np.array(actions)
    actions_arr = (actions_arr.astype(np.int64) if np.issubdtype(actions_arr.dtype, np.integer)
                   else actions_arr.astype(np.float64))
    return Trajectories(np.array(states, np.float64), actions_arr, np.array(alive, bool))


def cartpole_balancing_policy(noise: float = 0.2) -> Policy:
    """A crude CartPole controller (push towards where the pole falls), random with prob `noise`.

    Keeps episodes alive for tens of steps, so 50-step open-loop rollouts can be
    compared with the real environment (a random policy falls after ~20 steps).
    """
    check_unit_interval("noise", noise)

    def policy(state: np.ndarray, rng: np.random.Generator) -> int:
        if rng.random() < noise:
            return int(rng.integers(2))
        return int(state[2] + 0.5 * state[3] > 0)

    return policy
