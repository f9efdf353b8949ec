"""The ``rbm-tui`` command: everything the app does, scriptable.

``rbm-tui`` alone opens the Textual app. Subcommands::

    rbm-tui train DATA [--model-out PATH] [hyperparameters] [--json]
    rbm-tui recommend DATA --model MODEL [--k 10] [--user ID] [--output FILE.csv]
    rbm-tui predict DATA --model MODEL --pairs FILE [--output FILE.csv]
    rbm-tui evaluate --model MODEL --train DATA --test DATA [--k 10] [--json]
    rbm-tui datasets [list | download NAME | import PATH | info DATA | remove NAME]
    rbm-tui models [list | info NAME | delete NAME | rename NAME NEW]

``DATA`` is a dataset name (``demo``, ``ml-100k``, an imported name), a folder, a GroupLens
``.zip`` or one ratings file. ``MODEL`` is a model file or the name of one in the models
folder (``rbm-tui models list``).

Exit codes: 0 success; 2 a usage or input error (one ``rbm-tui: error: ...`` line on stderr,
no traceback; ``RBM_TUI_DEBUG=1`` shows the traceback); 130 interrupted (Ctrl+C): nothing
half-written is left behind.

The module imports only the standard library at startup; torch, pandas and the engine are
imported inside the commands, so ``rbm-tui --help`` is instant.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rbm_tui.runtime import tune_allocator

PROG = "rbm-tui"
EXIT_OK = 0
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130

#: Engine exception classes that are the user's fault (bad input), matched by name so that
#: this module need not import the engine.
_USER_ERRORS = {
    "RatingsError",
    "DatasetError",
    "DownloadCancelled",
    "ModelError",
    "DistributedError",
}


class CLIError(Exception):
    """A user error: printed as one ``rbm-tui: error: ...`` line, exit code 2."""


class Interrupted(Exception):
    """Ctrl+C: the command stopped cleanly, exit code 130."""


# --------------------------------------------------------------------------- output helpers
def _err(msg: str) -> None:
    print(f"{PROG}: {msg}", file=sys.stderr, flush=True)


def _warn(msg: str) -> None:
    _err(f"warning: {msg}")


def _info(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _fmt_num(x: Any, digits: int = 4) -> str:
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        return "n/a" if math.isnan(x) else f"{x:.{digits}f}"
    return str(x)


def _json_safe(x: Any) -> Any:
    """NaN/inf -> None, numpy scalars -> Python, recursively (JSON has no NaN)."""
    if isinstance(x, dict):
        return {str(k): _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):
        try:
            x = x.item()
        except (TypeError, ValueError):
            pass
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _print_json(obj: Any) -> None:
    print(json.dumps(_json_safe(obj), indent=2, ensure_ascii=False))


def _table(rows: list[list[str]], header: list[str], right: set[int] = frozenset()) -> str:
    """A plain aligned text table."""
    widths = [len(h) for h in header]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))

    def line(cells: list[str]) -> str:
        out = [
            c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)
        ]
        return "  ".join(out).rstrip()

    return "\n".join([line(header)] + [line(r) for r in rows])


def _shorten(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[Any]:
    """A text stream for results: stdout, or ``path`` written atomically (a temporary file in
    the same folder renamed into place on success, removed on any failure or Ctrl+C)."""
    if path is None or path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    import tempfile

    target = Path(path).expanduser()
    if target.is_dir():
        raise CLIError(f"{target}: is a folder; give a file name for --output")
    folder = target.parent
    if not folder.is_dir():
        raise CLIError(f"{target}: the folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _interrupt_flag() -> Iterator[Any]:
    """Turn the first Ctrl+C into a flag (a ``threading.Event``) checked by the engine between
    batches/chunks; a second Ctrl+C raises KeyboardInterrupt as usual."""
    import signal
    import threading

    flag = threading.Event()

    def handler(signum, frame):  # noqa: ARG001
        if flag.is_set():
            raise KeyboardInterrupt
        flag.set()
        with contextlib.suppress(Exception):
            sys.stderr.write("\n" + f"{PROG}: interrupted; stopping (Ctrl+C again to abort)\n")
            sys.stderr.flush()

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: Ctrl+C raises KeyboardInterrupt as usual
        yield flag
        return
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    """torch's CPU thread count set to ``n`` for the command (and put back after)."""
    if not n:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# --------------------------------------------------------------------------- loading helpers
def _dataset_name(data: str, path: Path) -> str:
    """A short name for DATA (for default model file names): the catalogue name, or the
    folder/file name (``ml-100k/u1.base`` -> ``ml-100k-u1``)."""
    from engine import datasets

    key = str(data).strip().lower()
    for name in datasets.names():
        if name.lower() == key:
            return name
    if path.is_dir():
        return path.name
    if path.suffix.lower() == ".zip":
        return path.stem
    if path.name.lower() in {"u.data", "ratings.csv", "ratings.dat"} and path.parent.name:
        return path.parent.name
    return f"{path.parent.name}-{path.stem}" if path.parent.name else path.stem


def _load_data(data: str, *, quiet: bool = True):
    """``(Ratings, resolved path, short name)`` for a DATA argument."""
    from engine.datasets import resolve
    from engine.loaders import load_ratings

    path = resolve(data)
    ratings = load_ratings(path)
    if ratings.n_ratings == 0:
        raise CLIError(f"{path}: holds no ratings")
    if not quiet:
        _info(
            f"loaded {data}: {ratings.n_users:,} users, {ratings.n_items:,} movies, "
            f"{ratings.n_ratings:,} ratings ({ratings.report.seconds:.1f} s"
            + (", cached" if ratings.report.from_cache else "")
            + ")"
        )
    return ratings, path, _dataset_name(data, path)


def _load_model(name_or_path: str, device: str = "auto"):
    """``(Model, path)``."""
    from engine.storage import find_model, load_model

    path = find_model(name_or_path)
    try:
        return load_model(path, device=device), path
    except ValueError as e:  # resolve_device: CUDA asked for but absent
        raise CLIError(str(e)) from None


def _check_fits(model, model_path: Path, ratings, data: str) -> None:
    """Refuse a model that knows none of DATA's movies; warn when it knows only some."""
    known = model.map_items(ratings.item_ids) >= 0
    if not known.any():
        src = model.meta.get("dataset", {}).get("source", "other data")
        raise CLIError(
            f"the model {model_path} knows none of the movies of {data} (it was trained on "
            f"{src}); train a model on this data with:  rbm-tui train {data}"
        )
    missing = int((~known).sum())
    if missing:
        rated = ratings.items[~known[ratings.items]]
        _warn(
            f"{missing:,} of the {ratings.n_items:,} movies of {data} are unknown to the model "
            f"and ignored ({len(rated):,} ratings)"
        )


def _lookup_user(ratings, user: str, data: str) -> int:
    try:
        return ratings.lookup_user(user)
    except KeyError:
        ids = ratings.user_ids
        sample = ", ".join(str(x) for x in ids[:3].tolist())
        raise CLIError(
            f"unknown user {user!r}: {data} has {ratings.n_users:,} users ({sample}, ...)"
        ) from None


# --------------------------------------------------------------------------- train
#: (flag, TrainConfig field, type, metavar, help)
TRAIN_OPTIONS: list[tuple[str, str, type, str, str]] = [
    ("--hidden", "n_hidden", int, "N", "hidden units"),
    ("--epochs", "epochs", int, "N", "most epochs (early stopping may end sooner)"),
    ("--cd-k", "cd_k", int, "N", "Gibbs steps of contrastive divergence (CD-k)"),
    ("--batch-size", "batch_size", int, "N", "users per mini-batch"),
    ("--learning-rate", "learning_rate", float, "F", "learning rate"),
    ("--momentum", "momentum", float, "F", "momentum, in [0, 1)"),
    ("--weight-decay", "weight_decay", float, "F", "L2 weight decay"),
    ("--like-threshold", "like_threshold", float, "F", "a rating >= F is a like"),
    ("--dropout", "dropout", float, "F", "share of hidden units dropped per person and batch"),
    ("--average", "average", float, "F", "decay of the weights' moving average (0: off)"),
    ("--soft-labels", "soft_labels", float, "F", "sharpness of soft like targets (0: hard)"),
    ("--like-exact", "like_exact_weight", float, "F", "weight of the exact like likelihood term"),
    ("--like-cd", "like_weight", float, "F", "weight of the conditional (like) CD-k term"),
    ("--lateral", "lateral_weight", float, "F", "scale of the movie-to-movie weights (0: off)"),
    ("--lateral-l2", "lateral_l2", float, "F", "ridge penalty of the movie-to-movie weights"),
    ("--lateral-l2-pop", "lateral_l2_pop", float, "F", "added ridge penalty per rater of a movie"),
    ("--neighbours", "neighbours", int, "K", "movie neighbours for P(like) from stars (0: off)"),
    ("--neighbours-shrink", "neighbours_shrink", float, "F", "shrinks similarities of few raters"),
    ("--patience", "patience", int, "N", "stop after N epochs without improvement (0: never)"),
    ("--val-fraction", "val_fraction", float, "F", "share of each user's ratings held out"),
    ("--refit-share", "refit_share", float, "F", "share of the epochs on all ratings at the end"),
    ("--seed", "seed", int, "N", "random seed (same seed, same model)"),
]


def _config_default(field: str) -> Any:
    """TrainConfig's default for ``field`` (imported only when help is shown)."""
    import dataclasses

    from engine.trainer import TrainConfig

    for f in dataclasses.fields(TrainConfig):
        if f.name == field:
            return f.default
    return "?"  # pragma: no cover


def _train_config(args: argparse.Namespace):
    from engine.trainer import TrainConfig, resolve_device

    fields = [f for _, f, *_ in TRAIN_OPTIONS] + ["device"]
    overrides = {f: getattr(args, f) for f in fields if getattr(args, f, None) is not None}
    try:
        config = TrainConfig(**overrides)
        resolve_device(config.device)
    except ValueError as e:
        raise CLIError(f"bad training option: {e}") from None
    return config


def _model_out(arg: str | None, name: str) -> Path:
    from engine.storage import default_model_path

    if arg is None:
        return default_model_path(name)
    p = Path(arg).expanduser()
    if p.is_dir():
        return p / default_model_path(name).name
    return p


def cmd_train(args: argparse.Namespace) -> int:
    config = _train_config(args)
    ratings, _path, name = _load_data(args.data, quiet=False)

    from engine.storage import save_model
    from engine.trainer import resolve_device, train
    from rbm_tui.progress import TrainProgress

    _info(
        f"training on {resolve_device(config.device)}: {config.n_hidden} hidden units, "
        f"up to {config.epochs} epochs, CD-{config.cd_k}, batch {config.batch_size}"
    )
    bar = TrainProgress(config.epochs, sys.stderr)
    with _interrupt_flag() as stop:
        try:
            run = train
            if getattr(args, "distributed", False):  # one process of a torchrun job
                from functools import partial

                from engine.distributed import run_training

                run = partial(run_training, timeout=args.dist_timeout)
            result = run(
                ratings,
                config,
                callback=bar.on_epoch,
                progress=bar.on_batch,
                cancel=stop.is_set,
            )
        except (ValueError, FloatingPointError) as e:
            raise CLIError(str(e)) from None
        finally:
            bar.close()
        if result.cancelled or stop.is_set():
            raise Interrupted("training interrupted; no model was saved")
    if result.model is None:  # --distributed: only rank 0 saves the model
        return EXIT_OK
    path = save_model(result.model, _model_out(args.model_out, name))
    val = dict(result.model.meta.get("val_metrics", {}))
    summary = (
        f"trained {len(result.history)} epochs in {result.seconds:.1f} s; "
        f"best epoch {result.best_epoch}"
    )
    if val:
        summary += " (" + ", ".join(f"val {k} {v:.4f}" for k, v in val.items()) + ")"
    n_refit = sum(1 for h in result.history if h.refit)
    if n_refit:
        summary += f", then {n_refit} on all the ratings"
    _info(summary)
    _info(f"saved the model to {path}")
    if args.json:
        _print_json(
            {
                "path": str(path),
                "dataset": str(args.data),
                "epochs": len(result.history),
                "best_epoch": result.best_epoch,
                "seconds": round(result.seconds, 3),
                "device": resolve_device(config.device),
                "val": val,
                "config": config.to_dict(),
            }
        )
    else:
        print(path)
    return EXIT_OK


# --------------------------------------------------------------------------- recommend
def cmd_recommend(args: argparse.Namespace) -> int:
    import csv

    from engine.recommend import recommend_all

    ratings, _path, _name = _load_data(args.data)
    model, model_path = _load_model(args.model, args.device)
    _check_fits(model, model_path, ratings, args.data)
    users = None
    if args.user is not None:
        u = _lookup_user(ratings, args.user, args.data)
        users = ratings.user_ids[u : u + 1].tolist()
    recs = recommend_all(model, ratings, k=args.k, users=users, by=args.by, with_scores=True)

    if args.user is not None and args.output is None:
        uid = users[0]
        rows = []
        for rank, (item, _score, p) in enumerate(recs[uid], 1):
            try:
                title = str(ratings.movies["title"].iat[ratings.lookup_item(item)])
            except KeyError:
                title = str(item)
            rows.append([str(rank), str(item), _shorten(title, 60), f"{100 * p:.0f}%"])
        n_rated = len(ratings.user_items(ratings.lookup_user(uid))[0])
        print(
            f"Top {len(rows)} for user {uid} ({n_rated} movies rated in {args.data}; "
            f"model {model_path.name}):"
        )
        print(_table(rows, ["#", "movie", "title", "P(like)"], right={0, 1, 3}))
        return EXIT_OK

    with _output(args.output) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["user", "item", "score"])
        for uid, items in recs.items():
            for item, score, _p in items:
                w.writerow([uid, item, f"{score:.6f}"])
    if args.output is not None:
        n = sum(len(v) for v in recs.values())
        _info(f"wrote {n:,} recommendations for {len(recs):,} users to {args.output}")
    return EXIT_OK


# --------------------------------------------------------------------------- predict
_USER_COLUMNS = {"user", "userid", "users", "uid", "username", "customerid", "reviewerid"}
_ITEM_COLUMNS = {"item", "itemid", "items", "iid", "movie", "movieid", "movies", "mid", "film"}
_ITEM_COLUMNS |= {"filmid"}


def _norm(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _split_line(line: str, sep: str | None) -> list[str]:
    import csv

    if sep == ",":
        return [f.strip() for f in next(csv.reader([line]), [])]
    if sep is None:
        return line.split()
    return [f.strip() for f in line.split(sep)]


def read_pairs(path: str | os.PathLike[str]) -> tuple[list, list]:
    """``(user_ids, item_ids)`` of each row of a pairs file, in file order.

    A folder or ``.zip`` is read with the ratings loader. A text file may be any ratings
    file (MovieLens ``u1.test``, ``ratings.dat``, a CSV) or just ``user,item`` rows: the
    separator is sniffed (``::``, tab, comma, semicolon, ``|`` or spaces); a header naming user
    and movie columns is used when present, else the first two columns are user and movie.
    Extra columns are ignored. IDs are kept as the text of the file. Raises RatingsError
    (file and line) for rows without two IDs.
    """
    from engine.loaders import _is_number
    from engine.ratings import RatingsError

    p = Path(path).expanduser()
    if not p.exists():
        raise RatingsError(p, "no such file or directory", hint="check the path")
    if p.is_dir() or p.suffix.lower() == ".zip":
        from engine.loaders import load_ratings

        r = load_ratings(p)
        return r.user_ids[r.users].tolist(), r.item_ids[r.items].tolist()
    try:
        text = p.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as e:
        raise RatingsError(p, f"cannot read the file: {e.strerror}") from None
    lines = text.splitlines()
    numbered = [(n, ln) for n, ln in enumerate(lines, 1) if ln.strip()]
    if not numbered:
        raise RatingsError(p, "the file is empty", hint="give one user,item pair per line")
    first = numbered[0][1]
    sep: str | None
    if "::" in first:
        sep = "::"
    else:
        sep = next((s for s in ("\t", ",", ";", "|") if s in first), None)
    head = _split_line(first, sep)
    norm = [_norm(h) for h in head]
    ucol = next((i for i, h in enumerate(norm) if h in _USER_COLUMNS), None)
    icol = next((i for i, h in enumerate(norm) if h in _ITEM_COLUMNS), None)
    has_header = ucol is not None and icol is not None
    if not has_header:
        ucol, icol = 0, 1
        second = _split_line(numbered[1][1], sep) if len(numbered) > 1 else []
        if not any(_is_number(h) for h in head) and any(_is_number(f) for f in second):
            has_header = True  # a header with other names: first two columns
    rows = numbered[1:] if has_header else numbered
    need = max(ucol, icol) + 1
    users: list = []
    items: list = []
    for n, ln in rows:
        f = _split_line(ln, sep)
        if len(f) < need:
            raise RatingsError(
                p,
                f"expected a user and a movie ID, found {len(f)} field(s)",
                line=n,
                hint="fix or delete this line",
            )
        u, i = f[ucol], f[icol]
        if not u or not i:
            raise RatingsError(p, "empty user or movie ID", line=n, hint="fix or delete this line")
        users.append(u)
        items.append(i)
    return users, items


def _some(values: list, n: int = 5) -> str:
    shown = ", ".join(str(v) for v in values[:n])
    return shown + (", ..." if len(values) > n else "")


def cmd_predict(args: argparse.Namespace) -> int:
    import csv

    import numpy as np

    from engine.recommend import predict_pairs

    ratings, _path, _name = _load_data(args.data)
    model, model_path = _load_model(args.model, args.device)
    _check_fits(model, model_path, ratings, args.data)
    users, items = read_pairs(args.pairs)
    p, ok = predict_pairs(model, ratings, np.asarray(users, dtype=object), np.asarray(items))
    if not ok.all():
        bad_users: dict = {}
        bad_items: dict = {}
        unknown_item = model.map_items(np.asarray(items, dtype=object)) < 0
        for j in np.nonzero(~ok)[0].tolist():
            try:
                ratings.lookup_user(users[j])
            except KeyError:
                bad_users[users[j]] = bad_users.get(users[j], 0) + 1
            if unknown_item[j]:
                bad_items[items[j]] = bad_items.get(items[j], 0) + 1
        msg = f"{int((~ok).sum()):,} of {len(ok):,} pairs have no prediction (empty p_like):"
        if bad_users:
            msg += f" {len(bad_users)} user(s) not in {args.data} ({_some(list(bad_users))})"
        if bad_items:
            msg += (";" if bad_users else "") + (
                f" {len(bad_items)} movie(s) unknown to the model ({_some(list(bad_items))})"
            )
        _warn(msg)
    with _output(args.output) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["user", "item", "p_like"])
        for u, i, pl, good in zip(users, items, p.tolist(), ok.tolist()):
            w.writerow([u, i, f"{pl:.6f}" if good else ""])
    if args.output is not None:
        _info(f"wrote {int(ok.sum()):,} predictions for {len(ok):,} pairs to {args.output}")
    return EXIT_OK


# --------------------------------------------------------------------------- evaluate
_METRIC_NAMES = {
    "auc": "AUC of P(like)",
    "accuracy": "accuracy (P(like) > 0.5)",
    "per_user_error": "per-user error",
    "ece": "ECE (10 bins)",
    "map": "MAP",
    "users": "users ranked",
    "test_rows": "test rows",
    "skipped_rows": "skipped test rows",
}


def cmd_evaluate(args: argparse.Namespace) -> int:
    from engine.evaluate import evaluate

    train, _tp, _tn = _load_data(args.train)
    test, _sp, _sn = _load_data(args.test)
    model, model_path = _load_model(args.model, args.device)
    _check_fits(model, model_path, train, args.train)
    metrics = evaluate(model, train, test, k=args.k)
    if metrics.get("skipped_rows"):
        _warn(
            f"{metrics['skipped_rows']:,} test rows were skipped (user not in {args.train} "
            "or movie unknown to the model)"
        )
    if args.json:
        _print_json(
            {
                "model": str(model_path),
                "train": str(args.train),
                "test": str(args.test),
                "k": args.k,
                "metrics": metrics,
            }
        )
        return EXIT_OK
    k = args.k
    order = ["auc", "accuracy", "per_user_error", "ece"]
    order += [f"precision@{k}", f"recall@{k}", f"ndcg@{k}", "map"]
    order += ["users", "test_rows", "skipped_rows"]
    order += [m for m in metrics if m not in order]
    rows = []
    for m in order:
        if m in metrics:
            label = _METRIC_NAMES.get(m, m.replace("precision@", "P@").replace("recall@", "R@"))
            label = label.replace("ndcg@", "nDCG@")
            rows.append([label, _fmt_num(metrics[m])])
    print(f"model {model_path}  train {args.train}  test {args.test}")
    print(_table(rows, ["metric", "value"], right={1}))
    return EXIT_OK


# --------------------------------------------------------------------------- datasets
def _short_licence(text: str) -> str:
    cut = len(text)
    for ch in (":", "(", ";", "."):
        j = text.find(ch)
        if 0 < j < cut:
            cut = j
    return _shorten(text[:cut].strip(), 40)


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
    from engine import datasets
    from rbm_tui.progress import format_bytes

    entries = []
    for d in datasets.catalogue():
        where = datasets.local_path(d.name)
        entries.append((d, where))
    if getattr(args, "json", False):
        _print_json(
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
                _shorten(d.title, 28),
                _short_licence(d.licence),
            ]
        )
    print(_table(rows, ["name", "status", "size", "ratings", "title", "licence"], right={2, 3}))
    print(
        "\nrbm-tui datasets download NAME fetches one; rbm-tui datasets info NAME shows its "
        "licence and citation."
    )
    return EXIT_OK


def _datasets_download(args: argparse.Namespace) -> int:
    from engine import datasets
    from rbm_tui.progress import ByteProgress

    info = datasets.get(args.name)
    if not info.downloadable:
        raise CLIError(
            f"{info.name} is not downloadable (it is {info.kind}); downloadable: "
            + ", ".join(d.name for d in datasets.catalogue() if d.downloadable)
        )
    where = datasets.local_path(info.name)
    if where is not None and not args.force:
        _info(f"{info.name} is already downloaded (use --force to fetch it again)")
        print(where)
        return EXIT_OK
    _info(f"{info.title}: {info.licence}")
    bar = ByteProgress(f"downloading {info.name}", sys.stderr)
    with _interrupt_flag() as stop:
        try:
            path = datasets.download(info.name, progress=bar, cancel=stop)
        except datasets.DownloadCancelled:
            raise Interrupted(
                f"download of {info.name} cancelled; nothing was left behind"
            ) from None
        finally:
            bar.close()
        if stop.is_set():  # pragma: no cover - Ctrl+C after the last check
            _warn("interrupted after the download had finished; it was kept")
    _info(f"downloaded {info.name}")
    print(path)
    return EXIT_OK


def _datasets_import(args: argparse.Namespace) -> int:
    from engine import datasets

    info = datasets.import_dataset(args.path, args.name, link=args.link)
    where = datasets.local_path(info.name)
    _info(f"imported {args.path} as {info.name}" + (" (linked)" if args.link else ""))
    print(where if where is not None else info.name)
    return EXIT_OK


def _datasets_remove(args: argparse.Namespace) -> int:
    from engine import datasets

    info = datasets.get(args.name)
    if not _confirm(f"delete the dataset {info.name} from disk?", args.yes):
        raise CLIError("not deleted (pass --yes to delete without asking)")
    if datasets.remove(info.name):
        _info(f"removed {info.name}")
    else:
        _info(f"{info.name} was not on disk")
    return EXIT_OK


def _datasets_info(args: argparse.Namespace) -> int:
    from engine import datasets
    from rbm_tui.progress import format_bytes

    out: dict[str, Any] = {}
    lines: list[tuple[str, str]] = []
    key = str(args.data).strip().lower()
    entry = next((d for d in datasets.catalogue() if d.name.lower() == key), None)
    if entry is not None:
        out["catalogue"] = entry.to_dict()
        lines += [("name", entry.name), ("title", entry.title), ("kind", entry.kind)]
        if entry.description:
            lines.append(("description", entry.description))
        if entry.size:
            lines.append(("download size", format_bytes(entry.size)))
        lines.append(("licence", entry.licence or "-"))
        if entry.citation:
            lines.append(("citation", entry.citation))
        if entry.url:
            lines.append(("url", entry.url))
        where = datasets.local_path(entry.name)
        hint = f"no (download it with:  rbm-tui datasets download {entry.name})"
        lines.append(("on disk", str(where) if where else hint))
        if where is None:
            if args.json:
                _print_json(out)
            else:
                _print_pairs(lines)
            return EXIT_OK
    from engine.ratings import LIKE_THRESHOLD

    ratings, path, _name = _load_data(args.data)
    threshold = args.like_threshold if args.like_threshold is not None else LIKE_THRESHOLD
    lo, hi = ratings.scale
    stats = {
        "path": str(path),
        "format": ratings.report.format,
        "users": ratings.n_users,
        "movies": ratings.n_items,
        "ratings": ratings.n_ratings,
        "like_threshold": threshold,
        "like_share": ratings.like_share(threshold),
        "sparsity": ratings.sparsity,
        "scale": [lo, hi],
        "timestamps": ratings.timestamps is not None,
        "duplicates_dropped": ratings.report.duplicates_dropped,
    }
    out["stats"] = stats
    if args.json:
        _print_json(out)
        return EXIT_OK
    lines += [
        ("path", str(path)),
        ("format", ratings.report.format or "-"),
        ("users", f"{ratings.n_users:,}"),
        ("movies", f"{ratings.n_items:,}"),
        ("ratings", f"{ratings.n_ratings:,}"),
        ("rating scale", f"{lo:g}-{hi:g}"),
        (f"like share (rating >= {threshold:g})", f"{100 * stats['like_share']:.1f}%"),
        ("sparsity", f"{100 * ratings.sparsity:.2f}% unrated"),
    ]
    if ratings.report.duplicates_dropped:
        lines.append(("duplicates dropped", f"{ratings.report.duplicates_dropped:,}"))
    _print_pairs(lines)
    return EXIT_OK


def _print_pairs(lines: list[tuple[str, str]]) -> None:
    w = max(len(k) for k, _ in lines)
    for k, v in lines:
        print(f"{k.ljust(w)}  {v}")


def _confirm(question: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        return False
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


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
    from engine.storage import list_models
    from rbm_tui.progress import format_bytes

    models = list_models()
    if getattr(args, "json", False):
        _print_json(
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
                _shorten(Path(str(s["dataset"]).rstrip("/")).name or "-", 24),
                str(s["hidden"]),
                f"{s['best_epoch']}/{s['epochs']}",
                f"{auc:.3f}" if isinstance(auc, float) else "-",
                format_bytes(m.size),
            ]
        )
    print(
        _table(
            rows,
            ["name", "created", "dataset", "hidden", "best/epochs", "val auc", "size"],
            right={3, 4, 5, 6},
        )
    )
    print(f"\n{len(models)} model(s) in {paths.models_dir()}")
    return EXIT_OK


def _models_info(args: argparse.Namespace) -> int:
    from engine.storage import find_model, read_header
    from rbm_tui.progress import format_bytes

    path = find_model(args.name)
    header = read_header(path)
    if args.json:
        _print_json({"path": str(path), "size": path.stat().st_size, "header": header})
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
                f"{ds.get('n_users', 0):,} users, {ds.get('n_items', 0):,} movies, "
                f"{ds.get('n_ratings', 0):,} ratings",
            )
        )
        lines.append(("fingerprint", str(ds.get("fingerprint", ""))))
    lines += [
        ("hidden units", str(s["hidden"])),
        ("like threshold", f"{header.get('like_threshold', '?')}"),
        ("epochs run", f"{s['epochs']} (best {s['best_epoch']})"),
    ]
    for k, v in s["val"].items():
        lines.append((f"val {k}", _fmt_num(v)))
    cal = header.get("calibration")
    if cal:
        from engine.model import CALIBRATION_NAMES, pad_calibration

        try:
            pairs = zip(CALIBRATION_NAMES, pad_calibration(cal))
            lines.append(("calibration", " ".join(f"{n}={c:.4f}" for n, c in pairs)))
        except (TypeError, ValueError):
            lines.append(("calibration", "damaged"))
    for k, v in (header.get("config") or {}).items():
        lines.append((f"config {k}", str(v)))
    for k, v in (meta.get("versions") or {}).items():
        lines.append((f"version {k}", str(v)))
    _print_pairs(lines)
    return EXIT_OK


def _models_delete(args: argparse.Namespace) -> int:
    from engine.storage import delete_model, find_model

    path = find_model(args.name)
    if not _confirm(f"delete {path}?", args.yes):
        raise CLIError("not deleted (pass --yes to delete without asking)")
    delete_model(path)
    _info(f"deleted {path}")
    return EXIT_OK


def _models_rename(args: argparse.Namespace) -> int:
    from engine.storage import find_model, rename_model

    path = find_model(args.name)
    new = rename_model(path, args.new)
    print(new)
    return EXIT_OK


# --------------------------------------------------------------------------- app
def cmd_app(args: argparse.Namespace) -> int:
    import importlib

    try:
        app = importlib.import_module("rbm_tui.app")
    except ModuleNotFoundError as e:
        if e.name in ("rbm_tui.app", "textual"):
            raise CLIError(f"the terminal app is not available ({e})") from None
        raise
    dataset = getattr(args, "dataset", None)
    rc = app.run(dataset=dataset) if dataset else app.run()
    return rc if isinstance(rc, int) else EXIT_OK


# --------------------------------------------------------------------------- parser
class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps examples as written; appends defaults (TrainConfig's, read only when shown)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        field = getattr(action, "config_field", None)
        if field:
            return text + f" (default: {_config_default(field)})"
        if (
            action.option_strings
            and "%(default)" not in text
            and action.default not in (None, False, argparse.SUPPRESS)
        ):
            text += " (default: %(default)s)"
        return text


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {v}")
    return v


def _add_threads(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--threads",
        type=_positive_int,
        metavar="N",
        help="CPU threads for torch (default: torch's choice, one per core); 1 is often "
        "faster on a busy machine",
    )


DATA_HELP = (
    "a dataset name (demo, ml-100k, ... see `rbm-tui datasets`), a folder, a GroupLens .zip "
    "or one ratings file (u1.base, ratings.csv, a CSV with user,item,rating columns)"
)
MODEL_HELP = "a model file, or the name of one in the models folder (`rbm-tui models list`)"

EPILOG_MAIN = """\
examples:
  rbm-tui                                   open the terminal app
  rbm-tui datasets                          the datasets, and which are on disk
  rbm-tui train ml-100k --model-out m.pt    train with the default settings
  rbm-tui recommend ml-100k --model m.pt --user 196
  rbm-tui evaluate --model m.pt --train ml-100k/u1.base --test ml-100k/u1.test

DATA is a dataset name (demo, ml-100k, ...), a folder, a GroupLens .zip or one ratings file.
Exit codes: 0 ok, 2 bad input (one error line on stderr), 130 interrupted (Ctrl+C).
"""

EPILOG_TRAIN = """\
examples:
  rbm-tui train demo
  rbm-tui train ml-100k --model-out ml100k.pt
  rbm-tui train path/to/ml-100k/u1.base --hidden 200 --epochs 60 --seed 1
  rbm-tui train ratings.csv --json > run.json

Progress (epoch, loss, validation metrics, ETA) goes to stderr; the saved model's path (or,
with --json, a JSON object) to stdout. Options left out take the tuned defaults. Ctrl+C stops
training and saves nothing (exit 130).
"""

EPILOG_RECOMMEND = """\
examples:
  rbm-tui recommend ml-100k --model m.pt > top10.csv
  rbm-tui recommend ml-100k --model m.pt --k 20 --output top20.csv
  rbm-tui recommend ml-100k --model m.pt --user 196

CSV: header user,item,score; original IDs; for every user the k best movies that user has
not rated in DATA, best first (score: the model's log-odds of picking the movie). With --user
and no --output: a table with titles and P(like).
"""

EPILOG_PREDICT = """\
examples:
  rbm-tui predict ml-100k/u1.base --model m.pt --pairs ml-100k/u1.test > p.csv
  rbm-tui predict ratings.csv --model m.pt --pairs pairs.csv --output p.csv

FILE: any ratings file, or a CSV of user,item pairs (header optional; extra columns
ignored). Output: header user,item,p_like, one row per row of FILE in the same order.
Pairs whose user is not in DATA or whose movie the model does not know keep their row with an
empty p_like, and are counted on stderr.
"""

EPILOG_EVALUATE = """\
examples:
  rbm-tui evaluate --model m.pt --train ml-100k/u1.base --test ml-100k/u1.test
  rbm-tui evaluate --model m.pt --train train.csv --test test.csv --json

Like/dislike metrics over the test rows (AUC, accuracy, per-user error, ECE) and top-N
metrics over the test users (P@k, R@k, nDCG@k, MAP), as in BENCHMARKS.md. Users and movies are
matched between the two files by their original IDs; TRAIN gives each user's known ratings.
"""

EPILOG_DATASETS = """\
examples:
  rbm-tui datasets                       list (same as `datasets list`)
  rbm-tui datasets download ml-100k      fetch from GroupLens (Ctrl+C cancels cleanly)
  rbm-tui datasets import ~/ml-100k.zip  use a zip you downloaded yourself
  rbm-tui datasets import my.csv --name mine
  rbm-tui datasets info ml-100k          counts, like share, sparsity, licence
"""

EPILOG_MODELS = """\
examples:
  rbm-tui models                         list (same as `models list`)
  rbm-tui models info ml-100k-20240101-120000
  rbm-tui models rename ml-100k-20240101-120000 best
  rbm-tui models delete best --yes
"""


def build_parser() -> argparse.ArgumentParser:
    from rbm_tui import __version__

    fmt = _HelpFormatter
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="A terminal movie recommender: an RBM trained by contrastive divergence "
        "on likes and dislikes. Without a command, opens the terminal app.",
        epilog=EPILOG_MAIN,
        formatter_class=fmt,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "--dataset",
        metavar="DATA",
        help="without a command: open the app on this dataset (default: the last one used)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    # train
    p = sub.add_parser(
        "train",
        help="train a model on DATA and save it",
        description="Train an RBM on DATA (like = rating >= the like threshold) and save it.",
        epilog=EPILOG_TRAIN,
        formatter_class=fmt,
    )
    p.add_argument("data", metavar="DATA", help=DATA_HELP)
    p.add_argument(
        "--model-out",
        metavar="PATH",
        help="where to save the model (a file, or a folder); default: a new file named after "
        "the dataset in the models folder",
    )
    for flag, field, typ, metavar, help_ in TRAIN_OPTIONS:
        a = p.add_argument(flag, dest=field, type=typ, metavar=metavar, default=None, help=help_)
        a.config_field = field  # type: ignore[attr-defined]
    a = p.add_argument(
        "--device", dest="device", choices=("auto", "cpu", "cuda"), default=None, help="device"
    )
    a.config_field = "device"  # type: ignore[attr-defined]
    _add_threads(p)
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.add_argument(
        "--distributed",
        action="store_true",
        help="data-parallel training, one process per rank started by torchrun "
        "(torchrun --nproc-per-node N -m rbm_tui train DATA --distributed); rank 0 saves",
    )
    p.add_argument(
        "--dist-timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="with --distributed: how long a rank waits for the others before failing",
    )
    p.set_defaults(func=cmd_train)

    # recommend
    p = sub.add_parser(
        "recommend",
        help="top-k movies for every user of DATA (or one)",
        description="The top-k movies for each user of DATA, leaving out what they rated.",
        epilog=EPILOG_RECOMMEND,
        formatter_class=fmt,
    )
    p.add_argument("data", metavar="DATA", help=DATA_HELP)
    p.add_argument("--model", required=True, metavar="MODEL", help=MODEL_HELP)
    p.add_argument("--k", type=_positive_int, default=10, metavar="N", help="movies per user")
    p.add_argument("--user", metavar="ID", help="only this user (original ID)")
    p.add_argument("--output", "-o", metavar="FILE.csv", help="write the CSV here, not stdout")
    p.add_argument(
        "--by",
        choices=("seen", "liked"),
        default="seen",
        help="rank by how likely the user picks the movie (seen) or picks and likes it (liked)",
    )
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="device")
    _add_threads(p)
    p.set_defaults(func=cmd_recommend)

    # predict
    p = sub.add_parser(
        "predict",
        help="P(like) for (user, movie) pairs",
        description="P(like) for each (user, movie) row of a pairs file, DATA giving each "
        "user's known ratings.",
        epilog=EPILOG_PREDICT,
        formatter_class=fmt,
    )
    p.add_argument("data", metavar="DATA", help=DATA_HELP)
    p.add_argument("--model", required=True, metavar="MODEL", help=MODEL_HELP)
    p.add_argument("--pairs", required=True, metavar="FILE", help="the (user, movie) pairs")
    p.add_argument("--output", "-o", metavar="FILE.csv", help="write the CSV here, not stdout")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="device")
    _add_threads(p)
    p.set_defaults(func=cmd_predict)

    # evaluate
    p = sub.add_parser(
        "evaluate",
        help="like/dislike and top-N metrics on a train/test pair",
        description="Evaluate a model: TRAIN gives each user's known ratings, TEST the truth.",
        epilog=EPILOG_EVALUATE,
        formatter_class=fmt,
    )
    p.add_argument("--model", required=True, metavar="MODEL", help=MODEL_HELP)
    p.add_argument("--train", required=True, metavar="DATA", help="the known ratings")
    p.add_argument("--test", required=True, metavar="DATA", help="the held-out ratings")
    p.add_argument("--k", type=_positive_int, default=10, metavar="N", help="list length")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="device")
    _add_threads(p)
    p.set_defaults(func=cmd_evaluate)

    # datasets
    p = sub.add_parser(
        "datasets",
        help="list, download, import and inspect datasets",
        description="The dataset catalogue, downloads and imports.",
        epilog=EPILOG_DATASETS,
        formatter_class=fmt,
    )
    p.set_defaults(func=cmd_datasets, action=None, json=False)
    dsub = p.add_subparsers(dest="action", metavar="ACTION")
    q = dsub.add_parser(
        "list",
        help="the catalogue, with on-disk status, size and licence",
        epilog="examples:\n  rbm-tui datasets list\n  rbm-tui datasets list --json\n",
        formatter_class=fmt,
    )
    q.add_argument("--json", action="store_true", help="as JSON")
    q = dsub.add_parser(
        "download",
        help="download a MovieLens dataset from GroupLens",
        description="Download, verify (MD5) and unpack a dataset. Ctrl+C cancels and leaves "
        "nothing behind.",
        epilog="example:\n  rbm-tui datasets download ml-100k\n",
        formatter_class=fmt,
    )
    q.add_argument("name", metavar="NAME", help="a downloadable dataset (ml-100k, ml-1m, ...)")
    q.add_argument("--force", action="store_true", help="download again if already on disk")
    q = dsub.add_parser(
        "import",
        help="import a local folder, .zip or ratings file",
        description="Import a local folder, GroupLens .zip or ratings file as a dataset.",
        epilog="examples:\n  rbm-tui datasets import ~/Downloads/ml-1m.zip\n"
        "  rbm-tui datasets import ratings.csv --name mine --link\n",
        formatter_class=fmt,
    )
    q.add_argument("path", metavar="PATH", help="a folder, .zip or ratings file")
    q.add_argument("--name", metavar="N", help="the dataset's name (default: from PATH)")
    q.add_argument("--link", action="store_true", help="link to PATH instead of copying it")
    q = dsub.add_parser(
        "info",
        help="users, movies, ratings, like share, sparsity",
        description="Load DATA and show its size, like share and sparsity (and, for a "
        "catalogue name, its licence and citation).",
        epilog="examples:\n  rbm-tui datasets info demo\n  rbm-tui datasets info ml-100k/u1.base\n",
        formatter_class=fmt,
    )
    q.add_argument("data", metavar="DATA", help=DATA_HELP)
    q.add_argument(
        "--like-threshold", type=float, metavar="F", help="a rating >= F is a like (default: 3)"
    )
    q.add_argument("--json", action="store_true", help="as JSON")
    q = dsub.add_parser(
        "remove",
        help="delete a downloaded or imported dataset",
        epilog="example:\n  rbm-tui datasets remove ml-1m --yes\n",
        formatter_class=fmt,
    )
    q.add_argument("name", metavar="NAME")
    q.add_argument("--yes", "-y", action="store_true", help="do not ask")

    # models
    p = sub.add_parser(
        "models",
        help="list, inspect, rename and delete saved models",
        description="Saved models (in the models folder).",
        epilog=EPILOG_MODELS,
        formatter_class=fmt,
    )
    p.set_defaults(func=cmd_models, action=None, json=False)
    msub = p.add_subparsers(dest="action", metavar="ACTION")
    q = msub.add_parser(
        "list",
        help="saved models, newest first",
        epilog="examples:\n  rbm-tui models list\n  rbm-tui models list --json\n",
        formatter_class=fmt,
    )
    q.add_argument("--json", action="store_true", help="as JSON")
    q = msub.add_parser(
        "info",
        help="a model's dataset, settings and validation metrics",
        epilog="example:\n  rbm-tui models info best\n",
        formatter_class=fmt,
    )
    q.add_argument("name", metavar="NAME", help=MODEL_HELP)
    q.add_argument("--json", action="store_true", help="as JSON")
    q = msub.add_parser(
        "delete",
        help="delete a model",
        epilog="example:\n  rbm-tui models delete best --yes\n",
        formatter_class=fmt,
    )
    q.add_argument("name", metavar="NAME", help=MODEL_HELP)
    q.add_argument("--yes", "-y", action="store_true", help="do not ask")
    q = msub.add_parser(
        "rename",
        help="rename a model",
        epilog="example:\n  rbm-tui models rename ml-100k-20240101-120000 best\n",
        formatter_class=fmt,
    )
    q.add_argument("name", metavar="NAME", help=MODEL_HELP)
    q.add_argument("new", metavar="NEW", help="the new name (letters, digits, '.', '_', '-')")

    parser.set_defaults(func=cmd_app)
    return parser


# --------------------------------------------------------------------------- main
def _is_user_error(exc: BaseException) -> bool:
    if isinstance(exc, (CLIError, OSError)):
        return True
    return any(
        c.__name__ in _USER_ERRORS and c.__module__.startswith("engine.") for c in type(exc).__mro__
    )


def main(argv: list[str] | None = None) -> int:
    """Run the ``rbm-tui`` command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, usage errors
        return e.code if isinstance(e.code, int) else (0 if e.code is None else EXIT_ERROR)
    debug = bool(os.environ.get("RBM_TUI_DEBUG"))
    try:
        with _threads(getattr(args, "threads", None)):
            return args.func(args)
    except Interrupted as e:
        _err(str(e))
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`rbm-tui recommend ... | head`): stop quietly
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as e:
        if debug or not _is_user_error(e):
            raise
        if type(e).__name__ == "DownloadCancelled":
            _err(str(e))
            return EXIT_INTERRUPTED
        msg = str(e) or type(e).__name__
        if isinstance(e, OSError) and not isinstance(e, CLIError):
            msg = f"{e.filename}: {e.strerror}" if e.filename and e.strerror else msg
        _err(f"error: {msg}")
        return EXIT_ERROR


def entry() -> int:
    """The ``rbm-tui`` command (console script and ``python -m rbm_tui``): :func:`main` in a
    process tuned for it (see :mod:`rbm_tui.runtime`)."""
    tune_allocator()
    code = main()
    # the collector's last pass at exit would walk every object torch created (~0.4 s)
    gc.freeze()
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(entry())
