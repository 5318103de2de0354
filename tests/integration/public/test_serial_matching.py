"""The pure matching of :mod:`hikeshi.incidents.serials` at the edges (no database, no web):
kept next to the HTTP tests of the serial check it decides."""

from __future__ import annotations

import pytest

from hikeshi.incidents import serials
from hikeshi.playbooks.values import SerialRange

COVERAGE = serials.coverage_from_params(
    {
        "model_numbers": "KT-200、KT-200W",
        "serial_ranges": [SerialRange("2301000001", "2306999999"), SerialRange("A0100", "A0199")],
        "lots": ["23A", "23-b"],
    }
)


def affected(model: str, serial: str) -> bool:
    m, s = serials.clean_input(model, serial)
    return serials.is_affected(COVERAGE, m, s)


@pytest.mark.parametrize(
    ("model", "serial", "expected"),
    [
        ("KT-200", "2301000001", True),  # first
        ("KT-200", "2306999999", True),  # last
        ("KT-200", "2301000000", False),  # one below
        ("KT-200", "2307000000", False),  # one above
        ("KT-200", "230100001", False),  # shorter: inside the range as text, not as a code
        ("KT-200", "99", False),
        ("KT-200", "23069999990", False),  # longer
        ("KT-200W", "2303000000", True),  # second model
        ("ＫＴ－２００Ｗ", "２３０６９９９９９９", True),  # full-width
        ("kt-200w", "2301000001", True),  # lower case
        ("KT‐200", "2301‐000‐001", True),  # Unicode hyphens
        ("KT ー 200", "2301 000 001", True),  # katakana long-vowel mark and spaces
        ("KT-200", "a0100", True),  # letters: first of a lettered range
        ("KT-200", "A0199", True),  # last
        ("KT-200", "A0200", False),  # one above
        ("KT-200", "A0099", False),  # one below
        ("KT-200", "B0150", False),  # other prefix
        ("KT-200", "23A", True),  # lot
        ("KT-200", "23b", True),  # lot stored with a hyphen, entered without
        ("KT-200", "23C", False),
        ("KT-300", "2301000001", False),  # model not in the list
        ("KT-2000", "2301000001", False),
        ("KT-20", "2301000001", False),
    ],
)
def test_edges(model: str, serial: str, expected: bool) -> None:
    assert affected(model, serial) is expected


def test_any_model_when_the_pack_names_none() -> None:
    coverage = serials.coverage_from_params({"serial_ranges": [SerialRange("0001", "0010")]})
    assert coverage == [serials.Coverage("", "0001", "0010")]
    assert serials.is_affected(coverage, "WHATEVER", "0010")
    assert not serials.is_affected(coverage, "WHATEVER", "0011")


def test_no_parameters_no_coverage() -> None:
    assert serials.coverage_from_params({"hotline": "0120-000-000"}) == []
    assert not serials.is_affected([], "KT200", "1")


@pytest.mark.parametrize(
    ("model", "serial", "message"),
    [
        ("", "123", "型番と製造番号の両方を入力してください"),
        ("KT-200", " - ー ", "型番と製造番号の両方を入力してください"),
        ("KT<200>", "1", "型番・製造番号は英数字で入力してください"),
        ("KT200", "1" * 65, "型番・製造番号は英数字で入力してください"),
        ("KT200", "製造番号", "型番・製造番号は英数字で入力してください"),
    ],
)
def test_invalid_input(model: str, serial: str, message: str) -> None:
    with pytest.raises(serials.InvalidInput, match=message):
        serials.clean_input(model, serial)


def test_normalise() -> None:
    assert serials.normalise(" ｋｔ－２００ｗ ") == "KT200W"
    assert serials.models_from(["KT-200", "kt200", ""]) == ["KT200"]
