"""The optional stress check (ストレスチェック), readable by the designated role only.

Under the Industrial Safety and Health Act (労働安全衛生法) the results go to the worker and to the
実施者 — the doctor or public health nurse running the check — and not to the employer without
the worker's consent. So this module is apart from the supervisors' care board
(:mod:`hikeshi.workforce.wellbeing` never imports it), and :func:`score_stress_check` refuses
every role but the designated one before it reads an answer.

Scoring is the simple total-points method (合計点数を使う方法) of the 職業性ストレス簡易調査票,
with the high-stress criteria of 厚生労働省「ストレスチェック制度実施マニュアル」評価基準の例
(その1). The short 23-item form is the default; the 57-item form is also defined.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class StressCheckError(ValueError):
    """Invalid answers; the message names the area and item."""


STRESS_CHECK_ROLE = "stress_check_implementer"  # 実施者: doctor / public health nurse


class StressCheckAccessDenied(PermissionError):
    """Only the designated role may score or read stress-check answers."""


@dataclass(frozen=True)
class StressCheckForm:
    """A questionnaire scored by the total-points method (合計点数を使う方法).

    Answers are 1..4 as printed on the form. Items in ``reversed_items`` (area, 1-based number)
    are turned (1⇄4, 2⇄3) so that 4 is always the most stress. High stress (高ストレス) is
    B ≥ ``high_b``, or A + C ≥ ``high_ac`` and B ≥ ``high_b_with_ac``.
    """

    name: str
    items: tuple[tuple[str, int], ...]  # (area, number of items) for A, B, C
    reversed_items: frozenset[tuple[str, int]]
    high_b: int
    high_ac: int
    high_b_with_ac: int


# 職業性ストレス簡易調査票 簡略版 (23項目): A 仕事のストレス要因 6 (量的負担 3 + コントロール 3),
# B 心身のストレス反応 11, C 周囲のサポート 6. The three workload items are the reversed ones.
# Criteria: 厚生労働省「ストレスチェック制度実施マニュアル」評価基準の例(その1).
BJSQ_23 = StressCheckForm(
    name="職業性ストレス簡易調査票(簡略版23項目)",
    items=(("A", 6), ("B", 11), ("C", 6)),
    reversed_items=frozenset({("A", 1), ("A", 2), ("A", 3)}),
    high_b=31,
    high_ac=39,
    high_b_with_ac=23,
)
# The full 57-item form (A 17, B 29, C 9; the satisfaction items D are not scored).
BJSQ_57 = StressCheckForm(
    name="職業性ストレス簡易調査票(57項目)",
    items=(("A", 17), ("B", 29), ("C", 9)),
    reversed_items=frozenset(
        {("A", n) for n in (1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 15)} | {("B", 1), ("B", 2), ("B", 3)}
    ),
    high_b=77,
    high_ac=76,
    high_b_with_ac=63,
)


@dataclass(frozen=True)
class StressCheckResult:
    form: str
    totals: dict[str, int]  # points per area, 4 = most stress per item
    high_stress: bool
    criterion: str | None  # which criterion made it high stress


def score_stress_check(
    answers: Mapping[str, Sequence[int]],
    *,
    viewer_role: str,
    form: StressCheckForm = BJSQ_23,
    designated_roles: frozenset[str] = frozenset({STRESS_CHECK_ROLE}),
) -> StressCheckResult:
    """Score one operator's answers ({"A": [...], "B": [...], "C": [...]}) for the designated
    role; any other role gets :class:`StressCheckAccessDenied` before the answers are read."""
    if viewer_role not in designated_roles:
        raise StressCheckAccessDenied(
            f"role {viewer_role!r} may not read stress-check answers "
            f"(designated: {', '.join(sorted(designated_roles))})"
        )
    totals: dict[str, int] = {}
    for area, count in form.items:
        given = list(answers.get(area, ()))
        if len(given) != count:
            raise StressCheckError(
                f"stress check area {area}: expected {count} answers, got {len(given)}"
            )
        points = 0
        for number, value in enumerate(given, start=1):
            if isinstance(value, bool) or value not in (1, 2, 3, 4):
                raise StressCheckError(
                    f"stress check {area}{number}: answer must be 1..4, got {value!r}"
                )
            points += 5 - value if (area, number) in form.reversed_items else value
        totals[area] = points
    extra = sorted(set(answers) - {area for area, _ in form.items})
    if extra:
        raise StressCheckError(f"stress check: unknown areas {', '.join(extra)}")
    b, ac = totals["B"], totals["A"] + totals["C"]
    criterion = None
    if b >= form.high_b:
        criterion = f"B(心身のストレス反応) {b} ≥ {form.high_b}"
    elif ac >= form.high_ac and b >= form.high_b_with_ac:
        criterion = f"A+C {ac} ≥ {form.high_ac} かつ B {b} ≥ {form.high_b_with_ac}"
    return StressCheckResult(form.name, totals, criterion is not None, criterion)


__all__ = [
    "BJSQ_23",
    "BJSQ_57",
    "STRESS_CHECK_ROLE",
    "StressCheckAccessDenied",
    "StressCheckError",
    "StressCheckForm",
    "StressCheckResult",
    "score_stress_check",
]
