#!/usr/bin/env python3
"""Measure Dask `distributed` vs Ray for fanning out a native CLI binary.

The integration only moves file paths and small .npy results through the
scheduler, so what matters is: start-up/shutdown cost, per-task overhead of a
tiny subprocess, resident memory of the cluster, install footprint, and what
happens when a worker process dies mid-task.

Measures whichever engine(s) import in the running interpreter:

    /root/venv/bin/python engine_choice.py            # dask
    /tmp/venv-ray/bin/python engine_choice.py         # ray

Prints one JSON object.  With ``--merge-into FILE`` it also updates FILE
(a JSON object keyed by engine name) with this interpreter's results, so two
runs from two venvs produce the combined file.  Run it under ``nice -n 10``
on shared machines.

Cluster shape, both engines: 2 worker processes, 1 task slot each.
  Dask: distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True)
  Ray:  ray.init(num_cpus=2), tasks with num_cpus=1
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

N_TASKS = 200
N_STARTS = 3
N_REPS = 3          # repetitions of the 200-task batch and the serial loop
N_ROUNDTRIP = 20    # one-task-at-a-time round trips
SLEEP_S = 3.0       # duration of the task whose worker gets killed
KILL_AFTER_S = 1.0  # kill the worker this long after the task started
TIMEOUT_S = 90.0

ROOT_DISTS = {"dask": ["dask", "distributed"], "ray": ["ray"]}


# --------------------------------------------------------------------------
# task bodies (module-level so both engines can pickle them by reference or
# by value; they only use the standard library)
# --------------------------------------------------------------------------
def true_task(i):
    subprocess.run(["/bin/true"], check=True)
    return f"ok-{i}"


def sleep_task(logdir, tag):
    """Record (pid, start time) for this attempt, then run `sleep 3`."""
    with open(os.path.join(logdir, f"{tag}.starts"), "a") as fh:
        fh.write(f"{os.getpid()} {time.time():.6f}\n")
    subprocess.run(["sleep", str(SLEEP_S)], check=True)
    return {"tag": tag, "pid": os.getpid(), "end": time.time()}


def noop():
    return "ok"


def getpid():
    return os.getpid()


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def median(xs):
    return statistics.median(xs) if xs else None


def serial_loop(n):
    t = time.perf_counter()
    for i in range(n):
        true_task(i)
    return time.perf_counter() - t


def read_starts(logdir, tag):
    path = os.path.join(logdir, f"{tag}.starts")
    if not os.path.exists(path):
        return []
    out = []
    with open(path) as fh:
        for line in fh:
            pid, ts = line.split()
            out.append((int(pid), float(ts)))
    return out


def wait_for_start(logdir, tag, timeout=TIMEOUT_S):
    t_end = time.time() + timeout
    while time.time() < t_end:
        s = read_starts(logdir, tag)
        if s:
            return s
        time.sleep(0.01)
    raise TimeoutError(f"task {tag} never started")


def _proc_mem(p):
    """(rss, pss, uss) in bytes; pss/uss None if not readable."""
    rss = p.memory_info().rss
    try:
        full = p.memory_full_info()
        return rss, getattr(full, "pss", None), getattr(full, "uss", None)
    except Exception:
        return rss, None, None


def cluster_memory(engine, baseline_pids, driver_rss_before):
    """Sum memory over the cluster's processes.

    Cluster processes = descendants of this driver, plus any process that
    appeared since `baseline_pids` whose command line names the engine
    (catches daemons re-parented away from the driver).  The driver itself
    is reported separately; for Dask the scheduler lives inside the driver
    process, so its cost is approximated by the driver's RSS growth.
    """
    try:
        import psutil
    except ImportError:
        return {"error": "psutil not importable"}
    me = psutil.Process()
    procs = {p.pid: p for p in me.children(recursive=True)}
    needle = "ray" if engine == "ray" else "distributed"
    for p in psutil.process_iter(["pid", "cmdline"]):
        if p.pid in procs or p.pid in baseline_pids or p.pid == me.pid:
            continue
        cmd = " ".join(p.info.get("cmdline") or [])
        if needle in cmd:
            procs[p.pid] = p
    rows, tot = [], {"rss": 0, "pss": 0, "uss": 0}
    for pid, p in sorted(procs.items()):
        try:
            rss, pss, uss = _proc_mem(p)
            name = " ".join(p.cmdline())[:120] or p.name()
        except Exception:
            continue
        if name.startswith("/bin/true") or name.startswith("sleep"):
            continue
        rows.append({"pid": pid, "cmd": name, "rss_mb": round(rss / 2**20, 1),
                     "pss_mb": None if pss is None else round(pss / 2**20, 1)})
        tot["rss"] += rss
        tot["pss"] += pss or 0
        tot["uss"] += uss or 0
    drv_rss = me.memory_info().rss
    res = {
        "n_processes": len(rows),
        "processes": rows,
        "cluster_procs_rss_mb": round(tot["rss"] / 2**20, 1),
        "cluster_procs_pss_mb": round(tot["pss"] / 2**20, 1),
        "cluster_procs_uss_mb": round(tot["uss"] / 2**20, 1),
        "driver_rss_mb": round(drv_rss / 2**20, 1),
        "driver_rss_growth_mb": round((drv_rss - driver_rss_before) / 2**20, 1),
    }
    # headline number: cluster processes + what the driver grew by
    # (== in-process scheduler for Dask; client-side state for Ray)
    res["total_rss_mb"] = round(res["cluster_procs_rss_mb"] + max(res["driver_rss_growth_mb"], 0), 1)
    return res


def installed_size(roots):
    """Bytes on disk of the dependency closure of `roots` (from RECORD files)."""
    import importlib.metadata as md
    try:
        from packaging.requirements import Requirement
    except ImportError:
        Requirement = None

    def norm(n):
        return n.lower().replace("_", "-").replace(".", "-")

    seen, stack, missing = {}, list(roots), []
    while stack:
        name = norm(stack.pop())
        if name in seen:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            missing.append(name)
            continue
        seen[name] = dist
        for r in dist.requires or []:
            if Requirement is not None:
                req = Requirement(r)
                if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                    continue
                stack.append(req.name)
            elif "extra ==" not in r:
                stack.append(r.split(";")[0].split("[")[0].split("<")[0].split(">")[0]
                             .split("=")[0].split("!")[0].split("~")[0].strip())
    per = {}
    for name, dist in seen.items():
        size = 0
        for f in dist.files or []:
            try:
                size += os.path.getsize(dist.locate_file(f))
            except OSError:
                pass
        per[f"{name}=={dist.version}"] = size
    return {
        "closure_bytes": sum(per.values()),
        "closure_mb": round(sum(per.values()) / 2**20, 1),
        "root_only_mb": round(sum(v for k, v in per.items()
                                  if k.split("==")[0] in {norm(r) for r in roots}) / 2**20, 1),
        "per_distribution_mb": {k: round(v / 2**20, 2) for k, v in sorted(per.items(), key=lambda kv: -kv[1])},
        "missing": missing,
        "method": "sum of file sizes listed in each distribution's RECORD (incl. .pyc pip compiled)",
    }


# --------------------------------------------------------------------------
# engine adapters
# --------------------------------------------------------------------------
class DaskEngine:
    name = "dask"

    def __init__(self):
        t = time.perf_counter()
        import distributed  # noqa: F401
        self.import_s = time.perf_counter() - t
        import dask
        self.versions = {"dask": dask.__version__, "distributed": distributed.__version__}
        self.cluster = self.client = None

    def start(self):
        from distributed import Client, LocalCluster
        self.cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                    silence_logs=40)
        self.client = Client(self.cluster)

    def first_result(self):
        return self.client.submit(noop, pure=False).result(timeout=TIMEOUT_S)

    def stop(self):
        self.client.close()
        self.cluster.close()
        self.client = self.cluster = None

    def run_batch(self, n):
        futs = self.client.map(true_task, range(n), pure=False)
        return self.client.gather(futs)

    def run_one(self, i):
        return self.client.submit(true_task, i, pure=False).result(timeout=TIMEOUT_S)

    def worker_pids(self):
        return set(self.client.run(os.getpid).values())

    def submit_sleep(self, logdir, tag):
        return self.client.submit(sleep_task, logdir, tag, pure=False)

    def gather(self, handles):
        return self.client.gather(handles)

    def n_workers(self):
        return len(self.client.scheduler_info()["workers"])

    def retry_policy(self):
        import dask
        return {"distributed.scheduler.allowed-failures":
                dask.config.get("distributed.scheduler.allowed-failures"),
                "note": "worker deaths while a task runs count against allowed-failures; "
                        "the Nanny restarts the dead worker process"}


class RayEngine:
    name = "ray"

    def __init__(self):
        t = time.perf_counter()
        import ray
        self.import_s = time.perf_counter() - t
        self.ray = ray
        self.versions = {"ray": ray.__version__}
        self._true = ray.remote(num_cpus=1)(true_task)
        self._sleep = ray.remote(num_cpus=1)(sleep_task)
        self._noop = ray.remote(num_cpus=1)(noop)
        self._pid = ray.remote(num_cpus=1)(getpid)

    def start(self):
        import logging
        self.ray.init(num_cpus=2, logging_level=logging.WARNING, log_to_driver=False)

    def first_result(self):
        return self.ray.get(self._noop.remote(), timeout=TIMEOUT_S)

    def stop(self):
        self.ray.shutdown()

    def run_batch(self, n):
        return self.ray.get([self._true.remote(i) for i in range(n)], timeout=TIMEOUT_S)

    def run_one(self, i):
        return self.ray.get(self._true.remote(i), timeout=TIMEOUT_S)

    def worker_pids(self):
        return set(self.ray.get([self._pid.remote() for _ in range(8)], timeout=TIMEOUT_S))

    def submit_sleep(self, logdir, tag):
        return self._sleep.remote(logdir, tag)

    def gather(self, handles):
        return self.ray.get(handles, timeout=TIMEOUT_S)

    def n_workers(self):
        return sum(1 for n in self.ray.nodes() if n.get("Alive"))  # nodes, not workers

    def retry_policy(self):
        return {"task max_retries default": 3,
                "note": "Ray retries tasks on system failures (worker process died) up to "
                        "max_retries; application exceptions are not retried unless "
                        "retry_exceptions=True; the raylet starts a fresh worker process"}


# --------------------------------------------------------------------------
# measurements
# --------------------------------------------------------------------------
def measure(engine_cls):
    res = {"errors": []}
    eng = engine_cls()
    res["versions"] = eng.versions
    res["import_s"] = round(eng.import_s, 3)
    try:
        import psutil
        baseline_pids = set(psutil.pids())
        drv_before = psutil.Process().memory_info().rss
    except ImportError:
        baseline_pids, drv_before = set(), 0

    # 1 + 3: start-up (to first result), memory, shutdown; 3 times
    starts, stops, mems = [], [], []
    for k in range(N_STARTS):
        t0 = time.perf_counter()
        eng.start()
        eng.first_result()
        starts.append(time.perf_counter() - t0)
        time.sleep(1.0)  # let prestarted workers/agents settle before memory
        mems.append(cluster_memory(eng.name, baseline_pids, drv_before))
        if k < N_STARTS - 1:
            t1 = time.perf_counter()
            eng.stop()
            stops.append(time.perf_counter() - t1)
            time.sleep(0.5)
    res["startup_to_first_result_s"] = {"samples": [round(x, 3) for x in starts],
                                        "median": round(median(starts), 3)}
    res["memory_after_startup"] = {
        "total_rss_mb_samples": [m.get("total_rss_mb") for m in mems],
        "total_rss_mb_median": median([m.get("total_rss_mb") for m in mems if "total_rss_mb" in m]),
        "cluster_procs_pss_mb_median": median([m.get("cluster_procs_pss_mb") for m in mems if "total_rss_mb" in m]),
        "detail_last": mems[-1],
    }

    # 2: per-task overhead (cluster from the 3rd start is still up)
    try:
        eng.run_batch(10)  # warm: ship the function, spawn lazily-started workers
        ser, par, one = [], [], []
        for _ in range(N_REPS):
            ser.append(serial_loop(N_TASKS))
            t = time.perf_counter()
            out = eng.run_batch(N_TASKS)
            par.append(time.perf_counter() - t)
            assert len(out) == N_TASKS and out[-1] == f"ok-{N_TASKS - 1}"
        for i in range(N_ROUNDTRIP):
            t = time.perf_counter()
            eng.run_one(i)
            one.append(time.perf_counter() - t)
        s, p = median(ser), median(par)
        res["per_task"] = {
            "n_tasks": N_TASKS,
            "serial_loop_s": {"samples": [round(x, 4) for x in ser], "median": round(s, 4)},
            "engine_batch_s": {"samples": [round(x, 4) for x in par], "median": round(p, 4)},
            "overhead_ms_per_task_vs_serial": round((p - s) / N_TASKS * 1e3, 3),
            "overhead_ms_per_task_worker_time": round((2 * p - s) / N_TASKS * 1e3, 3),
            "serial_ms_per_subprocess": round(s / N_TASKS * 1e3, 3),
            "single_task_roundtrip_ms_median": round(median(one) * 1e3, 2),
            "definitions": {
                "overhead_ms_per_task_vs_serial": "(engine_batch - serial_loop)/200; <0 means the 2 workers' "
                                                  "parallelism beat the scheduling cost",
                "overhead_ms_per_task_worker_time": "(2*engine_batch - serial_loop)/200: worker-slot time "
                                                    "per task beyond the subprocess itself",
                "single_task_roundtrip_ms_median": "submit one task and wait for it, 20 times (includes the "
                                                   "~serial_ms_per_subprocess of /bin/true)",
            },
        }
    except Exception:
        res["errors"].append("per_task: " + traceback.format_exc())

    # 5: SIGKILL a worker process while it runs `sleep 3`
    try:
        res["kill_worker"] = kill_test(eng)
    except Exception:
        res["errors"].append("kill_worker: " + traceback.format_exc())

    t1 = time.perf_counter()
    try:
        eng.stop()
        stops.append(time.perf_counter() - t1)
    except Exception:
        res["errors"].append("final stop: " + traceback.format_exc())
    res["shutdown_s"] = {"samples": [round(x, 3) for x in stops],
                         "median": round(median(stops), 3) if stops else None}
    time.sleep(1.0)
    try:
        import psutil
        left = [" ".join(p.cmdline())[:100] for p in psutil.process_iter()
                if p.pid not in baseline_pids and p.pid != os.getpid()
                and ("ray" in " ".join(p.cmdline()) or "distributed" in " ".join(p.cmdline()))]
        res["processes_left_after_shutdown"] = left
    except Exception:
        pass

    # 4: install footprint
    try:
        res["installed_size"] = installed_size(ROOT_DISTS[eng.name])
    except Exception:
        res["errors"].append("installed_size: " + traceback.format_exc())
    return res


def kill_test(eng):
    """Job of 2 `sleep 3` tasks (one per worker); SIGKILL the worker running
    task a, KILL_AFTER_S after it started.  Report retries and timings."""
    out = {"retry_policy": eng.retry_policy()}
    pids_before = eng.worker_pids()
    out["worker_pids_before"] = sorted(pids_before)
    with tempfile.TemporaryDirectory(prefix="engine_kill_") as logdir:
        t_submit = time.time()
        handles = [eng.submit_sleep(logdir, "a"), eng.submit_sleep(logdir, "b")]
        first = wait_for_start(logdir, "a")
        victim, t_start = first[0]
        out["victim_pid_is_a_worker_pid"] = victim in pids_before
        delay = t_start + KILL_AFTER_S - time.time()
        if delay > 0:
            time.sleep(delay)
        t_kill = time.time()
        os.kill(victim, signal.SIGKILL)
        try:
            results = eng.gather(handles)
            t_done = time.time()
            out["job_finished"] = True
            out["results"] = results
        except Exception as e:  # noqa: BLE001
            t_done = time.time()
            out["job_finished"] = False
            out["failure"] = f"{type(e).__name__}: {e}"[:2000]
        starts_a = read_starts(logdir, "a")
        starts_b = read_starts(logdir, "b")
    out["attempts_task_a"] = len(starts_a)
    out["attempts_task_b"] = len(starts_b)
    out["task_retried_automatically"] = len(starts_a) >= 2
    out["victim_pid"] = victim
    if len(starts_a) >= 2:
        out["retry_pid"] = starts_a[1][0]
        out["kill_to_retry_start_s"] = round(starts_a[1][1] - t_kill, 3)
    out["kill_to_job_done_s"] = round(t_done - t_kill, 3)
    out["job_wall_s"] = round(t_done - t_submit, 3)
    out["job_wall_ideal_without_kill_s"] = SLEEP_S
    # recovery: extra wall time vs the same job with no failure, i.e. what the kill cost
    out["job_wall_extra_vs_no_failure_s"] = round(t_done - t_submit - SLEEP_S, 3)
    # is the cluster whole again (2 worker processes, tasks run)?
    t = time.time()
    healthy = None
    while time.time() - t < 30:
        try:
            pids_now = eng.worker_pids()
            if len(pids_now) >= 2 or eng.name == "ray":
                healthy = sorted(pids_now)
                break
        except Exception:  # noqa: BLE001
            pass
        time.sleep(0.2)
    out["worker_pids_after"] = healthy
    # checked only after the job finished, so this is an upper bound, not the restart time
    out["kill_to_health_check_ok_s"] = round(time.time() - t_kill, 3)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--merge-into", help="JSON file keyed by engine to update with these results")
    args = ap.parse_args()

    common = {"python": sys.version.split()[0], "executable": sys.executable,
              "platform": platform.platform(), "cpu_count": os.cpu_count(),
              "loadavg_at_start": os.getloadavg()}
    try:
        import psutil
        common["psutil"] = psutil.__version__
    except ImportError:
        common["psutil"] = None

    # engines (Ray's raylet in particular) print to the driver's stdout; keep
    # stdout clean for the JSON by pointing fd 1 at stderr while measuring
    sys.stdout.flush()
    saved_stdout = os.dup(1)
    os.dup2(2, 1)

    results = {}
    for name, cls in (("dask", DaskEngine), ("ray", RayEngine)):
        mod = "distributed" if name == "dask" else "ray"
        import importlib.util
        if importlib.util.find_spec(mod) is None:
            results[name] = {"skipped": f"{mod} not importable in {sys.executable}",
                             "python": sys.version.split()[0]}
            continue
        t = time.perf_counter()
        try:
            r = measure(cls)
        except Exception:
            r = {"errors": ["measure: " + traceback.format_exc()]}
        r.update(common)
        r["loadavg_at_end"] = os.getloadavg()
        r["measurement_wall_s"] = round(time.perf_counter() - t, 1)
        results[name] = r

    sys.stdout.flush()
    os.dup2(saved_stdout, 1)
    print(json.dumps(results, indent=2, default=str))
    if args.merge_into:
        combined = {}
        if os.path.exists(args.merge_into):
            with open(args.merge_into) as fh:
                combined = json.load(fh)
        for name, r in results.items():
            if "skipped" in r and name in combined and "skipped" not in combined[name]:
                continue  # don't overwrite a real measurement with "not importable here"
            combined[name] = r
        with open(args.merge_into, "w") as fh:
            json.dump(combined, fh, indent=2, default=str)
            fh.write("\n")


if __name__ == "__main__":
    main()
