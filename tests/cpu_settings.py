"""Kernel settings of other processors, imitated on this machine (tests/test_any_cpu.py and
tests/test_student_edition.py use them).

torch, MKL, numpy and numba each choose machine code for the processor they run on; these
helpers make a process's environment look like another CPU's to them.
"""

from __future__ import annotations

import os
from pathlib import Path

from course import TEST_ENV

ROOT = Path(__file__).resolve().parent.parent


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "MBRL_NATIVE_KERNELS")}
    return {**env, **TEST_ENV, "PYTHONPATH": str(ROOT), **extra}


def foreign_cpu_env(numba_cache: str) -> dict[str, str]:
    """This machine made to look like an older CPU to torch, numba and numpy."""
    import numpy._core._multiarray_umath as umath  # numpy's list of its dispatched CPU targets

    avx512_loops = [name for name in umath.__cpu_dispatch__ if name.startswith(("AVX512", "X86_V4"))]
    return clean_env({
        "ATEN_CPU_CAPABILITY": "avx2",
        "MKL_CBWR": "AVX2",
        "NUMBA_CPU_NAME": "generic",
        "NUMBA_CACHE_DIR": numba_cache,  # code compiled for the generic CPU, apart from the host's
        "NPY_DISABLE_CPU_FEATURES": " ".join(avx512_loops),
    })
