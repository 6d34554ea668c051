"""The element-wise symbolic verification of the softmax problem, against the naive route.

    python benchmarks/verification.py [--sizes 3,5,8,12,16] [--timeout 120]

For C = D = N = n, times (in a fresh process each, so that sympy's caches do
not carry over):
- derivgen's route: the whole derivation (derivgen.derivation.derive: the
  reverse pass, the local proof of every rule, index form and simplification,
  the numeric checks), at problems/softmax.toml with its [dims] set to n;
- the naive route of seed 001: write the loss out entry by entry in terms of
  W, X and Y, then differentiate it by each entry of W — skipped (shown as
  "> timeout") where it does not finish within the timeout.
Prints a Markdown table with the ratio naive / derivgen at each size.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DERIVGEN = """
import sys, time
from derivgen.derivation import derive
from derivgen.problem import load
problem = load(sys.argv[1])
start = time.perf_counter()
derive(problem)
print(time.perf_counter() - start)
"""

NAIVE = """
import sys, time
import sympy as sp
n = int(sys.argv[1])
start = time.perf_counter()
W, X, Y = (sp.Matrix(n, n, lambda i, j, c=c: sp.Symbol(f"{c}{i}{j}")) for c in "WXY")
S = W * X
E = S.applyfunc(sp.exp)
A = sp.Matrix(n, n, lambda i, j: E[i, j] / sum(E[:, j]))
L = sp.expand(-sum(Y[i, j] * sp.log(A[i, j]) for i in range(n) for j in range(n)) / n)
grads = [L.diff(w) for w in W]
print(time.perf_counter() - start)
"""


def timed(code: str, args: list[str], timeout: float) -> float | None:
    try:
        done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                              text=True, timeout=timeout, check=True, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return None
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3,5,8,12,16")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    softmax = (ROOT / "problems" / "softmax.toml").read_text()
    print("| C = D = N | derivgen (s) | naive route (s) | naive / derivgen |")
    print("| ---: | ---: | ---: | ---: |")
    for n in map(int, args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            problem = Path(tmp) / "softmax.toml"
            problem.write_text(re.sub(r"^([CDN]) = \d+", rf"\1 = {n}", softmax, flags=re.M))
            ours = timed(DERIVGEN, [str(problem)], 10 * args.timeout)
        naive = timed(NAIVE, [str(n)], args.timeout)
        ratio = f"{naive / ours:.1f}×" if naive and ours else "—"
        print(f"| {n} | {ours:.2f} | {f'{naive:.2f}' if naive else f'> {args.timeout:.0f}'} "
              f"| {ratio} |", flush=True)


if __name__ == "__main__":
    main()
