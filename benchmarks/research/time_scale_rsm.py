"""Per-epoch cost of the lean trainer (rsm.py) on a synthetic MovieLens-shaped file.

    python benchmarks/research/time_scale_rsm.py RATINGS.csv [FIELD=VALUE ...]
"""
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pandas as pd  # noqa: E402
import rsm  # noqa: E402
import run_rsm  # noqa: E402
import torch  # noqa: E402

from engine.ratings import from_arrays  # noqa: E402

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
t = time.time()
df = pd.read_csv(sys.argv[1])
r = from_arrays(df.userId.to_numpy(), df.movieId.to_numpy(), df.rating.to_numpy())
del df
print(f"load {time.time() - t:.1f} s: {r.n_users} users, {r.n_items} movies, {r.n_ratings} ratings", flush=True)
sets = dict(run_rsm.parse(s) for s in sys.argv[2:])
cfg = rsm.RCfg(**{**dict(epochs=1, log=True, ii=False, merge_at=0.0), **sets})
t = time.time()
p = rsm.train(r, cfg)
print(f"train {time.time() - t:.1f} s, times {p.info['times']}, peak RSS "
      f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB", flush=True)
