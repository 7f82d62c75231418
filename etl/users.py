"""Accounts and roles: who may sign in to the dashboard and what each role may do.

Passwords are hashed with Argon2id (``argon2-cffi``, at OWASP's recommended cost; see ``make_hasher``) and
never stored or logged in clear. Every change to an account is written with its audit event in one
transaction. Sign-in attempts are rate-limited per account and per address, counted from the audit trail's
failed sign-ins, so the limits hold across every worker and process that shares the store.

Roles (``ROLES``) and what each may do (``PERMISSIONS``):

- **viewer** — a board member: read every page, present, export;
- **analyst** — also governance records and decisions, and upload any agency's return;
- **submitter** — an agency's data lead: upload and see returns for their own agency only, no other figures;
- **admin** — everything an analyst may do, plus accounts and the audit trail.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass
from functools import cache

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from etl import audit
from etl.errors import OBAError
from etl.store import AuditEvent, UserAccount, UserSession, utcnow, writer

ROLES = ("viewer", "analyst", "submitter", "admin")
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "analyst": frozenset({"read", "govern", "upload_any"}),
    "submitter": frozenset({"returns_own", "upload_own"}),
    "admin": frozenset({"read", "govern", "upload_any", "admin"}),
}
MIN_PASSWORD = 12
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,79}$")

# Sign-in rate limits: failures counted over the window, per account and per address.
WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20


class AccountError(OBAError):
    """An account command was given something it cannot do (unknown name, weak password, bad role...)."""


@dataclass(frozen=True)
class User:
    """An account as the rest of the code sees it (never with its password hash)."""

    id: int
    name: str
    role: str
    agency_code: str | None
    disabled: bool
    has_password: bool
    created_at: dt.datetime | None = None
    created_by: str | None = None

    @property
    def permissions(self) -> frozenset[str]:
        return PERMISSIONS.get(self.role, frozenset())

    def can(self, permission: str) -> bool:
        return permission in self.permissions


def make_hasher():
    """Argon2id at OWASP's recommended setting (m=19 MiB, t=2, p=1; Password Storage Cheat Sheet).

    RFC 9106's second option (m=64 MiB, t=3, p=4, argon2-cffi's default) made 50 people signing in at once
    take 20-40 s on the 2-core reference machine and starved every page meanwhile (benchmarks/bench_load.py);
    OWASP's setting costs a few tens of milliseconds and still makes each guess expensive offline.
    """
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


# At most two password checks at a time: a burst of sign-ins queues instead of starving every page.
_VERIFYING = threading.BoundedSemaphore(2)


@cache
def _hasher():
    return make_hasher()


@cache
def _dummy_hash() -> str:
    # Verified against when the name is unknown, so a wrong name takes as long as a wrong password.
    return _hasher().hash("not a password anyone can type: " + "x" * 20)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def normalise_name(name: str) -> str:
    clean = (name or "").strip().lower()
    if not NAME_PATTERN.match(clean):
        raise AccountError(f"'{name}' cannot be an account name: use 2 to 80 letters, digits and . _ @ - "
                           "(for example jo.bloggs or jo.bloggs@harrowdale.gov.uk)")
    return clean


def check_password(password: str, name: str) -> None:
    """Raise AccountError when a password is too weak to set."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password is {len(password)} characters; use at least {MIN_PASSWORD} "
                           "(a few unrelated words is easy to remember)")
    if name.lower() in password.lower():
        raise AccountError("the password contains the account name; choose another")
    if len(set(password)) < 5:
        raise AccountError("the password repeats too few characters; choose another")


def _check_role(role: str, agency_code: str | None, agencies: list[str] | None) -> str | None:
    if role not in ROLES:
        raise AccountError(f"role '{role}' is not one of {', '.join(ROLES)}")
    if role == "submitter":
        if not agency_code:
            raise AccountError("a submitter uploads one agency's returns: give --agency CODE")
        code = agency_code.strip().upper()
        if agencies is not None and code not in agencies:
            raise AccountError(f"there is no agency '{agency_code}' in the board file; agencies are "
                               f"{', '.join(agencies)}")
        return code
    if agency_code:
        raise AccountError(f"only submitters belong to one agency; a {role} sees every agency (drop --agency)")
    return None


def accounts_exist(engine: Engine) -> bool:
    """Whether any account (enabled or not) has been created: the dashboard then asks everyone to sign in."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(UserAccount)).scalar_one() > 0


def get_user(engine: Engine, name: str) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(select(UserAccount.__table__).where(UserAccount.name == name.strip().lower())).first()
    return None if row is None else _row_user(row)


def _row_user(row) -> User:
    """A User from a row holding user_account's columns."""
    m = row._mapping
    return User(m["id"], m["name"], m["role"], m["agency_code"], bool(m["disabled"]), m["password_hash"] is not None,
                m.get("created_at"), m.get("created_by"))


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        rows = conn.execute(select(UserAccount.__table__).order_by(UserAccount.name)).all()
    return [_row_user(r) for r in rows]


def _snapshot(row) -> dict:
    return {"role": row.role, "agency": row.agency_code, "disabled": bool(row.disabled)}


def add_user(engine: Engine, name: str, role: str, password: str | None, agency_code: str | None = None,
             agencies: list[str] | None = None) -> User:
    """Create an account. ``password`` None makes a single-sign-on-only account (no password sign-in)."""
    name = normalise_name(name)
    agency = _check_role(role, agency_code, agencies)
    if password is not None:
        check_password(password, name)
    digest = hash_password(password) if password is not None else None
    actor = audit.current_actor()
    with writer(engine).begin() as conn:
        if conn.execute(select(UserAccount.id).where(UserAccount.name == name)).first():
            raise AccountError(f"there is already an account '{name}'; `oba users list` shows them")
        now = utcnow()
        conn.execute(UserAccount.__table__.insert().values(
            name=name, role=role, agency_code=agency, password_hash=digest, disabled=False, created_at=now,
            created_by=actor.name[:120], updated_at=now))
        audit.record(conn, "user.add", name, None,
                     {"role": role, "agency": agency, "disabled": False, "password": digest is not None})
    return get_user(engine, name)


def _change(engine: Engine, name: str, action: str, values: dict, after_extra: dict | None = None,
            end_sessions: bool = False) -> User:
    name = name.strip().lower()
    with writer(engine).begin() as conn:
        row = conn.execute(select(UserAccount.__table__).where(UserAccount.name == name)).first()
        if row is None:
            raise AccountError(f"there is no account '{name}'; `oba users list` shows them")
        before = _snapshot(row)
        conn.execute(update(UserAccount).where(UserAccount.id == row.id).values(updated_at=utcnow(), **values))
        after = dict(before)
        after.update({k if k != "agency_code" else "agency": v for k, v in values.items() if k != "password_hash"})
        after.update(after_extra or {})
        if end_sessions:
            conn.execute(update(UserSession).where(UserSession.user_id == row.id, UserSession.ended_at.is_(None))
                         .values(ended_at=utcnow()))
        audit.record(conn, action, name, before, after)
    return get_user(engine, name)


def disable_user(engine: Engine, name: str) -> User:
    """Stop an account signing in, and end its sessions at once (in every worker within seconds)."""
    return _change(engine, name, "user.disable", {"disabled": True}, end_sessions=True)


def enable_user(engine: Engine, name: str) -> User:
    return _change(engine, name, "user.enable", {"disabled": False})


def reset_password(engine: Engine, name: str, password: str) -> User:
    """Set a new password and end the account's sessions (anyone signed in with the old one is signed out)."""
    check_password(password, name.strip().lower())
    return _change(engine, name, "user.password", {"password_hash": hash_password(password)},
                   {"password": "changed"}, end_sessions=True)


def set_role(engine: Engine, name: str, role: str, agency_code: str | None = None,
             agencies: list[str] | None = None) -> User:
    agency = _check_role(role, agency_code, agencies)
    return _change(engine, name, "user.role", {"role": role, "agency_code": agency}, end_sessions=True)


# --- signing in ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: ``user`` when it succeeded, else ``reason`` (for the person)."""

    user: User | None
    reason: str = ""
    retry_after: int = 0  # seconds, when refused for too many failures


def _failures(engine: Engine, name: str, address: str | None, now: dt.datetime) -> tuple[int, int, dt.datetime | None]:
    since = now - WINDOW
    with engine.connect() as conn:
        per_user = conn.execute(select(func.count(), func.min(AuditEvent.at)).where(
            AuditEvent.action == "signin.failed", AuditEvent.target == name, AuditEvent.at >= since)).one()
        per_addr = (0, None)
        if address:
            per_addr = conn.execute(select(func.count(), func.min(AuditEvent.at)).where(
                AuditEvent.action == "signin.failed", AuditEvent.address == address, AuditEvent.at >= since)).one()
    oldest = min((t for t in (per_user[1], per_addr[1]) if t is not None), default=None)
    return per_user[0], per_addr[0], oldest


def authenticate(engine: Engine, name: str, password: str, address: str | None = None) -> SignIn:
    """Check a name and password; record the attempt in the audit trail; refuse when rate-limited."""
    raw = (name or "").strip().lower()[:80]
    now = utcnow()
    actor = audit.Actor(raw or "(blank)", None, "web", address)
    n_user, n_addr, oldest = _failures(engine, raw, address, now)
    if n_user >= MAX_FAILURES_PER_USER or n_addr >= MAX_FAILURES_PER_ADDRESS:
        wait = int(((oldest or now) + WINDOW - now).total_seconds()) + 1
        audit.record_now(engine, "signin.refused", raw, detail="too many failed sign-ins", actor=actor)
        minutes = max(1, (wait + 59) // 60)
        return SignIn(None, f"Too many failed sign-ins. Try again in {minutes} minute{'s' * (minutes != 1)}, "
                            "or ask an administrator to reset your password.", wait)
    with engine.connect() as conn:
        row = conn.execute(select(UserAccount.__table__).where(UserAccount.name == raw)).first()
    from argon2.exceptions import InvalidHashError, VerificationError

    digest = row.password_hash if row is not None and row.password_hash else _dummy_hash()
    try:
        with _VERIFYING:
            ok = _hasher().verify(digest, password or "")
    except (VerificationError, InvalidHashError):
        ok = False
    if row is None or row.password_hash is None or not ok or row.disabled:
        why = ("unknown name" if row is None else "no password (single sign-on only)" if row.password_hash is None
               else "wrong password" if not ok else "account disabled")
        audit.record_now(engine, "signin.failed", raw, detail=why, actor=actor)
        return SignIn(None, "The name or password is not right, or the account is disabled.")
    user = _row_user(row)
    if _hasher().check_needs_rehash(row.password_hash):
        with writer(engine).begin() as conn:
            conn.execute(update(UserAccount).where(UserAccount.id == row.id)
                         .values(password_hash=hash_password(password)))
    return SignIn(user)
