"""Widget benchmark: bundle sizes and the waterfall of the picker's start on a throttled phone.

Prints the gzipped size of the widget's files (``webmap*.js``, all of them together: the aim is
≤ 150 KB) and of the viewer's, then starts ``webmap serve`` on a free port over
``WEBMAP_DATABASE_URL`` (sample data and lookup sample loaded) — or uses ``--url`` — and opens
``/demo`` and ``/embed`` in Debian's Chromium under mobile emulation (360 × 740, touch) with
Chrome DevTools' "Fast 3G" network profile (562.5 ms RTT, 1.44 Mbit/s down, 675 kbit/s up) and
4× CPU slowdown, with an empty cache each round. For each page it prints when each step of the
start ended, min / median / max over the rounds, in the order they happen: the HTML, the preview
image, the widget script, the style, the TileJSON, the label font, the first tile and the last
tile drawn in the first frame (Resource Timing), DOMContentLoaded, the preview shown (Element
Timing; load plus a frame when the picker is below the fold), the first tiles drawn (the
element's ``data-ready-ms``, the map's first ``rendercomplete``) and the first frame with labels
(``data-labels-ms``), and the main thread's long tasks (Long Tasks API): the one in which the
first tiles were drawn (the first frame) and their sum from DOMContentLoaded until then. It
also says how many URLs were fetched twice (preloads that missed), the
host and its load average: CPU throttling is relative to the host, so say which host a figure
is from. Aims (issues 10 and 15): a preview within 1.5 s, first tiles with labels ≤ 3 s.

    .venv/bin/python bench/widget.py [--rounds 5] [--url http://127.0.0.1:8000] [--pages /demo]
    .venv/bin/python bench/widget.py --rounds 6 --url http://127.0.0.1:8701 --url http://127.0.0.1:8702

The second form is an interleaved A/B run of two services (e.g. the main branch and a change,
over the same database): on a shared host the load changes faster than a whole run takes.
"""

from __future__ import annotations

import argparse
import gzip
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

DIST = Path(__file__).resolve().parent.parent / "webmap" / "static" / "dist"
FAST_3G = {
    "offline": False,
    "latency": 562.5,
    "downloadThroughput": 1_440_000 / 8,
    "uploadThroughput": 675_000 / 8,
}
CPU_SLOWDOWN = 4
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def gzipped_kb(path: Path) -> float:
    return len(gzip.compress(path.read_bytes(), 9)) / 1024


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(base: str, process: subprocess.Popen[bytes] | None) -> None:
    for _ in range(150):
        if process is not None and process.poll() is not None:
            raise SystemExit("the service did not start")
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the service did not answer /healthz")


# Installed before any page script: when the preview image (if any) was painted. Element
# Timing gives the paint time of an image in the viewport; an image below the fold is never
# painted, so its load plus one frame stands in ("preview ready").
PREVIEW_PROBE = """(() => {
  window.__webmapBench = { previewPaint: null, previewLoad: null, longTasks: [] };
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries())
        window.__webmapBench.longTasks.push([entry.startTime, entry.duration]);
    }).observe({ type: 'longtask', buffered: true });
  } catch (error) { /* no Long Tasks API */ }
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (entry.identifier === 'webmap-preview' && entry.renderTime)
          window.__webmapBench.previewPaint ??= entry.renderTime;
      }
    }).observe({ type: 'element', buffered: true });
  } catch (error) { /* no Element Timing */ }
  document.addEventListener('load', (event) => {
    if (event.target.matches?.('img[slot="preview"], [slot="preview"] > img'))
      requestAnimationFrame(() => (window.__webmapBench.previewLoad ??= performance.now()));
  }, true);
})();"""

# The page's own clock for every step of the waterfall (ms since navigation start).
WATERFALL = """async () => {
  const picker = document.querySelector('webmap-picker');
  const map = picker.shadowRoot.querySelector('#map');
  const labelsBy = performance.now() + 20000;
  while (!map.dataset.labelsMs && performance.now() < labelsBy)
    await new Promise((resolve) => setTimeout(resolve, 50));
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const matching = (test) => resources.filter((r) => test(new URL(r.name)));
  const ends = (test) => matching(test).map((r) => r.responseEnd);
  const kb = (test) => matching(test).reduce((sum, r) => sum + r.encodedBodySize, 0) / 1024;
  const isPreview = (u) => u.pathname === '/api/staticmap';
  const isScript = (u) => /^[/]widget[/].*[.]js$/.test(u.pathname);
  const isStyle = (u) => u.pathname.startsWith('/styles/');
  const isTileJSON = (u) => u.pathname === '/tiles/basemap.json';
  const isFont = (u) => u.pathname.includes('noto-sans-latin-400');
  const last = (list) => (list.length ? Math.max(...list) : null);
  const first = (list) => (list.length ? Math.min(...list) : null);
  const drawn = Number(map.dataset.readyMs);
  const tiles = ends((u) => u.pathname.startsWith('/tiles/basemap/')).filter((t) => t <= drawn);
  const probe = window.__webmapBench || {};
  const names = resources.map((r) => r.name);
  return {
    'HTML': nav.responseEnd,
    'preview image': last(ends(isPreview)),
    'widget script': last(ends(isScript)),
    'style': first(ends(isStyle)),
    'TileJSON': first(ends(isTileJSON)),
    'label font': first(ends(isFont)),
    'first tile': first(tiles),
    'last tile before drawing': last(tiles),
    'DOMContentLoaded': nav.domContentLoadedEventEnd,
    'preview shown': probe.previewPaint ?? probe.previewLoad ?? null,
    'first tiles drawn': drawn,
    'labels drawn': map.dataset.labelsMs ? Number(map.dataset.labelsMs) : null,
    '_fetched twice': names.filter((n, i) => names.indexOf(n) !== i).length,
    // KB on the wire (compressed body) of each step's files; tiles: those drawn first.
    '_kb': {
      'HTML': nav.encodedBodySize / 1024,
      'preview image': kb(isPreview),
      'widget script': kb(isScript),
      'style': kb(isStyle),
      'TileJSON': kb(isTileJSON),
      'label font': kb(isFont),
      'last tile before drawing': resources
        .filter((r) => new URL(r.name).pathname.startsWith('/tiles/basemap/'))
        .filter((r) => r.responseEnd <= drawn)
        .reduce((sum, r) => sum + r.encodedBodySize, 0) / 1024,
    },
    '_preview painted': probe.previewPaint !== null && probe.previewPaint !== undefined,
    // Main-thread time (Long Tasks, ms): the task that drew the first tiles (the
    // first frame: the tiles' drawing instructions, then the labels), and all long tasks
    // between DOMContentLoaded and that moment (the picker's set-up included).
    // OpenLayers fires rendercomplete in a timeout after the frame's task: the last long
    // task to end before it.
    '_frame task': (probe.longTasks || [])
      .filter(([start, length]) => start + length <= drawn)
      .reduce((found, [, length]) => length, null),
    '_busy after DOMContentLoaded': (probe.longTasks || [])
      .map(([start, length]) => Math.min(start + length, drawn)
        - Math.max(start, nav.domContentLoadedEventEnd))
      .filter((overlap) => overlap > 0)
      .reduce((sum, overlap) => sum + overlap, 0),
  };
}"""
STEPS = (
    "HTML",
    "preview image",
    "widget script",
    "style",
    "TileJSON",
    "label font",
    "first tile",
    "last tile before drawing",
    "DOMContentLoaded",
    "preview shown",
    "first tiles drawn",
    "labels drawn",
)


def waterfalls(base: str, path: str, rounds: int) -> tuple[list[dict[str, Any]], list[int]]:
    """One waterfall (ms since navigation start per step) and the bytes received, per round,
    each with a cold cache."""
    results: list[dict[str, Any]] = []
    sizes: list[int] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        for _ in range(rounds):
            context = browser.new_context(
                viewport={"width": 360, "height": 740},
                is_mobile=True,
                has_touch=True,
                device_scale_factor=2,
            )
            context.add_init_script(PREVIEW_PROBE)
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            cdp.send("Network.emulateNetworkConditions", FAST_3G)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
            received: list[int] = []
            cdp.on(
                "Network.loadingFinished",
                lambda event, into=received: into.append(int(event["encodedDataLength"])),
            )
            page.goto(f"{base}{path}", wait_until="commit")
            page.wait_for_selector("webmap-picker #map[data-ready-ms]", timeout=60_000)
            results.append(page.evaluate(WATERFALL))
            sizes.append(sum(received))
            context.close()
        browser.close()
    return results, sizes


def _seconds(values: list[float]) -> str:
    if not values:
        return f"{'–':>6} {'–':>6} {'–':>6}"
    return (
        f"{min(values) / 1000:6.2f} {statistics.median(values) / 1000:6.2f} "
        f"{max(values) / 1000:6.2f}"
    )


def print_waterfall(path: str, results: list[dict[str, Any]], sizes: list[int]) -> None:
    """The steps in the order of their median, with min / median / max seconds and the KB
    each step's files weigh on the wire (the link is shared: bytes before a step delay it)."""
    rows = []
    for step in STEPS:
        values = [float(r[step]) for r in results if r.get(step) is not None]
        rows.append((statistics.median(values) if values else float("inf"), step, values))
    print(
        f"\n{path}  (Fast 3G, {CPU_SLOWDOWN}x CPU, 360x740, cold cache, {len(results)} rounds; "
        f"transferred median {statistics.median(sizes) / 1024:.0f} KB)"
    )
    print(f"  {'step, ends at (s)':<28} {'min':>6} {'median':>6} {'max':>6} {'KB':>7}")
    for _, step, values in sorted(rows, key=lambda row: row[0]):
        weights = [float(r["_kb"][step]) for r in results if step in r.get("_kb", {})]
        weight = f"{statistics.median(weights):7.1f}" if weights else ""
        print(f"  {step:<28} {_seconds(values)} {weight}")
    for measure in ("_frame task", "_busy after DOMContentLoaded"):
        values = [float(r[measure]) for r in results if r.get(measure) is not None]
        print(f"  main thread, {measure[1:]:<15} {_seconds(values)}")
    twice = max(int(r["_fetched twice"]) for r in results)
    painted = sum(bool(r["_preview painted"]) for r in results)
    drawn = [float(r["first tiles drawn"]) for r in results]
    print(
        f"  first tiles drawn: median {statistics.median(drawn) / 3000:.2f} x the 3 s aim; "
        f"URLs fetched twice: {twice}; preview paint seen (in the viewport) in {painted} of "
        f"{len(results)} rounds, else its load plus a frame"
    )


def compare(pages: list[str], bases: list[str], runs: dict[tuple[str, str], Any]) -> None:
    """Medians of the aims' steps side by side, one column per service (A/B runs)."""
    print("\nmedians (s), one column per service, rounds alternating between them:")
    print(f"  {'page, step':<34}" + "".join(f" {base[-24:]:>24}" for base in bases))
    for path in pages:
        for step in (
            "preview shown",
            "widget script",
            "DOMContentLoaded",
            "first tiles drawn",
            "_frame task",
            "_busy after DOMContentLoaded",
        ):
            cells = []
            for base in bases:
                values = [float(r[step]) for r in runs[(base, path)][0] if r.get(step) is not None]
                cells.append(
                    f"{statistics.median(values) / 1000:24.2f}" if values else f"{'–':>24}"
                )
            print(f"  {path + ', ' + step:<34}" + "".join(f" {cell}" for cell in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--url",
        action="append",
        help="a running service (default: start one); give it twice or more for an A/B run: "
        "the rounds alternate between the services (one cold load of each page per round, "
        "the services' order turning each round) and the medians are printed side by side",
    )
    parser.add_argument(
        "--pages",
        default="/demo,/embed",
        help="comma-separated pages (both preload the preview, style, TileJSON, font, tiles)",
    )
    args = parser.parse_args()

    widget = sorted(DIST.glob("webmap*.js"))
    for name in ("webmap.js", "viewer.js"):
        if not (DIST / name).is_file():
            raise SystemExit(f"{DIST / name} is missing: build the frontend (npm run build)")
    for path in [*widget, DIST / "viewer.js"]:
        brotli = path.with_name(f"{path.name}.br")
        print(
            f"{path.name:<24} {path.stat().st_size / 1024:8.1f} KB raw "
            f"{gzipped_kb(path):7.1f} KB gzip"
            + (f" {brotli.stat().st_size / 1024:7.1f} KB Brotli (sent)" if brotli.is_file() else "")
        )
    print(f"{'widget, all files':<24} {'':>15} {sum(gzipped_kb(p) for p in widget):7.1f} KB gzip")

    server = None
    bases = args.url or []
    if not bases:
        port = free_port()
        bases = [f"http://127.0.0.1:{port}"]
        server = subprocess.Popen(
            [sys.executable, "-m", "webmap.cli", "serve", "--port", str(port), "--workers", "2"],
            env=dict(os.environ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    pages = args.pages.split(",")
    try:
        for base in bases:
            wait_until_up(base, server)
        print(f"host: {socket.gethostname()}, {os.cpu_count()} CPUs, load average {_load()}")
        runs: dict[tuple[str, str], tuple[list[dict[str, Any]], list[int]]] = {
            (base, path): ([], []) for base in bases for path in pages
        }
        for round_ in range(args.rounds):
            turn = round_ % len(bases)
            for base in bases[turn:] + bases[:turn]:
                for path in pages:
                    results, sizes = waterfalls(base, path, 1)
                    runs[(base, path)][0].extend(results)
                    runs[(base, path)][1].extend(sizes)
            if len(bases) > 1:
                print(f"  round {round_ + 1} of {args.rounds} done, load average {_load()}")
        for base in bases:
            for path in pages:
                print_waterfall(f"{base}{path}" if len(bases) > 1 else path, *runs[(base, path)])
        if len(bases) > 1:
            compare(pages, bases, runs)
        print(f"load average after: {_load()}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
