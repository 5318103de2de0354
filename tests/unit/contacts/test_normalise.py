from __future__ import annotations

import pytest

from hikeshi.contacts.normalise import display_phone, normalise_email, normalise_phone
from hikeshi.errors import ValidationFailed


@pytest.mark.parametrize(
    ("raw", "e164", "shown"),
    [
        ("03-1234-5678", "+81312345678", "03-1234-5678"),
        ("０３－１２３４－５６７８", "+81312345678", "03-1234-5678"),
        ("03(1234)5678", "+81312345678", "03-1234-5678"),
        ("+81 3 1234 5678", "+81312345678", "03-1234-5678"),
        ("090-1234-5678", "+819012345678", "090-1234-5678"),
        ("09012345678", "+819012345678", "090-1234-5678"),
        ("0120-555-010", "+81120555010", "0120-555-010"),
        ("06ー1234ー5678", "+81612345678", "06-1234-5678"),
        ("+1 650 253 0000", "+16502530000", "+1 650-253-0000"),
    ],
)
def test_japanese_numbers_are_stored_e164_and_shown_national(
    raw: str, e164: str, shown: str
) -> None:
    assert normalise_phone(raw) == e164
    assert display_phone(e164) == shown


@pytest.mark.parametrize("raw", ["03-1234", "電話", "0000", "123456789012345678"])
def test_impossible_numbers_name_the_field(raw: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        normalise_phone(raw, field="items.2.phone")
    assert list(info.value.fields) == ["items.2.phone"]


def test_empty_values_are_none() -> None:
    assert normalise_phone("  ") is None
    assert normalise_phone(None) is None
    assert normalise_email("") is None


def test_emails_are_lower_cased_and_checked() -> None:
    assert normalise_email(" Hanako@Example.JP ") == "hanako@example.jp"
    assert normalise_email("ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐ") == "hanako@example.jp"
    for bad in ("hanako", "hanako@", "@example.jp", "a b@example.jp", "a@example"):
        with pytest.raises(ValidationFailed) as info:
            normalise_email(bad)
        assert "email" in info.value.fields
