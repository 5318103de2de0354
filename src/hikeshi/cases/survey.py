"""CSAT survey (満足度アンケート) after resolution: a single-use link, 1–5, no login."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from hikeshi.cases.models import Case, CaseEvent
from hikeshi.clock import Clock
from hikeshi.errors import Conflict, NotFound, ValidationFailed

# After resolution the customer gets a link ``/survey/{token}``: a 1–5 form, no login, one
# answer only. The token (256 random bits) is the only key; once a score is stored the page
# says so and a second answer is refused.


def ensure_survey_token(*, session: Session, org_id: int, case_id: int) -> str:
    case = session.get(Case, case_id)
    if case is None or case.org_id != org_id:
        raise NotFound(
            f"case {case_id} not found",
            message_ja="エスカレーション案件が見つかりません",
            fields={"case_id": case_id},
        )
    if case.resolved_at is None:
        raise Conflict("case is not resolved", message_ja="アンケートは解決した案件にだけ送れます")
    if case.csat_token is None:
        case.csat_token = secrets.token_urlsafe(32)
        session.flush()
    return case.csat_token


def case_by_survey_token(*, session: Session, token: str) -> Case | None:
    if not token or len(token) > 64:
        return None
    case = session.scalar(select(Case).where(Case.csat_token == token))
    if case is None or case.resolved_at is None:
        return None
    return case


def submit_survey(*, session: Session, token: str, score: int, clock: Clock) -> Case:
    case = case_by_survey_token(session=session, token=token)
    if case is None:
        raise NotFound("survey not found", message_ja="アンケートが見つかりません")
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationFailed(
            "score must be 1..5",
            message_ja="1〜5 のいずれかを選んでください",
            fields={"score": score},
        )
    if case.csat_score is not None:
        raise Conflict(
            "already answered", message_ja="このアンケートには既にご回答いただいています"
        )
    case.csat_score = score
    session.add(
        CaseEvent(
            org_id=case.org_id,
            case_id=case.id,
            at=clock.now(),
            kind="csat.answered",
            summary=f"お客様アンケートに回答（満足度 {score}）",
            actor_label="customer-survey",
            detail={"score": score},
        )
    )
    session.flush()
    return case
