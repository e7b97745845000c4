#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The benchmark tables of Documentation/benchmarks.rst, from a results.csv.

scripts/bench-rst.py [--goals FILE] [--out FILE] CSV

Reads a results.csv that scripts/bench-report.py wrote (make bench's
build/bench/results.csv; the published one is
Documentation/bench/results.csv) and writes reStructuredText: for each
program and run (kernel series and accelerator), a table with one line per
row and Linux column: exo's median, the column's median, their ratio and,
where bench/goals.csv sets one, the goal and whether it is met. The
documentation includes the output (make check compares it with what this
script makes of the CSV), so its figures are the CSV's and nothing else.
"""

import argparse
import csv
import importlib.util
import os
import sys

HEAD = ("row", "Linux column", "exo median", "Linux median", "ratio", "goal")


def load_report():
    """scripts/bench-report.py as a module: its reader of bench/goals.csv."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "bench-report.py")
    spec = importlib.util.spec_from_file_location("bench_report", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


report = load_report()
die = report.die


def read_goals(path):
    """(row, column) -> goal."""
    return {(row, col): goal for row, col, goal, _ in report.read_goals(path)}


def us(v):
    return v + " us" if v else ""


def table(lines):
    """A simple reST table of HEAD and LINES (tuples of strings)."""
    widths = [max(len(x) for x in col) for col in zip(HEAD, *lines)]
    rule = "  ".join("=" * w for w in widths)

    def fmt(cells):
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    return [rule, fmt(HEAD), rule] + [fmt(ln) for ln in lines] + [rule]


def runs_of(records):
    """(program, series, accelerator) -> records, in order of appearance."""
    runs = {}
    for r in records:
        runs.setdefault((r["program"], r["series"], r["accelerator"]),
                        []).append(r)
    return runs


def ratio(v):
    """Three significant digits: the runs' noise is larger than that."""
    return "%.3g" % float(v) if v else ""


def run_lines(recs, goals, skips):
    lines = []
    exo = {}
    last = None     # the row named on the line before: named once
    for r in recs:
        row, col = r["row"], r["column"]
        if row not in exo:
            exo[row] = r
            if r["skipped"]:
                lines.append((row, "", "skipped", "", "", ""))
                skips.append((row, "exo", r["skip_reason"]))
                last = row
            continue
        first = exo[row]
        shown = row if row != last else ""
        last = row
        goal = goals.get((row, col))
        verdict = ""
        if goal is not None:
            verdict = "<= %g" % goal
            if r["ratio"] and not first["skipped"]:
                verdict += ", met" if float(r["ratio"]) <= goal \
                    else ", missed"
        if r["skipped"]:
            lines.append((shown, col, us(first["median_us"]), "skipped",
                          "", verdict))
            skips.append((row, col, r["skip_reason"]))
        else:
            lines.append((shown, col, us(first["median_us"]),
                          us(r["median_us"]), ratio(r["ratio"]), verdict))
    return lines


def rst(records, goals, source):
    out = [".. SPDX-License-Identifier: GPL-2.0",
           "",
           ".. Written by scripts/bench-rst.py from %s; do not edit:"
           % source,
           "   make bench for each kernel series, then make bench-publish.",
           ""]
    for (prog, series, accel), recs in runs_of(records).items():
        first = recs[0]
        out += [".. rubric:: %s on %s (%s), %s" % (prog, first["kernel"],
                                                  accel, first["date"]),
                ""]
        if first["cpu_model"]:
            out += ["Host CPU: %s. Medians; ratio: exo's median over the "
                    "Linux column's (below 1, exo is faster)."
                    % first["cpu_model"], ""]
        skips = []
        out += table(run_lines(recs, goals, skips)) + [""]
        for row, col, why in skips:
            out.append("- %s, %s skipped: %s" % (row, col, why))
        if skips:
            out.append("")
    return "\n".join(out)


def main():
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(
        description="Write the benchmark tables as reST from results.csv.")
    ap.add_argument("csv", metavar="CSV")
    ap.add_argument("--goals", default=os.path.join(top, "bench",
                                                    "goals.csv"))
    ap.add_argument("--out", help="write here instead of standard output")
    args = ap.parse_args()
    try:
        with open(args.csv, encoding="utf-8", newline="") as f:
            records = list(csv.DictReader(f))
    except OSError as e:
        die("cannot read %s: %s" % (args.csv, e.strerror))
    if not records or "program" not in records[0]:
        die("%s: no benchmark rows" % args.csv)
    source = os.path.relpath(os.path.abspath(args.csv), top)
    if source.startswith(".."):
        source = os.path.basename(args.csv)
    text = rst(records, read_goals(args.goals), source)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
