"""KPIs of contact handling and escalation, per period, incident and operator.

The population is the contacts that *started* in the period ``[start, end)`` (default: the last
seven JST days including today), of real incidents only: contacts of drill incidents
(``Incident.is_drill``) never count. Cases are counted with the contact they came from.

========================  ==================================================================
KPI                       definition
========================  ==================================================================
escalation rate           contacts that became a case / contacts
resolution rate           cases resolved or closed (``resolved_at`` set) / cases
recurrence rate (再問合せ)  contacts whose customer had another contact with the same
                          classification (same issue) in the ``recurrence_days`` before it
                          (any incident, any operator; drills excluded) / contacts that have
                          a customer and a classification
re-escalation rate        cases with ``escalation_count`` > 1 / cases
secondary AHT (二次対応)   mean of ``resolved_at − escalated_at`` over resolved cases, in
                          wall-clock seconds (not business time: the customer waits at night too)
CSAT                      mean survey score (1–5) and the number of answers, over the cases
deadline-kept rate        next actions due in the period whose deadline has passed or that are
                          done (cancelled ones excluded): done on or before ``due_at`` / those
========================  ==================================================================

"Per team": Hikeshi has no team model; the contact's ``operator_label`` (the first-line person)
is the grouping. A rate whose denominator is 0 is ``None`` (shown as "—"), never 0.

The arithmetic is pure (:func:`summarise` over plain rows); :func:`compute_kpis` and
:func:`kpi_table` only query the rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hikeshi.cases.models import Case, NextAction, NextActionStatus
from hikeshi.clock import JST, to_jst
from hikeshi.contacts.models import Contact
from hikeshi.errors import ValidationFailed
from hikeshi.incidents.models import Incident

GroupBy = Literal["incident", "operator", "day"]
GROUP_LABELS_JA: dict[str, str] = {
    "incident": "インシデント別",
    "operator": "担当者別",
    "day": "日別",
}
MAX_PERIOD_DAYS = 366
DEFAULT_DAYS = 7


# --- plain rows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactRow:
    id: int
    customer_id: int | None
    classification: str | None
    started_at: datetime
    incident_id: int | None
    operator_label: str


@dataclass(frozen=True)
class CaseRow:
    contact_id: int
    escalated_at: datetime
    resolved_at: datetime | None
    escalation_count: int
    csat_score: int | None


@dataclass(frozen=True)
class ActionRow:
    contact_id: int | None
    due_at: datetime
    done_at: datetime | None
    status: str


@dataclass(frozen=True)
class Kpis:
    contacts: int
    escalated: int
    cases: int
    resolved: int
    reescalated: int
    recurrence_base: int
    recurrences: int
    aht_seconds: float | None
    csat_mean: float | None
    csat_responses: int
    actions_due: int
    actions_kept: int

    @staticmethod
    def _rate(n: int, d: int) -> float | None:
        return n / d if d else None

    @property
    def escalation_rate(self) -> float | None:
        return self._rate(self.escalated, self.contacts)

    @property
    def resolution_rate(self) -> float | None:
        return self._rate(self.resolved, self.cases)

    @property
    def recurrence_rate(self) -> float | None:
        return self._rate(self.recurrences, self.recurrence_base)

    @property
    def reescalation_rate(self) -> float | None:
        return self._rate(self.reescalated, self.cases)

    @property
    def deadline_kept_rate(self) -> float | None:
        return self._rate(self.actions_kept, self.actions_due)

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "contacts": self.contacts,
            "escalated": self.escalated,
            "escalation_rate": self.escalation_rate,
            "cases": self.cases,
            "resolved": self.resolved,
            "resolution_rate": self.resolution_rate,
            "recurrence_base": self.recurrence_base,
            "recurrences": self.recurrences,
            "recurrence_rate": self.recurrence_rate,
            "reescalated": self.reescalated,
            "reescalation_rate": self.reescalation_rate,
            "secondary_aht_seconds": self.aht_seconds,
            "csat_mean": self.csat_mean,
            "csat_responses": self.csat_responses,
            "actions_due": self.actions_due,
            "actions_kept": self.actions_kept,
            "deadline_kept_rate": self.deadline_kept_rate,
        }


def is_recurrence(contact: ContactRow, history: Sequence[ContactRow], window: timedelta) -> bool:
    """Another contact of the same customer and classification in ``window`` before this one."""
    if contact.customer_id is None or contact.classification is None:
        return False
    for other in history:
        if other.id == contact.id or other.customer_id != contact.customer_id:
            continue
        if other.classification != contact.classification:
            continue
        earlier = other.started_at < contact.started_at or (
            other.started_at == contact.started_at and other.id < contact.id
        )
        if earlier and contact.started_at - other.started_at <= window:
            return True
    return False


def summarise(
    *,
    contacts: Sequence[ContactRow],
    cases: Iterable[CaseRow],
    actions: Iterable[ActionRow],
    history: Sequence[ContactRow],
    window: timedelta,
    now: datetime,
) -> Kpis:
    """Pure: the KPIs of ``contacts``. ``cases`` are filtered to those contacts here;
    ``actions`` are taken as given (the caller chose them by due date and filters)."""
    ids = {c.id for c in contacts}
    own_cases = [c for c in cases if c.contact_id in ids]
    by_customer: dict[int, list[ContactRow]] = defaultdict(list)
    for h in history:
        if h.customer_id is not None:
            by_customer[h.customer_id].append(h)
    base = [c for c in contacts if c.customer_id is not None and c.classification is not None]
    recurrences = sum(
        1 for c in base if is_recurrence(c, by_customer.get(c.customer_id or 0, []), window)
    )
    resolved = [c for c in own_cases if c.resolved_at is not None]
    durations = [
        (c.resolved_at - c.escalated_at).total_seconds() for c in resolved if c.resolved_at
    ]
    scores = [c.csat_score for c in own_cases if c.csat_score is not None]
    due = [
        a
        for a in actions
        if a.status != NextActionStatus.cancelled.value
        and (a.status == NextActionStatus.done.value or a.due_at <= now)
    ]
    kept = [
        a
        for a in due
        if a.status == NextActionStatus.done.value
        and a.done_at is not None
        and a.done_at <= a.due_at
    ]
    return Kpis(
        contacts=len(contacts),
        escalated=len({c.contact_id for c in own_cases}),
        cases=len(own_cases),
        resolved=len(resolved),
        reescalated=sum(1 for c in own_cases if c.escalation_count > 1),
        recurrence_base=len(base),
        recurrences=recurrences,
        aht_seconds=sum(durations) / len(durations) if durations else None,
        csat_mean=sum(scores) / len(scores) if scores else None,
        csat_responses=len(scores),
        actions_due=len(due),
        actions_kept=len(kept),
    )


# --- periods ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: datetime  # inclusive, aware
    end: datetime  # exclusive, aware
    first_day: date  # JST, for display
    last_day: date  # JST, inclusive


def period_from_days(*, first_day: date | None, last_day: date | None, now: datetime) -> Period:
    """JST calendar days, both inclusive; default the last seven days including today."""
    today = to_jst(now).date()
    last = last_day or today
    first = first_day or (last - timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        raise ValidationFailed(
            "start is after end",
            message_ja="開始日が終了日より後になっています",
            fields={"start": first.isoformat()},
        )
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationFailed(
            "period too long",
            message_ja=f"期間は{MAX_PERIOD_DAYS}日以内にしてください",
            fields={"end": last.isoformat()},
        )
    start = datetime.combine(first, time(0), tzinfo=JST)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=JST)
    return Period(start=start, end=end, first_day=first, last_day=last)


def check_window(recurrence_days: int) -> timedelta:
    if recurrence_days < 1 or recurrence_days > 365:
        raise ValidationFailed(
            "recurrence_days must be 1..365",
            message_ja="再問合せの判定期間は1〜365日です",
            fields={"recurrence_days": recurrence_days},
        )
    return timedelta(days=recurrence_days)


# --- queries ----------------------------------------------------------------------------------


def _contact_rows(
    session: Session,
    org_id: int,
    start: datetime,
    end: datetime,
    *,
    incident_id: int | None = None,
    operator: str | None = None,
) -> list[ContactRow]:
    query = (
        select(
            Contact.id,
            Contact.customer_id,
            Contact.classification,
            Contact.started_at,
            Contact.incident_id,
            Contact.operator_label,
        )
        .outerjoin(Incident, Incident.id == Contact.incident_id)
        .where(
            Contact.org_id == org_id,
            Contact.started_at >= start,
            Contact.started_at < end,
            or_(Contact.incident_id.is_(None), Incident.is_drill.is_(False)),
        )
    )
    if incident_id is not None:
        query = query.where(Contact.incident_id == incident_id)
    if operator is not None:
        query = query.where(Contact.operator_label == operator)
    return [
        ContactRow(
            id=r.id,
            customer_id=r.customer_id,
            classification=r.classification.value if r.classification else None,
            started_at=r.started_at,
            incident_id=r.incident_id,
            operator_label=r.operator_label or "",
        )
        for r in session.execute(query.order_by(Contact.started_at, Contact.id))
    ]


def _case_rows(session: Session, org_id: int, contact_ids: Sequence[int]) -> list[CaseRow]:
    out: list[CaseRow] = []
    ids = list(contact_ids)
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        out.extend(
            CaseRow(
                contact_id=r.contact_id,
                escalated_at=r.escalated_at,
                resolved_at=r.resolved_at,
                escalation_count=r.escalation_count,
                csat_score=r.csat_score,
            )
            for r in session.execute(
                select(
                    Case.contact_id,
                    Case.escalated_at,
                    Case.resolved_at,
                    Case.escalation_count,
                    Case.csat_score,
                ).where(Case.org_id == org_id, Case.contact_id.in_(chunk))
            )
        )
    return out


def _action_rows(
    session: Session, org_id: int, start: datetime, end: datetime
) -> list[tuple[ActionRow, ContactRow | None]]:
    """Next actions due in the period, with the contact they belong to (directly or through
    their case) so that filters and groups apply to them too."""
    contact_id = Contact.id
    rows = session.execute(
        select(
            NextAction.due_at,
            NextAction.done_at,
            NextAction.status,
            contact_id,
            Contact.customer_id,
            Contact.classification,
            Contact.started_at,
            Contact.incident_id,
            Contact.operator_label,
            Incident.is_drill,
        )
        .select_from(NextAction)
        .outerjoin(Case, Case.id == NextAction.case_id)
        .outerjoin(
            Contact,
            or_(
                Contact.id == NextAction.contact_id,
                (NextAction.contact_id.is_(None)) & (Contact.id == Case.contact_id),
            ),
        )
        .outerjoin(Incident, Incident.id == Contact.incident_id)
        .where(NextAction.org_id == org_id, NextAction.due_at >= start, NextAction.due_at < end)
    ).all()
    out: list[tuple[ActionRow, ContactRow | None]] = []
    for r in rows:
        if r.is_drill:
            continue
        contact = (
            ContactRow(
                id=r.id,
                customer_id=r.customer_id,
                classification=r.classification.value if r.classification else None,
                started_at=r.started_at,
                incident_id=r.incident_id,
                operator_label=r.operator_label or "",
            )
            if r.id is not None
            else None
        )
        action = ActionRow(
            contact_id=r.id,
            due_at=r.due_at,
            done_at=r.done_at,
            status=NextActionStatus(r.status).value,
        )
        out.append((action, contact))
    return out


def _history(
    session: Session, org_id: int, start: datetime, end: datetime, window: timedelta
) -> list[ContactRow]:
    return [
        c for c in _contact_rows(session, org_id, start - window, end) if c.customer_id is not None
    ]


KeyFn = Callable[[ContactRow], str]


def _key(group_by: GroupBy) -> KeyFn:
    if group_by == "incident":
        return lambda c: str(c.incident_id) if c.incident_id is not None else ""
    if group_by == "operator":
        return lambda c: c.operator_label
    return lambda c: to_jst(c.started_at).date().isoformat()


@dataclass(frozen=True)
class KpiRow:
    key: str
    label: str
    kpis: Kpis


def kpi_table(
    *,
    session: Session,
    org_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    incident_id: int | None = None,
    operator: str | None = None,
    recurrence_days: int = 7,
    group_by: GroupBy | None = None,
) -> tuple[Kpis, list[KpiRow]]:
    """The total and, with ``group_by``, one row per incident, operator or JST day.

    Next actions are chosen by their due date (not their contact's start), and the incident
    and operator filters apply to them through their contact."""
    window = check_window(recurrence_days)
    contacts = _contact_rows(
        session, org_id, start, end, incident_id=incident_id, operator=operator
    )
    cases = _case_rows(session, org_id, [c.id for c in contacts])
    history = _history(session, org_id, start, end, window)
    filtered = incident_id is not None or operator is not None
    actions_with = [
        (a, c)
        for a, c in _action_rows(session, org_id, start, end)
        if not filtered
        or (
            c is not None
            and (incident_id is None or c.incident_id == incident_id)
            and (operator is None or c.operator_label == operator)
        )
    ]
    total = summarise(
        contacts=contacts,
        cases=cases,
        actions=[a for a, _ in actions_with],
        history=history,
        window=window,
        now=now,
    )
    rows: list[KpiRow] = []
    if group_by is None:
        return total, rows
    key = _key(group_by)
    groups: dict[str, list[ContactRow]] = defaultdict(list)
    for c in contacts:
        groups[key(c)].append(c)
    grouped_actions: dict[str, list[ActionRow]] = defaultdict(list)
    for action, owner in actions_with:
        if group_by == "day":
            grouped_actions[to_jst(action.due_at).date().isoformat()].append(action)
        elif owner is not None:
            grouped_actions[key(owner)].append(action)
    if group_by == "day":
        day = to_jst(start).date()
        while day < to_jst(end).date():
            groups.setdefault(day.isoformat(), [])
            day += timedelta(days=1)
    for k in grouped_actions:
        groups.setdefault(k, [])
    labels = _labels(session, org_id, group_by, groups)
    for k in sorted(groups):
        rows.append(
            KpiRow(
                key=k,
                label=labels.get(k, k),
                kpis=summarise(
                    contacts=groups[k],
                    cases=cases,
                    actions=grouped_actions.get(k, []),
                    history=history,
                    window=window,
                    now=now,
                ),
            )
        )
    return total, rows


def _labels(
    session: Session, org_id: int, group_by: GroupBy, groups: dict[str, list[ContactRow]]
) -> dict[str, str]:
    if group_by == "incident":
        ids = [int(k) for k in groups if k]
        names = {
            str(i.id): i.title
            for i in session.scalars(
                select(Incident).where(Incident.org_id == org_id, Incident.id.in_(ids))
            )
        }
        names[""] = "インシデントなし（平常時）"
        return names
    if group_by == "operator":
        return {"": "担当者なし"}
    return {}


def compute_kpis(
    *,
    session: Session,
    org_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    incident_id: int | None = None,
    team: str | None = None,
    recurrence_days: int = 7,
) -> Kpis:
    """The KPIs of one slice; ``team`` is an operator label (see the module docstring)."""
    total, _ = kpi_table(
        session=session,
        org_id=org_id,
        start=start,
        end=end,
        now=now,
        incident_id=incident_id,
        operator=team,
        recurrence_days=recurrence_days,
    )
    return total


def format_rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    hours, rest = divmod(minutes, 60)
    return f"{hours}時間{rest:02d}分" if hours else f"{rest}分"
