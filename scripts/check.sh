#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# exo's test command (make check; .ci/run calls it). Installs what is
# missing, builds everything against Debian's stock 6.1 kernel and the
# module against its 6.12 too, runs the host checks (checkpatch, sparse,
# kernel-doc, man pages and their errors, the HTML documentation with
# Sphinx, warnings as errors, the benchmark report (CSV and
# plots), library exports, kernel and library names apart, the 6.12
# build, the kernel symbols each build uses, make install into a staging
# root, a dkms build, and make demo in a fresh copy of the tree), then
# boots each stock kernel under QEMU, and a debug build of 6.1, and runs
# the selftests there. Prints KTAP per test and ends with "N passed, N
# failed[, N skipped]"; exits non-zero on any failure.
#
# "scripts/check.sh flavours" (make check-flavours) runs the same host
# checks, but builds for and boots 6.1's three flavours instead (generic,
# cloud and PREEMPT_RT: tiers stock, stock-cloud, stock-rt), without the
# debug tier (Documentation/kernels.rst).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$EXO_TOP"

mode=${1:-all}
case "$mode" in
all) serieses=$EXO_SERIES_ALL ;;
flavours) serieses=$EXO_FLAVOURS ;;
*) die "usage: scripts/check.sh [flavours]" ;;
esac
start=$(date +%s)
# shellcheck disable=SC2086
"$EXO_TOP/scripts/deps.sh" $serieses || die "dependency installation failed"
abi=$(cached_abi 6.1)
kdir=$(kernel_build "$abi")
ksrc=$("$EXO_TOP/scripts/ksrc.sh") || die "cannot extract linux-source-6.1 files"

say "building exo.ko against $abi, libexo, the example and the selftests"
mkdir -p "$EXO_BUILD"
make -s KDIR="$kdir" KSFT_DIR="$ksrc/tools/testing/selftests" all \
	> "$EXO_BUILD/make.log" 2>&1 || {
	cat "$EXO_BUILD/make.log"
	echo "0 passed, 1 failed"
	die "build failed"
}
# The same sources against the other series' kernels (Documentation/
# kernels.rst), each from a copy in build/src-SERIES.
declare -A built
for sr in $serieses; do
	[ "$sr" = 6.1 ] && continue
	say "building exo.ko against $(cached_abi "$sr")"
	module_copy_build "$(kernel_build "$(cached_abi "$sr")")" \
		"$EXO_BUILD/src-$sr" "$EXO_BUILD/make-$sr.log"
	built[$sr]=$?
done

pass=0 fail=0 skip=0 n=0
result() { # verdict name [detail-file]
	n=$((n + 1))
	case "$1" in
	pass) pass=$((pass + 1)); echo "ok $n $2" ;;
	skip) skip=$((skip + 1)); echo "ok $n $2 # SKIP ${3:-}" ;;
	*) fail=$((fail + 1)); echo "not ok $n $2"
	   [ -n "${3:-}" ] && [ -f "$3" ] && sed 's/^/# /' "$3" | head -n 40 ;;
	esac
}
check() { # name command... : passes when the command prints nothing and exits 0
	local name=$1 out=$EXO_BUILD/check-$1.log
	shift
	if "$@" > "$out" 2>&1 && [ ! -s "$out" ]; then
		result pass "$name"
	else
		result fail "$name" "$out"
	fi
}

echo "KTAP version 1"
echo "# host checks"
module_src=(module/exo_*.c module/*.h module/kunit/*.[ch] uapi/linux/exo.h)
# exo_compat.h is the one file meant to test the kernel's version: its
# EXO_KERNEL_BEFORE() alone is let off checkpatch's warnings about that.
checkpatch() {
	local f others=()
	for f in "${module_src[@]}"; do
		[ "$f" = module/exo_compat.h ] || others+=("$f")
	done
	{
		perl "$ksrc/scripts/checkpatch.pl" --no-tree --strict --terse -q \
			--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG -f "${others[@]}"
		perl "$ksrc/scripts/checkpatch.pl" --no-tree --strict --terse -q \
			--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG,LINUX_VERSION_CODE,CONSTANT_COMPARISON \
			-f module/exo_compat.h
		# Trace headers keep include/trace/events' layout (one
		# TP_* per line, open parentheses), which --strict flags.
		perl "$ksrc/scripts/checkpatch.pl" --no-tree --strict --terse -q \
			--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG,PARENTHESIS_ALIGNMENT,OPEN_ENDED_LINE \
			-f module/trace/*.h
	} | grep -E 'ERROR|WARNING|CHECK'
	return 0
}
check host.checkpatch_strict checkpatch
sparse_check() {
	make -s -C "$kdir" M="$EXO_TOP" C=2 modules 2>&1 |
		grep -E '(warning|error):' | grep -v 'Skipping BTF'
	return 0
}
check host.sparse sparse_check
check host.kernel_doc perl "$ksrc/scripts/kernel-doc" -none \
	uapi/linux/exo.h module/exo_*.c module/*.h module/trace/*.h module/kunit/*.[ch]
man_check() {
	local m
	for m in libexo/man/*.[37] exoctl/*.8; do
		grep -q '^\.so ' "$m" && continue
		MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null
	done
}
check host.man_pages man_check
# make htmldocs: Documentation/ through Sphinx and the kernel's kernel-doc
# directive, once, from scratch; any warning fails (scripts/htmldocs.sh).
check host.htmldocs "$EXO_TOP/scripts/htmldocs.sh" -q "$EXO_BUILD/htmldocs"
# Each command's errors as Documentation/uapi.rst lists them, in its man page.
check host.man_errnos python3 scripts/check-errnos.py
# make bench's results.csv and plots, from the trimmed logs in bench/testdata.
check host.bench_report scripts/check-bench-report.sh
exports() {
	nm -D --defined-only "$EXO_BUILD/libexo/libexo.so" |
		awk '$2 == "T" && $3 !~ /^exo_/ { print "not exo_: " $3 }'
}
check host.libexo_exports exports
# A kernel function never shares a name with a libexo function, public or
# internal: a reader who greps for one must not land in the other.
names_apart() {
	comm -12 <(nm --defined-only module/exo.ko |
			awk '$2 ~ /^[TtDdRrBb]$/ && $3 !~ /^\./ { print $3 }' | sort -u) \
		<(nm --defined-only "$EXO_BUILD/libexo/libexo.a" |
			awk '$2 ~ /^[TtDdRrBb]$/ && $3 !~ /^\./ { print $3 }' | sort -u) |
		sed 's/^/in both exo.ko and libexo: /'
}
check host.names_apart names_apart
# One source, two kernels: each build warning-free, and every symbol the
# module takes from the kernel exported by that kernel (Module.symvers).
build_series() { # series
	[ "${built[$1]}" -eq 0 ] || { cat "$EXO_BUILD/make-$1.log"; return 1; }
	grep -E 'warning|error' "$EXO_BUILD/make-$1.log"
	return 0
}
for sr in $serieses; do
	[ "$sr" = 6.1 ] && continue
	sr_=${sr//[.-]/_}
	check "host.build_$sr_" build_series "$sr"
done
symbols_exported() {
	local ko symvers sr
	for ko in "module/exo.ko:$kdir/Module.symvers" $(
		for sr in $serieses; do
			[ "$sr" = 6.1 ] ||
			echo "$EXO_BUILD/src-$sr/module/exo.ko:$(kernel_build "$(cached_abi "$sr")")/Module.symvers"
		done); do
		symvers=${ko#*:} ko=${ko%%:*}
		[ -f "$ko" ] || continue
		comm -23 <(nm -u "$ko" | awk '{ print $2 }' | sort -u) \
			<(awk '{ print $2 }' "$symvers" | sort -u) |
			sed "s|^|$ko: not exported by $(dirname "$symvers"): |"
	done
}
check host.symbols_exported symbols_exported
# make install into a staging root (DESTDIR), and a dkms build of the
# sources it gives DKMS, with a DKMS tree of its own (Documentation/install.rst).
check host.install_staging env KDIR="$kdir" scripts/check-install.sh staging
check host.dkms_build env KDIR="$kdir" scripts/check-install.sh dkms

# The README's first command as a new user meets it: make demo in a copy
# of the source tree with nothing built (the demo once needed something
# only make check built).
demo_tree() {
	local tree=$EXO_BUILD/demo-tree f
	rm -rf "$tree" && mkdir -p "$tree"
	if git -C "$EXO_TOP" rev-parse --git-dir > /dev/null 2>&1; then
		git -C "$EXO_TOP" ls-files --cached --others --exclude-standard |
			while IFS= read -r f; do [ -e "$f" ] && echo "$f"; done
	else
		find . -path ./build -prune -o -type f -print
	fi | cpio -pdm --quiet "$tree" || return 1
	echo "$tree"
}
demo_fresh() { # log
	local tree
	tree=$(demo_tree) || { echo "cannot copy the source tree" > "$1"; return 1; }
	EXO_BUILD=$tree/build make -C "$tree" demo > "$1" 2>&1
}
say "make demo in a fresh copy of the tree"
if demo_fresh "$EXO_BUILD/demo-fresh.log"; then
	result pass host.demo_fresh_tree
else
	tail -n 40 "$EXO_BUILD/demo-fresh.log" > "$EXO_BUILD/demo-fresh.tail"
	result fail host.demo_fresh_tree "$EXO_BUILD/demo-fresh.tail"
fi

# One tier: boot a kernel with a build of exo.ko, run the selftests, and
# re-number the guest's KTAP results into this run's as TIER.NAME.
run_tier() { # tier kernel-description [env for vm.sh...]
	local tier=$1 what=$2 log=$EXO_BUILD/vm-test-$1.log vm_rc line name bad
	shift 2
	echo "# tier $tier: $what, accelerator ${EXO_ACCEL:-tcg}"
	echo "# the guest's console follows live; its results are re-numbered after it"
	env EXO_TIER="$tier" "$@" "$EXO_TOP/scripts/vm.sh" test 2>&1 |
		sed -u "s/^/# $tier: /"
	vm_rc=${PIPESTATUS[0]}
	echo "# tier $tier results"
	while IFS= read -r line; do
		case "$line" in
		"ok "*" # SKIP "*)
			name=${line#ok * }
			result skip "$tier.${name%% # SKIP*}" "${line#* # SKIP }" ;;
		"ok "*) name=${line#ok * }; result pass "$tier.$name" ;;
		"not ok "*)
			name=${line#not ok * }; echo "# guest: $line"
			result fail "$tier.${name%% # *}" ;;
		esac
	done < <(sed -n '/^KTAP version 1/,/^EXO-GUEST-DONE/p' "$log" 2>/dev/null)
	if [ "$vm_rc" -ne 0 ] && ! grep -q '^EXO-GUEST-DONE' "$log" 2>/dev/null; then
		tail -n 40 "$log" 2>/dev/null | sed 's/^/# /'
		result fail "$tier.completed"
	fi
	bad=$(grep -E 'BUG:|WARNING:|Oops|KASAN|UBSAN|DEBUG_LOCKS_WARN_ON|divide error|Kernel panic' "$log" 2>/dev/null)
	if [ -n "$bad" ]; then
		printf '%s\n' "$bad" | head -n 20 | sed 's/^/# console: /'
		result fail "$tier.console_clean"
	fi
	tier_summary+="# tier $tier: $((pass - tier_pass)) passed, $((fail - tier_fail)) failed, $((skip - tier_skip)) skipped"$'\n'
	tier_pass=$pass tier_fail=$fail tier_skip=$skip
}
tier_summary= tier_pass=$pass tier_fail=$fail tier_skip=$skip
tier_summary+="# host checks: $pass passed, $fail failed"$'\n'

run_tier stock "Debian's stock kernel $abi" EXO_KERNEL_SERIES=6.1
# Debian 13's kernel (Debian 12's security archive serves it too), or
# 6.1's cloud and PREEMPT_RT flavours; the debug tier below stays on 6.1
# (Documentation/kernels.rst says why).
for sr in $serieses; do
	[ "$sr" = 6.1 ] && continue
	[ "${built[$sr]}" -eq 0 ] || continue
	case "$sr" in 6.1-*) tier=stock-${sr#6.1-} ;; *) tier=stock-$sr ;; esac
	run_tier "$tier" "Debian's $sr kernel $(cached_abi "$sr")" \
		EXO_KERNEL_SERIES="$sr" EXO_MODULE="$EXO_BUILD/src-$sr/module/exo.ko"
done

# The debug tier: the same suite on a kernel built from Debian's
# linux-source-6.1 with KUnit, KASAN, lockdep, kmemleak and fault injection
# (EXO_DEBUG_TIER=0 skips it, for a quick run).
if [ "$mode" = all ] && [ "${EXO_DEBUG_TIER:-1}" != 0 ]; then
	if dbg=$("$EXO_TOP/scripts/debug-kernel.sh"); then
		say "building exo.ko (with its KUnit suites) against the debug kernel"
		dsrc=$EXO_BUILD/debug-src
		if module_copy_build "$dbg" "$dsrc" "$EXO_BUILD/make-debug.log"; then
			# KASAN and lockdep under TCG: three times the
			# stock tier's time on a quiet host, and a busy host
			# once took it past the default 30 minutes.
			run_tier debug "debug kernel $(cat "$dbg/include/config/kernel.release" 2>/dev/null)" \
				EXO_KERNEL="$dbg/arch/x86/boot/bzImage" \
				EXO_MODULE="$dsrc/module/exo.ko" \
				EXO_VM_TIMEOUT="${EXO_VM_TIMEOUT:-3000}"
		else
			sed 's/^/# /' "$EXO_BUILD/make-debug.log" | tail -n 40
			result fail debug.build_module
		fi
	else
		result fail debug.build_kernel
	fi
fi

printf '%s' "$tier_summary"
echo "1..$n"
echo "# took $(( $(date +%s) - start ))s"
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
