#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build exo's debug kernel (KASAN, lockdep, kmemleak, KUnit, fault
# injection) from Debian's linux-source-6.1: `make tinyconfig`, then
# config/debug.config on top. Prints the build directory on stdout (with
# --bzimage: the kernel image in it); messages go to stderr.
#   scripts/debug-kernel.sh              -> build dir, for
#       make -C "$(scripts/debug-kernel.sh)" M="$PWD" modules
#   scripts/debug-kernel.sh --bzimage    -> <build dir>/arch/x86/boot/bzImage,
#       for EXO_KERNEL=... scripts/vm.sh test
# The result is cached in $EXO_CACHE/debug-kernel/<key>/ (the extracted
# source in linux-source-6.1/, the O= build tree in build/, the build's
# output in build.log); key covers the fragment, the linux-source-6.1
# package version and RECIPE below. A cached build prints at once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Bump when the steps below change what gets built.
RECIPE="exo-debug-kernel recipe 1: tinyconfig + fragment, ARCH=x86_64, make"

want=build
case "${1:-}" in
"") ;;
--bzimage) want=bzimage ;;
*) die "usage: scripts/debug-kernel.sh [--bzimage]" ;;
esac

tarball=/usr/src/linux-source-6.1.tar.xz
fragment=$EXO_TOP/config/debug.config
[ -f "$tarball" ] || die "$tarball missing: run scripts/deps.sh"
[ -f "$fragment" ] || die "$fragment missing"
version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) ||
	die "cannot read linux-source-6.1's version with dpkg-query"
[ -n "$version" ] || die "linux-source-6.1 is not installed: run scripts/deps.sh"
key=$({ cat "$fragment"; printf '%s\n' "$version" "$RECIPE"; } |
	sha256sum | cut -c1-16)

top=$EXO_CACHE/debug-kernel/$key
src=$top/linux-source-6.1
build=$top/build
log=$top/build.log
stamp=$top/stamp
bzimage=$build/arch/x86/boot/bzImage

done_print() {
	case "$want" in
	bzimage) printf '%s\n' "$bzimage" ;;
	*) printf '%s\n' "$build" ;;
	esac
}

if [ -f "$stamp" ] && [ -f "$bzimage" ]; then
	done_print
	exit 0
fi

mkdir -p "$top"
# One build per key at a time; a second caller waits, then finds the stamp.
exec 9> "$top/lock"
if ! flock -n 9; then
	say "another build of the debug kernel $key is running; waiting for it"
	flock 9
fi
if [ -f "$stamp" ] && [ -f "$bzimage" ]; then
	done_print
	exit 0
fi

# linux-source-6.1 only recommends these, and deps.sh installs without
# recommends.
missing=()
for tool in make gcc flex bison bc perl xz; do
	command -v "$tool" >/dev/null || missing+=("$tool")
done
echo '#include <gelf.h>' | gcc -E -x c - >/dev/null 2>&1 ||
	missing+=("libelf-dev (gelf.h, for objtool)")
[ "${#missing[@]}" -eq 0 ] ||
	die "the kernel build needs: ${missing[*]} (apt-get install flex bison bc libelf-dev)"

tmp=
pid=
cleanup() {
	# The build runs in its own session: end all of it, by its id.
	[ -n "$pid" ] && kill -TERM -- "-$pid" 2>/dev/null
	[ -n "$tmp" ] && rm -rf "$tmp"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "debug kernel $key: linux-source-6.1 $version + config/debug.config, in $top"

# The source: extracted whole into a temporary directory, renamed when done,
# so that a tree in place is always complete.
if [ ! -f "$src/Makefile" ]; then
	say "extracting $tarball"
	rm -rf "$src"
	tmp=$(mktemp -d "$top/.extract.XXXXXX")
	tar -C "$tmp" -xJf "$tarball" || die "cannot extract $tarball"
	[ -f "$tmp/linux-source-6.1/Makefile" ] ||
		die "$tarball holds no linux-source-6.1/Makefile"
	mv "$tmp/linux-source-6.1" "$src"
	rm -rf "$tmp"
	tmp=
fi

# The configuration: tinyconfig, the fragment merged on top, olddefconfig.
# ARCH=x86_64 so that tinyconfig starts from a 64-bit kernel.
kmake() { make -C "$src" O="$build" ARCH=x86_64 "$@"; }
mkdir -p "$build"
say "configuring: tinyconfig + config/debug.config"
kmake -s tinyconfig > "$top/config.log" 2>&1 ||
	{ cat "$top/config.log" >&2; die "make tinyconfig failed"; }
(cd "$build" && ARCH=x86_64 "$src/scripts/kconfig/merge_config.sh" -m \
	-O "$build" "$build/.config" "$fragment") >> "$top/config.log" 2>&1 ||
	{ cat "$top/config.log" >&2; die "merge_config.sh failed"; }
kmake -s olddefconfig >> "$top/config.log" 2>&1 ||
	{ cat "$top/config.log" >&2; die "make olddefconfig failed"; }

# Every assignment in the fragment must have survived olddefconfig: one
# that did not lacks a dependency (or is selected by something left on).
lost=()
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF -- "$line" "$build/.config" && continue
		sym=${line%%=*}
		;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }
		sym=${sym%% *}
		grep -q "^$sym=" "$build/.config" || continue
		;;
	*) continue ;;
	esac
	got=$(grep -E "^$sym=|^# $sym is not set$" "$build/.config" || true)
	lost+=("$line  (.config: ${got:-absent, dependencies unmet})")
done < "$fragment"
if [ "${#lost[@]}" -gt 0 ]; then
	printf 'error: %s of config/debug.config did not survive olddefconfig:\n' \
		"${#lost[@]}" >&2
	printf '  %s\n' "${lost[@]}" >&2
	die "fix config/debug.config (missing dependencies?); the .config is $build/.config"
fi

# The build: vmlinux, bzImage and modules (Module.symvers), for
# out-of-tree modules with make -C <build dir> M=<dir>.
jobs=$(($(nproc) + 1))
say "building with -j$jobs; the build's output goes to $log"
start=$SECONDS
setsid make -C "$src" O="$build" ARCH=x86_64 -j"$jobs" > "$log" 2>&1 &
pid=$!
next=60
while kill -0 "$pid" 2>/dev/null; do
	sleep 2
	if [ $((SECONDS - start)) -ge "$next" ]; then
		say "building, $((next / 60)) min: $(tail -n 1 "$log" | cut -c1-100)"
		next=$((next + 60))
	fi
done
rc=0
wait "$pid" || rc=$?
pid=
if [ "$rc" -ne 0 ] || [ ! -f "$bzimage" ] || [ ! -f "$build/Module.symvers" ]; then
	tail -n 40 "$log" >&2
	die "the debug kernel's build failed (exit $rc); log: $log"
fi
secs=$((SECONDS - start))
printf 'linux-source-6.1 %s\n%s\nbuilt in %ss\n' "$version" "$RECIPE" "$secs" \
	> "$stamp"
say "built in $((secs / 60))m$((secs % 60))s; bzImage: $bzimage"
done_print
