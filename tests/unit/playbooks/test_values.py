from __future__ import annotations

import pytest

from hikeshi.playbooks.values import SerialRange, TextList, coerce_value


def test_serial_ranges_parse_and_match() -> None:
    ranges = coerce_value(
        "serial_ranges", ["2301000001〜2306999999", "KT-0005", {"start": "A1", "end": "A9"}]
    )
    assert isinstance(ranges, TextList)
    assert str(ranges) == "2301000001〜2306999999、KT-0005、A1〜A9"
    first = ranges[0]
    assert isinstance(first, SerialRange)
    assert first.contains("2305123456")
    assert not first.contains("2307000000")
    assert not first.contains("230512345")  # a different length is never in range


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("A100〜A99", "same length"),
        ("B999〜A000", "start is after end"),
        ("A1〜A2〜A3", "not a serial"),
        ([], "at least one"),
    ],
)
def test_bad_serial_ranges(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        coerce_value("serial_ranges", value)


def test_lots_from_text_or_list() -> None:
    assert str(coerce_value("lots", "23A, 23B、23C")) == "23A、23B、23C"
    assert coerce_value("lots", ["L1", 2]) == ["L1", "2"]


@pytest.mark.parametrize(
    ("type_", "value"),
    [
        ("phone", "電話してください"),
        ("phone", "12"),
        ("int", "48000"),
        ("int", True),
        ("date", "2025/04/01"),
        ("str", "  "),
    ],
)
def test_wrong_values_are_refused(type_: str, value: object) -> None:
    with pytest.raises(ValueError):
        coerce_value(type_, value)  # type: ignore[arg-type]


def test_phone_numbers() -> None:
    assert coerce_value("phone", "0120-123-456") == "0120-123-456"
    assert coerce_value("phone", "+81-3-1234-5678") == "+81-3-1234-5678"
