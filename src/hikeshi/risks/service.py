"""Use cases of the risk register. Plain functions, keyword-only, explicit session and clock.

Every change goes through the ORM, so the audit trail gets ``risks.create`` / ``risks.update``
/ ``risks.delete`` and ``risk_matrices.*`` rows automatically; exports and imports add an
explicit ``risks.exported`` / ``risks.imported`` row.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from hikeshi.audit.service import record
from hikeshi.clock import Clock, to_jst
from hikeshi.errors import NotFound, ValidationFailed
from hikeshi.playbooks.loader import discover_packs
from hikeshi.risks import csvio
from hikeshi.risks.models import (
    DEFAULT_CATEGORIES,
    DEFAULT_LEVELS,
    PRIORITY_LABELS_JA,
    SCALE,
    Priority,
    Risk,
    RiskMatrix,
)
from hikeshi.risks.schemas import (
    HeatCell,
    HeatmapPublic,
    MatrixPublic,
    MatrixUpdate,
    RiskCreate,
    RiskPublic,
    RiskUpdate,
)

Levels = tuple[tuple[Priority, ...], ...]
MAX_EXTRA_CATEGORIES = 50


# --- playbooks -------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _packs(extra_dirs: tuple[str, ...]) -> dict[str, str]:
    return {pack_id: pack.title for pack_id, pack in sorted(discover_packs(extra_dirs).items())}


def playbook_titles(playbook_dirs: str = "") -> dict[str, str]:
    """Known playbook packs, id → title (shipped packs plus ``Settings.playbook_dirs``)."""
    dirs = tuple(d for d in playbook_dirs.split(os.pathsep) if d)
    return dict(_packs(dirs))


# --- the matrix ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Matrix:
    levels: Levels
    extra_categories: tuple[str, ...]
    is_default: bool

    @property
    def categories(self) -> tuple[str, ...]:
        return DEFAULT_CATEGORIES + self.extra_categories

    def priority(self, likelihood: int, impact: int) -> Priority:
        return self.levels[likelihood - 1][impact - 1]

    def cells(self, priority: Priority) -> list[tuple[int, int]]:
        return [(lk, im) for lk in SCALE for im in SCALE if self.priority(lk, im) is priority]

    def public(self) -> MatrixPublic:
        return MatrixPublic(
            levels=[list(row) for row in self.levels],
            extra_categories=list(self.extra_categories),
            categories=list(self.categories),
            is_default=self.is_default,
            labels={p.value: label for p, label in PRIORITY_LABELS_JA.items()},
        )


DEFAULT_MATRIX = Matrix(levels=DEFAULT_LEVELS, extra_categories=(), is_default=True)


def priority_of(levels: Sequence[Sequence[Priority]], likelihood: int, impact: int) -> Priority:
    """The priority of a (likelihood, impact) pair: ``levels[likelihood - 1][impact - 1]``."""
    if likelihood not in SCALE or impact not in SCALE:
        raise ValueError("likelihood and impact are 1–5")
    return levels[likelihood - 1][impact - 1]


def _parse_levels(raw: Sequence[Sequence[str]]) -> Levels:
    if len(raw) != 5 or any(len(row) != 5 for row in raw):
        raise ValidationFailed(
            "levels must be 5 × 5",
            message_ja="優先度表は 5 × 5 で指定してください",
            fields={"levels": "shape"},
        )
    try:
        return tuple(tuple(Priority(value) for value in row) for row in raw)
    except ValueError:
        raise ValidationFailed(
            "unknown priority level",
            message_ja="優先度は 低・中・高・極高 のいずれかです",
            fields={"levels": "value"},
        ) from None


def get_matrix(*, session: Session, org_id: int) -> Matrix:
    row = session.get(RiskMatrix, org_id)
    if row is None:
        return DEFAULT_MATRIX
    return Matrix(
        levels=_parse_levels(row.levels),
        extra_categories=tuple(row.extra_categories),
        is_default=False,
    )


def _clean_categories(raw: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for name in raw:
        cleaned = unicodedata.normalize("NFKC", name).strip()
        if not cleaned or cleaned in DEFAULT_CATEGORIES or cleaned in out:
            continue
        if len(cleaned) > 50:
            raise ValidationFailed(
                "category too long",
                message_ja="カテゴリ名は50文字以内で入力してください",
                fields={"extra_categories": cleaned[:60]},
            )
        out.append(cleaned)
    if len(out) > MAX_EXTRA_CATEGORIES:
        raise ValidationFailed(
            "too many categories",
            message_ja=f"追加カテゴリは{MAX_EXTRA_CATEGORIES}件までです",
            fields={"extra_categories": "too_many"},
        )
    return tuple(out)


def set_matrix(
    *, session: Session, org_id: int, data: MatrixUpdate, actor_label: str, clock: Clock
) -> Matrix:
    """Replace the grid and/or the extra categories. A category still used by a risk cannot
    be removed (the risk would silently lose its category)."""
    current = get_matrix(session=session, org_id=org_id)
    levels = (
        _parse_levels([[p.value for p in row] for row in data.levels])
        if data.levels is not None
        else current.levels
    )
    extra = (
        _clean_categories(data.extra_categories)
        if data.extra_categories is not None
        else current.extra_categories
    )
    removed = set(current.extra_categories) - set(extra)
    if removed:
        in_use = session.scalars(
            select(Risk.category)
            .where(Risk.org_id == org_id, Risk.category.in_(sorted(removed)))
            .distinct()
        ).all()
        if in_use:
            raise ValidationFailed(
                "category in use",
                message_ja=f"使用中のカテゴリは削除できません：{'、'.join(sorted(in_use))}",
                fields={"extra_categories": sorted(in_use)},
            )
    row = session.get(RiskMatrix, org_id)
    values = [[p.value for p in r] for r in levels]
    if row is None:
        row = RiskMatrix(org_id=org_id, levels=values, extra_categories=list(extra))
        session.add(row)
    else:
        row.levels = values
        row.extra_categories = list(extra)
    row.updated_at = clock.now()
    row.updated_by_label = actor_label
    session.flush()
    return Matrix(levels=levels, extra_categories=extra, is_default=False)


# --- risks -----------------------------------------------------------------------------------


def today_jst(clock: Clock) -> date:
    return to_jst(clock.now()).date()


@dataclass(frozen=True)
class RiskFilter:
    category: str | None = None
    priority: Priority | None = None
    owner: str | None = None  # substring
    overdue: bool = False  # review date before today (JST)
    playbook_id: str | None = None  # "" = risks without a playbook
    likelihood: int | None = None
    impact: int | None = None
    q: str | None = None  # title substring

    def is_empty(self) -> bool:
        return self == RiskFilter()


def _conditions(f: RiskFilter, matrix: Matrix, today: date) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if f.category:
        out.append(Risk.category == f.category)
    if f.priority is not None:
        cells = matrix.cells(f.priority)
        out.append(
            or_(*(and_(Risk.likelihood == lk, Risk.impact == im) for lk, im in cells))
            if cells
            else false()
        )
    if f.owner:
        out.append(Risk.owner.contains(f.owner, autoescape=True))
    if f.q:
        out.append(Risk.title.contains(f.q, autoescape=True))
    if f.overdue:
        out.append(Risk.review_date < today)
    if f.playbook_id is not None:
        out.append(
            Risk.playbook_id.is_(None) if f.playbook_id == "" else Risk.playbook_id == f.playbook_id
        )
    if f.likelihood is not None:
        out.append(Risk.likelihood == f.likelihood)
    if f.impact is not None:
        out.append(Risk.impact == f.impact)
    return out


def list_risks(
    *, session: Session, org_id: int, filters: RiskFilter | None = None, clock: Clock
) -> list[Risk]:
    """Highest priority first, then the higher score, then the earliest review date."""
    matrix = get_matrix(session=session, org_id=org_id)
    conditions = _conditions(filters or RiskFilter(), matrix, today_jst(clock))
    rows = session.scalars(
        select(Risk).where(Risk.org_id == org_id, *conditions).order_by(Risk.id)
    ).all()
    return sorted(
        rows,
        key=lambda r: (
            -matrix.priority(r.likelihood, r.impact).rank,
            -(r.likelihood * r.impact),
            r.review_date or date.max,
            r.id,
        ),
    )


def get_risk(*, session: Session, org_id: int, risk_id: int) -> Risk:
    risk = session.get(Risk, risk_id)
    if risk is None or risk.org_id != org_id:
        raise NotFound(f"risk {risk_id}", message_ja="リスクが見つかりません")
    return risk


def _check(
    *,
    category: str | None,
    playbook_id: str | None,
    matrix: Matrix,
    playbooks: Mapping[str, str],
) -> None:
    fields: dict[str, str] = {}
    messages: list[str] = []
    if category is not None and category not in matrix.categories:
        fields["category"] = "unknown"
        messages.append(f"カテゴリ「{category}」は登録されていません")
    if playbook_id is not None and playbook_id not in playbooks:
        fields["playbook_id"] = "unknown"
        messages.append(f"対応フロー「{playbook_id}」が見つかりません")
    if fields:
        raise ValidationFailed(
            f"invalid {', '.join(fields)}", message_ja="／".join(messages), fields=fields
        )


def _normalise(data: RiskCreate) -> RiskCreate:
    return data.model_copy(
        update={
            "title": data.title.strip(),
            "category": unicodedata.normalize("NFKC", data.category).strip(),
            "owner": data.owner.strip(),
            "playbook_id": (data.playbook_id or "").strip() or None,
        }
    )


def create_risk(
    *,
    session: Session,
    org_id: int,
    data: RiskCreate,
    actor_label: str,
    clock: Clock,
    playbooks: Mapping[str, str],
    matrix: Matrix | None = None,
) -> Risk:
    data = _normalise(data)
    if not data.title:
        raise ValidationFailed(
            "title empty", message_ja="タイトルを入力してください", fields={"title": "required"}
        )
    matrix = matrix or get_matrix(session=session, org_id=org_id)
    _check(category=data.category, playbook_id=data.playbook_id, matrix=matrix, playbooks=playbooks)
    now = clock.now()
    risk = Risk(
        org_id=org_id,
        **data.model_dump(),
        created_at=now,
        updated_at=now,
        updated_by_label=actor_label,
    )
    session.add(risk)
    session.flush()
    return risk


def update_risk(
    *,
    session: Session,
    org_id: int,
    risk_id: int,
    data: RiskUpdate,
    actor_label: str,
    clock: Clock,
    playbooks: Mapping[str, str],
) -> Risk:
    risk = get_risk(session=session, org_id=org_id, risk_id=risk_id)
    changes = data.model_dump(exclude_unset=True)
    for required in ("title", "category", "likelihood", "impact", "owner", "notes"):
        if required in changes and changes[required] is None:
            raise ValidationFailed(
                f"{required} cannot be null",
                message_ja="必須項目を空にはできません",
                fields={required: "required"},
            )
    merged = RiskCreate.model_validate(
        {
            **{k: getattr(risk, k) for k in RiskCreate.model_fields},
            **changes,
        }
    )
    merged = _normalise(merged)
    if not merged.title:
        raise ValidationFailed(
            "title empty", message_ja="タイトルを入力してください", fields={"title": "required"}
        )
    matrix = get_matrix(session=session, org_id=org_id)
    category_changed = merged.category != risk.category
    playbook_changed = merged.playbook_id != risk.playbook_id
    # An unchanged category or playbook stays valid even if it was retired since.
    _check(
        category=merged.category if category_changed else None,
        playbook_id=merged.playbook_id if playbook_changed else None,
        matrix=matrix,
        playbooks=playbooks,
    )
    changed = False
    for key, value in merged.model_dump().items():
        if getattr(risk, key) != value:
            setattr(risk, key, value)
            changed = True
    if changed:
        risk.updated_at = clock.now()
        risk.updated_by_label = actor_label
        session.flush()
    return risk


def delete_risk(*, session: Session, org_id: int, risk_id: int) -> None:
    risk = get_risk(session=session, org_id=org_id, risk_id=risk_id)
    session.delete(risk)
    session.flush()


def to_public(risk: Risk, *, matrix: Matrix, today: date) -> RiskPublic:
    priority = matrix.priority(risk.likelihood, risk.impact)
    return RiskPublic(
        id=risk.id,
        org_id=risk.org_id,
        title=risk.title,
        category=risk.category,
        likelihood=risk.likelihood,
        impact=risk.impact,
        owner=risk.owner,
        review_date=risk.review_date,
        playbook_id=risk.playbook_id,
        notes=risk.notes,
        priority=priority,
        priority_label=priority.label_ja,
        review_overdue=risk.review_date is not None and risk.review_date < today,
        created_at=risk.created_at,
        updated_at=risk.updated_at,
        updated_by_label=risk.updated_by_label,
    )


# --- heat map --------------------------------------------------------------------------------


def heatmap(
    *, session: Session, org_id: int, clock: Clock, filters: RiskFilter | None = None
) -> HeatmapPublic:
    """Counts per (likelihood, impact) cell, all 25 cells, likelihood 5 → 1, impact 1 → 5.

    The cell filters of ``filters`` (likelihood, impact) are ignored so that a clicked cell
    still shows the whole map."""
    matrix = get_matrix(session=session, org_id=org_id)
    f = replace(filters or RiskFilter(), likelihood=None, impact=None)
    conditions = _conditions(f, matrix, today_jst(clock))
    counts: dict[tuple[int, int], int] = {
        (lk, im): n
        for lk, im, n in session.execute(
            select(Risk.likelihood, Risk.impact, func.count())
            .where(Risk.org_id == org_id, *conditions)
            .group_by(Risk.likelihood, Risk.impact)
        )
    }
    cells = [
        HeatCell(
            likelihood=lk,
            impact=im,
            priority=matrix.priority(lk, im),
            count=counts.get((lk, im), 0),
        )
        for lk in reversed(SCALE)
        for im in SCALE
    ]
    return HeatmapPublic(cells=cells, total=sum(counts.values()))


# --- CSV -------------------------------------------------------------------------------------


def export_csv(*, session: Session, org_id: int, clock: Clock) -> bytes:
    matrix = get_matrix(session=session, org_id=org_id)
    risks = list_risks(session=session, org_id=org_id, clock=clock)
    data = csvio.write(
        [
            r.title,
            r.category,
            str(r.likelihood),
            str(r.impact),
            matrix.priority(r.likelihood, r.impact).label_ja,
            r.owner,
            r.review_date.isoformat() if r.review_date else "",
            r.playbook_id or "",
            r.notes,
        ]
        for r in risks
    )
    record(
        session,
        action="risks.exported",
        org_id=org_id,
        entity_type="risks",
        detail={"rows": len(risks)},
    )
    return data


class CsvImportFailed(ValidationFailed):
    """Nothing was imported; ``fields["errors"]`` lists every (line, column, message)."""

    def __init__(self, errors: Sequence[csvio.CsvError]) -> None:
        self.errors = list(errors)
        super().__init__(
            f"CSV import failed with {len(self.errors)} error(s); nothing was imported",
            message_ja=f"CSV に{len(self.errors)}件の誤りがあります。1件も登録していません",
            fields={"errors": [e.as_dict() for e in self.errors]},
        )


def import_csv(
    *,
    session: Session,
    org_id: int,
    data: bytes,
    actor_label: str,
    clock: Clock,
    playbooks: Mapping[str, str],
) -> list[Risk]:
    """All rows or none: every row is checked first; any error raises :class:`CsvImportFailed`
    before a single row is added. Rows are added (never matched to existing risks)."""
    matrix = get_matrix(session=session, org_id=org_id)
    parsed = csvio.parse(data, categories=matrix.categories, playbooks=playbooks)
    if parsed.errors:
        raise CsvImportFailed(parsed.errors)
    created = [
        create_risk(
            session=session,
            org_id=org_id,
            data=row,
            actor_label=actor_label,
            clock=clock,
            playbooks=playbooks,
            matrix=matrix,
        )
        for row in parsed.rows
    ]
    record(
        session,
        action="risks.imported",
        org_id=org_id,
        entity_type="risks",
        detail={"rows": len(created)},
    )
    return created
