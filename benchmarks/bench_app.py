"""Explorer speed and memory: server-side refit, and what users wait for in a real browser.

Usage: ``python benchmarks/bench_app.py [--repeat N] [--no-browser]``

Data: the demo data (it opens on the real Highveld pass of orbit 11522, 1,598 soundings:
every browser number below is measured on that real pass). Prints a table, asserts nothing:

* server side, in-process: slider change (``half_width_km`` around 100 km) until the
  window is refitted and redrawn, and in all (the orbit re-scanned too), with the fit scan
  and with the learned scorer;
* in headless Chromium against ``oco2explore app`` (pool of 2 preheated kernels):
  a page opened as soon as the server answers (no kernel ready yet); first render of a
  first and of a second visitor on a warm server (its pool's kernels have run the
  notebook: the server is idle); every slider's step -> page updated
  (its deep link, redrawn last, changed) and window drag -> page updated, both once the
  server is idle again (the pool refilled after the visitors), then every slider again
  with the learned scorer; the server's
  memory (all its processes, kernels included) after 1 and after 20 pages opened and
  closed.
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
sys.path[:0] = [str(REPO / "tests")]

from e2e.voila_browser import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    close_page,
    kernel_processes,
    open_app,
    server_memory_mb,
    start_server,
    stop_server,
    text_changes,
    wait_for_idle,
    wait_for_kernels,
)

from oco2explore.app import Explorer  # noqa: E402
from oco2explore.demo import demo_data_dir  # noqa: E402

POOL_SIZE = 2
TARGETS = {
    "refit + redraw, server": 50.0,
    "rescan + refit, server": math.nan,
    "refit + redraw, server, learned": 50.0,
    "rescan + refit, server, learned": math.nan,
    "page right after server start": 10_000.0,
    "first render, first visitor": 3000.0,
    "first render, second visitor": 3000.0,
    "slider -> page updated, every slider": 300.0,
    "window drag -> page updated": 300.0,
    "slider -> page updated, learned scorer": 300.0,
}
#: The measures taken in the browser (the others, "refit"/"rescan", are in-process).
BROWSER = [k for k in TARGETS if not k.startswith(("refit", "rescan"))]
LINK = ".oco2-link code"


def server_side(repeat: int) -> dict[str, list[float]]:
    """Milliseconds per slider change in-process: to the window redrawn, and in all; with
    the fit scan and with the learned scorer."""
    app = Explorer(None, basemap=False)
    app.start("")
    orbit = app.orbit
    slider = orbit.controls.values["half_width_km"]
    first: list[float] = []
    orbit.link.observe(lambda _: first.append(time.perf_counter()), "value")
    out: dict[str, list[float]] = {}
    for scorer, suffix in (("fit", ""), ("learned", ", learned")):
        orbit.scorer_select.value = scorer
        refit, rescan = out.setdefault(f"refit + redraw, server{suffix}", []), []
        out[f"rescan + refit, server{suffix}"] = rescan
        for i in range(repeat + 1):
            first.clear()
            start = time.perf_counter()
            slider.value = 100.0 + (5.0 if i % 2 == 0 else 0.0)
            end = time.perf_counter()
            if i:  # the first step after a switch warms up
                refit.append(1e3 * (first[0] - start))
                rescan.append(1e3 * (end - start))
    return out


def timed_open(browser, url: str):
    start = time.perf_counter()
    page = open_app(browser, url)
    return page, 1e3 * (time.perf_counter() - start)


def slider_steps(page, repeat: int) -> tuple[list[float], dict[str, float]]:
    """Every slider: ``repeat`` key steps, each timed until the page's link changed."""
    times: list[float] = []
    worst: dict[str, float] = {}
    handles = page.locator(".oco2-controls .noUi-handle")
    for i in range(handles.count()):
        handle = handles.nth(i)
        name = handle.evaluate(
            "e => [...e.closest('.widget-slider').classList]"
            ".find(c => c.startsWith('oco2-ctl-')) || '?'"
        )
        if handle.evaluate("e => e.closest('.noUi-target').hasAttribute('disabled')"):
            continue  # a threshold switched off
        at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        keys = ("ArrowLeft", "ArrowRight") if at_max else ("ArrowRight", "ArrowLeft")
        mine = []
        for k in range(repeat):
            before = page.text_content(LINK)
            handle.focus()
            start = time.perf_counter()
            page.keyboard.press(keys[k % 2])
            text_changes(page, LINK, before)
            mine.append(1e3 * (time.perf_counter() - start))
        times += mine
        worst[name.removeprefix("oco2-ctl-")] = float(np.percentile(mine, 95))
    return times, worst


def drags(page, repeat: int) -> list[float]:
    times = []
    marker = page.locator(".oco2-map .leaflet-marker-icon")
    for i in range(repeat):
        before = page.text_content(LINK)
        box = marker.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] - 4
        sign = 1 if i % 2 == 0 else -1
        page.mouse.move(x, y)
        page.mouse.down()
        for step in range(1, 6):
            page.mouse.move(x + sign * 3 * step, y + sign * 10 * step)
        start = time.perf_counter()
        page.mouse.up()
        text_changes(page, LINK, before)
        times.append(1e3 * (time.perf_counter() - start))
    return times


def browser_side(cache: Path, repeat: int, opens: int) -> tuple[dict, dict, dict]:
    """Browser measures (ms), the p95 of each slider, kernels and memory."""
    from playwright.sync_api import sync_playwright

    out: dict[str, list[float]] = {k: [] for k in BROWSER}
    home = Path(tempfile.mkdtemp(prefix="bench-app-home-"))
    proc, url = start_server(None, home, pool_size=POOL_SIZE, cache=cache, wait_for_view=False)
    facts: dict[str, float] = {}
    try:
        count = lambda: len(kernel_processes(proc))  # noqa: E731
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page, ms = timed_open(browser, url)
            out["page right after server start"].append(ms)
            close_page(page)
            wait_for_kernels(count, POOL_SIZE, proc)
            # The pool warm: its kernels have run the notebook (the server falls idle).
            facts["s waited for the warm pool before the visitors"] = wait_for_idle(proc)
            first, ms = timed_open(browser, url)
            out["first render, first visitor"].append(ms)
            second, ms = timed_open(browser, url)
            out["first render, second visitor"].append(ms)
            close_page(second)
            # The pool refills after each visitor (a kernel runs the notebook, seconds of
            # CPU): the interactions are timed once the server is idle again.
            wait_for_kernels(count, POOL_SIZE + 1, proc)
            facts["s waited for the refilled pool before the sliders"] = wait_for_idle(proc)
            times, worst = slider_steps(first, repeat)
            out["slider -> page updated, every slider"] = times
            out["window drag -> page updated"] = drags(first, 5 * repeat)
            first.click(".oco2-scorer button:has-text('learned')")
            first.wait_for_function(  # the orbit scored by the model: the status says so
                "() => document.querySelector('.oco2-message').textContent"
                ".includes('scorer: learned')"
            )
            times, worst_learned = slider_steps(first, repeat)
            out["slider -> page updated, learned scorer"] = times
            worst.update({f"{k} (learned)": v for k, v in worst_learned.items()})
            close_page(first)
            facts["kernels after the pages closed"] = wait_for_kernels(count, POOL_SIZE, proc)
            facts["memory after 1 page opened and closed (MB)"] = server_memory_mb(proc)
            for _ in range(opens - 1):
                close_page(open_app(browser, url))
            facts[f"kernels after {opens} pages"] = wait_for_kernels(count, POOL_SIZE, proc)
            facts[f"memory after {opens} pages opened and closed (MB)"] = server_memory_mb(proc)
            browser.close()
    finally:
        stop_server(proc)
    return out, worst, facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=4, help="steps per slider (4)")
    parser.add_argument("--opens", type=int, default=20, help="pages for the memory (20)")
    parser.add_argument("--no-browser", action="store_true", help="server side only")
    args = parser.parse_args(argv)
    cache = Path(tempfile.mkdtemp(prefix="bench-app-cache-"))
    demo_data_dir(cache)
    os.environ["OCO2EXPLORE_CACHE"] = str(cache)
    results = server_side(15 * args.repeat)
    worst: dict[str, float] = {}
    facts: dict[str, float] = {}
    if not args.no_browser:
        browser, worst, facts = browser_side(cache, args.repeat, args.opens)
        results.update(browser)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        "explorer speed on the demo data's real OCO-2 pass (orbit 11522 Highveld, 1,598 "
        f"soundings); times in ms; load average {load} on {os.cpu_count()} CPUs"
    )
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
    if worst:
        print("\nslider -> page updated, p95 per slider (ms):")
        print(", ".join(f"{k} {v:.0f}" for k, v in worst.items()))
    for name, value in facts.items():
        print(f"{name}: {value:.1f}" if name.startswith("s ") else f"{name}: {value:.0f}")
    memory = [v for k, v in facts.items() if k.startswith("memory")]
    if len(memory) == 2:
        change = 100 * (memory[1] / memory[0] - 1)
        print(f"memory after {args.opens} pages vs after 1: {change:+.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
