#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# exo's main job (make demo): install what is missing, build exo.ko against
# Debian's stock kernel, the example library OSes and the packet handlers
# they download, boot the stock kernel under QEMU, load the module and run
# the examples, which print what they did. EXO_KERNEL_SERIES=6.12 boots
# Debian's 6.12 instead of 6.1.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$EXO_TOP"

sr=$(series)
"$EXO_TOP/scripts/deps.sh" "$sr"
abi=$(cached_abi "$sr")
say "building exo.ko against $abi, libexo, the example library OSes, the handlers and exoctl"
mkdir -p "$EXO_BUILD"
make -s KDIR="$(kernel_build "$abi")" module libexo examples bpf-filters exoctl \
	> "$EXO_BUILD/make-demo.log" 2>&1 || {
	cat "$EXO_BUILD/make-demo.log"
	die "build failed"
}
if "$EXO_TOP/scripts/vm.sh" demo; then
	say "demo finished; the guest's console is in build/vm-demo.log"
else
	die "the demo failed; the guest's console is in build/vm-demo.log"
fi
