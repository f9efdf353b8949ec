"""The ``rbm-tui`` command: everything the app does, scriptable.

``rbm-tui`` alone opens the Textual app. Subcommands (one module each)::

    rbm-tui train DATA [--model-out PATH] [settings] [--json]        (train)
    rbm-tui recommend DATA --model MODEL [--k 10] [--user ID]        (score)
    rbm-tui predict DATA --model MODEL --pairs FILE                  (score)
    rbm-tui evaluate --model MODEL --train DATA --test DATA          (score)
    rbm-tui datasets [list | download | import | info | remove]      (datasets)
    rbm-tui models [list | info | delete | rename]                   (models)
    rbm-tui thumbs [list | export | clear | undo | profiles]         (thumbs)

Exit codes: 0 success; 2 a usage or input error (one ``rbm-tui: error: ...`` line on stderr,
no traceback; ``RBM_TUI_DEBUG=1`` shows the traceback; an argument error is one line too:
``rbm-tui recommend: --k must be at least 1, got 0 (see rbm-tui recommend --help)``); 130
interrupted (Ctrl+C), 143 and 129 stopped by SIGTERM and SIGHUP: nothing half-written is left
behind, and a training run saves the model so far.

The package imports only the standard library and the engine's light modules at startup;
torch, pandas and the engine's models are imported inside the commands, so ``rbm-tui --help``
is instant.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
import warnings

from engine.errors import DownloadCancelled, RbmTuiError
from rbm_tui.cli import datasets, models, score, thumbs, train
from rbm_tui.cli.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    PROG,
    ArgumentParser,
    CLIError,
    HelpFormatter,
    Interrupted,
    err,
)
from rbm_tui.runtime import tune_process

EPILOG_MAIN = """\
examples:
  rbm-tui                                 open the terminal app
  rbm-tui datasets                        the datasets, and which are on disk
  rbm-tui train ml-100k --model-out m.pt  train with the default settings
  rbm-tui recommend ml-100k --model m.pt --user 196
  rbm-tui evaluate --model m.pt --train ml-100k/u1.base --test ml-100k/u1.test

DATA is a dataset name (demo, ml-100k, ...), a folder, a GroupLens .zip or
one ratings file. Exit codes: 0 ok, 2 bad input (one error line on stderr),
130 interrupted (Ctrl+C), 143 / 129 stopped by SIGTERM / SIGHUP.
"""


def build_parser() -> argparse.ArgumentParser:
    """The whole ``rbm-tui`` argument parser."""
    from rbm_tui import __version__

    parser = ArgumentParser(
        prog=PROG,
        description="A terminal movie recommender: an RBM trained by contrastive divergence "
        "on likes and dislikes. Without a command, opens the terminal app.",
        epilog=EPILOG_MAIN,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "--dataset",
        metavar="DATA",
        help="without a command: open the app on this dataset (default: the last one used)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    train.add_parser(sub)
    score.add_parser(sub)
    datasets.add_parser(sub)
    models.add_parser(sub)
    thumbs.add_parser(sub)
    parser.set_defaults(func=cmd_app)
    return parser


def cmd_app(args: argparse.Namespace) -> int:
    """``rbm-tui`` without a command: the terminal app."""
    import importlib

    if not on_a_terminal():  # Textual would draw into a file and wait on input for ever
        raise CLIError(
            "the app needs a terminal, and standard input or output is not one "
            f"(for scripts: {PROG} --help lists the commands)"
        )
    try:
        app = importlib.import_module("rbm_tui.app")
    except ModuleNotFoundError as e:
        if e.name in ("rbm_tui.app", "textual"):
            raise CLIError(f"the terminal app is not available ({e})") from None
        raise
    dataset = getattr(args, "dataset", None)
    rc = app.run(dataset=dataset) if dataset else app.run()
    return rc if isinstance(rc, int) else EXIT_OK


def on_a_terminal() -> bool:
    """Whether standard input and output are both a terminal."""
    try:
        return all(s is not None and s.isatty() for s in (sys.stdin, sys.stdout))
    except (OSError, ValueError):
        return False


def _standard_streams() -> None:
    """Give a standard stream the process started without (``2>&-``) the null device: a
    closed stderr must not send messages into stdout's output, nor end a training run."""
    for name, mode in (("stdin", "r"), ("stdout", "w"), ("stderr", "w")):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, mode, encoding="utf-8"))  # noqa: SIM115


def main(argv: list[str] | None = None) -> int:
    """Run the ``rbm-tui`` command line; returns the exit code."""
    _standard_streams()
    argv = sys.argv[1:] if argv is None else list(argv)
    bad = next((a for a in argv if "\0" in str(a)), None)
    if bad is not None:  # no path can hold one; refused before anything is read or trained
        err(f"error: {str(bad)!r}: an argument holds a NUL byte; give it without one")
        return EXIT_ERROR
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help, --version, usage errors
        return e.code if isinstance(e.code, int) else (0 if e.code is None else EXIT_ERROR)
    except BrokenPipeError:  # `rbm-tui train --help-advanced | head`
        _quiet_stdout()
        return EXIT_OK
    debug = bool(os.environ.get("RBM_TUI_DEBUG"))
    if args.command:
        from engine.housekeeping import sweep_leftovers

        with contextlib.suppress(OSError):
            sweep_leftovers()  # what a killed save, download or import left behind
    with warnings.catch_warnings():
        if not debug:  # numeric warnings (an overflow in a cast) never reach stderr
            warnings.simplefilter("ignore", RuntimeWarning)
        return _run(args, debug)


def _run(args: argparse.Namespace, debug: bool) -> int:
    """The command of ``args``, its failures turned into one line and an exit code."""
    from engine.device import torch_threads

    try:
        with torch_threads(getattr(args, "threads", None) or 0):
            return args.func(args)
    except Interrupted as e:
        err(str(e))
        return e.code
    except KeyboardInterrupt:
        err("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (`rbm-tui recommend ... | head`)
        _quiet_stdout()
        return EXIT_OK
    except DownloadCancelled as e:
        err(str(e))
        return EXIT_INTERRUPTED
    except (RbmTuiError, OSError) as e:
        if debug:
            raise
        err(f"error: {_message(e)}")
        return EXIT_ERROR


def _message(e: BaseException) -> str:
    """An error's text; an OSError's as ``FILE: reason`` (once)."""
    msg = str(e) or type(e).__name__
    if isinstance(e, OSError) and not isinstance(e, RbmTuiError) and e.filename and e.strerror:
        msg = f"{e.filename}: {e.strerror}"
    return msg


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so that flushing it at exit does not fail again."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def entry() -> int:
    """The ``rbm-tui`` command (console script and ``python -m rbm_tui``): :func:`main` in a
    process tuned for it (see :mod:`rbm_tui.runtime`)."""
    tune_process()
    code = main()
    # the collector's last pass at exit would walk every object torch created (~0.4 s)
    gc.freeze()
    return code
