"""Normalising what customers give us: phone numbers (phonenumbers, region JP) and e-mails.

Pure functions; a bad value raises ValidationFailed naming the field.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from hikeshi.errors import ValidationFailed

REGION = "JP"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def normalise_phone(raw: str | None, *, field: str = "phone") -> str | None:
    """Any Japanese notation (03-1234-5678, ０９０‐１２３４‐５６７８, +81 3 …) → E.164 (+81…).

    An empty value is ``None``; a number that cannot exist is a ValidationFailed naming ``field``.
    """
    if raw is None:
        return None
    text = unicodedata.normalize("NFKC", raw).strip()
    text = text.replace("ー", "-").replace("‐", "-").replace("−", "-")
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, REGION)
    except phonenumbers.NumberParseException as exc:
        raise _invalid_phone(field, raw) from exc
    if not phonenumbers.is_valid_number(number):
        raise _invalid_phone(field, raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _invalid_phone(field: str, raw: str) -> ValidationFailed:
    return ValidationFailed(
        f"{field}: not a valid phone number: {raw!r}",
        message_ja=f"電話番号「{raw}」は正しくありません",
        fields={field: "not a valid phone number"},
    )


def display_phone(e164: str | None) -> str:
    """How the floor reads a number: 03-1234-5678, 090-1234-5678; foreign numbers +1 …"""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, REGION)
    except phonenumbers.NumberParseException:
        return e164
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if phonenumbers.region_code_for_number(number) == REGION
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)


def normalise_email(raw: str | None, *, field: str = "email") -> str | None:
    if raw is None:
        return None
    text = unicodedata.normalize("NFKC", raw).strip().lower()
    if not text:
        return None
    if len(text) > 254 or not _EMAIL.match(text):
        raise ValidationFailed(
            f"{field}: not a valid e-mail address: {raw!r}",
            message_ja=f"メールアドレス「{raw}」は正しくありません",
            fields={field: "not a valid e-mail address"},
        )
    return text
