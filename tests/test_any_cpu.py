"""The same numbers on every CPU: stored notebook outputs must not depend on the processor.

torch, MKL, numpy and numba each choose machine code for the processor they run on, and a
different choice can change the last digits of a sum, which training then amplifies into
other episode lengths. `mbrl_helpers.core.reproducibility` fixes torch's kernels when the package
is imported; these tests check that on this machine by imitating other processors:

- unit level: a small ensemble and a short DQN run trained in fresh processes under each of
  torch's kernel settings (ATEN_CPU_CAPABILITY default / avx2 / avx512, MKL_CBWR) give the
  same bytes, and would not without the package's pin;
- notebook level: every notebook's student edition runs under nbval against the stored outputs
  as on an older CPU: torch asked for AVX2 kernels, numba compiling for a generic x86-64 CPU
  (no AVX, no FMA), numpy without its AVX-512 loops (tests/background_run.py). The exercise
  cells, left out there, are compared by the nbval run over the instructor notebooks, on this
  machine's own settings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import background_run
import pytest
from background_run import clean_env

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


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


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


# Digests already computed this session, by kernel setting (the run "as the machine chooses"
# serves both tests below).
DIGESTS: dict[tuple, dict] = {}


def train_and_digest_each(settings: dict[str, dict[str, str]]) -> dict[str, dict]:
    """Each setting's training run in a fresh process, the processes side by side (one thread each)."""
    started = {}
    for name, extra in settings.items():
        if tuple(sorted(extra.items())) not in DIGESTS:
            started[name] = subprocess.Popen(
                [sys.executable, "-c", TRAIN_AND_DIGEST], env=clean_env(extra), cwd=ROOT,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for name, process in started.items():
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr[-3000:]
        DIGESTS[tuple(sorted(settings[name].items()))] = json.loads(stdout.strip().splitlines()[-1])
    return {name: DIGESTS[tuple(sorted(extra.items()))] for name, extra in settings.items()}


def test_training_gives_the_same_bytes_under_every_kernel_setting():
    results = train_and_digest_each(torch_settings())
    assert {r["capability"] for r in results.values()} == {"DEFAULT"}, results
    digests = {name: r["digest"] for name, r in results.items()}
    assert len(set(digests.values())) == 1, f"trained weights depend on the kernel setting: {digests}"


@pytest.mark.skipif("avx2" not in cpu_flags(), reason="needs a CPU with AVX2 to have kernels to choose from")
def test_without_the_pin_the_kernels_would_change_the_result():
    """The check above can fail: with the processor's own kernels the bytes differ."""
    runs = train_and_digest_each({"pinned": {},
                                  "native": {"MBRL_NATIVE_KERNELS": "1", "ATEN_CPU_CAPABILITY": "avx2"}})
    pinned, native = runs["pinned"], runs["native"]
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


@pytest.mark.background_notebooks("student")
def test_every_student_edition_reproduces_the_stored_outputs_on_another_cpu():
    """nbval over every notebook's student edition, as an older CPU runs it (tests/background_run.py)."""
    run = background_run.start("student")
    code, _ = run.result()
    assert code == 0, run.failure_report("nbval under another CPU's settings")
