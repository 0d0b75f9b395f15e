"""Sign-in for the exports workspace (docs/exports.md §7, §9) and the ops store it acts on.

Users live in the ops store (scrypt hashes, loaded from ``users.toml`` beside the config).
Where Streamlit secrets hold an ``[auth]`` section the identity provider signs users in
(``st.login``) and the OIDC email must be the login of an active store user; otherwise a local
form checks ``users.authenticate``. The login is kept in ``st.session_state`` for the session.
Only the workspace requires sign-in; the dashboards stay open.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from pipelines import config
from pipelines.config import Settings
from pipelines.exports import actions, users
from pipelines.exports.store import OpsStore, OpsStoreError, User

CONFIG_ENV = "COSTBRIDGE_CONFIG"
LOGIN_KEY = "costbridge_login"
NAME_KEY = "costbridge_user_name"


def config_path() -> Path:
    """``$COSTBRIDGE_CONFIG``, else ``costbridge.toml`` in the working directory."""
    return Path(os.environ.get(CONFIG_ENV) or config.DEFAULT_CONFIG).expanduser()


@st.cache_resource(max_entries=2, show_spinner=False)
def _ops(path: str, users_mtime: float | None) -> tuple[Settings, OpsStore]:
    # Keyed by the users file's mtime: an edited users.toml is loaded on the next rerun;
    # otherwise it is read once per process (checking plain passwords costs a hash each).
    settings = config.load(Path(path))
    store = actions.open_store(settings)
    if users_mtime is not None and settings.users_file is not None:
        users.load_users_file(settings.users_file, store)
    return settings, store


def ops() -> tuple[Settings, OpsStore]:
    """The settings and the ops store; stops the page with the reason when unavailable."""
    path = config_path()
    try:
        settings = config.load(path)
        users_file = settings.users_file
        mtime = users_file.stat().st_mtime if users_file and users_file.exists() else None
        return _ops(str(path.resolve()), mtime)
    except (config.ConfigError, users.UsersFileError, OpsStoreError) as exc:
        st.error(f"The exports workspace cannot open its ops store: {exc}",
                 icon=":material/error:")
        st.caption(f"Set `{CONFIG_ENV}` to the path of costbridge.toml.")
        st.stop()


def oidc_configured() -> bool:
    """True when Streamlit secrets configure an identity provider (``[auth]``)."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets.toml at all
        return False


def signed_in() -> str | None:
    return st.session_state.get(LOGIN_KEY)


def require_login(store: OpsStore) -> User:
    """The signed-in, active store user; otherwise the sign-in screen, and the page stops."""
    if oidc_configured():
        return _oidc_user(store)
    login = signed_in()
    if login:
        user = store.get_user(login)
        if user is not None and user.active:
            return user
        _forget()  # deactivated or removed since signing in
    _sign_in_form(store)
    st.stop()


def _remember(user: User) -> None:
    st.session_state[LOGIN_KEY] = user.login
    st.session_state[NAME_KEY] = user.display_name


def _forget() -> None:
    st.session_state.pop(LOGIN_KEY, None)
    st.session_state.pop(NAME_KEY, None)


def _sign_in_form(store: OpsStore) -> None:
    st.title("Sign in")
    st.caption("The exports workspace records every acceptance, rejection and resend under "
               "your login, and offers only what your role allows (C-2).")
    with st.form("sign_in", enter_to_submit=True, width=420):
        login = st.text_input("Login", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    user = users.authenticate(store, login.strip(), password)
    if user is None:
        st.error("Wrong login or password, or the user is inactive.", icon=":material/lock:")
        return
    _remember(user)
    st.rerun()


def _oidc_user(store: OpsStore) -> User:
    if not st.user.is_logged_in:
        st.title("Sign in")
        st.button("Sign in with your identity provider", type="primary", on_click=st.login)
        st.stop()
    email = str(st.user.get("email") or "")
    user = store.get_user(email) if email else None
    if user is None or not user.active:
        _forget()
        st.error(f"`{email or 'this account'}` is not an active costbridge user: an admin adds "
                 "it to users.toml with that email as its login.", icon=":material/lock:")
        st.button("Sign out", on_click=st.logout)
        st.stop()
    _remember(user)
    return user


def _sign_out() -> None:
    _forget()
    if oidc_configured():
        st.logout()


def sidebar() -> None:
    """Who is signed in, and a sign-out button (every page; nothing when signed out)."""
    login = signed_in()
    if not login:
        return
    with st.sidebar:
        st.caption(f"Signed in as **{st.session_state.get(NAME_KEY, login)}** (`{login}`)")
        st.button("Sign out", icon=":material/logout:", on_click=_sign_out, key="sign_out")
