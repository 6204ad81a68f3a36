"""Where the master keys come from: SKYGATE_MASTER_KEY, or the key file the embedded default keeps in the data dir.

Several keys may be configured at once (`SKYGATE_MASTER_KEY=new,old`): the first seals, all of them open. That
is what lets a fleet roll from one key to the next while `skygate admin rotate-master-key` re-wraps the data.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from skygate.crypto import MasterKey, parse_master_key
from skygate.errors import StartupError
from skygate.settings import Settings

__all__ = ["MASTER_KEY_FILE", "STAGED_KEY_FILE", "ensure_data_dir", "key_file", "load_master_keys", "write_key_file"]

log = logging.getLogger(__name__)

MASTER_KEY_FILE = "master.key"
# A rotation stages the new key here before its database commit and renames it over master.key after.
STAGED_KEY_FILE = "master.new"


def ensure_data_dir(settings: Settings) -> Path:
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return settings.data_dir


def key_file(settings: Settings) -> Path | None:
    """The key file in use, or None when the keys come from the environment."""
    return None if settings.master_key is not None else settings.data_dir / MASTER_KEY_FILE


def write_key_file(path: Path, key: MasterKey, *, exclusive: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.encoded() + "\n")


def _read_key_file(path: Path) -> MasterKey:
    try:
        return parse_master_key(path.read_text())
    except OSError as exc:
        raise StartupError(f"cannot read the master key file {path}: {exc.strerror}") from exc


def load_master_keys(settings: Settings) -> list[MasterKey]:
    """The sealing key first, then keys that may only open. Creates the embedded key file on first use."""
    if settings.master_key is not None:
        return [parse_master_key(part) for part in settings.master_key.get_secret_value().split(",") if part.strip()]
    path = ensure_data_dir(settings) / MASTER_KEY_FILE
    if not path.exists():
        log.warning(
            "SKYGATE_MASTER_KEY is not set: generated a master key in %s. Back it up, or set "
            "SKYGATE_MASTER_KEY; without it the stored provider secrets cannot be read.",
            path,
        )
        with contextlib.suppress(FileExistsError):  # another process created it first: read theirs
            write_key_file(path, MasterKey.generate(), exclusive=True)
    keys = [_read_key_file(path)]
    staged = settings.data_dir / STAGED_KEY_FILE
    if staged.exists():
        # A rotation stopped between its commit and the rename; whichever key the data is under, both open it.
        log.warning("found %s from an interrupted key rotation; run `skygate admin rotate-master-key` again", staged)
        keys.append(_read_key_file(staged))
    return keys
