"""How a cold build grows with the number of steps: chained tanh layers (their
gradients, and the Jacobian of the last layer's output by the input), and the
gallery's transformer block.

    python benchmarks/scaling.py [--layers 1,2,4,8,12] [--runs 3]

An MLP of L layers H_i = tanh(H_{i-1} @ W_i) (N = D = 2), read out linearly, with
the gradient of every W_i: the median wall-clock seconds of a cold
`derivgen build --format json` (all proofs and checks) and the seconds each layer
adds beyond the smallest model. Then the Jacobian of h_L = tanh(W_L h_{L-1}),
h_0 = x (n = 3), by x: diag(1 − h_L²) W_L ⋯ diag(1 − h_1²) W_1, each step's matrix
proven on its own. Then problems/transformer_block.toml the same way. Prints
Markdown tables.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def mlp(layers: int) -> str:
    lines = [f'title = "{layers} tanh layers"', "[dims]", "N = 2", "D = 2", "[inputs]",
             'X = { shape = ["N", "D"], constant = true }',
             *(f'W{i} = {{ shape = ["D", "D"] }}' for i in range(1, layers + 1)),
             'R = { shape = ["N", "D"], constant = true }', "[steps]",
             *(f'H{i} = "tanh({"X" if i == 1 else f"H{i - 1}"} @ W{i})"'
               for i in range(1, layers + 1)),
             f'L = "sum(R * H{layers})"', "[derive]", 'of = "L"',
             "wrt = [" + ", ".join(f'"W{i}"' for i in range(1, layers + 1)) + "]"]
    return "\n".join(lines) + "\n"


def chain(layers: int) -> str:
    lines = [f'title = "Jacobian of {layers} tanh layers"', "[dims]", "n = 3", "[inputs]",
             'x = { shape = ["n", 1] }',
             *(f'W{i} = {{ shape = ["n", "n"], constant = true }}' for i in range(1, layers + 1)),
             "[steps]",
             *(f'h{i} = "tanh(W{i} @ {"x" if i == 1 else f"h{i - 1}"})"'
               for i in range(1, layers + 1)),
             "[derive]", f'of = "h{layers}"']
    return "\n".join(lines) + "\n"


def cold_build(problem: Path, out: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "derivgen", "build", str(problem), "-o", out,
                        "-f", "json", "--force"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", default="1,2,4,8,12")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for what, problem_text in (("tanh layers (gradients)", mlp),
                                   ("tanh layers (Jacobian by x)", chain)):
            # what a layer adds: the slope from the smallest model, so that the fixed cost
            # of a build (importing sympy and numpy) is not spread over the layers
            print(f"\n| {what} | cold build (s) | seconds per added layer |")
            print("| ---: | ---: | ---: |")
            first = None
            for layers in map(int, args.layers.split(",")):
                problem = Path(tmp) / f"chain{layers}.toml"
                problem.write_text(problem_text(layers))
                seconds = cold_build(problem, tmp, args.runs)
                first = first or (layers, seconds)
                slope = "" if layers == first[0] else \
                    f"{(seconds - first[1]) / (layers - first[0]):.2f}"
                print(f"| {layers} | {seconds:.2f} | {slope} |")
        block = cold_build(ROOT / "problems" / "transformer_block.toml", tmp, args.runs)
        print(f"\n| problem | cold build (s) |\n| --- | ---: |\n| transformer_block.toml | {block:.2f} |")


if __name__ == "__main__":
    main()
