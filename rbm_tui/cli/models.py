"""``rbm-tui models``: saved models, listed, inspected, renamed and deleted."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rbm_tui.cli.common import (
    EXIT_OK,
    MODEL_HELP,
    CLIError,
    confirm,
    fitted_table,
    fmt_num,
    info,
    print_json,
    print_pairs,
    shorten,
    subcommand,
    table,
    warn,
)

EPILOG_MODELS = """\
examples:
  rbm-tui models                         list (same as `models list`)
  rbm-tui models info ml-100k-20240101-120000
  rbm-tui models rename ml-100k-20240101-120000 best
  rbm-tui models delete best --yes
"""


# --------------------------------------------------------------------------- models
def cmd_models(args: argparse.Namespace) -> int:
    action = args.action or "list"
    return {
        "list": _models_list,
        "info": _models_info,
        "delete": _models_delete,
        "rename": _models_rename,
    }[action](args)


def _model_summary(header: dict) -> dict[str, Any]:
    meta = header.get("meta", {}) or {}
    ds = meta.get("dataset", {}) or {}
    cfg = header.get("config", {}) or {}
    return {
        "created": meta.get("created", ""),
        "dataset": ds.get("source", ""),
        "hidden": header.get("n_hidden", cfg.get("n_hidden")),
        "movies": header.get("n_items"),
        "epochs": len(meta.get("history", []) or []),
        "best_epoch": meta.get("best_epoch"),
        "val": meta.get("val_metrics", {}) or {},
    }


def _models_list(args: argparse.Namespace) -> int:
    from engine import paths
    from engine.formatting import format_bytes
    from engine.model.storage import list_models

    models = list_models()
    if getattr(args, "json", False):
        print_json(
            [
                {"name": m.name, "path": str(m.path), "size": m.size, "error": m.error}
                | _model_summary(m.header)
                for m in models
            ]
        )
        return EXIT_OK
    if not models:
        print(f"no models in {paths.models_dir()}; train one with:  rbm-tui train DATA")
        return EXIT_OK
    rows = []
    for m in models:
        if m.error:
            rows.append([m.name, "(unreadable)", "", "", "", "", format_bytes(m.size)])
            continue
        s = _model_summary(m.header)
        auc = s["val"].get("auc")
        rows.append(
            [
                m.name,
                str(s["created"])[:16].replace("T", " "),
                shorten(Path(str(s["dataset"]).rstrip("/")).name or "-", 24),
                str(s["hidden"]),
                f"{s['best_epoch']}/{s['epochs']}",
                f"{auc:.3f}" if isinstance(auc, float) else "-",
                format_bytes(m.size),
            ]
        )
    header = ["name", "created", "dataset", "hidden", "best/epochs", "val auc", "size"]
    # narrow: the date goes first (default names hold it), then the hidden units (`models
    # info` shows them), then the dataset is cut
    print(fitted_table(rows, header, right={3, 4, 5, 6}, shrink=(1, 3, 2)))
    print(f"\n{len(models)} model(s) in {paths.models_dir()}")
    return EXIT_OK


def _models_info(args: argparse.Namespace) -> int:
    from engine.model.storage import find_model, read_header

    path = find_model(args.name)
    header = read_header(path)
    if args.json:
        print_json({"path": str(path), "size": path.stat().st_size, "header": header})
        return EXIT_OK
    meta = header.get("meta", {}) or {}
    lines = _about_lines(path, header) + _training_lines(header, meta)
    lines += _settings_lines(header.get("config") or {}, args.verbose)
    lines += _calibration_lines(header, args.verbose)
    versions = meta.get("versions") or {}
    lines.append(("versions", ", ".join(f"{k} {v}" for k, v in versions.items()) or "-"))
    print_pairs(lines)
    if args.verbose:
        _print_history(meta.get("history") or [], meta.get("best_epoch"))
    else:
        print("\n(--verbose: every setting, the calibration weights and every epoch)")
    return EXIT_OK


def _about_lines(path: Path, header: dict) -> list[tuple[str, str]]:
    """Where the model is, when it was made, from which data, and its shape."""
    from engine.formatting import format_bytes

    s = _model_summary(header)
    ds = (header.get("meta", {}) or {}).get("dataset", {}) or {}
    lines = [
        ("path", str(path)),
        ("size", format_bytes(path.stat().st_size)),
        ("created", str(s["created"]).replace("T", " ")),
        ("dataset", str(s["dataset"])),
    ]
    if ds:
        lines.append(
            (
                "dataset size",
                f"{fmt_num(ds.get('n_users', 0))} users, {fmt_num(ds.get('n_items', 0))} "
                f"movies, {fmt_num(ds.get('n_ratings', 0))} ratings",
            )
        )
        lines.append(("fingerprint", str(ds.get("fingerprint", ""))))
    lines += [
        ("hidden units", str(s["hidden"])),
        ("like threshold", f"{header.get('like_threshold', '?')}"),
    ]
    return lines


def _training_lines(header: dict, meta: dict) -> list[tuple[str, str]]:
    """The epochs in one line, and the validation metrics of the best epoch in another."""
    from engine.formatting import format_chosen

    history = [h for h in meta.get("history") or [] if isinstance(h, dict)]
    best = meta.get("best_epoch")
    validated = [h.get("epoch") for h in history if h.get("val")]
    refit = sum(1 for h in history if h.get("refit"))
    text = f"{len(history)} run, best {best}"
    if validated and refit:  # the first ones on a training share, the last on every rating
        span = f"{validated[0]}-{validated[-1]}" if len(validated) > 1 else f"{validated[0]}"
        text += f"; validated in {span}, then {refit} on all ratings"
    seconds = sum(float(h.get("seconds") or 0.0) for h in history)
    if seconds:
        text += f"; {seconds:.1f} s"
    lines = [("epochs", text)]
    chosen = format_chosen(meta)
    if chosen:
        lines.append(("chosen for data", chosen))
    val = _model_summary(header)["val"]
    if val:
        shown = ", ".join(f"{k} {fmt_num(v)}" for k, v in val.items())
        lines.append(("validation", f"{shown} (on held-out ratings, at the best epoch)"))
    return lines


def _settings_lines(config: dict, verbose: bool) -> list[tuple[str, str]]:
    """Every training setting with ``verbose``; else those not at their default, in one."""
    if verbose:
        return [(f"setting {k}", str(v)) for k, v in config.items()]
    from engine.settings import LIKE_THRESHOLD, SETTINGS_BY_NAME

    def default(k: str, v: object) -> bool:  # a model keeps the like threshold it settled on
        at = SETTINGS_BY_NAME[k].default == v
        return at or (k == "like_threshold" and v == LIKE_THRESHOLD)

    changed = [
        f"{k}={v}" for k, v in config.items() if k not in SETTINGS_BY_NAME or not default(k, v)
    ]
    rest = f"the other {len(config) - len(changed)} at their defaults"
    return [("settings", ", ".join([*changed, rest]) if changed else "all at their defaults")]


def _calibration_lines(header: dict, verbose: bool) -> list[tuple[str, str]]:
    """The weights of the P(like) calibrations (only with ``verbose``)."""
    out = []
    for key, name in (("calibration", "calibration"), ("match_calibration", "match calib.")):
        cal = header.get(key)
        if not isinstance(cal, dict):
            continue
        if verbose:
            out.append((name, " ".join(f"{n}={fmt_num(c)}" for n, c in cal.items())))
    return out


def _print_history(history: list, best) -> None:
    """Every epoch: its loss, validation metrics and time; the best one marked."""
    names = sorted({k for h in history if isinstance(h, dict) for k in (h.get("val") or {})})
    rows = []
    for h in history:
        if not isinstance(h, dict):
            continue
        val = h.get("val") or {}
        mark = "*" if h.get("epoch") == best else ("refit" if h.get("refit") else "")
        rows.append(
            [str(h.get("epoch")), fmt_num(h.get("train_loss"))]
            + [fmt_num(val[n]) if n in val else "" for n in names]
            + [f"{float(h.get('seconds') or 0):.1f}", mark]
        )
    print()
    header = ["epoch", "loss", *(f"val {n}" for n in names), "s", ""]
    print(table(rows, header, right=set(range(len(header) - 1))))


def _models_delete(args: argparse.Namespace) -> int:
    from engine.model.storage import delete_model, model_in_folder

    path = model_in_folder(args.name)
    if not confirm(f"delete {path}?{_in_use(path)}", args.yes):
        raise CLIError("not deleted (pass --yes to delete without asking)")
    delete_model(path)
    _repoint(path, None)
    info(f"deleted {path}")
    return EXIT_OK


def _in_use(path: Path) -> str:
    """`` It is the active model of demo and ml-100k in the app.`` (the app's settings), or
    "" when no dataset has it."""
    from rbm_tui.preferences import Preferences

    users = Preferences.load().users_of(path)
    if not users:
        return ""
    return f" It is the active model of {' and '.join(users)} in the app."


def _repoint(old: Path, new: Path | None) -> None:
    """The app's remembered active models follow a rename or a delete (a model the app
    remembers under its old name would be lost to it, and pruned as no one's)."""
    from rbm_tui.preferences import Preferences

    prefs = Preferences.load()
    if prefs.unreadable:
        warn(f"the app's settings file cannot be read; it still names {old} (left as it is)")
        return
    if prefs.repoint_model(old, new):
        try:
            prefs.save()
        except OSError as e:
            warn(f"the app's settings still name {old}: {e}")


def _models_rename(args: argparse.Namespace) -> int:
    from engine.model.storage import model_in_folder, rename_model

    old = model_in_folder(args.name)
    new = rename_model(old, args.new)
    _repoint(old, new)
    print(new)
    return EXIT_OK


FOLDER_MODEL_HELP = "the name of a model in the models folder (`rbm-tui models list`)"
#: ``models`` actions: ``(name, help, examples, arguments)`` (see :data:`_ARGUMENTS`).
_ACTIONS = (
    ("list", "saved models, newest first",
     ("rbm-tui models list", "rbm-tui models list --json"), ("json",)),
    ("info", "a model's dataset, settings and validation metrics",
     ("rbm-tui models info best", "rbm-tui models info best --verbose"),
     ("name", "verbose", "json")),
    ("delete", "delete a model",
     ("rbm-tui models delete best --yes",), ("folder_name", "yes")),
    ("rename", "rename a model",
     ("rbm-tui models rename ml-100k-20240101-120000 best",), ("folder_name", "new")),
)  # fmt: skip
_ARGUMENTS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "json": (("--json",), {"action": "store_true", "help": "as JSON"}),
    "name": (("name",), {"metavar": "NAME", "help": MODEL_HELP}),
    "folder_name": (("name",), {"metavar": "NAME", "help": FOLDER_MODEL_HELP}),
    "yes": (("--yes", "-y"), {"action": "store_true", "help": "do not ask"}),
    "verbose": (
        ("--verbose", "-v"),
        {"action": "store_true", "help": "every setting, calibration weight and epoch"},
    ),
    "new": (("new",), {"metavar": "NEW", "help": "the new name (letters, digits, '.', '_', '-')"}),
}


def add_parser(sub) -> None:
    """The ``models`` subcommand and its actions."""
    p = subcommand(
        sub,
        "models",
        "list, inspect, rename and delete saved models",
        description="Saved models (in the models folder).",
        epilog=EPILOG_MODELS,
    )
    p.set_defaults(func=cmd_models, action=None, json=False)
    msub = p.add_subparsers(dest="action", metavar="ACTION")
    for name, help_text, examples, arguments in _ACTIONS:
        q = subcommand(msub, name, help_text, examples)
        for key in arguments:
            flags, options = _ARGUMENTS[key]
            q.add_argument(*flags, **options)
