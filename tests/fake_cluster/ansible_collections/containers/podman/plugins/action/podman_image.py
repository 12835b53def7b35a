"""The test-only fake of containers.podman.podman_image (see fake_cluster.py)."""

from __future__ import annotations

from ansible_collections.kubernetes.core.plugins.plugin_utils.fake_cluster import BuildImage as ActionModule

__all__ = ["ActionModule"]
