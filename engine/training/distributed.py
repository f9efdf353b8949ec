"""Data-parallel training under PyTorch's distributed runtime (``torchrun``).

Every rank loads the same ratings and draws the same global permutation of the users (same
seed). Each global mini-batch of ``batch_size`` users is split across the ranks (rank ``r``
takes rows ``r::world_size``); every rank draws the random numbers of the *whole* batch from
the shared generator and uses its rows, so the Gibbs chains are the ones a single process
would run. The CD statistics (positive minus negative phase sums of ``W``, ``b``, ``c``, the
batch size and the loss sums) are summed with ``all_reduce`` and every rank applies the same
update: the model equals the single-process one for the same seed and ``batch_size`` (up to
float rounding of the sums, on the CPU). Rank 0 alone validates (early stopping: it
broadcasts the decision), reports progress and writes the model; the others exit.

Backend: ``gloo`` on the CPU, ``nccl`` on CUDA (rank ``LOCAL_RANK`` uses GPU ``LOCAL_RANK``).
A rank that dies or stalls makes the others fail with :class:`DistributedError` (a peer's
closed connection is seen at once; a stalled peer after ``timeout`` seconds) instead of
hanging forever.

From the command line (the environment variables come from ``torchrun``)::

    torchrun --standalone --nproc-per-node 2 -m rbm_tui train DATA --distributed \\
        --model-out m.pt [--epochs N --set NAME=VALUE ...] [--dist-timeout 300]

From Python, in each process started by ``torchrun``::

    from engine.training.distributed import run_training
    result = run_training(lambda: load_ratings(path), config)   # model on rank 0 only
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from engine.data.ratings import Ratings
from engine.errors import DistributedError
from engine.settings import TrainConfig
from engine.training.loop import BatchProgress, EpochReport, TrainResult

#: Seconds a rank waits for the others (rendezvous, each collective) before failing.
DEFAULT_TIMEOUT = 300.0

_ENV = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def _short(e: BaseException, n: int = 300) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= n else text[: n - 3] + "..."


def is_distributed_env() -> bool:
    """True when the torchrun environment variables (RANK, WORLD_SIZE, ...) are all set."""
    return all(os.environ.get(k) for k in _ENV)


def env_rank() -> int:
    """This process's global rank from the environment (0 when not distributed)."""
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0


@dataclass
class Collective:
    """The hook :func:`engine.training.loop.train` gets as ``dist``: rank, world size and the two
    collectives it needs, with every failure turned into a :class:`DistributedError`."""

    rank: int
    world_size: int
    local_rank: int
    device: str  # "cpu" or "cuda" (the current CUDA device is this rank's GPU)
    backend: str
    timeout: float

    @contextlib.contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        t0 = time.monotonic()
        try:
            yield
        except DistributedError:
            raise
        except (RuntimeError, OSError, ValueError) as e:
            waited = time.monotonic() - t0
            text = str(e).lower()
            if "timeout" in text or "timed out" in text:
                cause = "another rank did not answer in time (it has stalled or died)"
            else:
                cause = "the connection to another rank broke (it has probably died)"
            raise DistributedError(
                f"rank {self.rank} of {self.world_size}: the {what} with the other ranks failed "
                f"after {waited:.1f} s: {cause}; see the other ranks' output for why. Ranks wait "
                f"at most {self.timeout:g} s for each other (--dist-timeout). [{_short(e)}]"
            ) from e

    def all_reduce(self, tensors: list) -> None:
        """Sum each tensor over the ranks, in place."""
        import torch.distributed as tdist

        with self._guard("all-reduce"):
            works = [tdist.all_reduce(t, op=tdist.ReduceOp.SUM, async_op=True) for t in tensors]
            for w in works:
                w.wait()

    def decide(self, flag: bool) -> bool:
        """Rank 0's ``flag``, on every rank."""
        import torch
        import torch.distributed as tdist

        t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=self.device)
        with self._guard("broadcast of rank 0's decision"):
            tdist.broadcast(t, src=0)
            return bool(t.item())

    def barrier(self, what: str = "barrier") -> None:
        """Wait for every rank (an all-reduce, so it honours the timeout on every backend)."""
        import torch
        import torch.distributed as tdist

        t = torch.ones(1, dtype=torch.int64, device=self.device)
        with self._guard(what):
            tdist.all_reduce(t)

    def check_same(self, values: list[int], what: str) -> None:
        """Raise on every rank (together) when ``values`` differ from rank 0's."""
        import torch
        import torch.distributed as tdist

        mine = torch.tensor(values, dtype=torch.int64, device=self.device)
        ref = mine.clone()
        with self._guard(f"check of the {what}"):
            tdist.broadcast(ref, src=0)
            bad = (ref != mine).any().to(torch.int64).reshape(1)
            tdist.all_reduce(bad)
        if int(bad.item()):
            raise DistributedError(
                f"rank {self.rank}: the ranks do not agree on the {what} "
                f"(rank 0: {ref.tolist()}, rank {self.rank}: {values}); every rank must load "
                "the same data with the same settings"
            )


def init_process_group(
    *, device: str = "auto", timeout: float = DEFAULT_TIMEOUT, backend: str | None = None
) -> Collective:
    """Join the process group described by the torchrun environment variables.

    ``device`` as in :class:`TrainConfig` ("auto", "cpu", "cuda"); on CUDA this rank uses GPU
    ``LOCAL_RANK``. ``backend`` defaults to nccl on CUDA and gloo on the CPU. Raises
    :class:`DistributedError` when the environment is missing or the others do not show up
    within ``timeout`` seconds.
    """
    rank, world, local_rank = _torchrun_env()
    if timeout <= 0:
        raise DistributedError("the timeout must be > 0 seconds")
    dev = _bind_device(device, rank, local_rank)
    backend = backend or ("nccl" if dev == "cuda" else "gloo")
    _join(backend, rank, world, timeout)
    coll = Collective(rank, world, local_rank, dev, backend, float(timeout))
    coll.barrier()  # everybody is here (and the backend works) before any work starts
    return coll


def _torchrun_env() -> tuple[int, int, int]:
    """``(RANK, WORLD_SIZE, LOCAL_RANK)`` of the torchrun environment, checked."""
    missing = [k for k in _ENV if not os.environ.get(k)]
    if missing:
        raise DistributedError(
            f"not started by torchrun: {', '.join(missing)} not set; start the processes with "
            "torchrun --nproc-per-node N ... (or set RANK, WORLD_SIZE, MASTER_ADDR and "
            "MASTER_PORT yourself)"
        )
    try:
        rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    except ValueError as e:
        raise DistributedError(f"bad torchrun environment: {e}") from None
    if not 0 <= rank < world:
        raise DistributedError(f"bad torchrun environment: RANK {rank}, WORLD_SIZE {world}")
    return rank, world, local_rank


def _bind_device(device: str, rank: int, local_rank: int) -> str:
    """The device this rank trains on ("cpu" or "cuda"; on CUDA, GPU ``local_rank``)."""
    import torch

    from engine.device import resolve_device

    try:
        dev = resolve_device(device)
    except ValueError as e:
        raise DistributedError(str(e)) from None
    if dev == "cuda":
        n_gpus = torch.cuda.device_count()
        if local_rank >= n_gpus:
            raise DistributedError(
                f"rank {rank}: LOCAL_RANK {local_rank} has no GPU (this machine has {n_gpus}); "
                f"start at most {n_gpus} processes per machine (--nproc-per-node)"
            )
        torch.cuda.set_device(local_rank)
        # a collective that times out raises here instead of only in NCCL's watchdog
        os.environ.setdefault("TORCH_NCCL_BLOCKING_WAIT", "1")
    return dev


def _join(backend: str, rank: int, world: int, timeout: float) -> None:
    """torch.distributed's process group at MASTER_ADDR:MASTER_PORT, or a clear error."""
    import torch.distributed as tdist

    where = f"{os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']}"
    t0 = time.monotonic()
    try:
        tdist.init_process_group(
            backend=backend,
            init_method="env://",
            rank=rank,
            world_size=world,
            timeout=timedelta(seconds=timeout),
        )
    except (RuntimeError, OSError, ValueError) as e:
        raise DistributedError(
            f"rank {rank} of {world}: could not join the process group at {where} "
            f"(backend {backend}) after {time.monotonic() - t0:.1f} s: {_short(e)}. Are all "
            f"{world} processes started, with the same MASTER_ADDR and MASTER_PORT?"
        ) from e


def destroy() -> None:
    """Leave the process group (never raises: used on the way out, also after a failure)."""
    import torch.distributed as tdist

    with contextlib.suppress(Exception):
        if tdist.is_initialized():
            tdist.destroy_process_group()


def _fingerprint_int(r: Ratings) -> int:
    from engine.model.trained import dataset_fingerprint

    return int(dataset_fingerprint(r)[:15], 16)


def _load_in_turn(coll: Collective, ratings: Ratings | Callable[[], Ratings]) -> Ratings:
    """The ratings, loaded by local rank 0 first when a loader is given (the others then
    read the parse cache it writes), checked to be the same on every rank."""
    if callable(ratings):
        if coll.local_rank == 0:
            r = ratings()
            coll.barrier("wait for local rank 0 to load the data")
        else:
            coll.barrier("wait for local rank 0 to load the data")
            r = ratings()
    else:
        r = ratings
    coll.check_same(
        [r.n_users, r.n_items, r.n_ratings, _fingerprint_int(r)],
        "data (users, movies, ratings, fingerprint)",
    )
    return r


def run_training(
    ratings: Ratings | Callable[[], Ratings],
    config: TrainConfig | None = None,
    *,
    callback: Callable[[EpochReport], None] | None = None,
    progress: Callable[[BatchProgress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    backend: str | None = None,
    keep_group: bool = False,
) -> TrainResult:
    """Train on ``ratings`` with every process of the torchrun job (call it on every rank).

    Args:
        ratings: the ratings, or a function that loads them (then local rank 0 of each
            machine loads first, so the others read the parse cache it writes).
        config: hyperparameters; ``batch_size`` is the *global* batch (all ranks together).
        callback, progress: as for :func:`engine.training.loop.train`, called on rank 0 only.
        cancel: polled on rank 0 between batches; its answer is broadcast to every rank.
        timeout: seconds a rank waits for the others before failing.
        backend: "gloo" or "nccl" (default: nccl on CUDA, gloo on the CPU).
        keep_group: leave the process group initialised (for callers that use it after).

    Returns:
        The :class:`TrainResult` (on rank 0 its ``model``; on the others ``model`` is None:
        save only where ``result.model is not None``).

    Raises:
        DistributedError: not under torchrun, a rank died or stalled, or the ranks loaded
            different data.
    """
    from engine.training.loop import train

    cfg = config or TrainConfig()
    coll = init_process_group(device=cfg.device, timeout=timeout, backend=backend)
    try:
        r = _load_in_turn(coll, ratings)
        main = coll.rank == 0
        result = train(
            r,
            cfg,
            callback=callback if main else None,
            progress=progress if main else None,
            cancel=None if cancel is None else (lambda: bool(cancel()) if main else False),
            dist=coll,
        )
    finally:
        if not keep_group:
            destroy()
    return result
