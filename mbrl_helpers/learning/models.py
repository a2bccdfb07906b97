"""Neural dynamics models: an ensemble of MLPs s' = s + f(s, a), r = g(s, a) (notebook 03).

Public API (later lessons import only these):

    ModelConfig                      hyperparameters (sizes, training, deltas, normalisation, termination)
    train_ensemble(data, config, seed, env=...) -> Ensemble
                                     fit on real transitions (data.Transitions or a ReplayBuffer dict);
                                     a single model is an ensemble of size 1
    Ensemble.as_step_fn(member="mean") -> step(states, actions) -> (next_states, rewards, terminated)
                                     the course's shared model interface (see simulators.py)
    Ensemble.disagreement(states, actions) -> (B,) spread of the members' predicted next states
    Ensemble.predict(states, actions) -> Prediction with every member's outputs, [E, B, ...]
    Ensemble.history                 per-epoch train / held-out losses, for learning curves
    Ensemble.save(path), Ensemble.load(path)   torch.save / torch.load(weights_only=True)
    Normalizer, normalisation_stats  per-dimension standardisation fitted on training data
    one_step_error(step_fn, data)    held-out one-step error per state dimension, reward, termination
    open_loop_rollout(step_fn, start_states, actions) -> Rollout    the model fed its own predictions
    rollout_error(rollout, trajectories, scale)  k-step error against the real environment
    cartpole_terminated(next_states) CartPole-v1's known termination rule

What the network predicts, per member (inputs and targets standardised with the
training data's mean and standard deviation when config.normalize):

    input   [s, one_hot(a)] for Discrete actions, [s, a] for Box actions
    output  delta = s' - s (or s' itself when config.predict_delta is False), reward r,
            and a termination logit when config.termination == "learned"

Termination is part of the model: "learned" (a logistic output trained with binary
cross-entropy), "cartpole" (the known rule |x| > 2.4 m or |theta| > 12 degrees on the
predicted next state) or "never" (Pendulum-v1 never terminates).

Probabilistic members (config.probabilistic, as in PETS, Chua et al. 2018) output a
Gaussian mean and log-variance for delta and reward and are trained by the negative
log-likelihood; the step function uses the mean unless asked to sample.

The ensemble is one batched forward pass: layer weights have shape [E, in, out], a
batch [E, B, in] goes through torch.baddbmm, so all members train and predict together.
Members see different bootstrap resamples of the training data and start from
different random weights; one held-out split serves early stopping for all.
Deterministic: fixed seed (torch and numpy) and thread count give the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from mbrl_helpers.core.validation import check_int, check_number, check_unit_interval
from mbrl_helpers.learning.data import Trajectories, Transitions
from mbrl_helpers.worlds.simulators import StepFn

TERMINATIONS = ("learned", "cartpole", "never")
CARTPOLE_X_LIMIT = 2.4                        # m
CARTPOLE_THETA_LIMIT = 12 * 2 * math.pi / 360  # rad
STD_FLOOR = 1e-6   # a dimension with a smaller spread (e.g. CartPole's constant reward) is not scaled


# -- normalisation ------------------------------------------------------------------------------

def normalisation_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and standard deviation of x (N, D): two (D,) arrays.

    A column whose std is below STD_FLOOR (a constant) gets std 1, so dividing never blows up.
    """
    x = np.asarray(x, np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"x must be a non-empty (N, D) array, got shape {x.shape}")
    mean, std = x.mean(axis=0), x.std(axis=0)
    return mean, np.where(std < STD_FLOOR, 1.0, std)


@dataclass(frozen=True)
class Normalizer:
    """z = (x - mean) / std per dimension; mean, std: (D,) float64."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Normalizer:
        return cls(*normalisation_stats(x))

    @classmethod
    def identity(cls, dim: int) -> Normalizer:
        return cls(np.zeros(dim), np.ones(dim))

    def normalize(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, np.float64) - self.mean) / self.std

    def denormalize(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(z, np.float64) * self.std + self.mean


# -- configuration ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelConfig:
    """How the ensemble is built and trained.

    ensemble_size: E members; hidden, layers: MLP width and number of hidden layers (SiLU);
    predict_delta: target s' - s (True) or s' (False); normalize: standardise inputs and targets;
    probabilistic: Gaussian outputs trained by NLL; termination: one of TERMINATIONS;
    bootstrap: each member trains on its own resample (with replacement) of the training split;
    holdout: fraction held out for early stopping; max_epochs, patience (epochs without a
    held-out improvement before stopping), batch_size, lr (Adam), weight_decay.
    """

    ensemble_size: int = 1
    hidden: int = 64
    layers: int = 2
    predict_delta: bool = True
    normalize: bool = True
    probabilistic: bool = False
    termination: str = "learned"
    bootstrap: bool = True
    holdout: float = 0.1
    max_epochs: int = 100
    patience: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-5

    def __post_init__(self) -> None:
        for name in ("ensemble_size", "hidden", "layers", "max_epochs", "patience", "batch_size"):
            check_int(name, getattr(self, name), low=1)
        check_unit_interval("holdout", self.holdout, low_open=True)
        if self.holdout >= 1:
            raise ValueError(f"holdout must be < 1, got {self.holdout}")
        check_number("lr", self.lr, low=0)
        if self.lr == 0:
            raise ValueError("lr must be > 0 (Adam's step size; 0 never changes the weights), got 0")
        check_number("weight_decay", self.weight_decay, low=0)
        if self.termination not in TERMINATIONS:
            raise ValueError(f"termination must be one of {TERMINATIONS}, got {self.termination!r}")


class History(NamedTuple):
    """Per-epoch losses (epochs,) averaged over members; best_epoch per member (E,)."""

    train: np.ndarray
    holdout: np.ndarray
    best_epoch: np.ndarray


class Prediction(NamedTuple):
    """Every member's prediction, in the environment's units.

    next_states: [E, B, D]; rewards: [E, B]; p_terminated: [E, B] probability in [0, 1];
    next_state_std, reward_std: [E, B, D], [E, B] predicted std (zeros unless probabilistic).
    """

    next_states: np.ndarray
    rewards: np.ndarray
    p_terminated: np.ndarray
    next_state_std: np.ndarray
    reward_std: np.ndarray


def cartpole_terminated(next_states: np.ndarray) -> np.ndarray:
    """CartPole-v1's rule: (B,) bool, |x| > 2.4 m or |theta| > 12 degrees; next_states (B, 4)."""
    next_states = np.asarray(next_states)
    x, theta = next_states[..., 0], next_states[..., 2]
    return (np.abs(x) > CARTPOLE_X_LIMIT) | (np.abs(theta) > CARTPOLE_THETA_LIMIT)


# -- the batched network ------------------------------------------------------------------------

class EnsembleLinear(nn.Module):
    """E independent linear layers applied at once: [E, B, n_in] -> [E, B, n_out]."""

    def __init__(self, ensemble_size: int, n_in: int, n_out: int) -> None:
        super().__init__()
        bound = 1 / math.sqrt(n_in)  # nn.Linear's default initialisation, per member
        self.weight = nn.Parameter(torch.empty(ensemble_size, n_in, n_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(ensemble_size, 1, n_out).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


class EnsembleMLP(nn.Module):
    """E MLPs with SiLU activations in one module; input [E, B, n_in], output [E, B, n_out]."""

    def __init__(self, ensemble_size: int, n_in: int, n_out: int, hidden: int, layers: int) -> None:
        super().__init__()
        sizes = [n_in] + [hidden] * layers
        self.hidden = nn.ModuleList(EnsembleLinear(ensemble_size, a, b) for a, b in zip(sizes, sizes[1:],
                                                                                         strict=False))
        self.out = EnsembleLinear(ensemble_size, hidden, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.hidden:
            x = nn.functional.silu(layer(x))
        return self.out(x)


# -- the model ----------------------------------------------------------------------------------

@dataclass
class Ensemble:
    """A trained ensemble of dynamics models (make one with train_ensemble, or Ensemble.load).

    state_dim D; action_dim: number of actions (Discrete) or action vector length (Box);
    discrete: whether actions are one-hot encoded. Normalizers map inputs / targets.
    """

    config: ModelConfig
    state_dim: int
    action_dim: int
    discrete: bool
    net: EnsembleMLP
    input_norm: Normalizer
    target_norm: Normalizer
    history: History | None = None

    @property
    def size(self) -> int:
        return self.config.ensemble_size

    @property
    def n_targets(self) -> int:
        return self.state_dim + 1  # delta (or next state) and reward

    # inputs and outputs ------------------------------------------------------------------------
    def _check_inputs(self, states: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        states = np.asarray(states)
        wrong_shape = states.ndim != 2 or states.shape[1] != self.state_dim
        if wrong_shape or not np.issubdtype(states.dtype, np.floating):
            raise ValueError(f"states must be a float array of shape (B, {self.state_dim}), got "
                             f"{states.dtype} {states.shape}")
        actions = np.asarray(actions)
        batch = len(states)
        if self.discrete:
            if actions.shape != (batch,) or not np.issubdtype(actions.dtype, np.integer):
                raise TypeError(f"actions must be an int64 array of shape ({batch},), got {actions.dtype} "
                                f"{actions.shape}")
            if batch and (actions.min() < 0 or actions.max() >= self.action_dim):
                raise ValueError(f"actions must be in 0..{self.action_dim - 1}, got values "
                                 f"{actions.min()}..{actions.max()}")
        elif actions.shape != (batch, self.action_dim):
            raise ValueError(f"actions must have shape ({batch}, {self.action_dim}), got {actions.shape}")
        return states.astype(np.float64), actions

    def _raw_inputs(self, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """[s, one_hot(a)] or [s, a]: (B, D + action_dim) float64, before normalisation."""
        return model_inputs(states, actions, self.action_dim, self.discrete)

    def _forward(self, inputs: np.ndarray) -> torch.Tensor:
        """Network outputs [E, B, n_out] for raw inputs (B, n_in); no gradient."""
        x = torch.as_tensor(self.input_norm.normalize(inputs), dtype=torch.float32)
        with torch.no_grad():
            return self.net(x.expand(self.size, -1, -1))

    def predict(self, states: np.ndarray, actions: np.ndarray) -> Prediction:
        """Each member's next state, reward and termination probability (shapes in Prediction)."""
        states, actions = self._check_inputs(states, actions)
        out = self._forward(self._raw_inputs(states, actions)).double().numpy()
        k = self.n_targets
        mean = self.target_norm.denormalize(out[..., :k])
        if self.config.probabilistic:
            logvar = bounded_logvar(torch.as_tensor(out[..., k:2 * k])).numpy()
            std = np.exp(0.5 * logvar) * self.target_norm.std
        else:
            std = np.zeros_like(mean)
        next_states = mean[..., :-1] + states if self.config.predict_delta else mean[..., :-1]
        if self.config.termination == "learned":
            p_term = 1 / (1 + np.exp(-out[..., -1]))
        elif self.config.termination == "cartpole":
            p_term = cartpole_terminated(next_states).astype(np.float64)
        else:
            p_term = np.zeros(next_states.shape[:2])
        return Prediction(next_states, mean[..., -1], p_term, std[..., :-1], std[..., -1])

    def as_step_fn(self, member: str | int | None = "mean", *, sample: bool = False, seed: int = 0) -> StepFn:
        """The shared interface: step(states (B, D), actions) -> (next_states, rewards, terminated).

        member: "mean" (or None) averages the members (termination: mean probability > 0.5);
        "random" uses one member drawn afresh for each state at every call (trajectory sampling
        "TS1" of PETS, Chua et al. 2018: notebook 05), an int uses that member only.
        sample: with probabilistic members, draw from each member's Gaussian instead of its mean.
        next_states keep the dtype of states; rewards float64; terminated bool.
        """
        if member is None:
            member = "mean"
        if isinstance(member, str):
            if member not in ("mean", "random"):
                raise ValueError(f"member must be 'mean', 'random', None or an int, got {member!r}")
        else:
            check_int("member", member, low=0, high=self.size - 1)
        if sample and not self.config.probabilistic:
            raise ValueError("sample=True needs probabilistic members (ModelConfig(probabilistic=True))")
        rng = np.random.default_rng(seed)

        def step(states: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            dtype = np.asarray(states).dtype
            p = self.predict(states, actions)
            nxt, rew, term = p.next_states, p.rewards, p.p_terminated
            if sample:
                nxt = nxt + p.next_state_std * rng.standard_normal(nxt.shape)
                rew = rew + p.reward_std * rng.standard_normal(rew.shape)
            batch = np.arange(nxt.shape[1])
            if member == "mean":
                nxt, rew, term = nxt.mean(0), rew.mean(0), term.mean(0)
            elif member == "random":
                pick = rng.integers(self.size, size=nxt.shape[1])
                nxt, rew, term = nxt[pick, batch], rew[pick, batch], term[pick, batch]
            else:
                nxt, rew, term = nxt[member], rew[member], term[member]
            if self.config.termination == "cartpole":  # the rule applies to the state returned
                term = cartpole_terminated(nxt).astype(np.float64)
            return nxt.astype(dtype), rew.astype(np.float64), term > 0.5

        return step

    def disagreement(self, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """(B,) spread of the members' predicted next states: the std over members, divided by the
        training data's std of the target per dimension (unitless), averaged over dimensions."""
        p = self.predict(states, actions)
        return (p.next_states.std(axis=0) / self.target_norm.std[:-1]).mean(axis=1)

    # saving ------------------------------------------------------------------------------------
    def save(self, path: str) -> None:
        """Weights, normalisers and config in one file (torch.save; loads with weights_only=True)."""
        history = None if self.history is None else {
            name: torch.as_tensor(np.asarray(value)) for name, value in self.history._asdict().items()}
        torch.save({
            "config": asdict(self.config), "state_dim": self.state_dim, "action_dim": self.action_dim,
            "discrete": self.discrete, "net": self.net.state_dict(),
            "norms": {name: torch.as_tensor(np.stack([n.mean, n.std]))
                      for name, n in (("input", self.input_norm), ("target", self.target_norm))},
            "history": history,
        }, path)

    @classmethod
    def load(cls, path: str) -> Ensemble:
        """An Ensemble saved by save(); only tensors and plain values are unpickled."""
        try:
            saved = torch.load(path, weights_only=True)
        except FileNotFoundError:
            raise
        except Exception as error:  # noqa: BLE001 - torch raises many kinds for a non-model file
            raise ValueError(f"{path} is not an Ensemble saved by Ensemble.save "
                             f"({type(error).__name__}: {str(error)[:200]})") from None
        keys = {"config", "state_dim", "action_dim", "discrete", "net", "norms"}
        if not isinstance(saved, dict) or not keys <= set(saved):
            raise ValueError(f"{path} is not an Ensemble saved by Ensemble.save: it lacks "
                             f"{sorted(keys - set(saved)) if isinstance(saved, dict) else sorted(keys)}")
        config = ModelConfig(**saved["config"])
        net = build_network(config, saved["state_dim"], saved["action_dim"])
        net.load_state_dict(saved["net"])
        norms = {k: Normalizer(*v.numpy()) for k, v in saved["norms"].items()}
        history = saved.get("history")
        if history is not None:
            history = History(**{name: value.numpy() for name, value in history.items()})
        return cls(config, saved["state_dim"], saved["action_dim"], saved["discrete"], net,
                   norms["input"], norms["target"], history)


def model_inputs(states: np.ndarray, actions: np.ndarray, action_dim: int, discrete: bool) -> np.ndarray:
    """[s, one_hot(a)] for discrete actions (B,), [s, a] for continuous ones (B, A): (B, D + A)."""
    if discrete:
        encoded = np.eye(action_dim)[np.asarray(actions, np.int64)]
    else:
        encoded = np.asarray(actions, np.float64).reshape(len(states), action_dim)
    return np.concatenate([np.asarray(states, np.float64), encoded], axis=1)


def build_network(config: ModelConfig, state_dim: int, action_dim: int) -> EnsembleMLP:
    """The ensemble's MLP: outputs D + 1 means (x2 for log-variances if probabilistic), + 1 logit."""
    n_out = (state_dim + 1) * (2 if config.probabilistic else 1) + (config.termination == "learned")
    return EnsembleMLP(config.ensemble_size, state_dim + action_dim, n_out, config.hidden, config.layers)


LOGVAR_MIN, LOGVAR_MAX = -10.0, 2.0  # log-variance of a standardised target, softly bounded as in PETS


def bounded_logvar(raw: torch.Tensor) -> torch.Tensor:
    """Squash raw log-variances into (LOGVAR_MIN, LOGVAR_MAX) smoothly (PETS' soft clamp)."""
    logvar = LOGVAR_MAX - nn.functional.softplus(LOGVAR_MAX - raw)
    return LOGVAR_MIN + nn.functional.softplus(logvar - LOGVAR_MIN)


def gaussian_nll(mean: torch.Tensor, logvar: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-element Gaussian NLL without the constant: ((y - mu)^2 / var + log var) / 2."""
    return 0.5 * ((target - mean) ** 2 * torch.exp(-logvar) + logvar)


def member_losses(net_out: torch.Tensor, targets: torch.Tensor, terminated: torch.Tensor,
                  config: ModelConfig) -> torch.Tensor:
    """Training loss per member, [E]: MSE (or NLL) on standardised targets + BCE on termination."""
    k = targets.shape[-1]
    if config.probabilistic:
        loss = gaussian_nll(net_out[..., :k], bounded_logvar(net_out[..., k:2 * k]), targets).mean(dim=(1, 2))
    else:
        loss = ((net_out[..., :k] - targets) ** 2).mean(dim=(1, 2))
    if config.termination == "learned":
        loss = loss + nn.functional.binary_cross_entropy_with_logits(
            net_out[..., -1], terminated, reduction="none").mean(dim=1)
    return loss


# -- training -----------------------------------------------------------------------------------

def _action_spec(actions: np.ndarray, n_actions: int | None) -> tuple[int, bool]:
    if np.issubdtype(actions.dtype, np.integer):
        if actions.ndim != 1:
            raise ValueError(f"discrete actions must have shape (N,), got {actions.shape}")
        return (int(n_actions) if n_actions is not None else int(actions.max()) + 1), True
    return (actions.shape[1] if actions.ndim == 2 else 1), False


def _check_finite_data(data: Transitions) -> None:
    """Refuse NaN / inf in any column: one would make every loss NaN and the model untrained."""
    for column in ("states", "actions", "rewards", "next_states"):
        values = np.asarray(getattr(data, column))
        if np.issubdtype(values.dtype, np.number):
            bad = ~np.isfinite(values)
            if bad.any():
                rows = int(bad.reshape(len(values), -1).any(axis=1).sum())
                raise ValueError(f"data.{column} holds NaN or inf in {rows} of {len(values)} rows; "
                                 "training needs finite numbers: drop or fix those rows")


def train_ensemble(data: Transitions | dict[str, np.ndarray], config: ModelConfig | None = None,  # noqa: C901 - the training loop read top to bottom (validation, early stopping, logging) in one place
                   seed: int = 0, *, n_actions: int | None = None, progress: bool = True) -> Ensemble:
    """Fit an ensemble on real transitions; returns it with its loss history.

    data: data.Transitions or a dict of arrays with its keys (e.g. dqn.ReplayBuffer's).
    n_actions: number of discrete actions (default: largest action seen + 1).
    A config.holdout fraction is held out; training stops when no member's held-out
    loss improved for config.patience epochs, and each member keeps its best weights.
    """
    config = config or ModelConfig()
    check_int("seed", seed, low=0)
    if isinstance(data, dict):
        data = Transitions.from_dict(data)
    if not isinstance(data, Transitions):
        raise TypeError(f"data must be data.Transitions or a dict of arrays, got {type(data).__name__}")
    if len(data) < 10:
        raise ValueError(f"need at least 10 transitions to train (some are held out), got {len(data)}")
    _check_finite_data(data)
    if n_actions is not None:
        check_int("n_actions", n_actions, low=1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train, held = data.split(config.holdout, seed=seed)
    action_dim, discrete = _action_spec(data.actions, n_actions)
    if discrete and (data.actions.min() < 0 or data.actions.max() >= action_dim):
        raise ValueError(f"data.actions must be action indices in 0..{action_dim - 1} "
                         f"(n_actions = {action_dim}), got values {data.actions.min()}.."
                         f"{data.actions.max()}")
    state_dim = data.states.shape[1]

    def arrays(t: Transitions) -> tuple[np.ndarray, np.ndarray]:
        target_state = t.next_states - t.states if config.predict_delta else t.next_states
        return (model_inputs(t.states, t.actions, action_dim, discrete),
                np.concatenate([target_state, t.rewards[:, None]], axis=1))

    x_train, y_train = arrays(train)
    x_held, y_held = arrays(held)
    if config.normalize:
        input_norm = Normalizer.fit(x_train)
        if discrete:  # one-hot columns stay 0/1
            input_norm = Normalizer(np.r_[input_norm.mean[:state_dim], np.zeros(action_dim)],
                                    np.r_[input_norm.std[:state_dim], np.ones(action_dim)])
        target_norm = Normalizer.fit(y_train)
    else:
        input_norm, target_norm = Normalizer.identity(x_train.shape[1]), Normalizer.identity(y_train.shape[1])

    def tensors(x: np.ndarray, y: np.ndarray, t: Transitions) -> tuple[torch.Tensor, ...]:
        return (torch.as_tensor(input_norm.normalize(x), dtype=torch.float32),
                torch.as_tensor(target_norm.normalize(y), dtype=torch.float32),
                torch.as_tensor(t.terminated, dtype=torch.float32))

    xt, yt, tt = tensors(x_train, y_train, train)
    xh, yh, th = tensors(x_held, y_held, held)
    net = build_network(config, state_dim, action_dim)
    optimiser = torch.optim.Adam(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    n, e = len(xt), config.ensemble_size
    members = (rng.integers(n, size=(e, n)) if config.bootstrap else np.tile(np.arange(n), (e, 1)))
    best_loss = np.full(e, np.inf)
    best_epoch = np.zeros(e, np.int64)
    best_params = [p.detach().clone() for p in net.parameters()]
    train_curve, held_curve = [], []
    from tqdm.auto import tqdm

    bar = tqdm(range(config.max_epochs), desc="training", disable=not progress, leave=False)
    for epoch in bar:
        order = np.take_along_axis(members, rng.permuted(np.tile(np.arange(n), (e, 1)), axis=1), axis=1)
        losses = []
        for start in range(0, n, config.batch_size):
            index = torch.as_tensor(order[:, start:start + config.batch_size])
            loss = member_losses(net(xt[index]), yt[index], tt[index], config)
            optimiser.zero_grad()
            loss.sum().backward()
            optimiser.step()
            losses.append(loss.detach().numpy())
        with torch.no_grad():
            held_loss = member_losses(net(xh.expand(e, -1, -1)), yh.expand(e, -1, -1), th.expand(e, -1),
                                      config).numpy().astype(np.float64)
        train_curve.append(float(np.mean(losses)))
        held_curve.append(float(held_loss.mean()))
        improved = held_loss < best_loss
        best_loss[improved], best_epoch[improved] = held_loss[improved], epoch
        with torch.no_grad():
            for best, param in zip(best_params, net.parameters(), strict=True):
                best[improved] = param[improved]
        bar.set_postfix(held_out=f"{held_curve[-1]:.4f}")
        if epoch - best_epoch.max() >= config.patience:
            break
    if not np.isfinite(best_loss).all():
        members_failed = np.flatnonzero(~np.isfinite(best_loss)).tolist()
        raise ValueError(f"training failed: the held-out loss of member(s) {members_failed} was "
                         f"never a finite number (lr = {config.lr} may be too large), so they "
                         "have no trained weights to return")
    with torch.no_grad():
        for best, param in zip(best_params, net.parameters(), strict=True):
            param.copy_(best)
    history = History(np.array(train_curve), np.array(held_curve), best_epoch)
    return Ensemble(config, state_dim, action_dim, discrete, net, input_norm, target_norm, history)


# -- evaluation ---------------------------------------------------------------------------------

class OneStepError(NamedTuple):
    """One-step errors on transitions (usually held out).

    mse: (D,) mean squared error of the predicted next state per dimension (state units squared);
    normalized: (D,) that MSE divided by the variance of the true delta s' - s per dimension
    (0 is perfect; 1 is no better than predicting the mean change);
    reward_mse: float; termination_accuracy: fraction of transitions whose termination flag is right.
    """

    mse: np.ndarray
    normalized: np.ndarray
    reward_mse: float
    termination_accuracy: float


def one_step_error(step_fn: StepFn, data: Transitions) -> OneStepError:
    """Evaluate any step function on real transitions, all at once (one batch)."""
    states = data.states
    actions = data.actions
    nxt, rew, term = step_fn(states, actions)
    mse = ((np.asarray(nxt, np.float64) - data.next_states) ** 2).mean(axis=0)
    variance = np.maximum((data.next_states - data.states).var(axis=0), 1e-12)
    return OneStepError(mse, mse / variance, float(((rew - data.rewards) ** 2).mean()),
                        float((np.asarray(term) == data.terminated).mean()))


class Rollout(NamedTuple):
    """An open-loop model rollout of H steps from B start states.

    states: (B, H + 1, D), states[:, 0] the starts; rewards: (B, H);
    alive: (B, H + 1) bool, False after the model predicted termination (those
    states repeat the last state and their rewards are 0).
    """

    states: np.ndarray
    rewards: np.ndarray
    alive: np.ndarray


def open_loop_rollout(step_fn: StepFn, start_states: np.ndarray, actions: np.ndarray) -> Rollout:
    """Feed the model its own predictions for H steps, replaying the given actions.

    start_states (B, D); actions (B, H) int64 or (B, H, A) float. Step t applies
    actions[:, t] to the predicted state at t. Once the model predicts termination for
    a row, the row stops: its state is held and its later rewards are 0.
    """
    start_states = np.asarray(start_states, np.float64)
    actions = np.asarray(actions)
    if start_states.ndim != 2 or actions.ndim < 2 or actions.shape[0] != start_states.shape[0]:
        raise ValueError(f"start_states must be (B, D) and actions (B, H[, A]) with the same B, got "
                         f"{start_states.shape} and {actions.shape}")
    batch, horizon = actions.shape[:2]
    states = np.empty((batch, horizon + 1, start_states.shape[1]))
    rewards = np.zeros((batch, horizon))
    alive = np.ones((batch, horizon + 1), bool)
    states[:, 0] = start_states
    for t in range(horizon):
        nxt, rew, term = step_fn(states[:, t], actions[:, t])
        live = alive[:, t]
        states[:, t + 1] = np.where(live[:, None], nxt, states[:, t])
        rewards[:, t] = np.where(live, rew, 0.0)
        alive[:, t + 1] = live & ~np.asarray(term, bool)
    return Rollout(states, rewards, alive)


def rollout_error(rollout: Rollout, real: Trajectories, scale: np.ndarray) -> np.ndarray:
    """(H + 1,) k-step error: RMS over dimensions of (predicted - real) / scale, averaged over the
    rollouts whose real episode is still running at step k (NaN where none is)."""
    diff = (rollout.states - real.states) / np.asarray(scale, np.float64)
    per_step = np.sqrt((diff ** 2).mean(axis=2))
    alive = real.alive
    counts = alive.sum(axis=0)
    total = np.where(alive, per_step, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)
