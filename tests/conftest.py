import os
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings

from derivgen.cli import main

settings.register_profile("ci", max_examples=2000, deadline=None)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

ROOT = Path(__file__).resolve().parent.parent

SOFTMAX = (ROOT / "problems" / "softmax.toml").read_text(encoding="utf-8")


@pytest.fixture
def problem_file(tmp_path):
    """Write a problem file (text dedented) into a fresh folder and return its path."""
    def write(text: str, name: str = "p.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path
    return write


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Run the derivgen command in tmp_path; returns click's Result (stdout and stderr apart)."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str):
        return CliRunner().invoke(main, [str(a) for a in args])
    return run
