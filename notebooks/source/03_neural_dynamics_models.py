# ---
# jupyter:
#   jupytext:
#     comment_magics: false
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version,-kernelspec
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
# ---

# %% [markdown]
# # Neural dynamics models, and how far you can trust them
#
# *Notebook 03 of **Model-based reinforcement learning, hands-on**.*
#
# Tabular Dyna-Q (notebook 01) could store every transition it saw. CartPole's state is four real
# numbers, so no table will do: the model has to **generalise**. This notebook trains neural
# networks $s' = s + f_\theta(s, a)$ and $r = g_\theta(s, a)$ on a few thousand real CartPole
# transitions with torch, measures what makes them good, and, just as important, where they lie:
# far from their data, and when fed their own predictions for many steps.

# %% [markdown] tags=["launch-links"]
# [![Open in Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mbrl-course/mbrl-hands-on/main?labpath=notebooks%2F03_neural_dynamics_models.ipynb) [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mbrl-course/mbrl-hands-on/blob/main/notebooks/03_neural_dynamics_models.ipynb)
#
# Run it in the browser with one of the buttons above, or on your machine with `python3 course.py lab` (see the README).

# %% tags=["colab-install"]
# On Google Colab, install what the notebooks need (pinned as in pyproject.toml; torch as its CPU
# build) and the course package; anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    %pip install -q --extra-index-url https://download.pytorch.org/whl/cpu "numpy>=1.26,<2.5" "numba>=0.60" "gymnasium>=1.0,<2" "matplotlib>=3.8" "ipywidgets>=8.1" "tqdm>=4.66" "torch==2.13.0"
    %pip install -q --no-deps "mbrl-helpers @ git+https://github.com/mbrl-course/mbrl-hands-on@main"

# %% [markdown]
# **In this notebook**
#
# *Objectives.* After this notebook you can
#
# 1. collect real transitions from a gymnasium environment and fit a dynamics model to them;
# 2. explain why a model should predict the *change* of state on *normalised* inputs and targets,
#    and show it with an ablation;
# 3. write an open-loop rollout (Exercise 2) and measure how the model's error grows with depth;
# 4. use an ensemble's disagreement as a warning that the model is outside its data;
# 5. use one model interface, `step(states, actions) -> (next_states, rewards, terminated)`, for
#    discrete (CartPole) and continuous (Pendulum) actions, as the planners of later lessons do.
#
# *What it assumes.* Notebook 01 (what a model of the environment is: $s, a \mapsto s', r$; episodes
# that terminate); numpy arrays and their shapes; what a small neural network is and that it is
# trained by gradient descent on a loss (the torch code is in the package, shown, not to be
# written). No earlier deep-learning notebook is needed.
#
# *Time.* About an hour to work through (reading, two exercises, the sliders); the cells run in
# under a minute on a laptop processor (40 s measured on 2 cores, 65 s while they were shared with
# other work), most of it training the networks.

# %%
import inspect
import time

import matplotlib.pyplot as plt
import numpy as np

import mbrl_helpers  # before torch: it fixes torch's CPU kernels, so every CPU gets the stored numbers
from mbrl_helpers.course import checks, plots, widgets
from mbrl_helpers.course.widgets import CARTPOLE_LABELS
from mbrl_helpers.learning import data, models

SEED = 0  # every experiment takes a seed: same seed, same numbers
mbrl_helpers.core.reproducibility.seed_torch(SEED)  # torch seeded, on one thread: the same sums on every run

DIM_NAMES = ("x", "x_dot", "theta", "theta_dot")

# %% [markdown]
# ## 1. Real transitions
#
# CartPole-v1's state is $s = (x, \dot x, \theta, \dot\theta)$: cart position (m), cart velocity
# (m/s), pole angle (rad) and angular velocity (rad/s); the two actions push the cart left or right.
# Every step gives reward $+1$; the episode **terminates** when $|x| > 2.4$ m or
# $|\theta| > 12°$. We play uniformly random actions for 5000 steps, resetting whenever an episode
# ends, and keep each transition $(s, a, r, s', \text{terminated})$ as rows of arrays. A random
# policy drops the pole after about 20 steps, so the data covers only states near the upright start:
# remember this when we ask the model about other states.

# %%
print(inspect.getsource(data.collect_transitions))

# %%
train_data = data.collect_transitions("CartPole-v1", 5000, seed=SEED)
test_data = data.collect_transitions("CartPole-v1", 1000, seed=1000)  # other episodes, for evaluation only
print(f"{len(train_data)} training transitions, {len(test_data)} test transitions")
print("fraction that terminate:", round(float(train_data.terminated.mean()), 3))
print("largest |state| seen per dimension:", dict(zip(DIM_NAMES, np.round(np.abs(train_data.states).max(0), 2).tolist(), strict=True)))

# %%
assert 0.02 < train_data.terminated.mean() < 0.08   # rare: about one step in 20
assert np.abs(train_data.states[:, 0]).max() < 1.0  # the random cart never gets near the 2.4 m edge


# %% [markdown]
# ## 2. The model: predict the change, on normalised numbers
#
# A dynamics model maps a state and an action to the next state, the reward, and whether the episode
# ended. Over one CartPole step (0.02 s) the state barely changes, so instead of $s'$ the network
# predicts the **change** $\Delta = s' - s$, and $s' = s + \Delta$:
#
# $$\hat s' = s + f_\theta(s, a), \qquad \hat r = g_\theta(s, a), \qquad
# \hat p_{\text{term}} = \sigma\big(h_\theta(s, a)\big).$$
#
# Inputs and targets live on very different scales ($\Delta x$ is about 0.02 m, $\Delta\dot\theta$
# about 0.3 rad/s), so every input and target dimension is **standardised** with the mean $\mu$ and
# standard deviation $\sigma$ of the *training* data, $z = (x - \mu)/\sigma$, and the network is
# trained by mean squared error (MSE) on those standardised targets:
#
# $$\mathcal L(\theta) = \frac{1}{N}\sum_{i=1}^N \Big\| \tfrac{\Delta_i - \mu_\Delta}{\sigma_\Delta}
# - \tilde f_\theta(\tilde s_i, a_i) \Big\|^2 + \big(\text{same for } r\big)
# + \text{BCE}\big(h_\theta(s_i, a_i), \text{terminated}_i\big).$$
#
# The discrete action enters one-hot encoded ($a = 1 \mapsto (0, 1)$); a continuous action enters
# as it is. Termination is part of the model: here it is **learned** (a logistic output trained by
# binary cross-entropy, BCE); for CartPole the rule is also known (`termination="cartpole"`), and
# section 5 compares the two.

# %% [markdown]
# ### Exercise 1: the normalisation statistics
#
# Complete `normalisation_stats(x)`: for an array `x` of shape (N, D) return the mean and standard
# deviation **of each column** (each is a (D,) array). One trap: a column that never varies (CartPole's
# reward is always 1) has standard deviation 0, and dividing by it gives `inf`; give such a column
# (std below `models.STD_FLOOR`) a standard deviation of 1, so it is left unscaled.

# %%
def normalisation_stats(x):
    ### BEGIN SOLUTION
    ### HINT: one mean and one standard deviation per column, so reduce over the samples; then give the columns whose spread is (almost) zero a spread of 1.
    mean, std = x.mean(axis=0), x.std(axis=0)
    return mean, np.where(std < models.STD_FLOOR, 1.0, std)
    ### END SOLUTION


exercise_1_passed = checks.check_normalisation_stats(normalisation_stats)

# %% [markdown]
# The package's version, used from here on (the rest of the notebook does not depend on your answer):

# %%
print(inspect.getsource(models.normalisation_stats))

# %% [markdown]
# The ensemble network (section 6 uses five members; a single model is an ensemble of one) keeps
# every member's weights in one tensor of shape $[E, \text{in}, \text{out}]$, so all members run in
# **one batched matrix product** (`torch.baddbmm`) on inputs of shape $[E, B, \text{in}]$:

# %%
print(inspect.getsource(models.EnsembleLinear))

# %% [markdown]
# Training holds out 10% of the data, trains with Adam on mini-batches, and stops when the held-out
# loss has not improved for `patience` epochs, keeping the best weights. To keep this notebook fast we
# also cap training at 40 epochs; here the cap ends it first, as the held-out loss is still creeping
# down (the benchmark trains up to 100 epochs). We train one model and plot its learning curves.

# %%
CONFIG = models.ModelConfig(hidden=64, layers=2, batch_size=256, max_epochs=40, patience=10)
model = models.train_ensemble(train_data, CONFIG, seed=SEED)
print(f"{len(model.history.train)} epochs, best held-out loss at epoch {int(model.history.best_epoch[0]) + 1}")

# %%
assert len(model.history.train) == CONFIG.max_epochs == int(model.history.best_epoch[0]) + 1  # the cap ended it

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
epochs = np.arange(1, len(model.history.train) + 1)
ax.plot(epochs, model.history.train, label="training loss", **plots.style(0), markevery=4)
ax.plot(epochs, model.history.holdout, label="held-out loss", **plots.style(1), markevery=4)
ax.set_yscale("log")
ax.set_xlabel("epoch (one pass over the training data)")
ax.set_ylabel("loss (standardised MSE + BCE, no unit)")
ax.set_title("Learning curves of the CartPole dynamics model")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# Both losses fall more than twentyfold and the held-out loss stays within 50% of the training loss: with 4500 transitions and a small network, the model is not over-fitting.

# %%
assert model.history.holdout[-1] < model.history.holdout[0] / 20 and model.history.train[-1] < model.history.train[0] / 20
assert model.history.holdout[-1] < 1.5 * model.history.train[-1]

# %% [markdown]
# How good are the predictions? On the 1000 test transitions (episodes the model never saw) we plot
# the predicted next state against the true one per dimension (top), and the predicted change
# against the true change (bottom). The top row looks perfect for *any* model that predicts
# $s' \approx s$; the bottom row is the honest view.

# %%
step = model.as_step_fn()
predicted_next, predicted_reward, predicted_terminated = step(test_data.states, test_data.actions)
fig, axes = plt.subplots(2, 4, figsize=(12, 5.5))
for d in range(4):
    true_delta = test_data.next_states[:, d] - test_data.states[:, d]
    pred_delta = predicted_next[:, d] - test_data.states[:, d]
    for row, (truth, guess, what) in enumerate([(test_data.next_states[:, d], predicted_next[:, d], "next"),
                                                (true_delta, pred_delta, "change of")]):
        ax = axes[row, d]
        ax.plot(truth, guess, linestyle="none", marker=plots.MARKERS[row], markersize=2,
                color=plots.COLOURS[2 * row + 2], alpha=0.5, label="test transitions")
        lims = [truth.min(), truth.max()]
        ax.plot(lims, lims, color=plots.COLOURS[0], linestyle="--", linewidth=1, label="perfect")
        unit = CARTPOLE_LABELS[d].split("(")[-1].rstrip(")")
        ax.set_xlabel(f"true {what} {DIM_NAMES[d]} ({unit})")
        ax.set_ylabel(f"predicted ({unit})")
axes[0, 0].legend(fontsize=8)
fig.suptitle("One-step predictions on held-out CartPole transitions: next state (top), change (bottom)")
fig.tight_layout()
plt.show()

# %% [markdown]
# Every point lies on the diagonal, also for the change of state, which is a much harder target than the next state itself.

# %% [markdown]
# To put a number on it, the **normalised mean squared error** (NMSE) divides the mean squared
# error of each dimension by the variance of the true change in that dimension:
# $\text{NMSE}_d = \frac{\text{mean}(\hat s'_d - s'_d)^2}{\text{Var}(s'_d - s_d)}$. 0 is perfect,
# 1 is no better than always predicting the average change. We ask for less than 0.01 in every
# dimension (an error below 1% of the change's variance), and get it:

# %%
error = models.one_step_error(step, test_data)
print("normalised one-step error per dimension:", dict(zip(DIM_NAMES, [float(f"{v:.3g}") for v in error.normalized], strict=True)))

# %%
assert error.normalized.max() < 0.01

# %% [markdown]
# ## 3. Ablation: deltas and normalisation, measured
#
# Is predicting the change, on normalised numbers, worth it? We train the same network four ways,
# with the same data, seed and epochs, and compare the normalised one-step error (mean over the four
# dimensions) on the test transitions.

# %%
ablation = {}
for predict_delta in (True, False):
    for normalize in (True, False):
        name = f"{'change' if predict_delta else 'next state'}, {'normalised' if normalize else 'raw'}"
        config = models.ModelConfig(**{**CONFIG.__dict__, "predict_delta": predict_delta, "normalize": normalize})
        trained = model if (predict_delta and normalize) else models.train_ensemble(train_data, config, seed=SEED)
        ablation[name] = models.one_step_error(trained.as_step_fn(), test_data).normalized
for name, nmse in ablation.items():
    print(f"{name:24s} mean NMSE {nmse.mean():.3g}   worst dimension {DIM_NAMES[int(nmse.argmax())]}: {nmse.max():.3g}")

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
names = list(ablation)
ax.barh(names, [ablation[n].mean() for n in names], color=[plots.COLOURS[i] for i in (2, 1, 3, 4)],
        hatch=None, edgecolor="black")
for bar, pattern in zip(ax.patches, ("", "//", "..", "xx"), strict=True):
    bar.set_hatch(pattern)
ax.set_xscale("log")
ax.set_xlabel("normalised one-step error, mean over dimensions (log scale, no unit)")
ax.set_title("What the model predicts, and on what scale: held-out error")
ax.invert_yaxis()
fig.tight_layout()
plt.show()

# %% [markdown]
# Predicting the change on normalised numbers is more than ten times more accurate than any other choice; dropping both is worse by three orders of magnitude.

# %%
best = ablation["change, normalised"].mean()
assert all(best * 10 < nmse.mean() for name, nmse in ablation.items() if name != "change, normalised")
assert all(DIM_NAMES[int(ablation[name].argmax())] in ("x", "theta") for name in ("change, raw", "next state, raw"))
assert ablation["next state, raw"].mean() > 1000 * best   # three orders of magnitude


# %% [markdown]
# Why? Predicting $s'$ makes the network relearn the identity $s' \approx s$ and leaves the small
# change as a tiny residual of a large output. Without normalisation, the squared error is dominated
# by the dimensions with the largest numbers ($\dot\theta$), and the small ones ($x$, $\theta$) are
# fitted poorly: the worst dimension above is $x$ or $\theta$ in both raw variants.

# %% [markdown]
# ## 4. Compounding error: feeding the model its own predictions
#
# A planner does not ask the model one step: it asks for $k$ steps, feeding each prediction back in,
# **open-loop**: $\hat s_{t+1} = \hat s_t + f_\theta(\hat s_t, a_t)$, $\hat s_0 = s_0$. Each step's
# small error becomes the next step's input error, so errors can compound: how fast, we measure
# rather than guess. (Closed-loop, one-step prediction, as in section 2, would start every step
# from the real state instead.) To measure this we need real
# trajectories of 50 steps, longer than random play survives, so we run a crude balancing controller
# (push towards where the pole falls, random 20% of the time) from 20 start states, then replay
# exactly the same actions in the model.

# %% [markdown]
# ### Exercise 2: the open-loop rollout
#
# This is the loop every planner of the later lessons runs inside a model. Complete
# `open_loop_rollout(step_fn, start_states, actions)` (about 10 lines): `start_states` is (B, D),
# `actions` (B, H). Return `(states, rewards, alive)`: `states` (B, H + 1, D) with `states[:, 0]`
# the start states and `states[:, t + 1]` the model's prediction from `states[:, t]` and
# `actions[:, t]`; `rewards` (B, H); `alive` (B, H + 1) bool. Once the model predicts termination
# for a row, that row stops: its state is held, its later rewards are 0, and `alive` is False from
# the next index on.

# %%
def open_loop_rollout(step_fn, start_states, actions):
    ### BEGIN SOLUTION
    ### HINT: make the three arrays first (start states at index 0, everyone alive), then one model call per time step on the whole batch; a row the model has ended keeps its state, earns nothing and stays dead.
    batch, horizon = actions.shape[:2]
    states = np.empty((batch, horizon + 1, start_states.shape[1]))
    rewards = np.zeros((batch, horizon))
    alive = np.ones((batch, horizon + 1), bool)
    states[:, 0] = start_states
    for t in range(horizon):
        next_states, r, terminated = step_fn(states[:, t], actions[:, t])
        states[:, t + 1] = np.where(alive[:, t, None], next_states, states[:, t])
        rewards[:, t] = np.where(alive[:, t], r, 0.0)
        alive[:, t + 1] = alive[:, t] & ~terminated
    return states, rewards, alive
    ### END SOLUTION


exercise_2_passed = checks.check_open_loop_rollout(open_loop_rollout)

# %% [markdown]
# The package's version, and the error measure: at depth $k$, the root mean square (RMS) over the four
# dimensions of $(\hat s_k - s_k)/\sigma_s$, each dimension divided by its standard deviation in the
# training data, averaged over the rollouts whose real episode is still running.

# %%
print(inspect.getsource(models.open_loop_rollout))

# %%
HORIZON = 50
real = data.collect_trajectories("CartPole-v1", 20, HORIZON, data.cartpole_balancing_policy(), seed=100)
state_scale = train_data.states.std(axis=0)
rollout = models.open_loop_rollout(step, real.states[:, 0], real.actions)
k_error = models.rollout_error(rollout, real, state_scale)
print("real episodes still running at k = 50:", int(real.alive[:, HORIZON].sum()), "of 20")
for k in (1, 5, 10, 20, 50):
    print(f"k = {k:2d}: error {k_error[k]:.3g} standard deviations")

# %%
ks = np.arange(1, HORIZON + 1)
linear = k_error[1] * ks                                   # k times the one-step error
above_linear = ks[k_error[1:] > linear]
crossing = int(above_linear[0])
print(f"error / linear growth at k = 5, 10, 20, 30, 50: "
      f"{', '.join(f'{k_error[k] / linear[k - 1]:.2f}' for k in (5, 10, 20, 30, 50))}")
print(f"the error first exceeds the linear line at k = {crossing}, and stays above it to k = {HORIZON}")
print("growth of the error over 10 steps, from k = 10, 20, 30, 40:",
      [round(float(k_error[k + 10] / k_error[k]), 2) for k in (10, 20, 30, 40)])

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(ks, k_error[1:], label="learned model, open-loop", **plots.style(1), markevery=5)
ax.plot(ks, k_error[1] * ks, label="linear growth from the 1-step error", **plots.style(0), markevery=5)
ax.set_yscale("log")
ax.set_xlabel("rollout depth k (steps of 0.02 s)")
ax.set_ylabel("state error (training-data std, RMS)")
ax.set_title("Compounding error of an open-loop model rollout (20 CartPole episodes)")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# The picture has two phases. For the first 30 steps or so the error grows **more slowly** than
# the linear line: from k = 5 to k = 20 it is only about half of k times the one-step error,
# because the one-step errors do not all push the same way and partly cancel. Then it
# **accelerates**: from k = 20 on it roughly doubles every 10 steps (0.2 s), the mark of errors
# feeding on errors, crosses the linear line near k = 40 and ends 50% above it. Over 50 steps
# it grows almost eighty-fold: a model that is excellent for one step is only a rough guide 50
# steps ahead, and the longer the horizon, the faster it gets worse.

# %%
assert k_error[50] > 50 * k_error[1]                      # towards two orders of magnitude
assert 70 < k_error[50] / k_error[1] < 90                  # almost eighty-fold
assert np.all(np.diff(k_error[1:]) > 0)                    # it grows at every step
assert np.all(k_error[5:21] < 0.6 * linear[4:20])          # about half the linear line from k = 5 to 20
assert np.all(k_error[2:31] < linear[1:30])                # below the linear line from k = 2 to 30
assert 35 <= crossing <= 45 and np.all(k_error[crossing:] > linear[crossing - 1:])   # then above it
assert all(1.7 < k_error[k + 10] / k_error[k] < 2.5 for k in (20, 30, 40))   # doubling every ~10 steps
assert 1.4 < k_error[50] / linear[-1] < 1.6                # ends 50% above the linear line

# %% [markdown]
# Move the sliders to see it on one trajectory: the dashed line is the model's open-loop prediction
# for the first $k$ steps, the solid line the real environment under the same actions. **depth k**
# sets how many steps the model predicts open-loop (1 to 50); **start state** picks which of the 20
# real trajectories (each from its own random start state, with its own actions) is shown. The
# rollouts were computed once above, so a move only redraws.

# %%
# NBVAL_IGNORE_OUTPUT
import functools

import ipywidgets

depth_slider = ipywidgets.IntSlider(value=30, min=1, max=HORIZON, description="depth k", continuous_update=False,
                                    style={"description_width": "initial"})
start_slider = ipywidgets.IntSlider(value=0, min=0, max=len(real.states) - 1, description="start state",
                                    continuous_update=False, style={"description_width": "initial"})
callback = functools.partial(widgets.rollout_depth_figure, real=real, predicted=rollout)
widgets.interactive_figure(callback, depth=depth_slider, start=start_slider)

# %%
fig = widgets.rollout_depth_figure(30, 0, real=real, predicted=rollout)  # the sliders' default, for the static page
plt.show()

# %% [markdown]
# On start state 0 at depth 30 the model follows the velocities and the pole angle closely; what
# drifts furthest is the cart position $x$, which sums up the small errors of the velocity step
# after step (0.15 training-data standard deviations off at $k = 30$, the other three under 0.03).
# Other start states drift in other dimensions: averaged over all 20, the pole angle's error is
# the largest by $k = 50$.

# %%
state_error = np.abs(rollout.states - real.states) / state_scale     # (20, 51, 4), in training-data stds
assert int(np.argmax(state_error[0, 30])) == 0 and 0.1 < state_error[0, 30, 0] < 0.2
assert np.all(state_error[0, 30, 1:] < 0.03)
assert int(np.argmax(np.sqrt((state_error[:, 50] ** 2).mean(axis=0)))) == 2   # theta, over all 20

# %%
# NBVAL_IGNORE_OUTPUT
start_time = time.perf_counter()
plt.close(widgets.rollout_depth_figure(50, 3, real=real, predicted=rollout))
print(f"one slider move: {time.perf_counter() - start_time:.2f} s elapsed")

# %% [markdown]
# ## 5. Reward and termination
#
# CartPole's reward is 1 on every step, so the reward head only has to learn a constant (the
# normalisation leaves that constant column unscaled). Termination is harder than it looks:
# only about 5% of transitions terminate, so "never terminates" is already 95% accurate. We report
# the accuracy of the **learned** termination and of the **known rule** applied to the model's
# predicted next state, and, more telling, how many of the real terminations each one catches.

# %%
truly_ended = test_data.terminated
rule_terminated = models.cartpole_terminated(predicted_next)
print(f"reward mean squared error: {error.reward_mse:.2g}")
print(f"'never terminates' accuracy: {1 - truly_ended.mean():.3f}")
for name, guess in (("learned termination", predicted_terminated), ("rule on predicted state", rule_terminated)):
    print(f"{name:24s} accuracy {np.mean(guess == truly_ended):.3f}, catches {guess[truly_ended].mean():.2f} "
          f"of the {int(truly_ended.sum())} real terminations")

# %%
assert error.reward_mse < 1e-3
assert np.mean(rule_terminated == truly_ended) >= 0.99
assert np.mean(predicted_terminated == truly_ended) >= 0.98 > 1 - truly_ended.mean()
assert 0.6 < predicted_terminated[truly_ended].mean() < rule_terminated[truly_ended].mean()
assert np.mean(predicted_terminated == truly_ended) < 0.99   # the learned head is not at 99%

# %% [markdown]
# Both beat the 95% baseline, but not equally: the rule, applied to the model's accurate next state,
# is right on (nearly) every test transition, while the learned head, trained on about two hundred
# terminal examples, misses about one real termination in five (a termination rule should be right on at least 99% of transitions: the rule is,
# the learned head is not at this data size). Where the rule is known, use it (`ModelConfig(termination="cartpole")`);
# a learned termination is what you have when it is not.

# %% [markdown]
# ## 6. Ensembles: knowing what you do not know
#
# A single network answers every question with the same confidence, also far from its data. An
# **ensemble** of $E$ networks, each trained from a different random initialisation on its own
# **bootstrap** resample of the training data (N draws with replacement), agrees where the data
# pins the answer down and disagrees elsewhere. Its **disagreement** at $(s, a)$ is the standard
# deviation of the members' predicted next states, in units of the training data's standard
# deviation of the change, averaged over dimensions:
# $u(s, a) = \frac{1}{D}\sum_d \operatorname{std}_e\big(\hat s'^{(e)}_d\big) / \sigma_{\Delta, d}$.
# The step function uses the members' mean (`member="mean"`); `member="random"` picks one member per
# state, as PETS (probabilistic ensembles with trajectory sampling, Chua et al., 2018) does.

# %%
ensemble = models.train_ensemble(train_data, models.ModelConfig(**{**CONFIG.__dict__, "ensemble_size": 5}),
                                 seed=SEED)
print(inspect.getsource(models.Ensemble.disagreement))

# %% [markdown]
# Now we ask the ensemble about states the random policy never reached: we keep the test states but
# move the cart $x$ by 2 m, still inside the track ($|x| \le 2.4$ m) but far from every training state
# ($|x| < 0.5$ m). Then we sweep the cart position across the whole track with the rest of the state
# at rest.

# %%
near = ensemble.disagreement(test_data.states, test_data.actions)
far_states = test_data.states.copy()
far_states[:, 0] += 2.0
far = ensemble.disagreement(far_states, test_data.actions)
print(f"median disagreement on the test states: {np.median(near):.2g}; with the cart moved 2 m: {np.median(far):.2g}")
positions = np.round(np.linspace(-2.4, 2.4, 49), 2)
sweep = np.zeros((49, 4))
sweep[:, 0] = positions
sweep_spread = {a: ensemble.disagreement(sweep, np.full(49, a)) for a in (0, 1)}

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
bins = np.logspace(np.log10(min(near.min(), far.min())), np.log10(max(near.max(), far.max())), 40)
axes[0].hist(near, bins=bins, color=plots.COLOURS[2], alpha=0.7, label="test states (like the training data)")
axes[0].hist(far, bins=bins, color=plots.COLOURS[4], alpha=0.7, hatch="//", label="cart moved by 2 m")
axes[0].set_xscale("log")
axes[0].set_xlabel("ensemble disagreement (std of the change, no unit)")
axes[0].set_ylabel("number of states")
axes[0].set_title("Disagreement near and far from the data")
axes[0].legend(fontsize=8)
for i, (a, label) in enumerate(((0, "push left"), (1, "push right"))):
    axes[1].plot(positions, sweep_spread[a], label=label, **plots.style(i + 1), markevery=4)
seen = np.abs(train_data.states[:, 0]).max()
axes[1].axvspan(-seen, seen, color=plots.COLOURS[5], alpha=0.3, label="cart positions in the data")
axes[1].set_yscale("log")
axes[1].set_xlabel("cart position x (m), other state variables 0")
axes[1].set_ylabel("ensemble disagreement (no unit)")
axes[1].set_title("Disagreement across the track")
axes[1].legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# The ensemble agrees closely on states like its data and disagrees about a hundred times more where the cart never went (and over a hundred times more at the track's edges than at its centre): its spread marks where the model should not be trusted.

# %%
assert np.median(far) > 50 * np.median(near)
assert np.abs(far_states[:, 0]).min() > np.abs(train_data.states[:, 0]).max()   # truly never seen
centre = sweep[:, 0] == 0
edges = np.abs(positions) > 2
for a in (0, 1):   # at the track's edges, over 100 times the disagreement at its centre
    assert sweep_spread[a][edges].min() > 100 * sweep_spread[a][centre].max()

# %% [markdown]
# The ensemble also predicts better than its members: averaging five models cancels part of each
# one's error.

# %%
ensemble_error = models.one_step_error(ensemble.as_step_fn(), test_data).normalized.mean()
member_errors = [models.one_step_error(ensemble.as_step_fn(e), test_data).normalized.mean() for e in range(5)]
print(f"ensemble mean NMSE {ensemble_error:.3g}; members {', '.join(f'{v:.3g}' for v in member_errors)}")

# %%
assert ensemble_error < np.mean(member_errors)

# %% [markdown]
# ### Probabilistic members
#
# PETS goes one step further: each member outputs a Gaussian, a mean $\mu_\theta$
# and a variance $\sigma^2_\theta$ per target, and is trained by the **negative log-likelihood**
#
# $$\mathcal L_{\text{NLL}}(\theta) = \frac{1}{N}\sum_i \sum_d \frac{1}{2}\left[
# \frac{(y_{i,d} - \mu_{\theta,d}(s_i, a_i))^2}{\sigma^2_{\theta,d}(s_i, a_i)} + \log \sigma^2_{\theta,d}(s_i, a_i)\right],$$
#
# so it also learns how noisy each prediction is (aleatoric uncertainty), while the ensemble's
# spread measures what the data leaves open (epistemic uncertainty). `ModelConfig(probabilistic=True)`
# switches it on; here with the known termination rule. CartPole is deterministic, so the learned
# standard deviation should be about as large as the model's own remaining error.

# %%
gaussian = models.train_ensemble(train_data, models.ModelConfig(**{**CONFIG.__dict__, "probabilistic": True,
                                                                "termination": "cartpole"}), seed=SEED)
prediction = gaussian.predict(test_data.states, test_data.actions)
predicted_std = prediction.next_state_std[0].mean(axis=0)
actual_rmse = np.sqrt(((prediction.next_states[0] - test_data.next_states) ** 2).mean(axis=0))
print("predicted std / actual RMS error per dimension:", dict(zip(DIM_NAMES, np.round(predicted_std / actual_rmse, 1).tolist(), strict=True)))

# %%
assert np.all((predicted_std / actual_rmse > 0.3) & (predicted_std / actual_rmse < 3))

# %% [markdown]
# ## 7. The same code for continuous actions: Pendulum-v1
#
# Pendulum-v1's observation is $(\cos\varphi, \sin\varphi, \dot\varphi)$, its action a torque in
# $[-2, 2]$ N·m, its reward $-(\varphi^2 + 0.1\,\dot\varphi^2 + 0.001\,u^2)$, and it never terminates
# (`termination="never"`). The same function trains a model; the action simply enters the network as
# it is instead of one-hot.

# %%
pendulum_train = data.collect_transitions("Pendulum-v1", 3000, seed=SEED)
pendulum_test = data.collect_transitions("Pendulum-v1", 1000, seed=1000)
pendulum = models.train_ensemble(pendulum_train, models.ModelConfig(**{**CONFIG.__dict__, "termination": "never"}),
                                 seed=SEED)
pendulum_error = models.one_step_error(pendulum.as_step_fn(), pendulum_test)
reward_nmse = pendulum_error.reward_mse / pendulum_test.rewards.var()
print("actions:", pendulum_train.actions.shape, pendulum_train.actions.dtype)
print("normalised one-step error:", dict(zip(("cos", "sin", "phi_dot"), [float(f"{v:.3g}") for v in pendulum_error.normalized], strict=True)))
print(f"reward error / reward variance: {reward_nmse:.3g}")

# %%
assert pendulum_error.normalized.max() < 0.01 and reward_nmse < 0.05

# %% [markdown]
# ## 8. One interface for every planner
#
# Later lessons plan with `step(states, actions) -> (next_states, rewards, terminated)`, batched over
# states, whether it is a perfect simulator or a learned model. A trained model gives one with
# `as_step_fn`, and it can be saved and loaded (weights only, `torch.load(weights_only=True)`):

# %%
print(f"Ensemble.as_step_fn{inspect.signature(models.Ensemble.as_step_fn)}")
print(inspect.getdoc(models.Ensemble.as_step_fn))

# %%
import os
import tempfile

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "cartpole_ensemble.pt")
    ensemble.save(path)
    reloaded = models.Ensemble.load(path)
states = test_data.states[:3]
next_states, rewards, terminated = reloaded.as_step_fn("mean")(states, np.array([0, 1, 1]))
print(next_states.shape, rewards.dtype, terminated.dtype)
print(np.round(next_states, 3))

# %%
assert np.array_equal(next_states, ensemble.as_step_fn("mean")(states, np.array([0, 1, 1]))[0])

# %% [markdown]
# ## Summary
#
# - A dynamics model learns $s' = s + f_\theta(s, a)$, $r = g_\theta(s, a)$ and termination from real
#   transitions; 5000 random CartPole steps give a one-step error well below 1% of the variance of
#   the change.
# - Predicting the **change** on **normalised** inputs and targets is what makes it work: each
#   alternative was more than ten times worse.
# - Fed its own predictions, the model's error grows: slower than linearly at first, then doubling
#   about every 10 steps, almost eighty times larger after 50 steps than after one. Plan with
#   short horizons, or re-plan often.
# - Termination matters and is rare: accuracy must be read against the "never ends" baseline; here the
#   known rule beats the learned head.
# - An **ensemble** trained on bootstrap resamples disagrees where the data is silent, which tells a
#   planner where not to trust the model; probabilistic members add a learned noise level (PETS).
# - The model is just a `step` function: notebook 04 trains a DQN on its imagined transitions, and
#   notebook 07 searches with it.
