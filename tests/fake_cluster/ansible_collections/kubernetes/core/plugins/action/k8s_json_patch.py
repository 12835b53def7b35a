"""The test-only fake of kubernetes.core.k8s_json_patch (see fake_cluster.py)."""

from __future__ import annotations

from ansible_collections.kubernetes.core.plugins.plugin_utils.fake_cluster import JsonPatch as ActionModule

__all__ = ["ActionModule"]
