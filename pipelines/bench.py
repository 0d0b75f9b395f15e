"""``make bench``: extract-load rows/s and API calls, and dbt build time, for a world size.

The sandbox runs in its own process (as a real API would), so its JSON encoding does not
share the interpreter with the extract being measured.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from pipelines import config
from pipelines.cli import _use_sandbox_secrets, free_port, write_sandbox_config
from pipelines.run import RunSummary, dbt_build, extract_load
from pipelines.sandbox import world as world_mod


def _start_sandbox(size: str, seed: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "sandbox", "--size", size,
                             "--seed", str(seed), "--port", str(port)],
                            stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/_sandbox/health", timeout=2).ok:
                return proc, url
        except requests.ConnectionError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("sandbox did not start within 300 s")


def bench(size: str, seed: int = 42) -> str:
    t0 = time.perf_counter()
    world = world_mod.generate(seed, size)
    gen_s = time.perf_counter() - t0
    lines = world.t["erp_lines"].height
    proc, url = _start_sandbox(size, seed)
    try:
        with tempfile.TemporaryDirectory(prefix="costbridge-bench-") as tmp:
            cfg = write_sandbox_config(url, world, Path(tmp))
            _use_sandbox_secrets()
            settings = config.load(cfg)
            summary = RunSummary(run_id="bench")
            from pipelines.http import STATS

            t1 = time.perf_counter()
            extract_load(settings, summary, log=lambda m: None)
            el_s = time.perf_counter() - t1
            t2 = time.perf_counter()
            dbt_build(settings, log=lambda m: None, quiet=True)
            dbt_s = time.perf_counter() - t2
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    rows = sum(summary.rows.values())
    calls = sum(STATS.calls.values())
    out = [f"costbridge bench — world {size!r} (seed {seed}): {lines:,} ERP cost lines "
           f"(all connections), generated in {gen_s:.1f} s"]
    for name in sorted({k.split(".")[0] for k in summary.rows}):
        n = sum(v for k, v in summary.rows.items() if k.startswith(name + "."))
        took = summary.durations[f"extract-load {name[4:]}"]
        out.append(f"  {name:<14} {n:>10,} rows  {took:7.1f} s")
    out.append(f"  extract-load   {rows:>10,} rows  {el_s:7.1f} s  = {rows / el_s:,.0f} rows/s")
    out.append(f"  API calls      {calls:>10,}  (retries {sum(STATS.retries.values())})")
    for (system, resource), n in sorted(STATS.calls.items()):
        out.append(f"    {system}.{resource:<24} {n:>6,}")
    out.append(f"  dbt build      {dbt_s:7.1f} s")
    return "\n".join(out)
