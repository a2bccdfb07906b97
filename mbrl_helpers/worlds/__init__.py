"""Worlds: the environments the agents act in, and simulators that step them as arrays.

    envs        grid mazes of Sutton & Barto chapter 8 (gymnasium environments and their tables)
    simulators  the shared model interface step(states, actions) and perfect simulators
"""
