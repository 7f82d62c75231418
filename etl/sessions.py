"""Dashboard sessions, kept in the store so that every worker and process sees the same ones.

A session is created at sign-in; the browser's cookie holds a random token and the store only its SHA-256, so
a copy of the database cannot be used to sign in. A session ends at sign-out, when it has been idle for
``IDLE`` or is older than ``LIFETIME``, and when its account is disabled or its password reset. Each session
has its own CSRF token, which every state-changing request must echo.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from etl import audit
from etl.store import UserAccount, UserSession, utcnow, writer
from etl.users import User, _row_user


def _minutes(env: str, default: float) -> dt.timedelta:
    try:
        return dt.timedelta(minutes=float(os.environ.get(env, default)))
    except ValueError:
        return dt.timedelta(minutes=default)


IDLE = _minutes("OBA_SESSION_IDLE_MINUTES", 60)
LIFETIME = _minutes("OBA_SESSION_MAX_MINUTES", 12 * 60)
TOUCH_EVERY = dt.timedelta(seconds=60)  # last_seen is written at most this often


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    id: int
    user: User
    csrf_token: str
    via: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime


def create_session(engine: Engine, user: User, address: str | None, via: str = "password",
                   now: dt.datetime | None = None) -> tuple[str, Session]:
    """Start a session for ``user``; return (the cookie's token, the session). Records the sign-in."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = now + LIFETIME
    with writer(engine).begin() as conn:
        sid = conn.execute(UserSession.__table__.insert().values(
            token_hash=token_hash(token), user_id=user.id, csrf_token=csrf, via=via,
            address=(address or None) and address[:64], created_at=now, last_seen_at=now, expires_at=expires,
        ).returning(UserSession.id)).scalar_one()
        audit.record(conn, "signin", user.name, after={"via": via},
                     actor=audit.Actor(user.name, user.role, "web", address))
    return token, Session(sid, user, csrf, via, now, now, expires)


def find_session(engine: Engine, token: str | None, now: dt.datetime | None = None) -> Session | None:
    """The live session for a cookie's token, or None (unknown, ended, expired, idle, account disabled)."""
    if not token or len(token) > 200:
        return None
    now = now or utcnow()
    with engine.connect() as conn:
        row = conn.execute(
            select(UserSession.id.label("sid"), UserSession.csrf_token, UserSession.via, UserSession.created_at.label(
                "started"), UserSession.last_seen_at, UserSession.expires_at, UserSession.ended_at,
                   *UserAccount.__table__.c)
            .join(UserAccount, UserAccount.id == UserSession.user_id)
            .where(UserSession.token_hash == token_hash(token))).first()
    if row is None or row.ended_at is not None or row.disabled:
        return None
    if now >= row.expires_at or now - row.last_seen_at >= IDLE:
        return None
    user = _row_user(row)
    last_seen = row.last_seen_at
    if now - last_seen >= TOUCH_EVERY:
        try:
            with writer(engine).begin() as conn:
                conn.execute(update(UserSession).where(UserSession.id == row.sid).values(last_seen_at=now))
            last_seen = now
        except SQLAlchemyError:  # a busy or read-only store: the session is still valid; try again next time
            pass
    return Session(row.sid, user, row.csrf_token, row.via, row.started, last_seen, row.expires_at)


def end_session(engine: Engine, token: str | None, address: str | None = None) -> bool:
    """Sign out: end the session for this token; record it. False when there was no live session."""
    session = find_session(engine, token)
    if session is None:
        return False
    with writer(engine).begin() as conn:
        conn.execute(update(UserSession).where(UserSession.id == session.id).values(ended_at=utcnow()))
        audit.record(conn, "signout", session.user.name,
                     actor=audit.Actor(session.user.name, session.user.role, "web", address))
    return True
