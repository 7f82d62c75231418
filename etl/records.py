"""Saving governance records that people edit (critical messages, report cards, evidence, information sources):
every version kept in ``record_version`` with who and when, the change in the audit trail, and the second of
two editors told (``Conflict``) instead of silently overwriting the first.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from etl import audit
from etl.errors import OBAError
from etl.governance import Conflict, _who
from etl.store import RecordVersion, utcnow, writer


def plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def as_dict(row, fields: tuple[str, ...]) -> dict:
    return {f: getattr(row, f) for f in ("id", *fields, "version")}


def save(engine: Engine, model, kind: str, fields: tuple[str, ...], values: dict, *, record_id: int | None = None,
         expected: int | None = None, by: str | None = None, at: dt.datetime | None = None,
         audit_action: str, target: str, created_fields: bool = True):
    """Create (``record_id`` None) or change a record, keeping the new version in ``record_version``.

    ``expected``: the version the editor started from; a different stored version raises ``Conflict`` with the
    stored record, and nothing is written.
    """
    who = _who(by)
    when = at or utcnow()
    with Session(writer(engine), expire_on_commit=False) as s, s.begin():
        if record_id is None:
            row = model(**values, version=1, **({"created_by": who, "created_at": when} if created_fields
                                                else {"updated_by": who, "updated_at": when}))
            s.add(row)
            before = None
        else:
            row = s.get(model, record_id)
            if row is None:
                raise OBAError(f"there is no {kind.replace('_', ' ')} number {record_id}; nothing was changed")
            if expected is not None and row.version != expected:
                raise Conflict(f"{row.updated_by or getattr(row, 'created_by', '')} changed this "
                               f"{kind.replace('_', ' ')} (now version {row.version}) after you opened version "
                               f"{expected}, so your change was not saved. Both versions are shown: make your "
                               "change on the latest one and save again.", as_dict(row, fields))
            before = {f: plain(getattr(row, f)) for f in fields}
            if all(before[f] == plain(values.get(f, getattr(row, f))) for f in fields):
                raise OBAError("nothing has changed, so nothing was saved")
            for k, v in values.items():
                setattr(row, k, v)
            row.version += 1
            row.updated_by, row.updated_at = who, when
        s.flush()
        data = {f: plain(getattr(row, f)) for f in fields}
        s.add(RecordVersion(kind=kind, record_id=row.id, version=row.version,
                            data=json.dumps(data, sort_keys=True, ensure_ascii=False), by=who, at=when))
        audit.record(s.connection(), audit_action, f"{target} {row.id}", before=before, after=data)
    return row


def versions(engine: Engine, kind: str, record_id: int) -> list[dict]:
    """Every version of a record, oldest first: {version, by, at, data}."""
    with engine.connect() as conn:
        rows = conn.execute(select(RecordVersion.version, RecordVersion.by, RecordVersion.at, RecordVersion.data)
                            .where(RecordVersion.kind == kind, RecordVersion.record_id == record_id)
                            .order_by(RecordVersion.version, RecordVersion.id)).all()
    return [{"version": v, "by": b, "at": a, "data": json.loads(d)} for v, b, a, d in rows]
