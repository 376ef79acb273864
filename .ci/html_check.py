#!/usr/bin/env python3
"""Opens an HTML report in headless Chromium over the DevTools protocol and checks it.

Usage: html_check.py PAGE.html SCREENSHOT.png [CHROMIUM]

Fails (exit 1) when the page logs a console error or throws, when it makes any network request
(everything must be inline: only the file itself and data: URLs may load), or when a chart drew
nothing (every `figure.chart` must hold an SVG with data points and a non-empty line). Saves a
full-page screenshot at 1280 px wide.
"""

import asyncio
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websockets


async def check(page: str, shot: str, chromium: str) -> list:
    profile = tempfile.mkdtemp(prefix="html-check-")
    proc = subprocess.Popen(
        [
            chromium,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + 30
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if time.time() > deadline:
                raise SystemExit("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = open(port_file).read().split()[0]
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        return await drive(ws_url, page, shot)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


async def drive(ws_url: str, page: str, shot: str) -> list:
    problems = []
    async with websockets.connect(ws_url, max_size=64 * 1024 * 1024) as ws:
        next_id = 0
        events = []

        async def call(method, **params):
            nonlocal next_id
            next_id += 1
            mine = next_id
            await ws.send(json.dumps({"id": mine, "method": method, "params": params}))
            while True:
                msg = json.loads(await ws.recv())
                if msg.get("id") == mine:
                    if "error" in msg:
                        raise RuntimeError(f"{method}: {msg['error']}")
                    return msg.get("result", {})
                events.append(msg)

        for domain in ["Page", "Runtime", "Log", "Network"]:
            await call(f"{domain}.enable")
        await call("Emulation.setDeviceMetricsOverride", width=1280, height=900,
                   deviceScaleFactor=1, mobile=False)
        url = "file://" + os.path.abspath(page)
        await call("Page.navigate", url=url)
        # Wait for the load event (and a moment for late errors).
        deadline = time.time() + 30
        loaded = any(e.get("method") == "Page.loadEventFired" for e in events)
        while not loaded and time.time() < deadline:
            msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
            events.append(msg)
            loaded = msg.get("method") == "Page.loadEventFired"
        if not loaded:
            problems.append("the page did not finish loading")
        result = await call("Runtime.evaluate", returnByValue=True, expression="""
            JSON.stringify(Array.from(document.querySelectorAll('figure.chart')).map(f => {
                const svg = f.querySelector('svg');
                const lines = svg ? Array.from(svg.querySelectorAll('path.line')) : [];
                const drawn = lines.filter(p => (p.getAttribute('d') || '').length > 0
                                               && p.getTotalLength() > 0);
                return {id: f.id, points: svg ? +svg.dataset.points : 0,
                        lines: lines.length, drawn: drawn.length,
                        width: svg ? svg.getBoundingClientRect().width : 0,
                        titles: svg ? svg.querySelectorAll('title').length : 0};
            }))""")
        charts = json.loads(result["result"]["value"])
        if not charts:
            problems.append("no chart on the page")
        for c in charts:
            if c["points"] <= 0 or c["drawn"] == 0 or c["width"] < 100:
                problems.append(f"chart {c['id']} drew nothing: {c}")
            if c["titles"] == 0:
                problems.append(f"chart {c['id']} has no hover values")
        metrics = await call("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        shot_data = await call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                               clip={"x": 0, "y": 0, "width": 1280,
                                     "height": min(size["height"], 16000), "scale": 1})
        with open(shot, "wb") as f:
            f.write(base64.b64decode(shot_data["data"]))
        await asyncio.sleep(0.3)
        try:
            while True:
                events.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=0.2)))
        except asyncio.TimeoutError:
            pass
        for e in events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                problems.append(f"console error: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                problems.append(f"exception: {params.get('exceptionDetails', {}).get('text')}")
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                problems.append(f"log error: {params['entry'].get('text')}")
            elif method == "Network.requestWillBeSent":
                req = params["request"]["url"]
                if req != url and not req.startswith("data:"):
                    problems.append(f"network request: {req}")
        print(f"{len(charts)} charts drew: " + ", ".join(f"{c['id']} ({c['points']} points)"
                                                       for c in charts))
    return problems


def main() -> int:
    page, shot = sys.argv[1], sys.argv[2]
    chromium = sys.argv[3] if len(sys.argv) > 3 else (
        shutil.which("chromium") or shutil.which("chromium-browser") or "chromium")
    problems = asyncio.run(check(page, shot, chromium))
    for p in problems:
        print(f"FAIL: {p}", file=sys.stderr)
    if not problems:
        print(f"ok: no console error, no network request; screenshot {shot}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
