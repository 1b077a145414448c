"""Files that hold personal data are readable by their owner only, from their first byte.

Exports `private_umask`, `write_private`, `create_private_once`.

Why a umask and not a chmod afterwards: between creating a file and changing its mode, another
user could open it, and an open descriptor keeps its access. DuckDB creates its database and
write-ahead log itself, so its files get the mode from the process umask at creation.
"""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_PRIVATE = 0o077
_lock = threading.Lock()
_holders = 0
_previous = 0


@contextmanager
def private_umask() -> Iterator[None]:
    """Files created inside are 0600 (directories 0700). The umask is the process's: threads
    that create files meanwhile get the stricter mode too, never a looser one; the first to
    enter sets it and the last to leave restores it."""
    global _holders, _previous
    with _lock:
        if _holders == 0:
            _previous = os.umask(_PRIVATE)
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                os.umask(_previous)


def write_private(path: Path | str, data: bytes) -> None:
    """Write `data` to a file created 0600 (O_EXCL: an existing file is replaced through a
    fresh private file, never reopened with the mode it had)."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # a umask cannot widen it, but make it exact
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, path)


def create_private_once(path: Path | str, data: bytes) -> bool:
    """Create `path` holding `data`, 0600, unless it exists; True when this call created it.
    The file appears whole (written privately, then hard-linked into place), so concurrent
    first runs all read the one that won, never a half-written or a second secret."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        temporary.unlink(missing_ok=True)
