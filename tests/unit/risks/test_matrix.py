"""The likelihood × impact matrix: the default grid and a custom one."""

from __future__ import annotations

import pytest

from hikeshi.errors import ValidationFailed
from hikeshi.risks.models import DEFAULT_LEVELS, SCALE, Priority
from hikeshi.risks.service import DEFAULT_MATRIX, Matrix, _parse_levels, priority_of

L, M, H, C = Priority.low, Priority.medium, Priority.high, Priority.critical


def test_default_grid_follows_the_score_bands() -> None:
    assert priority_of(DEFAULT_LEVELS, 1, 1) is L
    assert priority_of(DEFAULT_LEVELS, 2, 2) is L  # 4
    assert priority_of(DEFAULT_LEVELS, 1, 5) is M  # 5
    assert priority_of(DEFAULT_LEVELS, 3, 3) is M  # 9
    assert priority_of(DEFAULT_LEVELS, 2, 5) is H  # 10
    assert priority_of(DEFAULT_LEVELS, 3, 5) is C  # 15
    assert priority_of(DEFAULT_LEVELS, 5, 5) is C
    # Symmetric, and never lower when either score rises.
    for lk in SCALE:
        for im in SCALE:
            assert DEFAULT_LEVELS[lk - 1][im - 1] is DEFAULT_LEVELS[im - 1][lk - 1]
            if lk < 5:
                assert DEFAULT_LEVELS[lk][im - 1].rank >= DEFAULT_LEVELS[lk - 1][im - 1].rank


def test_custom_grid_decides_the_priority() -> None:
    # An organisation for which any impact of 5 is critical, whatever the likelihood.
    levels = tuple(tuple(C if im == 5 else L for im in SCALE) for _ in SCALE)
    matrix = Matrix(levels=levels, extra_categories=("法令",), is_default=False)
    assert matrix.priority(1, 5) is C
    assert matrix.priority(5, 4) is L
    assert matrix.cells(C) == [(lk, 5) for lk in SCALE]
    assert matrix.cells(M) == []
    assert matrix.categories[-1] == "法令" and "評判" in matrix.categories
    public = matrix.public()
    assert public.levels[0][4] is C and public.labels["critical"] == "極高"


def test_priority_is_indexed_likelihood_first() -> None:
    levels = tuple(tuple(H if (lk, im) == (4, 2) else L for im in SCALE) for lk in SCALE)
    assert priority_of(levels, 4, 2) is H
    assert priority_of(levels, 2, 4) is L
    with pytest.raises(ValueError):
        priority_of(levels, 0, 3)


def test_levels_must_be_five_by_five_and_known() -> None:
    with pytest.raises(ValidationFailed):
        _parse_levels([["low"] * 5] * 4)
    with pytest.raises(ValidationFailed) as err:
        _parse_levels([["low"] * 4 + ["extreme"]] * 5)
    assert "低・中・高・極高" in err.value.message_ja
    assert _parse_levels([["high"] * 5] * 5)[2][2] is H


def test_default_matrix_has_the_five_categories() -> None:
    assert DEFAULT_MATRIX.is_default
    assert DEFAULT_MATRIX.categories == (
        "技術的",
        "オペレーショナル",
        "環境",
        "情報セキュリティ",
        "評判",
    )
