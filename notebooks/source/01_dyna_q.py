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
# # Dyna-Q: planning with a learned model
#
# *Notebook 01 of **Model-based reinforcement learning, hands-on**.*
#
# An agent that learns only from real experience must live through every lesson.
# An agent with a **model** of its world can replay and recombine what it has seen,
# and learn from that too. This notebook builds the simplest such agent, tabular
# **Dyna-Q** (Sutton & Barto, *Reinforcement Learning: An Introduction*, 2nd ed., section 8.2),
# and reproduces the book's Figures 8.2 and 8.3 with the book's settings and its 30 runs.

# %% [markdown] tags=["launch-links"]
# [![Open in Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mbrl-course/mbrl-hands-on/main?labpath=notebooks%2F01_dyna_q.ipynb) [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mbrl-course/mbrl-hands-on/blob/main/notebooks/01_dyna_q.ipynb)
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
# *Objectives.* After it you can
#
# 1. say what a *model* is in reinforcement learning (RL), and what a tabular model stores;
# 2. write the one-step Q-learning update, and explain why it stops at a terminal state;
# 3. explain the Dyna architecture: acting, direct RL, model learning and planning in one loop;
# 4. write the planning loop of Dyna-Q, and see that plain Q-learning is its case $k = 0$
#    ($k$: planning steps per real step);
# 5. read Figure 8.2: how planning steps trade computation for real experience;
# 6. explain why a model only knows what the agent has tried.
#
# *Assumes.* This is the first notebook. It assumes Python and numpy, and the basics of RL
# from the book's chapters 3 and 6: states, actions, rewards, returns, discounting with
# $\gamma$, action values $Q(s, a)$, $\varepsilon$-greedy action choice and Q-learning
# (section 3 below restates the update).
#
# *Time.* About 45 minutes to work through, with its two exercises; the cells run in about
# 20 s on a laptop CPU (measured on 2 cores; the very first run takes about 40 s, as numba
# compiles the package's code once and caches it).
# The code you need is in the package `mbrl_helpers`; this notebook shows its key lines.

# %%
import inspect

import matplotlib.pyplot as plt
import numpy as np

import mbrl_helpers  # noqa: F401  (registers the course's gymnasium environments)
from mbrl_helpers.agents import tabular
from mbrl_helpers.course import checks, plots, widgets
from mbrl_helpers.worlds.envs import ACTION_NAMES, DYNA_MAZE_LAYOUT, GridMaze

SEED = 0  # every experiment below takes a seed: same seed, same numbers

# %% [markdown]
# ## 1. The world: the Dyna Maze
#
# The book's maze is a 6 x 9 grid with 47 open cells. The agent starts at **S**, at
# row 2, column 0 (rows and columns count from 0, row 0 at the top), and must reach the goal
# **G** in the top right corner. Four actions move it up, down, left or right; a move
# into a wall or off the grid leaves it where it is. Reaching **G** gives reward
# $+1$ and ends the episode; every other step gives $0$. With discount
# $\gamma = 0.95$, the sooner the goal, the larger the return $\gamma^{T-1}$, so the
# best policy takes the shortest path.
#
# `GridMaze` is a real gymnasium environment built from an ASCII layout (`#` wall,
# `S` start, `G` goal, `.` free); `import mbrl_helpers` registers this one as
# `mbrl/DynaMaze-v0`. Its picture, printed below, marks the agent's current cell with **A**:
# right after `reset` the agent stands on the start, so the **A** at row 2, column 0 covers
# the **S**.

# %%
maze = GridMaze(DYNA_MAZE_LAYOUT, render_mode="ansi")
observation, info = maze.reset(seed=SEED)
print(maze.render())
print("observation (cell index, row-major):", observation, "= row, col", maze.to_cell(observation))
print("actions:", dict(enumerate(ACTION_NAMES)))
print("open cells:", len(maze.open_states()), "| shortest path from S to G:", maze.shortest_path_length(), "steps")

# %%
assert len(maze.open_states()) == 47 and maze.shortest_path_length() == 14
assert maze.to_cell(maze.start) == (2, 0) and maze.to_cell(observation) == (2, 0)  # A stands on S
assert maze.render().splitlines()[2].startswith("A")

# %% [markdown]
# One step of the real environment, through the gymnasium API:

# %%
observation, reward, terminated, truncated, info = maze.step(0)  # up
print(f"after 'up': cell {maze.to_cell(observation)}, reward {reward}, terminated {terminated}")

# %% [markdown]
# ## 2. What a model is
#
# A **model** is anything the agent can ask "if I were in state $s$ and took action
# $a$, what would happen?" A *distribution model* returns every possible next state
# and reward with its probability; a *sample model* returns one of them. The Dyna
# Maze is deterministic, so the simplest useful model is a table: for every pair
# $(s, a)$ the agent has tried, remember the next state $s'$, the reward $r$ and
# whether the episode ended. Pairs never tried are simply unknown.
#
# In `mbrl_helpers.agents.tabular` this table is a small record of arrays:

# %%
print(inspect.getsource(tabular.TabularModel))
print(inspect.getsource(tabular.model_update))

# %% [markdown]
# **Model learning** is just writing into the table. **Using** the model, in Dyna-Q,
# means drawing a state the agent has seen and an action it has tried there, and
# reading off what happened:

# %%
print(inspect.getsource(tabular.model_sample))


# %% [markdown]
# Termination is part of the model. A modelled step into the goal must say "the
# episode ends here", or planning would bootstrap from a value that does not exist.
#
# ## 3. Learning from real experience: Q-learning
#
# Q-learning keeps an estimate $Q(s, a)$ of the return of taking $a$ in $s$ and then
# acting greedily. After a transition $(s, a, r, s')$ it moves $Q(s, a)$ a step of
# size $\alpha$ towards the one-step target:
#
# $$
# Q(s, a) \leftarrow Q(s, a) + \alpha \big[\, \underbrace{r + \gamma \max_{a'} Q(s', a')}_{\text{target}} - Q(s, a) \big].
# $$
#
# If $s'$ is terminal, there is no future: the target is just $r$. The bracket is
# the **TD error** (temporal-difference error: the difference between two successive
# estimates of the same return). The book's settings: $\alpha = 0.1$, $\gamma = 0.95$, $Q$ starts at 0.
#
# ### Exercise 1: the Q-learning update
#
# Complete the function below. It changes `q[s, a]` in place (`q` has shape
# `(n_states, 4)`) and returns the TD error. The check runs it on 40 random cases
# against the package's version and, if it differs, names the likely mistake.

# %%
def q_learning_update(q, s, a, r, s_next, terminated, alpha, gamma):
    ### BEGIN SOLUTION
    ### HINT: build the one-step target first (what does a terminal step leave out?),
    ### HINT: then move the value of the pair (s, a) a step of size alpha towards it, and return the difference.
    target = r if terminated else r + gamma * np.max(q[s_next])
    td_error = target - q[s, a]
    q[s, a] += alpha * td_error
    return td_error
    ### END SOLUTION


exercise_1_passed = checks.check_q_learning_update(q_learning_update)

# %% [markdown]
# The package's version is the same few lines, compiled with numba so the
# experiments below run 30 agents in a fraction of a second. Everything below uses the
# package's functions, not yours, so the notebook runs on even before your version passes:

# %%
print(inspect.getsource(tabular.q_learning_update))

# %% [markdown]
# Actions are chosen **$\varepsilon$-greedily**: with probability $\varepsilon = 0.1$ a random
# action, otherwise the best one, with **ties broken at random**. Ties matter here:
# at the start every $Q$ is 0, and an agent that always picked the first of equal
# actions would walk into the top wall forever.

# %%
print(inspect.getsource(tabular.epsilon_greedy))

# %% [markdown]
# ## 4. Dyna: acting, learning, and planning in one loop
#
# Dyna (Sutton, 1990) runs two kinds of learning side by side on the same $Q$:
#
# ```
#             real experience                    simulated experience
#    world ------------------> direct RL update         ^
#      ^            |                                     |  planning:
#      | action     v                                     |  k updates per real step
#    agent <--- Q(s, a) <------------------------------ model
#                   \__________ model learning ______________^
# ```
#
# After every real step the agent (d) updates $Q$ from that step, (e) writes the
# step into its model, and (f) makes $k$ more Q-learning updates on transitions
# *replayed from the model*. Planning costs computation, not experience. With $k = 0$
# it is exactly Q-learning. (The book writes $n$ for the number of planning steps; this
# course writes $k$ throughout, as on the slider in section 9.) Here is the book's algorithm, as the package runs it:
# first one real step, (c)-(e), which every Dyna agent of the course shares (they differ in
# how they choose the action and how they plan), then the loop around it:

# %%
print(inspect.getsource(tabular.real_step))
print(inspect.getsource(tabular.dyna_q_episodes))


# %% [markdown]
# ### Exercise 2: the planning loop
#
# This is the heart of Dyna-Q. Step (f) repeats $k$ times: draw a pair $(s, a)$ the agent
# has tried with `tabular.model_sample(model)`, look up what the model remembers about it
# (its reward, next state and termination flag, in `model.reward`, `model.next_state`
# and `model.terminated`, arrays of shape `(n_states, 4)`), and make one Q-learning update
# with it, `tabular.q_learning_update(q, s, a, r, s_next, terminated, alpha, gamma)` (the
# package's version of exercise 1). `q` changes in place; nothing is returned. The check
# seeds the random generator, runs your loop and the package's on 12 random models, compares
# $Q$ and, if they differ, names the likely mistake.

# %%
def planning(q, model, k, alpha, gamma):
    ### BEGIN SOLUTION
    ### HINT: each of the k planning updates starts from a fresh draw from the model; then read
    ### HINT: what the model remembers about that pair and hand it to the package's update.
    for _ in range(k):
        s, a = tabular.model_sample(model)
        tabular.q_learning_update(
            q, s, a, model.reward[s, a], model.next_state[s, a], model.terminated[s, a], alpha, gamma
        )
    ### END SOLUTION


exercise_2_passed = checks.check_planning(planning)

# %% [markdown]
# ## 5. One agent, three episodes
#
# `tabular.run_dyna_q` runs independent agents on a maze and returns the real steps
# of every episode (`.steps`, shape `(runs, episodes)`) and the final action values
# (`.q`, shape `(runs, n_states, 4)`). It uses the package's planning loop (not
# your exercise). A single agent with $k = 5$:

# %%
one = tabular.run_dyna_q("mbrl/DynaMaze-v0", planning_steps=5, episodes=3, runs=1, seed=SEED)
print("steps in episodes 1, 2, 3:", one.steps[0].tolist())

# %% [markdown]
# The first episode is a long random walk: every $Q$ is 0, so nothing guides the
# agent until it stumbles into the goal. From then on the reward spreads backwards,
# through real steps and, with planning, through the model too.
#
# ## 6. Figure 8.2: planning saves real experience
#
# The book's experiment: $k \in \{0, 5, 50\}$ planning steps, 50 episodes, averaged
# over 30 runs, $\alpha = 0.1$, $\varepsilon = 0.1$, $\gamma = 0.95$.
#
# The figure starts at episode 2, as the book's does. Episode 1 is the same for every agent:
# until the goal is first reached every reward and every $Q$ is 0, so planning updates change
# nothing and all three agents take a random walk of about 900-1000 steps (first column of
# the table below), which would only stretch the figure's scale.

# %%
K_VALUES = (0, 5, 50)
results = {
    k: tabular.run_dyna_q("mbrl/DynaMaze-v0", planning_steps=k, episodes=50, runs=30, seed=SEED)
    for k in K_VALUES
}
mean_steps = {k: results[k].mean_steps for k in K_VALUES}

shown = [1, 2, 3, 4, 5, 6, 10, 20, 30, 50]
print("mean steps per episode over 30 runs")
print("episode " + "".join(f"{e:>7d}" for e in shown))
for k in K_VALUES:
    print(f"k = {k:<3d} " + "".join(f"{mean_steps[k][e - 1]:7.1f}" for e in shown))

# %%
episode_1 = [mean_steps[k][0] for k in K_VALUES]
assert min(episode_1) > 800 and max(episode_1) < 1.25 * min(episode_1)  # episode 1: the same walk for all

# %%
fig = plots.plot_steps_per_episode(
    {f"{k} planning steps" + (" (Q-learning)" if k == 0 else ""): mean_steps[k] for k in K_VALUES},
    title="Dyna Maze: steps per episode from episode 2, 30 runs (our Figure 8.2)",
)
plt.show()

# %% [markdown]
# *Takeaway:* the more planning steps per real step, the fewer real episodes the
# agent needs; all three end near the 14-step path (the curves sit a little above
# 14 because the agent still explores with $\varepsilon = 0.1$).
#
# The book's Figure 8.2 shows the same three curves: the $k = 50$ agent is close to
# optimal by about the third episode, $k = 5$ by about the fifth, and $k = 0$ needs
# about 25 episodes. We call an episode *near-optimal* when the 30-run mean is at most
# 25 steps, and check the book's claims:

# %%
assert all(mean_steps[k][-10:].mean() < 20 for k in K_VALUES)  # all three end near the 14-step path

# %%
NEAR_OPTIMAL = 25  # steps; the shortest path is 14, and epsilon-greedy exploration adds a few


def first_near_optimal_episode(steps: np.ndarray) -> int:
    # first episode (1-based) from which the mean stays at or below the threshold
    above = np.flatnonzero(steps > NEAR_OPTIMAL)
    return int(above[-1]) + 2 if len(above) else 1


first = {k: first_near_optimal_episode(mean_steps[k]) for k in K_VALUES}
print("first episode from which the mean stays near-optimal:", first)

# %%
assert first[50] <= 3, "k = 50 should be near-optimal by about episode 3"
assert first[5] <= 5, "k = 5 should be near-optimal by about episode 5"
assert 20 <= first[0] <= 35, "k = 0 should need about 25 episodes"
assert mean_steps[0][4] > 4 * NEAR_OPTIMAL, "Q-learning is still far from the path at episode 5"

# %% [markdown]
# ## 7. Figure 8.3: why planning helps so much
#
# Look inside two agents halfway through their second episode. After episode 1 the
# only non-zero reward either has seen is the last step into the goal. Q-learning
# ($k = 0$) has updated exactly one value: the one for that last step. The Dyna agent
# ($k = 50$) has replayed its model thousands of times since, and each replay
# carries value one step further back along the paths it has walked.

# %%
snapshots = {
    f"k = {k}": tabular.q_snapshot("mbrl/DynaMaze-v0", planning_steps=k, seed=SEED, episode=2, fraction=0.5)
    for k in (0, 50)
}
fig = plots.policy_comparison(
    GridMaze(DYNA_MAZE_LAYOUT), snapshots,
    suptitle="Greedy policies halfway through episode 2 (our Figure 8.3); no arrow: no preference yet",
)
plt.show()

# %% [markdown]
# *Takeaway:* without planning, the agent has a preferred action in one state;
# with 50 planning steps per real step, it has one in about half of the maze's 47 open cells.

# %%
states_with_policy = {label: int((q.max(axis=1) > 0).sum()) for label, q in snapshots.items()}
print("states with a preferred action:", states_with_policy)
assert states_with_policy["k = 0"] == 1
assert 0.35 * 47 <= states_with_policy["k = 50"] <= 0.75 * 47

# %% [markdown]
# ## 8. A model knows only what the agent tried
#
# After 50 episodes, where does each agent's greedy policy lead? `tabular.greedy_path`
# follows $\arg\max_a Q(s, a)$ from **S**.

# %%
path_lengths = {
    k: np.array([len(tabular.greedy_path("mbrl/DynaMaze-v0", q)) - 1 for q in results[k].q]) for k in K_VALUES
}
for k in K_VALUES:
    lengths, counts = np.unique(path_lengths[k], return_counts=True)
    print(f"k = {k:<3d} greedy path lengths (steps: runs):", dict(zip(lengths.tolist(), counts.tolist(), strict=True)))

# %%
detour_run = int(np.flatnonzero(path_lengths[50] > 14)[0])
q_detour = results[50].q[detour_run]
fig = plots.draw_maze(
    GridMaze(DYNA_MAZE_LAYOUT), q_detour, show_values=True,
    path=tabular.greedy_path("mbrl/DynaMaze-v0", q_detour),
    title=f"k = 50, run {detour_run}: the greedy path after 50 episodes",
)
plt.show()

# %% [markdown]
# *Takeaway:* most Dyna agents follow a 14-step path, but some, like the one drawn
# here, settle on a longer route. Their values are right *for their model*: the model
# lacks at least one move of a shortest path, because the agent never tried it.
#
# The model can only replay transitions the agent has experienced. Planning makes the
# most of experience; it cannot replace exploring. Notebook 02 shows the sharper
# version of this problem: a world that *changes* after the model has learned it.

# %%
assert (path_lengths[50] == 14).sum() >= 20 and (path_lengths[5] == 14).sum() >= 15  # most Dyna agents
assert (path_lengths[50] > 14).any()  # ... but not all
assert all(tabular.reaches_goal("mbrl/DynaMaze-v0", tabular.greedy_path("mbrl/DynaMaze-v0", q))
           for k in K_VALUES for q in results[k].q)

# %% [markdown]
# ## 9. Planning steps $k$: try it yourself
#
# The slider sets $k$, the number of planning steps per real step (0 to 100); the figure
# shows 30 Dyna-Q agents with that $k$ (50 episodes each) beside Q-learning ($k = 0$). Running 30 agents takes up to
# a few tenths of a second for large $k$, so the next cell runs every $k$ the slider
# offers (0, 5, ..., 100) once, up front; after that each move only redraws.

# %%
widgets.precompute_planning_steps(widgets.K_SLIDER)  # 21 values of k x 30 agents: a few seconds

# %%
# NBVAL_IGNORE_OUTPUT
import ipywidgets

k_slider = ipywidgets.IntSlider(value=10, min=0, max=100, step=5, description="k, planning steps",
                                style={"description_width": "initial"}, continuous_update=False)
widgets.interactive_figure(widgets.planning_steps_figure, k=k_slider)

# %% [markdown]
# For readers of the static page, the figure at the slider's starting value, $k = 10$:

# %%
fig = widgets.planning_steps_figure(10)
plt.show()

# %% [markdown]
# *Takeaway:* already 10 planning steps per real step bring the agent close to the
# shortest path within a handful of episodes.
#
# ## 10. What planning costs
#
# Planning is not free: each planning step is a Q-learning update. The table counts
# real steps (experience) and all updates (computation) over the 50 episodes.

# %%
print(f"{'k':>4} {'real steps':>11} {'updates':>10} {'updates / real step':>20}")
for k in K_VALUES:
    real = results[k].steps.sum(axis=1).mean()
    updates = real * (k + 1)
    print(f"{k:>4} {real:>11.0f} {updates:>10.0f} {k + 1:>20}")

# %%
real_steps = {k: results[k].steps.sum(axis=1).mean() for k in K_VALUES}
assert real_steps[50] < real_steps[5] < real_steps[0]
assert 0.25 < real_steps[50] / real_steps[0] < 0.45  # about a third of the real steps ...
assert 15 < real_steps[50] * 51 / real_steps[0] < 25  # ... for about 20 times the updates

# %% [markdown]
# *Takeaway:* $k = 50$ needs about a third of the real steps of Q-learning, and
# about 20 times its computation. When real experience is expensive (a robot, a
# patient, a market) and computation is cheap, that is a good trade.
#
# ## Summary
#
# - A **model** answers "what happens if I take $a$ in $s$?". A tabular model of a
#   deterministic world remembers, for each tried pair, the next state, the reward
#   and whether the episode ended.
# - **Dyna-Q** interleaves acting, Q-learning on real steps, model learning, and
#   $k$ Q-learning updates on replayed model transitions. $k = 0$ is Q-learning.
# - With the book's settings and 30 runs we reproduced Figure 8.2 (near-optimal by
#   about episode 3 with $k = 50$, episode 5 with $k = 5$, about 25 without planning)
#   and Figure 8.3 (planning spreads value far faster than real steps do).
# - Planning trades computation for experience, and it can only replay what the
#   agent has tried: exploration still matters.
#
# **Further exercises (no checks).**
# 1. Rerun Figure 8.2 with $\alpha = 0.5$. Which curve changes most, and why?
# 2. With $\varepsilon = 0$ (and random tie-breaking), does Dyna-Q still find the goal? What does the first episode look like?
# 3. Build a bigger maze with `GridMaze([...])` and compare $k = 0$ and $k = 50$ on it.
#
# Next: **02 · Planning when the world changes** (Dyna-Q+, prioritized sweeping).
