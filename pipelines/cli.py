"""The ``costbridge`` command: sandbox, run, demo, app, bench."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

from pipelines import config

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_TOKENS = {"SOURCES__XERO__ACCESS_TOKEN": "sandbox-xero-token",
                  "SOURCES__PROCORE__ACCESS_TOKEN": "sandbox-procore-token",
                  "SOURCES__NETSUITE__CONSUMER_KEY": "sandbox-netsuite-consumer",
                  "SOURCES__NETSUITE__CONSUMER_SECRET": "sandbox-netsuite-consumer-secret",
                  "SOURCES__NETSUITE__TOKEN_ID": "sandbox-netsuite-token",
                  "SOURCES__NETSUITE__TOKEN_SECRET": "sandbox-netsuite-token-secret",
                  "SOURCES__ACUMATICA__USERNAME": "sandbox-acumatica",
                  "SOURCES__ACUMATICA__PASSWORD": "sandbox-acumatica-password"}


def _say(msg: str) -> None:
    print(f"[costbridge] {msg}", flush=True)


def sandbox_config(url: str, world, base: Path) -> dict:
    """A costbridge.toml (as a dict) pointing at a running sandbox for every connection."""
    conns = []
    for c in world.connections().iter_rows(named=True):
        conns.append({
            "id": c["connection_id"], "erp": c["erp"],
            "procore_company_id": c["procore_company_id"], "company_name": c["company_name"],
            "erp_base_url": _erp_base_url(url, c["erp"], c["erp_tenant_id"]),
            "erp_tenant_id": c["erp_tenant_id"],
            "tracking_category": c["tracking_category"], "retainage_item": c["retainage_item"],
        })
    return {
        "warehouse": {"path": str(base / "warehouse.duckdb"),
                      "published": str(base / "published"), "keep_snapshots": 10},
        "procore": {"base_url": f"{url}/procore"},
        "extract": {"page_size": 1000, "lag_seconds": 300},
        "connections": conns,
    }


def _erp_base_url(url: str, erp: str, tenant: str) -> str:
    if erp == "netsuite":  # the account rides in the path on loopback (sandbox/netsuite.py)
        from pipelines.sandbox.netsuite import account_slug  # the sandbox only, not every run

        return f"{url}/netsuite/{account_slug(tenant)}/services/rest"
    if erp == "acumatica":  # the instance is the tenant in lower case (sandbox/acumatica.py)
        return f"{url}/acumatica/{tenant.lower()}"
    return f"{url}/{erp}"


def write_sandbox_config(url: str, world, base: Path) -> Path:
    base.mkdir(parents=True, exist_ok=True)
    path = base / "costbridge.toml"
    path.write_text(config.render(sandbox_config(url, world, base.resolve())))
    return path


def _use_sandbox_secrets() -> None:
    for key, value in SANDBOX_TOKENS.items():
        os.environ.setdefault(key, value)


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cmd_sandbox(args: argparse.Namespace) -> int:
    from pipelines.sandbox.server import serve_forever

    serve_forever(seed=args.seed, size=args.size, host=args.host, port=args.port)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from pipelines.run import run

    settings = config.load(Path(args.config))
    summary = run(settings, log=_say, full_refresh=args.full_refresh)
    print(summary.render())
    return 0


def start_app(published: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "COSTBRIDGE_PUBLISHED_DIR": str(published.resolve())}
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        env=env, cwd=ROOT)


def cmd_app(args: argparse.Namespace) -> int:
    settings = config.load(Path(args.config))
    proc = start_app(settings.published, args.port)
    _say(f"app on http://127.0.0.1:{args.port} (Ctrl-C stops it)")
    return _wait(proc)


def _wait(proc: subprocess.Popen) -> int:
    try:
        return proc.wait()
    except KeyboardInterrupt:
        _say("stopping …")
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from pipelines.run import run
    from pipelines.sandbox import world as world_mod
    from pipelines.sandbox.server import SandboxServer

    base = Path(args.dir)
    if base.exists():  # a demo starts from an empty warehouse, but only ever wipes its own
        if any(base.iterdir()) and not (base / "costbridge.toml").exists():
            raise config.ConfigError(f"--dir {base} is not empty and holds no demo: "
                                     "choose another directory")
        shutil.rmtree(base)
    _say(f"generating the {args.size!r} world (seed {args.seed}) …")
    world = world_mod.generate(args.seed, args.size)
    server = SandboxServer(world)
    server.start()
    _say(f"sandbox APIs on {server.url} (/xero, /netsuite, /acumatica, /procore)")
    try:
        cfg = write_sandbox_config(server.url, world, base)
        _use_sandbox_secrets()
        settings = config.load(cfg)
        summary = run(settings, log=_say)
        print(summary.render())
        _say(f"warehouse: {settings.warehouse.resolve()}")
        _say(f"published snapshots: {settings.published.resolve()}")
        _say(f"config: {cfg.resolve()}")
        if args.no_app:
            return 0
        port = args.port or free_port()
        proc = start_app(settings.published, port)
        _say(f"app on http://127.0.0.1:{port} — Ctrl-C stops the app and the sandbox")
        return _wait(proc)
    finally:
        server.stop()


def cmd_bench(args: argparse.Namespace) -> int:
    from pipelines.bench import bench

    print(bench(args.size, args.seed))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="costbridge", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sandbox", help="serve the sandbox Xero and Procore APIs")
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--size", default="demo", choices=["tiny", "demo", "large"])
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8765)
    s.set_defaults(func=cmd_sandbox)
    r = sub.add_parser("run", help="extract-load → dbt build → publish")
    r.add_argument("--config", default=str(config.DEFAULT_CONFIG))
    r.add_argument("--full-refresh", action="store_true",
                   help="ignore incremental cursors and re-read everything")
    r.set_defaults(func=cmd_run)
    d = sub.add_parser("demo", help="sandbox + run on the demo world + the app")
    d.add_argument("--seed", type=int, default=42)
    d.add_argument("--size", default="demo", choices=["tiny", "demo", "large"])
    d.add_argument("--dir", default="var/demo")
    d.add_argument("--port", type=int, default=0, help="app port (default: a free one)")
    d.add_argument("--no-app", action="store_true", help="stop after the run (for scripts)")
    d.set_defaults(func=cmd_demo)
    a = sub.add_parser("app", help="serve the Streamlit app on the published snapshot")
    a.add_argument("--config", default=str(config.DEFAULT_CONFIG))
    a.add_argument("--port", type=int, default=8501)
    a.set_defaults(func=cmd_app)
    b = sub.add_parser("bench", help="extract-load and dbt build figures for a world size")
    b.add_argument("--size", default="demo", choices=["tiny", "demo", "large"])
    b.add_argument("--seed", type=int, default=42)
    b.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Progress of long extracts: one line per resource and connection.
    progress = logging.StreamHandler()
    progress.setFormatter(logging.Formatter("[costbridge] %(message)s"))
    extract_log = logging.getLogger("costbridge.extract")
    extract_log.setLevel(logging.INFO)
    extract_log.addHandler(progress)
    extract_log.propagate = False
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except config.ConfigError as exc:
        print(f"costbridge: config error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # RunFailed, ApiError: one clear line, no traceback
        print(f"costbridge: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
