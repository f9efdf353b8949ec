#!/bin/sh
# Final 5-seed validation runs: recommended design and ablations (results/*.json, log.txt).
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD OMP_NUM_THREADS=1
PY=${PY:-/work/main/.venv/bin/python}
REC=$(sh benchmarks/research/recommended.sh)
R=benchmarks/research/results
run() { name=$1; shift; $PY -W ignore benchmarks/research/run_proto.py --seeds 0,1,2,3,4 --name "$name" $REC "$@" --out $R/$name.json > $R/$name.log 2>&1; }
run recommended
run abl_bernoulli --set joint=bernoulli
run abl_no_like_units --set like_units=0
run abl_dense_lateral --set ii=dense
run abl_no_merge --set merge_at=0
run abl_no_seen_feature --set seen_feature=0
run abl_no_tie_no_pcd --set tie_decay=0 --set persistent=0
