"""``costbridge queue | accept | reject | push``: the export queue from the command line, with an
acting user (``--as`` or ``$COSTBRIDGE_USER``) held to the same roles as in the app (C-2)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

from pipelines import config

USER_ENV = "COSTBRIDGE_USER"


class ExportsUsageError(Exception):
    """A request that cannot be answered: one line, exit status 2."""


def _acting_user(args: argparse.Namespace) -> str:
    login = args.as_user or os.environ.get(USER_ENV)
    if not login:
        raise ExportsUsageError(f"say who is acting: --as LOGIN or ${USER_ENV} (C-2)")
    return login


def _settings(args: argparse.Namespace) -> config.Settings:
    from pipelines.cli import use_config_secrets

    settings = config.load(Path(args.config))
    use_config_secrets(settings)
    return settings


def _guarded(fn):
    def run(args: argparse.Namespace) -> int:
        from pipelines.exports.queue import QueueUnavailable
        from pipelines.exports.store import OpsStoreError
        from pipelines.exports.users import UsersFileError

        try:
            return fn(args)
        except (ExportsUsageError, OpsStoreError, QueueUnavailable, UsersFileError) as exc:
            print(f"costbridge: {exc}", file=sys.stderr)
            return 2
    return run


@_guarded
def cmd_queue(args: argparse.Namespace) -> int:
    from pipelines.exports.actions import live_state
    from pipelines.exports.queue import published_items, store_with_users

    settings = _settings(args)
    store = store_with_users(settings)
    items = published_items(settings, args.connection)
    counts: Counter[str] = Counter()
    for item in items:
        state = live_state(store, item)
        counts[state] += 1
        if (args.state and state != args.state) or (args.type and item.item_type != args.type):
            continue
        rules = ",".join(sorted({f["rule_id"] for f in item.findings})) or "-"
        print(f"{item.connection_id}\t{item.item_key}\t{state}\t"
              f"{'BLOCKED' if item.is_blocked else 'ok'}\t{rules}\t{item.label}")
    print("states: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
          file=sys.stderr)
    return 0


def _items(settings: config.Settings, args: argparse.Namespace) -> list:
    from pipelines.exports.queue import published_items

    items = published_items(settings, args.connection, args.item_keys)
    missing = sorted(set(args.item_keys) - {i.item_key for i in items})
    if missing:
        raise ExportsUsageError(f"not in the published queue of {args.connection}: "
                                f"{', '.join(missing)}")
    return items


@_guarded
def cmd_accept(args: argparse.Namespace) -> int:
    from pipelines.exports.actions import accept
    from pipelines.exports.queue import store_with_users

    settings = _settings(args)
    login = _acting_user(args)
    store = store_with_users(settings)
    for item in _items(settings, args):
        row = accept(store, login, item)
        print(f"accepted {item.describe()}: outbox row {row.outbox_id}, key "
              f"{row.idempotency_key}")
    return 0


@_guarded
def cmd_reject(args: argparse.Namespace) -> int:
    from pipelines.exports.actions import reject
    from pipelines.exports.queue import store_with_users

    settings = _settings(args)
    login = _acting_user(args)
    store = store_with_users(settings)
    for item in _items(settings, args):
        reject(store, login, item, args.reason)
        print(f"rejected {item.describe()}: {args.reason}")
    return 0


@_guarded
def cmd_push(args: argparse.Namespace) -> int:
    from pipelines.exports.push import push
    from pipelines.exports.queue import store_with_users

    settings = _settings(args)
    login = _acting_user(args)
    store = store_with_users(settings)
    summary = push(settings, store, login, args.connection, dry_run=args.dry_run,
                   log=lambda m: print(f"[costbridge] {m}", file=sys.stderr, flush=True))
    if args.dry_run:
        print(json.dumps(summary.planned, indent=2, default=str))
        print(f"dry run: {len(summary.planned)} row(s) would be sent; nothing was sent",
              file=sys.stderr)
        return 0
    print(summary.render())
    return 0 if not summary.failed else 1


def add_parsers(sub: argparse._SubParsersAction) -> None:
    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", default=str(config.DEFAULT_CONFIG))
        p.add_argument("--as", dest="as_user", help=f"acting user (default ${USER_ENV})")

    q = sub.add_parser("queue", help="list the export queue with live states")
    common(q)
    q.add_argument("--connection")
    q.add_argument("--state", help="only this state (e.g. ready_to_export)")
    q.add_argument("--type", help="only this item type (e.g. company)")
    q.set_defaults(func=cmd_queue)
    for name, fn, help_ in (("accept", cmd_accept, "accept items and queue them for push"),
                            ("reject", cmd_reject, "reject items with a reason")):
        p = sub.add_parser(name, help=help_)
        common(p)
        p.add_argument("--connection", required=True)
        p.add_argument("item_keys", nargs="+", metavar="ITEM_KEY", help="e.g. company:5001")
        if name == "reject":
            p.add_argument("--reason", required=True)
        p.set_defaults(func=fn)
    pu = sub.add_parser("push", help="send accepted items through the outbox, exactly once")
    common(pu)
    pu.add_argument("--connection", help="only this connection")
    pu.add_argument("--dry-run", action="store_true", help="print the exact calls; send nothing")
    pu.set_defaults(func=cmd_push)
