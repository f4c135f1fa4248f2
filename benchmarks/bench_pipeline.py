"""End-to-end speed of the batch (read + detect + match + write) with 1 and 2 Dask workers.

Simulates ``--days`` full days of OCO-2 Lite files (cached in ``--data``), runs
:func:`oco2explore.pipeline.run_pipeline` from scratch on a LocalCluster of 1,
then 2, worker processes, and prints soundings per second, the speed-up and
where the time goes: read/scan/match/write summed over the workers (so their
sum exceeds the wall time with 2 workers); ``cluster`` is starting the
LocalCluster, ``catalogue`` the client's monthly tables; ``other`` is hashing,
worker imports and scheduling. ``speedup_run`` leaves out the cluster start;
``cpu`` is the CPU time of the worker tasks: well below the sum of the stages
means the workers did not get a core each (other load on the machine).

    python benchmarks/bench_pipeline.py [--days 6] [--workers 1 2] [--data DIR]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path

from oco2explore.config import FitConfig
from oco2explore.pipeline import STAGES, run_pipeline
from oco2explore.simulate import simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=12, help="simulated days (default 12)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--data", type=Path, help="folder of simulated files (cached)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    data = args.data or Path(tempfile.gettempdir()) / f"oco2explore-bench-{args.days}d"
    if len(list(data.glob("*.nc4"))) < args.days:
        print(f"simulating {args.days} day(s) into {data} ...")
        simulate(data, days=args.days, seed=0, start="2016-08-31")
    files = sorted(data.glob("*.nc4"))
    size_mb = sum(f.stat().st_size for f in files) / 1e6
    print(f"{len(files)} Lite files, {size_mb:.1f} MB, config {FitConfig().digest()}")

    header = ["workers", "soundings", "wall_s", "snd_per_s", "speedup", "speedup_run"]
    header += [f"{s}_s" for s in (*STAGES, "cpu", "cluster", "catalogue")] + ["other_s"]
    rows = []
    base = base_run = None
    for n in args.workers:
        with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as out:
            report = run_pipeline(data, out, FitConfig(), workers=n, progress=False)
        assert not report.failed, report.failed
        sec = report.seconds
        rate = report.n_soundings / sec["wall"]
        rate_run = report.n_soundings / (sec["wall"] - sec["cluster"])
        base, base_run = base or rate, base_run or rate_run
        busy = sum(sec[s] for s in STAGES) / n + sec["cluster"] + sec["catalogue"]
        rows.append(
            [n, report.n_soundings, sec["wall"], rate, rate / base, rate_run / base_run]
            + [sec[s] for s in (*STAGES, "cpu", "cluster", "catalogue")]
            + [max(sec["wall"] - busy, 0.0)]
        )
    print(" ".join(f"{h:>11s}" for h in header))
    for row in rows:
        print(" ".join(f"{v:>11d}" if isinstance(v, int) else f"{v:>11.2f}" for v in row))


if __name__ == "__main__":
    main()
