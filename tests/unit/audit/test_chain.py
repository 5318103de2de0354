from __future__ import annotations

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.audit.models import AuditEvent
from hikeshi.audit.service import record, set_actor, system_actor, verify_chain
from hikeshi.auth.models import Organisation
from hikeshi.clock import FrozenClock
from hikeshi.errors import AuditRequired
from tests.dbutil import tamper_mode


def _org(session: Session, clock: FrozenClock, slug: str) -> Organisation:
    org = Organisation(slug=slug, name=f"{slug} 株式会社", created_at=clock.now())
    session.add(org)
    session.flush()
    return org


def test_create_update_delete_each_append_a_row(session: Session, clock: FrozenClock) -> None:
    org = _org(session, clock, "acme")
    org.name = "アクメ株式会社"
    session.flush()
    session.delete(org)
    session.flush()
    rows = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [r.action for r in rows] == [
        "organisations.create",
        "organisations.update",
        "organisations.delete",
    ]
    assert rows[1].before == {"name": "acme 株式会社"}
    assert rows[1].after == {"name": "アクメ株式会社"}
    assert rows[0].org_id == org.id
    assert verify_chain(session).ok


def test_write_without_actor_is_refused(
    sessions: sessionmaker[Session], clock: FrozenClock
) -> None:
    with sessions() as s:
        s.add(Organisation(slug="noactor", name="x", created_at=clock.now()))
        with pytest.raises(AuditRequired):
            s.flush()


def _three_rows(session: Session, clock: FrozenClock) -> list[AuditEvent]:
    for i in range(3):
        record(session, action="test.event", org_id=None, detail={"i": i})
    session.flush()
    return list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def test_audit_rows_cannot_be_updated_or_deleted_plainly(
    session: Session, clock: FrozenClock
) -> None:
    rows = _three_rows(session, clock)
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(
            text("UPDATE audit_events SET actor_label = 'x' WHERE id = :i"), {"i": rows[0].id}
        )
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": rows[0].id})
    assert verify_chain(session).ok


def test_bulk_update_of_audited_model_is_refused(session: Session, clock: FrozenClock) -> None:
    org = _org(session, clock, "bulk")
    with pytest.raises(AuditRequired, match="bypass the audit trail"):
        session.execute(update(Organisation).where(Organisation.id == org.id).values(name="x"))


def test_edit_is_detected(session: Session, clock: FrozenClock) -> None:
    rows = _three_rows(session, clock)
    tamper_mode(session.connection())
    session.execute(
        update(AuditEvent).where(AuditEvent.id == rows[1].id).values(actor_label="someone else")
    )
    result = verify_chain(session)
    assert result.problem is not None
    assert result.problem.kind == "edited"
    assert result.problem.seq == rows[1].seq


def test_delete_in_middle_and_at_tail_is_detected(session: Session, clock: FrozenClock) -> None:
    rows = _three_rows(session, clock)
    tamper_mode(session.connection())
    session.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": rows[1].id})
    problem = verify_chain(session).problem
    assert problem is not None and problem.kind == "deleted" and problem.seq == rows[1].seq


def test_tail_delete_is_detected(session: Session, clock: FrozenClock) -> None:
    rows = _three_rows(session, clock)
    tamper_mode(session.connection())
    session.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": rows[2].id})
    problem = verify_chain(session).problem
    assert problem is not None and problem.kind == "deleted" and problem.seq == rows[2].seq


def test_insert_is_detected(session: Session, clock: FrozenClock) -> None:
    rows = _three_rows(session, clock)
    forged = {
        c: getattr(rows[2], c) for c in ("occurred_at", "actor_type", "actor_label", "action")
    }
    session.add(
        AuditEvent(
            seq=rows[2].seq + 1,
            prev_hash="f" * 64,
            hash="e" * 64,
            org_id=None,
            actor_id=None,
            entity_type=None,
            entity_id=None,
            before=None,
            after=None,
            detail=None,
            **forged,
        )
    )
    session.flush()
    problem = verify_chain(session).problem
    assert problem is not None and problem.kind in {"inserted", "edited"}
    assert problem.seq == rows[2].seq + 1


def test_system_actor_label_recorded(session: Session) -> None:
    set_actor(session, system_actor("worker"))
    record(session, action="x.y", org_id=None)
    session.flush()
    assert session.scalars(select(AuditEvent.actor_label)).one() == "worker"
