"""Entity resolution: one subject for every person behind many records (docs/resolve.md)."""

from __future__ import annotations

from sentinelle.resolve.quality import ClusterQuality, cluster_quality, world_truth
from sentinelle.resolve.run import DEFAULT_THRESHOLD, STEPS, ResolveRun, resolve

__all__ = ["DEFAULT_THRESHOLD", "STEPS", "ClusterQuality", "ResolveRun", "cluster_quality",
           "resolve", "world_truth"]
