#!/usr/bin/env python3
"""The measuring half of tests/bench/app/run (stdlib only). Runs inside the private D-Bus
session made by `run`, with the throwaway keyring already unlocked.

  measure.py WORK PLI_BIN HELLO_BIN SEED_BIN RESULTS_JSON

1. Starts its own Xvfb (a free display) and seeds a synthetic cache (MESSAGES messages).
2. Cold starts, RUNS times each, interleaved Pli / hello-world, through tauri-driver +
   WebKitWebDriver: T0 just before POST /session, then `execute/sync` every ~20 ms until the
   first message row (Pli) or the heading (hello-world) is in the DOM. OS page cache dropped
   before every start when /proc/sys/vm/drop_caches is writable.
3. Scrolling (Pli only): a second cache of SCROLL_MESSAGES (default 100,000) messages; in a
   WebDriver session after the paint, requestAnimationFrame intervals while the list is idle
   (the display's frame cadence), then while the list scrolls SCROLL_PX per frame for
   SCROLL_FRAMES frames (rows fetched page by page as they come into view, like a fast wheel or
   fling), and the time from a jump to the middle of the list to its rows being on screen;
   then the first message is opened (a click) and the list scrolls again the same way
   (`scroll_reading`: what someone reading and scrolling on sees). A frame counts as dropped
   when its interval exceeds 1.5 times the idle cadence; each scroll also reports the CPU time
   the app's process tree used per frame.
4. Idle memory: each app started directly (no WebDriver), IDLE_SECS later the whole process
   tree (app and every descendant: WebKitWebProcess, WebKitNetworkProcess, bwrap, ...) is summed:
   Pss and Rss from /proc/PID/smaps_rollup. The same again inside a WebDriver session after the
   verified paint (the automation session costs a little, so that is reported apart).
Every process it starts is stopped on the way out, even on failure.
"""
import http.client as httpclient
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

WORK, PLI_BIN, HELLO_BIN, SEED_BIN, RESULTS = sys.argv[1:6]
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
RUNS = int(os.environ.get("RUNS", "5"))
IDLE_SECS = int(os.environ.get("IDLE_SECS", "60"))
IDLE_ONLY = int(os.environ.get("IDLE_ONLY", "0"))
TIMELINE = int(os.environ.get("TIMELINE", "0"))
SCROLL_ONLY = int(os.environ.get("SCROLL_ONLY", "0"))
MESSAGES = int(os.environ.get("MESSAGES", "50000"))
SCROLL_MESSAGES = int(os.environ.get("SCROLL_MESSAGES", "100000"))
SCROLL_FRAMES = int(os.environ.get("SCROLL_FRAMES", "300"))
SCROLL_PX = int(os.environ.get("SCROLL_PX", "120"))
PROFILE = "bench-app"
ACCOUNT = "anne.lefevre@pli-sandbox.mssante.fr"
PAINT_TIMEOUT = 60.0
POLL = 0.02
TARGETS = {"first_paint_ms": 1000, "idle_pss_ratio": 1.3}
PLI_ROW = "return document.querySelectorAll('[data-testid=message-row]').length"
HELLO_ROW = "return document.querySelectorAll('h1#hello').length"

started = []  # Popen objects we own, stopped in reverse order at the end
notes = []
retries = []  # WebDriver requests that had to be made again (reported in the JSON)


def log(*a):
    print("[bench-app]", *a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes and memory

def ppid_map():
    m = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        m[int(d)] = int(rest[1])
    return m


def descendants(root):
    m = ppid_map()
    kids = {}
    for p, pp in m.items():
        kids.setdefault(pp, []).append(p)
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        if p in m or p == root:
            out.append(p)
        todo.extend(kids.get(p, []))
    return [p for p in out if p in m]


def exe_of(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


def pids_of_exe(path):
    path = os.path.realpath(path)
    return [int(d) for d in os.listdir("/proc") if d.isdigit() and exe_of(d) == path]


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def rollup(pid):
    v = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                k, _, rest = line.partition(":")
                if k in ("Pss", "Rss"):
                    v[k] = int(rest.split()[0])  # kB
    except OSError:
        pass
    return v


def tree_memory(root):
    procs = []
    for p in sorted(descendants(root)):
        r = rollup(p)
        if not r:
            continue
        procs.append({"pid": p, "name": comm(p), "pss_mib": round(r.get("Pss", 0) / 1024, 1),
                      "rss_mib": round(r.get("Rss", 0) / 1024, 1)})
    return {
        "pss_mib": round(sum(x["pss_mib"] for x in procs), 1),
        "rss_mib": round(sum(x["rss_mib"] for x in procs), 1),
        "processes": procs,
        "rendering": rendering(procs),
    }


def rendering(procs):
    """How the tree's web process draws: "cpu" when it runs with
    WEBKIT_SKIA_ENABLE_CPU_RENDERING set and not "0" (what Pli sets without a GPU, decision
    0035), "no compositing" with WEBKIT_DISABLE_COMPOSITING_MODE so set, else "gpu" (WebKit's
    default: OpenGL, emulated by Mesa on a machine without a GPU); None without a web process."""
    for proc in procs:
        if not proc["name"].startswith("WebKitWebProces"):
            continue
        try:
            with open(f"/proc/{proc['pid']}/environ", "rb") as f:
                env = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
        except OSError:
            return None
        on = lambda k: env.get(k) not in (None, b"0")  # noqa: E731
        if on(b"WEBKIT_DISABLE_COMPOSITING_MODE"):
            return "no compositing"
        return "cpu" if on(b"WEBKIT_SKIA_ENABLE_CPU_RENDERING") else "gpu"
    return None


def same_rendering_env(env, pli_idle, hello_idle):
    """The environment that makes the hello-world paint like Pli when Pli used WebKit's CPU
    renderer (no GPU, decision 0035) and the hello-world WebKit's default; else None."""
    if pli_idle["rendering"] == "cpu" and hello_idle["rendering"] == "gpu":
        return dict(env, WEBKIT_SKIA_ENABLE_CPU_RENDERING="1")
    return None


def kill_tree(root, sig=signal.SIGTERM):
    for p in reversed(descendants(root)):
        try:
            os.kill(p, sig)
        except OSError:
            pass


def stop(proc, grace=5.0):
    if proc.poll() is not None:
        return
    kill_tree(proc.pid)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        kill_tree(proc.pid, signal.SIGKILL)
        proc.wait(5)


def wait_gone(pids, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        pids = [p for p in pids if os.path.exists(f"/proc/{p}")]
        if not pids:
            return True
        time.sleep(0.05)
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
    return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def drop_caches():
    try:
        subprocess.run(["sync"], check=False)
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


# ---------------------------------------------------------------- WebDriver

def http(method, url, body=None, timeout=120):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return json.loads(e.read() or b"{}")
    except (ConnectionError, httpclient.HTTPException, urllib.error.URLError) as e:
        # tauri-driver now and then drops the connection (seen on DELETE /session and right
        # after it): report it as a WebDriver error instead of ending the whole bench.
        log(f"{method} {url.rsplit('/', 1)[-1]}: {e}")
        return {"value": {"error": "connection", "message": str(e)}}


class Driver:
    def __init__(self, env):
        self.port, native = free_port(), free_port()
        while native == self.port:
            native = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.last = None
        self.log = open(os.path.join(WORK, "tauri-driver.log"), "w")
        self.proc = subprocess.Popen(
            ["tauri-driver", "--port", str(self.port), "--native-port", str(native),
             "--native-driver", "/usr/bin/WebKitWebDriver"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        started.append(self.proc)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("tauri-driver did not listen")

    def new_session(self, app, args):
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "wry", "tauri:options": {"application": app, "args": args}}}}
        for _ in range(5):
            r = http("POST", f"{self.url}/session", caps)
            sid = r.get("value", {}).get("sessionId")
            if sid:
                break
            if r.get("value", {}).get("error") == "connection":
                # WebKitWebDriver reset the connection under tauri-driver (seen now and then,
                # "Connection reset by peer" in tauri-driver.log): the app it may have started
                # goes, then the same start again.
                retries.append(f"POST session for {os.path.basename(app)}")
                wait_gone(pids_of_exe(app), 2)
                time.sleep(1)
                continue
            if "Maximum number of active sessions" not in json.dumps(r):
                break
            # A DELETE lost on the way (tauri-driver drops it now and then): end it again.
            if self.last:
                self.end(self.last)
            time.sleep(1)
        self.last = sid
        if not sid:
            raise RuntimeError(f"no WebDriver session: {json.dumps(r)[:500]}")
        return sid

    def script(self, sid, js):
        r = http("POST", f"{self.url}/session/{sid}/execute/sync", {"script": js, "args": []}, 30)
        return r.get("value")

    def async_script(self, sid, js, timeout=120):
        r = http("POST", f"{self.url}/session/{sid}/execute/async", {"script": js, "args": []},
                 timeout)
        return r.get("value")

    def screenshot(self, sid, path):
        r = http("GET", f"{self.url}/session/{sid}/screenshot")
        import base64
        if isinstance(r.get("value"), str):
            with open(path, "wb") as f:
                f.write(base64.b64decode(r["value"]))

    def end(self, sid):
        for _ in range(3):
            try:
                http("DELETE", f"{self.url}/session/{sid}", timeout=30)
                return
            except Exception as e:  # noqa: BLE001 - retried; the app is killed below anyway
                log("DELETE session:", e)
                time.sleep(0.5)


def cold_start(driver, name, app, args, probe, drop=True):
    """One start of a new process: returns (first paint ms, session ms, session id, OS cache
    dropped) and leaves the session open."""
    stale = pids_of_exe(app)
    if stale:
        wait_gone(stale, 5)
    cache_dropped = drop_caches() if drop else False
    t0 = time.perf_counter()
    sid = driver.new_session(app, args)
    t_session = time.perf_counter()
    while True:
        v = driver.script(sid, probe)
        if isinstance(v, int) and v > 0:
            t1 = time.perf_counter()
            break
        if time.perf_counter() - t0 > PAINT_TIMEOUT:
            driver.screenshot(sid, os.path.join(WORK, f"timeout-{name}.png"))
            driver.end(sid)
            raise RuntimeError(f"{name}: nothing painted after {PAINT_TIMEOUT} s (last: {v!r})")
        time.sleep(POLL)
    return round((t1 - t0) * 1000, 1), round((t_session - t0) * 1000, 1), sid, cache_dropped


def close_session(driver, sid, app):
    driver.end(sid)
    if not wait_gone(pids_of_exe(app), 10):
        notes.append(f"{os.path.basename(app)} had to be killed after DELETE /session")


# ---------------------------------------------------------------- setup

def start_xvfb():
    r, w = os.pipe()
    p = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x800x24",
                          "-nolisten", "tcp"], pass_fds=(w,), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    started.append(p)
    os.close(w)
    num = b""
    while not num.endswith(b"\n"):
        c = os.read(r, 16)
        if not c:
            raise RuntimeError("Xvfb did not start")
        num += c
    os.close(r)
    return f":{num.decode().strip()}"


def write_config(data_dir, name="pli.toml"):
    """The bench's own pli.toml, from the built source's sandbox example; data_dir in
    WORK; operator IMAP/SMTP, PSC and directory on closed loopback ports so nothing the app
    does in the background can reach a server or touch the synthetic cache."""
    ca = os.path.join(ROOT, "target", "sandbox", "ca.pem")
    if os.path.exists(ca):
        shutil.copy(ca, os.path.join(WORK, "ca.pem"))
    else:
        open(os.path.join(WORK, "ca.pem"), "w").close()
    # The example of the source tree the app was built from: the live sandbox's pli.toml may
    # already carry sections a snapshot build does not know.
    src = os.path.join(os.environ.get("BENCH_SRC", ROOT), "tests", "sandbox", "pli.toml.example")
    text = open(src).read()
    origin = os.path.relpath(src, ROOT)
    text = re.sub(r'(?m)^data_dir = .*$', f'data_dir = "{data_dir}"', text)
    closed = '{ host = "localhost", port = 1, security = "starttls", connect_addr = "127.0.0.1" }'
    text = re.sub(r'(?m)^imap = .*$', f"imap = {closed}", text)
    text = re.sub(r'(?m)^smtp = .*$', f"smtp = {closed}", text)
    text = re.sub(r'(?m)^trust_anchors = .*$', 'trust_anchors = "ca.pem"', text)
    text = re.sub(r'(?m)^issuer = .*$', 'issuer = "http://127.0.0.1:1/auth/realms/esante-wallet"', text)
    text = re.sub(r'(?m)^url = "ldap://.*$', 'url = "ldap://127.0.0.1:1"', text)
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        f.write(text)
    return path, origin


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)

    def pkg(name):
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", name], capture_output=True, text=True)
        return r.stdout.strip() or None

    lock = open(os.path.join(ROOT, "Cargo.lock")).read()
    m = re.search(r'name = "tauri"\nversion = "([^"]+)"', lock)
    return {
        "cpu": cpu, "cores": os.cpu_count(), "mem_gib": round(mem / 1024 / 1024, 1),
        "kernel": platform.release(), "loadavg_at_start": os.getloadavg(),
        "webkit2gtk": pkg("libwebkit2gtk-4.1-0"), "tauri": m.group(1) if m else None,
        "display": "Xvfb 1280x800x24",
        "pli_built_from": os.environ.get("BENCH_BUILT_FROM", "unknown"),
    }


# ---------------------------------------------------------------- the bench

def idle_direct(name, app, args, env):
    """Starts the app without WebDriver, waits IDLE_SECS, sums its process tree."""
    log(f"{name}: idle {IDLE_SECS} s, started directly")
    stale = pids_of_exe(app)
    if stale:
        wait_gone(stale, 5)
    p = subprocess.Popen([app, *args], env=env, stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(WORK, f"{name}-direct.log"), "w"),
                         start_new_session=True)
    started.append(p)
    time.sleep(IDLE_SECS)
    if p.poll() is not None:
        raise RuntimeError(f"{name} exited during the idle wait ({p.returncode})")
    mem = tree_memory(p.pid)
    if os.environ.get("SMAPS_DIR"):
        # For finding where memory goes: every process's full smaps, named app-process-pid.
        os.makedirs(os.environ["SMAPS_DIR"], exist_ok=True)
        for proc in mem["processes"]:
            try:
                shutil.copyfile(f"/proc/{proc['pid']}/smaps", os.path.join(
                    os.environ["SMAPS_DIR"], f"{name}-{proc['name']}-{proc['pid']}.smaps"))
            except OSError:
                pass
    shot = os.path.join(WORK, f"idle-{name}.png")
    subprocess.run(["import", "-window", "root", shot], env=env, capture_output=True)
    mem["screenshot"] = os.path.relpath(shot, ROOT) if os.path.exists(shot) else None
    stop(p)
    return mem


def idle_webdriver(driver, name, app, args, probe):
    """A WebDriver session: verified paint, IDLE_SECS idle, the app's process tree summed
    (tauri-driver and WebKitWebDriver themselves excluded)."""
    log(f"{name}: idle {IDLE_SECS} s after a verified paint, in a WebDriver session")
    ms, _, sid, _ = cold_start(driver, name, app, args, probe)
    time.sleep(IDLE_SECS)
    rows = driver.script(sid, probe)
    roots = [p for p in pids_of_exe(app) if p in descendants(driver.proc.pid)]
    if len(roots) != 1:
        raise RuntimeError(f"{name}: expected one app process under tauri-driver, got {roots}")
    mem = tree_memory(roots[0])
    mem["painted_ms"] = ms
    mem["probe_count_after_idle"] = rows
    driver.screenshot(sid, os.path.join(WORK, f"webdriver-{name}.png"))
    close_session(driver, sid, app)
    return mem


# requestAnimationFrame intervals: `arguments[0]` frames, scrolling `arguments[1]` px per frame
# (0: idle). Returns the intervals in ms and where the list ended.
FRAMES_JS = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "scroll", "frames.js")).read()

# Jump to the middle of the list; resolves when a row of the middle is in the DOM.
JUMP_JS = """
const done = arguments[arguments.length - 1];
const el = document.querySelector('.list-scroll');
const total = Number(document.querySelector('[data-testid=message-row]').getAttribute('aria-setsize'));
const t0 = performance.now();
el.scrollTop = el.scrollHeight / 2;
const want = Math.floor(total / 2) - 50;
function check() {
  const rows = Array.from(document.querySelectorAll('[data-testid=message-row]'));
  const hit = rows.some((r) => Number(r.getAttribute('aria-posinset')) >= want
                               && r.textContent.trim().length > 0);
  if (hit) { done({ms: performance.now() - t0, total}); return; }
  if (performance.now() - t0 > 20000) { done({error: 'middle rows never shown', total}); return; }
  requestAnimationFrame(check);
}
requestAnimationFrame(check);
"""


def process_start_epoch(pid):
    """When a process was started (wall clock, 10 ms resolution: /proc/PID/stat's start time,
    clock ticks since boot, set against /proc/uptime read now)."""
    with open(f"/proc/{pid}/stat") as f:
        ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")


def timeline(env, pli_args):
    """TIMELINE=N: N warm then N cold starts of Pli and of the hello-world, each as one timeline
    in ms from the WebDriver request: process exec, Pli's shell start-up steps (its
    PLI_LOG=debug lines, wall clock), the page's navigation start and Pli's milestones, the
    first row (heading) seen by the probe."""
    driver = Driver(env)
    # WebKitWebDriver passes neither the app's output on nor PLI_LOG: a wrapper does both.
    app_log = os.path.join(WORK, "timeline-pli.log")
    wrapper = os.path.join(WORK, "timeline-pli.sh")
    with open(wrapper, "w") as f:
        f.write(f'#!/bin/sh\nexport PLI_LOG=pli_desktop=debug,warn\n'
                f'exec "{PLI_BIN}" "$@" >>"{app_log}" 2>&1\n')
    os.chmod(wrapper, 0o755)
    runs = []
    apps = {"pli": (wrapper, pli_args, PLI_ROW, PLI_BIN),
            "hello": (HELLO_BIN, [], HELLO_ROW, HELLO_BIN)}
    for drop in [False] * TIMELINE + [True] * TIMELINE:
        for name, (launch, args, probe, exe) in apps.items():
            log_at = os.path.getsize(app_log) if os.path.exists(app_log) else 0
            ms, session_ms, sid, dropped = cold_start(driver, name, launch, args, probe, drop)
            # cold_start times with a monotonic clock; the steps below are wall-clock times.
            t_seen = time.time()
            t0 = t_seen - ms / 1000
            page = driver.script(sid, "return {origin: performance.timeOrigin, "
                                      "marks: window.__pliTimings || {}}")
            pids = pids_of_exe(exe)
            steps = {"exec": process_start_epoch(pids[0]) if pids else None,
                     "webdriver_session": t0 + session_ms / 1000,
                     "probe: first row seen": t_seen}
            if name == "pli":
                with open(app_log, errors="replace") as f:
                    f.seek(log_at)
                    for line in f:
                        m = re.match(r"^(\S+Z)\s+DEBUG\s+pli_desktop\S*:\s+(.*)$",
                                     re.sub(r"\x1b\[[0-9;]*m", "", line))
                        if m:
                            when = datetime.datetime.fromisoformat(m.group(1).replace("Z", "+00:00"))
                            key = "shell: " + re.sub(r"\s*ms=\d+", "", m.group(2)).strip()
                            steps.setdefault(key, when.timestamp())
            if isinstance(page, dict) and isinstance(page.get("origin"), (int, float)):
                origin = page["origin"] / 1000
                steps["page: navigation start"] = origin
                for k, v in (page.get("marks") or {}).items():
                    steps[f"page: {k}"] = origin + v / 1000
            else:
                log(f"timeline: {name}'s page did not give its navigation start: {page!r}"[:300])
            runs.append({"app": name, "os_cache_dropped": dropped, "ms_from_request": dict(sorted(
                ((k, round((v - t0) * 1000)) for k, v in steps.items() if v), key=lambda kv: kv[1]))})
            close_session(driver, sid, exe)
    return {"timeline": runs, "note": "ms from POST /session to tauri-driver; 'shell:' steps "
            "are pli-desktop's PLI_LOG=debug lines (wall clock), 'page:' ones "
            "ui/src/lib/timing.ts's marks from performance.timeOrigin; exec at 10 ms resolution"}


def pct(values, q):
    v = sorted(values)
    return round(v[min(len(v) - 1, int(round(q * (len(v) - 1))))], 2)


def tree_cpu_ticks(root):
    """Clock ticks of CPU (user + system) used so far by `root` and its descendants, per
    process name."""
    out = {}
    for p in descendants(root):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[comm(p)] = out.get(comm(p), 0) + int(fields[11]) + int(fields[12])
    return out


# Opens the first message (a click) and resolves once the reading pane shows it.
OPEN_JS = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "scroll", "open.js")).read()


def fling_summary(fling, cadence, cpu_ticks):
    frames = fling["frames"]
    per_frame = 1000 / os.sysconf("SC_CLK_TCK") / len(frames)
    return {"frames": len(frames), "px_per_frame": SCROLL_PX,
            "rows_passed": round(fling["top"] / 60),
            "frame_ms_p50": pct(frames, 0.5), "frame_ms_p95": pct(frames, 0.95),
            "frame_ms_max": round(max(frames), 2),
            "dropped_frames": sum(1 for f in frames if f > 1.5 * cadence),
            "dropped_share": round(sum(1 for f in frames if f > 1.5 * cadence) / len(frames), 3),
            "cpu_ms_per_frame": round(sum(cpu_ticks.values()) * per_frame, 1),
            "cpu_ms_per_frame_by_process": {k: round(v * per_frame, 1)
                                            for k, v in sorted(cpu_ticks.items()) if v}}


def scroll_seed(env):
    """Seeds the SCROLL_MESSAGES cache; returns its configuration file."""
    data_dir = os.path.join(WORK, "data-scroll")
    shutil.rmtree(data_dir, ignore_errors=True)
    log(f"scroll: seeding {SCROLL_MESSAGES} messages")
    # Same profile (same keyring key) as the first cache: the app runs with PLI_PROFILE=PROFILE.
    r = subprocess.run([SEED_BIN, data_dir, PROFILE, ACCOUNT, str(SCROLL_MESSAGES)],
                       env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"seed failed: {r.stderr[-2000:]}")
    return write_config(data_dir, "pli-scroll.toml")[0]


def scroll_test(driver, cfg):
    """Frame intervals while the list scrolls over a SCROLL_MESSAGES cache (see the docstring)."""
    ms, _, sid, _ = cold_start(driver, "pli-scroll", PLI_BIN, ["--config", cfg], PLI_ROW)
    root = pids_of_exe(PLI_BIN)[0]
    web = rendering([{"pid": p, "name": comm(p)} for p in descendants(root)])

    def measured_fling():
        before = tree_cpu_ticks(root)
        v = driver.async_script(sid, FRAMES_JS % (SCROLL_FRAMES, SCROLL_PX))
        after = tree_cpu_ticks(root)
        return v, {k: after[k] - before.get(k, 0) for k in after}

    idle = driver.async_script(sid, FRAMES_JS % (120, 0))
    fling, fling_cpu = measured_fling()
    jump = driver.async_script(sid, JUMP_JS)
    opened = driver.async_script(sid, OPEN_JS)
    if opened is not True:
        raise RuntimeError(f"scroll: first message not opened: {opened!r}")
    reading, reading_cpu = measured_fling()
    # The page as WebKit snapshots it (WebDriver) and the display as composited (X): compare
    # them to see that limiting compositing to what changed (decision 0036) left nothing stale.
    driver.screenshot(sid, os.path.join(WORK, "scroll-pli.png"))
    subprocess.run(["import", "-window", "root", os.path.join(WORK, "scroll-pli-display.png")],
                   env=driver.env, capture_output=True)
    close_session(driver, sid, PLI_BIN)
    for what, v in (("idle", idle), ("fling", fling), ("reading", reading)):
        if not isinstance(v, dict) or "frames" not in v:
            raise RuntimeError(f"scroll {what}: {v!r}")
    cadence = statistics.median(idle["frames"])
    return {
        "messages": SCROLL_MESSAGES,
        "first_paint_ms": ms,
        "rendering": web,
        "idle_frame_ms_p50": round(cadence, 2),
        "scroll": fling_summary(fling, cadence, fling_cpu),
        "scroll_reading": fling_summary(reading, cadence, reading_cpu),
        "jump_to_middle": jump,
        "note": "a frame is dropped when its interval exceeds 1.5 x the idle "
                "cadence (Xvfb, no GPU); scroll_reading: the same with the first message open; "
                "cpu_ms_per_frame: CPU time of the app's whole process tree / frames",
    }


def main():
    t_start = time.time()
    out = {"machine": machine()}
    display = start_xvfb()
    env = dict(os.environ, DISPLAY=display, PLI_ACCESS_TOKEN="bench", PLI_PROFILE=PROFILE,
               PLI_LOG=os.environ.get("PLI_LOG", "warn"))
    env.pop("PLI_CONFIG", None)
    env.pop("WAYLAND_DISPLAY", None)

    if SCROLL_ONLY:
        # The scrolling measure only, SCROLL_ONLY times, printed and not written to
        # results.json: for trying a rendering change without the whole bench.
        driver = Driver(env)
        cfg = scroll_seed(env)
        runs = [scroll_test(driver, cfg) for _ in range(SCROLL_ONLY)]
        print(json.dumps({"scroll_only": runs}, indent=2))
        return

    data_dir = os.path.join(WORK, "data")
    shutil.rmtree(data_dir, ignore_errors=True)
    log(f"seeding {MESSAGES} messages into {data_dir}")
    r = subprocess.run([SEED_BIN, data_dir, PROFILE, ACCOUNT, str(MESSAGES)], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"seed failed: {r.stderr[-2000:]}")
    seed = json.loads(r.stdout.strip().splitlines()[-1])
    cfg, origin = write_config(data_dir)
    pli_args = ["--config", cfg]
    out["cache"] = {"messages": seed["messages"], "bytes": seed["bytes"],
                    "seed_seconds": seed["seconds"], "config_from": origin,
                    "note": "SQLCipher cache, one account, INBOX; ~8% from patients "
                            "(not in the unified inbox), ~14% XDM/1.0/DDM+ with documents"}

    if IDLE_ONLY:
        # Idle memory only, IDLE_ONLY times each (alternating), printed and not written to
        # results.json: for trying a memory change without the whole bench.
        runs = {"pli": [], "hello": []}
        for _ in range(IDLE_ONLY):
            runs["pli"].append(idle_direct("pli", PLI_BIN, pli_args, env))
            runs["hello"].append(idle_direct("hello", HELLO_BIN, [], env))
        same = same_rendering_env(env, runs["pli"][0], runs["hello"][0])
        if same:
            # As in the full run: the hello-world with Pli's rendering too (decision 0035).
            runs["hello_same_rendering"] = [idle_direct("hello", HELLO_BIN, [], same)
                                            for _ in range(IDLE_ONLY)]
        med = {k: statistics.median(m["pss_mib"] for m in v) for k, v in runs.items()}
        ratios = {"ratio_idle_pss": round(med["pli"] / med["hello"], 2)}
        if "hello_same_rendering" in med:
            ratios["ratio_idle_pss_same_rendering"] = round(
                med["pli"] / med["hello_same_rendering"], 2)
        print(json.dumps({"idle_only": runs, "pss_mib_median": med, **ratios}, indent=2))
        return

    if TIMELINE:
        print(json.dumps(timeline(env, pli_args), indent=2))
        return

    driver = Driver(env)
    apps = {"pli": (PLI_BIN, pli_args, PLI_ROW), "hello": (HELLO_BIN, [], HELLO_ROW)}
    paint = {k: [] for k in apps}
    session = {k: [] for k in apps}
    dropped = []
    breakdown = []
    # One warm-up start each (not counted): first-ever start of a binary also creates the
    # WebKit data dirs; afterwards every start is a new process on an unchanged disk state.
    for name, (app, args, probe) in apps.items():
        log(f"{name}: warm-up start")
        _, _, sid, _ = cold_start(driver, name, app, args, probe)
        close_session(driver, sid, app)
    for i in range(RUNS):
        for name, (app, args, probe) in apps.items():
            ms, sms, sid, d = cold_start(driver, name, app, args, probe)
            dropped.append(d)
            if name == "pli":
                # Where the time went inside the page (ui/src/lib/timing.ts): ms since the
                # page's navigation start for each milestone; the page is loaded after the
                # session came up, so add webdriver_session_ms for the wall clock.
                marks = driver.script(sid, "return window.__pliTimings || null")
                if isinstance(marks, dict):
                    # Numbers only: anything else is reported, not aggregated.
                    odd = {k: v for k, v in marks.items() if not isinstance(v, (int, float))}
                    if odd:
                        log(f"pli run {i + 1}: non-numeric milestones ignored: {odd!r}")
                    breakdown.append({k: v for k, v in marks.items() if k not in odd})
            if name == "pli" and i == 0:
                out["pli_rows_in_first_paint"] = driver.script(sid, PLI_ROW)
                out["pli_total_shown"] = driver.script(
                    sid, "const r=document.querySelector('[data-testid=message-row]');"
                         "return r?Number(r.getAttribute('aria-setsize')):null")
            close_session(driver, sid, app)
            paint[name].append(ms)
            session[name].append(sms)
            log(f"{name} run {i + 1}: first paint {ms} ms (session up {sms} ms)")

    # The same with the OS page cache left warm (a second launch of the day).
    warm = {k: [] for k in apps}
    for i in range(RUNS):
        for name, (app, args, probe) in apps.items():
            ms, _, sid, _ = cold_start(driver, name, app, args, probe, drop=False)
            close_session(driver, sid, app)
            warm[name].append(ms)
            log(f"{name} warm-cache run {i + 1}: first paint {ms} ms")

    for name, (app, args, probe) in apps.items():
        out[name] = {
            "first_paint_ms": {"median": statistics.median(paint[name]), "runs": paint[name]},
            "webdriver_session_ms": {"median": statistics.median(session[name]),
                                     "runs": session[name]},
            "first_paint_warm_os_cache_ms": {"median": statistics.median(warm[name]),
                                             "runs": warm[name]},
        }
    if breakdown:
        steps = sorted({k for m in breakdown for k in m}, key=lambda k: statistics.median(
            [m[k] for m in breakdown if k in m]))
        out["pli"]["page_milestones_ms"] = {
            k: statistics.median([m[k] for m in breakdown if k in m]) for k in steps}
    for name, (app, args, probe) in apps.items():
        out[name]["idle"] = idle_direct(name, app, args, env)
    same = same_rendering_env(env, out["pli"]["idle"], out["hello"]["idle"])
    if same:
        # The hello-world again with Pli's setting, so that the ratio of what Pli's own code
        # costs is there beside the ratio to a default Tauri app.
        out["hello"]["idle_same_rendering"] = idle_direct("hello", HELLO_BIN, [], same)
    for name, (app, args, probe) in apps.items():
        out[name]["idle_webdriver"] = idle_webdriver(driver, name, app, args, probe)
    if SCROLL_MESSAGES > 0:
        out["pli"]["scrolling"] = scroll_test(driver, scroll_seed(env))
    stop(driver.proc)

    p, h = out["pli"], out["hello"]
    out["ratios"] = {
        "first_paint_pli_over_hello": round(p["first_paint_ms"]["median"] / h["first_paint_ms"]["median"], 2),
        "first_paint_pli_minus_hello_ms": round(p["first_paint_ms"]["median"] - h["first_paint_ms"]["median"], 1),
        "first_paint_warm_os_cache_pli_over_hello": round(
            p["first_paint_warm_os_cache_ms"]["median"] / h["first_paint_warm_os_cache_ms"]["median"], 2),
        "idle_pss_pli_over_hello": round(p["idle"]["pss_mib"] / h["idle"]["pss_mib"], 2),
        "idle_rss_pli_over_hello": round(p["idle"]["rss_mib"] / h["idle"]["rss_mib"], 2),
        "idle_webdriver_pss_pli_over_hello": round(
            p["idle_webdriver"]["pss_mib"] / h["idle_webdriver"]["pss_mib"], 2),
    }
    if "idle_same_rendering" in h:
        out["ratios"]["idle_pss_pli_over_hello_same_rendering"] = round(
            p["idle"]["pss_mib"] / h["idle_same_rendering"]["pss_mib"], 2)
    out["targets"] = {
        "pli_first_paint_ms": f"<= {TARGETS['first_paint_ms']} (measured median "
                              f"{p['first_paint_ms']['median']})",
        "pli_idle_pss": f"<= {TARGETS['idle_pss_ratio']} x hello-world's (measured "
                        f"{out['ratios']['idle_pss_pli_over_hello']} x)",
        "reference": "hello-world Tauri v2 on this kind of machine: ~255 MiB PSS, ~423 MiB RSS idle",
    }
    if "idle_same_rendering" in h:
        out["targets"]["pli_idle_pss"] += (
            f"; against the hello-world drawing like Pli (CPU rendering, decision 0035) "
            f"{out['ratios']['idle_pss_pli_over_hello_same_rendering']} x")
    cold = all(dropped)
    out["os_cache"] = "dropped before every start (echo 3 > /proc/sys/vm/drop_caches)" if cold \
        else "warm OS cache (drop_caches not writable)"
    notes[:0] = [
        f"first paint: T0 just before POST /session to tauri-driver (WebKitWebDriver launches the "
        f"app), end at the first execute/sync that sees a '[data-testid=message-row]' (Pli) or the "
        f"h1 (hello-world); polled every {int(POLL * 1000)} ms; median of {RUNS} cold starts each "
        f"(new process each time), interleaved, after one uncounted warm-up start each; "
        f"webdriver_session_ms is when POST /session returned (window and webview up)",
        f"idle: app started directly (no WebDriver) under Xvfb, {IDLE_SECS} s later Pss and Rss "
        f"of smaps_rollup summed over the app and all its descendants; the inbox paint of that "
        f"same binary, config and cache is verified by the WebDriver runs (and idle-pli.png)",
        "idle_webdriver: the same, inside a WebDriver session after a verified paint "
        "(WebKit automation mode; tauri-driver and WebKitWebDriver not counted)",
        "Pli: PLI_ACCESS_TOKEN=bench (session open without PSC), operator IMAP/SMTP, PSC and "
        "directory on closed port 127.0.0.1:1, so the background sync fails and leaves the cache alone",
        "first_paint_warm_os_cache_ms: the same starts without dropping the OS page cache "
        "(new process each time, files already in memory: a second launch)",
        "not counted in either tree: the accessibility bus (at-spi-bus-launcher, at-spi2-registryd) "
        "that D-Bus activates for any GTK app, shared by every app of the session",
        "PSS counts shared pages (WebKit libraries) divided among the sharers; other WebKit "
        "apps running on the machine at the same time lower everyone's PSS a little",
        "rendering (in each idle measure): how the web process draws; without a GPU Pli asks "
        "WebKit for its CPU renderer (decision 0035) while a default Tauri app paints with "
        "OpenGL emulated on the CPU; hello.idle_same_rendering is the hello-world with Pli's "
        "setting, and ratios.idle_pss_pli_over_hello_same_rendering compares with it",
    ]
    out["notes"] = notes
    out["webdriver_retries"] = retries
    out["wall_seconds"] = round(time.time() - t_start, 1)
    text = json.dumps(out, indent=2, ensure_ascii=False)
    with open(RESULTS, "w") as f:
        f.write(text + "\n")
    print(text)


def cleanup(*_):
    for p in reversed(started):
        try:
            stop(p, 3)
        except Exception:  # noqa: BLE001
            pass
    for app in (PLI_BIN, HELLO_BIN):
        for pid in pids_of_exe(app):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        main()
    finally:
        cleanup()
