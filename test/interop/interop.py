#!/usr/bin/env python3
"""Interop tests of our HTTP/3 tools against real, independent peers.

    interop.py TEST [--h3get BIN] [--h3serve BIN] [--quicgo-server BIN] [--quicgo-client BIN]

Tests (meson suite `interop`, test/interop/meson.build):
  h3get_caddy             our h3get      -> caddy 2.6 (tls internal, HTTP/3): small
                          files + 50 MB over one connection, HEAD, 404 -> exit 22
  h3get_quicgo            our h3get      -> quic-go 0.29 http3 server: small files +
                          20 MB, 150 concurrent requests, 20 MB POST
  quicgo_h3serve          quic-go client -> our h3serve: the same set; h3serve must
                          exit 0 on SIGTERM
  chromium_h3serve        headless Chromium -> our h3serve: a page that fetches 10 MB,
                          hashes it with crypto.subtle; every entry over h3
  control_quicgo_caddy    quic-go client -> caddy           the peers against each
  control_quicgo_quicgo   quic-go client -> quic-go server  other: tells a harness
  control_chromium_quicgo Chromium       -> quic-go server  or peer problem from ours

Every transfer is compared byte for byte with the served file. A peer that is
missing or cannot start fails the test with a message; nothing is skipped.
Servers listen on free loopback ports and are killed on exit. KEEP=1 keeps the
work directory; after a failure its logs (key log, net-log) are kept.
"""

import argparse
import atexit
import hashlib
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
START_LINE = re.compile(r"listening on (\S+):(\d+) cert-sha256 ([0-9a-f]{64}) spki-sha256-b64 (\S+)")


class Fail(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tail(path, n=40):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return "(no " + path + ")"
    return "\n".join(["    " + line for line in lines[-n:]]) or "    (empty)"


class Work:
    """Temp dir, child processes, cleanup on any exit (also SIGTERM from meson)."""

    def __init__(self, name):
        self.dir = tempfile.mkdtemp(prefix="wt-interop-%s-" % name)
        self.procs = []  # Popen objects, stopped in reverse order
        self.extra_dirs = []  # removed after the processes are gone
        self.ok = False
        self.failures = []  # from check()
        atexit.register(self.cleanup)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        log("work dir " + self.dir)

    def _on_signal(self, signum, _frame):
        log("interrupted by signal %d" % signum)
        sys.exit(128 + signum)

    def check(self, fn, *args, **kw):
        """Runs one client check; a failure is recorded and the next check still runs."""
        try:
            fn(*args, **kw)
        except Fail as e:
            log("  FAIL %s" % e)
            self.failures.append(str(e))

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def spawn(self, name, argv, env=None):
        """Starts argv in its own process group; stdout/stderr go to files."""
        out = self.path(name + ".out")
        err = self.path(name + ".err")
        log("start %s: %s" % (name, " ".join(argv)))
        try:
            with open(out, "wb") as fo, open(err, "wb") as fe:
                p = subprocess.Popen(argv, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL, env=env,
                                     start_new_session=True)
        except OSError as e:
            raise Fail("cannot start %s (%s): %s" % (name, argv[0], e))
        p.out_path, p.err_path, p.name = out, err, name
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, grace=5.0):
        """Signals the process, waits, then kills its whole process group."""
        if p.poll() is None:
            try:
                p.send_signal(sig)
                p.wait(timeout=grace)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                pass
        try:
            os.killpg(p.pid, signal.SIGKILL)  # leftovers (Chromium's helpers)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def cleanup(self):
        for p in reversed(self.procs):
            self.stop(p, grace=3.0)
        self.procs = []
        for d in self.extra_dirs:
            shutil.rmtree(d, ignore_errors=True)
        if os.environ.get("KEEP"):
            log("kept work dir " + self.dir)
        elif self.ok:
            shutil.rmtree(self.dir, ignore_errors=True)
        elif os.path.isdir(self.dir):
            # Keep the logs, key log and net-log of a failure, not the data.
            for name in os.listdir(self.dir):
                if name in ("www", "chromium-profile") or name.endswith("-out"):
                    shutil.rmtree(self.path(name), ignore_errors=True)
            log("kept logs in " + self.dir + " (KEEP=1 keeps the data too)")


def wait_start_line(p, timeout=20.0):
    """Waits for the `... listening on HOST:PORT cert-sha256 .. spki-sha256-b64 ..` line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(p.out_path, "r", errors="replace") as f:
            m = START_LINE.search(f.read())
        if m:
            return {"host": m.group(1), "port": int(m.group(2)), "cert_sha256": m.group(3),
                    "spki_b64": m.group(4)}
        if p.poll() is not None:
            raise Fail("%s exited with status %s before it was ready\n  stdout:\n%s\n  stderr:\n%s"
                       % (p.name, p.returncode, tail(p.out_path), tail(p.err_path)))
        time.sleep(0.05)
    raise Fail("%s printed no start line within %.0fs\n  stdout:\n%s\n  stderr:\n%s"
               % (p.name, timeout, tail(p.out_path), tail(p.err_path)))


def run(work, name, argv, timeout, env=None):
    """Runs a client to completion; returns (exit status, stdout path, stderr path)."""
    out, err = work.path(name + ".out"), work.path(name + ".err")
    log("run %s: %s" % (name, " ".join(argv)))
    t0 = time.monotonic()
    try:
        with open(out, "wb") as fo, open(err, "wb") as fe:
            p = subprocess.Popen(argv, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL, env=env,
                                 start_new_session=True)
    except OSError as e:
        raise Fail("cannot run %s (%s): %s" % (name, argv[0], e))
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        raise Fail("%s did not finish within %ds\n  stderr:\n%s" % (name, timeout, tail(err)))
    log("  %s exited %d after %.2fs" % (name, rc, time.monotonic() - t0))
    return rc, out, err


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1 (caddy takes both)."""
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise Fail("no free port")


def make_files(root, sizes, seed):
    """Deterministic pseudo-random files under root; returns {name: path}."""
    os.makedirs(root, exist_ok=True)
    files = {}
    for name, size in sizes:
        block = hashlib.sha256(("%s-%s-%d" % (seed, name, size)).encode()).digest()
        # SHAKE-256 output: incompressible, no repeating blocks.
        data = hashlib.shake_256(block).digest(size) if size else b""
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        files[name] = path
    return files


def compare(served, received, label, problems=None, quiet=False):
    """Byte-exact comparison; prints what was compared. Collects the failure
    in `problems` when given (to report every file), else raises."""
    def bad(msg):
        if problems is None:
            raise Fail(msg)
        problems.append(msg)

    sa, a = os.path.getsize(served), sha256_file(served)
    if not os.path.exists(received):
        log("  %-4s %s: served %d bytes sha256 %s, but %s was not written"
            % ("DIFF", label, sa, a[:16], received))
        return bad("%s: %s was not written (served %d bytes)" % (label, received, sa))
    sb, b = os.path.getsize(received), sha256_file(received)
    same = sa == sb and a == b
    if same:  # hashes equal; still compare the bytes themselves
        with open(served, "rb") as fa, open(received, "rb") as fb:
            while True:
                x, y = fa.read(1 << 20), fb.read(1 << 20)
                if x != y:
                    same = False
                    break
                if not x:
                    break
    if not (same and quiet):
        log("  %-4s %s: served %d bytes sha256 %s, received %d bytes sha256 %s"
            % ("ok" if same else "DIFF", label, sa, a[:16], sb, b[:16]))
    if not same:
        bad("%s: received bytes differ from the served file" % label)


def need(path, what, hint):
    if not path:
        raise Fail("%s is not available: %s" % (what, hint))
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise Fail("%s not found or not executable at %s: %s" % (what, path, hint))


def need_cmd(cmd, pkg):
    p = shutil.which(cmd)
    if not p:
        raise Fail("%s is not installed (apt-get install %s; scripts/deps.sh does this)" % (cmd, pkg))
    return p


SMALL = [("small-0.bin", 0), ("small-1.bin", 1), ("small-1000.bin", 1000),
         ("small-1350.bin", 1350), ("small-16384.bin", 16384), ("small-65537.bin", 65537),
         ("small-300001.bin", 300001)]

# More concurrent requests than the usual initial stream limit (100): the
# client must wait for MAX_STREAMS, the server must grant more.
MANY = [("many/f%03d.bin" % i, 37 * i) for i in range(1, 151)]


# ---------------------------------------------------------------- servers

def start_caddy(work, root):
    caddy = need_cmd("caddy", "caddy")
    home = work.path("caddy-home")
    os.makedirs(home, exist_ok=True)
    env = dict(os.environ, HOME=home, XDG_DATA_HOME=os.path.join(home, "data"),
               XDG_CONFIG_HOME=os.path.join(home, "config"))
    for attempt in range(3):
        port = free_port()
        # Our own config on high ports: no admin endpoint, no :80 redirect
        # listener, the local CA stays in our temp dir (not the system store).
        # default_sni: clients send no SNI for an IP literal (RFC 6066 §3),
        # and caddy would then find no certificate.
        caddyfile = work.path("Caddyfile")
        with open(caddyfile, "w") as f:
            f.write("""{
	admin off
	skip_install_trust
	default_sni 127.0.0.1
	auto_https disable_redirects
	http_port %d
	https_port %d
	servers {
		protocols h1 h2 h3
	}
}
https://127.0.0.1:%d {
	bind 127.0.0.1
	tls internal
	root * %s
	file_server
}
""" % (free_port(), port, port, root))
        p = work.spawn("caddy", [caddy, "run", "--config", caddyfile, "--adapter", "caddyfile"], env=env)
        deadline = time.monotonic() + 30
        ready = False
        while time.monotonic() < deadline and p.poll() is None:
            with open(p.err_path, errors="replace") as f:
                text = f.read()
            if "serving initial configuration" in text:
                ready = True
                break
            time.sleep(0.1)
        if ready:
            break
        with open(p.err_path, errors="replace") as f:
            text = f.read()
        work.stop(p)
        if "address already in use" in text and attempt < 2:
            log("  port %d taken meanwhile, retrying" % port)
            continue
        raise Fail("caddy did not start (exit %s)\n  stderr:\n%s" % (p.returncode, tail(p.err_path)))
    ca = os.path.join(home, "data", "caddy", "pki", "authorities", "local", "root.crt")
    with open(p.err_path, errors="replace") as f:
        text = f.read()
    if "enabling HTTP/3 listener" not in text:
        raise Fail("caddy did not enable HTTP/3\n  stderr:\n%s" % tail(p.err_path))
    # The leaf for 127.0.0.1 is issued by the local CA just after start; until
    # then handshakes fail.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and p.poll() is None:
        with open(p.err_path, errors="replace") as f:
            if "certificate obtained successfully" in f.read() and os.path.exists(ca):
                break
        time.sleep(0.05)
    else:
        raise Fail("caddy obtained no certificate for 127.0.0.1 from its local CA (%s)\n  stderr:\n%s"
                   % (ca, tail(p.err_path)))
    log("  caddy ready on 127.0.0.1:%d (UDP+TCP), local CA %s" % (port, ca))
    return p, port, ca


def start_quicgo_server(work, binary, root):
    need(binary, "quic-go server", "build target test/interop/quicgo_server (needs golang-go and "
         "golang-github-lucas-clemente-quic-go-dev)")
    ca = work.path("quicgo-ca.pem")
    p = work.spawn("quicgo-server", [binary, "-root", root, "-listen", "127.0.0.1:0", "-cacert-out", ca],
                   env=keylog_env(work))
    info = wait_start_line(p)
    log("  quic-go server ready on 127.0.0.1:%d" % info["port"])
    return p, info, ca


def start_h3serve(work, binary, root):
    need(binary, "h3serve", "build target tools/h3serve")
    p = work.spawn("h3serve", [binary, "--root", root, "--listen", "127.0.0.1:0"], env=keylog_env(work))
    info = wait_start_line(p)
    if info["host"] != "127.0.0.1":
        raise Fail("h3serve start line names %s, expected 127.0.0.1" % info["host"])
    log("  h3serve ready on 127.0.0.1:%d, cert-sha256 %s, spki %s"
        % (info["port"], info["cert_sha256"], info["spki_b64"]))
    return p, info


def stop_h3serve(work, p):
    """SIGTERM is a graceful shutdown for h3serve: it must exit 0, promptly."""
    check_alive(p)
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        work.stop(p, grace=0.1)
        raise Fail("h3serve did not exit within 15s of SIGTERM\n  stderr:\n%s" % tail(p.err_path))
    log("  %-4s h3serve exited %d on SIGTERM after %.2fs"
        % ("ok" if rc == 0 else "FAIL", rc, time.monotonic() - t0))
    if rc != 0:
        raise Fail("h3serve exited %d on SIGTERM (expected 0)\n  stderr:\n%s" % (rc, tail(p.err_path)))


def keylog_env(work):
    return dict(os.environ, SSLKEYLOGFILE=work.path("keys.log"))


def check_alive(p):
    if p.poll() is not None:
        raise Fail("%s died (exit %s)\n  stderr:\n%s" % (p.name, p.returncode, tail(p.err_path)))


# ---------------------------------------------------------------- clients

def h3get_fetch(work, h3get, port, files, trust, name="h3get", host="127.0.0.1", quiet=False):
    """One h3get run fetching every file over one connection; checks bytes and --sha256 lines.
    quiet: log only differences and a summary."""
    need(h3get, "h3get", "build target tools/h3get")
    outdir = work.path(name + "-out")
    os.makedirs(outdir, exist_ok=True)
    names = sorted(files)
    urls = ["https://%s:%d/%s" % (host, port, n) for n in names]
    argv = [h3get, "-s", "--sha256", "--timeout", "120"] + trust
    for n in names:
        os.makedirs(os.path.dirname(os.path.join(outdir, n)), exist_ok=True)
        argv += ["-o", os.path.join(outdir, n)]
    rc, _, err = run(work, name, argv + urls, timeout=150, env=keylog_env(work))
    if rc != 0:
        raise Fail("h3get exited %d (expected 0)\n  stderr:\n%s" % (rc, tail(err)))
    with open(err, errors="replace") as f:
        reported = {m.group(3): (m.group(1), int(m.group(2)))
                    for m in re.finditer(r"^sha256 ([0-9a-f]{64}) (\d+) (\S+)$", f.read(), re.M)}
    problems = []
    for n, url in zip(names, urls):
        compare(files[n], os.path.join(outdir, n), "h3get " + url, problems, quiet)
        want = (sha256_file(files[n]), os.path.getsize(files[n]))
        if reported.get(url) != want:
            problems.append("h3get --sha256 line for %s is %s, expected sha256 %s %d"
                            % (url, reported.get(url), want[0], want[1]))
    if problems:
        raise Fail("%d problem(s):\n  " % len(problems) + "\n  ".join(problems))
    if quiet:
        log("  ok   h3get: %d files byte-exact" % len(urls))
    log("  h3get --sha256 lines match for %d URLs" % len(urls))


def h3get_post(work, h3get, port, upload, trust, name="h3get-post"):
    """POST a file; the server answers `received <N> bytes sha256 <hex>`."""
    url = "https://127.0.0.1:%d/upload" % port
    rc, out, err = run(work, name, [h3get, "-s", "--timeout", "60"] + trust +
                       ["--data-binary", "@" + upload, url], timeout=90, env=keylog_env(work))
    if rc != 0:
        raise Fail("h3get POST exited %d\n  stderr:\n%s" % (rc, tail(err)))
    want = "received %d bytes sha256 %s" % (os.path.getsize(upload), sha256_file(upload))
    with open(out, errors="replace") as f:
        got = f.read().strip()
    log("  %-4s POST %s: server says '%s'" % ("ok" if got == want else "DIFF", url, got))
    if got != want:
        raise Fail("POST of %s: server answered %r, expected %r" % (upload, got, want))


def h3get_head_and_404(work, h3get, port, path, size, trust):
    """HEAD gives `HTTP/3 200` and the content-length; a missing file exits 22."""
    url = "https://127.0.0.1:%d/%s" % (port, path)
    rc, out, err = run(work, "h3get-head", [h3get, "-s", "-I", "--timeout", "30"] + trust + [url],
                       timeout=60)
    with open(out, errors="replace") as f:
        head = f.read()
    ok = rc == 0 and head.startswith("HTTP/3 200\n") and \
        re.search(r"^content-length: %d$" % size, head, re.M) is not None
    log("  %-4s HEAD %s: exit %d, %r" % ("ok" if ok else "FAIL", url, rc, head[:200]))
    if not ok:
        raise Fail("HEAD %s: expected exit 0, 'HTTP/3 200' and content-length: %d\n  stderr:\n%s"
                   % (url, size, tail(err)))
    url = "https://127.0.0.1:%d/no-such-file" % port
    rc, out, err = run(work, "h3get-404", [h3get, "-s", "-i", "--timeout", "30"] + trust + [url],
                       timeout=60)
    with open(out, errors="replace") as f:
        first = f.readline().strip()
    ok = rc == 22 and first == "HTTP/3 404"
    log("  %-4s GET %s: exit %d, %r" % ("ok" if ok else "FAIL", url, rc, first))
    if not ok:
        raise Fail("GET %s: expected exit 22 and 'HTTP/3 404'\n  stderr:\n%s" % (url, tail(err)))


def quicgo_fetch(work, client, port, files, trust, name="quicgo-client", post=None, quiet=False):
    need(client, "quic-go client", "build target test/interop/quicgo_client (needs golang-go and "
         "golang-github-lucas-clemente-quic-go-dev)")
    outdir = work.path(name + "-out")
    os.makedirs(outdir, exist_ok=True)
    names = sorted(files)
    urls = ["https://127.0.0.1:%d/%s" % (port, n) for n in names]
    argv = [client, "-timeout", "120s", "-outdir", outdir] + trust
    if post:
        argv += ["-post", post]
    rc, out, err = run(work, name, argv + urls, timeout=150, env=keylog_env(work))
    with open(out, errors="replace") as f:
        lines = f.read()
    if rc != 0:
        raise Fail("quic-go client exited %d\n  stdout:\n%s\n  stderr:\n%s" % (rc, lines, tail(err)))
    problems = []
    for n, url in zip(names, urls):
        m = re.search(r"^sha256 [0-9a-f]{64} \d+ (\d+) (\S+) %s$" % re.escape(url), lines, re.M)
        if not m or m.group(1) != "200" or m.group(2) != "HTTP/3.0":
            problems.append("quic-go client: no 200 HTTP/3 response line for %s" % url)
        if post is None:
            compare(files[n], os.path.join(outdir, os.path.basename(n)), "quic-go client " + url,
                    problems, quiet)
    if problems:
        raise Fail("%d problem(s):\n  " % len(problems) + "\n  ".join(problems) +
                   "\n  quic-go client stdout:\n" + lines)
    if quiet:
        log("  ok   quic-go client: %d responses%s" % (len(urls), "" if post else ", byte-exact"))
    return outdir, names, urls


# ---------------------------------------------------------------- Chromium

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>wtcpp interop</title>
<script src="page.js"></script></head>
<body><p id="status">loading</p></body></html>
"""

PAGE_JS = r"""
// Fetches the big file, hashes it with crypto.subtle and reports the digest
// and every performance entry's nextHopProtocol to the test's result server.
const REPORT = new URL(location.href).searchParams.get('report');
async function report(obj) {
  console.log('wtcpp-result ' + JSON.stringify(obj));
  await fetch(REPORT, {method: 'POST', body: JSON.stringify(obj),
                       headers: {'Content-Type': 'text/plain'}});
}
function hex(buf) {
  return Array.from(new Uint8Array(buf), b => b.toString(16).padStart(2, '0')).join('');
}
async function main() {
  const r = await fetch('big.bin', {cache: 'no-store'});
  const buf = await r.arrayBuffer();
  const digest = hex(await crypto.subtle.digest('SHA-256', buf));
  const want = new URL('big.bin', location.href).href;
  let entries = [];
  for (let i = 0; i < 100; i++) {  // the resource entry lands after the body
    entries = performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'));
    if (entries.some(e => e.name === want)) break;
    await new Promise(res => setTimeout(res, 50));
  }
  await report({status: r.status, bytes: buf.byteLength, sha256: digest,
                entries: entries.map(e => ({name: e.name, type: e.entryType,
                                            nextHopProtocol: e.nextHopProtocol,
                                            transferSize: e.transferSize}))});
}
window.addEventListener('load', () => main().catch(e => report({error: String(e && e.stack || e)})));
"""


def netlog_summary(path, limit=25):
    """QUIC/HTTP3 error and close events of a Chromium net-log (for failure messages)."""
    try:
        with open(path, errors="replace") as f:
            text = f.read().rstrip().rstrip(",")
        if not text.endswith("]}"):
            text += "]}"  # cut short at exit
        j = json.loads(text)
    except (OSError, ValueError) as e:
        return "    (net-log %s unreadable: %s)" % (path, e)
    names = {v: k for k, v in j["constants"]["logEventTypes"].items()}
    lines = []
    for e in j.get("events", []):
        name = names.get(e.get("type"), str(e.get("type")))
        params = e.get("params") or {}
        if not (name.startswith("QUIC") or name.startswith("HTTP3")):
            continue
        if "CLOSE" in name or any(k in params for k in ("net_error", "quic_error", "error", "details")):
            lines.append("    %s %s" % (name, json.dumps(params)[:300]))
    if not lines:
        return "    (no QUIC/HTTP3 error events in %s)" % path
    return "\n".join(lines[:limit])


class ResultServer:
    """Plain-HTTP listener on 127.0.0.1 that takes one JSON POST from the page."""

    def __init__(self):
        self.result = None
        self.event = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _cors(self):
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Access-Control-Allow-Headers", "*")
                self.send_header("Access-Control-Allow-Private-Network", "true")

            def do_OPTIONS(self):
                self.send_response(204)
                self._cors()
                self.end_headers()

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(200)
                self._cors()
                self.send_header("Content-Length", "0")
                self.end_headers()
                try:
                    outer.result = json.loads(body)
                except ValueError:
                    outer.result = {"error": "unparsable report: %r" % body[:200]}
                outer.event.set()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def chromium_load(work, port, spki_b64, big_path, server):
    """Headless Chromium loads https://127.0.0.1:PORT/index.html over QUIC; checks the report."""
    chromium = need_cmd("chromium", "chromium")
    results = ResultServer()
    profile = work.path("chromium-profile")
    # Chromium's own TMPDIR (it leaves temp dirs behind otherwise), short
    # because its singleton socket path must fit in sun_path (108 bytes).
    chrome_tmp = tempfile.mkdtemp(prefix="wtc")
    work.extra_dirs.append(chrome_tmp)
    url = "https://127.0.0.1:%d/index.html?report=%s" % (
        port, "http://127.0.0.1:%d/result" % results.port)
    argv = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--user-data-dir=" + profile,
            "--origin-to-force-quic-on=127.0.0.1:%d" % port,
            "--ignore-certificate-errors-spki-list=" + spki_b64,
            "--enable-logging=stderr", "--v=0",
            "--log-net-log=" + work.path("netlog.json"),
            "--ssl-key-log-file=" + work.path("keys.log"),
            url]
    # Its own HOME too: NSS keeps a database in ~/.pki, and CI may have no HOME.
    env = dict(os.environ, TMPDIR=chrome_tmp, HOME=profile, XDG_CONFIG_HOME=os.path.join(profile, "config"),
               XDG_CACHE_HOME=os.path.join(profile, "cache"))
    t0 = time.monotonic()
    p = work.spawn("chromium", argv, env=env)
    deadline = t0 + 90
    while time.monotonic() < deadline and not results.event.is_set():
        if p.poll() is not None:
            raise Fail("chromium exited with status %s before the page reported\n  stderr:\n%s"
                       % (p.returncode, tail(p.err_path)))
        check_alive(server)
        results.event.wait(0.2)
    elapsed = time.monotonic() - t0
    # SIGTERM first so the net-log is flushed, then the process group.
    work.stop(p, grace=10.0)
    results.close()
    res = results.result
    if res is None:
        raise Fail("the page reported nothing within 90s\n  chromium stderr:\n%s\n  net-log:\n%s"
                   % (tail(p.err_path), netlog_summary(work.path("netlog.json"))))
    log("  page reported after %.2fs: %s" % (elapsed, json.dumps(
        {k: v for k, v in res.items() if k != "entries"})))
    if "error" in res:
        raise Fail("the page failed: %s\n  chromium stderr:\n%s\n  net-log:\n%s"
                   % (res["error"], tail(p.err_path), netlog_summary(work.path("netlog.json"))))
    want_sha, want_n = sha256_file(big_path), os.path.getsize(big_path)
    ok = res.get("status") == 200 and res.get("bytes") == want_n and res.get("sha256") == want_sha
    log("  %-4s big.bin: served %d bytes sha256 %s, page got status %s, %s bytes sha256 %s"
        % ("ok" if ok else "DIFF", want_n, want_sha, res.get("status"), res.get("bytes"),
           res.get("sha256")))
    if not ok:
        raise Fail("the bytes the page received differ from big.bin")
    # The navigation (the page; after a redirect quic-go's file server sends
    # for /index.html it is named "/"), the script and the big file, and every
    # other entry of our origin, must have been fetched over HTTP/3.
    base = "https://127.0.0.1:%d/" % port
    entries = res.get("entries", [])
    required = {"navigation": lambda e: e["type"] == "navigation",
                "page.js": lambda e: e["name"] == base + "page.js",
                "big.bin": lambda e: e["name"] == base + "big.bin"}
    for label, match in required.items():
        if not any(match(e) for e in entries):
            raise Fail("no performance entry for %s; entries: %s" % (label, json.dumps(entries)))
    for e in entries:
        if not e["name"].startswith(base):
            continue
        proto = e.get("nextHopProtocol")
        log("  %-4s %s entry %s: nextHopProtocol %r, transferSize %s"
            % ("ok" if proto == "h3" else "FAIL", e["type"], e["name"].split("?")[0], proto,
               e.get("transferSize")))
        if proto != "h3":
            raise Fail("%s was not loaded over HTTP/3 (nextHopProtocol %r)" % (e["name"], proto))


def chromium_site(work):
    root = work.path("www")
    files = make_files(root, [("big.bin", 10 * 1000 * 1000)], "chromium")
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write(PAGE)
    with open(os.path.join(root, "page.js"), "w") as f:
        f.write(PAGE_JS)
    return root, files["big.bin"]


# ---------------------------------------------------------------- tests

def test_h3get_caddy(a, work):
    root = work.path("www")
    files = make_files(root, SMALL + [("big.bin", 50 * 1000 * 1000)], "caddy")
    caddy, port, ca = start_caddy(work, root)
    trust = ["--cacert", ca]
    work.check(h3get_fetch, work, a.h3get, port, files, trust)
    work.check(h3get_head_and_404, work, a.h3get, port, "big.bin", os.path.getsize(files["big.bin"]), trust)
    check_alive(caddy)


def test_control_quicgo_caddy(a, work):
    root = work.path("www")
    files = make_files(root, SMALL + [("big.bin", 50 * 1000 * 1000)], "caddy")
    caddy, port, ca = start_caddy(work, root)
    work.check(quicgo_fetch, work, a.quicgo_client, port, files, ["-cacert", ca])
    check_alive(caddy)


def test_h3get_quicgo(a, work):
    root = work.path("www")
    files = make_files(root, SMALL + [("big.bin", 20 * 1000 * 1000)], "quicgo")
    many = make_files(root, MANY, "many")
    server, info, ca = start_quicgo_server(work, a.quicgo_server, root)
    trust = ["--cacert", ca]
    work.check(h3get_fetch, work, a.h3get, info["port"], files, trust)
    work.check(h3get_fetch, work, a.h3get, info["port"], many, trust, name="h3get-many", quiet=True)
    work.check(h3get_post, work, a.h3get, info["port"], files["big.bin"], trust)
    check_alive(server)


def quicgo_client_checks(a, work, port, files, many, trust):
    """The quic-go client's share: files, 150 concurrent requests, a big POST."""
    work.check(quicgo_fetch, work, a.quicgo_client, port, files, trust)
    work.check(quicgo_fetch, work, a.quicgo_client, port, many, trust, name="quicgo-many", quiet=True)
    work.check(quicgo_post, work, a.quicgo_client, port, files["big.bin"], trust)


def quicgo_post(work, client, port, upload, trust):
    outdir, _, urls = quicgo_fetch(work, client, port, {"upload": upload}, trust, name="quicgo-post",
                                   post=upload)
    check_post_answer(os.path.join(outdir, "upload"), upload, urls[0])


def test_quicgo_h3serve(a, work):
    root = work.path("www")
    files = make_files(root, SMALL + [("big.bin", 20 * 1000 * 1000)], "h3serve")
    many = make_files(root, MANY, "many")
    server, info = start_h3serve(work, a.h3serve, root)
    quicgo_client_checks(a, work, info["port"], files, many, ["-cert-sha256", info["cert_sha256"]])
    stop_h3serve(work, server)


def test_control_quicgo_quicgo(a, work):
    root = work.path("www")
    files = make_files(root, SMALL + [("big.bin", 20 * 1000 * 1000)], "quicgo")
    many = make_files(root, MANY, "many")
    server, info, ca = start_quicgo_server(work, a.quicgo_server, root)
    quicgo_client_checks(a, work, info["port"], files, many, ["-cacert", ca])
    check_alive(server)


def check_post_answer(answer_path, upload, url):
    want = "received %d bytes sha256 %s" % (os.path.getsize(upload), sha256_file(upload))
    with open(answer_path, errors="replace") as f:
        got = f.read().strip()
    log("  %-4s POST %s: server says '%s'" % ("ok" if got == want else "DIFF", url, got))
    if got != want:
        raise Fail("POST: server answered %r, expected %r" % (got, want))


def test_chromium_h3serve(a, work):
    root, big = chromium_site(work)
    server, info = start_h3serve(work, a.h3serve, root)
    chromium_load(work, info["port"], info["spki_b64"], big, server)
    stop_h3serve(work, server)


def test_control_chromium_quicgo(a, work):
    root, big = chromium_site(work)
    server, info, _ = start_quicgo_server(work, a.quicgo_server, root)
    chromium_load(work, info["port"], info["spki_b64"], big, server)
    check_alive(server)


TESTS = {name[len("test_"):]: fn for name, fn in globals().items() if name.startswith("test_")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("test", choices=sorted(TESTS))
    ap.add_argument("--h3get", default="")
    ap.add_argument("--h3serve", default="")
    ap.add_argument("--quicgo-server", default="")
    ap.add_argument("--quicgo-client", default="")
    a = ap.parse_args()
    work = Work(a.test)
    t0 = time.monotonic()
    try:
        TESTS[a.test](a, work)
        if work.failures:
            raise Fail("%d check(s) failed:\n" % len(work.failures) +
                       "\n".join("  - " + f.replace("\n", "\n    ") for f in work.failures))
    except Fail as e:
        log("FAIL %s (%.1fs): %s" % (a.test, time.monotonic() - t0, e))
        return 1
    work.ok = True
    log("PASS %s (%.1fs)" % (a.test, time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
