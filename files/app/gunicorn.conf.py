"""gunicorn settings; APP_PORT and WEB_CONCURRENCY come from the pod template."""

import os

bind = f"127.0.0.1:{os.environ.get('APP_PORT', '8080')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# The root filesystem is read-only; /dev/shm is a tmpfs in every container runtime.
worker_tmp_dir = "/dev/shm"
accesslog = None
errorlog = "-"
