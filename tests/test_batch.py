"""Batch builds for a course: processes, incremental rebuilds, check mode,
and outputs that are written whole or not at all."""

import json
import os
import signal
import subprocess
import sys
import time

from conftest import ROOT, SOFTMAX
from derivgen import api

SMALL = ["logsumexp", "least_squares", "cookbook_trace", "ridge_regression"]


def copy_problems(tmp_path, names=SMALL):
    folder = tmp_path / "problems"
    folder.mkdir(parents=True)
    for name in names:
        (folder / f"{name}.toml").write_text((ROOT / "problems" / f"{name}.toml").read_text())
    return folder


def visible(folder):
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def test_jobs_build_every_problem_and_a_rebuild_skips_them_all(cli, tmp_path):
    copy_problems(tmp_path)
    first = cli("build", "problems", "-o", "out", "-f", "json", "-j", "2")
    assert first.exit_code == 0, first.stderr
    assert first.stdout.splitlines()[-1] == "built 4, unchanged 0, failed 0"
    assert visible(tmp_path / "out") == sorted(f"{n}.json" for n in SMALL)
    again = cli("build", "problems", "-o", "out", "-f", "json", "-j", "2")
    assert again.stdout.splitlines() == sorted(f"problems/{n}.toml: unchanged" for n in SMALL) + [
        "built 0, unchanged 4, failed 0"]
    forced = cli("build", "problems", "-o", "out", "-f", "json", "--force")
    assert forced.stdout.splitlines()[-1] == "built 4, unchanged 0, failed 0"


def test_a_change_to_a_problem_or_the_formats_rebuilds_just_what_it_must(cli, tmp_path):
    folder = copy_problems(tmp_path)
    cli("build", "problems", "-o", "out", "-f", "json")
    edited = folder / "least_squares.toml"
    edited.write_text(edited.read_text().replace('title = "', 'title = "Edited: ', 1))
    result = cli("build", "problems", "-o", "out", "-f", "json")
    assert result.stdout.splitlines()[-1] == "built 1, unchanged 3, failed 0"
    assert "Edited: " in json.loads((tmp_path / "out" / "least_squares.json").read_text())["title"]
    assert cli("build", "problems", "-o", "out", "-f", "json,md").stdout.splitlines()[-1] == \
        "built 4, unchanged 0, failed 0"


def test_a_changed_template_rebuilds(cli, tmp_path):
    copy_problems(tmp_path, ["logsumexp"])
    cli("build", "problems", "-o", "out", "-f", "md")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "report.md.j2").write_text('{% extends "base.md.j2" %}\n'
                                                         "{% block summary %}Mine.{% endblock %}\n")
    result = cli("build", "problems", "-o", "out", "-f", "md")
    assert result.stdout.startswith("problems/logsumexp.toml: 1 of 1 gradient"), result.stdout
    assert "Mine." in (tmp_path / "out" / "logsumexp.md").read_text()


def test_one_failing_problem_never_stops_or_corrupts_the_others(cli, tmp_path):
    folder = copy_problems(tmp_path)
    (folder / "broken.toml").write_text(SOFTMAX.replace('S = "(A - Y) / N"', 'S = "A - Y"'))
    result = cli("build", "problems", "-o", "out", "-f", "json", "-j", "2")
    assert result.exit_code == 1                        # the refuted claim
    assert result.stderr.startswith("error: problems/broken.toml:24: expect.S: claim 'A - Y' is refuted")
    assert result.stdout.splitlines()[-1] == "built 4, unchanged 0, failed 1"
    assert visible(tmp_path / "out") == sorted(f"{n}.json" for n in SMALL)
    for name in SMALL:
        assert json.loads((tmp_path / "out" / f"{name}.json").read_text())["problem"] == name


def test_check_fails_on_a_hand_edited_output_and_passes_after_a_rebuild(cli, tmp_path):
    copy_problems(tmp_path)
    assert cli("check", "problems", "-o", "out", "-f", "json").exit_code == 1       # nothing yet
    cli("build", "problems", "-o", "out", "-f", "json")
    assert cli("check", "problems", "-o", "out", "-f", "json").stdout == \
        "current 4, stale 0, missing 0, failed 0\n"
    edited = tmp_path / "out" / "least_squares.json"
    edited.write_text(edited.read_text().replace("confirmed", "hand-edited"))
    (tmp_path / "out" / "logsumexp.json").unlink()
    result = cli("check", "problems", "-o", "out", "-f", "json")
    assert result.exit_code == 1
    *listed, summary, advice = result.stdout.splitlines()
    assert listed == [
        "out/least_squares.json: stale (differs from a fresh build) of problems/least_squares.toml",
        "out/logsumexp.json: missing of problems/logsumexp.toml"]
    assert summary == "current 2, stale 1, missing 1, failed 0"
    assert advice == "to bring them up to date, run: derivgen build problems -o out --format json"
    rebuilt = cli(*advice.split("run: derivgen ")[1].split())
    assert rebuilt.stdout.splitlines()[-1] == "built 2, unchanged 2, failed 0"
    assert cli("check", "problems", "-o", "out", "-f", "json").exit_code == 0


def test_check_defaults_to_the_problems_folder(cli, tmp_path):
    copy_problems(tmp_path, ["logsumexp"])
    cli("build", "problems", "-f", "md,json")
    result = cli("check", "-f", "md,json")
    assert (result.exit_code, result.stdout) == (0, "current 1, stale 0, missing 0, failed 0\n")


def test_a_build_killed_midway_leaves_no_partial_or_temporary_file(tmp_path):
    copy_problems(tmp_path, ["logsumexp", "least_squares", "cookbook_trace", "ridge_regression",
                             "layer_norm", "attention", "two_layer_tanh"])
    out = tmp_path / "out"
    build = subprocess.Popen([sys.executable, "-m", "derivgen", "build", "problems", "-o", "out",
                              "-f", "md,json", "-j", "1"], cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (out.is_dir() and any(out.glob("*.json"))) and time.monotonic() < deadline:
        time.sleep(0.05)
    build.send_signal(signal.SIGTERM)
    build.wait(timeout=60)
    leftovers = [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert not leftovers
    for path in out.glob("*.json"):
        if path.name != ".derivgen.json":
            assert json.loads(path.read_text())["gradients"]          # whole, not partial
    # a leftover from a build killed outright (SIGKILL) is cleared by the next build, once
    # it is old enough not to belong to a build running beside this one
    leftover, fresh = out / ".logsumexp.md.abc123.tmp", out / ".least_squares.md.def456.tmp"
    leftover.write_text("partial")
    fresh.write_text("partial")
    os.utime(leftover, (time.time() - 3600, time.time() - 3600))
    subprocess.run([sys.executable, "-m", "derivgen", "build", "problems", "-o", "out", "-f",
                    "md,json"], cwd=tmp_path, check=True, capture_output=True)
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] == [fresh.name]
    assert os.path.getsize(out / "logsumexp.md") > 1000


def test_on_a_terminal_a_progress_bar_stands_for_the_lines_that_went_well(cli, tmp_path,
                                                                          monkeypatch):
    folder = copy_problems(tmp_path, ["logsumexp", "cookbook_trace"])
    (folder / "broken.toml").write_text("title = 1\n")
    monkeypatch.setattr("derivgen.cli.interactive", lambda: True)
    result = cli("build", "problems", "-o", "out", "-f", "json")
    assert result.stdout == "built 2, unchanged 0, failed 1\n"
    assert "error: problems/broken.toml:1: title: expected a string, got an integer" in result.stderr
    assert "deriving" in result.stderr


def test_two_problems_with_one_output_name_are_both_refused(cli, tmp_path):
    for week in ("week1", "week2"):
        copy_problems(tmp_path / week, ["logsumexp"])
    copy_problems(tmp_path / "week3", ["least_squares"])
    folders = ["week1/problems", "week2/problems", "week3/problems"]
    result = cli("build", *folders, "-o", "out", "-f", "json")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: week{a}/problems/logsumexp.toml: its output logsumexp.json would also be that "
        f"of week{b}/problems/logsumexp.toml: rename one, or build them into different "
        "output folders (-o)" for a, b in (("1", "2"), ("2", "1"))]
    assert visible(tmp_path / "out") == ["least_squares.json"]
    check = cli("check", *folders, "-o", "out", "-f", "json")
    assert check.exit_code == 2 and check.stderr == result.stderr


def test_a_torch_module_and_a_numpy_module_of_one_name_are_both_refused(tmp_path):
    """a_torch.toml's NumPy module and a.toml's torch module would both be a_torch.py
    (through the API: the command refuses --format torch where torch is missing)."""
    first = copy_problems(tmp_path / "p", ["logsumexp"]) / "logsumexp.toml"
    first = first.rename(first.with_name("logsumexp_torch.toml"))
    second = copy_problems(tmp_path / "q", ["logsumexp"]) / "logsumexp.toml"
    outcomes = api.build([first, second], out_dir=tmp_path / "out", formats=("py", "torch"))
    assert [(o.status, str(o.error)) for o in outcomes] == [
        ("failed", f"{first}: its output logsumexp_torch.py would also be that of {second}: "
                   "rename one, or build them into different output folders (-o)"),
        ("failed", f"{second}: its output logsumexp_torch.py would also be that of {first}: "
                   "rename one, or build them into different output folders (-o)")]
    assert not (tmp_path / "out").exists()


def test_a_problem_from_standard_input_is_read_once_and_named_stdin(tmp_path):
    done = subprocess.run([sys.executable, "-m", "derivgen", "build", "-", "-o", "out", "-f",
                           "md,json"], cwd=tmp_path, input=SOFTMAX, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("<stdin>: 3 of 3 gradients in matrix form, all verified")
    assert visible(tmp_path / "out") == ["stdin.json", "stdin.md"]
    assert json.loads((tmp_path / "out" / "stdin.json").read_text())["problem"] == "stdin"
    refused = subprocess.run([sys.executable, "-m", "derivgen", "build", "-"], cwd=tmp_path,
                             input=SOFTMAX.replace("softmax(", "softmx("), capture_output=True,
                             text=True)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: <stdin>:") and "unknown function 'softmx'" in \
        refused.stderr


def test_only_regular_files_are_read(cli, tmp_path):
    """A FIFO would block a folder's build forever, a device never end."""
    folder = copy_problems(tmp_path, ["logsumexp"])
    os.mkfifo(folder / "pipe.toml")
    (folder / "folder.toml").mkdir()
    result = cli("build", "problems", "/dev/zero", "-o", "out", "-f", "json")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: problems/folder.toml: is a folder, not a problem file",
        "error: problems/pipe.toml: is not a regular file (for standard input, give -)",
        "error: /dev/zero: is not a regular file (for standard input, give -)"]
    assert visible(tmp_path / "out") == ["logsumexp.json"]


def test_check_exits_2_for_bad_input_and_1_for_stale_outputs(cli, tmp_path):
    folder = copy_problems(tmp_path, ["logsumexp"])
    assert cli("check", "problems", "-o", "out", "-f", "json").exit_code == 1      # missing
    (folder / "broken.toml").write_text('title = "x"\n')
    result = cli("check", "problems", "-o", "out", "-f", "json")
    assert result.exit_code == 2
    assert result.stderr == "error: problems/broken.toml: dims: missing required key\n"


def test_github_annotations_name_file_and_line_and_cannot_be_forged(cli, tmp_path):
    folder = copy_problems(tmp_path, ["logsumexp"])
    (folder / "bad.toml").write_text('title = "x"\n"a,b:c\\n::error::forged" = 1\n')
    result = cli("build", "problems", "-o", "out", "-f", "json", "--github")
    assert result.exit_code == 2
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert annotations == [
        "::error file=problems/bad.toml,line=2::a,b:c\\n::error::forged: unknown key "
        "'a,b:c\\n::error::forged' in the top level"]
    edited = tmp_path / "out" / "logsumexp.json"
    edited.write_text("hand-edited")
    check = cli("check", "problems/logsumexp.toml", "-o", "out", "-f", "json", "--github")
    assert check.exit_code == 1
    assert [line for line in check.stdout.splitlines() if line.startswith("::")] == [
        "::error file=out/logsumexp.json::stale (differs from a fresh build) of "
        "problems/logsumexp.toml: rebuild it with derivgen build"]


def test_annotation_properties_and_messages_are_escaped(capsys):
    from derivgen.cli import annotate
    annotate("50% done\nnext", "a,b:c.toml", 3, 7)
    assert capsys.readouterr().out == "::error file=a%2Cb%3Ac.toml,line=3,col=7::50%25 done\\nnext\n"
