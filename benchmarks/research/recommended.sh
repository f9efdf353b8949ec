#!/bin/sh
# The recommended prototype settings (see REPORT.md) as run_proto.py flags.
echo "--set n_hidden=250 --set like_units=0.4 --set tie_decay=10 --set joint=offset --set newton=4 --set persistent=1 --set merge_at=0.3 --set seen_feature=1 --set ii=hub"
