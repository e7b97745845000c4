#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install what exo needs from Debian's packages, and unpack Debian's stock
# kernel (linux-image-amd64's current ABI) into the cache for the VM.
# Idempotent: a second run installs and downloads nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v apt-get >/dev/null || die "exo's scripts need Debian (apt-get)"

PKGS=(make gcc libc6-dev cpio gzip xz-utils kmod busybox-static
      qemu-system-x86 linux-source-6.1 sparse perl python3
      clang llvm libbpf-dev bpftool man-db groff-base
      flex bison bc libelf-dev zlib1g-dev
      iproute2 iputils-ping socat netcat-openbsd
      dkms pkgconf)

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

abi=$(stock_abi)
# Anything to fetch: refresh the lists first, so the ABI and the packages
# come from the same, current lists.
if [ -z "$abi" ] || [ ! -f "$(kernel_dir "$abi")/vmlinuz" ] ||
   [ -n "$(missing "${PKGS[@]}" "linux-headers-$abi")" ]; then
	apt_update
	abi=$(stock_abi)
fi
[ -n "$abi" ] || die "cannot resolve linux-image-amd64's kernel ABI from apt"

need=$(missing "${PKGS[@]}" "linux-headers-$abi")
if [ -n "$need" ]; then
	say "installing:" $need
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $need >/dev/null ||
		die "apt-get install failed for: $need"
fi

kdir=$(kernel_dir "$abi")
if [ ! -f "$kdir/vmlinuz" ]; then
	say "downloading the stock kernel linux-image-$abi"
	tmp=$(mktemp -d)
	# apt-get download writes as the _apt user where it exists.
	id _apt >/dev/null 2>&1 && as_root chown _apt "$tmp"
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download -q "linux-image-$abi" >/dev/null) ||
		die "apt-get download linux-image-$abi failed"
	mkdir -p "$tmp/x"
	dpkg-deb -x "$tmp"/linux-image-*.deb "$tmp/x"
	rm -rf "$kdir" && mkdir -p "$kdir"
	cp "$tmp/x/boot/vmlinuz-$abi" "$kdir/vmlinuz"
	mv "$tmp/x/lib/modules/$abi" "$kdir/modules"
fi
printf '%s\n' "$abi" > "$EXO_CACHE/kernel/abi"
[ -d "/lib/modules/$abi/build" ] || die "/lib/modules/$abi/build missing after installing linux-headers-$abi"
say "dependencies ready; stock kernel $abi"
