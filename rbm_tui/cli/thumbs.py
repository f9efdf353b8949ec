"""``rbm-tui thumbs``: the person's thumbs and marks, listed, imported (IMDb, Letterboxd,
MovieLens.org, rbm-tui exports), exported, cleared and undone;
profiles (several people on one machine) listed, created, renamed, switched and deleted.

DATA defaults to the dataset last used in the app; NAME to the active profile.
"""

from __future__ import annotations

import argparse
import csv
import json
import shlex
import sys
from typing import Any

from rbm_tui.cli.common import (
    EXIT_OK,
    CLIError,
    HelpFormatter,
    confirm,
    info,
    print_json,
    table,
    warn,
)

EPILOG_THUMBS = """\
examples:
  rbm-tui thumbs                                 the thumbs on the last dataset used
  rbm-tui thumbs list --dataset ml-100k --profile anna --json
  rbm-tui thumbs export --dataset ml-100k --output mine.csv
  rbm-tui thumbs import ratings.csv --dataset ml-latest-small --profile anna
  rbm-tui thumbs clear --dataset ml-100k --yes   (undo: rbm-tui thumbs undo)
  rbm-tui thumbs profiles create anna
  rbm-tui thumbs profiles switch anna
"""
EPILOG_PROFILES = """\
examples:
  rbm-tui thumbs profiles                        the profiles, the active one starred
  rbm-tui thumbs profiles create anna
  rbm-tui thumbs profiles switch anna
  rbm-tui thumbs profiles rename anna "Anna B"
  rbm-tui thumbs profiles delete "Anna B" --yes
"""
_SHOWN = {"like": "like", "dislike": "dislike", "seen": "seen", "not_interested": "not interested"}


# --------------------------------------------------------------------------- helpers
def _store():
    """The person's ratings store; its notice (repaired, read-only) as a warning."""
    from engine.userstore import UserStore

    store = UserStore()
    if store.notice:
        warn(store.notice)
    return store


def _dataset(args: argparse.Namespace) -> str:
    """The store's key for ``--dataset`` (a catalogue name as the catalogue spells it, else
    as given, as the app keeps it), or the dataset last used in the app."""
    from rbm_tui.preferences import Preferences

    data = getattr(args, "dataset", None)
    if not data:
        data = Preferences.load().dataset
        if not data:
            raise CLIError("name the dataset with --dataset DATA (no dataset was used yet)")
        return data
    return dataset_key(data)


def dataset_key(data: str) -> str:
    """The store's key for DATA: a catalogue name as the catalogue spells it, else as given
    (as the app keeps it)."""
    from engine import catalogue

    return catalogue.canonical_name(data)


def _profile(store, args: argparse.Namespace) -> str:
    name = getattr(args, "profile", None)
    return store.active_profile() if name is None else name


def _rows(store, key: str, profile: str) -> list[dict[str, Any]]:
    """Every thumb, mark and watchlist entry of ``profile`` on ``key``."""
    rows: dict[object, dict[str, Any]] = {}
    for item, liked in store.ratings(key, profile).items():
        rows[item] = {"item": item, "state": "like" if liked else "dislike", "watchlist": False}
    for item, mark in store.marks(key, profile).items():
        rows[item] = {"item": item, "state": mark, "watchlist": False}
    for item in store.watchlist(key, profile):
        rows.setdefault(item, {"item": item, "state": None, "watchlist": False})
        rows[item]["watchlist"] = True
    return list(rows.values())


# --------------------------------------------------------------------------- actions
def cmd_thumbs(args: argparse.Namespace) -> int:
    action = args.action or "list"
    if action == "profiles":
        return _profiles(args)
    if action == "import":
        return _import(args)
    with _store() as store:
        return {"list": _list, "export": _export, "clear": _clear, "undo": _undo}[action](
            store, args
        )


def _list(store, args: argparse.Namespace) -> int:
    key = _dataset(args)
    profile = _profile(store, args)
    rows = _rows(store, key, profile)
    if getattr(args, "json", False):
        print_json({"dataset": key, "profile": profile, "thumbs": rows})
        return EXIT_OK
    if not rows:
        print(f"no thumbs of {profile} on {key}")
        return EXIT_OK
    cells = [
        [str(r["item"]), _SHOWN.get(r["state"] or "", ""), "yes" if r["watchlist"] else ""]
        for r in rows
    ]
    print(table(cells, ["movie", "thumb", "watchlist"]))
    return EXIT_OK


def _export(store, args: argparse.Namespace) -> int:
    key = _dataset(args)
    profile = _profile(store, args)
    titles, threshold = _titles(key)
    if args.output in (None, "-"):
        from engine.store.transfer import ratings_rows

        rows = ratings_rows(profile, store.ratings(key, profile).items(), titles, threshold)
        csv.writer(sys.stdout, lineterminator="\n").writerows(rows)
        return EXIT_OK
    n = store.export_ratings(key, args.output, profile, titles, threshold)
    info(f"wrote {n} thumb{'s' if n != 1 else ''} of {profile} on {key} to {args.output}")
    return EXIT_OK


def _clear(store, args: argparse.Namespace) -> int:
    key = _dataset(args)
    profile = _profile(store, args)
    n = store.count(key, profile)
    if n == 0:
        info(f"no thumbs of {profile} on {key}")
        return EXIT_OK
    if not confirm(f"clear the {n} thumbs of {profile} on {key}?", args.yes):
        raise CLIError("not cleared (pass --yes to clear without asking)")
    store.clear_all(key, profile)
    info(f"cleared {n} thumbs of {profile} on {key} (undo: rbm-tui thumbs undo)")
    return EXIT_OK


def _undo(store, args: argparse.Namespace) -> int:
    key = _dataset(args)
    profile = _profile(store, args)
    changes = store.undo_step(key, profile)
    if not changes:
        info(f"nothing to undo for {profile} on {key}")
        return EXIT_OK
    n = len(changes)
    info(f"undone: {n} change{'s' if n != 1 else ''} of {profile} on {key}")
    return EXIT_OK


def _titles(key: str) -> tuple[dict[object, str] | None, float]:
    """The dataset's titles by movie ID (those it has: a bare ratings file has none), and the
    like threshold a model of it would use (the export writes thumbs on its side of it);
    ``(None, 3)``, after a warning, when the dataset cannot be read (its thumbs are exported
    all the same)."""
    from engine.errors import RbmTuiError
    from engine.settings import LIKE_THRESHOLD, like_threshold_for
    from rbm_tui.cli.common import load_data

    try:
        ratings = load_data(key)[0]
    except (RbmTuiError, CLIError) as e:
        warn(f"exported without titles: {e}")
        return None, LIKE_THRESHOLD
    ids, titles = ratings.item_ids.tolist(), ratings.title_list()
    named = {i: t for i, t, real in zip(ids, titles, ratings.has_titles()) if real} or None
    return named, like_threshold_for(0.0, ratings.scale[1])


# --------------------------------------------------------------------------- import
def _import(args: argparse.Namespace) -> int:
    """Parse and match FILE (nothing changes when it is unreadable or foreign), then write its
    thumbs to the profile in one transaction (one undo step)."""
    from engine.taste import import_thumbs, read_links
    from rbm_tui.cli.common import load_data

    key = _dataset(args)
    ratings, path, _name = load_data(key)
    with _store() as store:
        done = import_thumbs(
            args.file,
            ratings,
            read_links(path),
            store,
            key,
            _profile(store, args),
            args.threshold,
            replace=args.replace,
            create=args.profile is not None,  # a new person: their profile is made for them
        )
    result, profile = done.result, done.profile
    if args.json:
        print(json.dumps(result.to_json(profile), ensure_ascii=False))
        return EXIT_OK
    print(result.summary())
    kept = f", {done.kept} kept as given by hand (--replace replaces them)" if done.kept else ""
    undo = f"rbm-tui thumbs undo --dataset {shlex.quote(key)} --profile {shlex.quote(profile)}"
    print(
        f"{profile} on {key}: {done.written} thumb{'' if done.written == 1 else 's'} written, "
        f"{done.unchanged} already there{kept} (undo: {undo})"
    )
    return EXIT_OK


# --------------------------------------------------------------------------- profiles
def _profiles(args: argparse.Namespace) -> int:
    action = args.paction or "list"
    with _store() as store:
        if action == "list":
            return _profiles_list(store, args)
        if action == "create":
            info(f"created the profile {store.create_profile(args.name)}")
        elif action == "switch":
            info(f"{store.switch_profile(args.name)} is now the active profile")
        elif action == "rename":
            info(f"renamed {args.name} to {store.rename_profile(args.name, args.new)}")
        else:
            n = store.profile_counts().get(args.name, 0)
            if not confirm(f"delete the profile {args.name} and its {n} thumbs?", args.yes):
                raise CLIError("not deleted (pass --yes to delete without asking)")
            n = store.delete_profile(args.name)
            info(f"deleted the profile {args.name} and its {n} thumbs and marks")
    return EXIT_OK


def _profiles_list(store, args: argparse.Namespace) -> int:
    key = _dataset(args) if args.dataset else None
    counts = store.profile_counts(key)
    active = store.active_profile()
    if args.json:
        print_json([{"name": n, "active": n == active, "thumbs": c} for n, c in counts.items()])
        return EXIT_OK
    rows = [[("* " if n == active else "  ") + n, str(c)] for n, c in counts.items()]
    print(table(rows, ["profile", f"thumbs on {key}" if key else "thumbs"], right={1}))
    return EXIT_OK


# --------------------------------------------------------------------------- parser
def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--dataset", metavar="DATA", help="the dataset (default: the last one used)")
    p.add_argument("--profile", metavar="NAME", help="whose thumbs (default: the active profile)")
    return p


def add_parser(sub) -> None:
    """The ``thumbs`` subcommand and its actions."""
    p = sub.add_parser(
        "thumbs",
        help="your thumbs and marks: list, import, export, clear, undo; profiles",
        description="Your thumbs (likes, dislikes) and marks, per dataset and profile.",
        epilog=EPILOG_THUMBS,
        formatter_class=HelpFormatter,
    )
    p.set_defaults(func=cmd_thumbs, action=None, json=False)
    tsub = p.add_subparsers(dest="action", metavar="ACTION")
    common = _common()

    def action(name: str, help: str, example: str) -> argparse.ArgumentParser:
        return tsub.add_parser(
            name,
            help=help,
            parents=[common],
            epilog=f"example:\n  rbm-tui thumbs {name} {example}\n",
            formatter_class=HelpFormatter,
        )

    action("list", "thumbs, marks and the watchlist", "--dataset ml-100k --json").add_argument(
        "--json", action="store_true", help="as JSON"
    )
    action(
        "export",
        "write the thumbs as user,item,rating,title (5 like, 1 dislike)",
        "--dataset ml-100k --profile anna --output anna.csv",
    ).add_argument("--output", "-o", metavar="FILE", help="the CSV file (default: standard output)")
    action(
        "clear",
        "clear every thumb (one step: `thumbs undo` brings them back)",
        "--dataset ml-100k --yes",
    ).add_argument("--yes", "-y", action="store_true", help="do not ask")
    action("undo", "undo the last change (a thumb, a mark, a clear, an import)", "--dataset demo")
    _add_import(action)
    _add_profiles(tsub)


def _add_import(action) -> None:
    q = action(
        "import",
        "read ratings exported from IMDb, Letterboxd, MovieLens.org or rbm-tui as thumbs",
        "ratings.csv --dataset ml-latest-small --profile anna",
    )
    q.add_argument(
        "file", metavar="FILE", help="the export (CSV; its format is read from the header)"
    )
    q.add_argument(
        "--json", action="store_true", help="one JSON line: rows, matched, unmatched, ..."
    )
    q.add_argument(
        "--replace", action="store_true", help="replace thumbs and marks given by hand too"
    )
    q.add_argument(
        "--threshold",
        type=float,
        metavar="X",
        help="a rating of X or more is a like, on the file's scale (default: IMDb 6 of 1-10, "
        "Letterboxd and MovieLens 3 of 0.5-5)",
    )


def _add_profiles(tsub) -> None:
    p = tsub.add_parser(
        "profiles",
        help="several people: list, create, rename, switch, delete",
        epilog=EPILOG_PROFILES,
        formatter_class=HelpFormatter,
    )
    p.set_defaults(paction=None, json=False, dataset=None)
    psub = p.add_subparsers(dest="paction", metavar="ACTION")

    def action(name: str, help: str, example: str, *names: str) -> argparse.ArgumentParser:
        q = psub.add_parser(
            name,
            help=help,
            epilog=f"example:\n  rbm-tui thumbs profiles {name} {example}\n",
            formatter_class=HelpFormatter,
        )
        for n in names:
            q.add_argument(n, metavar=n.upper())
        return q

    q = action("list", "the profiles, the active one starred", "--dataset ml-100k")
    q.add_argument("--dataset", metavar="DATA", help="count the thumbs on this dataset only")
    q.add_argument("--json", action="store_true", help="as JSON")
    action("create", "a new profile", "anna", "name")
    action("switch", "make a profile the active one", "anna", "name")
    action("rename", "rename a profile (its thumbs follow)", 'anna "Anna B"', "name", "new")
    action("delete", "delete a profile and its thumbs", '"Anna B" --yes', "name").add_argument(
        "--yes", "-y", action="store_true", help="do not ask"
    )
