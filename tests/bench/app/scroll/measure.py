#!/usr/bin/env python3
"""Scrolling frame times of Pli's message list against a minimal virtual list, in the same
WebKitGTK (MiniBrowser under WebKitWebDriver, Xvfb, software rendering), same run.

  measure.py DIST FAKE_JS RUNS FRAMES PX

Pli's UI is ui/dist served over loopback with the test fake of the Tauri bridge
(ui/tests/fixtures.mjs, 50,000 rows, pages answered after 20 ms) injected before its scripts;
the baseline is vanilla.html: 100,000 absolutely placed rows recycled on scroll by a few
lines of plain JavaScript, nothing else on the page. Three cases: `pli` (nothing open),
`pli_reading` (the first message open in the reading pane, as when someone reads and scrolls
on) and `vanilla`. Each run opens a new browser, waits for rows, records requestAnimationFrame
intervals idle (120 frames: the display's cadence) and while the list scrolls PX px per frame
for FRAMES frames, and the CPU time the browser's processes (and Xvfb) used meanwhile, per
frame: steadier than the intervals on a shared machine. Runs alternate the cases.

The browser renders as the desktop app would on this machine (pli_core::rendering, decisions
0035 to 0037): without a GPU render node, WebKit's CPU renderer
(WEBKIT_SKIA_ENABLE_CPU_RENDERING=1) and the same WebKit features (scrollable areas painted
rather than composited, compositing limited to damage); PLI_WEBKIT_FEATURES=0/1 as for the
app, BENCH_FEATURES=LIST (MiniBrowser's --features syntax, e.g. -AsyncOverflowScrolling) to
try others. FEATURES=both also runs every case with WebKit's default features (keys ending in
`_webkit_defaults`). Prints JSON. Not a test: it asserts nothing."""
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


def app_rendering():
    """What pli_core::rendering decides on this machine: (environment for WebKit, rendering,
    the WebKit features the app sets). Mirrors `decide` and `webkit_features`."""
    env = dict(os.environ)
    if "WEBKIT_SKIA_ENABLE_CPU_RENDERING" in env or "WEBKIT_DISABLE_COMPOSITING_MODE" in env:
        rendering = "as configured"
    else:
        dri = "/dev/dri"
        gpu = os.path.isdir(dri) and any(n.startswith("renderD") for n in os.listdir(dri))
        soft = env.get("LIBGL_ALWAYS_SOFTWARE", "") not in ("", "0")
        rendering = "gpu" if gpu and not soft else "cpu"
        if rendering == "cpu":
            env["WEBKIT_SKIA_ENABLE_CPU_RENDERING"] = "1"
    choice = os.environ.get("PLI_WEBKIT_FEATURES")
    apply = choice == "1" or (choice != "0" and rendering == "cpu")
    features = ["-AsyncOverflowScrolling", "+UseDamagingInformationForCompositing"] if apply else []
    # A bench-only override, to compare variants: a comma-separated MiniBrowser --features list.
    if "BENCH_FEATURES" in os.environ:
        features = [f for f in os.environ["BENCH_FEATURES"].split(",") if f]
    return env, rendering, features


ENV, RENDERING, FEATURES = app_rendering()
WATCHED = ("MiniBrowser", "WebKitWebProcess", "WebKitNetworkProcess", "Xvfb")


def cpu_ticks():
    """Clock ticks of CPU (user + system) used so far by each watched kind of process."""
    out = dict.fromkeys(WATCHED, 0)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                name = os.path.basename(f.read().split(b"\0")[0].decode(errors="replace"))
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if name in out:
            out[name] += int(fields[11]) + int(fields[12])
    return out


def one_run(url, open_first, features):
    port = free_port()
    wd = subprocess.Popen(["/usr/bin/WebKitWebDriver", f"--port={port}"], env=ENV,
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
                                             "args": ["--automation", "--geometry=1280x800"]
                                             + ([f"--features={','.join(features)}"] if features else [])}}}}
        sid = call(port, "POST", "/session", caps)["value"]["sessionId"]
        call(port, "POST", f"/session/{sid}/url", {"url": url})
        for _ in range(200):
            n = call(port, "POST", f"/session/{sid}/execute/sync", {
                "script": "return document.querySelectorAll('[data-testid=message-row]').length",
                "args": []})["value"]
            if n:
                break
            time.sleep(0.05)
        if open_first:
            opened = call(port, "POST", f"/session/{sid}/execute/async", {"script": OPEN_JS,
                                                                          "args": []})["value"]
            if opened is not True:
                raise RuntimeError(f"first message not opened: {opened!r}")
        run = lambda frames, px: call(port, "POST", f"/session/{sid}/execute/async",  # noqa: E731
                                      {"script": FRAMES_JS % (frames, px), "args": []})["value"]
        idle = run(120, 0)
        before = cpu_ticks()
        fling = run(FRAMES, PX)
        after = cpu_ticks()
        call(port, "DELETE", f"/session/{sid}")
        tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
        cpu = {k: (after[k] - before[k]) * tick_ms / len(fling["frames"]) for k in WATCHED}
        return statistics.median(idle["frames"]), fling["frames"], fling["rows"], cpu
    finally:
        wd.terminate()
        wd.wait(10)
        # The browser WebKitWebDriver started can outlive it (and keep Xvfb up).
        subprocess.run(["pkill", "-f", MINIBROWSER], check=False)


# Opens the first message (a click, as a person does) and resolves once its body is shown.
OPEN_JS = open(os.path.join(HERE, "open.js")).read()


def pct(v, q):
    v = sorted(v)
    return round(v[min(len(v) - 1, int(round(q * (len(v) - 1))))], 1)


def summary(cadences, frames, cpus):
    cadence = statistics.median(cadences)
    return {"idle_frame_ms_p50": cadence, "frames": len(frames),
            "frame_ms_p50": pct(frames, 0.5), "frame_ms_p95": pct(frames, 0.95),
            "dropped_share": round(sum(f > 1.5 * cadence for f in frames) / len(frames), 3),
            # median over runs of the CPU ms per frame, per kind of process
            "cpu_ms_per_frame": {k: round(statistics.median(c[k] for c in cpus), 1)
                                 for k in WATCHED if any(c[k] for c in cpus)}}


pli_srv, base_srv = serve(DIST, True), serve(os.path.join(HERE, "vanilla"), False)
CASES = [("pli", pli_srv, False), ("pli_reading", pli_srv, True), ("vanilla", base_srv, False)]
modes = [("", FEATURES)]
if os.environ.get("FEATURES") == "both" and FEATURES:
    modes.append(("_webkit_defaults", []))
out, rows = {}, {}
for i in range(RUNS):
    for suffix, features in modes:
        for case, srv, open_first in CASES:
            name = case + suffix
            for attempt in range(3):
                try:
                    cadence, frames, n, cpu = one_run(
                        f"http://127.0.0.1:{srv.server_address[1]}/", open_first, features)
                    break
                except (OSError, KeyError, TypeError) as e:  # WebKitWebDriver errors now and then
                    print(f"[bench-scroll] {name} run {i + 1}: {e}; again", file=sys.stderr)
                    subprocess.run(["pkill", "-f", MINIBROWSER], check=False)
            else:
                raise RuntimeError(f"{name} run {i + 1} failed three times")
            got = out.setdefault(name, ([], [], []))
            got[0].append(cadence)
            got[1].extend(frames)
            got[2].append(cpu)
            rows[name] = n
            print(f"[bench-scroll] {name} run {i + 1}: p50 {pct(frames, 0.5)} ms, web process "
                  f"{cpu['WebKitWebProcess']:.1f} ms CPU/frame", file=sys.stderr)
res = {name: dict(summary(*v), rows_in_dom=rows[name]) for name, v in out.items()}
for suffix, _ in modes:
    for case in ("pli", "pli_reading"):
        a, b = res[case + suffix], res["vanilla" + suffix]
        res[f"ratio_p95_{case}{suffix}_over_vanilla"] = round(a["frame_ms_p95"] / b["frame_ms_p95"], 2)
res["setup"] = {"runs_each": RUNS, "frames_per_run": FRAMES, "px_per_frame": PX,
                "engine": "WebKitGTK MiniBrowser, Xvfb 1280x800x24",
                "rendering": RENDERING, "webkit_features": FEATURES,
                "note": "a frame is dropped when its interval exceeds 1.5 x the idle cadence; "
                        "cpu_ms_per_frame: CPU time used during the scroll / frames"}
print(json.dumps(res, indent=2))
