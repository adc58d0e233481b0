# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One change of Ganeti's nodes at a time, from this collection: a lock that
ganeti_node (state=absent) and ganeti_node_maintenance hold on the host they run on
(the master) while they read, plan and act.

Why a lock, when Ganeti locks its own jobs: a controller killed mid-run does not end
the module it was running (nothing signals a pipelined module's process on the
host, measured on the lab): the module goes on failing instances over or migrating
them. A re-run that reads the nodes meanwhile sees an instance still on the node it
leaves, because its move is a job not yet ended, and moves it a second time: another
stop and start, or a refusal half-way. Under this lock the re-run waits for the first
module to end and plans from what it left.

The same kind of lock as the pool's (pool_lock: a flock held by the module's process),
on another path: the pool's lock sits on the member that acts for the pool, this one on
the master. No hook takes it (the node-add hook adds with ganeti_node state=present),
so a job these modules wait for never waits for it."""

from __future__ import annotations

import contextlib

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.pool_lock import LockBusy, pool_lock

DEFAULT_PATH = "/var/lib/ganeti-gluster/ganeti.lock"
LOCK_OPTIONS = {
    "lock_wait": {"type": "int", "default": 900},
    "lock_owner": {"type": "str", "default": "a run of this module"},
    "lock_path": {"type": "path", "default": DEFAULT_PATH},
}


@contextlib.contextmanager
def ganeti_lock(module):
    """Hold the lock for an AnsibleModule with LOCK_OPTIONS in the `with` block (not in
    check mode: it reads only); fail the module naming the holder when it stays busy.
    Yields the holder ({} in check mode): its `waited` says how long the run waited."""
    params = module.params
    if module.check_mode:
        yield {}
        return
    stack = contextlib.ExitStack()
    try:
        holder = stack.enter_context(
            pool_lock(
                params["lock_owner"],
                params["lock_wait"],
                params["lock_path"],
                subject="Ganeti's nodes",
                wait_option="the module's lock_wait",
            )
        )
    except LockBusy as exc:
        module.fail_json(msg=str(exc), lock_holder=exc.holder)
    except OSError as exc:
        module.fail_json(msg=f"cannot take the lock {params['lock_path']}: {exc}")
    with stack:
        yield holder
