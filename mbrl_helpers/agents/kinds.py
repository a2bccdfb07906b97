"""The kinds of tabular agent, named once.

Notebooks 01 and 02 compare these agents; `dyna_q_plus.run_changing_maze` and
`sweeping.where_updates_go` take one of them. `Agent` is an IntEnum so that its
members also pass into compiled code as plain integers.
"""

from __future__ import annotations

import numbers
from enum import IntEnum


class Agent(IntEnum):
    """A tabular agent of chapter 8; `label` is how tables and figures name it."""

    DYNA_Q = 0               # Dyna-Q (section 8.2): uniform planning on tried pairs
    DYNA_Q_PLUS = 1          # Dyna-Q+ (section 8.3): bonus kappa * sqrt(tau) on planned rewards
    DYNA_Q_PLUS_ACT = 2      # Exercise 8.4: the bonus only in action selection
    PRIORITIZED_SWEEPING = 3  # section 8.4: plan the most urgent pairs first

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS = {
    Agent.DYNA_Q: "Dyna-Q",
    Agent.DYNA_Q_PLUS: "Dyna-Q+",
    Agent.DYNA_Q_PLUS_ACT: "Dyna-Q+ (bonus in action choice)",
    Agent.PRIORITIZED_SWEEPING: "prioritized sweeping",
}


def as_agent(value: object, allowed: tuple[Agent, ...], name: str = "agent") -> Agent:
    """value as an Agent among `allowed`: an Agent, its integer value or its name ("DYNA_Q_PLUS").

    Raises ValueError naming the parameter, the value and the allowed agents.
    """
    agent = None
    if isinstance(value, str):
        agent = Agent.__members__.get(value.upper().replace("-", "_").replace("+", "_PLUS"))
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        agent = Agent._value2member_map_.get(int(value))
    if agent not in allowed:
        choices = ", ".join(f"Agent.{a.name} ({a.value})" for a in allowed)
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return agent
