# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One change of the pool at a time: a lock the mutating modules hold on the
host that acts for the pool while they read, compare and act.

It is a kernel lock (flock) held by the module's own process, so it can never
outlive its holder: when a run is killed, its module dies with the SSH session
(or finishes), and the lock is free. Nothing expires and nothing needs breaking.
The holder writes who it is into the file, for the message a waiting run gives.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.cli_common import backoff

DEFAULT_PATH = "/var/lib/ganeti-gluster/pool.lock"
POLL_SECONDS = (0.05, 1.0)  # first and longest wait between two tries


class LockBusy(Exception):
    """Another run held the lock for longer than this one would wait."""

    def __init__(self, path, holder, waited):
        self.path, self.holder, self.waited = path, holder, waited
        who = describe(holder) if holder else "another run (it left no note)"
        super().__init__(
            f"another run changes the pool: {who} holds {path} on {socket.gethostname()}; waited {waited:.0f} s. "
            "Let it finish and run again, or raise gluster_pool_lock_wait. The lock goes with its holder's "
            "process: a killed run holds nothing."
        )


def describe(holder):
    age = time.time() - float(holder.get("since", time.time()))
    return (
        f"{holder.get('owner', 'a run')} (pid {holder.get('pid')}, since {holder.get('since_text')}, {age:.0f} s ago)"
    )


def read_holder(handle):
    handle.seek(0)
    try:
        holder = json.loads(handle.read() or "null")
    except ValueError:
        return None
    return holder if isinstance(holder, dict) else None


@contextlib.contextmanager
def pool_lock(owner, wait, path=DEFAULT_PATH, clock=time.monotonic, sleep=time.sleep):
    """Hold the pool's lock for the `with` block; wait up to `wait` seconds for it,
    then raise LockBusy naming the holder."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+") as handle:
        started = clock()
        pauses = backoff(*POLL_SECONDS)
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = clock() - started
                if waited >= wait:
                    raise LockBusy(path, read_holder(handle), waited) from None
                sleep(min(next(pauses), max(wait - waited, 0.01)))
        now = time.time()
        holder = {
            "owner": owner,
            "pid": os.getpid(),
            "since": now,
            "since_text": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        }
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(holder))
        handle.flush()
        try:
            yield holder
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)


LOCK_OPTIONS = {
    "lock_wait": {"type": "int", "default": 300},
    "lock_owner": {"type": "str", "default": "a run of this module"},
    "lock_path": {"type": "path", "default": DEFAULT_PATH},
}


def held_by(module):
    """The pool's lock for an AnsibleModule with LOCK_OPTIONS, to use in a `with`:
    nothing in check mode; a failure naming the holder when it stays busy."""
    stack = contextlib.ExitStack()
    if module.check_mode:
        return stack
    params = module.params
    try:
        stack.enter_context(pool_lock(params["lock_owner"], params["lock_wait"], params["lock_path"]))
    except LockBusy as exc:
        module.fail_json(msg=str(exc), lock_holder=exc.holder)
    except OSError as exc:
        module.fail_json(msg=f"cannot take the pool's lock {params['lock_path']}: {exc}")
    return stack
