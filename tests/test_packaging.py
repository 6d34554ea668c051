"""An installed wheel carries the templates and runs without a checkout."""

import os
import subprocess
import sys
import zipfile

from conftest import ROOT


def test_wheel_ships_templates_and_runs_from_anywhere(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", tmp_path / "dist", ROOT], check=True)
    (wheel,) = (tmp_path / "dist").glob("derivgen-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    templates = {p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*") if p.is_file()}
    assert templates and {f"derivgen/{t}" for t in templates} <= shipped

    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    tmp_path / "site", wheel], check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", "import derivgen, derivgen.resources as r; "
                               "print(derivgen.__file__); print(r.builtin_templates())"],
        cwd=elsewhere, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "site")})
    package, folder = result.stdout.splitlines()
    assert package.startswith(str(tmp_path / "site"))
    assert folder == str(tmp_path / "site" / "derivgen" / "templates")
    assert (tmp_path / "site" / "derivgen" / "templates" / "README.md").is_file()
