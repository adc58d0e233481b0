# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading and replacing the system files the modules edit (/etc/fstab, Ganeti's known_hosts)."""

from __future__ import annotations

import os
import tempfile


def read_text(path):
    """The file's text; "" when it does not exist."""
    try:
        with open(path) as handle:
            return handle.read()
    except FileNotFoundError:
        return ""


def replace_file(module, path, text, new_mode=0o644, mode=None):
    """Write `text` beside `path`, with its mode (new_mode for a new file; `mode`, when
    given, whatever it had), synced, and rename it over `path` with
    AnsibleModule.atomic_move, which gives it the old file's owner too. A file that is a
    bind mount (some containers, the lab's hosts) cannot be renamed over (EBUSY):
    unsafe_writes lets atomic_move rewrite that one in place."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f".{os.path.basename(path)}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is None:
            mode = os.stat(path).st_mode & 0o7777 if os.path.exists(path) else new_mode
        os.chmod(tmp, mode)
        module.atomic_move(tmp, path, unsafe_writes=True)
        # atomic_move gives a replaced file its old mode back.
        os.chmod(path, mode)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
