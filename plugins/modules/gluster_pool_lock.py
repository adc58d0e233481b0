#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gluster_pool_lock
short_description: Take or release the lock that lets one run at a time change a GlusterFS pool
version_added: "0.1.0"
description:
  - A lock file on the one host that acts for the pool, so that runs started from different
    controllers (two C(add-node.yml), a playbook and the Ganeti node-add hook, hooks on two master
    candidates) never change the pool at the same time. Every run calls it on the same host
    (C(delegate_to)).
  - With O(state=present), takes the lock for the run O(run_id). While another run holds it, waits
    up to O(wait) seconds for it, then fails naming the holder, its run id, since when, and how to
    break the lock. A run that holds the lock already gets it again, unchanged.
  - A lock older than O(expire) seconds was left by a run that was killed; it is broken and taken
    over, with a warning naming the run that left it. O(break_lock=true) takes over a lock whatever
    its age, also with a warning.
  - With O(state=absent), removes the lock when this run holds it. A lock held by another run (one
    that broke this run's lock, for example) is left in place, with a warning, and the task does not
    fail, so that it can run in an C(always) section.
  - Taking, breaking and removing the lock are atomic on the host. A lock is created by linking a
    fully written file into place, which fails when a lock is there; each look at the lock and the
    change it calls for happen under C(flock) on O(path) with C(.guard) appended. Of several runs
    that try at the same moment, exactly one gets the lock, and of several that break one stale lock,
    exactly one takes it over.
options:
  path:
    description:
      - The lock file. Its directory is created (mode C(0700)) when missing. It must be on a local
        filesystem of the host.
      - The lock holds JSON - C(owner), C(run_id), C(since) (seconds since the epoch), C(since_text)
        (ISO 8601, UTC) and C(host).
    type: path
    default: /var/lib/ganeti-gluster/pool.lock
  state:
    description:
      - V(present) takes the lock for O(run_id); V(absent) releases it when O(run_id) holds it.
    type: str
    choices: [present, absent]
    default: present
  owner:
    description:
      - Who takes the lock, for people to read in messages, for example the controller, its process
        id, the playbook and the run id.
    type: str
    required: true
  run_id:
    description:
      - A unique id of this run. Taking the lock again with the same id changes nothing; only the
        same id releases it.
    type: str
    required: true
  wait:
    description:
      - Seconds to wait while another run holds the lock, polling with a short backoff. V(0) looks
        once.
    type: int
    default: 300
  expire:
    description:
      - A lock older than this many seconds is taken to be left by a killed run, and is broken.
        V(0) - never; only O(break_lock) breaks it.
    type: int
    default: 7200
  break_lock:
    description:
      - Take over the lock whatever its age, with a warning naming the run that held it. The manual
        way to break a lock left by a killed run - check first that the run is gone (its owner names
        the controller and process). A run that still holds it goes on without knowing.
    type: bool
    default: false
extends_documentation_fragment:
  - ganeti_gluster.cluster.attributes.ACTION_MODULE
attributes:
  check_mode:
    details: Reports whether the lock is free and what the task would do (take, keep, break, release);
      creates, breaks and removes nothing, and never waits.
notes:
  - To break a lock left by a killed run, when the task failed naming it, check on the controller it
    names that the run is gone, then run the playbook again with C(-e gluster_pool_break_lock=true)
    (the role's way to set O(break_lock)), or remove O(path) on the host.
seealso:
  - module: ganeti_gluster.cluster.gluster_peer
  - module: ganeti_gluster.cluster.gluster_volume
author:
  - ganeti_gluster.cluster developers (@ganeti-gluster)
"""

EXAMPLES = r"""
# set_fact fixes the run id once: a lookup in vars would give a new one at each use.
- name: Name this run
  ansible.builtin.set_fact:
    __pool_run_id: "{{ lookup('ansible.builtin.pipe', 'cat /proc/sys/kernel/random/uuid') }}"
    __pool_controller: "{{ lookup('ansible.builtin.pipe', 'hostname') }}"
  run_once: true

- name: Change the pool, one run at a time
  block:
    - name: Take the pool lock on the host that acts for the pool
      ganeti_gluster.cluster.gluster_pool_lock:
        owner: "{{ __pool_controller }} add-node.yml run {{ __pool_run_id }}"
        run_id: "{{ __pool_run_id }}"
        wait: 300
        break_lock: "{{ gluster_pool_break_lock | default(false) }}"
      run_once: true
      delegate_to: node1
      changed_when: false

    - name: Add the bricks
      ansible.builtin.debug:
        msg: the changes go here
  always:
    - name: Release the pool lock
      ganeti_gluster.cluster.gluster_pool_lock:
        state: absent
        owner: "{{ __pool_controller }} add-node.yml run {{ __pool_run_id }}"
        run_id: "{{ __pool_run_id }}"
      run_once: true
      delegate_to: node1
      changed_when: false
"""

RETURN = r"""
lock:
  description:
    - The holder of the lock after the task, or null when nobody holds it. In check mode, the holder
      the task would leave.
  returned: always
  type: dict
  contains:
    owner:
      description: Who holds it, as given in O(owner).
      type: str
      sample: ctl1 pid 4242 add-node.yml run 6f1c2e4a
    run_id:
      description: The run that holds it, as given in O(run_id).
      type: str
      sample: 6f1c2e4a-5b1d-4b9e-9d4c-0c7e2a1f3b5d
    since:
      description: When it was taken, in seconds since the epoch.
      type: int
      sample: 1795635584
    since_text:
      description: When it was taken, ISO 8601, UTC.
      type: str
      sample: "2026-11-25T19:39:44Z"
    host:
      description: The host that holds the lock file.
      type: str
      sample: node1
waited:
  description: Seconds the task waited for another run's lock.
  returned: always
  type: float
  sample: 12.4
broken:
  description:
    - The previous holder (same keys as RV(lock)) when the task broke a lock that had expired, or took
      it over with O(break_lock); otherwise null.
  returned: always
  type: dict
"""

import contextlib
import fcntl
import json
import os
import socket
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

FIRST_POLL_SECONDS = 0.2
MAX_POLL_SECONDS = 5.0
FIELDS = ("owner", "run_id", "since", "since_text", "host")
# What decide() returns: take a free lock, keep ours, break an expired or a forced one, or wait.
TAKE = "take"
KEEP = "keep"
EXPIRED = "expired"
FORCE = "force"
WAIT = "wait"


class LockHeld(Exception):
    """Another run held the lock for all of `wait` seconds."""

    def __init__(self, path, holder, waited, wait, expire):
        self.path, self.holder, self.waited = path, holder, waited
        if expire:
            expiry = f"it expires at {utc_text(holder['since'] + expire)} (expire={expire} s)"
        else:
            expiry = "it does not expire (expire=0)"
        host = holder["host"] or socket.gethostname()
        super().__init__(
            f"the pool lock {path} on {host} is held by {describe(holder)}; waited {wait} s for it, and {expiry}. "
            f"If that run is gone (killed), break the lock: run the playbook again with "
            f"-e gluster_pool_break_lock=true, or remove {path} on {host} after checking that run is gone."
        )


def utc_text(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def age_text(seconds):
    seconds = max(int(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def describe(holder, now=None):
    age = age_text((time.time() if now is None else now) - holder["since"])
    return f"{holder['owner']} (run {holder['run_id']}) since {holder['since_text']} ({age} ago)"


def new_holder(owner, run_id, host, now):
    since = int(now)
    return {"owner": owner, "run_id": run_id, "since": since, "since_text": utc_text(since), "host": host}


def read_holder(path):
    """The lock's holder, or None when there is no lock.

    A file this module did not write (by hand, or cut short) is held by an unknown run since its mtime:
    it expires, and break_lock breaks it, like any other."""
    try:
        with open(path) as handle:
            raw = handle.read()
            mtime = os.fstat(handle.fileno()).st_mtime
    except FileNotFoundError:
        return None
    with contextlib.suppress(ValueError):
        holder = json.loads(raw)
        if (
            isinstance(holder, dict)
            and all(isinstance(holder.get(k), str) for k in ("owner", "run_id", "since_text", "host"))
            and isinstance(holder.get("since"), (int, float))
            and not isinstance(holder.get("since"), bool)
        ):
            return {**{k: holder[k] for k in FIELDS}, "since": int(holder["since"])}
    return {
        "owner": f"unknown (the content of {path} is not a lock this module wrote)",
        "run_id": "",
        "since": int(mtime),
        "since_text": utc_text(mtime),
        "host": "",
    }


def decide(holder, run_id, expire, break_lock, now):
    """What to do about the lock of `holder` (None: free) for the run `run_id`."""
    if holder is None:
        return TAKE
    if holder["run_id"] == run_id:
        return KEEP
    if break_lock:
        return FORCE
    if expire and now - holder["since"] >= expire:
        return EXPIRED
    return WAIT


@contextlib.contextmanager
def guarded(path):
    """flock on PATH.guard: a look at the lock and the change it calls for are one step."""
    fd = os.open(f"{path}.guard", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def create(path, holder):
    """Link a fully written lock into place; False when a lock is there already."""
    fd, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f".{os.path.basename(path)}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(holder, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(temp)


def step(path, holder, expire, break_lock, check_mode):
    """One look at the lock and the change it calls for: (action, holder after, holder before)."""
    with contextlib.nullcontext() if check_mode else guarded(path):
        before = read_holder(path)
        action = decide(before, holder["run_id"], expire, break_lock, time.time())
        if action in (KEEP, WAIT):
            return action, before, before
        if not check_mode:
            if action in (EXPIRED, FORCE):
                os.unlink(path)
            if not create(path, holder):
                # Only a file made without the guard (by hand) gets here.
                after = read_holder(path)
                return WAIT, after, after
        return action, holder, before


def acquire(path, owner, run_id, host, wait, expire, break_lock, check_mode=False):
    """Take the lock for `run_id`, waiting up to `wait` seconds; raise LockHeld when it stays taken.

    Returns changed, lock, waited, broken, before (the holder when the task started) and warnings."""
    directory = os.path.dirname(path)
    if not check_mode and not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700, exist_ok=True)
    started = time.monotonic()
    delay = FIRST_POLL_SECONDS
    seen = []
    while True:
        action, after, before = step(path, new_holder(owner, run_id, host, time.time()), expire, break_lock, check_mode)
        seen.append(before)
        waited = time.monotonic() - started
        if action != WAIT:
            break
        if check_mode:
            return {
                "changed": False,
                "lock": after,
                "waited": 0.0,
                "broken": None,
                "before": before,
                "warnings": [f"the pool lock {path} is held by {describe(after)}; a run would wait up to {wait} s"],
            }
        if waited >= wait:
            raise LockHeld(path, after, round(waited, 1), wait, expire)
        time.sleep(min(delay, wait - waited))
        delay = min(delay * 1.5, MAX_POLL_SECONDS)
    result = {"changed": action != KEEP, "lock": after, "waited": round(waited, 1), "broken": None, "before": seen[0]}
    result["warnings"] = []
    if action in (EXPIRED, FORCE):
        result["broken"] = before
        why = "break_lock is set" if action == FORCE else f"it was older than expire ({expire} s)"
        verb = "would break" if check_mode else "broke"
        result["warnings"].append(f"{verb} the pool lock {path} held by {describe(before)}: {why}")
    return result


def release(path, run_id, check_mode=False):
    """Remove the lock when `run_id` holds it; leave another run's lock, with a warning."""
    result = {"changed": False, "lock": None, "waited": 0.0, "broken": None, "before": None, "warnings": []}
    if not os.path.isdir(os.path.dirname(path)):
        return result
    with contextlib.nullcontext() if check_mode else guarded(path):
        holder = read_holder(path)
        result["before"] = result["lock"] = holder
        if holder is None:
            return result
        if holder["run_id"] != run_id:
            result["warnings"].append(
                f"left the pool lock {path} in place: it is held by {describe(holder)}, not by this run ({run_id})"
            )
            return result
        if not check_mode:
            os.unlink(path)
    result["changed"], result["lock"] = True, None
    return result


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "default": "/var/lib/ganeti-gluster/pool.lock"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "owner": {"type": "str", "required": True},
            "run_id": {"type": "str", "required": True},
            "wait": {"type": "int", "default": 300},
            "expire": {"type": "int", "default": 7200},
            "break_lock": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    params = module.params
    path = params["path"]
    empty = [k for k in ("owner", "run_id") if not params[k].strip()]
    if empty:
        module.fail_json(msg=f"{' and '.join(empty)} must not be empty")
    negative = [f"{k}={params[k]}" for k in ("wait", "expire") if params[k] < 0]
    if negative:
        module.fail_json(msg=f"wait and expire are 0 or more seconds, not {', '.join(negative)}")

    # Where the run comes from, for the message a waiting run prints.
    client = os.environ.get("SSH_CONNECTION", "").split()[:1]
    owner = params["owner"] + (f" (controller {client[0]})" if client else "")
    try:
        if params["state"] == "present":
            result = acquire(
                path,
                owner,
                params["run_id"],
                socket.gethostname(),
                params["wait"],
                params["expire"],
                params["break_lock"],
                module.check_mode,
            )
        else:
            result = release(path, params["run_id"], module.check_mode)
    except LockHeld as exc:
        module.fail_json(msg=str(exc), lock=exc.holder, waited=exc.waited, broken=None)
    except OSError as exc:
        what = "take" if params["state"] == "present" else "release"
        module.fail_json(msg=f"cannot {what} the pool lock {path}: {exc}", lock=None, waited=0.0, broken=None)

    for warning in result.pop("warnings"):
        module.warn(warning)
    before = result.pop("before")
    if module._diff:
        result["diff"] = {"before": {"lock": before}, "after": {"lock": result["lock"]}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
