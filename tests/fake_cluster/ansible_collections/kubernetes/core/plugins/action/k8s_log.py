"""The test-only fake of kubernetes.core.k8s_log (see fake_cluster.py)."""

from __future__ import annotations

from ansible_collections.kubernetes.core.plugins.plugin_utils.fake_cluster import Log as ActionModule

__all__ = ["ActionModule"]
