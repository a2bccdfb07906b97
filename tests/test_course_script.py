"""course.py: the one command that sets up the environment."""

import sys

import course


def test_uses_an_active_environment(monkeypatch):
    monkeypatch.setattr(sys, "prefix", "/some/venv")
    monkeypatch.setattr(sys, "base_prefix", "/usr")
    assert course.in_active_environment()
    monkeypatch.setattr(sys, "prefix", "/usr")
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    assert not course.in_active_environment()
    monkeypatch.setenv("CONDA_PREFIX", "/opt/conda/envs/mbrl")
    assert course.in_active_environment()


def test_installs_once_per_pyproject_version(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(course.subprocess, "check_output", lambda *a, **k: f"{tmp_path}\n")
    monkeypatch.setattr(course.subprocess, "check_call", lambda args, **k: calls.append(args))
    course.ensure_installed("python")
    assert len(calls) == 2  # torch first, then the package with its dev extras
    assert calls[0][-1] == "torch==2.13.0" and calls[1][-1].endswith("[dev]")
    course.ensure_installed("python")
    assert len(calls) == 2  # stamp matches pyproject.toml: nothing to do
    (tmp_path / ".mbrl-course-installed").write_text("an older pyproject")
    course.ensure_installed("python")
    assert len(calls) == 4


def test_unknown_command_prints_usage(capsys):
    assert course.main(["deploy"]) == 2
    assert "python course.py test" in capsys.readouterr().out
