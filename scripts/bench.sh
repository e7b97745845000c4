#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# exo's benchmarks (make bench): install what is missing, build exo.ko
# against Debian's stock kernel, bench/exo-vm-bench, exo-net-bench,
# exo-call-bench, exo-ipc-bench and the BPF handlers, boot the stock kernel under QEMU,
# load the module and run the benchmarks, then print their tables and
# write build/bench/results.csv and the plots (scripts/bench-report.py).
# EXO_BENCH_SCALE multiplies every round count (default 1: about five
# minutes under TCG); EXO_BENCH picks benchmarks ("vm", "net", "call",
# "ipc" or a list such as "vm,call"; all four by default); EXO_ACCEL and
# EXO_VM_TIMEOUT as for scripts/vm.sh; EXO_KERNEL_SERIES the stock kernel
# (6.1, the default, or 6.12): every row names the series it ran on.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$EXO_TOP"

sr=$(series)
"$EXO_TOP/scripts/deps.sh" "$sr"
command -v gnuplot > /dev/null ||
	die "gnuplot is missing (Debian's gnuplot-nox, which scripts/deps.sh installs)"
abi=$(cached_abi "$sr")
say "building exo.ko against $abi, libexo, the handlers and the benchmarks"
mkdir -p "$EXO_BUILD"
make -s KDIR="$(kernel_build "$abi")" module libexo benchmarks bpf-filters exoctl \
	> "$EXO_BUILD/make-bench.log" 2>&1 || {
	cat "$EXO_BUILD/make-bench.log"
	die "build failed"
}
log=$EXO_BUILD/vm-bench.log
append=${EXO_APPEND:-}
if [ -n "${EXO_BENCH_SCALE:-}" ]; then
	append="${append:+$append }exo.bench_scale=$EXO_BENCH_SCALE"
fi
if [ -n "${EXO_BENCH:-}" ]; then
	append="${append:+$append }exo.bench=$EXO_BENCH"
fi
if ! EXO_VM_TIMEOUT=${EXO_VM_TIMEOUT:-900} EXO_APPEND=$append \
	"$EXO_TOP/scripts/vm.sh" bench; then
	die "the benchmark failed; the guest's console is in build/vm-bench.log"
fi
say "results (the guest's console is in build/vm-bench.log):"
sed -n '/^exo-[a-z]*-bench: accelerator/,/^exo-[a-z]*-bench: OK/p' "$log" |
	grep -v '^#'
# The host's CPU: the guest's, under TCG, says nothing of the machine.
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
files=$(python3 "$EXO_TOP/scripts/bench-report.py" --cpu-model "$cpu" \
	--out "$EXO_BUILD/bench" "$log") ||
	die "scripts/bench-report.py could not read build/vm-bench.log"
python3 "$EXO_TOP/scripts/bench-rst.py" --out "$EXO_BUILD/bench/results.rst" \
	"$EXO_BUILD/bench/results.csv" ||
	die "scripts/bench-rst.py could not read build/bench/results.csv"
# Kept per series for make bench-publish, which puts the series side by side.
cp "$log" "$EXO_BUILD/bench/vm-bench-$sr.log"
say "the table as CSV, the plots and the tables as reST (Documentation/benchmarks.rst):"
printf '%s\n' "$files" "$EXO_BUILD/bench/results.rst" | sed "s|^$EXO_TOP/|  |"
