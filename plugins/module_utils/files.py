# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading and replacing the system files the modules edit (/etc/fstab, Ganeti's known_hosts)."""

from __future__ import annotations

import inspect
import os
import tempfile


def read_text(path):
    """The file's text; "" when it does not exist."""
    try:
        with open(path) as handle:
            return handle.read()
    except FileNotFoundError:
        return ""


def texts_of(paths):
    """The text of each of `paths` that exists and holds more than whitespace, stripped."""
    return [text.strip() for text in map(read_text, paths) if text.strip()]


def replace_file(module, path, text, new_mode=0o644, mode=None, owner=None):
    """Write `text` (UTF-8) beside `path`, synced, and rename it over `path` with
    AnsibleModule.atomic_move. Without `mode` and `owner` the file keeps its mode and
    owner (new_mode for a new file); with them, it gets exactly those, and never a mode
    more open than 0600 or the one asked for in between. A file
    that is a bind mount (some containers, the lab's hosts) cannot be renamed over
    (EBUSY): unsafe_writes lets atomic_move rewrite that one in place."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f".{os.path.basename(path)}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        exact = mode is not None or owner is not None
        if mode is None:
            mode = os.stat(path).st_mode & 0o7777 if os.path.exists(path) else new_mode
        if owner is not None:
            os.chown(tmp, *owner)
        os.chmod(tmp, mode)
        if not exact:
            module.atomic_move(tmp, path, unsafe_writes=True)
            return
        # atomic_move gives a file it creates 0666 & ~umask: 0600 here until the chmod below.
        umask = os.umask(0o077)
        try:
            if "keep_dest_attrs" in inspect.signature(module.atomic_move).parameters:
                module.atomic_move(tmp, path, unsafe_writes=True, keep_dest_attrs=False)
            else:
                # ansible-core before 2.17 gives the new file the mode and owner of the one it
                # replaces, always: that one gets the wanted ones first.
                if os.path.exists(path):
                    if owner is not None:
                        os.chown(path, *owner)
                    os.chmod(path, mode)
                module.atomic_move(tmp, path, unsafe_writes=True)
        finally:
            os.umask(umask)
        os.chmod(path, mode)
        if owner is not None:
            os.chown(path, *owner)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
