#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make check's host.bench_report: scripts/bench-report.py run on the trimmed
# make bench logs in bench/testdata (6.1: make bench's own output, whose
# tables repeat the console's, with a Linux column and a whole row skipped;
# 6.12: build/vm-bench.log, with the ASH-ECHO rows skipped). The CSV must
# be bench/testdata/results.csv, every ratio exo's median over the
# column's, and each plot a non-empty PNG and SVG; a log with no rows must
# fail; Documentation/bench/results.rst must be what scripts/bench-rst.py
# makes of Documentation/bench/results.csv. Prints nothing and exits 0 when
# all is well.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$EXO_TOP"

td=bench/testdata
out=$EXO_BUILD/check-bench-report
rm -rf "$out" && mkdir -p "$out"
python3 scripts/bench-report.py --cpu-model 'Test CPU, model 1 @ 1.00GHz' \
	--out "$out" "$td/vm-bench-6.1.log" "$td/vm-bench-6.12.log" \
	> "$out/report.out" 2>&1 || { cat "$out/report.out"; exit 1; }
diff -u "$td/results.csv" "$out/results.csv" ||
	die "results.csv differs from $td/results.csv"

# The ratios again, from the CSV alone: within a row, exo's column first.
python3 - "$out/results.csv" <<'PY'
import csv, sys
exo = {}
n = 0
for r in csv.DictReader(open(sys.argv[1])):
    key = (r["series"], r["program"], r["row"])
    if r["skipped"]:
        if r["median_us"] or r["ratio"] or not r["skip_reason"]:
            print("skipped, yet figures or no reason:", r)
        continue
    if key not in exo:
        exo[key] = float(r["median_us"])
        if r["ratio"]:
            print("exo's column has a ratio:", r)
        continue
    want = exo[key] / float(r["median_us"])
    if abs(float(r["ratio"]) - want) > want * 1e-3:
        print("ratio %s, not %.4g:" % (r["ratio"], want), r)
    n += 1
if n < 40:
    print("only %d ratios" % n)
PY

for p in demux ash-echo ratios; do
	[ -s "$out/$p.png" ] && [ "$(head -c 8 "$out/$p.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] ||
		echo "$p.png: missing or not a PNG"
	[ -s "$out/$p.svg" ] && grep -q '<svg' "$out/$p.svg" ||
		echo "$p.svg: missing or not an SVG"
	grep -qx "$out/$p.png" "$out/report.out" || echo "$p.png: not listed"
done
if python3 scripts/bench-report.py --no-plots --out "$out/none" /dev/null \
	> "$out/none.out" 2>&1; then
	echo "a log without rows did not fail"
fi
grep -q '^error: no benchmark rows' "$out/none.out" || cat "$out/none.out"

# The tables Documentation/benchmarks.rst includes are what
# scripts/bench-rst.py makes of the published CSV (make bench-publish).
python3 scripts/bench-rst.py "$td/results.csv" > "$out/testdata.rst" ||
	echo "scripts/bench-rst.py failed on $td/results.csv"
grep -q '^DIRTY  *soft-dirty .*missed$' "$out/testdata.rst" ||
	echo "scripts/bench-rst.py: no DIRTY line with its goal in $out/testdata.rst"
pub=Documentation/bench
python3 scripts/bench-rst.py "$pub/results.csv" | diff -u "$pub/results.rst" - ||
	echo "$pub/results.rst is not what scripts/bench-rst.py makes of $pub/results.csv: run make bench-publish"
for p in demux ash-echo ratios; do
	grep -q '<svg' "$pub/$p.svg" 2>/dev/null || echo "$pub/$p.svg: missing or not an SVG"
done
