#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# exo's long fuzzing run (make fuzz): install what is missing, build
# everything as make check does, build (or reuse) the debug kernel and
# exo.ko against it, and boot it with selftests/exo_fuzz_test alone for
# EXO_FUZZ_CALLS calls (default 2000000) from seed EXO_FUZZ_SEED (default
# 1). EXO_FUZZ_KERNEL=stock fuzzes Debian's stock kernel instead.
# EXO_VM_TIMEOUT defaults to three times the run's expected length under
# TCG; EXO_ACCEL and EXO_APPEND as for scripts/vm.sh. The guest's console
# follows live; at the end the guest's results and the fuzzer's summary.
# Exits non-zero on a failed test, a kernel log problem (BUG, WARNING,
# KASAN, lockdep...) or kmemleak suspects.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$EXO_TOP"

calls=${EXO_FUZZ_CALLS:-2000000}
seed=${EXO_FUZZ_SEED:-1}
kernel=${EXO_FUZZ_KERNEL:-debug}
case "$calls$seed" in
*[!0-9]*) die "EXO_FUZZ_CALLS and EXO_FUZZ_SEED are numbers" ;;
esac

"$EXO_TOP/scripts/deps.sh" || die "dependency installation failed"
abi=$(cached_abi)
ksrc=$("$EXO_TOP/scripts/ksrc.sh") || die "cannot extract linux-source-6.1 files"
say "building exo.ko against $abi, libexo, the example and the selftests"
mkdir -p "$EXO_BUILD"
make -s KDIR="/lib/modules/$abi/build" KSFT_DIR="$ksrc/tools/testing/selftests" \
	all > "$EXO_BUILD/make-fuzz.log" 2>&1 || {
	cat "$EXO_BUILD/make-fuzz.log"
	die "build failed"
}

# Calls per second under TCG on two cores (Documentation/testing.rst), and
# the boot, KUnit and module tests around the run, in seconds.
vm=()
case "$kernel" in
stock)
	rate=2000 around=120
	;;
debug)
	dbg=$("$EXO_TOP/scripts/debug-kernel.sh") || die "the debug kernel's build failed"
	say "building exo.ko against the debug kernel"
	dsrc=$EXO_BUILD/fuzz-debug-src
	module_copy_build "$dbg" "$dsrc" "$EXO_BUILD/make-fuzz-debug.log" || {
		tail -n 40 "$EXO_BUILD/make-fuzz-debug.log"
		die "building exo.ko against the debug kernel failed"
	}
	vm=(EXO_KERNEL="$dbg/arch/x86/boot/bzImage" EXO_MODULE="$dsrc/module/exo.ko")
	rate=1000 around=400
	;;
*) die "EXO_FUZZ_KERNEL=$kernel: stock or debug" ;;
esac
timeout=${EXO_VM_TIMEOUT:-$((3 * (around + calls / rate)))}

log=$EXO_BUILD/vm-test-fuzz.log
say "fuzzing the $kernel kernel: $calls calls from seed $seed, about $((around + calls / rate))s (VM timeout ${timeout}s); the console is in $log"
start=$SECONDS
vm_rc=0
env EXO_TIER=fuzz EXO_TESTS=exo_fuzz_test EXO_VM_TIMEOUT="$timeout" \
	EXO_APPEND="${EXO_APPEND:+$EXO_APPEND }exo.fuzz_calls=$calls exo.fuzz_seed=$seed" \
	"${vm[@]}" "$EXO_TOP/scripts/vm.sh" test || vm_rc=$?
secs=$((SECONDS - start))

echo
say "results ($((secs / 60))m$((secs % 60))s; the console is in $log):"
grep -E '^(not )?ok ' "$log" | grep -v '^ok [0-9]* kunit\.' || true
kunit=$(grep -c '^ok [0-9]* kunit\.' "$log" || true)
[ "$kunit" -gt 0 ] && echo "($kunit KUnit cases passed)"
grep -E '^# # fuzz: ' "$log" | sed 's/^# # //' || true
fail=0
if grep -q '^not ok ' "$log"; then
	fail=1
fi
bad=$(grep -E 'BUG:|WARNING:|Oops|KASAN|UBSAN|DEBUG_LOCKS_WARN_ON|suspicious RCU usage|general protection fault|divide error|Kernel panic' "$log" || true)
if [ -n "$bad" ]; then
	printf '%s\n' "$bad" | head -n 20 | sed 's/^/console: /'
	fail=1
fi
if [ "$vm_rc" -ne 0 ] || [ "$fail" -ne 0 ]; then
	die "the fuzzing run failed (seed $seed, $calls calls); see $log"
fi
say "the fuzzing run passed: seed $seed, $calls calls, a clean kernel log"
