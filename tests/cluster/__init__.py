"""Tests on the local Kubernetes cluster of `make cluster`."""
