"""Time the scalable item-item fit on a synthetic ratings file (make_synthetic.py).

    python benchmarks/research/time_itemitem.py /tmp/syn5m/ratings.csv [cap] [gram] [hubs]
"""
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import itemitem  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from engine.ratings import from_arrays  # noqa: E402
from engine.trainer import LikeMatrix  # noqa: E402

torch.set_num_threads(int(__import__("os").environ.get("OMP_NUM_THREADS", "1")))
t = time.time()
df = pd.read_csv(sys.argv[1])
r = from_arrays(df.userId.to_numpy(), df.movieId.to_numpy(), df.rating.to_numpy())
del df
lm = LikeMatrix.from_ratings(r)
print(f"load {time.time() - t:.1f} s: {r.n_users} users, {r.n_items} movies, {r.n_ratings} ratings")
cap = int(sys.argv[2]) if len(sys.argv) > 2 else 0
gram = sys.argv[3] if len(sys.argv) > 3 else "sparse"
hubs = int(sys.argv[4]) if len(sys.argv) > 4 else 8192
t = time.time()
part, w = itemitem.fit_hub_local(lm, k=100, hubs=hubs, cap=cap, gram=gram, log=print)
print(f"fit {time.time() - t:.1f} s (cap {cap}, gram {gram}, hubs {hubs}); peak RSS "
      f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")
