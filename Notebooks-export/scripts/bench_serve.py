#!/usr/bin/env python3
"""Load benchmark of `anomalykit serve` with wrk (Debian package) on loopback.

Fits a default image bank on Examples/demo/normal and a text detector from
Examples/coldstart/descriptions.json, starts the service on a free port, and
runs wrk against POST /v1/score/text and POST /v1/score/image at 1, 8 and 64
connections (requests/s, p50/p99 latency, failed requests). Then a 60-second
run on /v1/score/image at 8 connections samples the server's resident
memory every second (VmRSS from /proc) to show that it stays flat.

Usage (repository root, after `swift build -c release`; `apt-get install wrk`):
  python3 Notebooks-export/scripts/bench_serve.py [--seconds 10] [--soak 60]
Writes Notebooks-export/results/serve-load.json.
"""
import argparse, json, os, platform, re, subprocess, tempfile, threading, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".build/release/anomalykit"

LUA = """
local f = io.open("{body}", "rb")
wrk.body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "{ctype}"
"""


def parse_wrk(out):
    def seconds(text):
        v, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
        return float(v) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]
    r = {"requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
         "requests": int(re.search(r"(\d+) requests in", out).group(1))}
    for p in ("50", "99"):
        r[f"p{p}_ms"] = round(seconds(re.search(rf"\s{p}%\s+(\S+)", out).group(1)) * 1000, 2)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    r["failed"] = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, errors.groups())) if errors else 0)
    return r


def rss(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--soak", type=int, default=60)
    ap.add_argument("--out", default=str(ROOT / "Notebooks-export/results/serve-load.json"))
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    bank, detector = tmp / "bank.safetensors", tmp / "detector.safetensors"
    subprocess.run([BIN, "fit", ROOT / "Examples/demo/normal", "--out", bank], check=True, capture_output=True)
    subprocess.run([BIN, "adapt", "--descriptions", ROOT / "Examples/coldstart/descriptions.json", "--out", detector],
                   check=True, capture_output=True)
    (tmp / "text.json").write_text(json.dumps({"text": "I still have not received my new card"}))
    image = ROOT / "Examples/demo/test/defect_0.png"
    for name, body, ctype in [("text", tmp / "text.json", "application/json"), ("image", image, "image/png")]:
        (tmp / f"{name}.lua").write_text(LUA.format(body=body, ctype=ctype))
    server = subprocess.Popen([BIN, "serve", "--bank", bank, "--detector", detector, "--port", "0", "--max-queue", "128"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    base = server.stdout.readline().strip().removeprefix("listening on ")
    runs = []
    try:
        for endpoint in ("text", "image"):
            for connections in (1, 8, 64):
                out = subprocess.run(["wrk", "-t", "2" if connections > 1 else "1", "-c", str(connections), "-d", f"{a.seconds}s",
                                      "--timeout", "30s", "--latency", "-s", tmp / f"{endpoint}.lua", f"{base}/v1/score/{endpoint}"],
                                     check=True, capture_output=True, text=True).stdout
                r = {"endpoint": f"/v1/score/{endpoint}", "connections": connections, **parse_wrk(out)}
                print(json.dumps(r), flush=True)
                runs.append(r)
        samples = []
        stop = threading.Event()
        def sample():
            start = time.time()
            while not stop.is_set():
                samples.append((round(time.time() - start, 1), rss(server.pid)))
                time.sleep(1)
        t = threading.Thread(target=sample)
        t.start()
        out = subprocess.run(["wrk", "-t", "2", "-c", "8", "-d", f"{a.soak}s", "--timeout", "30s", "--latency", "-s", tmp / "image.lua",
                              f"{base}/v1/score/image"], check=True, capture_output=True, text=True).stdout
        stop.set()
        t.join()
        soak = {"endpoint": "/v1/score/image", "connections": 8, "seconds": a.soak, **parse_wrk(out),
                "rss_bytes": samples, "rss_first_10s_max": max(v for s, v in samples if s <= 10),
                "rss_last_10s_max": max(v for s, v in samples if s >= a.soak - 10), "rss_max": max(v for _, v in samples)}
        print(json.dumps({k: v for k, v in soak.items() if k != "rss_bytes"}), flush=True)
    finally:
        server.terminate()
        server.wait()
    Path(a.out).write_text(json.dumps({
        "machine": f"{os.cpu_count()} cores, {platform.machine()}", "date": time.strftime("%Y-%m-%d"),
        "command": "python3 Notebooks-export/scripts/bench_serve.py", "wrk_threads": "2 (1 for one connection)",
        "note": "wrk shares the 2 cores with the server", "runs": runs, "soak": soak}, indent=1) + "\n")


if __name__ == "__main__":
    main()
