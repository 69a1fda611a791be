"""Deployment: the embedded local runner (``deploy.local``), Dockerfile and Kubernetes manifests."""
