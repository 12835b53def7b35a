"""make bench-deploy: how long `make deploy` takes cold (images built) and warm (nothing changed).

Alternates, BENCH_REPETITIONS times (3): `make teardown` (which removes the deployment's images,
not the base image), a cold `make deploy`, a warm one. Prints each run's wall time and the CPU
of the processes make waits for (ansible-playbook and its modules; podman's builds run detached,
so their CPU is not in it), then the medians. Numbers, not assertions: the machine is noisy.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPETITIONS = int(os.environ.get("BENCH_REPETITIONS", "3"))


def make(target: str) -> tuple[float, float]:
    """Runs `make target` quietly; returns its wall time and its children's CPU time (s)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    run = subprocess.run(
        ["make", "--no-print-directory", target], cwd=ROOT, capture_output=True, text=True, check=False
    )
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode != 0:
        sys.exit(f"make {target} failed (rc {run.returncode}):\n{run.stdout[-3000:]}{run.stderr[-3000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    make("setup-deploy")
    runs: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": []}
    for repetition in range(1, REPETITIONS + 1):
        make("teardown")
        for kind in runs:
            wall, cpu = make("deploy")
            runs[kind].append((wall, cpu))
            print(f"run {repetition}: {kind} make deploy {wall:.1f} s, playbook CPU {cpu:.1f} s", flush=True)
    make("teardown")
    for kind, measured in runs.items():
        wall = statistics.median(run[0] for run in measured)
        cpu = statistics.median(run[1] for run in measured)
        print(f"{kind} make deploy: median {wall:.1f} s, playbook CPU {cpu:.1f} s (of {len(measured)})")


if __name__ == "__main__":
    main()
