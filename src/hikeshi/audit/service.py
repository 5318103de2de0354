"""Writing and verifying the audit chain.

Every session comes from :func:`make_audited_session_factory`, whose ``after_flush`` hook turns
each insert, update and delete of an audited model into a chained row in the same transaction.
A flush that changes business state with no actor on the session is refused, so business
state cannot be written without its audit row.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Connection, Engine, Table, event, insert, inspect, select, update
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.orm.session import JoinTransactionMode

from hikeshi.audit.models import GENESIS_HASH, AuditEvent, AuditHead
from hikeshi.bulkwrite import insert_rows
from hikeshi.clock import Clock, SystemClock
from hikeshi.db import Base
from hikeshi.errors import AuditRequired

ActorType = Literal["user", "token", "system", "anonymous"]
AUDIT_EVENTS: Table = AuditEvent.__table__  # type: ignore[assignment]
_AUDIT_COLUMNS = tuple(c.key for c in AUDIT_EVENTS.columns if c.key != "id")
_AUDIT_JSON = frozenset({"before", "after", "detail"})
REDACTED = "[redacted]"


@dataclass(frozen=True)
class Actor:
    type: ActorType
    id: int | None
    label: str


def system_actor(label: str) -> Actor:
    return Actor(type="system", id=None, label=label)


def set_actor(session: Session, actor: Actor) -> None:
    session.info["actor"] = actor


def get_actor(session: Session) -> Actor | None:
    actor = session.info.get("actor")
    return actor if isinstance(actor, Actor) else None


def _clock(session: Session) -> Clock:
    clock = session.info.get("clock")
    return clock if clock is not None else SystemClock()


_PLAIN = (str, int, float, bool, type(None))


def _jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:  # the common case first: this runs for every audited field
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def canonical_hash(fields: dict[str, Any], *, jsonable: bool = False) -> str:
    """SHA-256 of the fields as sorted, compact JSON. ``jsonable``: already converted."""
    payload = json.dumps(
        fields if jsonable else _jsonable(fields),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _hashed_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "seq": row["seq"],
        "occurred_at": row["occurred_at"],
        "org_id": row["org_id"],
        "actor_type": row["actor_type"],
        "actor_id": row["actor_id"],
        "actor_label": row["actor_label"],
        "action": row["action"],
        "entity_type": row["entity_type"],
        "entity_id": row["entity_id"],
        "before": row["before"],
        "after": row["after"],
        "detail": row["detail"],
        "prev_hash": row["prev_hash"],
    }


@dataclass(frozen=True)
class Entry:
    action: str
    org_id: int | None
    entity_type: str | None = None
    entity_id: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    detail: dict[str, Any] | None = None
    actor: Actor | None = None  # who did it, when one append carries several people's changes


def append_entries(
    session: Session, entries: Iterable[Entry], *, actor: Actor | None = None
) -> None:
    """Append explicit entries for changes written with Core statements (the intake fast path),
    which the flush hook does not see. Every entry needs an actor, its own or ``actor``."""
    entries = list(entries)
    for entry in entries:
        if entry.actor is None and actor is None:
            raise AuditRequired(f"audit entry {entry.action} has no actor")
    _append(session, entries, actor)


def _append(session: Session, entries: Iterable[Entry], actor: Actor | None) -> None:
    entries = list(entries)
    if not entries:
        return
    conn = session.connection()
    # FOR UPDATE serialises appenders on PostgreSQL; SQLite already holds its write lock
    # because every transaction begins IMMEDIATE.
    head = conn.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()
    ).first()
    seq, prev = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    now = _clock(session).now().astimezone(UTC)
    now_text = now.isoformat()
    rows = []
    for entry in entries:
        seq += 1
        who = entry.actor or actor
        assert who is not None  # append_entries and the flush hook check this first
        row: dict[str, Any] = {
            "seq": seq,
            "occurred_at": now,
            "org_id": entry.org_id,
            "actor_type": who.type,
            "actor_id": who.id,
            "actor_label": who.label,
            "action": entry.action,
            "entity_type": entry.entity_type,
            "entity_id": entry.entity_id,
            "before": _jsonable(entry.before) if entry.before is not None else None,
            "after": _jsonable(entry.after) if entry.after is not None else None,
            "detail": _jsonable(entry.detail) if entry.detail is not None else None,
            "prev_hash": prev,
        }
        hashed = _hashed_fields(row)
        hashed["occurred_at"] = now_text
        row["hash"] = canonical_hash(hashed, jsonable=True)
        prev = row["hash"]
        rows.append(row)
    insert_rows(
        conn, AUDIT_EVENTS, rows, columns=_AUDIT_COLUMNS, json_columns=_AUDIT_JSON, need_ids=False
    )
    if head is None:
        conn.execute(insert(AuditHead).values(id=1, seq=seq, hash=prev))
    else:
        conn.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=prev))


def record(
    session: Session,
    *,
    action: str,
    org_id: int | None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    detail: dict[str, Any] | None = None,
    actor: Actor | None = None,
) -> None:
    """Append an explicit event (a login, a refusal, an export) that is not a row change."""
    who = actor or get_actor(session) or Actor(type="anonymous", id=None, label="anonymous")
    _append(
        session,
        [Entry(action, org_id, entity_type, entity_id, None, None, detail)],
        who,
    )


def record_in_own_transaction(
    factory: sessionmaker[Session],
    *,
    action: str,
    org_id: int | None,
    actor: Actor,
    detail: dict[str, Any] | None = None,
    clock: Clock | None = None,
) -> None:
    """For refusals: the request's own transaction is rolled back, but the refusal must stay."""
    with factory() as session:
        if clock is not None:
            session.info["clock"] = clock
        record(session, action=action, org_id=org_id, detail=detail, actor=actor)
        session.commit()


# --- automatic entries for ORM changes -------------------------------------------------------


def _entity_name(obj: Base) -> str:
    return str(obj.__tablename__)


def _org_of(obj: Base) -> int | None:
    explicit = getattr(obj, "__audit_org_attr__", "org_id")
    value = getattr(obj, explicit, None)
    return value if isinstance(value, int) else None


def _snapshot(obj: Base, *, committed: bool) -> dict[str, Any]:
    state = inspect(obj)
    redact: set[str] = set(getattr(obj, "__audit_redact__", ()))
    # Bookkeeping columns (last_used_at) change on every request and carry no decision.
    ignore: set[str] = set(getattr(obj, "__audit_ignore__", ()))
    out: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in ignore:
            continue
        if committed:
            hist = state.attrs[key].history
            if hist.deleted:
                value = hist.deleted[0]
            elif hist.unchanged:
                value = hist.unchanged[0]
            else:
                value = state.committed_state.get(key, getattr(obj, key, None))
        else:
            value = getattr(obj, key, None)
        out[key] = REDACTED if key in redact and value is not None else value
    return out


def _entity_id(obj: Base) -> str:
    # Read the key off the instance: in after_flush a new row has its primary key but not
    # yet an identity, and "*.create" rows must still name what they created.
    state = inspect(obj)
    parts = state.mapper.primary_key_from_instance(obj)
    if all(part is None for part in parts):
        return ""
    return ",".join(str(part) for part in parts)


def _changed_fields(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def _entries_from_flush(session: Session) -> Iterator[Entry]:
    for obj in session.new:
        if isinstance(obj, Base) and obj.__audited__:
            after = _snapshot(obj, committed=False)
            yield Entry(
                f"{_entity_name(obj)}.create",
                _org_of(obj),
                _entity_name(obj),
                _entity_id(obj),
                None,
                after,
            )
    for obj in session.dirty:
        if isinstance(obj, Base) and obj.__audited__ and session.is_modified(obj):
            before = _snapshot(obj, committed=True)
            after = _snapshot(obj, committed=False)
            changed_before, changed_after = _changed_fields(before, after)
            if changed_after:
                yield Entry(
                    f"{_entity_name(obj)}.update",
                    _org_of(obj),
                    _entity_name(obj),
                    _entity_id(obj),
                    changed_before,
                    changed_after,
                )
    for obj in session.deleted:
        if isinstance(obj, Base) and obj.__audited__:
            yield Entry(
                f"{_entity_name(obj)}.delete",
                _org_of(obj),
                _entity_name(obj),
                _entity_id(obj),
                _snapshot(obj, committed=True),
                None,
            )


def _after_flush(session: Session, _ctx: Any) -> None:
    entries = list(_entries_from_flush(session))
    if not entries:
        return
    actor = get_actor(session)
    if actor is None:
        raise AuditRequired(
            f"refusing to flush {len(entries)} audited change(s) "
            f"({', '.join(sorted({e.action for e in entries}))}) without an actor"
        )
    _append(session, entries, actor)


def _refuse_bulk_dml(state: ORMExecuteState) -> None:
    """Bulk ``update(Model)``/``delete(Model)`` skips the flush, and with it the audit row."""
    if not (state.is_update or state.is_delete):
        return
    for mapper in state.all_mappers:
        if getattr(mapper.class_, "__audited__", False):
            raise AuditRequired(
                f"bulk {'UPDATE' if state.is_update else 'DELETE'} on audited model "
                f"{mapper.class_.__name__} would bypass the audit trail; change loaded objects"
            )


def make_audited_session_factory(
    bind: Engine | Connection,
    *,
    clock: Clock | None = None,
    info: dict[str, Any] | None = None,
    join_transaction_mode: JoinTransactionMode = "conditional_savepoint",
) -> sessionmaker[Session]:
    """The only session factory the application uses (tests bind it to an open connection)."""
    factory = sessionmaker(
        bind=bind,
        expire_on_commit=False,
        info={"clock": clock or SystemClock(), **(info or {})},
        join_transaction_mode=join_transaction_mode,
    )
    event.listen(factory, "after_flush", _after_flush)
    event.listen(factory, "do_orm_execute", _refuse_bulk_dml)
    return factory


# --- verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    kind: Literal["edited", "deleted", "inserted"]
    seq: int
    row_id: int | None
    message: str


@dataclass(frozen=True)
class VerifyResult:
    rows_checked: int
    head_seq: int
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_chain(session: Session, *, batch: int = 5000) -> VerifyResult:
    """Walk the chain in order and report the first edited, inserted or deleted row."""
    expected_seq = 1
    expected_prev = GENESIS_HASH
    checked = 0
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    head_seq = head.seq if head else 0
    columns = [c for c in AuditEvent.__table__.columns]
    stmt = select(*columns).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    for row in session.execute(stmt).mappings():
        data = dict(row)
        checked += 1
        if data["seq"] != expected_seq:
            if data["seq"] > expected_seq:
                return VerifyResult(
                    checked,
                    head_seq,
                    ChainProblem(
                        "deleted",
                        expected_seq,
                        None,
                        f"rows seq {expected_seq}..{data['seq'] - 1} are missing "
                        f"(next present row id={data['id']})",
                    ),
                )
            return VerifyResult(
                checked,
                head_seq,
                ChainProblem(
                    "inserted",
                    data["seq"],
                    data["id"],
                    f"row id={data['id']} repeats seq {data['seq']}",
                ),
            )
        if canonical_hash(_hashed_fields(data)) != data["hash"]:
            return VerifyResult(
                checked,
                head_seq,
                ChainProblem(
                    "edited",
                    data["seq"],
                    data["id"],
                    f"row seq {data['seq']} (id={data['id']}) does not match its hash",
                ),
            )
        if data["prev_hash"] != expected_prev:
            return VerifyResult(
                checked,
                head_seq,
                ChainProblem(
                    "inserted",
                    data["seq"],
                    data["id"],
                    f"row seq {data['seq']} (id={data['id']}) does not link to the row before it",
                ),
            )
        expected_prev = data["hash"]
        expected_seq += 1
    last_seq = expected_seq - 1
    if head is not None and last_seq < head.seq:
        return VerifyResult(
            checked,
            head_seq,
            ChainProblem(
                "deleted",
                last_seq + 1,
                None,
                f"rows seq {last_seq + 1}..{head.seq} after the last present row are missing",
            ),
        )
    if head is not None and last_seq > head.seq:
        return VerifyResult(
            checked,
            head_seq,
            ChainProblem(
                "inserted", head.seq + 1, None, f"rows beyond the recorded head seq {head.seq}"
            ),
        )
    if head is not None and last_seq == head.seq and expected_prev != head.hash:
        return VerifyResult(
            checked,
            head_seq,
            ChainProblem(
                "edited", last_seq, None, "the last row does not match the recorded head hash"
            ),
        )
    if head is None and checked:
        return VerifyResult(
            checked,
            0,
            ChainProblem("inserted", 1, None, "rows exist but the chain head is missing"),
        )
    return VerifyResult(checked, head_seq, None)


def list_events(
    *, session: Session, org_id: int, before_seq: int | None = None, limit: int = 100
) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.org_id == org_id)
    if before_seq is not None:
        stmt = stmt.where(AuditEvent.seq < before_seq)
    return list(session.scalars(stmt.order_by(AuditEvent.seq.desc()).limit(limit)))
