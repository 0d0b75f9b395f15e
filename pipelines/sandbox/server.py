"""One HTTP server on loopback serving every sandbox API from one world.

    /xero/...        the Xero Accounting API (``xero.py``)
    /procore/...     the Procore REST API v1.0 (``procore.py``)
    /netsuite/<account>/services/rest/...   NetSuite SuiteTalk REST, one account per NetSuite
                     connection (``netsuite.py`` over ``netsuite_tables.py``)
    /acumatica/<instance>/entity/...   Acumatica contract-based REST, one tenant per Acumatica
                     connection (``acumatica.py`` over ``acumatica_tables.py``)
    /_sandbox/...    admin: health, advance the world, inject faults, request stats

``SandboxServer`` runs uvicorn in a background thread (tests, the demo); ``serve_forever`` runs
it in the foreground for the CLI. Only the base URL and credentials differ from the real APIs.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from types import TracebackType
from typing import Self

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from pipelines.sandbox import world as world_mod
from pipelines.sandbox.acumatica import SANDBOX_USER, AcumaticaApi, AcumaticaTenant
from pipelines.sandbox.acumatica_tables import tenant_tables
from pipelines.sandbox.common import (
    FAULT_KINDS,
    PROCORE_TOKEN,
    SYSTEMS,
    XERO_TOKEN,
    Gate,
    Limits,
    TokenStore,
    Views,
    json_response,
)
from pipelines.sandbox.netsuite import NetSuiteAccount, NetSuiteApi, account_slug
from pipelines.sandbox.netsuite_auth import SANDBOX_CREDENTIALS
from pipelines.sandbox.netsuite_tables import account_tables
from pipelines.sandbox.procore import ProcoreApi
from pipelines.sandbox.world import World
from pipelines.sandbox.xero import XeroApi


def build_app(world: World, limits: Limits | None = None) -> Starlette:
    """The ASGI app: both APIs mounted under their prefixes plus the admin routes."""
    limits = limits or Limits()
    views = Views(world)
    tokens = TokenStore({"xero": XERO_TOKEN, "procore": PROCORE_TOKEN})
    gates = {s: Gate(s, limits) for s in SYSTEMS}
    xero = XeroApi(views, tokens, gates["xero"], limits)
    procore = ProcoreApi(views, tokens, gates["procore"], limits)
    netsuite = _netsuite(views, gates["netsuite"], limits)
    acumatica = _acumatica(views, gates["acumatica"], limits)
    admin = _Admin(views, gates)
    app = Starlette(routes=[
        Mount("/xero", routes=xero.routes()),
        Mount("/procore", routes=procore.routes()),
        *netsuite.routes("/netsuite"),
        *acumatica.routes("/acumatica"),
        Route("/_sandbox/health", admin.health, methods=["GET"]),
        Route("/_sandbox/advance", admin.advance, methods=["POST"]),
        Route("/_sandbox/faults", admin.faults, methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/stats", admin.stats, methods=["GET"]),
    ])
    app.state.views, app.state.gates = views, gates
    return app


def _netsuite(views: Views, gate: Gate, limits: Limits) -> NetSuiteApi:
    """One account per NetSuite connection, all signed with the sandbox's TBA credentials."""
    accounts = {}
    for c in views.world.connections("netsuite").iter_rows(named=True):
        cid = c["connection_id"]
        accounts[cid] = NetSuiteAccount(
            c["erp_tenant_id"], [SANDBOX_CREDENTIALS],
            tables=lambda cid=cid: account_tables(views, cid))
    return NetSuiteApi(accounts, max_results=limits.netsuite_max_results,
                       concurrency=limits.netsuite_concurrency, gate=gate,
                       clock=lambda: views.world.now)


def _acumatica(views: Views, gate: Gate, limits: Limits) -> AcumaticaApi:
    """One tenant per Acumatica connection at ``/acumatica/<tenant in lower case>``."""
    tenants = {}
    for c in views.world.connections("acumatica").iter_rows(named=True):
        cid, tenant = c["connection_id"], c["erp_tenant_id"]
        tenants[tenant.lower()] = AcumaticaTenant(
            tenant, (SANDBOX_USER,), lambda cid=cid: tenant_tables(views, cid))
    return AcumaticaApi(tenants, sessions=limits.acumatica_sessions,
                        concurrency=limits.acumatica_concurrency, gate=gate,
                        clock=lambda: views.world.now)


class _Admin:
    def __init__(self, views: Views, gates: dict[str, Gate]):
        self.views, self.gates = views, gates

    async def health(self, request: Request) -> Response:
        w = self.views.world
        return json_response({"status": "ok", "seed": w.seed, "size": w.size, "step": w.step,
                              "now": w.now.isoformat()})

    async def advance(self, request: Request) -> Response:
        body = await _json_body(request)
        n = body.get("n", 3) if isinstance(body, dict) else 3
        if not isinstance(n, int) or n < 0:
            return json_response({"error": "n must be a non-negative integer"}, 400)

        def step() -> dict:
            # The lock keeps readers off while advance() replaces frames; views notice the new
            # frames themselves and rebuild on their next use.
            with self.views.lock:
                return self.views.world.advance(n)
        return json_response(await run_in_threadpool(step))

    async def faults(self, request: Request) -> Response:
        if request.method == "DELETE":
            for gate in self.gates.values():
                gate.clear()
        elif request.method == "POST":
            body = await _json_body(request)
            if not isinstance(body, dict):
                return json_response({"error": "expected a JSON object"}, 400)
            system, kind, count = body.get("system"), str(body.get("kind")), body.get("count", 1)
            if system not in self.gates or kind not in FAULT_KINDS:
                return json_response({"error": f"system must be one of {list(SYSTEMS)}, "
                                               f"kind one of {list(FAULT_KINDS)}"}, 400)
            if not isinstance(count, int) or count < 1:
                return json_response({"error": "count must be a positive integer"}, 400)
            self.gates[system].inject(kind, count)
        return json_response({s: g.snapshot()["faults_pending"] for s, g in self.gates.items()})

    async def stats(self, request: Request) -> Response:
        return json_response({s: g.snapshot() for s, g in self.gates.items()})


async def _json_body(request: Request) -> object:
    raw = await request.body()
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        return None


class LoopbackServer:
    """An ASGI app on a real loopback port, in a background thread (tests serve one API)."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0):
        self.app, self.host, self.port = app, host, port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> Self:
        if self._thread is not None:
            return self
        self._sock = _bind(self.host, self.port)
        self.port = self._sock.getsockname()[1]  # port 0: the OS picked a free one
        self._server = uvicorn.Server(_config(self.app))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name=f"sandbox-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"sandbox server did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class SandboxServer(LoopbackServer):
    """The sandbox on a real loopback port, in a background thread.

    >>> with SandboxServer(world_mod.generate(42, "tiny")) as s:
    ...     requests.get(s.url + "/_sandbox/health")
    """

    def __init__(self, world: World, host: str = "127.0.0.1", port: int = 0,
                 limits: Limits | None = None):
        self.world, self.limits = world, limits or Limits()
        super().__init__(build_app(world, self.limits), host, port)


def _bind(host: str, port: int) -> socket.socket:
    # Binding here (not in uvicorn) makes port 0 race-free and the port known before start.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # uvicorn does not set TCP_NODELAY on connections from a passed-in socket; without it every
    # keep-alive request waits ~40 ms (Nagle + delayed ACK). Accepted sockets inherit it.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    return sock


def _config(app: ASGIApp) -> uvicorn.Config:
    # Short graceful shutdown: a request held by a "timeout" fault must not hold up stop().
    return uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                          timeout_graceful_shutdown=1)


def serve_forever(seed: int = 42, size: str = "demo", host: str = "127.0.0.1", port: int = 8765,
                  limits: Limits | None = None) -> None:
    """Generate the world, print the URL and serve in the foreground until Ctrl-C."""
    world = world_mod.generate(seed, size)
    app = build_app(world, limits)
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"costbridge sandbox (seed={seed}, size={size}) on http://{shown}:{bound}", flush=True)
    print(f"  Xero:    http://{shown}:{bound}/xero/api.xro/2.0   token {XERO_TOKEN}", flush=True)
    print(f"  Procore: http://{shown}:{bound}/procore/rest/v1.0  token {PROCORE_TOKEN}",
          flush=True)
    for c in world.connections("netsuite").iter_rows(named=True):
        print(f"  NetSuite {c['erp_tenant_id']}: http://{shown}:{bound}/netsuite/"
              f"{account_slug(c['erp_tenant_id'])}/services/rest  (TBA, sandbox credentials)",
              flush=True)
    for c in world.connections("acumatica").iter_rows(named=True):
        print(f"  Acumatica {c['erp_tenant_id']}: http://{shown}:{bound}/acumatica/"
              f"{c['erp_tenant_id'].lower()}/entity/Default/24.200.001  (login "
              f"{SANDBOX_USER[0]})", flush=True)
    try:
        uvicorn.Server(_config(app)).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C after shutting down cleanly
        print("sandbox stopped", flush=True)
    finally:
        sock.close()

