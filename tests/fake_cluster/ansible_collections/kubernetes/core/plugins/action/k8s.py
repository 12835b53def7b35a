"""The test-only fake of kubernetes.core.k8s (see fake_cluster.py)."""

from __future__ import annotations

from ansible_collections.kubernetes.core.plugins.plugin_utils.fake_cluster import Apply as ActionModule

__all__ = ["ActionModule"]
