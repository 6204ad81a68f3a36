"""Master-key rotation: re-wrap every data key under a new master key in one transaction."""

from __future__ import annotations

import os
from pathlib import Path

from skygate.crypto import MasterKey
from skygate.services.runtime import MASTER_KEY_FILE, load_master_key
from skygate.settings import Settings
from skygate.store.engine import create_engine
from skygate.store.instance import rewrap_all

__all__ = ["rotate_master_key"]


def _stage_key_file(path: Path, key: MasterKey) -> Path:
    staged = path.with_suffix(".new")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.encoded() + "\n")
    return staged


async def rotate_master_key(settings: Settings, new: MasterKey) -> tuple[int, Path | None]:
    """Returns how many sealed values moved, and the key file replaced (None when the key comes from the env).

    With the embedded key file, the new key is staged beside it before the database commit and renamed over it
    after, so neither a failed commit nor a crash leaves secrets that no stored key opens.
    """
    old = load_master_key(settings)
    key_file = None if settings.master_key is not None else settings.data_dir / MASTER_KEY_FILE
    staged = _stage_key_file(key_file, new) if key_file else None
    engine = create_engine(settings.effective_database_url)
    try:
        async with engine.begin() as conn:
            changed = await rewrap_all(conn, old, new)
    except BaseException:
        if staged:
            staged.unlink(missing_ok=True)
        raise
    finally:
        await engine.dispose()
    if staged and key_file:
        staged.replace(key_file)
    return changed, key_file
