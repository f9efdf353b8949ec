"""Data-parallel training (engine.training.distributed) through its one launcher, ``rbm-tui train
DATA --distributed``: 2 gloo ranks on 127.0.0.1, as torchrun would start them (RANK,
WORLD_SIZE, MASTER_ADDR, MASTER_PORT in the environment).

- the model two ranks train equals the single-process one (same seed, same global batch);
- a rank that dies, or stalls, makes the other fail with a clear error within the timeout.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
RUN_CLI = "import sys; from rbm_tui.cli import main; sys.exit(main(sys.argv[1:]))"

# rank 1 dies (or stalls) at its 4th hidden-input pass of a training step (two per CD-1 step:
# the data's and the negative phase's): in batch 2 of epoch 1, between two all-reduces
BREAK_RANK_1 = """
import os, sys, time
import engine.training.step
if os.environ["RANK"] == "1":
    orig = engine.training.step.SampledCD._hidden
    calls = [0]
    def _hidden(self, *args, **kwargs):
        calls[0] += 1
        if calls[0] == 4:
            sys.stderr.write("rank 1: going away\\n"); sys.stderr.flush()
            if os.environ["HOW"] == "die":
                os._exit(3)
            time.sleep(300)
        return orig(self, *args, **kwargs)
    engine.training.step.SampledCD._hidden = _hidden
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_ratings(path: Path, n_users: int = 61, n_items: int = 30) -> Path:
    """Two taste groups, each liking half the movies; ~40 % of the pairs rated."""
    rng = np.random.default_rng(7)
    rows = []
    for u in range(n_users):
        group = u % 2
        for i in range(n_items):
            if rng.random() < 0.4:
                like = (i % 2 == group) ^ (rng.random() < 0.1)
                rows.append(f"{u + 1},{i + 1},{5.0 if like else 1.0}")
    path.write_text("userId,movieId,rating\n" + "\n".join(rows) + "\n")
    return path


def _launch(code: str, args: list[str], world: int = 2, extra_env: dict | None = None):
    port = _free_port()
    procs = []
    for rank in range(world):
        env = dict(os.environ)
        env.update(
            MASTER_ADDR="127.0.0.1",
            MASTER_PORT=str(port),
            WORLD_SIZE=str(world),
            RANK=str(rank),
            LOCAL_RANK=str(rank),
            OMP_NUM_THREADS="1",
            PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
            **(extra_env or {}),
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", code, *args],
                cwd=REPO,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    return procs


def _finish(proc: subprocess.Popen, timeout: float) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"process hung for {timeout} s; stderr:\n{err}")
    return proc.returncode, out, err


def _kill(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.communicate()


CASES = {
    # CD-1, validation split and early stopping (rank 0 decides), last batch 61 = 8·7 + 5
    "cd1-val": ["--hidden", "8", "--epochs", "4", "--batch-size", "7", "--set", "patience=2"],
    # persistent CD-2..3, separate like units, no validation; the last global batch has one
    # user, so rank 1 has an empty batch
    "pcd-k3": [
        "--hidden", "6", "--epochs", "3", "--batch-size", "4", "--set", "val_fraction=0",
        "--cd-k", "2", "--set", "cd_k_max=3", "--set", "persistent=true",
        "--set", "like_hidden=0.5",
    ],
}  # fmt: skip


@pytest.mark.parametrize("case", ["cd1-val", "pcd-k3"])
def test_two_ranks_equal_single_process(tmp_path: Path, case: str) -> None:
    from engine.data.loaders import load_ratings
    from engine.model.storage import load_model
    from engine.settings import TrainConfig
    from engine.training.loop import train

    data = _write_ratings(tmp_path / "ratings.csv")
    out = tmp_path / "m.pt"
    args = ["train", str(data), "--model-out", str(out), "--seed", "3", "--device", "cpu"]
    args += CASES[case] + ["--learning-rate", "0.05", "--dist-timeout", "30", "--json"]
    procs = _launch(RUN_CLI, args + ["--distributed"])
    try:
        results = [_finish(p, 90) for p in procs]
    finally:
        _kill(procs)
    for rank, (rc, _out, err) in enumerate(results):
        assert rc == 0, f"rank {rank} failed:\n{err}"
    assert results[0][1].strip(), "rank 0 prints the summary"
    assert results[1][1].strip() == "", "only rank 0 reports"
    assert "epoch 1/" in results[0][2] and "epoch 1/" not in results[1][2]

    # the same run in one process
    flags = dict(zip(CASES[case][::2], CASES[case][1::2]))
    sets = dict(v.split("=") for k, v in zip(CASES[case][::2], CASES[case][1::2]) if k == "--set")
    cfg = TrainConfig.from_strings(
        sets,
        n_hidden=int(flags["--hidden"]),
        epochs=int(flags["--epochs"]),
        batch_size=int(flags["--batch-size"]),
        cd_k=int(flags.get("--cd-k", 1)),
        learning_rate=0.05,
        seed=3,
        device="cpu",
    )
    single = train(load_ratings(data), cfg)
    dist_model = load_model(out, device="cpu")
    for name in ("W", "b", "c"):
        a = getattr(dist_model.rbm, name)
        b = getattr(single.model.rbm, name)
        assert a.abs().max() > 0
        assert np.allclose(a.numpy(), b.numpy(), atol=1e-5), (
            f"{name}: max difference {float((a - b).abs().max())}"
        )
    assert dist_model.meta["best_epoch"] == single.best_epoch
    hist = dist_model.meta["history"]
    assert len(hist) == len(single.history)
    for h, s in zip(hist, single.history):
        assert abs(h["train_loss"] - s.train_loss) < 1e-5
        for k, v in s.val.items():
            assert abs(h["val"][k] - v) < 1e-4
    for name, weight in single.model.calibration.items():
        assert abs(dist_model.calibration[name] - weight) < 1e-4, name


@pytest.mark.parametrize("how", ["die", "stall"])
def test_lost_rank_fails_clearly(tmp_path: Path, how: str) -> None:
    data = _write_ratings(tmp_path / "ratings.csv")
    args = ["train", str(data), "--model-out", str(tmp_path / "m.pt"), "--device", "cpu"]
    args += ["--hidden", "4", "--epochs", "50", "--batch-size", "4", "--dist-timeout", "5"]
    procs = _launch(BREAK_RANK_1 + RUN_CLI, args + ["--distributed"], extra_env={"HOW": how})
    try:
        rc, _out, err = _finish(procs[0], 45)
        if procs[1].poll() is None:  # the stalled rank
            procs[1].kill()
        err_1 = procs[1].communicate(timeout=30)[1]
    finally:
        _kill(procs)
    assert "rank 1: going away" in err_1, err_1  # the break happened where planned
    assert rc == 2, err
    assert "rbm-tui: error: rank 0 of 2: the all-reduce with the other ranks failed" in err, err
    cause = {"die": "connection to another rank broke", "stall": "did not answer in time"}
    assert cause[how] in err and "--dist-timeout" in err
    assert "Traceback" not in err
    assert not (tmp_path / "m.pt").exists()


def test_not_under_torchrun(monkeypatch: pytest.MonkeyPatch, capsys, tmp_path: Path) -> None:
    from rbm_tui.cli import main

    for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(k, raising=False)
    data = _write_ratings(tmp_path / "ratings.csv")
    assert main(["train", str(data), "--device", "cpu", "--distributed"]) == 2
    assert "not started by torchrun" in capsys.readouterr().err
