#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make htmldocs: build Documentation/ into HTML with Debian's Sphinx
# (python3-sphinx), the uapi's structs pulled in by the kernel's own
# kernel-doc directive (Documentation/sphinx/kerneldoc.py and
# scripts/kernel-doc from linux-source-6.1, extracted into the cache by
# ksrc_extract). Warnings are errors: any warning of Sphinx's or of
# kernel-doc's fails the build, and so does a struct, enum or union of
# uapi/linux/exo.h without a kernel-doc comment.
#   scripts/htmldocs.sh [-q] [OUTDIR]   (default build/htmldocs)
# -q prints nothing but the problems (host.htmldocs in scripts/check.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

quiet=
if [ "${1:-}" = -q ]; then quiet=1; shift; fi
out=${1:-$EXO_BUILD/htmldocs}
# Quiet: no progress messages (lib.sh's say), errors still.
[ -z "$quiet" ] || say() { :; }

command -v sphinx-build >/dev/null ||
	die "sphinx-build missing: run scripts/deps.sh (it installs python3-sphinx)"
ksrc_extract
EXO_KSRC_DOCS=$(ksrc_dir)
export EXO_KSRC_DOCS

# Every struct, enum and union of the uapi carries kernel-doc, so that the
# entry page's "The user-space API" shows all of them.
undocumented=$(comm -23 \
	<(sed -nE 's/^(struct|enum|union) ([a-z0-9_]+) \{.*/\1 \2/p' "$EXO_TOP/uapi/linux/exo.h" | sort -u) \
	<(sed -nE 's/^ \* (struct|enum|union) ([a-z0-9_]+) -.*/\1 \2/p' "$EXO_TOP/uapi/linux/exo.h" | sort -u))
[ -z "$undocumented" ] ||
	die "uapi/linux/exo.h: no kernel-doc comment for: ${undocumented//$'\n'/, }"

# Always from scratch (-E -a): Sphinx warns only about what it reads, and
# a document kept from an earlier build would hide its warnings. Only a
# directory Sphinx wrote is removed.
if [ -d "$out" ] && [ -n "$(ls -A "$out")" ] &&
   [ ! -e "$out/.buildinfo" ] && [ ! -d "$out/.doctrees" ]; then
	die "$out is not empty and not a Sphinx build: not removing it"
fi
rm -rf "$out"
mkdir -p "$out"
say "sphinx-build $(sphinx-build --version 2>&1 | awk '{ print $NF }') -W: Documentation/ into $out"
errs=$out/.warnings
set +e
sphinx-build -q -W --keep-going -E -a -b html -d "$out/.doctrees" \
	"$EXO_TOP/Documentation" "$out" 2> "$errs"
rc=$?
set -e
if [ "$rc" -ne 0 ] || [ -s "$errs" ]; then
	cat "$errs" >&2
	die "the documentation has warnings (errors here; kernel-doc's too): see above"
fi
rm -f "$errs"
say "HTML in $out/index.html"
