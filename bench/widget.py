"""Widget benchmark: bundle sizes and time to first map tiles on a throttled phone.

Prints the gzipped size of the widget (`webmap.js`) and viewer (`viewer.js`) bundles, then
starts ``webmap serve`` on a free port over ``WEBMAP_DATABASE_URL`` (sample data and lookup
sample loaded) — or uses ``--url`` — and opens ``/demo`` and ``/embed`` in Debian's Chromium
under mobile emulation (360 × 740, touch) with Chrome DevTools' "Fast 3G" network profile
(562.5 ms RTT, 1.44 Mbit/s down, 675 kbit/s up) and 4× CPU slowdown, with an empty cache each
round. It reports the time from navigation start until the picker's map has drawn its first
tiles (the element's ``data-ready-ms``, set on the map's first ``rendercomplete``), the time
until labels can be drawn too (the later of that and Noto Sans, the label font, having loaded:
the map draws its labels on the next frame), and the bytes transferred. Compare with the aims in
issue 5: ≤ 150 KB gzipped JavaScript, first tiles ≤ 3 s.

    .venv/bin/python bench/widget.py [--rounds 5] [--url http://127.0.0.1:8000] [--pages /demo]
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


# Resolves with the page's clock when the label font (latin, regular) has loaded.
FONT_READY_MS = """() => new Promise((resolve) => {
  const poll = () => document.fonts.check('400 13px "Noto Sans"', 'Karlavägen')
    && [...document.fonts].some((f) => f.family.includes('Noto Sans') && f.status === 'loaded')
    ? resolve(performance.now()) : setTimeout(poll, 20);
  poll();
})"""


def first_tiles(base: str, path: str, rounds: int) -> tuple[list[float], list[float], list[int]]:
    """Time to first drawn tiles and to labels (ms), and bytes received, per round, each with
    a cold cache."""
    times: list[float] = []
    label_times: list[float] = []
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
            ready = page.get_attribute("webmap-picker #map", "data-ready-ms")
            times.append(float(ready or "nan"))
            label_times.append(max(times[-1], float(page.evaluate(FONT_READY_MS))))
            sizes.append(sum(received))
            context.close()
        browser.close()
    return times, label_times, sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--url", help="a running service (default: start one)")
    parser.add_argument(
        "--pages",
        default="/demo,/embed",
        help="comma-separated pages (/demo preloads style, TileJSON, first tiles; /embed nothing)",
    )
    args = parser.parse_args()

    for name in ("webmap.js", "viewer.js"):
        path = DIST / name
        if not path.is_file():
            raise SystemExit(f"{path} is missing: build the frontend (npm run build)")
        print(
            f"{name:<10} {path.stat().st_size / 1024:8.1f} KB raw {gzipped_kb(path):7.1f} KB gzip"
        )

    server = None
    base = args.url
    if base is None:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "webmap.cli", "serve", "--port", str(port), "--workers", "2"],
            env=dict(os.environ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    try:
        wait_until_up(base, server)
        for path in args.pages.split(","):
            times, label_times, sizes = first_tiles(base, path, args.rounds)
            print(
                f"{path:<7} first tiles drawn (Fast 3G, {CPU_SLOWDOWN}x CPU, 360x740, cold cache, "
                f"{args.rounds} rounds): median {statistics.median(times) / 1000:.2f} s, "
                f"min {min(times) / 1000:.2f} s, max {max(times) / 1000:.2f} s; "
                f"transferred median {statistics.median(sizes) / 1024:.0f} KB; "
                f"{statistics.median(times) / 3000:.2f} x the 3 s aim"
            )
            print(
                f"{path:<7} labels drawable: median {statistics.median(label_times) / 1000:.2f} s, "
                f"max {max(label_times) / 1000:.2f} s"
            )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
