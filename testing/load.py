"""Wall-clock limits for tests that survive a loaded machine (parallel test processes, other
runs on the same cores). Light on purpose: render-worker jobs defined in test modules are
unpickled in workers that must not import more than the templating code."""

from __future__ import annotations

import math
import os


def loaded_seconds(base: float) -> float:
    """``base`` seconds stretched by how loaded this machine is now: a wall-clock limit that a
    benign job meets on a quiet machine keeps meeting it when parallel test workers and other
    runs share the CPUs. With L runnable processes per core (last minute's load average) the
    factor is 2L - 1, at least 1: unchanged up to one per core, and ahead of the load above it
    (a fresh process competes for the CPU and for the caches the busy ones keep evicting)."""
    per_core = os.getloadavg()[0] / (os.cpu_count() or 1)
    return base * max(1.0, math.ceil((2 * per_core - 1) * 2) / 2)
