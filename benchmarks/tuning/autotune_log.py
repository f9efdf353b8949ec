"""The validation nDCG@10 training's autotune sees for each movie-to-movie scale (carves).

    python benchmarks/tuning/autotune_log.py ml100k 0,1,2,3,4

Trains on the top-N carve of the dataset (no test file) and stops right after the choice.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1])]

import carves  # noqa: E402
import torch  # noqa: E402

import engine.training.autotune as at  # noqa: E402


class Stop(Exception):
    pass


def main() -> None:
    torch.set_num_threads(1)
    at.SCALES = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0)
    orig, tuned, calls = at.ranking_metrics, at.tuned, []

    def metrics(recs, rel, k):
        m = orig(recs, rel, k)
        calls.append(round(m["ndcg@10"], 4))
        return m

    def stop(*a):
        tuned(*a)
        raise Stop

    at.ranking_metrics, at.tuned = metrics, stop
    for seed in map(int, sys.argv[2].split(",")):
        calls.clear()
        try:
            carves.train_model(carves.carve_topn(seed, sys.argv[1])[0], seed, {})
        except Stop:
            pass
        print(sys.argv[1], seed, "val nDCG@10 by scale", dict(zip(at.SCALES, calls)), flush=True)


if __name__ == "__main__":
    main()
