"""The gallery's committed reports in output/ are what derivgen builds today,
and a build is deterministic: the same problem gives the same bytes, whatever
the output folder, the process, its hash seed, or how the machine's floating
point rounds."""

import os
import subprocess
import sys

import pytest

import derivgen.api
import derivgen.numeric
from conftest import ROOT, SOFTMAX
from derivgen.api import build

GALLERY = sorted((ROOT / "problems").glob("*.toml"))
OUTPUT = ROOT / "output"
COMMITTED = ("md", "json")
REGENERATE = "derivgen build problems/ -o output --format md,json"

def first_difference(a: bytes, b: bytes) -> str:
    la, lb = a.decode("utf-8", "replace").splitlines(), b.decode("utf-8", "replace").splitlines()
    for n, (x, y) in enumerate(zip(la, lb), 1):
        if x != y:
            return f"line {n}: committed {x!r}, fresh {y!r}"
    return f"committed has {len(la)} lines, fresh {len(lb)}" if len(la) != len(lb) else \
        "line endings or final newline differ"


@pytest.mark.parametrize("path", [
    pytest.param(p, id=p.stem) for p in GALLERY])
def test_committed_outputs_are_current(path, tmp_path, monkeypatch):
    assert_current(path, tmp_path, monkeypatch)


@pytest.mark.parametrize("path", [
    pytest.param(p, id=p.stem) for p in GALLERY])
def test_outputs_do_not_depend_on_how_floats_round(path, tmp_path, monkeypatch):
    """Another CPU, libm or BLAS rounds differently in the last bits. Shift every
    sampled input by an ulp and the finite-difference step by a few: every number
    a report or JSON prints must stay the same."""
    draw = derivgen.numeric.draw
    monkeypatch.setattr(derivgen.numeric, "draw", lambda *args: draw(*args) * (1 + 2.0 ** -52))
    monkeypatch.setattr(derivgen.numeric, "_H", derivgen.numeric._H * (1 + 2.0 ** -50))
    assert_current(path, tmp_path, monkeypatch)


def assert_current(path, tmp_path, monkeypatch):
    """A fresh build of ``path`` gives the committed outputs, byte for byte."""
    monkeypatch.chdir(tmp_path)        # no templates/ of whatever folder pytest runs in
    committed = [OUTPUT / f"{path.stem}.{suffix}" for suffix in COMMITTED]
    missing = [f"output/{c.name}" for c in committed if not c.is_file()]
    assert not missing, (f"{', '.join(missing)} missing for problems/{path.name}; "
                         f"regenerate with `{REGENERATE}`")
    (outcome,) = build([path], out_dir=tmp_path / "fresh", formats=COMMITTED)
    assert outcome.error is None, f"problems/{path.name}: {outcome.error}"
    for c in committed:
        fresh, old = (tmp_path / "fresh" / c.name).read_bytes(), c.read_bytes()
        if fresh != old:
            pytest.fail(f"output/{c.name} differs from a fresh build of problems/{path.name} "
                        f"({first_difference(old, fresh)}); regenerate with `{REGENERATE}`",
                        pytrace=False)


def test_every_committed_output_has_its_problem():
    problems = {p.stem for p in GALLERY}
    # hidden files are derivgen's own record of what it built (.derivgen.json), not outputs
    stale = sorted(f"output/{p.name}" for p in OUTPUT.iterdir()
                   if p.suffix.lstrip(".") in COMMITTED and p.stem not in problems
                   and not p.name.startswith("."))
    assert not stale, f"{', '.join(stale)} have no problem file in problems/; delete them"


def test_two_builds_of_softmax_are_byte_identical(tmp_path, monkeypatch):
    """One build here, one in a fresh interpreter with another hash seed: a second
    build in the same process would share its caches and its string hashes, the
    usual sources of set-order differences."""
    monkeypatch.chdir(tmp_path)
    softmax = ROOT / "problems" / "softmax.toml"
    (outcome,) = build([softmax], out_dir=tmp_path / "one", formats=["md", "tex", "json"])
    assert outcome.error is None, outcome.error
    seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    done = subprocess.run([sys.executable, "-m", "derivgen", "build", str(softmax), "-o", "two",
                           "-f", "md,tex,json"], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTHONHASHSEED": seed})
    assert done.returncode == 0, done.stderr
    for suffix in ("md", "tex", "json"):
        one = (tmp_path / "one" / f"softmax.{suffix}").read_bytes()
        two = (tmp_path / "two" / f"softmax.{suffix}").read_bytes()
        assert one == two, f"softmax.{suffix} differs between two builds: {first_difference(one, two)}"


def test_an_internal_error_in_one_problem_does_not_stop_the_rest(cli, tmp_path, problem_file,
                                                                 monkeypatch):
    problem_file(SOFTMAX, "a.toml")
    problem_file(SOFTMAX, "b.toml")
    derive = derivgen.api.derive_file

    def broken_for_a(path, data):
        if path.name == "a.toml":
            raise ZeroDivisionError("division by zero")
        return derive(path, data)
    monkeypatch.setattr(derivgen.api, "derive_file", broken_for_a)
    result = cli("build", ".", "-o", "out", "-f", "md")
    assert result.exit_code == 3
    assert "internal error: ZeroDivisionError: division by zero" in result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".derivgen.json", "b.md"]
