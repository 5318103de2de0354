"""Playbook packs (対応フロー・マニュアル): versioned, file-based response packages.

A pure library (no web framework, no database): load and validate packs, render their templates
with launch parameters, and evaluate their escalation rules.
"""

from hikeshi.playbooks.loader import (
    BUILTIN_PACKS_DIR,
    PackValidationError,
    check_path,
    discover_packs,
    load_pack,
    validate_command,
    validate_path,
)
from hikeshi.playbooks.locate import PackError
from hikeshi.playbooks.render import (
    RenderedPack,
    RenderError,
    example_values,
    render,
    render_pack,
)
from hikeshi.playbooks.rules import ContactFacts, matches, matching_rules
from hikeshi.playbooks.schemas import Pack

__all__ = [
    "BUILTIN_PACKS_DIR",
    "ContactFacts",
    "Pack",
    "PackError",
    "PackValidationError",
    "RenderError",
    "RenderedPack",
    "check_path",
    "discover_packs",
    "example_values",
    "load_pack",
    "matches",
    "matching_rules",
    "render",
    "render_pack",
    "validate_command",
    "validate_path",
]
