"""The same numbers on every CPU: stored notebook outputs must not depend on the processor.

torch, MKL, numpy and numba each choose machine code for the processor they run on, and a
different choice can change the last digits of a sum, which training then amplifies into
other episode lengths. `mbrl_helpers.core.reproducibility` fixes torch's kernels when the package
is imported; these tests check that on this machine by imitating other processors:

- unit level: a small ensemble and a short DQN run trained in fresh processes under each of
  torch's kernel settings (ATEN_CPU_CAPABILITY default / avx2 / avx512, MKL_CBWR) give the
  same bytes, and would not without the package's pin;
- notebook level: every notebook runs against its stored outputs as on an older CPU: torch
  asked for AVX2 kernels, numba compiling for a generic x86-64 CPU (no AVX, no FMA), numpy
  without its AVX-512 loops (`cpu_settings.foreign_cpu_env`). That run is the student
  edition's, in tests/test_student_edition.py
  (test_every_notebook_reproduces_its_stored_outputs_on_another_cpu): the student edition
  already runs every notebook top to bottom once, so running it under these settings and
  comparing every cell the student edition leaves unchanged with the stored outputs, as nbval
  does, checks the same thing without executing every notebook a fourth time. (nbval itself
  checks the stored outputs, every cell, under this machine's own settings.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu_settings import clean_env, cpu_flags  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

# Trains a small ensemble and a short DQN run, prints a digest of what came out.
TRAIN_AND_DIGEST = """
import hashlib, json, sys, warnings
warnings.simplefilter("error")  # a kernel warning from the package must fail the run
import mbrl_helpers
import torch
from mbrl_helpers.learning import data, models
from mbrl_helpers.agents import dqn
mbrl_helpers.core.reproducibility.seed_torch(0)
transitions = data.collect_transitions("CartPole-v1", 300, seed=0)
config = models.ModelConfig(ensemble_size=2, max_epochs=5)
ensemble = models.train_ensemble(transitions, config, seed=0, progress=False)
prediction = ensemble.predict(transitions.states[:50], transitions.actions[:50])
config = dqn.DQNConfig(max_steps=1_300, learning_starts=1_000, eval_every=1_300, eval_episodes=1)
agent = dqn.DQNAgent(obs_dim=4, n_actions=2, config=config)
dqn.train_dqn(config, seed=0, agent=agent)
digest = hashlib.sha256(prediction.next_states.tobytes())
for parameter in agent.q.parameters():
    digest.update(parameter.detach().numpy().tobytes())
print(json.dumps({"capability": torch.backends.cpu.get_cpu_capability(), "digest": digest.hexdigest()}))
"""



def torch_settings() -> dict[str, dict[str, str]]:
    """Outer kernel settings a user's machine (or environment) might have."""
    settings = {
        "as the machine chooses": {},
        "ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE": {"ATEN_CPU_CAPABILITY": "default",
                                                           "MKL_CBWR": "COMPATIBLE"},
    }
    flags = cpu_flags()
    if "avx2" in flags:
        settings["ATEN_CPU_CAPABILITY=avx2"] = {"ATEN_CPU_CAPABILITY": "avx2"}
    if "avx512f" in flags:
        settings["ATEN_CPU_CAPABILITY=avx512"] = {"ATEN_CPU_CAPABILITY": "avx512"}
    return settings



def train_and_digest(extra: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", TRAIN_AND_DIGEST], env=clean_env(extra), cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_training_gives_the_same_bytes_under_every_kernel_setting():
    results = {name: train_and_digest(extra) for name, extra in torch_settings().items()}
    assert {r["capability"] for r in results.values()} == {"DEFAULT"}, results
    digests = {name: r["digest"] for name, r in results.items()}
    assert len(set(digests.values())) == 1, f"trained weights depend on the kernel setting: {digests}"


@pytest.mark.skipif("avx2" not in cpu_flags(), reason="needs a CPU with AVX2 to have kernels to choose from")
def test_without_the_pin_the_kernels_would_change_the_result():
    """The check above can fail: with the processor's own kernels the bytes differ."""
    pinned = train_and_digest({})
    native = train_and_digest({"MBRL_NATIVE_KERNELS": "1", "ATEN_CPU_CAPABILITY": "avx2"})
    assert native["capability"] == "AVX2"
    assert native["digest"] != pinned["digest"]


def test_importing_torch_first_warns_and_says_what_to_do():
    code = ("import warnings, torch\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    warnings.simplefilter('always')\n"
            "    import mbrl_helpers\n"
            "print('|'.join(str(w.message) for w in caught))\n")
    out = subprocess.run([sys.executable, "-c", code], env=clean_env({}), cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "import mbrl_helpers before torch" in out.stdout
