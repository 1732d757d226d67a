#!/usr/bin/env python3
"""The web page in a real browser: `anomalykit serve` on loopback, driven by
headless Chromium over the DevTools protocol (standard library only: a
minimal WebSocket client is below).

    python3 Tests/Browser/browser_test.py [ANOMALYKIT_BINARY] [--screenshots DIR]

It fits a patch bank on the bundled demo images and a text detector from
Examples/coldstart/descriptions.json, serves both, and checks:

- the page loads with no console error and says what is loaded;
- a demo image uploaded through the file input gets its heatmap, and the
  score and verdict on the page match the JSON API's;
- with an image cold-start detector, images observed through the page move
  the count, and a scored image's score and class match the JSON API's;
- texts typed into the box get a table whose verdicts and classes match the
  JSON API's; observations move the count on the page;
- a non-image upload shows the server's JSON error in the page, and an
  oversized one the 413 message;
- at 375 px (a phone) nothing overflows sideways; the page weighs < 50 KB.

Screenshots (1440 px and 375 px) go to --screenshots (default: a temporary
folder). Exit status 0 when every check passes; each failure is printed.
"""
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "Examples", "demo")
FAILURES = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        FAILURES.append(what)


# MARK: - A minimal WebSocket client (RFC 6455), enough for DevTools


class WebSocket:
    def __init__(self, url):
        assert url.startswith("ws://")
        host_port, path = url[5:].split("/", 1)
        host, port = host_port.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET /{path} HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(request.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("DevTools closed the connection during the handshake")
            response += chunk
        if b" 101 " not in response.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"WebSocket handshake refused: {response[:200]!r}")
        self.buffer = response.split(b"\r\n\r\n", 1)[1]

    def send(self, text):
        payload = text.encode()
        header = bytearray([0x81])
        n = len(payload)
        if n < 126:
            header.append(0x80 | n)
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(bytes(header) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError("DevTools closed the connection")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def receive(self):
        message = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            opcode = b0 & 0x0F
            if opcode == 0x9:  # ping: answer, keep reading
                continue
            message += payload
            if b0 & 0x80:
                return message.decode()


class DevTools:
    """One page's DevTools session: commands, and the events seen so far."""

    def __init__(self, url):
        self.ws = WebSocket(url)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.receive())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, what, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.2)
        raise RuntimeError(f"timed out waiting for {what}")

    def set_files(self, selector, paths):
        root = self.call("DOM.getDocument")["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        self.call("DOM.setFileInputFiles", nodeId=node, files=paths)

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def console_errors(self, since=0):
        """Errors the page raised or logged (from event `since` on): exceptions, console.error, and log entries."""
        out = []
        for e in self.events[since:]:
            method, p = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(("exception", p["exceptionDetails"].get("text", ""), ""))
            elif method == "Runtime.consoleAPICalled" and p.get("type") == "error":
                out.append(("console", " ".join(str(a.get("value", "")) for a in p.get("args", [])), ""))
            elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append((p["entry"].get("source", ""), p["entry"].get("text", ""), p["entry"].get("url", "")))
        return out


# MARK: - The service and the browser


def run(binary, *args):
    result = subprocess.run([binary, *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"anomalykit {' '.join(args)}: {result.stderr}")


def start_server(binary, *args):
    process = subprocess.Popen([binary, "serve", "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline().strip()
    if not line.startswith("listening on "):
        process.kill()
        raise RuntimeError(f"serve did not start: {line!r}")
    return process, line[len("listening on "):]


def start_chromium(profile):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not chromium:
        raise RuntimeError("no chromium on PATH (Debian: apt-get install chromium)")
    process = subprocess.Popen(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1440,1000", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.time() + 60
    while not (os.path.exists(port_file) and open(port_file).read().count("\n") >= 1):
        if time.time() > deadline or process.poll() is not None:
            raise RuntimeError("chromium did not open its DevTools port")
        time.sleep(0.1)
    port = int(open(port_file).read().split("\n")[0])
    for _ in range(100):
        pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        pages = [p for p in pages if p.get("type") == "page"]
        if pages:
            return process, pages[0]["webSocketDebuggerUrl"]
        time.sleep(0.1)
    raise RuntimeError("chromium has no page target")


def api(base, path, body, content_type):
    host = base.split("//", 1)[1]
    connection = http.client.HTTPConnection(host, timeout=60)
    connection.request("POST", path, body=body, headers={"Content-Type": content_type})
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def main():
    args = [a for a in sys.argv[1:]]
    shots = None
    if "--screenshots" in args:
        i = args.index("--screenshots")
        shots = args[i + 1]
        del args[i:i + 2]
    binary = args[0] if args else os.path.join(ROOT, ".build", "release", "anomalykit")
    work = tempfile.mkdtemp(prefix="ak-browser-")
    shots = shots or work
    os.makedirs(shots, exist_ok=True)
    bank, detector = os.path.join(work, "bank.safetensors"), os.path.join(work, "detector.safetensors")
    run(binary, "fit", "--patches", os.path.join(DEMO, "normal"), "--out", bank)
    run(binary, "adapt", "--descriptions", os.path.join(ROOT, "Examples", "coldstart", "descriptions.json"), "--out", detector)
    server, base = start_server(binary, "--bank", bank, "--detector", detector, "--max-body-bytes", "512K")
    browser, page_url = start_chromium(os.path.join(work, "profile"))
    try:
        page = DevTools(page_url)
        for domain in ("Page", "Runtime", "Log", "DOM"):
            page.call(f"{domain}.enable")
        page.call("Emulation.setDeviceMetricsOverride", width=1440, height=1000, deviceScaleFactor=1, mobile=False)
        page.call("Page.navigate", url=base + "/")
        page.wait_for("document.body && document.body.dataset.ready === 'true'", "the page to load /v1/info")
        info = page.evaluate("document.getElementById('info-list').textContent")
        check("Patch bank" in info and "Threshold" in info and "Cold-start text detector" in info, f"info panel in words: {info[:120]}…")

        # An image through the file input: heatmap, score and verdict as the JSON API says.
        defect = os.path.join(DEMO, "test", "defect_0.png")
        page.set_files("#image-input", [defect])
        page.wait_for("document.querySelector('#image-results .card[data-state=done] img.heatmap')?.complete", "the heatmap")
        shown = page.evaluate("""(() => { const dd = [...document.querySelectorAll('#image-results .card dd')].map(d => d.textContent);
          return {score: dd[0], threshold: dd[1], verdict: dd[2], width: document.querySelector('#image-results img.heatmap').naturalWidth}; })()""")
        status, answer = api(base, "/v1/score/image", open(defect, "rb").read(), "image/png")
        check(status == 200, "JSON API scores the same image")
        check(shown["verdict"] == ("ANOMALOUS" if answer["anomalous"] else "normal"), f"verdict on the page ({shown['verdict']}) matches the API ({answer['anomalous']})")
        check(abs(float(shown["score"]) - answer["score"]) <= 1e-3 * abs(answer["score"]), f"score on the page ({shown['score']}) matches the API ({answer['score']:.4f})")
        check(shown["width"] > 0, "the heatmap overlay is shown")
        ok = os.path.join(DEMO, "test", "ok_0.png")
        page.set_files("#image-input", [ok])
        page.wait_for("document.querySelectorAll('#image-results .card[data-state=done]').length === 2", "the second image")

        # Texts: the table's verdicts and classes are the API's.
        queries = ["where is my new card", "book me a table for two", "<b>not html</b>"]
        page.evaluate(f"document.getElementById('text-input').value = {json.dumps(chr(10).join(queries))}")
        page.evaluate("document.getElementById('text-score').click()")
        page.wait_for("document.getElementById('text-results').dataset.state === 'done'", "the text table")
        rows = page.evaluate("[...document.querySelectorAll('#text-results tbody tr')].map(r => [...r.cells].map(c => c.textContent))")
        status, answer = api(base, "/v1/score/text", json.dumps({"texts": queries}), "application/json")
        check(len(rows) == 3 and status == 200, "one table row per query")
        for row, result in zip(rows, answer.get("results", [])):
            verdict = "no threshold yet" if result["anomalous"] is None else ("ANOMALOUS" if result["anomalous"] else "normal")
            check(row[0] == result["text"] and row[2] == result["class"] and row[3] == verdict, f"row {row[0]!r}: class and verdict match the API")
        check(page.evaluate("document.querySelectorAll('#text-results b').length") == 0, "text is shown as text, never as HTML")

        # Observations move the count.
        page.evaluate("document.getElementById('observation-input').value = 'my card has not arrived\\nhow do I activate my card'")
        page.evaluate("document.getElementById('observation-submit').click()")
        count = page.wait_for("document.getElementById('observation-status').dataset.observations", "the observation count")
        check(count == "2", f"the page shows 2 observations (shows {count})")
        page.screenshot(os.path.join(shots, "web-ui-1440.png"))
        errors = page.console_errors()
        check(errors == [], f"no console errors on the happy path: {errors}")

        # Bad input: the server's JSON error in the page, and the 413 message.
        before = len(page.events)
        junk = os.path.join(work, "notes.png")
        with open(junk, "w") as f:
            f.write("this is not an image")
        page.set_files("#image-input", [junk])
        message = page.wait_for("(() => { const e = document.getElementById('image-error'); return !e.hidden && e.textContent; })()", "the error message")
        check("400" in message and "not a PNG or JPEG" in message, f"non-image upload shows the server's message: {message}")
        huge = os.path.join(work, "huge.png")
        with open(huge, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + os.urandom(1 << 20))
        page.set_files("#image-input", [huge])
        message = page.wait_for("(() => { const m = document.getElementById('image-error').textContent; return m.includes('413') && m; })()", "the 413 message")
        check("--max-body-bytes" in message, f"oversized upload shows the 413 message: {message}")
        page.events = page.events[:before] + [e for e in page.events[before:] if not (
            e.get("method") == "Log.entryAdded" and e["params"]["entry"].get("source") == "network")]
        check(page.console_errors() == [], "bad input raises no script error (only the failed requests are logged)")

        # A phone: 375 px wide, nothing overflows sideways.
        page.call("Emulation.setDeviceMetricsOverride", width=375, height=800, deviceScaleFactor=2, mobile=True)
        time.sleep(0.5)
        width = page.evaluate("document.documentElement.scrollWidth")
        check(width <= 375, f"no horizontal overflow at 375 px (scroll width {width})")
        page.screenshot(os.path.join(shots, "web-ui-375.png"))

        # An image cold-start detector: images are scored against its classes
        # and observed through the page.
        image_detector = os.path.join(work, "image-detector.safetensors")
        run(binary, "adapt", "--imagenet-classes", "stone wall,825", "--resize", "stretch", "--out", image_detector)
        server2, base2 = start_server(binary, "--detector", image_detector)
        try:
            mark = len(page.events)
            page.call("Emulation.setDeviceMetricsOverride", width=1440, height=1000, deviceScaleFactor=1, mobile=False)
            page.call("Page.navigate", url=base2 + "/")
            page.wait_for("document.body && document.body.dataset.ready === 'true'", "the image-detector page")
            info = page.evaluate("document.getElementById('info-list').textContent")
            check("Cold-start image detector" in info and "ImageNet" in info, f"image detector described: {info[:100]}…")
            page.set_files("#observation-image-input", [os.path.join(DEMO, "normal", n) for n in ("brick_00.png", "brick_01.png")])
            count = page.wait_for("(() => { const s = document.getElementById('observation-status').dataset.observations; return s === '2' && s; })()", "two image observations")
            check(count == "2", "image observations move the count on the page")
            page.set_files("#image-input", [defect])
            page.wait_for("!!document.querySelector('#image-results .card[data-state=done]')", "the image detector's score")
            shown = page.evaluate("[...document.querySelectorAll('#image-results .card dd')].map(d => d.textContent)")
            status, answer = api(base2, "/v1/score/image", open(defect, "rb").read(), "image/png")
            result = answer.get("results", [{}])[0]
            check(status == 200 and shown[2] == result.get("class") and abs(float(shown[0]) - result["score"]) <= 1e-3 * abs(result["score"]),
                  f"image detector: score and class on the page ({shown[0]}, {shown[2]}) match the API ({result.get('score')}, {result.get('class')})")
            check(page.console_errors(since=mark) == [], f"no console errors with the image detector: {page.console_errors(since=mark)}")
        finally:
            server2.send_signal(signal.SIGTERM)
            server2.wait(timeout=30)

        weight = sum(len(urllib.request.urlopen(base + p).read()) for p in ("/", "/app.js", "/app.css"))
        check(weight < 50_000, f"page weight {weight} bytes < 50 KB")
        headers = urllib.request.urlopen(base + "/").headers
        check("script-src 'self'" in headers.get("Content-Security-Policy", ""), "the page sets a self-only Content-Security-Policy")
        print(f"screenshots: {shots}")
    finally:
        browser.send_signal(signal.SIGTERM)
        server.send_signal(signal.SIGTERM)
        browser.wait(timeout=30)
        server.wait(timeout=30)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        sys.exit(1)
    print("all browser checks passed")


if __name__ == "__main__":
    main()
