"""Safe edges for numba-compiled code.

Two things a student's call must never do to a compiled loop: crash the
interpreter (an index out of range is not checked inside compiled code) and
run where Ctrl-C / "Interrupt kernel" cannot stop it (a signal is only acted on
when Python regains control).

- `checked(kernel, check)`: the compiled function keeps its name, source and
  speed for compiled callers, but a call from Python first runs `check` on the
  arguments (clear errors, never a segmentation fault).
- `rng_state_bytes` / `save_rng_state` / `restore_rng_state`: copy numba's
  per-thread random generator state to and from an array, so a long run can be
  cut into slices that return to Python between them (where KeyboardInterrupt
  is raised) and still draw exactly the numbers one uninterrupted loop would.
"""

from __future__ import annotations

import types as types_module
from collections.abc import Callable

import numpy as np
from numba import carray, njit, types
from numba.core import cgutils
from numba.core.registry import CPUDispatcher, cpu_target
from numba.cpython.randomimpl import get_state_ptr, rnd_state_t
from numba.extending import intrinsic

# numba's np.random.seed takes an unsigned 32-bit integer.
SEED_MAX = 2**32 - 1


class CheckedDispatcher(CPUDispatcher):
    """A numba dispatcher whose calls from Python are argument-checked first.

    Compiled callers see an ordinary dispatcher and call the compiled code
    directly (no check, no cost); `inspect.getsource` still shows the kernel.
    """

    _python_check: Callable[..., None] | None = None
    _python_twin: CPUDispatcher | None = None

    def __call__(self, *args, **kwargs):
        if self._python_check is not None:
            self._python_check(*args, **kwargs)
        if self._python_twin is None:
            return super().__call__(*args, **kwargs)
        try:
            return self._python_twin(*args, **kwargs)
        except IndexError as error:
            raise ValueError(
                f"{self.py_func.__name__}: an index is out of range of the arrays given "
                f"({error}); check the indices and the arrays' shapes") from None


def checked(check: Callable[..., None]):
    """For an @njit function: run check(*args) on every call from Python."""

    def attach(kernel: CPUDispatcher) -> CPUDispatcher:
        kernel.__class__ = CheckedDispatcher
        kernel._python_check = check
        return kernel

    return attach


def bounds_checked_from_python(kernel: CPUDispatcher) -> CPUDispatcher:
    """For an @njit function: calls from Python run a twin compiled with bounds checking.

    An index out of range then raises ValueError instead of reading or writing memory
    the arrays do not own; compiled callers keep calling the kernel itself (no checks,
    no cost). The twin has its own name, so numba caches it apart from the kernel.
    """
    py = kernel.py_func
    twin_func = types_module.FunctionType(py.__code__, py.__globals__, f"{py.__name__}_bounds_checked",
                                          py.__defaults__, py.__closure__)
    twin_func.__qualname__ = f"{py.__qualname__}_bounds_checked"
    twin_func.__module__ = py.__module__
    twin_func.__doc__ = py.__doc__
    kernel.__class__ = CheckedDispatcher
    options = {name: value for name, value in kernel.targetoptions.items() if name != "nopython"}
    options.update(boundscheck=True, cache=True)
    kernel._python_twin = njit(**options)(twin_func)
    return kernel


# -- numba's random generator state, per thread ------------------------------------------
RNG_STATE_BYTES = cpu_target.target_context.get_abi_sizeof(rnd_state_t)


@intrinsic
def _np_random_state(typingctx):
    """A pointer to this thread's numba np.random state (rnd_state_t in numba's _random.c)."""

    def codegen(context, builder, sig, args):
        return builder.bitcast(get_state_ptr(context, builder, "np"), cgutils.voidptr_t)

    return types.voidptr(), codegen


@njit(cache=True)
def save_rng_state(out: np.ndarray) -> None:
    """Copy this thread's numba generator state into out (RNG_STATE_BYTES,) uint8."""
    state = carray(_np_random_state(), (RNG_STATE_BYTES,), np.uint8)
    out[:] = state


@njit(cache=True)
def restore_rng_state(saved: np.ndarray) -> None:
    """Make this thread's numba generator continue from a state save_rng_state copied."""
    state = carray(_np_random_state(), (RNG_STATE_BYTES,), np.uint8)
    state[:] = saved
