"""Sign-in users and their roles from ``users.toml`` (docs/exports.md §9).

The embedded default keeps users in a TOML file beside ``costbridge.toml``::

    [[users]]
    login = "alex"
    name = "Alex Approver"
    password = "demo-approver"        # or password_hash = "scrypt$…" (never both)
    roles = [{connection = "xero-1", erp_level = "admin", can_push = true,
              tool_admin = ["directory", "commitments"]}]

Loading it into the ops store hashes plain passwords (scrypt) and sets each user's roles per
connection (C-2). The store, not the file, is what sign-in and every action check. Loading is
idempotent: only what changed is written.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.exports.store import LEVELS, OpsStore, User

TOOLS = ("directory", "projects", "budget", "commitments", "invoicing", "erp_integrations")


class UsersFileError(ValueError):
    """A bad users file; the message names the user and the key."""


@dataclass(frozen=True)
class RoleSpec:
    connection: str
    erp_level: str
    can_push: bool
    tool_admin: tuple[str, ...]


@dataclass(frozen=True)
class UserSpec:
    login: str
    name: str
    password: str | None
    password_hash: str | None
    roles: tuple[RoleSpec, ...]


def parse_users(data: dict[str, Any], where: str = "users.toml") -> list[UserSpec]:
    users = data.get("users", [])
    if not isinstance(users, list):
        raise UsersFileError(f"{where}: [[users]] must be an array of tables")
    specs, seen = [], set()
    for i, u in enumerate(users):
        at = f"{where}: users[{i}]"
        login = u.get("login")
        if not isinstance(login, str) or not login.strip():
            raise UsersFileError(f"{at}.login is missing")
        if login in seen:
            raise UsersFileError(f"{at}.login {login!r} is used twice")
        seen.add(login)
        password, hashed = u.get("password"), u.get("password_hash")
        if (password is None) == (hashed is None):
            raise UsersFileError(f"{at} ({login}): give exactly one of password, password_hash")
        specs.append(UserSpec(login, str(u.get("name", login)), password, hashed,
                              tuple(_role(r, f"{at}.roles[{j}] ({login})")
                                    for j, r in enumerate(u.get("roles", [])))))
    return specs


def _role(r: dict[str, Any], at: str) -> RoleSpec:
    conn = r.get("connection")
    if not isinstance(conn, str):
        raise UsersFileError(f"{at}.connection is missing")
    level = r.get("erp_level", "none")
    if level not in LEVELS:
        raise UsersFileError(f"{at}.erp_level must be one of {', '.join(LEVELS)}, got {level!r}")
    tools = tuple(r.get("tool_admin", []))
    unknown = sorted(set(tools) - set(TOOLS))
    if unknown:
        raise UsersFileError(f"{at}.tool_admin: unknown tool(s) {', '.join(unknown)} "
                             f"(known: {', '.join(TOOLS)})")
    return RoleSpec(conn, level, bool(r.get("can_push", False)), tools)


def load_users_file(path: Path, store: OpsStore) -> list[str]:
    """Bring the store's users and roles in line with the file; returns the logins loaded."""
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise UsersFileError(f"users file {path} not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsersFileError(f"{path}: {exc}") from exc
    specs = parse_users(data, str(path))
    for spec in specs:
        _apply(store, spec)
    return [s.login for s in specs]


def _apply(store: OpsStore, spec: UserSpec) -> None:
    existing = store.get_user(spec.login)
    if existing is None:
        store.add_user(spec.login, spec.name, spec.password or "",
                       password_hash=spec.password_hash)
    elif spec.password is not None and not store.verify_password(spec.login, spec.password):
        store.update_user(spec.login, display_name=spec.name, password=spec.password)
    elif existing.display_name != spec.name:
        store.update_user(spec.login, display_name=spec.name)
    for role in spec.roles:
        current = store.get_role(spec.login, role.connection)
        if (current.erp_level, current.can_push_to_accounting) != (role.erp_level,
                                                                     role.can_push):
            store.set_role(spec.login, role.connection, role.erp_level, role.can_push)
        for tool in TOOLS:
            wanted = tool in role.tool_admin
            if store.is_tool_admin(spec.login, role.connection, tool) != wanted:
                store.set_tool_admin(spec.login, role.connection, tool, wanted)


def authenticate(store: OpsStore, login: str, password: str) -> User | None:
    """The active user with this login and password, else None (same time either way)."""
    if not store.verify_password(login, password):
        return None
    user = store.get_user(login)
    return user if user is not None and user.active else None
