"""The playbook packs this server launches from: the shipped ones plus HIKESHI_PLAYBOOK_DIRS."""

from __future__ import annotations

import os
from functools import lru_cache

from hikeshi.config import Settings
from hikeshi.errors import NotFound
from hikeshi.playbooks.loader import discover_packs
from hikeshi.playbooks.schemas import Pack


@lru_cache(maxsize=8)
def _packs(dirs: tuple[str, ...]) -> dict[str, Pack]:
    # Packs are files shipped with a release or placed by an operator; read them once per
    # process (a launch at 3 a.m. must not wait on YAML parsing).
    return discover_packs(dirs)


def available_packs(settings: Settings) -> dict[str, Pack]:
    dirs = tuple(d for d in settings.playbook_dirs.split(os.pathsep) if d.strip())
    return _packs(dirs)


def get_pack(settings: Settings, pack_id: str) -> Pack:
    pack = available_packs(settings).get(pack_id)
    if pack is None:
        raise NotFound(
            f"playbook pack {pack_id!r} not found", message_ja="対応フローが見つかりません"
        )
    return pack
