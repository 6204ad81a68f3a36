"""Master-key rotation: re-wrap every data key under a new master key in one transaction."""

from __future__ import annotations

from pathlib import Path

from skygate.crypto import MasterKey
from skygate.services.master_keys import STAGED_KEY_FILE, key_file, load_master_keys, write_key_file
from skygate.settings import Settings
from skygate.store.engine import create_engine, writer
from skygate.store.instance import rewrap_all

__all__ = ["rotate_master_key"]


async def rotate_master_key(settings: Settings, new: MasterKey) -> tuple[int, Path | None]:
    """Returns how many sealed values moved, and the key file replaced (None when the keys come from the env).

    Any configured key may open a value; all end up under `new`. With the embedded key file, the new key is
    staged beside it before the database commit and renamed over it after, so a crash in between leaves both
    files, which start-up reads together.
    """
    openers = {key.key_id: key for key in load_master_keys(settings)}
    path = key_file(settings)
    staged = settings.data_dir / STAGED_KEY_FILE
    if path is not None:
        write_key_file(staged, new, exclusive=False)
    engine = create_engine(settings.effective_database_url)
    try:
        async with writer(engine).begin() as conn:
            changed = await rewrap_all(conn, openers, new)
    except BaseException:
        if path is not None:
            staged.unlink(missing_ok=True)
        raise
    finally:
        await engine.dispose()
    if path is not None:
        staged.replace(path)
    return changed, path
