"""A hand-built month of contacts with known KPI answers (see test_kpis.py for the sums).

Period: 2026-11-14 .. 2026-11-20 (JST, inclusive); "now" is 2026-11-20 10:00 JST.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from hikeshi.auth import service as auth_service
from hikeshi.cases.models import Case, CaseState, NextAction, NextActionStatus, Tier
from hikeshi.clock import JST, Clock
from hikeshi.contacts.models import Channel, Classification, Contact, Customer
from hikeshi.incidents.models import Incident, IncidentState


def j(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=JST)


@dataclass
class Month:
    org_id: int
    real_incident: int
    drill_incident: int
    cases: dict[str, int]


def _incident(s: Session, org_id: int, key: str, drill: bool) -> Incident:
    now = j(1, 9)
    incident = Incident(
        org_id=org_id,
        launch_key=key,
        title=f"{key} リコール",
        pack_id="recall",
        pack_version="1",
        incident_type="recall",
        state=IncidentState.active,
        is_drill=drill,
        public_slug=f"kpi-{key}",
        queue_name=key,
        params={},
        rendered={},
        staffing={},
        launched_by_label="test",
        launched_at=now,
        state_changed_at=now,
        closed_at=None,
    )
    s.add(incident)
    s.flush()
    return incident


def build_month(s: Session, clock: Clock) -> Month:
    org = auth_service.create_org(session=s, slug="kpi", name="KPI株式会社", clock=clock)
    real = _incident(s, org.id, "real", False)
    drill = _incident(s, org.id, "drill", True)
    now = clock.now()
    customers = {}
    for name in ("A", "B", "C"):
        c = Customer(org_id=org.id, name=name, created_at=now, updated_at=now)
        s.add(c)
        customers[name] = c
    s.flush()
    C = Classification
    rows = {
        # key: (customer, classification, started, operator, incident)
        "c_old": ("C", C.request, j(1, 9), "op2", real.id),
        "c0": ("A", C.complaint, j(10, 9), "op1", real.id),
        "c1": ("A", C.complaint, j(15, 10), "op1", real.id),
        "c2": ("A", C.inquiry, j(16, 10), "op1", real.id),
        "c3": ("B", C.complaint, j(16, 11), "op2", real.id),
        "c4": ("B", C.complaint, j(18, 11), "op2", None),
        "c5": ("C", C.request, j(19, 9), "op2", real.id),
        "c6": (None, C.complaint, j(19, 10), "op1", real.id),
        "c7": ("A", C.opinion, j(17, 10), "op1", drill.id),
        "c8": ("C", C.request, j(19, 12), "op1", real.id),
        "c9": ("A", C.opinion, j(18, 10), "op2", real.id),
    }
    contacts: dict[str, Contact] = {}
    for key, (cust, cls, started, op, inc) in rows.items():
        contact = Contact(
            org_id=org.id,
            customer_id=customers[cust].id if cust else None,
            incident_id=inc,
            channel=Channel.phone_in,
            classification=cls,
            operator_label=op,
            subject=key,
            started_at=started,
            created_at=now,
            updated_at=now,
        )
        s.add(contact)
        contacts[key] = contact
    s.flush()
    case_rows = {
        # key: (contact, escalated, resolved, escalation_count, csat)
        "k0": ("c0", j(10, 10), j(10, 11), 1, 5),
        "k1": ("c1", j(15, 10, 30), j(15, 12, 30), 1, 4),
        "k3": ("c3", j(16, 11, 30), j(17, 11, 30), 2, 2),
        "k4": ("c4", j(18, 12), None, 2, None),
        "k7": ("c7", j(17, 11), j(17, 12), 1, 1),
    }
    cases: dict[str, Case] = {}
    for key, (ck, escalated, resolved, count, csat) in case_rows.items():
        case = Case(
            org_id=org.id,
            contact_id=contacts[ck].id,
            customer_id=contacts[ck].customer_id,
            incident_id=contacts[ck].incident_id,
            title=key,
            tier=Tier.supervisor,
            state=CaseState.resolved if resolved else CaseState.open,
            escalated_at=escalated,
            resolved_at=resolved,
            escalation_count=count,
            csat_score=csat,
            created_at=now,
            updated_at=now,
        )
        s.add(case)
        cases[key] = case
    s.flush()
    done, open_, cancelled = (
        NextActionStatus.done,
        NextActionStatus.open,
        NextActionStatus.cancelled,
    )
    actions = [
        # (case, contact, due, status, done_at)
        ("k1", None, j(15, 18), done, j(15, 17)),  # a1 kept
        ("k3", None, j(16, 18), done, j(17, 9)),  # a2 late
        (None, "c4", j(19, 17), open_, None),  # a3 overdue
        ("k4", None, j(20, 18), open_, None),  # a4 not due yet
        ("k7", None, j(17, 18), done, j(17, 12)),  # a5 drill
        ("k0", None, j(14, 12), done, j(14, 11)),  # a6 kept (contact before the period)
        ("k1", None, j(16, 12), cancelled, None),  # a7 cancelled
    ]
    for case_key, contact_key, due, status, done_at in actions:
        s.add(
            NextAction(
                org_id=org.id,
                case_id=cases[case_key].id if case_key else None,
                contact_id=contacts[contact_key].id if contact_key else None,
                description="折り返し",
                due_at=due,
                status=status,
                done_at=done_at,
                created_at=now,
            )
        )
    s.flush()
    return Month(
        org_id=org.id,
        real_incident=real.id,
        drill_incident=drill.id,
        cases={k: c.id for k, c in cases.items()},
    )
