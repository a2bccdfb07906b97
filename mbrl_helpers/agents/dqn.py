"""A compact DQN (Mnih et al. 2015) in the CleanRL spirit: one file, read top to bottom.

The model-free baseline of notebook 04 and the learner that `imagined` feeds
with model-generated transitions. The pieces, in the order the loop uses them:

    DQNConfig        every hyperparameter, in one frozen dataclass
    ReplayBuffer     a ring buffer of (s, a, r, s', terminated), numpy
    q_network        the MLP Q(s, .): (B, obs_dim) -> (B, n_actions)
    epsilon_at       the linear exploration schedule
    td_targets       y = r + gamma * (1 - terminated) * max_a' Q_target(s', a')
    DQNAgent         online + target network, Adam, Huber loss, greedy/epsilon action
    evaluate         mean return of the greedy policy over N real episodes
    train_dqn        the loop: act, store, (hook), update, sync target, evaluate

Conventions: states are float32 (B, obs_dim); actions int64 (B,); rewards
float32 (B,) (CartPole: 1 per step); `terminated` is True only where the
episode really ended (pole fell, cart left the track). A time-limit
truncation (CartPole-v1 stops at 500 steps) is NOT terminal: the target still
bootstraps from s', because the state itself is not an end.

"Solved" (used identically for every method of the course): the mean
undiscounted return of the greedy policy over `eval_episodes` real episodes,
measured every `eval_every` real steps, reaches `solved_return` (475 of 500).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from mbrl_helpers.core.validation import check_int, check_number, check_spaces, check_unit_interval


@dataclass(frozen=True)
class DQNConfig:
    """Every hyperparameter of the DQN loop (defaults tuned for CartPole-v1)."""

    hidden: int = 128                   # units in each of the two hidden layers
    lr: float = 5e-4                    # Adam step size
    gamma: float = 0.99                 # discount
    batch_size: int = 64                # transitions per gradient update
    buffer_size: int = 50_000           # real transitions kept (ring buffer)
    learning_starts: int = 1_000        # real steps of random play before the first update
    updates_per_step: int = 1           # gradient updates per real step (the replay ratio)
    target_update_every: int = 250      # gradient updates between hard copies to the target net
    epsilon_start: float = 1.0          # exploration schedule: linear from start ...
    epsilon_end: float = 0.02           # ... to end ...
    epsilon_decay_steps: int = 5_000    # ... over this many real steps
    max_grad_norm: float = 10.0         # gradient clipping
    max_steps: int = 40_000             # real environment steps of one run (the budget)
    eval_every: int = 1_000             # real steps between greedy evaluations
    eval_episodes: int = 5              # real episodes per evaluation
    solved_return: float = 475.0        # mean evaluation return that counts as solved
    stop_when_solved: bool = True       # end the run at the first solved evaluation

    def __post_init__(self) -> None:
        for name in ("hidden", "batch_size", "buffer_size", "target_update_every",
                     "epsilon_decay_steps", "max_steps", "eval_every", "eval_episodes"):
            check_int(name, getattr(self, name), low=1)
        check_int("learning_starts", self.learning_starts, low=0)
        check_int("updates_per_step", self.updates_per_step, low=0)
        check_number("lr", self.lr, low=0)
        check_unit_interval("gamma", self.gamma)
        check_unit_interval("epsilon_start", self.epsilon_start)
        check_unit_interval("epsilon_end", self.epsilon_end)
        check_number("max_grad_norm", self.max_grad_norm, low=0)
        check_number("solved_return", self.solved_return)
        for name in ("lr", "max_grad_norm"):  # 0 would leave the weights where they started
            if getattr(self, name) == 0:
                raise ValueError(f"{name} must be > 0 (0 never changes the weights), got 0")


# -- the replay buffer ------------------------------------------------------------

class ReplayBuffer:
    """A ring buffer of transitions; once full, the oldest is overwritten first.

    capacity: transitions kept; obs_dim: length of a state vector.
    Arrays: states, next_states (capacity, obs_dim) float32; actions (capacity,)
    int64; rewards (capacity,) float32; terminated (capacity,) bool.
    """

    def __init__(self, capacity: int, obs_dim: int) -> None:
        check_int("capacity", capacity, low=1)
        check_int("obs_dim", obs_dim, low=1)
        self.capacity, self.obs_dim = capacity, obs_dim
        self.states = np.zeros((capacity, obs_dim), np.float32)
        self.actions = np.zeros(capacity, np.int64)
        self.rewards = np.zeros(capacity, np.float32)
        self.next_states = np.zeros((capacity, obs_dim), np.float32)
        self.terminated = np.zeros(capacity, bool)
        self.position = 0   # where the next transition goes
        self.size = 0       # transitions stored, <= capacity

    def __len__(self) -> int:
        return self.size

    def add(self, state: np.ndarray, action: int, reward: float, next_state: np.ndarray,
            terminated: bool) -> None:
        """Store one transition (state, next_state: (obs_dim,))."""
        i = self.position
        self.states[i], self.actions[i], self.rewards[i] = state, action, reward
        self.next_states[i], self.terminated[i] = next_state, terminated
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def add_batch(self, states: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
                  next_states: np.ndarray, terminated: np.ndarray) -> None:
        """Store B transitions at once (states, next_states: (B, obs_dim); others (B,))."""
        n = len(actions)
        skip = max(0, n - self.capacity)   # only the newest `capacity` would survive anyway
        index = (self.position + np.arange(skip, n)) % self.capacity
        self.states[index], self.actions[index] = states[skip:], actions[skip:]
        self.rewards[index] = rewards[skip:]
        self.next_states[index], self.terminated[index] = next_states[skip:], terminated[skip:]
        self.position = int((self.position + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """batch_size transitions drawn uniformly with replacement from those stored.

        Returns a dict with keys states, actions, rewards, next_states, terminated.
        """
        check_int("batch_size", batch_size, low=1)
        if self.size == 0:
            raise ValueError("cannot sample from an empty ReplayBuffer; add transitions first")
        index = rng.integers(0, self.size, size=batch_size)
        return {"states": self.states[index], "actions": self.actions[index],
                "rewards": self.rewards[index], "next_states": self.next_states[index],
                "terminated": self.terminated[index]}


def concat_batches(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One batch from two (e.g. real and imagined transitions)."""
    return {key: np.concatenate([a[key], b[key]]) for key in a}


# -- the network, the schedule and the target ---------------------------------------

def q_network(obs_dim: int, n_actions: int, hidden: int = 128) -> nn.Sequential:
    """The MLP Q(s, .): (B, obs_dim) float32 -> (B, n_actions) action values."""
    return nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, n_actions))


def epsilon_at(step: int, config: DQNConfig) -> float:
    """Exploration rate at real step `step`: linear from epsilon_start to epsilon_end."""
    fraction = min(1.0, step / config.epsilon_decay_steps)
    return config.epsilon_start + fraction * (config.epsilon_end - config.epsilon_start)


def td_targets(rewards: torch.Tensor, next_q: torch.Tensor, terminated: torch.Tensor,
               gamma: float) -> torch.Tensor:
    """The DQN target y = r + gamma * (1 - terminated) * max_a' Q_target(s', a').

    rewards (B,); next_q (B, n_actions), the target network's values at s';
    terminated (B,) bool. Returns (B,). A terminal transition has no future:
    its target is r alone.
    """
    not_done = 1.0 - terminated.to(rewards.dtype)
    return rewards + gamma * not_done * next_q.max(dim=1).values


# -- the agent ------------------------------------------------------------------------

class DQNAgent:
    """Online and target Q-networks, Adam and the Huber loss; torch seeded by the caller."""

    def __init__(self, obs_dim: int, n_actions: int, config: DQNConfig) -> None:
        self.config, self.n_actions = config, n_actions
        self.q = q_network(obs_dim, n_actions, config.hidden)
        self.target = q_network(obs_dim, n_actions, config.hidden)
        self.target.load_state_dict(self.q.state_dict())
        self.optimizer = torch.optim.Adam(self.q.parameters(), lr=config.lr, foreach=True)
        self.updates = 0   # gradient updates made so far

    @torch.no_grad()
    def greedy(self, states: np.ndarray) -> np.ndarray:
        """argmax_a Q(s, a) for states (B, obs_dim); returns (B,) int64."""
        values = self.q(torch.as_tensor(states, dtype=torch.float32))
        return values.argmax(dim=1).numpy().astype(np.int64)

    def act(self, states: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
        """Epsilon-greedy actions (B,) for states (B, obs_dim)."""
        actions = self.greedy(states)
        explore = rng.random(len(actions)) < epsilon
        actions[explore] = rng.integers(0, self.n_actions, size=int(explore.sum()))
        return actions

    def update(self, batch: dict[str, np.ndarray]) -> float:
        """One gradient step on a batch (see ReplayBuffer.sample); returns the Huber loss."""
        states = torch.as_tensor(batch["states"])
        actions = torch.as_tensor(batch["actions"])
        with torch.no_grad():
            next_q = self.target(torch.as_tensor(batch["next_states"]))
            targets = td_targets(torch.as_tensor(batch["rewards"]), next_q,
                                 torch.as_tensor(batch["terminated"]), self.config.gamma)
        chosen = self.q(states).gather(1, actions[:, None]).squeeze(1)
        loss = nn.functional.smooth_l1_loss(chosen, targets)   # Huber, delta = 1
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.q.parameters(), self.config.max_grad_norm)
        self.optimizer.step()
        self.updates += 1
        if self.updates % self.config.target_update_every == 0:
            self.target.load_state_dict(self.q.state_dict())
        return float(loss.detach())


def evaluate(agent: DQNAgent, env_id: str = "CartPole-v1", episodes: int = 5, seed: int = 0) -> float:
    """Mean undiscounted return of the greedy policy over `episodes` real episodes.

    The episodes run side by side (one batched forward pass per step); episode
    i is reset with seed + i. Returns the mean return (CartPole: steps, <= 500).
    """
    check_int("episodes", episodes, low=1)
    envs = [gym.make(env_id) for _ in range(episodes)]
    states = np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(envs)])
    returns = np.zeros(episodes)
    running = np.ones(episodes, bool)
    while running.any():
        actions = agent.greedy(states)
        for i in np.flatnonzero(running):
            state, reward, terminated, truncated, _ = envs[i].step(int(actions[i]))
            states[i] = state
            returns[i] += reward
            running[i] = not (terminated or truncated)
    for env in envs:
        env.close()
    return float(returns.mean())


# -- the training loop -------------------------------------------------------------------

@dataclass
class RunResult:
    """One training run: its learning curve and its costs.

    eval_steps (E,) real steps at each evaluation; eval_returns (E,) mean greedy
    return there; steps_to_solve: first evaluation step with return >=
    solved_return, or None; updates: gradient updates in total; wall_time in s.
    """

    label: str
    seed: int
    eval_steps: np.ndarray
    eval_returns: np.ndarray
    steps_to_solve: int | None
    real_steps: int
    updates: int
    wall_time: float
    extra: dict = field(default_factory=dict)

    @property
    def updates_per_real_step(self) -> float:
        return self.updates / max(1, self.real_steps)


# A hook called after each real step: hook(step, agent, real_buffer, rng). It may
# fill an imagined buffer (see mbrl_helpers.agents.imagined); plain DQN passes none.
StepHook = Callable[[int, DQNAgent, ReplayBuffer, np.random.Generator], None]


def sample_training_batch(real: ReplayBuffer, imagined: ReplayBuffer | None, batch_size: int,
                          real_fraction: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A batch of real transitions, or a mix: round(real_fraction * batch_size) real, the rest imagined.

    With no (or an empty) imagined buffer every transition is real, drawn exactly as plain DQN draws it.
    """
    if imagined is None or len(imagined) == 0:
        return real.sample(batch_size, rng)
    n_real = int(round(real_fraction * batch_size))
    if n_real == 0:
        return imagined.sample(batch_size, rng)
    if n_real == batch_size:
        return real.sample(batch_size, rng)
    return concat_batches(real.sample(n_real, rng), imagined.sample(batch_size - n_real, rng))


def train_dqn(
    config: DQNConfig = DQNConfig(),
    seed: int = 0,
    *,
    env_id: str = "CartPole-v1",
    label: str = "DQN",
    hook: StepHook | None = None,
    imagined: ReplayBuffer | None = None,
    real_fraction: float = 1.0,
    agent: DQNAgent | None = None,
) -> RunResult:
    """Train DQN on env_id for config.max_steps real steps (or until solved).

    Each real step: act epsilon-greedily, store the transition, call `hook`
    (model-based agents add imagined transitions there), then make
    config.updates_per_step gradient updates on batches from the real buffer,
    or mixed with `imagined` (real_fraction of each batch real). Evaluates the
    greedy policy every config.eval_every real steps. Deterministic given seed.
    """
    check_int("seed", seed, low=0)
    check_unit_interval("real_fraction", real_fraction)
    if config.updates_per_step > 0 and config.learning_starts >= config.max_steps:
        raise ValueError(
            f"config.learning_starts ({config.learning_starts}) must be < config.max_steps "
            f"({config.max_steps}): updates start after learning_starts real steps, so this run "
            "would make no gradient update"
        )
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    env = gym.make(env_id)
    check_spaces(env, f"env_id={env_id!r}", "DQN")
    obs_dim = int(np.prod(env.observation_space.shape))
    agent = agent or DQNAgent(obs_dim, int(env.action_space.n), config)
    buffer = ReplayBuffer(config.buffer_size, obs_dim)
    state, _ = env.reset(seed=seed)
    eval_steps, eval_returns, solved_at = [], [], None
    start = time.perf_counter()
    step = 0
    for step in range(1, config.max_steps + 1):
        epsilon = 1.0 if step <= config.learning_starts else epsilon_at(step, config)
        action = int(agent.act(state[None], epsilon, rng)[0])
        next_state, reward, terminated, truncated, _ = env.step(action)
        buffer.add(state, action, reward, next_state, terminated)
        state = next_state
        if terminated or truncated:
            state, _ = env.reset()
        if hook is not None:
            hook(step, agent, buffer, rng)
        if step > config.learning_starts:
            for _ in range(config.updates_per_step):
                agent.update(sample_training_batch(buffer, imagined, config.batch_size, real_fraction, rng))
        if step % config.eval_every == 0:
            eval_steps.append(step)
            eval_seed = 10_000 * (seed + 1) + step   # fresh episodes, the same for every method
            eval_returns.append(evaluate(agent, env_id, config.eval_episodes, seed=eval_seed))
            if solved_at is None and eval_returns[-1] >= config.solved_return:
                solved_at = step
                if config.stop_when_solved:
                    break
    env.close()
    return RunResult(label, seed, np.array(eval_steps), np.array(eval_returns), solved_at, step,
                     agent.updates, time.perf_counter() - start)
