"""Wall-clock benchmarks of derivgen, as a user meets it: whole commands, cold.

    python benchmarks/bench.py [--runs 5]

Prints a Markdown table: the median of several runs of
- `python -c "import sympy"`, the floor every build pays;
- `derivgen build problems/softmax.toml` (cold, all checks), and its ratio to the floor;
- `derivgen --help`;
- `derivgen build` of every gallery problem, and of the whole gallery with -j 1 and -j 2;
- a rebuild with nothing changed.
(`--force` everywhere but the last, so that every run really builds.)
Timing lives here, never in the tests.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def median_seconds(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per command (default 5)")
    runs = parser.parse_args().runs
    out = tempfile.mkdtemp(prefix="derivgen-bench-")
    derivgen = [sys.executable, "-m", "derivgen"]

    floor = median_seconds([sys.executable, "-c", "import sympy"], runs)
    softmax = median_seconds([*derivgen, "build", "problems/softmax.toml", "-o", out, "--force"],
                             runs)
    rows = [("`python -c \"import sympy\"`", floor, ""),
            ("`derivgen build problems/softmax.toml`", softmax, f"{softmax / floor:.2f}× import sympy"),
            ("`derivgen --help`", median_seconds([*derivgen, "--help"], runs), "")]
    for problem in sorted((ROOT / "problems").glob("*.toml")):
        rows.append((f"build `{problem.name}`", median_seconds(
            [*derivgen, "build", str(problem.relative_to(ROOT)), "-o", out, "--force"], runs), ""))
    gallery = [*derivgen, "build", "problems", "-o", out, "--force"]
    one = median_seconds([*gallery, "-j", "1"], runs)
    two = median_seconds([*gallery, "-j", "2"], runs)
    rows += [("`derivgen build problems/ -j 1` (whole gallery)", one, ""),
             ("`derivgen build problems/ -j 2` (whole gallery)", two, f"{one / two:.2f}× faster"),
             ("rebuild with nothing changed", median_seconds(gallery[:-1], runs), "all unchanged")]

    import sympy
    print(f"Machine: {platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}, sympy {sympy.__version__}; median of {runs} runs.\n")
    print("| what | seconds | note |\n| --- | ---: | --- |")
    for what, seconds, note in rows:
        print(f"| {what} | {seconds:.2f} | {note} |")


if __name__ == "__main__":
    main()
