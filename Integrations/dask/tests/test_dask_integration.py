"""The Dask integration against a real local cluster (two worker processes).

Run from the repository root after ``swift build -c release``:

    python3 -m unittest discover -s Integrations/dask/tests -v

Nothing is mocked: the cluster is ``distributed.LocalCluster`` with worker
processes, and every task runs the built ``anomalykit`` binary on the
bundled demo images. ``ANOMALYKIT_BIN`` overrides the binary's path.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(HERE, ".."))

from distributed import Client, LocalCluster  # noqa: E402

import anomalykit_dask as akd  # noqa: E402

BINARY = os.environ.get("ANOMALYKIT_BIN", os.path.join(ROOT, ".build", "release", "anomalykit"))
DEMO = os.path.join(ROOT, "Examples", "demo")


def run_cli(*args: str) -> str:
    proc = subprocess.run([BINARY, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"anomalykit {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


def demo_copies(folder: str, copies: int) -> list[str]:
    """``copies`` links to each demo test image, under distinct names, so
    that every input is its own path (and exactly-once can be checked)."""
    tests = sorted(os.listdir(os.path.join(DEMO, "test")))
    paths = []
    for c in range(copies):
        for name in tests:
            link = os.path.join(folder, f"c{c:02d}-{name}")
            os.symlink(os.path.join(DEMO, "test", name), link)
            paths.append(link)
    return paths


class DaskIntegrationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(BINARY, os.X_OK):
            raise unittest.SkipTest(f"build the binary first: {BINARY} is missing")
        cls.tmp = tempfile.TemporaryDirectory(prefix="anomalykit-dask-test-")
        cls.dir = cls.tmp.name
        cls.cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        cls.client = Client(cls.cluster)
        # A patch bank (the industrial default, random coreset) with a threshold.
        cls.bank = os.path.join(cls.dir, "bank.safetensors")
        run_cli("fit", "--patches", os.path.join(DEMO, "normal"), "--coreset", "0.05", "--coreset-method", "random", "--holdout", "0.2", "--out", cls.bank)
        cls.images = demo_copies(os.path.join(cls.dir), 3)
        cls.expected = json.loads(run_cli("score", "--bank", cls.bank, *cls.images, "--json"))

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.cluster.close()
        cls.tmp.cleanup()

    def test_score_many_equals_the_cli(self):
        got = akd.score_many(self.images, self.bank, self.client, chunk_size=5, binary=BINARY)
        self.assertEqual(got, self.expected)
        self.assertTrue(any(r["anomalous"] for r in got) and not all(r["anomalous"] for r in got))

    def test_sharded_scores_equal_the_whole_bank_bit_for_bit(self):
        for n in (2, 3):
            out = os.path.join(self.dir, f"shards{n}")
            run_cli("shard", "--bank", self.bank, "--shards", str(n), "--out", out)
            manifest = os.path.join(out, "manifest.json")
            self.assertEqual(len(akd.shard_paths(manifest)), n)
            for share in (True, False):
                got = akd.score_sharded(self.images, manifest, self.client, chunk_size=7, binary=BINARY, share_features=share)
                # JSON numbers are the shortest round-trip decimal of each
                # float: equal numbers are equal bits.
                self.assertEqual(got, self.expected, f"{n} shards, share_features={share}")

    def test_fit_sharded_then_score_sharded(self):
        normals = [os.path.join(DEMO, "normal", f) for f in sorted(os.listdir(os.path.join(DEMO, "normal")))]
        out = os.path.join(self.dir, "fitted")
        manifest = akd.fit_sharded(
            normals, out, 2, self.client, holdout=0.2, fpr=0.05, binary=BINARY, fit_args=["--patches", "--coreset", "0.1"]
        )
        with open(manifest) as f:
            doc = json.load(f)
        self.assertEqual(doc["shard_count"], 2)
        self.assertEqual(doc["metadata"]["threshold_method"], "held-out quantile")
        self.assertEqual(doc["metadata"]["coreset_method"], "random")
        got = akd.score_sharded(self.images[:8], manifest, self.client, binary=BINARY)
        self.assertEqual([r["path"] for r in got], self.images[:8])
        by_name = {os.path.basename(r["path"]): r for r in got}
        self.assertTrue(by_name["c00-defect_0.png"]["anomalous"], got)
        # The union of the shards holds every non-held-out normal once.
        rows = [json.loads(run_cli("info", s, "--json"))["metadata"] for s in akd.shard_paths(manifest)]
        self.assertEqual(sum(int(m["fit_images"]) for m in rows), len(normals) - 2)
        self.assertEqual({m["parent_sha256"] for m in rows}.__len__(), 1)

    def test_bad_input_names_the_file(self):
        with self.assertRaises(akd.AnomalyKitError) as raised:
            akd.score_many([os.path.join(self.dir, "missing.png")], self.bank, self.client, binary=BINARY)
        self.assertIn("missing.png", raised.exception.stderr)
        self.assertEqual(raised.exception.returncode, 1)

    def test_a_killed_worker_loses_nothing(self):
        pids = self.client.run(os.getpid)
        result: dict = {}

        def job():
            try:
                result["scores"] = akd.score_many(self.images, self.bank, self.client, chunk_size=2, binary=BINARY)
            except BaseException as e:  # reported below
                result["error"] = e

        worker = threading.Thread(target=job)
        worker.start()
        # Wait until a worker is running a chunk, then SIGKILL its process.
        killed = None
        deadline = time.time() + 60
        while killed is None and time.time() < deadline:
            busy = [w for w, keys in self.client.processing().items() if keys]
            if busy:
                killed = pids[busy[0]]
                os.kill(killed, signal.SIGKILL)
            else:
                time.sleep(0.01)
        worker.join(300)
        self.assertIsNotNone(killed, "no task ever ran")
        self.assertNotIn("error", result, result.get("error"))
        scores = result["scores"]
        # Every input scored exactly once, in order, with the CLI's scores.
        self.assertEqual([r["path"] for r in scores], self.images)
        self.assertEqual(len({r["path"] for r in scores}), len(self.images))
        self.assertEqual(scores, self.expected)
        # The nanny replaced the killed process.
        self.client.wait_for_workers(2, timeout=60)
        self.assertNotIn(killed, self.client.run(os.getpid).values())


if __name__ == "__main__":
    unittest.main()
