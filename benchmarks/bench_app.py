"""Explorer speed: server-side refit + redraw, and what a user waits for in a real browser.

Usage: ``python benchmarks/bench_app.py [--repeat N] [--no-browser]``

Data: the real Highveld stretch of orbit 11522 (``../shared/data/real``) written as a
Lite file, else the demo data. Measures (prints a table, asserts nothing):

* server-side work after a slider change, 200 km window (``half_width_km`` stepping
  around 100 km), in-process: until the window is refitted and redrawn (fit, emission,
  nearest sources, profile, map, result, link and export widgets; the widget
  messages' serialisation is not included), and in all, with the orbit scanned again
  with the new parameters (its peaks, subtracted from the window's fit, follow the
  sliders) and the window refitted if they changed;
* in headless Chromium against ``oco2explore app``: first render (page opened -> fit
  and profile drawn) on a server just started and on a warm server (preheated kernel),
  slider step and window drag -> page updated (the deep link, redrawn last, changed).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "e2e")]

from conftest import REAL_DATA  # noqa: E402
from test_app import real_highveld_lite  # noqa: E402
from test_explorer_e2e import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    open_app,
    start_server,
    stop_server,
    text_changes,
)

from oco2explore.app import Explorer  # noqa: E402

TARGETS = {
    "refit + redraw, server": 50.0,
    "rescan + refit, server": math.nan,
    "slider -> page updated": 300.0,
    "window drag -> page updated": 500.0,
    "first render, preheated kernel": 5000.0,
    "first render, server just started": 5000.0,
}
#: Seconds left to Voilà to preheat the next kernel before the warm page load.
REFILL_WAIT_S = 20.0


def data_root(tmp: Path) -> Path | None:
    """The real Highveld Lite file in ``tmp``, or None (demo data) without the real data."""
    if not REAL_DATA.is_dir():
        return None
    real_highveld_lite(REAL_DATA, tmp)
    return tmp


def server_side(data: Path | None, repeat: int) -> dict[str, list[float]]:
    """Milliseconds per slider change in-process: to the window redrawn, and in all."""
    app = Explorer(data, basemap=False)
    app.start("")
    orbit = app.orbit
    slider = orbit.controls.values["half_width_km"]
    first: list[float] = []
    orbit.link.observe(lambda _: first.append(time.perf_counter()), "value")
    out: dict[str, list[float]] = {"refit + redraw, server": [], "rescan + refit, server": []}
    for i in range(repeat):
        first.clear()
        start = time.perf_counter()
        slider.value = 100.0 + (5.0 if i % 2 == 0 else 0.0)
        end = time.perf_counter()
        out["refit + redraw, server"].append(1e3 * (first[0] - start))
        out["rescan + refit, server"].append(1e3 * (end - start))
    assert orbit.fit is not None
    return out


def browser_side(data: Path | None, repeat: int) -> dict[str, list[float]]:
    """Milliseconds for first render, slider -> page and drag -> page in Chromium."""
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="bench-app-home-"))
    if data is None:
        sys.exit("the browser benchmark needs the real data (or pass --no-browser)")
    proc, url = start_server(data, home)
    out: dict[str, list[float]] = {k: [] for k in list(TARGETS)[2:]}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            start = time.perf_counter()
            page = open_app(browser, url)
            out["first render, server just started"].append(1e3 * (time.perf_counter() - start))
            handle = ".oco2-ctl-half_width_km .noUi-handle"
            for i in range(repeat):
                before = page.text_content(".oco2-link code")
                page.focus(handle)
                start = time.perf_counter()
                page.keyboard.press("ArrowLeft" if i % 2 == 0 else "ArrowRight")
                text_changes(page, ".oco2-link code", before)
                out["slider -> page updated"].append(1e3 * (time.perf_counter() - start))
            marker = page.locator(".oco2-map .leaflet-marker-icon")
            for i in range(repeat):
                before = page.text_content(".oco2-link code")
                box = marker.bounding_box()
                x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] - 4
                sign = 1 if i % 2 == 0 else -1
                page.mouse.move(x, y)
                page.mouse.down()
                for step in range(1, 6):
                    page.mouse.move(x + sign * 3 * step, y + sign * 10 * step)
                start = time.perf_counter()
                page.mouse.up()
                text_changes(page, ".oco2-link code", before)
                out["window drag -> page updated"].append(1e3 * (time.perf_counter() - start))
            page.close()
            time.sleep(REFILL_WAIT_S)
            start = time.perf_counter()
            page = open_app(browser, url)
            out["first render, preheated kernel"].append(1e3 * (time.perf_counter() - start))
            page.close()
            browser.close()
    finally:
        stop_server(proc)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="changes per measure (20)")
    parser.add_argument("--no-browser", action="store_true", help="server side only")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-app-") as tmp:
        data = data_root(Path(tmp))
        results = server_side(data, 3 * args.repeat)
        if not args.no_browser:
            results.update(browser_side(data, args.repeat))
    source = "real orbit 11522 Highveld (1,598 soundings)" if data else "demo data"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"explorer speed on {source}; times in ms; load average {load} on {os.cpu_count()} CPUs")
    header = f"{'measure':<40} {'n':>4} {'median':>8} {'p95':>8} {'max':>8} {'target':>8}"
    print(header)
    print("-" * len(header))
    for name, target in TARGETS.items():
        times = np.array(results.get(name, []))
        if times.size == 0:
            continue
        print(
            f"{name:<40} {times.size:>4} {np.median(times):>8.1f} "
            f"{np.percentile(times, 95):>8.1f} {times.max():>8.1f} "
            f"{'—' if math.isnan(target) else f'{target:.0f}':>8}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
