"""Every benchmark, one table at the end (issue 11): ``.venv/bin/python -m benchmarks`` (``make bench``).

1. benchmarks/pages.py: page latency in gunicorn and SQL per page on PostgreSQL (the province, its SQL counted at
   the small scale too) and on SQLite (one 300-company base), and 100 monthly report submissions at once;
2. benchmarks/quarterly_filing.py: the quarterly filing of a 300-company base and the job over 200 bases (SQLite
   in a temporary folder, or DATABASE_URL), run in its own process;
3. benchmarks/attendance_month.py: the attendance month of 200 workstation people (its own small SQLite base).

Takes the options of benchmarks/pages.py (``--help``), plus ``--skip-filing`` and ``--skip-attendance``. The PostgreSQL
databases ``bench_province`` and ``bench_small`` are generated on the first run (minutes) and kept.
"""
import json
import os
import subprocess
import sys
import tempfile

from benchmarks import pages

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _module(name, *arguments):
    """Run ``python -m benchmarks.<name>`` in its own process, its output shown as it comes. Returns the output."""
    print(f"\n$ python -m benchmarks.{name} {' '.join(arguments)}", flush=True)
    process = subprocess.Popen([sys.executable, "-m", f"benchmarks.{name}", *arguments], cwd=PROJECT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in process.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    if process.wait():
        raise SystemExit(f"benchmarks.{name} failed (exit {process.returncode})")
    return "".join(lines)


def filing_lines(summary):
    """The quarterly filing's headline numbers as lines of the final table."""
    jobs = summary["jobs"]
    lines = [f"Quarterly filing ({summary['database']}): generate() of a 300-company base median "
             f"{summary['generate_median_ms']:.0f} ms, p95 {summary['generate_p95_ms']:.0f} ms "
             f"({summary['generate_sql']} SQL; target < 1 s: "
             f"{pages.verdict(summary['generate_p95_ms'] < 1000)}); floor (1 aggregate query + xlsx) median "
             f"{summary['floor_median_ms']:.1f} ms, p95 {summary['floor_p95_ms']:.1f} ms: "
             f"{summary['ratio_median']:.0f}x the floor at the median, {summary['ratio_p95']:.0f}x at p95 "
             f"(target <= 2x: {pages.verdict(summary['ratio_median'] <= 2)})"]
    if jobs:
        sizes = sorted(jobs, key=int)
        largest = jobs[sizes[-1]]
        lines.append(f"Quarterly filing job over {sizes[-1]} bases: {largest['seconds']:.1f} s (target < 30 s: "
                     f"{pages.verdict(largest['seconds'] < 30)}), ms per base median {largest['median_ms']:.0f}, "
                     f"p95 {largest['p95_ms']:.0f}; RSS growth "
                     + " / ".join(f"{jobs[size]['rss_growth_mib']:.1f}" for size in sizes)
                     + f" MiB over {' / '.join(sizes)} bases (target: flat)")
    return lines


def main(argv=None):
    parser = pages.build_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--skip-filing", action="store_true", help="without benchmarks/quarterly_filing.py")
    parser.add_argument("--skip-attendance", action="store_true", help="without benchmarks/attendance_month.py")
    args = parser.parse_args(argv)
    results, sql_scales, header, _ = pages.run(args, table=False)
    extra = []
    if not args.skip_filing:
        with tempfile.NamedTemporaryFile(suffix=".json") as summary_file:
            _module("quarterly_filing", "--summary", summary_file.name)
            with open(summary_file.name) as summary:
                extra += filing_lines(json.load(summary))
    if not args.skip_attendance:
        output = _module("attendance_month")
        for line in output.splitlines():
            if line.startswith("attendance month"):
                median, p95, sql = line.split()[-3:]
                extra.append(f"Attendance month of 200 workstation people (benchmarks/attendance_month.py, SQLite, "
                             f"in-process): median {median} ms, p95 {p95} ms, {sql} SQL (target < 200 ms)")
    print("\n" + header + "\n")
    return pages.print_table(results, sql_scales, filing="\n".join(extra) or None)


if __name__ == "__main__":
    main()
