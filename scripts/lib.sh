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

# The kernel series exo supports (Documentation/kernels.rst): 6.1, Debian
# 12's own kernel (linux-image-amd64), and 6.12, Debian 13's, which Debian
# 12 serves too, from its security archive (linux-image-6.12-amd64).
# 6.1 also comes in two more flavours, each a series of its own here:
# 6.1-cloud (linux-image-cloud-amd64) and 6.1-rt (PREEMPT_RT,
# linux-image-rt-amd64). EXO_KERNEL_SERIES picks the one make demo and
# make bench boot; make check tests EXO_SERIES_ALL, make check-flavours
# EXO_FLAVOURS.
EXO_SERIES_ALL="6.1 6.12"
EXO_FLAVOURS="6.1 6.1-cloud 6.1-rt"
series() { printf '%s\n' "${EXO_KERNEL_SERIES:-6.1}"; }
series_ok() { # series
	case " $EXO_SERIES_ALL $EXO_FLAVOURS " in *" $1 "*) return 0 ;; esac
	die "kernel series $1 is not one exo supports ($EXO_SERIES_ALL $EXO_FLAVOURS)"
}

# The metapackage whose dependency names a series' current kernel.
series_meta() { # series
	case "$1" in
	6.1) echo linux-image-amd64 ;;
	6.1-*) echo "linux-image-${1#6.1-}-amd64" ;;
	*) echo "linux-image-$1-amd64" ;;
	esac
}

# 6.1's flavours have headers packages that stand alone (installed, as
# /lib/modules/ABI/build); later series' are unpacked (kernel_build).
series_headers_installed() { # series
	case "$1" in 6.1 | 6.1-*) return 0 ;; esac
	return 1
}

# The ABI of a series' stock kernel (e.g. 6.1.0-56-amd64): what its
# metapackage depends on. Needs the apt lists.
stock_abi() { # [series]
	apt-cache depends "$(series_meta "${1:-6.1}")" 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9].*\)$/\1/p' | head -n1
}

# Where a stock kernel image is unpacked (scripts/deps.sh fills it).
kernel_dir() { printf '%s/kernel/%s\n' "$EXO_CACHE" "$1"; }

# The build tree (KDIR) for a stock kernel: the headers deps.sh unpacked
# beside its image where there are some (6.12, whose headers package
# would install its image on the host), else the installed headers.
kernel_build() { # abi
	local d
	d=$(kernel_dir "$1")/build
	if [ -d "$d" ]; then echo "$d"; else echo "/lib/modules/$1/build"; fi
}

# Where deps.sh records the ABI it resolved for a series.
abi_file() { # [series]
	if [ "${1:-6.1}" = 6.1 ]; then
		echo "$EXO_CACHE/kernel/abi"
	else
		echo "$EXO_CACHE/kernel/abi-$1"
	fi
}

# The ABI deps.sh resolved last for a series; empty if it has not run.
cached_abi() { # [series]
	cat "$(abi_file "$@")" 2>/dev/null || true
}

# Extract a few files of Debian's linux-source-6.1 into the cache once
# (again when the package is newer, or a file the list names is missing):
# the kselftest harness, lib.mk, runner and run_kselftest.sh (selftests/
# Makefile), checkpatch, kernel-doc and .clang-format, and the kernel's
# Sphinx extension for kernel-doc comments (kerneldoc.py and kernellog.py,
# which it imports) for make htmldocs (scripts/htmldocs.sh).
ksrc_dir() { printf '%s/linux-source-6.1\n' "$EXO_CACHE"; }
ksrc_extract() {
	local tarball=/usr/src/linux-source-6.1.tar.xz dir tmp f stale=
	local files=(
		tools/testing/selftests/kselftest_harness.h
		tools/testing/selftests/kselftest.h
		tools/testing/selftests/lib.mk
		tools/testing/selftests/run_kselftest.sh
		tools/testing/selftests/kselftest/runner.sh
		tools/testing/selftests/kselftest/prefix.pl
		tools/testing/selftests/kselftest/module.sh
		scripts/checkpatch.pl
		scripts/spelling.txt
		scripts/const_structs.checkpatch
		scripts/kernel-doc
		.clang-format
		Documentation/sphinx/kerneldoc.py
		Documentation/sphinx/kernellog.py
	)
	dir=$(ksrc_dir)
	[ -f "$tarball" ] || die "$tarball missing: run scripts/deps.sh"
	[ -f "$dir/.stamp" ] && [ ! "$tarball" -nt "$dir/.stamp" ] || stale=1
	for f in "${files[@]}"; do
		[ -f "$dir/$f" ] || stale=1
	done
	if [ -n "$stale" ]; then
		say "extracting the kselftest harness, lib.mk and runner, checkpatch, kernel-doc, its Sphinx extension and .clang-format from linux-source-6.1"
		# Into a directory of its own first: a build in another tree
		# may be reading the old copy.
		mkdir -p "$EXO_CACHE" && tmp=$(mktemp -d "$dir.XXXXXX") ||
			die "cannot make a directory in $EXO_CACHE"
		tar -C "$tmp" -xJf "$tarball" "${files[@]/#/linux-source-6.1/}" || {
			rm -rf "$tmp"
			die "cannot extract from $tarball"
		}
		touch "$tmp/linux-source-6.1/.stamp"
		rm -rf "$dir" && mv "$tmp/linux-source-6.1" "$dir" && rmdir "$tmp" ||
			die "cannot move the extracted files to $dir"
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
