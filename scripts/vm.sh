#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot Debian's stock kernel under QEMU with a busybox initramfs holding
# exo.ko and the built programs, and run one job in it:
#   scripts/vm.sh test   run the selftests (scripts/guest/run-tests.sh)
#   scripts/vm.sh demo   run the example library OSes and the tutorial's
#   scripts/vm.sh bench  run the benchmarks (bench/exo-{vm,net,call,ipc}-bench)
# The guest's console goes to stdout and to build/vm-JOB.log.
# EXO_ACCEL=tcg|kvm (default tcg: nested KVM hangs on many hosts),
# EXO_VM_TIMEOUT seconds (default 1800), EXO_VM_MEM (default 1G),
# EXO_KERNEL_SERIES (the stock kernel's series: 6.1, the default, 6.1-cloud,
# 6.1-rt or 6.12),
# EXO_KERNEL (a bzImage to boot instead of the stock kernel, e.g. the debug
# kernel: scripts/debug-kernel.sh --bzimage), EXO_APPEND (more kernel
# command-line arguments), EXO_MODULE (the exo.ko to load; default
# module/exo.ko), EXO_TIER (a name for this kernel: the guest sees it as
# exo.tier=, the log is build/vm-JOB-TIER.log), EXO_TESTS (the selftests to
# run, e.g. "exo_net_test"; default every one built).
# Every job gets the network tools of the host's Debian (ip, ping, socat,
# nc) and its trace-cmd, with their shared libraries, the BPF handlers at
# /bpf, exoctl at /usr/sbin/exoctl and, with the stock kernel, the veth and
# bridge modules.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

job=${1:?usage: scripts/vm.sh test|demo|bench}
if [ -n "${EXO_KERNEL:-}" ]; then
	kernel=$EXO_KERNEL
	[ -f "$kernel" ] || die "EXO_KERNEL=$kernel: no such file"
	what="the kernel $kernel"
else
	sr=$(series)
	series_ok "$sr"
	abi=$(cached_abi "$sr")
	[ -n "$abi" ] || die "no $sr stock kernel in the cache: run scripts/deps.sh $sr"
	kernel=$(kernel_dir "$abi")/vmlinuz
	[ -f "$kernel" ] || die "$kernel missing: run scripts/deps.sh"
	what="Debian's stock kernel $abi"
fi
busybox=/bin/busybox
[ -x "$busybox" ] || die "$busybox missing: run scripts/deps.sh"
readelf -d "$busybox" | grep -q NEEDED &&
	die "$busybox is not static: install busybox-static"

root=$EXO_BUILD/initramfs-$job${EXO_TIER:+-$EXO_TIER}
rm -rf "$root"
mkdir -p "$root/bin"
cp "$busybox" "$root/bin/busybox"
install -m 755 "$EXO_TOP/scripts/guest/init" "$root/init"
install -m 755 "$EXO_TOP/scripts/guest/run-tests.sh" "$root/run-tests.sh"
cp "${EXO_MODULE:-$EXO_TOP/module/exo.ko}" "$root/exo.ko"

# A dynamically linked program of the host's, at the same path in the
# guest (or at DEST), with every library it needs and the loader.
copy_prog() { # path [dest]
	local src=$1 dst=${2:-$1} lib
	[ -x "$src" ] || die "$src missing: run scripts/deps.sh"
	mkdir -p "$root$(dirname "$dst")"
	cp -L "$src" "$root$dst"
	for lib in $(ldd "$src" | grep -o '/[^ ]*'); do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
# Debian's iproute2, iputils ping, socat and OpenBSD nc: the guest's PATH
# puts /usr/sbin and /usr/bin before busybox's applets of the same names.
copy_prog /usr/sbin/ip
copy_prog /usr/bin/ping
copy_prog /usr/bin/socat
copy_prog /bin/nc.openbsd /usr/bin/nc
# Debian's trace-cmd, for exo's trace events (Documentation/tracing.rst).
copy_prog /usr/bin/trace-cmd
# ip netns keeps its namespaces in /var/run/netns.
mkdir -p "$root/var" && ln -s /run "$root/var/run"
# Every job downloads handlers: missing ones are a build that went wrong.
mkdir -p "$root/bpf"
for o in "$EXO_BUILD"/bpf-filters/*.bpf.o; do
	[ -f "$o" ] || die "no BPF handlers in $EXO_BUILD/bpf-filters: run make bpf-filters"
	cp "$o" "$root/bpf/"
done
# exoctl (Documentation/exoctl.rst) where PREFIX=/usr installs it.
[ -x "$EXO_BUILD/exoctl/exoctl" ] || die "no $EXO_BUILD/exoctl/exoctl: run make exoctl"
install -D -m 755 "$EXO_BUILD/exoctl/exoctl" "$root/usr/sbin/exoctl"
# The stock kernel has veth and the bridge as modules (init loads them in
# this order); a kernel of EXO_KERNEL has what it was built with.
mkdir -p "$root/modules"
if [ -z "${EXO_KERNEL:-}" ]; then
	kmods=$(kernel_dir "$abi")/modules/kernel
	for m in drivers/net/veth net/llc/llc net/802/stp net/bridge/bridge; do
		# 6.12's modules come xz-compressed; busybox insmod wants them plain.
		if [ -f "$kmods/$m.ko.xz" ]; then
			xz -dc "$kmods/$m.ko.xz" > "$root/modules/${m##*/}.ko"
		else
			cp "$kmods/$m.ko" "$root/modules/"
		fi
	done
	printf '%s\n' veth llc stp bridge > "$root/modules/order"
fi

case "$job" in
test)
	# The selftests as a user installs them (Documentation/testing.rst):
	# a kselftest tree at /kselftest, run-tests.sh runs its
	# run_kselftest.sh. From the build, rebuilt by make if out of date.
	ksrc_extract
	say "installing the selftests: make -C selftests install INSTALL_PATH=/kselftest"
	make -s -C "$EXO_TOP/selftests" install INSTALL_PATH="$root/kselftest" \
		O="$EXO_BUILD/selftests" LIBEXO="$EXO_BUILD/libexo" \
		BPF_OUT="$EXO_BUILD/bpf-filters" \
		KSFT_DIR="$(ksrc_dir)/tools/testing/selftests" ||
		die "make -C selftests install failed: build first (make selftests)"
	# EXO_TESTS, checked against the installed list, for
	# run_kselftest.sh -t COLLECTION:TEST.
	if [ -n "${EXO_TESTS:-}" ]; then
		for t in $EXO_TESTS; do
			grep -qx "exo:$t" "$root/kselftest/kselftest-list.txt" ||
				die "EXO_TESTS: no selftest $t (make -C selftests emit_tests COLLECTION=exo lists them)"
			echo "exo:$t"
		done > "$root/kselftest-tests"
	fi
	# What runner.sh uses when it is there: coreutils' timeout, so that
	# the settings file's per-program timeout fires (busybox's has no
	# --foreground), and perl for kselftest/prefix.pl, which passes a
	# program's output on as it comes (busybox's sed, the fallback,
	# holds it back until the program ends, and the kernel log is checked
	# after each result). prefix.pl needs strict and IO::Handle, and
	# /usr/bin/env (busybox's) for its #! line.
	copy_prog /usr/bin/timeout
	copy_prog /usr/bin/perl
	for f in $(perl -Mstrict -MIO::Handle -e \
		'print "$_\n" for values %INC, @DynaLoader::dl_shared_objects'); do
		install -D -m 644 "$f" "$root$f"
	done
	ln -s /bin/busybox "$root/usr/bin/env"
	# The tutorial's library OS, which run-tests.sh traces with trace-cmd.
	if [ -x "$EXO_BUILD/examples/exo-tutorial" ]; then
		install -m 755 "$EXO_BUILD/examples/exo-tutorial" "$root/exo-tutorial"
	fi
	;;
demo)
	install -m 755 "$EXO_BUILD/examples/exo-demo" "$root/exo-demo"
	install -m 755 "$EXO_BUILD/examples/exo-vm-demo" "$root/exo-vm-demo"
	install -m 755 "$EXO_BUILD/examples/exo-net-demo" "$root/exo-net-demo"
	install -m 755 "$EXO_BUILD/examples/exo-uthread-demo" "$root/exo-uthread-demo"
	install -m 755 "$EXO_BUILD/examples/exo-ipc-demo" "$root/exo-ipc-demo"
	install -m 755 "$EXO_BUILD/examples/exo-tutorial" "$root/exo-tutorial"
	;;
bench)
	install -m 755 "$EXO_BUILD/bench/exo-vm-bench" "$root/exo-vm-bench"
	install -m 755 "$EXO_BUILD/bench/exo-net-bench" "$root/exo-net-bench"
	install -m 755 "$EXO_BUILD/bench/exo-call-bench" "$root/exo-call-bench"
	install -m 755 "$EXO_BUILD/bench/exo-ipc-bench" "$root/exo-ipc-bench"
	;;
*) die "unknown job $job" ;;
esac
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$root.cpio.gz"

accel=${EXO_ACCEL:-tcg}
# Debian's 6.12 patches its own code at run time (static keys) while the
# other vCPU runs it; under multi-threaded TCG a vCPU once executed the
# int3 of a finished patch, an Oops in kmem_cache_alloc (Documentation/
# kernels.rst). Its stock kernel runs on single-threaded TCG (both vCPUs
# on one host thread, taking turns) unless EXO_TCG_THREAD says otherwise.
qaccel=$accel
if [ "$accel" = tcg ]; then
	thread=${EXO_TCG_THREAD:-}
	if [ -z "$thread" ] && [ -z "${EXO_KERNEL:-}" ]; then
		case "$(series)" in 6.1 | 6.1-*) ;; *) thread=single ;; esac
	fi
	[ -n "$thread" ] && qaccel=tcg,thread=$thread
fi
say "booting $what under qemu-system-x86_64 ($qaccel), job: $job"
log=$EXO_BUILD/vm-$job${EXO_TIER:+-$EXO_TIER}.log
pidfile=$root.pid
rm -f "$pidfile"
# Echo the console, keep it in the log, and once the guest says it is done
# give it a moment to power off, then end QEMU: a kernel without a working
# power-off driver halts instead, and QEMU would wait for the timeout.
follow() {
	local line
	: > "$log"
	while IFS= read -r line; do
		line=${line%$'\r'}
		printf '%s\n' "$line"
		printf '%s\n' "$line" >> "$log"
		case "$line" in
		EXO-GUEST-DONE*)
			# This QEMU only: the next run writes its own pidfile.
			qpid=$(cat "$pidfile" 2>/dev/null) &&
			(sleep 10; [ "$(cat "$pidfile" 2>/dev/null)" = "$qpid" ] &&
				kill "$qpid" 2>/dev/null) &
			;;
		esac
	done
}
set +e
timeout --foreground "${EXO_VM_TIMEOUT:-1800}" \
	qemu-system-x86_64 -accel "$qaccel" -cpu max -m "${EXO_VM_MEM:-1G}" -smp 2 \
	-nographic -no-reboot -nodefaults -serial stdio -pidfile "$pidfile" \
	-kernel "$kernel" -initrd "$root.cpio.gz" \
	-append "console=ttyS0 quiet panic=-1 exo.job=$job exo.accel=$accel${EXO_TIER:+ exo.tier=$EXO_TIER}${EXO_APPEND:+ $EXO_APPEND}" \
	< /dev/null 2>&1 | follow
rc=${PIPESTATUS[0]}
rm -f "$pidfile"
set -e
[ "$rc" -eq 124 ] && die "the VM did not finish within ${EXO_VM_TIMEOUT:-1800}s (log: $log)"
grep -q '^EXO-GUEST-DONE' "$log" || die "the VM ended without finishing its job (crash?); log: $log"
grep -q '^EXO-GUEST-DONE rc=0$' "$log"
