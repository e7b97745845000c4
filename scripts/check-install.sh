#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make install as a packager and a DKMS user meet it, on the host, without
# root, leaving nothing outside $EXO_BUILD/check-install/ (and the tree's
# own build of exo.ko and libexo):
#
#   staging  make install DESTDIR=<root>: exactly the expected files, the
#            shared library with its soname, a pkg-config file that
#            resolves inside the staging root, a program compiled and
#            linked against the staged libexo (shared and static) that
#            runs; PREFIX=/usr puts the udev rule where udev reads it;
#            make uninstall removes every file again
#   dkms     the sources make install gives DKMS (MODULE_INSTALL=dkms),
#            built by `dkms build` with a DKMS tree and signing key of its
#            own, for KDIR's kernel: exo.ko with that kernel's vermagic
#
# scripts/check-install.sh [-v] [staging] [dkms]	(no name: both)
#
# KDIR defaults to the stock kernel's headers (scripts/deps.sh). Prints
# nothing and exits 0 when all is well (scripts/check.sh's check); prints
# what is wrong otherwise. -v prints the staging root's listing, which is
# also kept in $EXO_BUILD/install-staging.txt.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$EXO_TOP" || exit 1
# modinfo and dkms live in sbin, which a user's PATH may lack.
PATH=$PATH:/usr/sbin:/sbin

verbose=
parts=()
for a in "$@"; do
	case "$a" in
	-v) verbose=1 ;;
	staging|dkms) parts+=("$a") ;;
	*) die "usage: $0 [-v] [staging] [dkms]" ;;
	esac
done
[ ${#parts[@]} -gt 0 ] || parts=(staging dkms)

if [ -z "${KDIR:-}" ]; then
	abi=$(cached_abi)
	[ -n "$abi" ] || die "no stock kernel yet: run scripts/deps.sh, or pass KDIR"
	KDIR=/lib/modules/$abi/build
fi
[ -d "$KDIR" ] || die "no kernel build tree at $KDIR"
kver=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' \
	"$KDIR/include/generated/utsrelease.h" 2>/dev/null)
[ -n "$kver" ] || die "cannot read the kernel release from $KDIR"
version=$(cat VERSION)

rc=0
fail() { printf 'install: %s\n' "$*"; rc=1; }

# make with this tree's settings; the output goes to LOG, shown on failure.
run_make() { # log args...
	local log=$1
	shift
	if ! make -s -C "$EXO_TOP" BUILD="$EXO_BUILD" KDIR="$KDIR" "$@" \
		> "$log" 2>&1; then
		fail "make $* failed:"
		tail -n 30 "$log" | sed 's/^/  /'
		return 1
	fi
}

# Every file and symlink under a root, relative and sorted.
listing() { (cd "$1" && find . \( -type f -o -type l \) | sed 's|^\./||' | LC_ALL=C sort); }

staging() {
	local root=$work/stage pre=usr/local so=libexo.so.$version f
	local lib=$root/$pre/lib cflags libs
	run_make "$work/install.log" install DESTDIR="$root" || return

	listing "$root" > "$EXO_BUILD/install-staging.txt"
	[ -n "$verbose" ] && cat "$EXO_BUILD/install-staging.txt"
	{
		printf '%s\n' "$pre/lib/libexo.a" "$pre/lib/$so" \
			"$pre/lib/libexo.so.0" "$pre/lib/libexo.so" \
			"$pre/lib/pkgconfig/libexo.pc" \
			"$pre/include/libexo.h" "$pre/include/linux/exo.h" \
			etc/udev/rules.d/60-exo.rules \
			"lib/modules/$kver/updates/exo.ko" \
			"$pre/sbin/exoctl" "$pre/share/man/man8/exoctl.8"
		for f in libexo/man/*.[37]; do
			printf '%s\n' "$pre/share/man/man${f##*.}/${f##*/}"
		done
	} | LC_ALL=C sort > "$work/expected.txt"
	LC_ALL=C comm -23 "$work/expected.txt" "$EXO_BUILD/install-staging.txt" |
		sed 's/^/missing from the staging install: /' | grep . && rc=1
	LC_ALL=C comm -13 "$work/expected.txt" "$EXO_BUILD/install-staging.txt" |
		sed 's/^/unexpected in the staging install: /' | grep . && rc=1

	[ "$(readlink "$lib/libexo.so")" = libexo.so.0 ] ||
		fail "libexo.so does not point at libexo.so.0"
	[ "$(readlink "$lib/libexo.so.0")" = "$so" ] ||
		fail "libexo.so.0 does not point at $so"
	readelf -d "$lib/$so" 2>/dev/null | grep -q 'SONAME.*\[libexo\.so\.0\]' ||
		fail "$so has no soname libexo.so.0"
	cmp -s uapi/linux/exo.h "$root/$pre/include/linux/exo.h" ||
		fail "the installed linux/exo.h is not uapi/linux/exo.h"
	cmp -s udev/60-exo.rules "$root/etc/udev/rules.d/60-exo.rules" ||
		fail "the installed udev rule is not udev/60-exo.rules"
	case "$(modinfo -F vermagic "$root/lib/modules/$kver/updates/exo.ko" 2>/dev/null)" in
	"$kver "*) ;;
	*) fail "the installed exo.ko is not built for $kver" ;;
	esac

	# pkg-config as a cross build uses it: the staging root as sysroot.
	export PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_PATH=$lib/pkgconfig
	[ "$(pkg-config --modversion libexo 2>&1)" = "$version" ] ||
		fail "pkg-config --modversion libexo is not $version: $(pkg-config --modversion libexo 2>&1)"
	cflags=$(pkg-config --cflags libexo 2>&1) || fail "pkg-config --cflags libexo: $cflags"
	libs=$(pkg-config --libs libexo 2>&1) || fail "pkg-config --libs libexo: $libs"
	case " $cflags " in *" -I$root/$pre/include "*) ;;
	*) fail "pkg-config --cflags libexo outside the staging root: $cflags" ;; esac
	case " $libs " in *" -L$lib "*) ;;
	*) fail "pkg-config --libs libexo outside the staging root: $libs" ;; esac

	# A program from the staged headers and library alone: <linux/exo.h>
	# is nowhere else on the host.
	cat > "$work/prog.c" <<-'EOF'
	#include <errno.h>
	#include <stdio.h>
	#include <libexo.h>

	int main(void)
	{
		struct exo *exo;
		int ret = exo_open_path("/nonexistent/exo", &exo);

		if (ret != -ENOENT) {
			printf("exo_open_path() gave %d, not -ENOENT\n", ret);
			return 1;
		}
		return EXO_API_VERSION > 0 ? 0 : 1;
	}
	EOF
	# shellcheck disable=SC2086
	if cc -Wall -Werror -o "$work/prog" "$work/prog.c" $cflags $libs \
		> "$work/cc.log" 2>&1; then
		readelf -d "$work/prog" | grep -q 'NEEDED.*\[libexo\.so\.0\]' ||
			fail "the program is not linked against libexo.so.0"
		LD_LIBRARY_PATH=$lib "$work/prog" || fail "the program linked against the staged libexo.so failed"
	else
		fail "cannot build a program against the staged libexo:"
		sed 's/^/  /' "$work/cc.log"
	fi
	# shellcheck disable=SC2046
	if cc -static -Wall -Werror -o "$work/prog-static" "$work/prog.c" \
		$(pkg-config --static --cflags --libs libexo) > "$work/cc-static.log" 2>&1; then
		"$work/prog-static" || fail "the program linked against the staged libexo.a failed"
	else
		fail "cannot link a program statically against the staged libexo:"
		sed 's/^/  /' "$work/cc-static.log"
	fi
	unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH

	run_make "$work/uninstall.log" uninstall DESTDIR="$root" || return
	listing "$root" | sed 's/^/left by make uninstall: /' | grep . && rc=1

	# PREFIX=/usr: the udev rule in the distribution's directory.
	run_make "$work/install-usr.log" install DESTDIR="$work/stage-usr" \
		PREFIX=/usr MODULE_INSTALL=none || return
	for f in usr/lib/udev/rules.d/60-exo.rules usr/lib/libexo.so.0 \
		usr/include/libexo.h usr/share/man/man7/libexo.7; do
		[ -e "$work/stage-usr/$f" ] || [ -L "$work/stage-usr/$f" ] ||
			fail "PREFIX=/usr: $f missing"
	done
	grep -qx 'prefix=/usr' "$work/stage-usr/usr/lib/pkgconfig/libexo.pc" ||
		fail "PREFIX=/usr: libexo.pc does not say prefix=/usr"
	[ ! -e "$work/stage-usr/lib/modules" ] ||
		fail "MODULE_INSTALL=none installed a module"
}

dkms_build() {
	local root=$work/dkms-stage tree=$work/dkms src ko dkms
	dkms=$(command -v dkms || echo /usr/sbin/dkms)
	[ -x "$dkms" ] || { fail "no dkms command (apt-get install dkms)"; return; }
	run_make "$work/install-dkms.log" install-module MODULE_INSTALL=dkms \
		DESTDIR="$root" || return
	src=$root/usr/src/exo-$version
	[ -f "$src/dkms.conf" ] || { fail "no $src/dkms.conf"; return; }
	[ "$(listing "$root" | grep -v "^usr/src/exo-$version/")" = "" ] ||
		fail "MODULE_INSTALL=dkms with DESTDIR installed more than the DKMS sources"

	# The DKMS tree and source tree are ours; so is the key dkms makes to
	# sign the module (/var/lib/dkms/mok.key otherwise), unless the
	# host's /etc/dkms/framework.conf names one.
	mkdir -p "$tree" "$work/key"
	if ! mok_signing_key=$work/key/mok.key mok_certificate=$work/key/mok.pub \
		"$dkms" build -m exo -v "$version" -k "$kver" \
		--kernelsourcedir "$KDIR" --dkmstree "$tree" \
		--sourcetree "$root/usr/src" > "$work/dkms.log" 2>&1; then
		fail "dkms build failed:"
		tail -n 20 "$work/dkms.log" | sed 's/^/  /'
		tail -n 30 "$tree/exo/$version/build/make.log" 2>/dev/null | sed 's/^/  make.log: /'
		return
	fi
	ko=$tree/exo/$version/$kver/$(uname -m)/module/exo.ko
	[ -f "$ko" ] || { fail "dkms build made no $ko"; return; }
	case "$(modinfo -F vermagic "$ko" 2>/dev/null)" in
	"$kver "*) ;;
	*) fail "dkms built exo.ko not for $kver: $(modinfo -F vermagic "$ko" 2>&1)" ;;
	esac
}

# Each part's files, kept for a look after a failure.
for p in "${parts[@]}"; do
	work=$EXO_BUILD/check-install/$p
	rm -rf "$work" && mkdir -p "$work" || die "cannot make $work"
	case "$p" in
	staging) staging ;;
	dkms) dkms_build ;;
	esac
done
exit "$rc"
