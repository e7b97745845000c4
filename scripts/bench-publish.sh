#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench-publish: the figures Documentation/benchmarks.rst shows, from
# the last make bench of each kernel series (build/bench/vm-bench-SERIES.log,
# e.g. after "make bench" and "EXO_KERNEL_SERIES=6.12 make bench"): writes
# Documentation/bench/results.csv, its plots (SVG) and results.rst, the
# tables the documentation includes. make check holds results.rst to the CSV.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$EXO_TOP"

logs=()
for sr in $EXO_SERIES_ALL $EXO_FLAVOURS; do
	f=$EXO_BUILD/bench/vm-bench-$sr.log
	[ -f "$f" ] && case " ${logs[*]} " in *" $f "*) ;; *) logs+=("$f") ;; esac
done
[ ${#logs[@]} -gt 0 ] || die "no build/bench/vm-bench-SERIES.log: run make bench first"
say "publishing ${logs[*]#"$EXO_TOP/"}"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
out=$EXO_BUILD/bench/publish
rm -rf "$out"
python3 scripts/bench-report.py --cpu-model "$cpu" --out "$out" "${logs[@]}" > /dev/null
dest=Documentation/bench
mkdir -p "$dest"
cp "$out/results.csv" "$out"/*.svg "$dest/"
python3 scripts/bench-rst.py --out "$dest/results.rst" "$dest/results.csv"
say "wrote $dest/results.csv, $dest/results.rst and $(cd "$dest" && echo ./*.svg)"
