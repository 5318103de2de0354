"""Job handlers of notify."""

from __future__ import annotations
