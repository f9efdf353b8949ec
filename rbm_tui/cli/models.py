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
    fmt_num,
    info,
    print_json,
    print_pairs,
    shorten,
    subcommand,
    table,
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
    from engine.model.storage import list_models
    from rbm_tui.progress import format_bytes

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
    print(
        table(
            rows,
            ["name", "created", "dataset", "hidden", "best/epochs", "val auc", "size"],
            right={3, 4, 5, 6},
        )
    )
    print(f"\n{len(models)} model(s) in {paths.models_dir()}")
    return EXIT_OK


def _models_info(args: argparse.Namespace) -> int:
    from engine.model.storage import find_model, read_header
    from rbm_tui.progress import format_bytes

    path = find_model(args.name)
    header = read_header(path)
    if args.json:
        print_json({"path": str(path), "size": path.stat().st_size, "header": header})
        return EXIT_OK
    s = _model_summary(header)
    meta = header.get("meta", {}) or {}
    ds = meta.get("dataset", {}) or {}
    lines = [
        ("path", str(path)),
        ("size", format_bytes(path.stat().st_size)),
        ("created", str(s["created"])),
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
        ("epochs run", f"{s['epochs']} (best {s['best_epoch']})"),
    ]
    for k, v in s["val"].items():
        lines.append((f"val {k}", fmt_num(v)))
    cal = header.get("calibration")
    if isinstance(cal, dict):
        lines.append(("calibration", " ".join(f"{n}={fmt_num(c)}" for n, c in cal.items())))
    for k, v in (header.get("config") or {}).items():
        lines.append((f"config {k}", str(v)))
    for k, v in (meta.get("versions") or {}).items():
        lines.append((f"version {k}", str(v)))
    print_pairs(lines)
    return EXIT_OK


def _models_delete(args: argparse.Namespace) -> int:
    from engine.model.storage import delete_model, model_in_folder

    path = model_in_folder(args.name)
    if not confirm(f"delete {path}?", args.yes):
        raise CLIError("not deleted (pass --yes to delete without asking)")
    delete_model(path)
    info(f"deleted {path}")
    return EXIT_OK


def _models_rename(args: argparse.Namespace) -> int:
    from engine.model.storage import model_in_folder, rename_model

    new = rename_model(model_in_folder(args.name), args.new)
    print(new)
    return EXIT_OK


FOLDER_MODEL_HELP = "the name of a model in the models folder (`rbm-tui models list`)"
#: ``models`` actions: ``(name, help, examples, arguments)`` (see :data:`_ARGUMENTS`).
_ACTIONS = (
    ("list", "saved models, newest first",
     ("rbm-tui models list", "rbm-tui models list --json"), ("json",)),
    ("info", "a model's dataset, settings and validation metrics",
     ("rbm-tui models info best",), ("name", "json")),
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
