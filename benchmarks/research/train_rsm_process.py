"""Whole-process default training with the lean trainer: import, load, train (calibration and
item-item part included), save. For timing against the original script and today's default.

    python benchmarks/research/train_rsm_process.py [ratings file] [out.pt]
"""
import time

t_start = time.perf_counter()
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch  # noqa: E402

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
import rsm  # noqa: E402

from engine.loaders import load_ratings  # noqa: E402

path = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/ml-100k/u1.base"
out = sys.argv[2] if len(sys.argv) > 2 else "/tmp/rsm_model.pt"
r = load_ratings(path)
t0 = time.perf_counter()
p = rsm.train(r, rsm.RCfg())
t1 = time.perf_counter()
torch.save({"W": p.rbm.W, "b": p.rbm.b, "c": p.rbm.c, "calib": p.w, "ii": p.ii_parts}, out)
print(f"train {t1 - t0:.2f} s ({p.info['times']}), process {time.perf_counter() - t_start:.2f} s")
