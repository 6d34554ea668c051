"""Every build ends in bounded time and memory: a problem over its budget is refused
with one clear line while the rest of the batch is built; finished problems are
written while a slow one runs; an interrupted or killed build leaves no worker.

SLOW is a problem inside every documented limit that takes some 40 s: eighteen
softmaxes, each rule proven at its own size (16, 15 or 14 rows by 16, 15 or 14
columns, over columns and over rows), about 2 s each."""

import itertools
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import derivgen.api
import derivgen.handout
from conftest import ROOT

_SIZES = {"n": 16, "m": 15, "k": 14}
_INPUTS = {f"X{i}": shape for i, shape in enumerate(itertools.product(_SIZES, repeat=2))}
SLOW = "\n".join([
    'title = "Eighteen softmaxes"', "[dims]", *(f"{d} = {n}" for d, n in _SIZES.items()),
    "[inputs]", *(f'{x} = {{ shape = ["{a}", "{b}"] }}' for x, (a, b) in _INPUTS.items()),
    "[steps]", 'L = "' + " + ".join(f"sum({x} * softmax({x}, axis={axis}))" for x in _INPUTS
                                     for axis in (0, 1)) + '"',
    "[derive]", 'of = "L"', "wrt = [" + ", ".join(f'"{x}"' for x in _INPUTS) + "]", ""])
FAST = (ROOT / "problems" / "logsumexp.toml").read_text(encoding="utf-8")


def folder(tmp_path, **problems: str) -> Path:
    where = tmp_path / "problems"
    where.mkdir()
    for name, text in problems.items():
        (where / f"{name}.toml").write_text(text, encoding="utf-8")
    return where


def start(tmp_path, *args: str) -> subprocess.Popen:
    # SIGINT as a terminal delivers it, even where this test runs with it ignored (a
    # background CI job): Python raises KeyboardInterrupt only if it starts on default
    return subprocess.Popen([sys.executable, "-m", "derivgen", *args], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def outputs(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if not p.name.startswith("."))


def children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return set(map(int, path.read_text().split())) if path.exists() else set()


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_problem_over_its_time_limit_is_refused_and_the_rest_is_built(tmp_path, jobs):
    folder(tmp_path, a_slow=SLOW, b_fast=FAST)
    started = time.monotonic()
    build = start(tmp_path, "build", "problems", "-o", "out", "-f", "json", "--time-limit",
                     "10", "-j", jobs)
    out, err = build.communicate(timeout=120)
    assert time.monotonic() - started < 60
    assert build.returncode == 2, out + err
    assert err == ("error: problems/a_slow.toml: took longer than 10 s, the time limit of one "
                   "problem: make its [dims] or [check] sizes smaller, split it, or raise "
                   "--time-limit\n")
    assert outputs(tmp_path / "out") == ["b_fast.json"]
    assert out.splitlines()[-1] == "built 1, unchanged 0, failed 1"


def test_a_handout_derives_each_problem_within_the_time_limit(tmp_path):
    folder(tmp_path, a_fast=FAST, b_slow=SLOW)
    started = time.monotonic()
    handout = start(tmp_path, "handout", "problems", "-o", "out/week", "--title", "W",
                    "--time-limit", "5")
    out, err = handout.communicate(timeout=120)
    assert time.monotonic() - started < 60
    assert (handout.returncode, out) == (2, "")
    assert err == ("error: problems/b_slow.toml: took longer than 5 s, the time limit of one "
                   "problem: make its [dims] or [check] sizes smaller, split it, or raise "
                   "--time-limit\n")
    assert not (tmp_path / "out").exists()


def test_a_time_limit_swallowed_once_still_ends_the_problem():
    """The signal's exception can land where Python ignores it (a gc callback, as
    hypothesis's in CI, or a __del__): the timer fires again."""
    from derivgen.budget import time_limit
    from derivgen.errors import ProblemError
    caught, start = 0, time.monotonic()
    with pytest.raises(ProblemError, match="took longer than 0.1 s"):
        with time_limit(0.1, "p.toml"):
            while True:
                try:
                    while True:
                        pass
                except BaseException:       # as Python does with an exception in a callback
                    caught += 1
                    if caught == 2:
                        raise
    assert caught == 2 and 1.0 < time.monotonic() - start < 5


def test_finished_problems_are_written_while_a_slow_one_runs(tmp_path):
    folder(tmp_path, a_slow=SLOW, b_fast=FAST)
    build = start(tmp_path, "build", "problems", "-o", "out", "-f", "json", "-j", "2")
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "out" / "b_fast.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (tmp_path / "out" / "b_fast.json").exists()
        assert build.poll() is None                     # the slow one is still running
    finally:
        build.kill()
        build.wait()


def parallel_build_of_two_slow_problems(tmp_path) -> tuple[subprocess.Popen, set[int]]:
    """A ``-j 2`` build, once both its workers are deriving; and their process ids."""
    folder(tmp_path, a_slow=SLOW, b_slow=SLOW)
    build = start(tmp_path, "build", "problems", "-o", "out", "-f", "json", "-j", "2")
    deadline = time.monotonic() + 30
    while len(workers := children(build.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(workers) >= 2
    return build, workers


def assert_gone(workers: set[int]) -> None:
    deadline = time.monotonic() + 10
    while any(map(alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(alive, workers))


def test_killing_a_build_kills_its_workers(tmp_path):
    build, workers = parallel_build_of_two_slow_problems(tmp_path)
    build.kill()                                        # SIGKILL: no clean-up code runs
    build.wait()
    assert_gone(workers)


def test_ctrl_c_is_an_interruption_not_a_failed_verification(tmp_path):
    folder(tmp_path, a_slow=SLOW)
    build = start(tmp_path, "build", "problems", "-o", "out", "-f", "json", "-j", "1")
    time.sleep(2)
    build.send_signal(signal.SIGINT)
    out, err = build.communicate(timeout=30)
    assert build.returncode == 130
    assert err == "error: interrupted\n"
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.json"))


def test_a_process_over_its_memory_limit_gets_a_memory_error():
    done = subprocess.run([sys.executable, "-c", "\n".join([
        "from derivgen.budget import limit_memory",
        "limit_memory(1 << 30)",
        "try:",
        "    bytearray(2 << 30)",
        "except MemoryError:",
        "    print('refused')"])], capture_output=True, text=True)
    assert done.stdout == "refused\n", done.stderr


def test_running_out_of_memory_is_one_clear_line(cli, tmp_path, monkeypatch):
    folder(tmp_path, a=FAST, b=FAST.replace("Log-sum-exp", "Log-sum-exp again"))

    def exhausted(path, data):
        if path.name == "a.toml":
            raise MemoryError
        return derive(path, data)
    derive = derivgen.api.derive_file
    monkeypatch.setattr(derivgen.api, "derive_file", exhausted)
    result = cli("build", "problems", "-o", "out", "-f", "json", "-j", "1", "--memory-limit", "0")
    assert result.exit_code == 2
    assert result.stderr == ("error: problems/a.toml: ran out of memory: make its [dims] sizes "
                             "smaller or split it\n")
    assert outputs(tmp_path / "out") == ["b.json"]


def test_a_handout_running_out_of_memory_is_one_clear_line(cli, tmp_path, monkeypatch):
    folder(tmp_path, a=FAST)

    def exhausted(path, data=None):
        raise MemoryError
    monkeypatch.setattr(derivgen.handout, "derive_file", exhausted)
    result = cli("handout", "problems", "-o", "out/week", "--title", "W", "--memory-limit", "0")
    assert result.exit_code == 2
    assert result.stderr == ("error: problems/a.toml: ran out of memory: make its [dims] sizes "
                             "smaller or split it\n")
    assert not (tmp_path / "out").exists()


def test_terminating_a_parallel_build_ends_it_at_once(tmp_path):
    build, workers = parallel_build_of_two_slow_problems(tmp_path)
    started = time.monotonic()
    build.terminate()
    build.communicate(timeout=30)
    assert time.monotonic() - started < 10 and build.returncode == 128 + signal.SIGTERM
    assert_gone(workers)
