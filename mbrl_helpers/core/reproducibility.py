"""The same numbers on every CPU: torch's CPU kernels fixed before torch is imported.

torch chooses its CPU kernels when it starts: ATen's vectorised kernels follow the
processor's instruction set (AVX2, AVX-512, ...) and MKL's matrix products follow the
processor's make and model. Each path adds up floating-point numbers in its own order, so
one network trained with one seed ends up with weights that differ in the 7th digit from
one machine to the next, and an agent trained on those weights soon takes other actions
(an episode of 126 steps instead of 127). Two settings make the arithmetic the same on
every x86-64 CPU:

    ATEN_CPU_CAPABILITY=default   ATen's portable kernels, whatever the processor offers
    MKL_CBWR=COMPATIBLE           MKL's "conditional numerical reproducibility" mode

Both are read once, when torch loads, so `import mbrl_helpers` sets them and must come
before `import torch`. The cost, measured on a 2-core AMD EPYC: notebook 03 runs in 29 s
instead of 21 s, notebook 04 in 22 s instead of 17 s. Processors of other families (ARM,
e.g. Apple silicon) have no MKL and may still give other last digits.

Set MBRL_NATIVE_KERNELS=1 before importing to keep the processor's fastest kernels
(results then match the stored notebook outputs only on a machine like the one that made them).
"""

from __future__ import annotations

import os
import sys
import warnings

from mbrl_helpers.core.validation import check_int

PINNED_KERNELS = {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE"}
OPT_OUT = "MBRL_NATIVE_KERNELS"


def native_kernels_requested() -> bool:
    """True when the user asked (MBRL_NATIVE_KERNELS=1) to keep the processor's own kernels."""
    return os.environ.get(OPT_OUT, "").strip() not in ("", "0")


def pin_torch_kernels() -> None:
    """Fix torch's CPU kernels (see the module docstring) unless the user opted out.

    Called when mbrl_helpers is imported. If torch was imported first, its kernels are
    already chosen: warn, once, and say how to get the course's numbers.
    """
    if native_kernels_requested():
        return
    if "torch" in sys.modules:
        import torch

        if torch.backends.cpu.get_cpu_capability() != "DEFAULT":
            warnings.warn(
                "torch was imported before mbrl_helpers, so it runs this processor's own kernels "
                "and trained networks may differ in the last digits from the course's stored outputs. "
                "Restart the kernel and import mbrl_helpers before torch.",
                stacklevel=3,
            )
        return
    os.environ.update(PINNED_KERNELS)


def kernel_settings() -> dict[str, str]:
    """The kernel settings in force, for benchmark headers: ATen's capability and MKL's mode."""
    import torch

    return {
        "aten_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "mkl_cbwr": os.environ.get("MKL_CBWR", "unset (MKL picks per CPU)"),
        "torch_threads": str(torch.get_num_threads()),
    }


def seed_torch(seed: int, threads: int = 1) -> None:
    """Seed torch's generator and fix its thread count (one thread: the same sums on every run)."""
    check_int("seed", seed, low=0)
    check_int("threads", threads, low=1)
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
