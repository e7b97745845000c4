#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Print the directory holding the files exo takes from Debian's
# linux-source-6.1 (kselftest harness, checkpatch, kernel-doc), extracting
# them into the cache on first use.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ksrc_extract
ksrc_dir
