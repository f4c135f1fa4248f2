"""Simulator and Lite-reader speed and memory: prints a table (no assertions).

Usage: ``python benchmarks/bench_io.py [--days N] [--seed S]``

Measures, for full simulated days: soundings per day and the quality-pass fraction, the
time to simulate a day in memory and to write it as a B11 Lite file, the time to read the
file back (``quality="all"`` and ``"good"``), the memory of the read table
(``DataFrame.memory_usage(deep=True)``) and the peak RSS of a fresh process reading one day.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from oco2explore.lite import read_lite
from oco2explore.simulate import simulate, simulate_day

#: A fresh interpreter reading one file: RSS after the imports and at the end (MiB).
#: VmHWM, not ru_maxrss: the latter survives exec and would report the parent's peak.
_RSS_PROBE = """
import re, sys
import netCDF4, oco2explore.lite as lite
def hwm():
    return int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
base = hwm()
df = lite.read_lite(sys.argv[1], quality="all")
print(base / 1024, hwm() / 1024)
"""


def _timed(func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=2, help="days to simulate (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", default="2016-08-31")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for d in range(args.days):
            day = pd.Timestamp(args.start) + pd.Timedelta(days=d)
            (soundings, truth), t_mem = _timed(simulate_day, day, seed=args.seed)
            out = Path(tmp) / f"day{d}"
            (paths,), t_file = _timed(simulate, out, days=1, seed=args.seed, start=str(day.date()))
            table, t_all = _timed(read_lite, paths, quality="all")
            good, t_good = _timed(read_lite, paths, quality="good")
            probe = subprocess.run(
                [sys.executable, "-c", _RSS_PROBE, str(paths)],
                capture_output=True,
                text=True,
                check=True,
            )
            base_mib, peak_mib = (float(v) for v in probe.stdout.split())
            rows.append(
                {
                    "day": str(day.date()),
                    "soundings": len(table),
                    "good_fraction": round(len(good) / len(table), 3),
                    "orbits": table["orbit"].nunique(),
                    "truth_plumes": len(truth),
                    "sim_memory_s": round(t_mem, 2),
                    "sim_to_file_s": round(t_file, 2),
                    "file_MB": round(paths.stat().st_size / 1e6, 1),
                    "read_all_s": round(t_all, 2),
                    "read_good_s": round(t_good, 2),
                    "table_all_MB": round(table.memory_usage(deep=True).sum() / 1e6, 1),
                    "table_good_MB": round(good.memory_usage(deep=True).sum() / 1e6, 1),
                    "rss_imports_MiB": round(base_mib),
                    "rss_peak_MiB": round(peak_mib),
                }
            )
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
