# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One removal or maintenance of Ganeti nodes at a time: a lock that ganeti_node
(state=absent) and ganeti_node_maintenance hold on the host they run on (the
master) while they read, plan and act, in check mode too (a plan made while another
run's module still moves instances would be stale).

Why a lock, when Ganeti locks its own jobs: a controller killed mid-run does not end
the module it was running (nothing signals a pipelined module's process on the
host, measured on the lab): the module goes on failing instances over or migrating
them. A re-run that reads the nodes meanwhile sees an instance still on the node it
leaves, because its move is a job not yet ended, and moves it again once that job
ends: a refusal half-way (its target is now its primary), or a second move. Under
this lock the re-run waits for the first module to end and plans from what it left.

The same kind of lock as the pool's (pool_lock: a flock held by the module's process),
on another path: the pool's lock sits on the member that acts for the pool, this one on
the master. No hook takes it (the node-add hook adds with ganeti_node state=present),
so a job these modules wait for never waits for it."""

from __future__ import annotations

import contextlib
import os

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.pool_lock import LockBusy, pool_lock

DEFAULT_PATH = "/var/lib/ganeti-gluster/ganeti.lock"
# The playbooks' variable for lock_wait, named in the refusal.
WAIT_VARIABLE = "ganeti_lock_wait"
LOCK_OPTIONS = {
    "lock_wait": {"type": "int", "default": 900},
    "lock_owner": {"type": "str", "default": "a run of this module"},
    "lock_path": {"type": "path", "default": DEFAULT_PATH},
}


@contextlib.contextmanager
def ganeti_lock(module):
    """Hold the lock for an AnsibleModule with LOCK_OPTIONS in the `with` block; fail
    the module naming the holder when it stays busy. Yields the holder: its `waited`
    says how long the run waited. In check mode, where the lock file does not exist
    yet, nothing can hold it and nothing is written; where it does, the hold is
    logged marked check_mode."""
    params = module.params
    if module.check_mode and not os.path.exists(params["lock_path"]):
        yield {"waited": 0.0}
        return
    stack = contextlib.ExitStack()
    try:
        holder = stack.enter_context(
            pool_lock(
                params["lock_owner"],
                params["lock_wait"],
                params["lock_path"],
                subject="Ganeti's nodes",
                wait_option=f"lock_wait (-e {WAIT_VARIABLE}=SECONDS for the playbooks)",
            )
        )
    except LockBusy as exc:
        module.fail_json(msg=str(exc), lock_holder=exc.holder)
    except OSError as exc:
        module.fail_json(msg=f"cannot take the lock {params['lock_path']}: {exc}")
    if module.check_mode:
        holder["check_mode"] = True
    with stack:
        yield holder
