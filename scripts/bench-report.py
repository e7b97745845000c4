#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The benchmarks' tables as a CSV file and plots.

scripts/bench-report.py [--cpu-model MODEL] [--out DIR] [--goals FILE]
                        [--no-plots] LOG...

Reads the console logs of `make bench` runs (build/vm-bench.log, or the
output of make bench itself) and writes DIR/results.csv (default DIR:
build/bench) with one line per benchmark row and column, then, with
gnuplot, DIR/demux.{png,svg}, DIR/ash-echo.{png,svg} and
DIR/ratios.{png,svg} (with the data files and the gnuplot script that
drew them). Prints the paths it wrote. Documentation/benchmarks.rst
describes the CSV's fields and the plots.

The guest's CPU under TCG says nothing about the machine that ran it, so
the host's CPU model is passed in (--cpu-model; make bench passes the
"model name" of the host's /proc/cpuinfo) and written on every line.
Give one log per kernel series to compare series: a row measured twice on
one series and accelerator is plotted from the last log that has it.
"""

import argparse
import csv
import math
import os
import re
import shutil
import subprocess
import sys

FIELDS = ["program", "row", "column", "median_us", "p99_us", "ratio",
          "accelerator", "kernel", "series", "cpu_model", "date",
          "skipped", "skip_reason"]

# The programs whose rows the ratio plot shows (DEMUX and ASH-ECHO have
# plots of their own).
RATIO_PROGRAMS = ("exo-vm-bench", "exo-call-bench", "exo-ipc-bench")

ANSI = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|[A-Za-z])")
HEADER = re.compile(r"(exo-[a-z]+-bench): accelerator (\S+), kernel (\S+), "
                    r"\d+ cpus, (.+?)\s*$")
END = re.compile(r"^(exo-[a-z]+-bench): (OK|FAILED)")
# A row: its name, what bench.c's print_out() printed, the tag.
ROW = re.compile(r"^(\S+)\s+(.*) \(([^(),]+), ([^(),]+)\)\s*$")
COL = re.compile(r"^(.+?) median (\S+) p99 (\S+)$")
COL_SKIPPED = re.compile(r"^(.+?) skipped$")
# "# DIRTY: pagemap-scan skipped: why", printed before the row's lines.
SKIP_WHY = re.compile(r"^# (\S+): (.+?) skipped: (.*?)\s*$")
# "#   (10000 rounds + 1000 warm-up, 2.7s)": the row is over.
ROUNDS = re.compile(r"^#\s+\(\d+ rounds")
TIME = re.compile(r"^([0-9]+(?:\.[0-9]*)?)(ns|us|µs|ms|s)$")
UNIT_US = {"ns": 1e-3, "us": 1.0, "µs": 1.0, "ms": 1e3, "s": 1e6}


def die(msg):
    print("error: " + msg, file=sys.stderr)
    sys.exit(1)


def to_us(text, where):
    """bench.c's us(): "4.39us", "158.8us", "7836us"; other units too."""
    m = TIME.match(text)
    if not m:
        die("%s: cannot read the time %r" % (where, text))
    return float(m.group(1)) * UNIT_US[m.group(2)]


def num(v, sig=None):
    """A number without an exponent: sig significant digits if given."""
    if v is None:
        return ""
    if sig is not None and v != 0:
        decimals = max(0, sig - 1 - int(math.floor(math.log10(abs(v)))))
        s = "%.*f" % (decimals, v)
    else:
        s = "%.6f" % v
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def series_of(tag, kernel):
    """The tag's series ("6.12"); from the release if the tag has none."""
    if re.match(r"^\d+\.\d+$", tag):
        return tag
    m = re.match(r"^(\d+\.\d+)", kernel)
    return m.group(1) if m else ""


def parse_logs(paths, cpu_model):
    records = []
    seen = set()
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError as e:
            die("cannot read %s: %s" % (path, e.strerror))
        block = None    # the program whose lines these are, or None
        why = {}        # column -> why it was skipped, for the current row
        for n, raw in enumerate(lines, 1):
            line = ANSI.sub("", raw).rstrip("\r")
            where = "%s:%d" % (path, n)
            m = HEADER.search(line)
            if m:
                prog, accel, kernel, date = m.groups()
                key = (prog, kernel, date)
                # make bench's own output repeats the tables after the
                # console: a program's run is read once.
                block = None if key in seen else {
                    "program": prog, "accelerator": accel,
                    "kernel": kernel, "date": date}
                seen.add(key)
                why = {}
                continue
            if END.match(line):
                block = None
                continue
            if block is None:
                continue
            m = SKIP_WHY.match(line)
            if m:
                why[m.group(2)] = m.group(3)
                continue
            if ROUNDS.match(line):
                why = {}
                continue
            if line.startswith("#"):
                continue
            m = ROW.match(line)
            if not m:
                continue
            row, body, _, tag = m.groups()
            base = dict(block, row=row, cpu_model=cpu_model,
                        series=series_of(tag.strip(), block["kernel"]))
            records.extend(parse_row(body, why, base, where))
    return records


def parse_row(body, why, base, where):
    """One row's line: its columns, each a CSV record."""
    def rec(column, median=None, p99=None, ratio=None, skipped=None):
        return dict(base, column=column, median_us=median, p99_us=p99,
                    ratio=ratio, skipped="yes" if skipped else "",
                    skip_reason=skipped or "")

    # The whole row skipped: "skipped: why" (exo-net-bench), or "skipped"
    # after "# ROW: exo skipped: why" (bench.c, exo's column skipped).
    m = re.match(r"^skipped(?:: (.*))?$", body)
    if m:
        col, reason = next(iter(why.items()), ("", ""))
        return [rec(col, skipped=m.group(1) or reason or "skipped")]
    parts = body.split(" | ")
    if not parts[-1].startswith("ratio "):
        return []       # not a row of figures (DEMUX's lost packets)
    cols = []
    for p in parts[:-1]:
        m = COL.match(p)
        if m:
            cols.append((m.group(1), to_us(m.group(2), where),
                         to_us(m.group(3), where), None))
            continue
        m = COL_SKIPPED.match(p)
        if not m:
            die("%s: cannot read the column %r" % (where, p))
        cols.append((m.group(1), None, None,
                     why.get(m.group(1)) or "skipped"))
    out = []
    exo = cols[0][1]
    for i, (name, med, p99, skipped) in enumerate(cols):
        ratio = None
        if i and exo is not None and med:
            ratio = exo / med
        out.append(rec(name, med, p99, ratio, skipped))
    return out


def write_csv(records, path):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
        w.writeheader()
        for r in records:
            w.writerow(dict(r, median_us=num(r["median_us"]),
                            p99_us=num(r["p99_us"]),
                            ratio=num(r["ratio"], sig=4)))


def read_goals(path):
    goals = []
    try:
        with open(path, encoding="utf-8") as f:
            lines = [ln for ln in f if ln.strip() and not ln.startswith("#")]
    except OSError as e:
        die("cannot read %s: %s" % (path, e.strerror))
    for g in csv.DictReader(lines):
        try:
            goals.append((g["row"], g["column"], float(g["goal"]),
                          g.get("issue", "")))
        except (KeyError, TypeError, ValueError):
            die("%s: bad line %r" % (path, g))
    return goals


# Plots -------------------------------------------------------------------

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
          "#8c564b", "#e377c2", "#7f7f7f"]
SERIES_FILL = ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]


def version_key(s):
    return tuple(int(x) if x.isdigit() else 0 for x in re.split(r"[.]", s))


class Runs:
    """The records grouped by run: kernel series (and accelerator)."""

    def __init__(self, records):
        self.records = records
        accels = sorted({r["accelerator"] for r in records})
        self.groups = sorted({(r["series"], r["accelerator"])
                              for r in records},
                             key=lambda g: (version_key(g[0]), g[1]))
        self.label = {g: g[0] if len(accels) == 1 else "%s %s" % g
                      for g in self.groups}
        self.accels = accels
        self.cpus = sorted({r["cpu_model"] for r in records if r["cpu_model"]})
        # (group, row, column) -> record; the last one wins.
        self.at = {}
        for r in records:
            self.at[(r["series"], r["accelerator"]), r["row"],
                    r["column"]] = r

    def get(self, group, row, column):
        return self.at.get((group, row, column))

    def rows(self, pred):
        """Rows in order of first appearance, each with its columns."""
        out = {}
        for r in self.records:
            if pred(r):
                cols = out.setdefault(r["row"], [])
                if r["column"] and r["column"] not in cols:
                    cols.append(r["column"])
        return out

    def where(self):
        s = "accelerator " + "/".join(self.accels)
        if self.cpus:
            s += ", host CPU " + "; ".join(self.cpus)
        return s


def gp_str(s):
    """A gnuplot double-quoted string (in which \\n is a new line)."""
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"') \
        .replace("\n", "\\n")


def val(v):
    return "?" if v is None else num(v)


def terminals(stem, w, h):
    """(set terminal + output lines, path) for the PNG and the SVG."""
    return [("set terminal pngcairo size %d,%d noenhanced font ',10'\n"
             "set output %s\n" % (w, h, gp_str(stem + ".png")), stem + ".png"),
            ("set terminal svg size %d,%d dynamic noenhanced "
             "font 'sans,11' background '#ffffff'\n"
             "set output %s\n" % (w, h, gp_str(stem + ".svg")), stem + ".svg")]


def sweep_plot(runs, outdir, name, prefix, xlabel, ylabel, title, logx,
               logy):
    """Median against N for rows PREFIX-N, one line per column and run."""
    pat = re.compile("^" + re.escape(prefix) + r"-(\d+)$")
    rows = runs.rows(lambda r: pat.match(r["row"]))
    if not rows:
        return None
    columns = []
    for cols in rows.values():
        columns += [c for c in cols if c not in columns]
    xs = sorted(rows, key=lambda k: int(pat.match(k).group(1)))
    dat = os.path.join(outdir, name + ".dat")
    with open(dat, "w", encoding="utf-8") as f:
        f.write("# %s: median microseconds; x, then %s\n"
                % (prefix, ", ".join(columns)))
        for g in runs.groups:
            f.write("# %s\n" % runs.label[g])
            for row in xs:
                vals = []
                for c in columns:
                    r = runs.get(g, row, c)
                    vals.append(val(r["median_us"] if r else None))
                f.write("%s %s\n" % (pat.match(row).group(1),
                                     " ".join(vals)))
            f.write("\n\n")
    plots = []
    for gi, g in enumerate(runs.groups):
        for ci, c in enumerate(columns):
            if all(runs.get(g, row, c) is None or
                   runs.get(g, row, c)["median_us"] is None for row in xs):
                continue    # skipped or not run on this kernel
            plots.append("%s index %d using 1:%d with linespoints "
                         "lc rgb %s dt %d pt %d lw 2 title %s"
                         % (gp_str(dat), gi, ci + 2,
                            gp_str(COLORS[ci % len(COLORS)]),
                            gi + 1, 7 + gi * 2,
                            gp_str("%s (%s)" % (c, runs.label[g]))))
    xv = [int(pat.match(k).group(1)) for k in xs]
    body = "set datafile missing '?'\n"
    body += "set title %s\n" % gp_str("%s\n%s" % (title, runs.where()))
    body += "set xlabel %s\nset ylabel %s\n" % (gp_str(xlabel),
                                                gp_str(ylabel))
    body += "set grid\nset key outside right top\n"
    body += "set xtics (%s)\n" % ", ".join('"%d" %d' % (x, x) for x in xv)
    if logx:
        body += "set logscale x\nset xrange [%g:%g]\n" % (
            min(xv) / 1.5, max(xv) * 1.5)
    else:
        span = max(xv) - min(xv) or 1
        body += "set xrange [%g:%g]\n" % (min(xv) - span * 0.05,
                                          max(xv) + span * 0.05)
    if logy:
        body += "set logscale y\n"
    else:
        body += "set yrange [0:*]\n"
    body += "plot " + ", \\\n     ".join(plots) + "\n"
    return name, body, 1100, 600


def ratio_plot(runs, goals, outdir):
    """exo over the first Linux column for each row, goals marked."""
    rows = runs.rows(lambda r: r["program"] in RATIO_PROGRAMS)
    entries = []    # (label, row, column, goal)
    goal_at = {(g[0], g[1]): g[2] for g in goals}
    for row, cols in rows.items():
        if len(cols) < 2:
            continue
        entries.append((row, row, cols[1], goal_at.get((row, cols[1]))))
        for grow, gcol, goal, _ in goals:
            if grow == row and gcol != cols[1] and gcol in cols:
                entries.append(("%s vs %s" % (row, gcol), row, gcol, goal))
    if not entries:
        return None
    values = []
    table = []
    for label, row, col, goal in entries:
        rs = []
        for g in runs.groups:
            r = runs.get(g, row, col)
            rs.append(r["ratio"] if r else None)
        values += [v for v in rs if v] + ([goal] if goal else [])
        table.append((label, rs, goal))
    if not values:
        return None
    lo = min(values) / 1.4
    hi = max(values) * 1.4
    n = len(runs.groups)
    width = 0.8 / n
    dat = os.path.join(outdir, "ratios.dat")
    with open(dat, "w", encoding="utf-8") as f:
        f.write("# x, label, exo median / the Linux column's median for "
                "%s, the goal ('?': none)\n"
                % ", ".join(runs.label[g] for g in runs.groups))
        for i, (label, rs, goal) in enumerate(table):
            f.write("%d %s %s %s\n" % (i, gp_str(label),
                                       " ".join(val(v) for v in rs),
                                       val(goal)))
    plots = []
    for gi, g in enumerate(runs.groups):
        off = (gi - (n - 1) / 2) * width
        xtic = ":xtic(2)" if gi == 0 else ""
        plots.append("%s using ($1%+g):%d:($1%+g):($1%+g):(%g):%d%s "
                     "with boxxyerror fs solid 0.85 border lc rgb %s "
                     "lc rgb %s title %s"
                     % (gp_str(dat), off, gi + 3, off - width / 2,
                        off + width / 2, lo, gi + 3, xtic,
                        gp_str("#333333"),
                        gp_str(SERIES_FILL[gi % len(SERIES_FILL)]),
                        gp_str("exo / Linux, %s" % runs.label[g])))
    gcol = n + 3
    plots.append("%s using ($1-0.45):%d:(0.9):(0) with vectors nohead "
                 "lw 3 lc rgb 'black' title 'goal (Documentation/benchmarks.rst)'"
                 % (gp_str(dat), gcol))
    body = "set datafile missing '?'\n"
    body += "set title %s\n" % gp_str(
        "exo's median over the first Linux column's (or the column named)"
        ": below 1, exo is faster\n%s" % runs.where())
    body += "set ylabel 'exo / Linux (log scale)'\n"
    body += "set logscale y\nset yrange [%g:%g]\n" % (lo, hi)
    tics = [m * 10.0 ** e for e in range(int(math.floor(math.log10(lo))),
                                         int(math.ceil(math.log10(hi))) + 1)
            for m in (1, 1.5, 2, 3, 5, 7)]
    body += "set ytics (%s)\n" % ", ".join(
        '"%s" %s' % (num(t), num(t)) for t in tics if lo <= t <= hi)
    body += "set xrange [-0.7:%g]\n" % (len(table) - 0.3)
    body += "set xtics rotate by 60 right nomirror font ',9'\n"
    body += "set grid ytics\nset key top left opaque\n"
    body += "set arrow from graph 0, first 1 to graph 1, first 1 nohead " \
            "dt 2 lw 1.5 lc rgb '#555555' back\n"
    body += "plot " + ", \\\n     ".join(plots) + "\n"
    return "ratios", body, max(900, 40 * len(table) * max(1, n) // 2 + 300), \
        650


def plot(records, goals, outdir):
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        die("gnuplot not found: install Debian's gnuplot-nox "
            "(scripts/deps.sh installs it)")
    runs = Runs(records)
    specs = [
        sweep_plot(runs, outdir, "demux", "DEMUX",
                   "claims (ports with a claim each)",
                   "median time per packet received (us)",
                   "DEMUX-N: demultiplexing cost against the number of "
                   "claims", True, True),
        sweep_plot(runs, outdir, "ash-echo", "ASH-ECHO",
                   "busy processes on the CPU",
                   "median round trip (us)",
                   "ASH-ECHO-N: UDP echo round trip against busy processes",
                   False, False),
        ratio_plot(runs, goals, outdir),
    ]
    script = ""
    written = []
    for spec in specs:
        if spec is None:
            continue
        name, body, w, h = spec
        for term, path in terminals(os.path.join(outdir, name), w, h):
            script += "reset\n" + term + body + "unset output\n"
            written.append(path)
    if not written:
        return []
    gp = os.path.join(outdir, "plots.gp")
    with open(gp, "w", encoding="utf-8") as f:
        f.write("# Written by scripts/bench-report.py; "
                "gnuplot plots.gp draws the plots again.\n" + script)
    for path in written:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    p = subprocess.run([gnuplot, gp], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, check=False)
    if p.returncode != 0:
        die("gnuplot %s failed:\n%s" % (gp, p.stdout))
    for path in written:
        if not os.path.isfile(path) or os.path.getsize(path) == 0:
            die("gnuplot wrote no %s:\n%s" % (path, p.stdout))
    return written


def main():
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(
        description="Write results.csv and the plots from make bench logs.")
    ap.add_argument("logs", nargs="+", metavar="LOG")
    ap.add_argument("--cpu-model", default="",
                    help="the host's CPU model, written on every line")
    ap.add_argument("--out", default=os.path.join(top, "build", "bench"),
                    help="where to write (default: build/bench)")
    ap.add_argument("--goals", default=os.path.join(top, "bench",
                                                    "goals.csv"))
    ap.add_argument("--no-plots", action="store_true",
                    help="write the CSV only")
    args = ap.parse_args()

    records = parse_logs(args.logs, args.cpu_model.strip())
    if not records:
        die("no benchmark rows in %s" % " ".join(args.logs))
    os.makedirs(args.out, exist_ok=True)
    out = os.path.join(args.out, "results.csv")
    write_csv(records, out)
    written = [out]
    if not args.no_plots:
        written += plot(records, read_goals(args.goals), args.out)
    for path in written:
        print(path)


if __name__ == "__main__":
    main()
