"""Per-epoch cost of the prototype on a synthetic MovieLens-shaped file (make_synthetic.py),
with the sampled-softmax joint term (candidates shared per batch).

    python benchmarks/research/time_scale.py /tmp/syn5m/ratings.csv [epochs] [FIELD=VALUE ...]
"""
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pandas as pd  # noqa: E402
import proto  # noqa: E402
import run_proto  # noqa: E402
import torch  # noqa: E402

from engine.ratings import from_arrays  # noqa: E402

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
t = time.time()
df = pd.read_csv(sys.argv[1])
r = from_arrays(df.userId.to_numpy(), df.movieId.to_numpy(), df.rating.to_numpy())
del df
print(f"load {time.time() - t:.1f} s: {r.n_users} users, {r.n_items} movies, {r.n_ratings} ratings", flush=True)
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
sets = dict(run_proto.parse(s) for s in sys.argv[3:])
base = dict(n_hidden=250, like_units=0.4, tie_decay=10.0, joint="multinomial", candidates=4096,
            persistent=True, merge_at=0.0, seen_feature=True, ii="none", epochs=epochs, log=True)
cfg = proto.Cfg(**{**base, **sets})
t = time.time()
p = proto.train(r, cfg)
print(f"train {time.time() - t:.1f} s, times {p.info['times']}, peak RSS "
      f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")
