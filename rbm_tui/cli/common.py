"""What every ``rbm-tui`` command shares: exit codes, messages, tables, atomic output files,
Ctrl+C handling, loading DATA and MODEL arguments, the help formatter.

Nothing here imports torch, pandas or the engine's heavy modules at import time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import re
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

from engine.errors import RbmTuiError
from rbm_tui.cli.tables import fitted_table as fitted_table
from rbm_tui.cli.tables import print_pairs as print_pairs
from rbm_tui.cli.tables import shorten as shorten
from rbm_tui.cli.tables import table as table
from rbm_tui.cli.tables import terminal_width as terminal_width

PROG = "rbm-tui"
EXIT_OK = 0
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


class CLIError(RbmTuiError):
    """A user error found by the command line itself: one ``rbm-tui: error: ...`` line, exit 2."""


class Interrupted(Exception):
    """Ctrl+C (or SIGTERM, SIGHUP): the command stopped cleanly; exit code 128 + the signal's
    number (130, 143, 129)."""

    def __init__(self, message: str, code: int = EXIT_INTERRUPTED) -> None:
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------- output helpers
#: Messages longer than this are cut (a path list or a binary line must not flood the screen).
MESSAGE_LIMIT = 500


#: A terminal escape sequence (CSI, OSC, or a two-character one).
_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-_]?)")
#: Other control characters (a bare ESC, a bell, a backspace, C1 codes).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with terminal escape codes removed and other control characters shown as
    ``?``: what a file or torch says cannot move the cursor, recolour or retitle the
    terminal."""
    return _CONTROL.sub("?", _ESCAPE.sub("", str(text)))


def one_line(msg: str, limit: int = MESSAGE_LIMIT) -> str:
    """``msg`` on one line, printable (:func:`printable`), cut to ``limit`` characters with a
    note of how much was left out."""
    text = " ".join(printable(str(msg).replace("\t", " ").replace("\n", " ")).split())
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + f"… ({len(text) - limit:,} more characters)"


def err(msg: str) -> None:
    _to_stderr(f"{PROG}: {one_line(msg)}")


def warn(msg: str) -> None:
    err(f"warning: {msg}")


def info(msg: str) -> None:
    _to_stderr(msg)


def _to_stderr(line: str) -> None:
    """A line on stderr; a stderr that is gone (a terminal hung up) does not end the command
    (its exit status still tells)."""
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)


def fmt_num(x: Any, digits: int = 4) -> str:
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        return "n/a" if math.isnan(x) else f"{x:.{digits}f}"
    return str(x)


def print_json(obj: Any) -> None:
    from engine.formatting import json_safe

    print(json.dumps(json_safe(obj), indent=2, ensure_ascii=False))


def check_output(path: str | None) -> None:
    """Refuse an ``--output`` that can never be written, before the work that fills it."""
    if path is not None and path != "-":
        from engine.files import check_output as check

        check(path)


@contextlib.contextmanager
def output(path: str | None) -> Iterator[Any]:
    """A text stream for results: stdout, or ``path`` written safely (:mod:`engine.files`: a
    regular file through a temporary file renamed into place on success, a FIFO or device
    written directly, never replaced)."""
    if path is None or path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    from engine.files import open_output

    with open_output(path) as fh:
        yield fh


#: What each stopping signal is called in messages.
_SIGNAL_WORDS = {"SIGINT": "interrupted", "SIGTERM": "terminated", "SIGHUP": "hung up"}


class StopFlag(threading.Event):
    """Set by the first stopping signal; remembers which one (for the message and the exit
    code, 128 + its number)."""

    signum: int = signal.SIGINT

    @property
    def code(self) -> int:
        return 128 + int(self.signum)

    @property
    def word(self) -> str:
        """``interrupted`` (Ctrl+C), ``terminated`` (SIGTERM) or ``hung up`` (SIGHUP)."""
        return _SIGNAL_WORDS.get(signal.Signals(self.signum).name, "stopped")

    def interrupted(self, message: str) -> Interrupted:
        """The :class:`Interrupted` ending the command, with this signal's exit code."""
        return Interrupted(message, self.code)


#: The signals that stop a long command cleanly (training saves the model so far).
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


@contextlib.contextmanager
def interrupt_flag(signals: tuple[int, ...] = (signal.SIGINT,)) -> Iterator[StopFlag]:
    """Turn the first of ``signals`` (Ctrl+C, and SIGTERM or SIGHUP where asked) into a flag
    checked by the engine between batches/chunks; a second one aborts at once
    (KeyboardInterrupt for Ctrl+C, :class:`Interrupted` for the others)."""
    flag = StopFlag()

    def handler(signum, frame):  # noqa: ARG001
        if flag.is_set():
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            raise Interrupted(
                _SIGNAL_WORDS.get(signal.Signals(signum).name, "stopped"), 128 + signum
            )
        flag.signum = signum
        flag.set()
        again = "Ctrl+C" if signum == signal.SIGINT else "the signal"
        with contextlib.suppress(Exception):
            sys.stderr.write(f"\n{PROG}: {flag.word}; stopping ({again} again to abort)\n")
            sys.stderr.flush()

    try:
        previous = {s: signal.signal(s, handler) for s in signals}
    except ValueError:  # not the main thread: Ctrl+C raises KeyboardInterrupt as usual
        yield flag
        return
    try:
        yield flag
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


# --------------------------------------------------------------------------- loading helpers
def dataset_name(data: str, path: Path) -> str:
    """A short name for DATA (for default model file names): :func:`engine.catalogue.short_name`."""
    from engine import catalogue

    return catalogue.short_name(data, path)


def load_data(data: str, *, quiet: bool = True):
    """``(Ratings, resolved path, short name)`` for a DATA argument."""
    from engine.catalogue import resolve
    from engine.data.loaders import load_ratings

    path = resolve(data)
    ratings = load_ratings(path)
    if ratings.report.notice:
        warn(ratings.report.notice)
    if ratings.n_ratings == 0:
        raise CLIError(f"{path}: holds no ratings")
    if not quiet:
        info(
            f"loaded {data}: {ratings.n_users:,} users, {ratings.n_items:,} movies, "
            f"{ratings.n_ratings:,} ratings ({ratings.report.seconds:.1f} s"
            + (", cached" if ratings.report.from_cache else "")
            + ")"
        )
    return ratings, path, dataset_name(data, path)


def load_model(name_or_path: str, device: str = "auto"):
    """``(Model, path)``."""
    from engine.model.storage import find_model, load_model

    path = find_model(name_or_path)
    return load_model(path, device=device), path


def check_fits(model, model_path: Path, ratings, data: str) -> None:
    """Refuse a model of another catalogue (:meth:`engine.model.trained.Model.check_fits`);
    warn when it knows only some of DATA's movies."""
    missing = model.check_fits(ratings, data, model_path.name)
    if missing:
        known = model.map_items(ratings.item_ids) >= 0
        rated = ratings.items[~known[ratings.items]]
        warn(
            f"{missing:,} of the {ratings.n_items:,} movies of {data} are unknown to the model "
            f"and ignored ({len(rated):,} ratings)"
        )


def lookup_user(ratings, user: str, data: str) -> int:
    try:
        return ratings.lookup_user(user)
    except KeyError:
        ids = ratings.user_ids
        sample = ", ".join(str(x) for x in ids[:3].tolist())
        raise CLIError(
            f"unknown user {user!r}: {data} has {ratings.n_users:,} users ({sample}, ...)"
        ) from None


def confirm(question: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        return False
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


# --------------------------------------------------------------------------- parser
class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors: ``rbm-tui recommend: --k must be at least 1, got 0 (see
    rbm-tui recommend --help)``, exit 2, no usage block (subcommands' parsers inherit it)."""

    def error(self, message: str) -> NoReturn:
        m = re.fullmatch(r"argument ([^:]+): (.*)", message, re.S)
        if m:
            flag, what = m.group(1).split("/")[-1], m.group(2)
            message = f"{flag} {what}" if what.startswith("must") else f"{flag}: {what}"
        self.exit(EXIT_ERROR, f"{self.prog}: {one_line(message)} (see {self.prog} --help)\n")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps examples (indented lines) as written, wraps the other lines of a description or
    epilog to the terminal's width; appends defaults (TrainConfig's, read only when shown)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import textwrap

        lines = []
        for line in text.splitlines():
            if len(indent + line) <= width or line[:1].isspace():
                lines.append(indent + line)
            else:
                lines += textwrap.wrap(line, width, initial_indent=indent, subsequent_indent=indent)
        return "\n".join(lines) + ("\n" if text.endswith("\n") else "")

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            action.option_strings
            and "%(default)" not in text
            and action.default not in (None, False, argparse.SUPPRESS)
        ):
            text += " (default: %(default)s)"
        return text


def subcommand(
    sub: Any, name: str, help: str, examples: tuple[str, ...] = (), **kwargs: Any
) -> argparse.ArgumentParser:
    """A (sub)command's parser with the shared help formatter; ``examples`` (command lines)
    become its epilog unless ``epilog`` is given."""
    if examples and "epilog" not in kwargs:
        title = "examples:" if len(examples) > 1 else "example:"
        kwargs["epilog"] = title + "\n" + "".join(f"  {line}\n" for line in examples)
    return sub.add_parser(name, help=help, formatter_class=HelpFormatter, **kwargs)


def add_json(p: argparse.ArgumentParser, help: str = "as JSON") -> None:
    p.add_argument("--json", action="store_true", help=help)


def add_device(p: argparse.ArgumentParser) -> None:
    """``--device`` and ``--threads``: where a command's model runs."""
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="device")
    add_threads(p)


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {v}")
    return v


def add_threads(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--threads",
        type=positive_int,
        metavar="N",
        help="CPU threads for torch (default: torch's choice, one per core); 1 is often "
        "faster on a busy machine",
    )


DATA_HELP = (
    "a dataset name (demo, ml-100k, ... see `rbm-tui datasets`), a folder, a GroupLens .zip, "
    "one ratings file (u1.base, ratings.csv, a CSV with user,item,rating columns) or a file of "
    "a dataset on disk (ml-100k/u1.base)"
)
MODEL_HELP = "a model file, or the name of one in the models folder (`rbm-tui models list`)"
