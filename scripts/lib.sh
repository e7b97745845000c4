# SPDX-License-Identifier: GPL-2.0
# Shared by exo's scripts: messages, the cache, the stock kernel's ABI name.

EXO_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EXO_CACHE=${EXO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/exo}
EXO_BUILD=${EXO_BUILD:-$EXO_TOP/build}

say()  { printf '==> %s\n' "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# The ABI of Debian's stock kernel (e.g. 6.1.0-56-amd64): what
# linux-image-amd64 depends on. Needs the apt lists.
stock_abi() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9].*\)$/\1/p' | head -n1
}

# Where the stock kernel image is unpacked (scripts/deps.sh fills it).
kernel_dir() { printf '%s/kernel/%s\n' "$EXO_CACHE" "$1"; }

# The ABI deps.sh resolved last; empty if it has not run.
cached_abi() { cat "$EXO_CACHE/kernel/abi" 2>/dev/null || true; }

# Extract a few files of Debian's linux-source-6.1 into the cache once
# (again when the package is newer, or a file the list names is missing).
ksrc_dir() { printf '%s/linux-source-6.1\n' "$EXO_CACHE"; }
ksrc_extract() {
	local tarball=/usr/src/linux-source-6.1.tar.xz dir
	dir=$(ksrc_dir)
	[ -f "$tarball" ] || die "$tarball missing: run scripts/deps.sh"
	if [ ! -f "$dir/.stamp" ] || [ "$tarball" -nt "$dir/.stamp" ] ||
	   [ ! -f "$dir/.clang-format" ]; then
		say "extracting kselftest harness, checkpatch, kernel-doc and .clang-format from linux-source-6.1"
		rm -rf "$dir" && mkdir -p "$EXO_CACHE"
		tar -C "$EXO_CACHE" -xJf "$tarball" \
			linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
			linux-source-6.1/tools/testing/selftests/kselftest.h \
			linux-source-6.1/scripts/checkpatch.pl \
			linux-source-6.1/scripts/spelling.txt \
			linux-source-6.1/scripts/const_structs.checkpatch \
			linux-source-6.1/scripts/kernel-doc \
			linux-source-6.1/.clang-format ||
			die "cannot extract from $tarball"
		touch "$dir/.stamp"
	fi
}

# Build exo.ko against the kernel build tree KDIR from a fresh copy of the
# sources alone in DIR (the stock build's objects stay in module/, and a
# removed source must not linger there); the output goes to LOG. The
# module is DIR/module/exo.ko.
module_copy_build() { # kdir dir log
	local kdir=$1 dir=$2 log=$3
	rm -rf "$dir" && mkdir -p "$dir" || return 1
	(cd "$EXO_TOP" && find Kbuild uapi module -name Kbuild -o -name '*.[ch]' \
		! -name '*.mod.c' | cpio -pdm --quiet "$dir") || return 1
	make -s -C "$kdir" M="$dir" modules > "$log" 2>&1
}
