# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One change of the pool at a time: a lock the mutating modules hold on the
member that acts for the pool while they read, compare and act.

It is a kernel lock (flock) held by the module's own process, so it can never
outlive its holder: a run killed on its controller leaves its module running on
the host (with pipelining nothing signals it, measured on the lab) until it has
finished its step, and then the lock is free. Nothing expires and nothing needs breaking.
The holder writes who it is into the file, for the message a waiting run gives,
and, when it lets go, one line into LOCK_PATH.log (who, from when to when, and
what the guard refused, if it did): the order in which runs changed the pool,
for an operator or a test to read afterwards.

Which member holds it. A flock is local to one host, so two runs exclude each
other only if they lock the same host. Every entry point (site.yml, add-node.yml,
the node-add hook that runs it, remove-node.yml, replace-node.yml) takes it on the
member that acts for the pool, found by one rule (plugins/filter/gluster_pool.py,
gluster_pool_acting): the member of the gluster_pool group with the lowest glusterd
UUID among those whose glusterd answers. The hosts a drain takes out count (they are
members until detached); a dead host does not (it cannot hold a lock, and while a
member is down every other run refuses, so only replace-node.yml runs then).

The hard case: a drain of the member that acts. glusterd detaches a peer only from
another member, and the CLI reaches another host's glusterd read-only (over TCP,
glusterd serves only the read-only CLI program, gd_svc_cli_trusted_progs), so the
detach cannot run under the acting member's lock. Two things keep it one lock:

- The hand-over. Once its bricks are moved, the leaving acting member records,
  under its own lock, that it hands the pool over (gluster_peer state=leaving; the
  record sits beside the lock). From then on a change that takes the lock there
  refuses, unless its run takes that host out too (`pool_leaving`: a re-run of the
  drain). Only then does the member that acts once it is gone (the lowest UUID of
  those that stay) detach it, under its own lock. A change from the leaving host
  either ended before the hand-over, or never starts: no change from it can fall
  between the hand-over and the detach, or after.
- The guard. A run plans the pool once, then acts for minutes; by then another run
  may have detached the host it locks. Detached, that host's glusterd forgets its
  peers and every volume without a brick on it (glusterd_peer_detach_cleanup), so
  a probe from there would start a second pool and a volume step would see no
  volume. So each change, under the lock, first checks that this host still
  sees every member the run planned with (`pool_members`, glusterd UUIDs) and
  refuses, before changing anything, when it does not: the run fails cleanly
  and its re-run plans from the pool as it is.

A rolling maintenance spans reboots, which no flock can: it marks the volumes
under the lock instead (roll_mark), and the guard refuses every change while
another roll's mark is on any volume.

What one lock does not cover: a pool whose members the inventories list
differently (a member missing from one inventory moves the lowest UUID for its
runs), and a host that joins with a lower UUID than the member acting for the
pool: runs planned after its probe act from it, while the join that added it
finishes from the member it started on.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.cli_common import backoff
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import GlusterCli, GlusterError
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.roll_mark import MarkError, rolls_under_way
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.roll_mark import refusal as roll_refusal

DEFAULT_PATH = "/var/lib/ganeti-gluster/pool.lock"
POLL_SECONDS = (0.05, 1.0)  # first and longest wait between two tries
HAND_OVER_SUFFIX = ".leaving"
HOLDS_SUFFIX = ".log"
HOLDS_MAX_BYTES = 256 * 1024  # then the older half goes


class LockBusy(Exception):
    """Another run held the lock for longer than this one would wait."""

    def __init__(self, path, holder, waited, subject="the pool", wait_option="gluster_pool_lock_wait"):
        self.path, self.holder, self.waited = path, holder, waited
        who = describe(holder) if holder else "another run (it left no note)"
        super().__init__(
            f"another run changes {subject}: {who} holds {path} on {socket.gethostname()}; waited {waited:.0f} s. "
            f"Let it finish and run again, or raise {wait_option}. The lock goes with that process: "
            "a controller killed mid-run leaves it running until it has finished its step."
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


def _stamp(owner):
    now = time.time()
    return {"owner": owner, "since": now, "since_text": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}


def holds_path(lock_path):
    """The log of the lock's holds, one JSON line each, beside the lock."""
    return lock_path + HOLDS_SUFFIX


def read_holds(lock_path):
    """The holds logged beside the lock, oldest first (lines that do not parse are skipped)."""
    holds = []
    try:
        with open(holds_path(lock_path)) as handle:
            for line in handle:
                with contextlib.suppress(ValueError):
                    holds.append(json.loads(line))
    except FileNotFoundError:
        pass
    return holds


def _log_hold(lock_path, holder):
    """Append one hold, under the lock. The log is a record for people: failing to
    write it never fails the change it records."""
    path = holds_path(lock_path)
    with contextlib.suppress(OSError):
        if os.path.exists(path) and os.path.getsize(path) > HOLDS_MAX_BYTES:
            with open(path) as handle:
                lines = handle.readlines()
            with open(path, "w") as handle:
                handle.writelines(lines[len(lines) // 2 :])
        with open(path, "a") as handle:
            handle.write(json.dumps({**holder, "until": time.time()}) + "\n")


@contextlib.contextmanager
def pool_lock(owner, wait, path=DEFAULT_PATH, clock=time.monotonic, sleep=time.sleep, **busy):
    """Hold the pool's lock for the `with` block; wait up to `wait` seconds for it,
    then raise LockBusy naming the holder (`busy`: LockBusy's subject and wait_option,
    for another lock of this kind). The holder records how long it waited."""
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
                    raise LockBusy(path, read_holder(handle), waited, **busy) from None
                sleep(min(next(pauses, POLL_SECONDS[1]), max(wait - waited, 0.01)))
        holder = {**_stamp(owner), "pid": os.getpid(), "waited": round(clock() - started, 1)}
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(holder))
        handle.flush()
        try:
            yield holder
        finally:
            _log_hold(path, holder)
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- the hand-over ------------------------------------------------------------


def hand_over_path(lock_path):
    """Where the record of a hand-over sits: beside the lock, on the host that leaves."""
    return lock_path + HAND_OVER_SUFFIX


def read_hand_over(lock_path):
    """The hand-over recorded on this host, or None. An unreadable record counts as one
    (of unknown origin): refusing is the safe reading."""
    try:
        with open(hand_over_path(lock_path)) as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        record = None
    return record if isinstance(record, dict) else {"unreadable": text[:200]}


def write_hand_over(lock_path, local_uuid, peers, owner):
    """Record, atomically, that this host (glusterd UUID local_uuid) hands over the
    pool made of `peers` (Peer list, this host included). Call it under the lock."""
    record = {
        "host_uuid": local_uuid,
        "pool": sorted(p.uuid for p in peers if not p.is_local),
        **_stamp(owner),
    }
    path = hand_over_path(lock_path)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    temporary = f"{path}.{os.getpid()}"
    with open(temporary, "w") as handle:
        handle.write(json.dumps(record))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return record


def hand_over_in_force(record, peers):
    """Whether a recorded hand-over still binds this host: it was made here (same
    glusterd UUID) and this host still counts a peer of the pool it handed over. Once
    it is detached, its glusterd forgets every peer, and the record is spent."""
    if record is None:
        return False
    if "unreadable" in record:
        return True
    local = next((p.uuid for p in peers if p.is_local), None)
    still = {p.uuid for p in peers if not p.is_local} & set(record.get("pool") or ())
    return record.get("host_uuid") == local and bool(still)


# -- the guard ----------------------------------------------------------------


def guard_problem(peers, pool_members, pool_leaving=(), hand_over=None, hand_over_file=None):
    """Why a run must not change the pool from this host now (None when it may).

    peers: `pool list` here (this host included); pool_members: glusterd UUIDs of the
    members the run planned with; pool_leaving: those among them the run takes out;
    hand_over: the record read_hand_over found here. Pure.
    """
    local = next((p for p in peers if p.is_local), None)
    if local is None:
        return "glusterd's pool list here does not list this host; the pool cannot be checked"
    seen = {p.uuid for p in peers}
    missing = [u for u in dict.fromkeys(pool_members) if u not in seen]
    if local.uuid not in pool_members:
        return (
            f"this host (glusterd UUID {local.uuid}) is not one of the members this run planned with "
            f"({', '.join(pool_members)}): the run would act for the pool from a host it did not plan for. "
            "Nothing was changed; run again"
        )
    if missing:
        alone = len(peers) == 1
        what = (
            "its glusterd knows no peer any more: another run detached this host from the pool"
            if alone
            else "another run detached them, or this host, since this run read the pool"
        )
        return (
            f"this host (glusterd UUID {local.uuid}) no longer sees {len(missing)} of the members this run planned "
            f"with ({', '.join(missing)}): {what}. Nothing was changed; run again: it plans from the pool as it is"
        )
    if hand_over_in_force(hand_over, peers) and local.uuid not in pool_leaving:
        if "unreadable" in hand_over:
            return (
                f"{hand_over_file} holds a hand-over this module cannot read; no run changes the pool from a "
                "host that hands it over. Nothing was changed. Look at it; if this host stays in the pool, "
                "remove it and run again"
            )
        return (
            f"this host leaves the pool: {hand_over.get('owner') or 'a run'} handed the pool over here at "
            f"{hand_over.get('since_text')}, and the member that acts once this host is gone detaches it; no run "
            "changes the pool from here any more. Nothing was changed; run again once that run is done (the pool "
            f"then acts from another member). If that run was abandoned and this host stays, remove {hand_over_file}"
        )
    return None


LOCK_OPTIONS = {
    "lock_wait": {"type": "int", "default": 300},
    "lock_owner": {"type": "str", "default": "a run of this module"},
    "lock_path": {"type": "path", "default": DEFAULT_PATH},
    "pool_members": {"type": "list", "elements": "str", "default": []},
    "pool_leaving": {"type": "list", "elements": "str", "default": []},
}


def check_pool(module, cli=None, holder=None, roll=None):
    """The guard for an AnsibleModule with LOCK_OPTIONS, under the lock: fails the
    module, naming why, when the run must not change the pool from this host (see
    guard_problem; the lock's holder, when given, logs it as refused); drops a
    hand-over record that is spent. The members are checked when the run gave
    pool_members (a pool being built, or a caller without a plan, has none). Then,
    always, a rolling maintenance under way refuses every change but its own (roll:
    the id of the roll this change is part of; see roll_mark)."""
    params = module.params
    cli = cli or GlusterCli(module)
    if params["pool_members"]:
        _check_members(module, cli, holder)
    try:
        rolls = rolls_under_way((v.name, v.options) for v in cli.volumes())
        problem = roll_refusal(rolls, roll)
    except GlusterError as exc:
        module.fail_json(**exc.fail_kwargs())
    except MarkError as exc:
        problem = str(exc)
    if problem:
        _refuse(module, holder, problem)


def _refuse(module, holder, problem, **result):
    """Fail the module with `problem`; the lock's holder, when given, logs it as refused."""
    if holder is not None:
        holder["refused"] = problem
    module.fail_json(msg=problem, **result)


def _check_members(module, cli, holder):
    params = module.params
    try:
        peers = cli.pool_list()
    except GlusterError as exc:
        module.fail_json(**exc.fail_kwargs())
    record = read_hand_over(params["lock_path"])
    path = hand_over_path(params["lock_path"])
    problem = guard_problem(peers, params["pool_members"], params["pool_leaving"], record, path)
    if problem:
        _refuse(module, holder, problem, hand_over=record)
    if record is not None and not hand_over_in_force(record, peers) and not module.check_mode:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def held_by(module, roll=None):
    """The pool's lock for an AnsibleModule with LOCK_OPTIONS, to use in a `with`:
    taken (not in check mode; a failure naming the holder when it stays busy), then
    the guard checked under it (check_pool, also in check mode; roll: see there)."""
    stack = contextlib.ExitStack()
    params = module.params
    holder = None
    if not module.check_mode:
        try:
            holder = stack.enter_context(pool_lock(params["lock_owner"], params["lock_wait"], params["lock_path"]))
        except LockBusy as exc:
            module.fail_json(msg=str(exc), lock_holder=exc.holder)
        except OSError as exc:
            module.fail_json(msg=f"cannot take the pool's lock {params['lock_path']}: {exc}")
    with stack.pop_all() as held:
        check_pool(module, holder=holder, roll=roll)
        return held.pop_all()
