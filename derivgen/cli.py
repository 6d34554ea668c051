"""The ``derivgen`` command: a thin layer of click over :mod:`derivgen.api`.

This is the only module that prints errors and chooses exit codes:
0 success, 1 a derivation whose verification failed, 2 bad input,
3 an internal error (a bug in derivgen: please report it).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shlex
import signal
import sys
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import click

from . import __version__, api
from .budget import DEFAULT_MEMORY_LIMIT, DEFAULT_TIME_LIMIT, limit_memory
from .errors import DerivgenError, VerificationError, one_line

EXIT_OK, EXIT_VERIFICATION, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED = 128 + signal.SIGINT


def say(line: str, err: bool = False) -> None:
    """Print one line of a log, whatever file names it quotes (see one_line)."""
    click.echo(one_line(line), err=err)


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def annotate(message: str, file: str | None, line: int | None = None,
             column: int | None = None) -> None:
    """A GitHub Actions annotation (``::error file=F,line=L,col=C::message``) on
    stdout, escaped as the runner reads it, so that no text can end it early."""
    def escape(text: str, prop: bool = False) -> str:
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return text.replace(":", "%3A").replace(",", "%2C") if prop else text
    where = ",".join(f"{name}={escape(str(value), prop=True)}" for name, value in
                     (("file", file), ("line", line), ("col", column)) if value)
    click.echo(f"::error {where}::{escape(one_line(message))}")


def report(error: BaseException, debug: bool, path: Path | None = None,
           github: bool = False) -> None:
    """Print one line for ``error`` on stderr (and its traceback with --debug; and a
    GitHub annotation with --github)."""
    if debug:
        traceback.print_exception(error)
    if isinstance(error, DerivgenError):
        say(f"error: {error}", err=True)
        if github:
            key = f"{error.key}: " if error.key else ""
            annotate(key + error.message, error.file, error.line, error.column)
    else:
        where = f"{api.display_name(path)}: " if path else ""
        message = (f"internal error: {type(error).__name__}: {error} (run with --debug for "
                   "the traceback, and please report it)")
        say(f"error: {where}{message}", err=True)
        if github:
            annotate(message, api.display_name(path) if path else None)


def exit_code(error: BaseException) -> int:
    if not isinstance(error, DerivgenError):
        return EXIT_INTERNAL
    return EXIT_VERIFICATION if isinstance(error, VerificationError) else EXIT_BAD_INPUT


def parse_formats(value: str, allowed: tuple[str, ...] = api.FORMATS) -> tuple[str, ...]:
    formats = tuple(f.strip() for f in value.split(",") if f.strip())
    unknown = [f for f in formats if f not in allowed]
    if unknown or not formats:
        raise click.BadParameter(f"unknown format {', '.join(unknown) or '(none)'}; choose from "
                                 + ", ".join(allowed))
    # the module it writes is for PyTorch users, and is checked against torch.autograd;
    # derivgen itself never imports torch (found here, not loaded)
    if "torch" in formats and importlib.util.find_spec("torch") is None:
        raise click.UsageError("--format torch needs PyTorch: pip install torch")
    return formats


debug_option = click.option("--debug", is_flag=True,
                            help="Show Python tracebacks (for reporting bugs in derivgen).")


class _Command(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError as error:       # one line, as every refusal is
            command = " ".join(filter(None, ["derivgen", ctx.invoked_subcommand]))
            say(f"error: {error.format_message()} (see: {command} --help)", err=True)
            ctx.exit(EXIT_BAD_INPUT)
        except KeyboardInterrupt:               # not exit 1, which means "failed verification"
            say("error: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)


@click.group(cls=_Command, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="derivgen")
def main() -> None:
    """derivgen: step-by-step derivations of matrix gradients.

    Write a problem file (`derivgen new NAME` starts one; `derivgen help format`
    describes the format) and run `derivgen build FILE`.
    """
    # terminated builds unwind like interrupted ones: temporary files are removed
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    # derivgen's matrices are small: BLAS threads would only cost start-up time and,
    # under the memory limit, address space (numpy is imported later, on first use)
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")


time_limit_option = click.option(
    "--time-limit", type=click.FloatRange(min=0), default=DEFAULT_TIME_LIMIT, show_default=True,
    help="Seconds one problem may take (0: no limit).")
memory_limit_option = click.option(
    "--memory-limit", type=click.FloatRange(min=0), default=DEFAULT_MEMORY_LIMIT / (1 << 30),
    show_default=True, callback=lambda ctx, param, value: int(value * (1 << 30)) or None,
    help="GiB of memory one problem may use (0: no limit).")
self_contained_option = click.option(
    "--self-contained", "katex", metavar="KATEX",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    callback=lambda ctx, param, value: katex_folder(value),
    help="HTML pages inline this KaTeX (npm's katex package or its dist/) and work "
         "offline; without it they load KaTeX from a pinned CDN.")


def build_options(command):
    """The options build and check share, gathered into one :class:`api.Options`,
    which the command receives as ``options``."""
    @functools.wraps(command)
    def with_options(*args, out, formats, templates, katex, jobs, time_limit, memory_limit,
                     force=False, **kwargs):
        options = api.Options(out_dir=out, formats=formats, templates=templates, katex=katex,
                              jobs=jobs, force=force, time_limit=time_limit or None,
                              memory_limit=memory_limit)
        return command(*args, options=options, **kwargs)

    for option in reversed([
        click.option("-o", "--output", "out", default="output", show_default=True,
                     type=click.Path(file_okay=False, path_type=Path),
                     help="Folder for the generated files."),
        click.option("-f", "--format", "formats", default=",".join(api.DEFAULT_FORMATS),
                     show_default=True, callback=lambda ctx, param, value: parse_formats(value),
                     help="Comma-separated outputs: " + ", ".join(api.FORMATS) + "."),
        click.option("--templates", type=click.Path(file_okay=False, exists=True, path_type=Path),
                     help="Folder of templates searched before the project's and derivgen's own."),
        self_contained_option,
        click.option("-j", "--jobs", type=click.IntRange(min=1), default=os.cpu_count() or 1,
                     show_default="the number of CPUs", help="Problems built at once."),
        time_limit_option,
        memory_limit_option,
        click.option("--github", is_flag=True,
                     help="Also print each failure as a GitHub Actions annotation."),
        debug_option,
    ]):
        with_options = option(with_options)
    return with_options


def katex_folder(folder: Path | None) -> Path | None:
    """``folder``, once it is known to hold a KaTeX that pages can inline."""
    if folder is not None:
        from .html import katex_assets
        try:
            katex_assets(folder)
        except DerivgenError as error:
            raise click.BadParameter(error.message) from None
    return folder


def fit(options: api.Options, problems: list[Path]) -> api.Options:
    """No more processes than problems; with one, the problems run in this process,
    which then takes their memory limit on itself."""
    options = replace(options, jobs=max(1, min(options.jobs, len(problems))))
    if options.jobs == 1:
        limit_memory(options.memory_limit)
    return options


def interactive() -> bool:
    """Whether a person watches (stderr is a terminal): then a progress bar."""
    return sys.stderr.isatty()


def run(outcomes: Iterator[api.Outcome], total: int,
        show: Callable[[api.Outcome, bool], None]) -> None:
    """Show each outcome as it comes; on a terminal, under a progress bar that stands
    for the lines of the problems that went well (``show(outcome, quiet=True)``)."""
    if interactive() and total > 1:
        with click.progressbar(length=total, label="deriving", file=sys.stderr) as bar:
            for outcome in outcomes:
                show(outcome, True)
                bar.update(1)
        return
    for outcome in outcomes:
        show(outcome, False)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Rebuild even the problems whose inputs did not change.")
@build_options
def build(paths: tuple[Path, ...], options: api.Options, debug: bool, github: bool) -> None:
    """Derive, verify and write the gradients of problem files (FILE, or FOLDER of *.toml).

    A problem is rebuilt only when its file, the templates, the formats or
    derivgen changed; --force rebuilds all.
    """
    counts = Counter()
    status = EXIT_OK

    def show(outcome: api.Outcome, quiet: bool) -> None:
        nonlocal status
        counts[outcome.status] += 1
        if outcome.error:
            report(outcome.error, debug, outcome.path, github)
            status = max(status, exit_code(outcome.error))
        elif quiet:
            pass
        elif outcome.status == "unchanged":
            say(f"{api.display_name(outcome.path)}: unchanged")
        else:
            n = outcome.summary
            claims = (f", {plural(n['claims'], '[expect] claim')} confirmed"
                      if n["claims"] else "")
            written = ", ".join(map(str, outcome.written))
            derived = [f"{n['matrix_forms']} of {plural(n['gradients'], 'gradient')} in "
                       "matrix form"] if n["gradients"] else []
            derived += [f"{plural(n[key], word)} ({n[key + '_matrices']} as a matrix)"
                        for key, word in (("jacobians", "Jacobian"), ("hessians", "Hessian"))
                        if n.get(key)]
            say(f"{api.display_name(outcome.path)}: {', '.join(derived)}, all verified"
                f"{claims} -> {written}")

    problems = api.find_problems(paths)
    try:
        run(api.build_iter(paths, fit(options, problems)), len(problems), show)
    except Exception as error:           # a bug, not the user's input
        report(error, debug)
        sys.exit(EXIT_INTERNAL)
    if sum(counts.values()) > 1:
        click.echo(f"built {counts['built']}, unchanged {counts['unchanged']}, "
                   f"failed {counts['failed']}")
    sys.exit(status)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@build_options
def check(paths: tuple[Path, ...], options: api.Options, debug: bool, github: bool) -> None:
    """Check that the outputs of problem files are current (default: problems/).

    Derives in memory, compares with the files in the output folder and lists
    every output that is missing or stale, and every problem that fails
    verification; exit status 1 if there is any, 0 when all are current.
    """
    paths = paths or (Path("problems"),)
    counts = Counter()
    status = EXIT_OK

    def show(outcome: api.Outcome, quiet: bool) -> None:
        nonlocal status
        counts[outcome.status] += 1            # a check lists only what is wrong: never quiet
        if outcome.error:
            report(outcome.error, debug, outcome.path, github)
            status = max(status, exit_code(outcome.error))
        for target in outcome.differs:
            what = "missing" if not target.exists() else "stale (differs from a fresh build)"
            say(f"{target}: {what} of {api.display_name(outcome.path)}")
            if github:
                annotate(f"{what} of {api.display_name(outcome.path)}: rebuild it with "
                         "derivgen build", str(target))
            status = max(status, EXIT_VERIFICATION)

    problems = api.find_problems(paths)
    try:
        run(api.check_iter(paths, fit(options, problems)), len(problems), show)
    except Exception as error:
        report(error, debug)
        sys.exit(EXIT_INTERNAL)
    click.echo(f"current {counts['current']}, stale {counts['stale']}, missing {counts['missing']}, "
               f"failed {counts['failed']}")
    if counts["stale"] or counts["missing"]:
        command = (["derivgen", "build", *map(str, paths), "-o", str(options.out_dir),
                    "--format", ",".join(options.formats)]
                   + (["--templates", str(options.templates)] if options.templates else [])
                   + (["--self-contained", str(options.katex)] if options.katex else []))
        say(f"to bring them up to date, run: {shlex.join(command)}")
    sys.exit(status)


@main.command()
@click.argument("name")
@debug_option
def new(name: str, debug: bool) -> None:
    """Write NAME.toml, a commented problem file to start from."""
    from .authoring import new_problem
    target = Path(name if name.endswith(".toml") else f"{name}.toml")
    if target.exists():
        say(f"error: {target}: already exists; choose another name", err=True)
        sys.exit(EXIT_BAD_INPUT)
    api.write_atomically(target, new_problem(target.stem))
    say(f"{target}: written; edit it, then run: derivgen build {shlex.quote(str(target))}")


HELP_TOPICS = {"format": "the problem file format, the expression language and the JSON results"}


@main.command("help")
@click.argument("topic", required=False, type=click.Choice(list(HELP_TOPICS)))
@click.pass_context
def help_(ctx: click.Context, topic: str | None) -> None:
    """Show help on TOPIC (format), or on the derivgen command."""
    if topic is None:
        click.echo(ctx.parent.get_help())
        click.echo("\nTopics: " + "; ".join(f"derivgen help {t}: {what}"
                                             for t, what in HELP_TOPICS.items()))
        return
    from .resources import format_documentation
    click.echo(format_documentation(), nl=False)


@main.command()
def ops() -> None:
    """List the operators with their shapes and derivative rules."""
    from .authoring import operators_text
    click.echo(operators_text(), nl=False)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "out", required=True, type=click.Path(path_type=Path),
              help="The document's path without suffix, e.g. output/week3.")
@click.option("--title", required=True, help="The document's title.")
@click.option("--exercises", is_flag=True,
              help="Write the exercise sheet and, beside it, the matching solutions.")
@click.option("-f", "--format", "formats", default="md,tex", show_default=True,
              callback=lambda ctx, param, value: parse_formats(value, api.HANDOUT_FORMATS),
              help="Comma-separated outputs: " + ", ".join(api.HANDOUT_FORMATS) + ".")
@click.option("--templates", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Folder of templates searched before the project's and derivgen's own.")
@self_contained_option
@time_limit_option
@memory_limit_option
@debug_option
def handout(paths: tuple[Path, ...], out: Path, title: str, exercises: bool,
            formats: tuple[str, ...], templates: Path | None, katex: Path | None,
            time_limit: float, memory_limit: int | None, debug: bool) -> None:
    """One document of several problems (FILES or FOLDERS), numbered in order."""
    from .handout import handout as write_handout
    limit_memory(memory_limit)                  # the problems are derived in this process
    try:
        written = write_handout(paths, out, title, formats, exercises, templates, katex,
                                time_limit or None)
    except Exception as error:
        report(error, debug)
        sys.exit(exit_code(error))
    say("written: " + ", ".join(map(str, written)))
