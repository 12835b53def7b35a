"""The test-only fake of kubernetes.core.k8s_info (see fake_cluster.py)."""

from __future__ import annotations

from ansible_collections.kubernetes.core.plugins.plugin_utils.fake_cluster import Read as ActionModule

__all__ = ["ActionModule"]
