#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Hold libexo's man pages to Documentation/uapi.rst's "Errors by command".

For each command the table names a wrapper (its man page, following .so
links; "none" for a command used only inside libexo) and the command's
own errors; the man page's ERRORS section must list each of them. Prints one line per problem, nothing when all
agree.
"""
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAN = os.path.join(TOP, "libexo", "man")


def table(path):
    """{command: (wrapper, set of errnos)} from the "Errors by command" table."""
    text = open(path, encoding="utf-8").read()
    start = text.index("Errors by command")
    rows = {}
    for line in text[start:].splitlines():
        m = re.match(r"``(EXO_IOC_\w+)``\s+(\w+)(?:\(3\))?\s+(.*)$", line)
        if m:
            rows[m.group(1)] = (m.group(2), set(re.findall(r"``(E[A-Z0-9]+)``", m.group(3))))
        elif rows and line.startswith("Handshake"):
            break
    return rows


def man_errors(name, seen=()):
    """The errnos a man page's ERRORS section lists (.B EXXX items)."""
    path = os.path.join(MAN, name + ".3")
    if not os.path.exists(path):
        return None
    text = open(path, encoding="utf-8").read()
    so = re.match(r"\.so\s+man3/(\S+)\.3", text)
    if so and so.group(1) not in seen:
        return man_errors(so.group(1), seen + (name,))
    m = re.search(r"^\.SH ERRORS\n(.*?)(?=^\.SH |\Z)", text, re.S | re.M)
    return set(re.findall(r"^\.B (E[A-Z0-9]+)\b", m.group(1), re.M)) if m else set()


def main():
    rows = table(os.path.join(TOP, "Documentation", "uapi.rst"))
    if not rows:
        print("Documentation/uapi.rst: no \"Errors by command\" table")
        return 1
    bad = 0
    for cmd, (wrapper, errs) in sorted(rows.items()):
        if wrapper == "none":
            continue
        listed = man_errors(wrapper)
        if listed is None:
            print(f"{cmd}: no man page {wrapper}(3)")
            bad += 1
            continue
        missing = sorted(errs - listed)
        if missing:
            print(f"{cmd}: {wrapper}(3) ERRORS lacks {' '.join(missing)}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
