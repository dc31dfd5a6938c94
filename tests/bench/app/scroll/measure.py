#!/usr/bin/env python3
"""Scrolling frame times of Pli's message list against a minimal virtual list, in the same
WebKitGTK (MiniBrowser under WebKitWebDriver, Xvfb, software rendering), same run.

  measure.py DIST FAKE_JS RUNS FRAMES PX

Pli's UI is ui/dist served over loopback with the test fake of the Tauri bridge
(ui/tests/fixtures.mjs, 50,000 rows, pages answered after 20 ms) injected before its scripts;
the baseline is vanilla.html: 100,000 absolutely placed rows recycled on scroll by a few
lines of plain JavaScript, nothing else on the page. Each run opens a new browser, waits for
rows, records requestAnimationFrame intervals idle (120 frames: the display's cadence) and while
the list scrolls PX px per frame for FRAMES frames. Runs alternate Pli / baseline. Prints JSON.
Not a test: it asserts nothing."""
import functools
import http.server
import json
import os
import socket
import socketserver
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

DIST, FAKE, RUNS, FRAMES, PX = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
HERE = os.path.dirname(os.path.abspath(__file__))
MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"
FRAMES_JS = open(os.path.join(HERE, "frames.js")).read()
fake = open(FAKE, "rb").read()


def serve(root, inject):
    class H(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            if self.path == "/fake.js":
                return self.reply(fake, "text/javascript")
            if self.path in ("/", "/index.html"):
                html = open(os.path.join(root, "index.html"), encoding="utf-8").read()
                if inject:
                    html = html.replace('<script type="module"',
                                        '<script src="/fake.js"></script><script type="module"', 1)
                return self.reply(html.encode(), "text/html")
            return super().do_GET()

        def reply(self, body, ctype):
            self.send_response(200)
            self.send_header("content-type", ctype)
            self.end_headers()
            self.wfile.write(body)

    srv = socketserver.TCPServer(("127.0.0.1", 0), functools.partial(H, directory=root))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, method, path, body=None, timeout=120):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"{}")


def one_run(url):
    port = free_port()
    wd = subprocess.Popen(["/usr/bin/WebKitWebDriver", f"--port={port}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        caps = {"capabilities": {"alwaysMatch": {"browserName": "MiniBrowser",
                "webkitgtk:browserOptions": {"binary": MINIBROWSER,
                                             "args": ["--automation", "--geometry=1280x800"]}}}}
        sid = call(port, "POST", "/session", caps)["value"]["sessionId"]
        call(port, "POST", f"/session/{sid}/url", {"url": url})
        for _ in range(200):
            n = call(port, "POST", f"/session/{sid}/execute/sync", {
                "script": "return document.querySelectorAll('[data-testid=message-row]').length",
                "args": []})["value"]
            if n:
                break
            time.sleep(0.05)
        run = lambda frames, px: call(port, "POST", f"/session/{sid}/execute/async",  # noqa: E731
                                      {"script": FRAMES_JS % (frames, px), "args": []})["value"]
        idle, fling = run(120, 0), run(FRAMES, PX)
        call(port, "DELETE", f"/session/{sid}")
        return statistics.median(idle["frames"]), fling["frames"], fling["rows"]
    finally:
        wd.terminate()
        wd.wait(10)
        # The browser WebKitWebDriver started can outlive it (and keep Xvfb up).
        subprocess.run(["pkill", "-f", MINIBROWSER], check=False)


def pct(v, q):
    v = sorted(v)
    return round(v[min(len(v) - 1, int(round(q * (len(v) - 1))))], 1)


def summary(cadences, frames):
    cadence = statistics.median(cadences)
    return {"idle_frame_ms_p50": cadence, "frames": len(frames),
            "frame_ms_p50": pct(frames, 0.5), "frame_ms_p95": pct(frames, 0.95),
            "dropped_share": round(sum(f > 1.5 * cadence for f in frames) / len(frames), 3)}


pli_srv, base_srv = serve(DIST, True), serve(os.path.join(HERE, "vanilla"), False)
out = {"pli": ([], []), "vanilla": ([], [])}
rows = {}
for i in range(RUNS):
    for name, srv in (("pli", pli_srv), ("vanilla", base_srv)):
        for attempt in range(3):
            try:
                cadence, frames, n = one_run(f"http://127.0.0.1:{srv.server_address[1]}/")
                break
            except (OSError, KeyError, TypeError) as e:  # WebKitWebDriver errors now and then
                print(f"[bench-scroll] {name} run {i + 1}: {e}; again", file=sys.stderr)
                subprocess.run(["pkill", "-f", MINIBROWSER], check=False)
        else:
            raise RuntimeError(f"{name} run {i + 1} failed three times")
        out[name][0].append(cadence)
        out[name][1].extend(frames)
        rows[name] = n
        print(f"[bench-scroll] {name} run {i + 1}: p50 {pct(frames, 0.5)} ms", file=sys.stderr)
res = {name: dict(summary(*v), rows_in_dom=rows[name]) for name, v in out.items()}
res["ratio_p50_pli_over_vanilla"] = round(res["pli"]["frame_ms_p50"] / res["vanilla"]["frame_ms_p50"], 2)
res["ratio_p95_pli_over_vanilla"] = round(res["pli"]["frame_ms_p95"] / res["vanilla"]["frame_ms_p95"], 2)
res["setup"] = {"runs_each": RUNS, "frames_per_run": FRAMES, "px_per_frame": PX,
                "engine": "WebKitGTK MiniBrowser, Xvfb 1280x800x24, software rendering",
                "note": "a frame is dropped when its interval exceeds 1.5 x the idle cadence"}
print(json.dumps(res, indent=2))
