"""``rbm-tui train``: the flags come from the settings table (:mod:`engine.settings`)."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from rbm_tui.cli.common import (
    EXIT_OK,
    STOP_SIGNALS,
    CLIError,
    add_json,
    info,
    interrupt_flag,
    load_data,
    print_json,
    subcommand,
)

EXAMPLES = """\
examples:
  rbm-tui train demo
  rbm-tui train ml-100k --model-out ml100k.pt
  rbm-tui train path/to/ml-100k/u1.base --hidden 200 --epochs 60 --seed 1
  rbm-tui train ratings.csv --set dropout=0.3 --json > run.json
  torchrun --nproc-per-node 2 -m rbm_tui train DATA --distributed --device cpu

Progress (epoch, loss, validation metrics, ETA) goes to stderr; the saved
model's path (or, with --json, a JSON object) to stdout. Ctrl+C stops training,
saves the model so far and exits with 130 (a second Ctrl+C aborts at once);
SIGTERM and SIGHUP do the same and exit with 143 and 129.
"""


def _flag_dest(name: str) -> str:
    return f"setting_{name}"


def _train_config(args: argparse.Namespace):
    """The :class:`~engine.settings.TrainConfig` of the flags and ``--set`` items (each value
    parsed and range-checked by its setting; errors name the option)."""
    from engine.errors import SettingError
    from engine.settings import BASIC, TrainConfig

    values = _set_values(args.set or [])
    for s in BASIC:
        v = getattr(args, _flag_dest(s.name), None)
        if v is None:
            continue
        if s.name in values:  # `--hidden 4 --set n_hidden=0`: which one was meant?
            raise CLIError(
                f"--set {s.name}={values[s.name]} conflicts with {s.flag} {v}; give one of them"
            )
        values[s.name] = v
    from engine.device import available_cpus

    threads = values.get("threads", "0").strip()
    if threads.isdigit() and int(threads) > available_cpus():
        raise SettingError(
            f"--threads {threads}: this process may use {available_cpus()} CPU(s); "
            f"use 1 to {available_cpus()} (0: automatic)"
        )
    return TrainConfig.from_strings(values)


def _set_values(items: list[str]) -> dict[str, str]:
    """``{name: text}`` of the ``--set NAME=VALUE`` items (one value per name)."""
    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep:
            raise CLIError(f"--set {item!r}: expected NAME=VALUE (see --help-advanced)")
        if name in values and values[name].strip() != value.strip():
            raise CLIError(f"--set {name} is given twice ({values[name]}, {value}); give it once")
        values[name] = value
    return values


def _model_out(arg: str | None, name: str) -> Path | None:
    """The ``--model-out`` path (a folder: a new file in it); None: the models folder."""
    from engine.model.storage import default_model_path

    if arg is None:
        return None
    p = Path(arg).expanduser()
    if p.is_dir():
        return p / default_model_path(name).name
    return p


def cmd_train(args: argparse.Namespace) -> int:
    """``rbm-tui train``: train, save (:func:`engine.training.run.train_and_save`), report."""
    config = _train_config(args)
    if args.model_out is not None and not Path(args.model_out).expanduser().is_dir():
        from engine.files import check_regular_output

        check_regular_output(Path(args.model_out).expanduser())  # before the data is read
    ratings, _path, name = load_data(args.data, quiet=False)
    _announce(config, ratings)
    with interrupt_flag(STOP_SIGNALS) as stop:
        outcome = _train_and_save(args, ratings, config, name, stop)
    _check_saved(outcome, stop)
    _report(args, config, outcome)
    return EXIT_OK


def _announce(config, ratings) -> None:
    from engine.device import resolve_device
    from engine.settings import like_threshold_for
    from engine.training.step import batch_size_for

    low, high = ratings.scale
    threshold = like_threshold_for(config.like_threshold, high)
    batch = batch_size_for(config, ratings.n_users)  # as the data's size settles it
    info(
        f"training on {resolve_device(config.device)}: {config.n_hidden} hidden units, "
        f"{_epochs(config.epochs)}, CD-{config.cd_k}, {batch} people per batch, "
        f"like if rating ≥ {threshold:g} (ratings run {low:g}-{high:g})"
    )


def _trainer(args: argparse.Namespace):
    """The training function: the loop, or one process of a torchrun job."""
    if not getattr(args, "distributed", False):
        return None
    from functools import partial

    from engine.training.distributed import run_training

    return partial(run_training, timeout=args.dist_timeout)


def _train_and_save(args, ratings, config, name: str, stop):
    from engine.training.forecast import Forecast
    from engine.training.run import train_and_save
    from rbm_tui.progress import TrainProgress

    forecast = Forecast(
        config, n_items=ratings.n_items, n_users=ratings.n_users, n_ratings=ratings.n_ratings
    )
    bar = TrainProgress(forecast, sys.stderr)
    try:
        outcome = train_and_save(
            ratings,
            config,
            dataset=name,
            model_out=_model_out(args.model_out, name),
            callback=bar.on_epoch,
            progress=bar.on_batch,
            cancel=stop.is_set,
            trainer=_trainer(args),
        )
        if not outcome.result.cancelled:
            bar.finish()
        return outcome
    finally:
        bar.close()


def _check_saved(outcome, stop) -> None:
    """Raise what ends the command early: a stop signal (the model so far saved, or nothing
    to save), or a model saved elsewhere than asked."""
    result = outcome.result
    stopped = result.cancelled or stop.is_set()
    if result.model is None:  # --distributed: only rank 0 saves the model
        if stopped:
            raise stop.interrupted(f"training {stop.word}")
        return
    if not outcome.saved:
        raise stop.interrupted(
            f"training {stop.word} before its first epoch ended; nothing to save"
        )
    if outcome.failures:  # a full disk, a missing permission: the model is kept where it went
        first = outcome.failures[0].removeprefix(f"{outcome.wanted}: ")
        raise CLIError(
            f"could not save the model to {outcome.wanted} ({first}); the trained model was "
            f"saved to {outcome.path} instead"
        )
    if stopped:  # the model so far is kept, and the exit status says so
        raise stop.interrupted(
            f"training {stop.word} after {_epochs(len(result.history))}; the model so far "
            f"was saved to {outcome.path}"
        )


def _report(args: argparse.Namespace, config, outcome) -> None:
    """The summary on stderr; the path (or, with --json, a JSON object) on stdout."""
    from engine.device import resolve_device

    result, path = outcome.result, outcome.path
    if result.model is None:
        return
    val = dict(result.model.meta.get("val_metrics", {}))
    info(_summary(result, val))
    info(f"saved the model to {path}")
    if not args.json:
        print(path)
        return
    print_json(
        {
            "path": str(path),
            "dataset": str(args.data),
            "epochs": len(result.history),
            "best_epoch": result.best_epoch,
            "seconds": round(result.seconds, 3),
            "device": resolve_device(config.device),
            "val": val,
            "config": result.model.config,  # as trained: the automatic like threshold settled
        }
    )


def _epochs(n: int) -> str:
    from engine.formatting import format_count

    return format_count(n, "epoch")


def _summary(result, val: dict) -> str:
    from engine.formatting import format_score

    summary = (
        f"trained {_epochs(len(result.history))} in {result.seconds:.1f} s; "
        f"best epoch {result.best_epoch}"
    )
    if val:
        summary += " (" + ", ".join(f"val {k} {format_score(v, 4)}" for k, v in val.items()) + ")"
    n_refit = sum(1 for h in result.history if h.refit)
    if n_refit:
        summary += f", then {n_refit} on all the ratings"
    return summary


class _AdvancedHelp(argparse.Action):
    """``--help-advanced``: every setting with its default, range and help, then exit."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(advanced_help())
        parser.exit()


def advanced_help() -> str:
    """The text of ``rbm-tui train --help-advanced``."""
    from engine.settings import ADVANCED, BASIC

    out = [
        "Every setting of rbm-tui train. Basic ones have a flag; give any setting as",
        "--set NAME=VALUE (e.g. --set dropout=0.3 --set persistent=true).",
        "",
    ]
    for title, group in (("basic", BASIC), ("advanced", ADVANCED)):
        out.append(f"{title} settings:")
        for s in group:
            flag = f" ({s.flag})" if s.flag else ""
            out.append(f"  {s.name} = {_show(s.default)}{flag}, {s.describe_range()}")
            out += textwrap.wrap(s.help, 78, initial_indent=" " * 6, subsequent_indent=" " * 6)
        out.append("")
    out.append(EXAMPLES.rstrip())
    return "\n".join(out)


def _show(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def add_parser(sub) -> None:
    """The ``train`` subcommand: one flag per basic setting, ``--set`` for the others."""
    from engine.settings import BASIC

    p = subcommand(
        sub,
        "train",
        "train a model on DATA and save it",
        usage="rbm-tui train DATA [options] [--set NAME=VALUE ...]",
        description="Train an RBM on DATA and save it (progress on stderr, the path on stdout).",
        add_help=False,
    )
    p.add_argument("data", metavar="DATA", help="a dataset name, folder, .zip or ratings file")
    p.add_argument("-h", "--help", action="help", help="this help")
    p.add_argument(
        "--help-advanced", action=_AdvancedHelp, help="every setting, its range, and examples"
    )
    p.add_argument("--model-out", metavar="PATH", help="where to save (default: models folder)")
    for s in BASIC:
        metavar = "D" if s.choices else ("N" if s.type is int else "F")
        p.add_argument(
            str(s.flag),  # every basic setting has one
            dest=_flag_dest(s.name),
            metavar=metavar,
            help=f"{s.help} ({_show(s.default)})",
        )
    p.add_argument(
        "--set",
        action="append",
        metavar="NAME=VALUE",
        help="any setting (see --help-advanced)",
    )
    add_json(p, "print a JSON summary on stdout")
    p.add_argument(
        "--distributed", action="store_true", help="one process of a torchrun job (README)"
    )
    p.add_argument("--dist-timeout", type=float, default=300.0, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_train)
