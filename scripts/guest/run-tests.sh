#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM. Runs the selftests through the kselftest tree that
# scripts/vm.sh installed at /kselftest (run_kselftest.sh, runner.sh, the
# per-program timeout of exo/settings), reads each test case's TAP result
# as it comes, and after each result checks the kernel log: a test that
# left BUG/WARNING/Oops/KASAN/lockdep output fails. Before them, the
# KUnit results of insmod; after them, kmemleak and the module tests
# (rmmod). Prints KTAP lines "ok N name" / "not ok N name # why", one per
# test case.
# Kernel problems: BUG/WARNING/Oops headers (lockdep's splats start with
# WARNING: too), sanitizer reports, lockdep's own assertions; leaks are
# kmemleak_clean's business.
BAD='BUG:|WARNING:|Oops|KASAN|UBSAN|DEBUG_LOCKS_WARN_ON|suspicious RCU usage|inconsistent lock state|INFO: task .* blocked|general protection fault|divide error|Kernel panic'
tier=stock
for arg in $(cat /proc/cmdline); do
	case "$arg" in exo.tier=*) tier=${arg#exo.tier=} ;; esac
done
KMEMLEAK=/sys/kernel/debug/kmemleak
RES=/tmp/results
: > "$RES"
n=0

report() { # verdict name [reason]
	n=$((n + 1))
	case "$1" in
	pass) echo "ok $n $2" ;;
	skip) echo "ok $n $2 # SKIP $3" ;;
	*) echo "not ok $n $2${3:+ # $3}" ;;
	esac
	echo "$1" >> "$RES"
}

# Kernel log lines since the last call, if any look like a kernel problem.
klog_bad() {
	dmesg -c 2>/dev/null | grep -E "$BAD"
}

echo "KTAP version 1"
echo "# tier: $tier"

# What loading the module printed: KUnit's results (a kernel with KUnit runs
# exo's suites at insmod) and any splat.
dmesg -c | sed 's/^\[[^]]*\] //' > /tmp/load.log
suite=
while IFS= read -r line; do
	case "$line" in
	"    # Subtest: "*) suite=${line#    # Subtest: } ;;
	"    ok "*|"    not ok "*)
		rest=${line#    }
		verdict=pass
		case "$rest" in "not ok "*) verdict=fail ;; esac
		rest=${rest#*ok }
		rest=${rest#* }
		case "$rest" in
		*" # SKIP"*) report skip "kunit.$suite.${rest%% # SKIP*}" "${rest#* # SKIP }" ;;
		*) report $verdict "kunit.$suite.${rest%% #*}" ;;
		esac
		;;
	"    # "*) [ -n "$suite" ] && echo "# kunit: ${line#    # }" ;;
	esac
done < /tmp/load.log
if [ "$tier" = debug ] && ! grep -q '# Subtest: exo_' /tmp/load.log; then
	report fail "kunit.ran" "the debug kernel ran no exo KUnit suite at insmod"
fi
bad=$(grep -E "$BAD" /tmp/load.log)
if [ -n "$bad" ]; then
	echo "$bad" | sed 's/^/# kernel: /'
	report fail "module.load_clean" "kernel log: $(echo "$bad" | head -n1)"
else
	report pass "module.load_clean"
fi
if [ -e "$KMEMLEAK" ]; then
	# Report what the boot left unreferenced, then set it aside: only
	# suspects that appear while exo is in use count.
	echo scan > "$KMEMLEAK"
	echo clear > "$KMEMLEAK"
fi
# The selftests, run as a user runs them: the kselftest tree that
# "make -C selftests install" gave (/kselftest), through its
# run_kselftest.sh and kselftest/runner.sh, each program under the
# timeout of exo/settings. /kselftest-tests names EXO_TESTS's choice
# (collection:test lines for run_kselftest.sh -t), else every test runs.
# runner.sh prints one TAP line per program and nests the program's own
# under "# "; its test cases are what is reported, each checked against
# the kernel log as its result arrives. Through a FIFO, so that the
# numbering stays in this shell.
KSFT=/kselftest
case " $(cat /proc/cmdline) " in
*" exo.fuzz_calls="*)
	# A fuzzing run of the length asked for (make fuzz): the fuzzer
	# sets its own timeout from it, and the VM's bounds the run.
	sed -i 's/^timeout=.*/timeout=0/' "$KSFT/exo/settings"
	echo "# exo.fuzz_calls= given: runner.sh's timeout is off, the fuzzer's own applies"
	;;
esac
ksft_timeout=$(sed -n 's/^timeout=//p' "$KSFT/exo/settings")
case "${ksft_timeout:-45}" in
0) ksft_limit="no timeout" ;;
*) ksft_limit="timeout ${ksft_timeout:-45} s" ;;
esac
set --
if [ -f /kselftest-tests ]; then
	for t in $(cat /kselftest-tests); do set -- "$@" -t "$t"; done
fi
rm -f /tmp/ksft.fifo
mkfifo /tmp/ksft.fifo
"$KSFT/run_kselftest.sh" "$@" > /tmp/ksft.fifo 2>&1 &
ksft_pid=$!
suite= cur= nres=0 nfail=0
# The case in flight when its program ended, else the program itself.
in_flight() { echo "$suite${cur:+.$cur}"; }
while IFS= read -r line; do
	case "$line" in
	"# selftests: "*": "*)
		suite=${line##*: } cur= nres=0 nfail=0 started=$(date +%s)
		echo "# running $suite"
		;;
	"# "*|"#")
		# The program's own output, nested once.
		inner=${line#\#}
		inner=${inner# }
		case "$inner" in
		"#  RUN "*)
			# The harness names a skipped test only here.
			cur=${inner#\#  RUN}
			cur=$(echo "$cur" | sed 's/^ *//; s/ \.\.\.$//')
			echo "$line"
			;;
		"ok "*|"not ok "*)
			verdict=pass
			case "$inner" in "not ok "*) verdict=fail; nfail=$((nfail + 1)) ;; esac
			rest=${inner#*ok }
			rest=${rest#* }
			name=${rest%% #*}
			why=
			case "$rest" in "# SKIP"*|*" # SKIP"*)
				verdict=skip; why=${rest#*# SKIP } ;;
			esac
			[ -n "$cur" ] && name=$cur
			cur=
			nres=$((nres + 1))
			bad=$(klog_bad)
			if [ -n "$bad" ]; then
				echo "$bad" | sed 's/^/# kernel: /'
				verdict=fail
				why="kernel log: $(echo "$bad" | head -n1)"
			fi
			report "$verdict" "$suite.$name" "$why"
			;;
		*) echo "$line" ;;
		esac
		;;
	"ok "*|"not ok "*)
		# runner.sh's result for the whole program: a comment here,
		# the cases counted already; what they cannot say, reported.
		echo "# $line"
		echo "# $suite took $(($(date +%s) - started)) s ($ksft_limit)"
		bad=$(klog_bad)
		[ -n "$bad" ] && echo "$bad" | sed 's/^/# kernel: /'
		case "$line" in
		*" # TIMEOUT "*)
			report fail "$(in_flight)" "TIMEOUT: runner.sh killed $suite after ${line##* # TIMEOUT } (the timeout of selftests/settings)${bad:+; kernel log: $(echo "$bad" | head -n1)}"
			;;
		"not ok "*" # exit="*)
			rc=${line##* # exit=}
			if [ -n "$cur" ]; then
				report fail "$(in_flight)" "$suite ended (exit=$rc) before this case's result${bad:+; kernel log: $(echo "$bad" | head -n1)}"
			elif [ "$nres" -eq 0 ]; then
				report fail "$suite" "printed no result (exit=$rc)"
			elif [ "$nfail" -eq 0 ]; then
				report fail "$suite" "exit=$rc, yet no case failed"
			fi
			;;
		"ok "*" # SKIP"*)
			[ "$nres" -eq 0 ] &&
				report skip "$suite" "the program exited with kselftest's skip code, no case run"
			;;
		*)
			[ "$nres" -eq 0 ] && report fail "$suite" "printed no result"
			;;
		esac
		suite= cur=
		;;
	*) echo "# $line" ;;
	esac
done < /tmp/ksft.fifo
wait "$ksft_pid"
[ -n "$suite" ] && report fail "$(in_flight)" "the kselftest runner ended before $suite's result"
rm -f /tmp/ksft.fifo

# Debian's trace-cmd over exo's trace events (Documentation/tracing.rst):
# the tutorial's one write fault handled by an upcall, recorded and
# reported, must show its frame allocated, the fault and the mapping, all
# in the tutorial's context.
trace_cmd_record() {
	local t=module.trace_cmd_record out=/tmp/trace-cmd.out ctx ev missing=
	if [ ! -x /exo-tutorial ]; then
		report skip $t "no /exo-tutorial in this VM (make examples builds it)"
		return
	fi
	if ! trace-cmd record -q -e exo -o /tmp/exo.dat /exo-tutorial > /tmp/tutorial.out 2>&1 ||
	   ! trace-cmd report -i /tmp/exo.dat > $out 2>&1; then
		cat /tmp/tutorial.out $out | tail -n 20 | sed 's/^/# /'
		report fail $t "trace-cmd record or report failed"
		return
	fi
	ctx=$(sed -n 's/^exo-tutorial: context \([0-9]*\):.*/\1/p' /tmp/tutorial.out)
	# trace-cmd pads the event's name with spaces.
	for ev in "exo_fault: +ctx=$ctx va=0x[0-9a-f]+ access=0x[0-9a-f]+ how=upcall" \
		  "exo_frame_alloc: +ctx=$ctx " "exo_map: +ctx=$ctx nr=1 ret=0$"; do
		grep -Eq "$ev" $out || missing="$missing, $ev"
	done
	grep -E ' exo_[a-z_]+: ' $out | sed 's/^/# trace-cmd: /'
	if [ -z "$ctx" ] || [ -n "$missing" ]; then
		report fail $t "no event${missing#,} for context '$ctx' in trace-cmd's report"
	else
		report pass $t
	fi
}
trace_cmd_record

# Leaks of exo's: every context has closed, so anything exo allocated and
# nothing references is a leak. kmemleak reports objects at least 5 s old;
# only suspects whose allocation backtrace runs through exo count (the
# boot leaves a few of its own).
if [ -e "$KMEMLEAK" ]; then
	sleep 6
	echo scan > "$KMEMLEAK"
	echo scan > "$KMEMLEAK"
	awk '/^unreferenced object/ { if (b ~ /\[exo\]/) printf "%s", b; b = "" }
	     { b = b $0 "\n" }
	     END { if (b ~ /\[exo\]/) printf "%s", b }' "$KMEMLEAK" > /tmp/leaks
	if [ -s /tmp/leaks ]; then
		head -n 40 /tmp/leaks | sed 's/^/# kmemleak: /'
		report fail "module.kmemleak_clean" "kmemleak suspects $(grep -c '^unreferenced' /tmp/leaks) objects allocated by exo"
	else
		report pass "module.kmemleak_clean"
	fi
elif [ "$tier" = debug ]; then
	report fail "module.kmemleak_clean" "$KMEMLEAK missing in the debug kernel"
fi

# Module-level tests, in the shell: they need the module to come and go.
counter() { cat "/sys/class/misc/exo/$1"; }

exec 3< /dev/exo
if rmmod exo 2>/dev/null; then
	report fail "module.rmmod_refused_while_open" "rmmod succeeded with /dev/exo open"
	insmod /exo.ko
else
	report pass "module.rmmod_refused_while_open"
fi
exec 3<&-

c=$(counter contexts) f=$(counter frames) t=$(counter threads)
a=$(counter frames_allocated) r=$(counter frames_freed)
pf=$(counter pool_frames) pr=$(counter pool_free)
counters="contexts=$c frames=$f threads=$t allocated=$a freed=$r pool_frames=$pf pool_free=$pr"
echo "# counters before unload: $counters"
if [ "$c" = 0 ] && [ "$f" = 0 ] && [ "$t" = 0 ] && [ "$a" = "$r" ] && [ "$a" -gt 0 ] &&
   [ "$pf" -gt 0 ] && [ "$pf" = "$pr" ]; then
	report pass "module.counters_back_to_zero"
else
	report fail "module.counters_back_to_zero" "$counters"
fi

if rmmod exo; then
	bad=$(klog_bad)
	if [ -n "$bad" ]; then
		report fail "module.rmmod_after_use" "kernel log: $(echo "$bad" | head -n1)"
	elif [ -e /dev/exo ]; then
		report fail "module.rmmod_after_use" "/dev/exo still there"
	else
		report pass "module.rmmod_after_use"
	fi
else
	report fail "module.rmmod_after_use" "rmmod failed"
fi

if insmod /exo.ko && [ -c /dev/exo ] && rmmod exo; then
	report pass "module.reload"
else
	report fail "module.reload" "insmod/rmmod cycle failed"
fi

# The network: a library OS holding claims with downloaded handlers keeps
# exo in use; once it has gone, rmmod succeeds and the interface it had
# attached serves Linux (ping from the peer namespace answered by Linux).
# Debian's iproute2 (busybox's shell would run its own ip applet); what
# "ip netns exec" runs comes from PATH: Debian's ping.
IP=/usr/sbin/ip
net_peer_ping() {
	$IP netns exec exonet ping -n -q -c 1 -W 3 10.0.1.1 > /dev/null
}
net_echos() { # Linux's Icmp InEchos
	awk '/^Icmp:/ { if (!n++) { for (i = 2; i <= NF; i++) if ($i == "InEchos") f = i }
	               else print $f }' /proc/net/snmp
}
net_cleanup() {
	$IP link del exon0 2>/dev/null
	$IP netns del exonet 2>/dev/null
}
net_module_tests() {
	local hold echos i
	net_cleanup
	if [ ! -x "$KSFT/exo/exo_net_hold" ] || ! $IP netns add exonet 2>/dev/null ||
	   ! $IP link add exon0 type veth peer name exon1 netns exonet 2>/dev/null; then
		report skip "module.net_rmmod_refused_with_handlers" "no veth or ip netns"
		net_cleanup
		return
	fi
	$IP addr add 10.0.1.1/24 dev exon0 && $IP link set exon0 up &&
	$IP -n exonet addr add 10.0.1.2/24 dev exon1 &&
	$IP -n exonet link set exon1 up || {
		report fail "module.net_rmmod_refused_with_handlers" "cannot configure the veth pair"
		net_cleanup
		return
	}
	insmod /exo.ko || {
		report fail "module.net_rmmod_refused_with_handlers" "insmod failed"
		net_cleanup
		return
	}
	rm -f /tmp/hold.in /tmp/hold.out
	mkfifo /tmp/hold.in
	"$KSFT/exo/exo_net_hold" exon0 < /tmp/hold.in > /tmp/hold.out 2>&1 &
	hold=$!
	exec 4> /tmp/hold.in
	for i in $(seq 100); do
		grep -q '^ready' /tmp/hold.out && break
		kill -0 "$hold" 2>/dev/null || break
		sleep 0.1
	done
	echos=$(net_echos)
	if ! grep -q '^ready' /tmp/hold.out; then
		report fail "module.net_rmmod_refused_with_handlers" "exo_net_hold: $(head -n1 /tmp/hold.out)"
	elif ! net_peer_ping ||
	     [ "$(net_echos)" != "$echos" ]; then
		report fail "module.net_rmmod_refused_with_handlers" "the ICMP echo ASH did not answer the peer's ping"
	elif rmmod exo 2>/dev/null; then
		report fail "module.net_rmmod_refused_with_handlers" "rmmod succeeded with handlers attached"
	else
		report pass "module.net_rmmod_refused_with_handlers"
	fi
	exec 4>&-
	wait "$hold"
	if ! rmmod exo; then
		report fail "module.net_rmmod_after_close" "rmmod failed after the holder exited"
	elif bad=$(klog_bad) && [ -n "$bad" ]; then
		report fail "module.net_rmmod_after_close" "kernel log: $(echo "$bad" | head -n1)"
	elif ! net_peer_ping; then
		report fail "module.net_rmmod_after_close" "Linux does not answer the peer's ping"
	else
		report pass "module.net_rmmod_after_close"
	fi
	net_cleanup
}
net_module_tests

echo "1..$n"
fails=$(grep -c '^fail' "$RES")
[ "$fails" -eq 0 ]
