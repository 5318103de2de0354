"""The risk register on a real database (SQLite or PostgreSQL), one savepoint per test."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hikeshi.audit.models import AuditEvent
from hikeshi.auth import service as auth_service
from hikeshi.clock import FrozenClock
from hikeshi.errors import NotFound, ValidationFailed
from hikeshi.risks import service
from hikeshi.risks.models import SCALE, Priority, Risk
from hikeshi.risks.schemas import MatrixUpdate, RiskCreate, RiskUpdate

PLAYBOOKS = {"recall": "製品リコール", "outage": "サービス障害"}


@pytest.fixture
def org_id(session: Session, clock: FrozenClock) -> int:
    return auth_service.create_org(
        session=session, slug="risk-co", name="リスク株式会社", clock=clock
    ).id


def add(session: Session, org_id: int, clock: FrozenClock, **fields: object) -> Risk:
    data = {"title": "リスク", "category": "技術的", "likelihood": 3, "impact": 3, **fields}
    return service.create_risk(
        session=session,
        org_id=org_id,
        data=RiskCreate.model_validate(data),
        actor_label="test",
        clock=clock,
        playbooks=PLAYBOOKS,
    )


def count(session: Session, org_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Risk).where(Risk.org_id == org_id)) or 0


def audit_actions(session: Session, org_id: int) -> list[str]:
    return list(
        session.scalars(
            select(AuditEvent.action).where(AuditEvent.org_id == org_id).order_by(AuditEvent.seq)
        )
    )


def test_create_update_delete_are_audited(
    session: Session, org_id: int, clock: FrozenClock
) -> None:
    risk = add(session, org_id, clock, title="大規模停電", category="環境", playbook_id="outage")
    clock.advance(timedelta(hours=1))
    service.update_risk(
        session=session,
        org_id=org_id,
        risk_id=risk.id,
        data=RiskUpdate(impact=5, owner="設備課"),
        actor_label="manager@example.jp",
        clock=clock,
        playbooks=PLAYBOOKS,
    )
    assert (risk.impact, risk.owner, risk.title) == (5, "設備課", "大規模停電")
    assert risk.updated_at == clock.now() and risk.updated_by_label == "manager@example.jp"
    service.delete_risk(session=session, org_id=org_id, risk_id=risk.id)
    actions = audit_actions(session, org_id)
    assert actions[-3:] == ["risks.create", "risks.update", "risks.delete"]
    update = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "risks.update", AuditEvent.org_id == org_id)
    ).one()
    assert update.before is not None and update.before["impact"] == 3
    assert update.after is not None and update.after["impact"] == 5
    assert update.entity_id == str(risk.id)


def test_unknown_category_or_playbook_is_refused(
    session: Session, org_id: int, clock: FrozenClock
) -> None:
    with pytest.raises(ValidationFailed) as err:
        add(session, org_id, clock, category="天災", playbook_id="nope")
    assert set(err.value.fields) == {"category", "playbook_id"}
    assert "天災" in err.value.message_ja
    assert count(session, org_id) == 0


def test_another_orgs_risk_is_not_found(session: Session, org_id: int, clock: FrozenClock) -> None:
    other = auth_service.create_org(session=session, slug="other-co", name="他社", clock=clock)
    risk = add(session, other.id, clock)
    with pytest.raises(NotFound):
        service.get_risk(session=session, org_id=org_id, risk_id=risk.id)
    with pytest.raises(NotFound):
        service.delete_risk(session=session, org_id=org_id, risk_id=risk.id)


def test_custom_matrix_reprioritises_and_filters(
    session: Session, org_id: int, clock: FrozenClock
) -> None:
    low = add(session, org_id, clock, title="軽微", likelihood=1, impact=1)
    edge = add(session, org_id, clock, title="影響大", likelihood=1, impact=5)
    high = add(session, org_id, clock, title="頻発", likelihood=5, impact=4)
    by_priority = service.list_risks(
        session=session,
        org_id=org_id,
        filters=service.RiskFilter(priority=Priority.critical),
        clock=clock,
    )
    assert [r.id for r in by_priority] == [high.id]  # default grid: 20 → 極高
    # This organisation treats every impact of 5 as critical and everything else as low.
    levels = [[Priority.critical if im == 5 else Priority.low for im in SCALE] for _ in SCALE]
    service.set_matrix(
        session=session,
        org_id=org_id,
        data=MatrixUpdate(levels=levels),
        actor_label="test",
        clock=clock,
    )
    matrix = service.get_matrix(session=session, org_id=org_id)
    assert not matrix.is_default
    critical = service.list_risks(
        session=session,
        org_id=org_id,
        filters=service.RiskFilter(priority=Priority.critical),
        clock=clock,
    )
    assert [r.id for r in critical] == [edge.id]
    public = service.to_public(high, matrix=matrix, today=date(2026, 11, 20))
    assert public.priority is Priority.low and public.priority_label == "低"
    none = service.list_risks(
        session=session,
        org_id=org_id,
        filters=service.RiskFilter(priority=Priority.medium),
        clock=clock,
    )
    assert none == []
    # Sorted: highest priority first.
    ordered = service.list_risks(session=session, org_id=org_id, clock=clock)
    assert ordered[0].id == edge.id and {r.id for r in ordered} == {low.id, edge.id, high.id}
    assert "risk_matrices.create" in audit_actions(session, org_id)


def test_filters(session: Session, org_id: int, clock: FrozenClock) -> None:
    today = date(2026, 11, 20)  # the frozen clock's day in JST
    overdue = add(session, org_id, clock, title="期限切れ", review_date=today - timedelta(days=1))
    add(session, org_id, clock, title="今日", review_date=today, owner="広報部 佐藤")
    pb = add(session, org_id, clock, title="フローあり", playbook_id="recall", category="評判")

    def ids(**kw: object) -> list[str]:
        f = service.RiskFilter(**kw)  # type: ignore[arg-type]
        return [
            r.title
            for r in service.list_risks(session=session, org_id=org_id, filters=f, clock=clock)
        ]

    assert ids(overdue=True) == [overdue.title]
    assert ids(owner="広報") == ["今日"]
    assert ids(category="評判") == [pb.title]
    assert ids(playbook_id="recall") == [pb.title]
    assert sorted(ids(playbook_id="")) == sorted(["期限切れ", "今日"])
    assert ids(q="フロー") == [pb.title]
    assert ids(q="%") == []  # LIKE wildcards are escaped
    assert len(ids(likelihood=3, impact=3)) == 3


def test_heatmap_counts_every_cell(session: Session, org_id: int, clock: FrozenClock) -> None:
    for lk, im in [(1, 1), (1, 1), (5, 5), (2, 4), (2, 4), (2, 4)]:
        add(session, org_id, clock, likelihood=lk, impact=im)
    add(session, org_id, clock, likelihood=5, impact=5, category="評判")
    heat = service.heatmap(session=session, org_id=org_id, clock=clock)
    assert heat.total == 7 and len(heat.cells) == 25
    counts = {(c.likelihood, c.impact): c.count for c in heat.cells}
    assert counts[(1, 1)] == 2 and counts[(5, 5)] == 2 and counts[(2, 4)] == 3
    assert sum(counts.values()) == 7
    # Rows from likelihood 5 down to 1, impact 1 → 5 inside a row.
    assert (heat.cells[0].likelihood, heat.cells[0].impact) == (5, 1)
    assert (heat.cells[-1].likelihood, heat.cells[-1].impact) == (1, 5)
    assert heat.cells[4].priority is Priority.critical
    filtered = service.heatmap(
        session=session,
        org_id=org_id,
        clock=clock,
        filters=service.RiskFilter(category="評判", likelihood=1, impact=1),
    )
    assert filtered.total == 1  # the cell selection does not shrink the map itself


def test_extra_category_in_use_cannot_be_removed(
    session: Session, org_id: int, clock: FrozenClock
) -> None:
    service.set_matrix(
        session=session,
        org_id=org_id,
        data=MatrixUpdate(extra_categories=["法令", " 法令 ", "技術的", "取引先"]),
        actor_label="test",
        clock=clock,
    )
    matrix = service.get_matrix(session=session, org_id=org_id)
    assert matrix.extra_categories == ("法令", "取引先")
    add(session, org_id, clock, category="法令")
    with pytest.raises(ValidationFailed) as err:
        service.set_matrix(
            session=session,
            org_id=org_id,
            data=MatrixUpdate(extra_categories=[]),
            actor_label="test",
            clock=clock,
        )
    assert "法令" in err.value.message_ja
    service.set_matrix(
        session=session,
        org_id=org_id,
        data=MatrixUpdate(extra_categories=["法令"]),
        actor_label="test",
        clock=clock,
    )
    assert service.get_matrix(session=session, org_id=org_id).extra_categories == ("法令",)


CSV_OK = (
    "タイトル,カテゴリ,発生可能性,影響度,担当者,見直し日,対応フロー,備考\r\n"
    "発火事故,技術的,2,5,品質保証部,2026-12-01,recall,\r\n"
    'コールセンター停止,オペレーショナル,3,4,センター長,,outage,"複数行\n備考"\r\n'
    "地震,環境,2,5,,,,\r\n"
)


def import_csv(session: Session, org_id: int, clock: FrozenClock, data: bytes) -> list[Risk]:
    return service.import_csv(
        session=session,
        org_id=org_id,
        data=data,
        actor_label="test",
        clock=clock,
        playbooks=PLAYBOOKS,
    )


def test_csv_import_adds_every_row(session: Session, org_id: int, clock: FrozenClock) -> None:
    created = import_csv(session, org_id, clock, CSV_OK.encode("utf-8"))
    assert [r.title for r in created] == ["発火事故", "コールセンター停止", "地震"]
    assert count(session, org_id) == 3
    actions = audit_actions(session, org_id)
    assert actions.count("risks.create") == 3 and actions[-1] == "risks.imported"


def test_csv_with_bad_rows_imports_nothing(
    session: Session, org_id: int, clock: FrozenClock
) -> None:
    add(session, org_id, clock)
    before = count(session, org_id)
    bad = CSV_OK + "壊れた行,不明,9,,,2026/02/30,,\r\n" + "もう一つ,評判,1,1,,,missing,\r\n"
    with pytest.raises(service.CsvImportFailed) as err:
        import_csv(session, org_id, clock, bad.encode("utf-8"))
    found = [(e.line, e.column) for e in err.value.errors]
    assert found == [
        (6, "カテゴリ"),
        (6, "発生可能性"),
        (6, "影響度"),
        (6, "見直し日"),
        (7, "対応フロー"),
    ]
    assert err.value.fields["errors"][0] == {
        "line": 6,
        "column": "カテゴリ",
        "message": err.value.errors[0].message,
    }
    assert count(session, org_id) == before
    assert "risks.imported" not in audit_actions(session, org_id)


def test_bom_and_shift_jis_imports(session: Session, org_id: int, clock: FrozenClock) -> None:
    import_csv(session, org_id, clock, b"\xef\xbb\xbf" + CSV_OK.encode("utf-8"))
    import_csv(session, org_id, clock, CSV_OK.encode("cp932"))
    titles = [r.title for r in service.list_risks(session=session, org_id=org_id, clock=clock)]
    assert sorted(titles) == sorted(["発火事故", "コールセンター停止", "地震"] * 2)


def test_export_then_import_round_trips(session: Session, org_id: int, clock: FrozenClock) -> None:
    service.set_matrix(
        session=session,
        org_id=org_id,
        data=MatrixUpdate(extra_categories=["法令"]),
        actor_label="test",
        clock=clock,
    )
    import_csv(session, org_id, clock, CSV_OK.encode("utf-8"))
    add(session, org_id, clock, title="=SUM(A1)", category="法令", owner="+81", notes="@メモ")
    exported = service.export_csv(session=session, org_id=org_id, clock=clock)
    assert exported.startswith(b"\xef\xbb\xbf")
    assert "risks.exported" in audit_actions(session, org_id)

    fields = (
        "title",
        "category",
        "likelihood",
        "impact",
        "owner",
        "review_date",
        "playbook_id",
        "notes",
    )

    def snapshot(oid: int) -> list[tuple[object, ...]]:
        risks = service.list_risks(session=session, org_id=oid, clock=clock)
        return sorted((tuple(getattr(r, f) for f in fields) for r in risks), key=str)

    other = auth_service.create_org(session=session, slug="copy-co", name="複製先", clock=clock)
    service.set_matrix(
        session=session,
        org_id=other.id,
        data=MatrixUpdate(extra_categories=["法令"]),
        actor_label="test",
        clock=clock,
    )
    import_csv(session, other.id, clock, exported)
    assert snapshot(other.id) == snapshot(org_id)
    assert service.export_csv(session=session, org_id=other.id, clock=clock) == exported
