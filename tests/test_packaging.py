"""What ships: the wheel carries the templates and the format's documentation and
runs without a checkout; the sdist carries its license and runs its own tests."""

import os
import subprocess
import sys
import tarfile
import zipfile

from conftest import ROOT


def test_wheel_ships_templates_and_documentation_and_runs_from_anywhere(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", tmp_path / "dist", ROOT], check=True)
    (wheel,) = (tmp_path / "dist").glob("derivgen-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    templates = {p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*") if p.is_file()}
    assert templates and {f"derivgen/{t}" for t in templates} <= shipped
    assert {"derivgen/docs/problem-format.md",
            "derivgen-0.1.0.dist-info/licenses/LICENSE"} <= shipped
    metadata = zipfile.ZipFile(wheel).read("derivgen-0.1.0.dist-info/METADATA").decode()
    assert "License-Expression: MIT" in metadata
    assert "Classifier: Topic :: Scientific/Engineering :: Mathematics" in metadata

    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    tmp_path / "site", wheel], check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    result = subprocess.run(
        [sys.executable, "-c", "import derivgen, derivgen.resources as r; "
                               "print(derivgen.__file__); print(r.builtin_templates())"],
        cwd=elsewhere, capture_output=True, text=True, check=True, env=env)
    package, folder = result.stdout.splitlines()
    assert package.startswith(str(tmp_path / "site"))
    assert folder == str(tmp_path / "site" / "derivgen" / "templates")
    assert (tmp_path / "site" / "derivgen" / "templates" / "README.md").is_file()
    help_format = subprocess.run([sys.executable, "-m", "derivgen", "help", "format"],
                                 cwd=elsewhere, capture_output=True, text=True, env=env)
    assert help_format.returncode == 0, help_format.stderr
    assert help_format.stdout == (ROOT / "docs" / "problem-format.md").read_text(encoding="utf-8")


def test_the_sdist_runs_its_own_tests(tmp_path):
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d",
                    tmp_path / "dist"], cwd=ROOT, check=True, capture_output=True)
    (sdist,) = (tmp_path / "dist").glob("derivgen-*.tar.gz")
    with tarfile.open(sdist) as archive:
        # extraction filters arrived in Python 3.11.4 (Debian 12 has 3.11.2)
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        archive.extractall(tmp_path, **safe)
    unpacked = tmp_path / sdist.name.removesuffix(".tar.gz")
    assert (unpacked / "LICENSE").is_file() and (unpacked / "output" / "softmax.md").is_file()
    # the unpacked package, not this checkout, is the one imported (PYTHONPATH comes first)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_outputs.py::test_committed_outputs_are_current", "tests/test_problem.py",
         "tests/test_cli.py"],
        cwd=unpacked, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(unpacked)})
    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" in done.stdout.splitlines()[-1] and "failed" not in done.stdout.splitlines()[-1]


def test_ci_runs_the_readme_test_command_with_ci_set():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [block.split("```")[0].strip() for block in quick_start.split("```sh\n")[1:]]
    assert len(commands) == 2 and commands[0].endswith("derivgen build problems/softmax.toml")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci.splitlines()
    assert 'export CI="${CI:-true}"' in ci
