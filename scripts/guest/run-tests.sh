#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM. Runs every kselftest binary in /tests, reads its TAP
# results as they come, and after each result checks the kernel log: a test
# that left BUG/WARNING/Oops/KASAN/lockdep output fails. Then the module
# tests (rmmod). Prints KTAP lines "ok N name" / "not ok N name # why".
BAD='BUG:|WARNING:|Oops|KASAN|UBSAN|kmemleak|lockdep|possible circular locking|possible recursive locking|INFO: task .* blocked|general protection fault|Kernel panic|Call Trace'
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
dmesg -c > /dev/null
for bin in /tests/*; do
	suite=${bin##*/}
	echo "# running $suite"
	"$bin" 2>&1 | {
		cur=
		while IFS= read -r line; do
			case "$line" in
			"#  RUN "*)
				# The harness names a skipped test only here.
				cur=${line#\#  RUN}
				cur=$(echo "$cur" | sed 's/^ *//; s/ \.\.\.$//')
				echo "# $line"
				;;
			"ok "*|"not ok "*)
				verdict=pass
				case "$line" in "not ok "*) verdict=fail ;; esac
				rest=${line#*ok }
				rest=${rest#* }
				name=${rest%% #*}
				why=
				case "$rest" in "# SKIP"*|*" # SKIP"*)
					verdict=skip; why=${rest#*# SKIP } ;;
				esac
				[ -n "$cur" ] && name=$cur
				cur=
				bad=$(klog_bad)
				if [ -n "$bad" ]; then
					echo "$bad" | sed 's/^/# kernel: /'
					verdict=fail
					why="kernel log: $(echo "$bad" | head -n1)"
				fi
				# Report through the parent shell's numbering.
				echo "RESULT $verdict $suite.$name|$why"
				;;
			*) echo "# $line" ;;
			esac
		done
	} > /tmp/out.$suite
	rc=$?
	while IFS= read -r line; do
		case "$line" in
		"RESULT "*)
			rest=${line#RESULT }
			verdict=${rest%% *}
			rest=${rest#* }
			report "$verdict" "${rest%%|*}" "${rest#*|}"
			;;
		*) echo "$line" ;;
		esac
	done < /tmp/out.$suite
	grep -q "^RESULT " /tmp/out.$suite || report fail "$suite" "printed no result"
done

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

c=$(counter contexts) f=$(counter frames)
a=$(counter frames_allocated) r=$(counter frames_freed)
pf=$(counter pool_frames) pr=$(counter pool_free)
counters="contexts=$c frames=$f allocated=$a freed=$r pool_frames=$pf pool_free=$pr"
echo "# counters before unload: $counters"
if [ "$c" = 0 ] && [ "$f" = 0 ] && [ "$a" = "$r" ] && [ "$a" -gt 0 ] &&
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

echo "1..$n"
fails=$(grep -c '^fail' "$RES")
[ "$fails" -eq 0 ]
