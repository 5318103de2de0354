"""対象製品の確認: which model/serial (or lot) an incident covers. Pure: no web, no database.

Customers type model and serial numbers the way they read them off a label: full-width digits,
lower case, hyphens and spaces in odd places. Both the ranges stored at launch and what the
customer enters go through :func:`normalise`, so ``ｋｔ－２００ｗ`` matches ``KT-200W``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hikeshi.playbooks.values import SerialRange

# Hyphen-like characters people and IMEs produce, plus every kind of space.
_NOISE = re.compile(r"[\s\-‐‑‒–—―−ー－_・.／/]+")
_LIST = re.compile(r"\s*[,、，\n;；]\s*")
MAX_INPUT = 64


def normalise(text: str) -> str:
    """NFKC, upper case, without spaces and hyphen-like characters."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text)).upper()


@dataclass(frozen=True)
class Coverage:
    """One stored range: ``model`` "" means any model of the incident."""

    model: str
    start: str
    end: str

    def covers(self, model: str, serial: str) -> bool:
        if self.model and self.model != model:
            return False
        # Same-length text comparison: serials are fixed-width codes, and "99" must not fall
        # inside "100"–"200" just because it sorts there as text.
        return len(serial) == len(self.start) and self.start <= serial <= self.end


def models_from(value: object) -> list[str]:
    """``"KT-200、KT-200W"`` (or a list) → ``["KT200", "KT200W"]``."""
    items: Iterable[object]
    if isinstance(value, str):
        items = _LIST.split(value)
    elif isinstance(value, Iterable):
        items = value
    else:
        return []
    out = [normalise(str(item)) for item in items]
    return list(dict.fromkeys(m for m in out if m))


def coverage_from_params(params: Mapping[str, object]) -> list[Coverage]:
    """Ranges for the serial check from a pack's resolved launch values.

    Uses ``model_numbers`` (text or list), ``serial_ranges`` (SerialRange list) and ``lots``;
    a pack without these parameters gets no coverage and the page shows no check form.
    """
    models = models_from(params.get("model_numbers", "")) or [""]
    out: list[Coverage] = []
    ranges = params.get("serial_ranges")
    if isinstance(ranges, list):
        for item in ranges:
            if isinstance(item, SerialRange):
                start, end = normalise(item.start), normalise(item.end)
                out += [Coverage(model, start, end) for model in models]
    lots = params.get("lots")
    if isinstance(lots, list):
        for lot in lots:
            code = normalise(str(lot))
            if code:
                out += [Coverage(model, code, code) for model in models]
    return list(dict.fromkeys(out))


class InvalidInput(ValueError):
    """The customer's input is not something a label could say (empty, too long, symbols)."""


_ALLOWED = re.compile(r"^[0-9A-Z]+$")


def clean_input(model: str, serial: str) -> tuple[str, str]:
    m, s = normalise(model[: MAX_INPUT * 2]), normalise(serial[: MAX_INPUT * 2])
    if not m or not s:
        raise InvalidInput("型番と製造番号の両方を入力してください")
    if len(m) > MAX_INPUT or len(s) > MAX_INPUT or not _ALLOWED.match(m + s):
        raise InvalidInput("型番・製造番号は英数字で入力してください")
    return m, s


def is_affected(coverage: Iterable[Coverage], model: str, serial: str) -> bool:
    """Whether the already-normalised ``model``/``serial`` is inside any range."""
    return any(c.covers(model, serial) for c in coverage)
