"""Benchmark data-parallel training (``engine.training.distributed``) on 25M-shaped data.

    python benchmarks/bench_distributed.py [FOLDER] [--ranks 1 2] [--max-batches N]
        [--users N] [--hidden N] [--batch-size N] [--threads N] [--json]

Uses ``FOLDER/ratings.csv`` (default ``benchmarks/out/``; written by
``benchmarks/make_synthetic.py`` when missing). The file is parsed once into a parse cache
(``RBM_TUI_HOME=FOLDER/rbm_home_dist``, kept for the next run); then, for each rank count, the
ranks are started as torchrun would start them (gloo on 127.0.0.1, the environment variables
RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) and train for ``--max-batches`` global batches
(a partial epoch; ``--users N`` keeps only the first N users so a whole epoch is short).
Reported per rank count: data load, set-up, seconds per global batch, seconds per epoch
(extrapolated from the batches run), and per rank the resident memory after loading and the
peak (``ru_maxrss``). On a machine with fewer cores than ranks × threads no speed-up is
expected: the point is that the update is the same and what each rank holds in memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

from _memory import maxrss, rss_now

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load(folder: Path, users: int | None):
    from engine.data.loaders import load_ratings

    r = load_ratings(folder / "ratings.csv")
    if users:
        r = r.subset(r.users < users)
    return r


def child(a: argparse.Namespace) -> None:
    """One rank: load, train ``max_batches`` global batches, write figures to a JSON file."""
    sys.path.insert(0, str(REPO))
    import torch

    torch.set_num_threads(a.threads)
    from engine.settings import TrainConfig
    from engine.training.distributed import run_training

    rank = int(os.environ["RANK"])
    t0 = time.perf_counter()
    r = _load(a.folder, a.users)
    load_s = time.perf_counter() - t0
    rss_loaded = rss_now()
    cfg = TrainConfig(
        n_hidden=a.hidden,
        batch_size=a.batch_size,
        epochs=1,
        val_fraction=a.val_fraction,
        seed=0,
        device="cpu",
    )
    stamps: list[float] = []
    state: dict[str, int] = {}

    def progress(p) -> None:
        stamps.append(time.perf_counter())
        state["n_batches"] = p.n_batches

    def cancel() -> bool:
        return bool(a.max_batches) and len(stamps) >= a.max_batches

    t1 = time.perf_counter()
    result = run_training(r, cfg, progress=progress, cancel=cancel, timeout=a.timeout)
    train_s = time.perf_counter() - t1
    out = {
        "rank": rank,
        "world_size": int(os.environ["WORLD_SIZE"]),
        "threads": torch.get_num_threads(),
        "load_s": load_s,
        "train_s": train_s,
        "rss_loaded": rss_loaded,
        "maxrss": maxrss(),
        "cancelled": result.cancelled,
    }
    if rank == 0:
        out.update(
            n_users=r.n_users,
            n_items=r.n_items,
            n_ratings=r.n_ratings,
            n_batches=state.get("n_batches", 0),
            batches=len(stamps),
            # init, the validation split, the first batch (with its warm-up)
            first_batch_s=stamps[0] - t1 if stamps else 0.0,
            # from the end of batch 1 to the end of the last one
            s_per_batch=(stamps[-1] - stamps[0]) / (len(stamps) - 1) if len(stamps) > 1 else 0,
        )
        if not result.cancelled:
            out["checksum"] = [float(result.model.rbm.W.double().abs().sum())]
    (a.out_dir / f"rank{rank}.json").write_text(json.dumps(out))


def run_ranks(a: argparse.Namespace, world: int, out_dir: Path, home: Path) -> list[dict]:
    out_dir.mkdir(parents=True, exist_ok=True)
    for f in out_dir.glob("rank*.json"):
        f.unlink()
    port = _free_port()
    args = [sys.executable, __file__, str(a.folder), "--child", "--out-dir", str(out_dir)]
    args += ["--threads", str(a.threads or max(1, (os.cpu_count() or 1) // world))]
    for flag in ("max_batches", "users", "hidden", "batch_size", "val_fraction", "timeout"):
        v = getattr(a, flag)
        if v is not None:
            args += ["--" + flag.replace("_", "-"), str(v)]
    procs = []
    for rank in range(world):
        env = dict(
            os.environ,
            RBM_TUI_HOME=str(home),
            MASTER_ADDR="127.0.0.1",
            MASTER_PORT=str(port),
            WORLD_SIZE=str(world),
            RANK=str(rank),
            LOCAL_RANK=str(rank),
            PYTHONPATH=str(REPO),
        )
        procs.append(subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True))
    errs = [p.communicate()[1] for p in procs]
    for rank, (p, err) in enumerate(zip(procs, errs)):
        if p.returncode:
            raise SystemExit(f"{world} ranks: rank {rank} failed (exit {p.returncode}):\n{err}")
    return [json.loads((out_dir / f"rank{r}.json").read_text()) for r in range(world)]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", nargs="?", type=Path, default=Path(__file__).parent / "out")
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2], help="rank counts to run")
    ap.add_argument("--max-batches", type=int, default=20, help="global batches (0: full epoch)")
    ap.add_argument("--users", type=int, default=None, help="keep only the first N users")
    ap.add_argument("--hidden", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--val-fraction", type=float, default=None)
    ap.add_argument(
        "--threads", type=int, default=0, help="torch threads per rank (0: cores/ranks)"
    )
    ap.add_argument("--timeout", type=float, default=600.0, help="--dist-timeout of the ranks")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out-dir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.warm:  # fill the parse cache; print whether it was already there
        print(_load(a.folder, None).report.from_cache)
        return
    if a.child:
        from engine.settings import TrainConfig

        d = TrainConfig()
        a.hidden = a.hidden or d.n_hidden
        a.batch_size = a.batch_size or d.batch_size
        a.val_fraction = d.val_fraction if a.val_fraction is None else a.val_fraction
        child(a)
        return

    folder: Path = a.folder
    if not (folder / "ratings.csv").is_file():
        sys.path.insert(0, str(REPO))
        from benchmarks.make_synthetic import write

        print(f"generating 25M synthetic ratings into {folder} ...", file=sys.stderr)
        write(folder, 162_000, 59_000, 25_000_000)
    home = folder / "rbm_home_dist"
    t0 = time.perf_counter()
    warm = subprocess.run(
        [sys.executable, __file__, str(folder), "--warm"],
        env=dict(os.environ, RBM_TUI_HOME=str(home), PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        check=False,
    )
    if warm.returncode:
        raise SystemExit(f"loading failed:\n{warm.stderr}")
    print(
        f"parse cache {'warm' if warm.stdout.strip() == 'True' else 'written'} "
        f"({time.perf_counter() - t0:.1f} s)",
        file=sys.stderr,
    )
    runs = {}
    for world in a.ranks:
        print(f"running {world} rank(s) ...", file=sys.stderr)
        t = time.perf_counter()
        runs[world] = run_ranks(a, world, folder / f"dist_{world}", home)
        runs[world][0]["wall_s"] = time.perf_counter() - t
    if a.json:
        print(json.dumps({str(k): v for k, v in runs.items()}, indent=1))
        return
    r0 = runs[a.ranks[0]][0]
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs")
    print(
        f"data: {r0['n_users']:,} users, {r0['n_items']:,} movies, {r0['n_ratings']:,} ratings; "
        f"{r0['n_batches']:,} global batches per epoch"
    )
    print(
        f"{'ranks':>5} {'thr/rank':>8} {'batches':>7} {'load s':>7} {'1st batch s':>11} "
        f"{'s/batch':>8} {'s/epoch (est.)':>14}  RSS after load / peak, per rank"
    )
    for world, res in runs.items():
        m = res[0]
        mem = "  ".join(f"{x['rss_loaded'] / 1e9:.2f}/{x['maxrss'] / 1e9:.2f} GB" for x in res)
        print(
            f"{world:>5} {m['threads']:>8} {m['batches']:>7} {m['load_s']:>7.1f} "
            f"{m['first_batch_s']:>11.1f} {m['s_per_batch']:>8.3f} "
            f"{m['s_per_batch'] * m['n_batches']:>14.0f}  {mem}"
        )
    sums = {w: res[0].get("checksum") for w, res in runs.items()}
    if all(v is not None for v in sums.values()) and len(sums) > 1:
        print("weights |W| sum per rank count (full epochs only):", sums)


if __name__ == "__main__":
    main()
