"""The ``derivgen`` command: a thin layer of click over :mod:`derivgen.api`.

This is the only module that prints errors and chooses exit codes:
0 success, 1 a derivation whose verification failed, 2 bad input,
3 an internal error (a bug in derivgen: please report it).
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click

from . import __version__, api
from .errors import DerivgenError, VerificationError

EXIT_OK, EXIT_VERIFICATION, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def report(error: BaseException, debug: bool, path: Path | None = None) -> None:
    """Print one line for ``error`` on stderr (and its traceback with --debug)."""
    if debug:
        traceback.print_exception(error)
    if isinstance(error, DerivgenError):
        click.echo(f"error: {error}", err=True)
    else:
        where = f"{path}: " if path else ""
        click.echo(f"error: {where}internal error: {type(error).__name__}: {error} "
                   "(run with --debug for the traceback, and please report it)", err=True)


def exit_code(error: BaseException) -> int:
    if not isinstance(error, DerivgenError):
        return EXIT_INTERNAL
    return EXIT_VERIFICATION if isinstance(error, VerificationError) else EXIT_BAD_INPUT


def parse_formats(value: str) -> tuple[str, ...]:
    formats = tuple(f.strip() for f in value.split(",") if f.strip())
    unknown = [f for f in formats if f not in api.FORMATS]
    if unknown or not formats:
        raise click.BadParameter(f"unknown format {', '.join(unknown) or '(none)'}; choose from "
                                 + ", ".join(api.FORMATS))
    return formats


debug_option = click.option("--debug", is_flag=True,
                            help="Show Python tracebacks (for reporting bugs in derivgen).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="derivgen")
def main() -> None:
    """derivgen: step-by-step derivations of matrix gradients.

    Write a problem file (see docs/problem-format.md) and run
    `derivgen build FILE`.
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "out", default="output", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the generated files.")
@click.option("-f", "--format", "formats", default=",".join(api.DEFAULT_FORMATS),
              show_default=True, callback=lambda ctx, param, value: parse_formats(value),
              help="Comma-separated outputs: " + ", ".join(api.FORMATS) + ".")
@click.option("--templates", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Folder of templates searched before the project's and derivgen's own.")
@debug_option
def build(paths: tuple[Path, ...], out: Path, formats: tuple[str, ...], templates: Path | None,
          debug: bool) -> None:
    """Derive, verify and write the gradients of problem files (FILE, or FOLDER of *.toml)."""
    try:
        outcomes = api.build(paths, out, formats, templates)
    except Exception as error:           # a bug, not the user's input
        report(error, debug)
        sys.exit(EXIT_INTERNAL)
    status = EXIT_OK
    for outcome in outcomes:
        if outcome.error:
            report(outcome.error, debug, outcome.path)
            status = max(status, exit_code(outcome.error))
            continue
        d = outcome.derivation
        forms = sum(g.matrix_form for g in d.gradients.values())
        claims = f", {plural(len(d.claims), '[expect] claim')} confirmed" if d.claims else ""
        written = ", ".join(map(str, outcome.written))
        click.echo(f"{outcome.path}: {forms} of {plural(len(d.gradients), 'gradient')} in matrix "
                   f"form, all verified{claims} -> {written}")
    sys.exit(status)
