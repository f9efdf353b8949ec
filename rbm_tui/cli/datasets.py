"""``rbm-tui datasets``: the catalogue, downloads, imports, removal, stats."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from engine.errors import DownloadCancelled
from rbm_tui.cli.common import (
    DATA_HELP,
    EXIT_OK,
    STOP_SIGNALS,
    CLIError,
    confirm,
    fitted_table,
    info,
    interrupt_flag,
    load_data,
    print_json,
    print_pairs,
    shorten,
    subcommand,
    warn,
)

EPILOG_DATASETS = """\
examples:
  rbm-tui datasets                       list (same as `datasets list`)
  rbm-tui datasets download ml-100k      fetch from GroupLens (Ctrl+C cancels)
  rbm-tui datasets import ~/ml-100k.zip  use a zip you downloaded yourself
  rbm-tui datasets import my.csv --name mine
  rbm-tui datasets info ml-100k          counts, like share, sparsity, licence
"""


# --------------------------------------------------------------------------- datasets
def short_licence(text: str) -> str:
    cut = len(text)
    for ch in (":", "(", ";", "."):
        j = text.find(ch)
        if 0 < j < cut:
            cut = j
    return shorten(text[:cut].strip(), 40)


def cmd_datasets(args: argparse.Namespace) -> int:
    action = args.action or "list"
    return {
        "list": _datasets_list,
        "download": _datasets_download,
        "import": _datasets_import,
        "info": _datasets_info,
        "remove": _datasets_remove,
    }[action](args)


def _datasets_list(args: argparse.Namespace) -> int:
    from engine import catalogue
    from engine.formatting import format_bytes

    entries = []
    for d in catalogue.catalogue():
        where = catalogue.local_path(d.name)
        entries.append((d, where))
    if getattr(args, "json", False):
        print_json(
            [
                {**d.to_dict(), "on_disk": where is not None, "path": str(where or "")}
                for d, where in entries
            ]
        )
        return EXIT_OK
    rows = []
    for d, where in entries:
        status = "bundled" if d.kind == "demo" else ("on disk" if where else "-")
        rows.append(
            [
                d.name,
                status,
                format_bytes(d.size) if d.size else "-",
                f"{d.ratings:,}" if d.ratings else "-",
                shorten(d.title, 28),
                short_licence(d.licence),
            ]
        )
    header = ["name", "status", "size", "ratings", "title", "licence"]
    print(fitted_table(rows, header, right={2, 3}, shrink=(4, 5)))
    print(
        "\nrbm-tui datasets download NAME fetches one;\n"
        "rbm-tui datasets info NAME tells its licence and citation."
    )
    return EXIT_OK


def _datasets_download(args: argparse.Namespace) -> int:
    from engine import catalogue
    from rbm_tui.progress import ByteProgress

    entry = catalogue.get(args.name)
    if not entry.downloadable:
        raise CLIError(
            f"{entry.name} is not downloadable (it is {entry.kind}); downloadable: "
            + ", ".join(d.name for d in catalogue.catalogue() if d.downloadable)
        )
    where = catalogue.local_path(entry.name)
    if where is not None and not args.force:
        info(f"{entry.name} is already downloaded (use --force to fetch it again)")
        print(where)
        return EXIT_OK
    bar = ByteProgress(f"downloading {entry.name}", sys.stderr)
    with interrupt_flag(STOP_SIGNALS) as stop:
        try:
            path = catalogue.download(entry.name, progress=bar, cancel=stop)
        except DownloadCancelled:
            raise stop.interrupted(
                f"download of {entry.name} cancelled; nothing was left behind"
            ) from None
        finally:
            bar.close()
        if stop.is_set():  # pragma: no cover - Ctrl+C after the last check
            warn("interrupted after the download had finished; it was kept")
    info(f"downloaded {entry.name}. {entry.title}: {entry.licence}")
    print(path)
    return EXIT_OK


def _datasets_import(args: argparse.Namespace) -> int:
    from engine import catalogue
    from engine.errors import DatasetExists

    try:
        entry = catalogue.import_dataset(args.path, args.name, link=args.link, replace=args.force)
    except DatasetExists as e:
        raise CLIError(
            f"a dataset named {e.name} is already on disk (--force replaces it; --name N "
            "imports under another name)"
        ) from None
    where = catalogue.local_path(entry.name)
    info(f"imported {args.path} as {entry.name}" + (" (linked)" if args.link else ""))
    print(where if where is not None else entry.name)
    return EXIT_OK


def _datasets_remove(args: argparse.Namespace) -> int:
    from engine import catalogue

    entry = catalogue.get(args.name)
    if not confirm(f"delete the dataset {entry.name} from disk?", args.yes):
        raise CLIError("not deleted (pass --yes to delete without asking)")
    if catalogue.remove(entry.name):
        info(f"removed {entry.name}")
    else:
        info(f"{entry.name} was not on disk")
    return EXIT_OK


def _datasets_info(args: argparse.Namespace) -> int:
    from engine import catalogue

    out: dict[str, Any] = {}
    lines: list[tuple[str, str]] = []
    key = str(args.data).strip().lower()
    entry = next((d for d in catalogue.catalogue() if d.name.lower() == key), None)
    if entry is not None:
        out["catalogue"] = entry.to_dict()
        lines, where = _catalogue_lines(entry)
        if where is None:
            return _show(args, out, lines)
    from engine.catalogue.stats import dataset_stats

    ratings, path, _name = load_data(args.data)
    stats = dataset_stats(ratings, args.like_threshold)
    out["stats"] = {"path": str(path), **stats.to_dict()}
    return _show(args, out, lines + _stats_lines(stats, path))


def _show(args: argparse.Namespace, out: dict[str, Any], lines: list[tuple[str, str]]) -> int:
    if args.json:
        print_json(out)
    else:
        print_pairs(lines)
    return EXIT_OK


def _catalogue_lines(entry) -> tuple[list[tuple[str, str]], Path | None]:
    """What the catalogue says of ``entry``, ending with where it is on disk; and where."""
    from engine import catalogue
    from engine.catalogue.registry import entry_problem
    from engine.formatting import format_bytes

    if entry.kind == "imported" and entry_problem(entry.entry or "") is not None:
        catalogue.resolve(entry.name)  # refuses the entry, naming imported.json
    lines = [("name", entry.name), ("title", entry.title), ("kind", entry.kind)]
    optional = [
        ("description", entry.description),
        ("download size", format_bytes(entry.size) if entry.size else ""),
        ("licence", entry.licence or "-"),
        ("citation", entry.citation or ""),
        ("url", entry.url or ""),
    ]
    lines += [(k, v) for k, v in optional if v]
    where = catalogue.local_path(entry.name)
    hint = f"no (download it with:  rbm-tui datasets download {entry.name})"
    lines.append(("on disk", str(where) if where else hint))
    return lines, where


def _stats_lines(stats, path) -> list[tuple[str, str]]:
    lo, hi = stats.scale
    lines = [
        ("path", str(path)),
        ("format", stats.format or "-"),
        ("users", f"{stats.users:,}"),
        ("movies", f"{stats.movies:,}"),
        ("ratings", f"{stats.ratings:,}"),
        ("rating scale", f"{lo:g}-{hi:g}"),
        (f"like share (rating >= {stats.like_threshold:g})", f"{100 * stats.like_share:.1f}%"),
        ("sparsity", f"{100 * stats.sparsity:.2f}% unrated"),
    ]
    if stats.duplicates_dropped:
        lines.append(("duplicates dropped", f"{stats.duplicates_dropped:,}"))
    return lines


#: ``datasets`` actions: ``(name, help, examples, description, arguments)`` (see
#: :data:`_ARGUMENTS`).
_ACTIONS: tuple[tuple[str, str, tuple[str, ...], str | None, tuple[str, ...]], ...] = (
    ("list", "the catalogue, with on-disk status, size and licence",
     ("rbm-tui datasets list", "rbm-tui datasets list --json"), None, ("json",)),
    ("download", "download a MovieLens dataset from GroupLens",
     ("rbm-tui datasets download ml-100k",),
     "Download, verify (MD5) and unpack a dataset. Ctrl+C cancels and leaves nothing behind.",
     ("download_name", "force")),
    ("import", "import a local folder, .zip or ratings file",
     ("rbm-tui datasets import ~/Downloads/ml-1m.zip",
      "rbm-tui datasets import ratings.csv --name mine --link"),
     "Import a local folder, GroupLens .zip or ratings file as a dataset. A dataset of that "
     "name on disk is replaced only with --force.",
     ("path", "as_name", "link", "replace")),
    ("info", "users, movies, ratings, like share, sparsity",
     ("rbm-tui datasets info demo", "rbm-tui datasets info ml-100k/u1.base"),
     "Load DATA and show its size, like share and sparsity (and, for a catalogue name, its "
     "licence and citation).",
     ("data", "like_threshold", "json")),
    ("remove", "delete a downloaded or imported dataset",
     ("rbm-tui datasets remove ml-1m --yes",), None, ("name", "yes")),
)  # fmt: skip
_ARGUMENTS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "json": (("--json",), {"action": "store_true", "help": "as JSON"}),
    "download_name": (
        ("name",),
        {"metavar": "NAME", "help": "a downloadable dataset (ml-100k, ml-1m, ...)"},
    ),
    "force": (("--force",), {"action": "store_true", "help": "download again if already on disk"}),
    "path": (("path",), {"metavar": "PATH", "help": "a folder, .zip or ratings file"}),
    "as_name": (
        ("--name",),
        {"metavar": "N", "help": "the dataset's name (default: from PATH)"},
    ),
    "link": (("--link",), {"action": "store_true", "help": "link to PATH instead of copying it"}),
    "replace": (
        ("--force",),
        {"action": "store_true", "help": "replace a dataset of that name already on disk"},
    ),
    "data": (("data",), {"metavar": "DATA", "help": DATA_HELP}),
    "like_threshold": (
        ("--like-threshold",),
        {"type": float, "metavar": "F", "help": "a rating >= F is a like (default: 3)"},
    ),
    "name": (("name",), {"metavar": "NAME"}),
    "yes": (("--yes", "-y"), {"action": "store_true", "help": "do not ask"}),
}


def add_parser(sub) -> None:
    """The ``datasets`` subcommand and its actions."""
    p = subcommand(
        sub,
        "datasets",
        "list, download, import and inspect datasets",
        description="The dataset catalogue, downloads and imports.",
        epilog=EPILOG_DATASETS,
    )
    p.set_defaults(func=cmd_datasets, action=None, json=False)
    dsub = p.add_subparsers(dest="action", metavar="ACTION")
    for name, help_text, examples, description, arguments in _ACTIONS:
        q = subcommand(dsub, name, help_text, examples, description=description)
        for key in arguments:
            flags, options = _ARGUMENTS[key]
            q.add_argument(*flags, **options)
