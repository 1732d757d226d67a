"""AnomalyKit on Dask: sharded banks and batch scoring beyond one machine.

The package runs the ``anomalykit`` binary on Dask workers and moves only
file paths and small results (JSON scores, ``.npy`` neighbour lists) through
the scheduler, never pixels or features:

- ``score_many(images, bank, client)``: a nightly batch against one bank;
- ``fit_sharded(normal_images, out_dir, shards, client)``: a bank too large
  for one machine, fitted as shard files plus a manifest with a threshold;
- ``score_sharded(images, manifest, client)``: scores against such a bank
  (or one split by ``anomalykit shard``), equal bit for bit to scoring the
  whole bank.
"""

from .batch import score_many
from .cli import AnomalyKitError, find_binary
from .sharded import fit_sharded, score_sharded, shard_paths

__all__ = ["score_many", "fit_sharded", "score_sharded", "shard_paths", "AnomalyKitError", "find_binary"]
