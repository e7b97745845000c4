#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install what exo needs from Debian's packages, and unpack the stock
# kernel of each kernel series asked for (default: EXO_KERNEL_SERIES, else
# 6.1) into the cache for the VM: scripts/deps.sh [SERIES...], e.g.
# "scripts/deps.sh 6.1 6.12". Idempotent: a second run installs and
# downloads nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v apt-get >/dev/null || die "exo's scripts need Debian (apt-get)"

# rsync: the kselftest lib.mk's install target copies with it.
PKGS=(make gcc libc6-dev cpio gzip xz-utils kmod busybox-static
      qemu-system-x86 linux-source-6.1 sparse perl python3
      clang llvm libbpf-dev bpftool man-db groff-base
      flex bison bc libelf-dev zlib1g-dev dwarves
      iproute2 iputils-ping socat netcat-openbsd
      dkms pkgconf gnuplot-nox python3-sphinx rsync trace-cmd)

missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || printf '%s\n' "$p"
	done
}

updated=
apt_update() {
	[ -n "$updated" ] && return
	say "apt-get update"
	as_root apt-get update -qq || die "apt-get update failed"
	updated=1
}

serieses=("$@")
[ ${#serieses[@]} -gt 0 ] || serieses=("$(series)")
for sr in "${serieses[@]}"; do series_ok "$sr"; done

# Everything a series needs: its kernel's image unpacked, and a build tree
# (6.1: the installed headers package; others: their headers unpacked).
kernel_ready() { # series abi
	[ -n "$2" ] && [ -f "$(kernel_dir "$2")/vmlinuz" ] || return 1
	series_headers_installed "$1" || [ -f "$(kernel_dir "$2")/build/Makefile" ]
}
# The packages to install: the tools, and 6.1's flavours' headers.
wanted() { # series...
	local sr
	printf '%s\n' "${PKGS[@]}"
	for sr in "$@"; do
		series_headers_installed "$sr" && echo "linux-headers-$(stock_abi "$sr")"
	done
	return 0
}
# Anything to fetch: refresh the lists first, so the ABIs and the packages
# come from the same, current lists.
for sr in "${serieses[@]}"; do
	kernel_ready "$sr" "$(stock_abi "$sr")" || apt_update
done
# shellcheck disable=SC2046
need=$(missing $(wanted "${serieses[@]}"))
if [ -n "$need" ] && [ -z "$updated" ]; then
	apt_update
	# shellcheck disable=SC2046
	need=$(missing $(wanted "${serieses[@]}"))
fi
if [ -n "$need" ]; then
	say "installing:" $need
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $need >/dev/null ||
		die "apt-get install failed for: $need"
fi

# Download Debian packages into a fresh directory and unpack them in DEST.
unpack_debs() { # dest package...
	local dest=$1 tmp d
	shift
	tmp=$(mktemp -d)
	# apt-get download writes as the _apt user where it exists.
	id _apt >/dev/null 2>&1 && as_root chown _apt "$tmp"
	(cd "$tmp" && apt-get download -q "$@" >/dev/null) ||
		{ rm -rf "$tmp"; die "apt-get download $* failed"; }
	mkdir -p "$dest"
	for d in "$tmp"/*.deb; do dpkg-deb -x "$d" "$dest"; done
	rm -rf "$tmp"
}

for sr in "${serieses[@]}"; do
	abi=$(stock_abi "$sr")
	[ -n "$abi" ] || die "cannot resolve $(series_meta "$sr")'s kernel ABI from apt (Debian 12 serves 6.12 from bookworm-security: is it in the apt sources?)"
	kdir=$(kernel_dir "$abi")
	if [ ! -f "$kdir/vmlinuz" ]; then
		say "downloading the stock kernel linux-image-$abi"
		rm -rf "$kdir.tmp"
		unpack_debs "$kdir.tmp" "linux-image-$abi"
		rm -rf "$kdir" && mkdir -p "$kdir"
		cp "$kdir.tmp/boot/vmlinuz-$abi" "$kdir/vmlinuz"
		mv "$kdir.tmp/lib/modules/$abi" "$kdir/modules"
		rm -rf "$kdir.tmp"
	fi
	if ! series_headers_installed "$sr" && [ ! -f "$kdir/build/Makefile" ]; then
		# Its headers package depends on its image: unpacked here, the
		# host gets no kernel it would never boot. The tree's Makefile
		# names its common half by an absolute path; point it here.
		say "downloading and unpacking linux-headers-$abi"
		ver=${abi%-amd64}
		rm -rf "$kdir/headers" "$kdir/build"
		unpack_debs "$kdir/headers" "linux-headers-$abi" \
			"linux-headers-$ver-common" "linux-kbuild-$ver"
		sed -i "s#^include /usr/src/#include $kdir/headers/usr/src/#" \
			"$kdir/headers/usr/src/linux-headers-$abi/Makefile"
		ln -s "headers/usr/src/linux-headers-$abi" "$kdir/build"
	fi
	mkdir -p "$EXO_CACHE/kernel"
	printf '%s\n' "$abi" > "$(abi_file "$sr")"
	[ -f "$(kernel_build "$abi")/Makefile" ] ||
		die "$(kernel_build "$abi") missing after installing its headers"
	say "dependencies ready; $sr stock kernel $abi"
done
