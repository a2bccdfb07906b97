"""What every exercise check shares: the time limit, calling the student's code, feedback.

A check (in the lesson modules beside this one) is decorated with `never_raises`, calls the
student's function through `call` and ends with `report`.
"""

from __future__ import annotations

import contextlib
import functools
import linecache
import math
import re
import signal
import threading
import traceback
from collections.abc import Callable

import numpy as np

from mbrl_helpers.core.compiled import RNG_STATE_BYTES, restore_rng_state, save_rng_state


def report(ok: bool, name: str, hint: str = "") -> bool:
    if ok:
        print(f"Correct: {name} matches the reference on every test case.")
    else:
        print(f"Not yet: {name} differs from the reference.\n{hint}")
    return ok


# Seconds a student's function may take on one test case before the check gives up on it.
TIME_LIMIT_S = 10.0


class TimedOut(BaseException):
    """Raised into the student's code by the alarm (BaseException: `except Exception` won't eat it)."""


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise TimedOut in this thread after `seconds`, where a timer signal can (the main
    thread on Unix, where Jupyter runs cells); elsewhere, no limit."""
    if (not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return

    def alarm(_signum, _frame):
        raise TimedOut

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def copies(args: tuple) -> tuple:
    """Arrays copied (a dry run must not change the student's inputs); everything else as is."""
    return tuple(arg.copy() if isinstance(arg, np.ndarray) else arg for arg in args)


def endless_in_python(fn: Callable, args: tuple) -> bool:
    """For a numba-compiled function: does its Python version (fn.py_func) run past the time limit?

    Compiled code cannot be interrupted (a signal is acted on only when Python runs again), so an
    endless loop in an @njit answer would hang the kernel. Its Python version, run first on copies
    of the inputs, can be stopped by the alarm. Errors in the Python version are left to the
    compiled call, whose message the student should see. numba's (and numpy's) random generator is
    put back afterwards, so the compiled call draws what it would have drawn without the dry run (a check
    that seeds the generator compares those draws with the package's).
    """
    saved = np.empty(RNG_STATE_BYTES, dtype=np.uint8)
    save_rng_state(saved)
    saved_numpy = np.random.get_state()  # noqa: NPY002 - the legacy generator is what numba code draws from in Python
    try:
        with time_limit(TIME_LIMIT_S):
            fn.py_func(*copies(args))
    except TimedOut:
        return True
    except Exception:  # noqa: BLE001 - reported by the compiled call below
        pass
    finally:
        restore_rng_state(saved)
        np.random.set_state(saved_numpy)  # noqa: NPY002 - see above
    return False


_ENDLESS = ("Your function did not return within {limit:g} s on this small case: look for a loop "
            "that never ends (a counter never updated, a condition that stays true).")


def call(fn: Callable, *args: object) -> tuple[object, str]:
    """Call the student's function with a time limit; return (result, error message or '')."""
    limit = TIME_LIMIT_S
    if callable(getattr(fn, "py_func", None)) and endless_in_python(fn, args):
        return None, (_ENDLESS.format(limit=limit) + " (It is compiled with numba, which cannot be "
                      "stopped, so the check ran its Python version to find out.)")
    try:
        with time_limit(limit):
            return fn(*args), ""
    except TimedOut:
        return None, _ENDLESS.format(limit=limit)
    except NotImplementedError:
        return None, "The function still raises NotImplementedError: replace the stub with your code."
    except Exception as error:  # noqa: BLE001 - any error is feedback for the student
        return None, plain_error(error, fn)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# What numba says it could not do, in the order its messages put the useful part first.
_NUMBA_WHAT = (
    re.compile(r">>> (.+)"),                                  # no implementation for these types
    re.compile(r"NumbaTypeError: (.+)"),
    re.compile(r"(Unknown attribute .+)"),
    re.compile(r"(Cannot determine Numba type of .+)"),
    re.compile(r"(Untyped global name .+)"),
    re.compile(r"(Invalid use of .+)"),
)
_NUMBA_WHERE = re.compile(r'File "[^"]+", line (\d+):\n(?:.*\n)*?(.*)\n *\^')


def plain_error(error: Exception, fn: Callable) -> str:
    """An exception raised by (or while compiling) the student's function, in a few plain lines.

    Names the line of the student's code at fault and what went wrong there, instead of a
    traceback or numba's pages of candidate signatures.
    """
    name = type(error).__name__
    if name == "TypingError":  # numba could not compile the function for these arguments
        text = _ANSI.sub("", str(error))
        what = next((m.group(1).strip() for pattern in _NUMBA_WHAT if (m := pattern.search(text))),
                    text.splitlines()[0] if text else "")
        where = _NUMBA_WHERE.search(text)
        at = f" at line {where.group(1)} of its cell, `{where.group(2).strip()}`" if where else ""
        return (f"numba could not compile your function{at}: it has no way to do `{what}`. "
                "Look at the types of the values on that line: two arguments passed in the wrong "
                "order, a float used as an index, or an object numba does not know are the usual causes.")
    code = getattr(getattr(fn, "py_func", fn), "__code__", None)
    line = None
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        if code is not None and frame.f_code.co_filename == code.co_filename:
            line = lineno
    if line is None:
        return f"Calling it raised {name}: {error}"
    source = linecache.getline(code.co_filename, line).strip()
    shown = f", `{source}`" if source else ""
    return f"Your function raised {name} at line {line} of its cell{shown}: {error}"


def never_raises(check: Callable[..., bool]) -> Callable[..., bool]:
    """A check prints feedback and returns False on any answer, whatever its type or shape."""

    @functools.wraps(check)
    def guarded(student_fn: object, *args: object, **kwargs: object) -> bool:
        name = check.__name__.removeprefix("check_")
        if not callable(student_fn):
            return report(False, name, f"Pass your function itself (e.g. {name}, without "
                           f"parentheses); got {type(student_fn).__name__} {student_fn!r:.80}.")
        try:
            return check(student_fn, *args, **kwargs)
        except TimedOut:
            return report(False, name, f"Your function did not return within {TIME_LIMIT_S:g} s.")
        except Exception as error:  # noqa: BLE001 - the answer's form was not what the check reads
            return report(False, name, "Your function ran, but its answer could not be compared "
                           f"with the reference ({type(error).__name__}: {error}). Check what it "
                           "returns (type and shape) and what it changes in place against the "
                           "exercise's description.")

    return guarded


def number(value: object, error: str) -> tuple[float, str]:
    """The student's return value as a float, or an error message saying what was wrong."""
    if error:
        return math.nan, error
    try:
        return float(value), ""
    except (TypeError, ValueError):
        return math.nan, f"Return a number; got {value!r}."
