#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ganeti_node_maintenance
short_description: Drain a Ganeti node for maintenance, its instances live-migrated off, and undrain it
version_added: "0.2.0"
description:
  - Runs on the master. Takes one node out of Ganeti's allocation for maintenance (O(state=drained)) and
    gives it back (O(state=undrained)), one step of a rolling maintenance (C(rolling.yml)).
  - The node is found as the rest of the collection finds a host, by Ganeti's exact name or by an address
    the name resolves to that is the node's primary or secondary IP, never by a first label.
  - O(state=drained) reads everything first and refuses, before any change, a node that is the master
    (hand the master role over first, C(gnt-cluster master-failover) run on a master candidate), offline,
    or unknown to Ganeti, and each instance that cannot leave it without a stop or a risk to its data.
  - An instance whose primary is the node leaves it thus. One on shared storage (gluster, rbd, sharedfile,
    ext, blockdev, diskless) that runs is live-migrated (C(gnt-instance migrate --no-runtime-changes
    --target-node)). One whose admin state is down and that does not run is failed over (C(gnt-instance
    failover)), which Ganeti allows without starting it; Ganeti refuses to live-migrate an instance that
    does not run (C(instance_migratable) fails). One marked up that does not run, or set to
    C(be/always_failover) (Ganeti would fail it over, stopping it, when asked to migrate it), is refused
    unless O(allow_failover), which fails it over (Ganeti starts it on its new node as its admin state
    says).
  - Refused are also a running instance on the node's local storage (plain, file; Ganeti moves such disks
    only by copying them, C(gnt-instance move)), and every DRBD instance with a disk on the node. One whose
    secondary is the node would have a single copy of its disks while the node is down; one whose primary
    is the node can migrate to its secondary only, after which the node is its secondary and the same holds
    (and a second run would refuse it); move such an instance off the node first (C(gnt-node evacuate), or
    C(gnt-instance migrate) then C(gnt-instance replace-disks -n OTHER)). An instance on local storage that
    is down stays on the node (its disks are there) and is listed in RV(left).
  - Targets are the other nodes that are online, not drained, vm_capable and whose ganeti-noded answers
    the master. Ganeti checks that a live migration's target has the instance's C(be/minmem) free
    (TLMigrateInstance.CheckPrereq, CheckNodeFreeMemory), then, when the memory the guest runs with is more
    than the target has free, shrinks the guest to fit (TLMigrateInstance._ExecMigration, memory
    ballooning) unless told not to. The module tells Ganeti not to (C(--no-runtime-changes)), and places
    each migration so that its target has the larger of the guest's running memory (C(oper_ram), or
    C(be/maxmem) when Ganeti cannot read it) and its minmem free; a failover that starts the instance needs
    its maxmem (Ganeti checks its minmem, then starts it with up to its maxmem, all of which the guest may
    use), one that does not start it needs nothing. Over the whole drain each target must have free
    the sum of what it receives (largest first, each onto the target with the most memory left, packed
    tighter when that leaves one out); the module refuses, saying what is short, when they do not fit.
  - Then it tags the node C(ganeti-gluster:rolling) and drains it (C(gnt-node modify --drained=yes
    --auto-promote); a master candidate is demoted by the drain and Ganeti promotes another when the pool
    would be short). The tag comes first, so an interrupted run leaves no drained node without it. A node
    that is already drained without that tag was drained by its admin; the module neither tags it nor
    touches its flag (RV(drained_by_admin)), and so O(state=undrained) leaves it drained.
  - Each instance that leaves is tagged C(ganeti-gluster:home:NODE) before it moves (kept when it already
    has a home tag, from an earlier node of the same roll) and moved, one at a time. Each move is a Ganeti
    job given O(timeout) seconds; after it the module reads C(gnt-instance list) and requires the instance
    on its target, running if it ran (a failover, running as its admin state says). A live migration that
    fails is failed over to the same target with O(allow_failover) (RV(moved) says C(how=failover)); without
    it, the module fails naming the instance and Ganeti's error. The node stays drained and tagged, so the
    next run goes on from there. A job that has not ended when O(timeout) runs out goes on in Ganeti; the
    module fails with its job id, and a re-run waits for that job before it plans (O(lock_wait)).
  - Both tags follow Ganeti's tag rule (C(objects.TaggableObject.ValidateTag), letters, digits and
    C(_.+*/:@-), at most 128 characters); a node name that makes the home tag longer is refused.
  - O(state=undrained) undrains only a node the roll drained (its C(ganeti-gluster:rolling) tag), and takes
    the tag off last. A node drained without the tag stays drained, and the result says so
    (RV(left_drained_by_admin)); the instances moved off it lose their home tags and stay where they run.
    With O(migrate_back), the node is undrained first (Ganeti migrates nothing
    onto a drained node), then each instance tagged with its home tag that runs elsewhere moves back, with the
    same checks and the node's free memory for them all, and loses the tag. Without O(migrate_back), the
    instances stay where they run and the node's home tags are taken off, so no later run moves them.
  - In check mode the module reads, checks, and returns the whole plan and the commands it would run.
  - It reads, plans and acts under a lock on the master (O(lock_wait)), in check mode too, since the module of a
    run whose controller was killed goes on to its end there, and a re-run waits for it. Holding it, the module
    waits for the Ganeti jobs that move instances, or touch the node or an instance on it or homed there, before
    it reads the rest.
options:
  node:
    description: The Ganeti node, by its name or a name resolving to its primary or secondary address.
    type: str
    required: true
  state:
    description:
      - V(drained) drains the node and moves its primary instances to other nodes.
      - V(undrained) gives a node the roll drained back to Ganeti's allocation.
    type: str
    choices: [drained, undrained]
    required: true
  allow_failover:
    description:
      - Fail over (stop, then start on the target) an instance that cannot be live-migrated, or whose live
        migration failed, instead of refusing or failing.
    type: bool
    default: false
  failover_memory:
    version_added: 0.2.0
    description:
      - What a failover that starts an instance must find free on its target, summed over what the target
        receives - V(maxmem), the memory the guest may use, or V(minmem), only what Ganeti checks (for guests
        that give memory back through a balloon driver); as the option of M(ganeti_gluster.cluster.ganeti_node).
    type: str
    choices: [maxmem, minmem]
    default: maxmem
  migrate_back:
    description: With O(state=undrained), move the instances the roll moved off this node back onto it.
    type: bool
    default: false
  after_handover:
    description:
      - In check mode only, with O(state=drained), plan the drain of the master as it will be once a master
        candidate has taken over (C(rolling.yml) plans every node's drain before its first node, the master's too).
      - Refused outside check mode.
    type: bool
    default: false
  timeout:
    description: Seconds each instance move (a Ganeti job) may take before the module stops waiting for it.
    type: int
    default: 900
extends_documentation_fragment:
  - ganeti_gluster.cluster.attributes.ACTION_MODULE
  - ganeti_gluster.cluster.ganeti_lock
author:
  - ganeti_gluster.cluster developers (@ganeti-gluster)
"""

EXAMPLES = r"""
- name: Drain node2 for its maintenance, its instances live-migrated to the other nodes
  ganeti_gluster.cluster.ganeti_node_maintenance:
    node: node2.example.net
    state: drained
  delegate_to: "{{ groups['ganeti_master'][0] }}"
  run_once: true

- name: Show what draining node3 would do
  ganeti_gluster.cluster.ganeti_node_maintenance:
    node: node3.example.net
    state: drained
  check_mode: true
  register: node3_plan
  delegate_to: "{{ groups['ganeti_master'][0] }}"
  run_once: true

- name: Give node2 back, its instances migrated back
  ganeti_gluster.cluster.ganeti_node_maintenance:
    node: node2.example.net
    state: undrained
    migrate_back: true
  delegate_to: "{{ groups['ganeti_master'][0] }}"
  run_once: true
"""

RETURN = r"""
node:
  description: The node's name in Ganeti.
  returned: when the node is found
  type: str
  sample: node2
plan:
  description:
    - Each instance move, in order, as planned (also in check mode); C(how) is V(migrate) (live) or
      V(failover).
  returned: always
  type: list
  elements: dict
  sample:
    - instance: inst1
      from: node2
      to: node1
      how: migrate
moved:
  description:
    - The moves done (none in check mode), each as it was done; C(how) is V(failover) where a live
      migration failed and O(allow_failover) failed the instance over.
  returned: always
  type: list
  elements: dict
  sample:
    - instance: inst1
      from: node2
      to: node1
      how: migrate
left:
  description:
    - Instances the module leaves where they are, and why (a stopped instance on the node's local storage;
      with O(migrate_back), an instance whose home is a node its admin keeps drained).
  returned: always
  type: list
  elements: dict
  sample:
    - instance: scratch
      why: it is down and its disks (plain) are on node2's local storage; it stays there
commands:
  description:
    - The commands that change the cluster, run or in check mode to be run, as argv lists. Moves are sent as
      Ganeti jobs (C(--submit --print-jobid)); the reads that follow them are not listed.
  returned: always
  type: list
  elements: list
  sample:
    - [/usr/sbin/gnt-node, add-tags, node2, "ganeti-gluster:rolling"]
    - [/usr/sbin/gnt-node, modify, --drained=yes, --auto-promote, node2]
    - [/usr/sbin/gnt-instance, add-tags, inst1, "ganeti-gluster:home:node2"]
    - [/usr/sbin/gnt-instance, migrate, --force, --no-runtime-changes, --target-node=node1, --submit,
       --print-jobid, inst1]
lock_waited:
  description: Seconds the module waited for the lock (see O(lock_wait)).
  returned: always
  type: float
  sample: 0.0
jobs_waited:
  description:
    - The Ganeti jobs the module waited for before it read the rest (see O(lock_wait)), each as it was first
      found unfinished.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 212
      status: running
      summary: INSTANCE_MIGRATE(inst1)
drained_by_admin:
  description: With O(state=drained), the node was drained before, without the roll's tag; its flag is its admin's.
  returned: when state is drained and the node is found
  type: bool
  sample: false
left_drained_by_admin:
  description: With O(state=undrained), the node is drained without the roll's tag and is left drained.
  returned: when state is undrained and the node is found
  type: bool
  sample: false
diff:
  description: The node's drained flag and its primary instances, before and after.
  returned: when diff mode is on
  type: dict
  sample:
    before:
      drained: false
      primaries: [inst1]
    after:
      drained: true
      primaries: []
"""

import time
from dataclasses import dataclass

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.cli_common import backoff
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.ganeti_cli import (
    JOB_ENDED,
    JOB_POLL_SECONDS,
    SHARED_DISK_TEMPLATES,
    GanetiCli,
    GanetiError,
    JobsUnfinished,
    add_tags_args,
    check_master,
    failover_args,
    find_node,
    job_status_args,
    job_wait_args,
    migrate_args,
    node_drained_args,
    parse_job_id,
    parse_job_status,
    remove_tags_args,
    submitted,
    tag_problem,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.ganeti_lock import LOCK_OPTIONS, ganeti_lock
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.ganeti_placement import (
    FAILOVER_MEMORY,
    FAILOVER_MEMORY_WHY,
    failover_targets,
    free_memory_left,
    pack_by_memory,
    spread_the_rest,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.hosts import is_valid_host

# The roll drained this node: health and a re-run read it; undrained undoes only that.
ROLL_TAG = "ganeti-gluster:rolling"
# On an instance: the node it left, for migrate_back.
HOME_TAG_PREFIX = "ganeti-gluster:home:"
MIGRATE = "migrate"
FAILOVER = "failover"
# Ganeti's DTS_INT_MIRROR: the disks' other copy is on the secondary node.
MIRRORED_ON_A_SECONDARY = frozenset(["drbd"])


def home_tag(node):
    return HOME_TAG_PREFIX + node


def has_a_home(instance):
    return any(tag.startswith(HOME_TAG_PREFIX) for tag in instance.tags)


@dataclass(frozen=True)
class Move:
    instance: object
    source: str
    target: str
    how: str

    def as_dict(self, how=None):
        return {"instance": self.instance.name, "from": self.source, "to": self.target, "how": how or self.how}

    def running_after(self, how=None):
        """Whether the instance must run on its target: a live migration keeps it as it
        was; a failover starts it there when its admin state is up, and only then."""
        return self.instance.running if (how or self.how) == MIGRATE else self.instance.admin_up


def migration_memory(instance):
    """MiB a live migration of `instance` needs free on its target, or None when Ganeti
    gives nothing to go by.

    TLMigrateInstance.CheckPrereq (cmdlib/instance_migration.py) checks that the target
    has be/minmem free (CheckNodeFreeMemory); _ExecMigration then compares the memory
    the guest runs with (instance_info's, oper_ram) with the target's free memory and
    shrinks the guest to fit unless runtime changes are off. migrate_args() turns them
    off, so the target needs the larger of the two (be/maxmem if oper_ram is unknown)."""
    running = instance.memory if instance.memory is not None else instance.max_memory
    if running is None:
        return None
    return max(running, instance.min_memory or 0)


def how_it_leaves(instance, node, allow_failover):
    """(how, why not): MIGRATE or FAILOVER for a primary of `node` on shared storage, or a
    refusal. Ganeti live-migrates only a running instance (instance_migratable), fails
    over a stopped one without starting it when its admin state is down, and turns a
    migration of a be/always_failover instance into a failover, which stops it."""
    if instance.running and not instance.always_failover:
        return MIGRATE, None
    if not instance.running and not instance.admin_up:
        return FAILOVER, None
    if allow_failover:
        return FAILOVER, None
    if instance.running:
        why = (
            f"{instance.name} is set to always fail over (be/always_failover): Ganeti would stop it to move it off "
            f"{node}; run with allow_failover=true to accept that, or set be/always_failover=false"
        )
    else:
        why = (
            f"{instance.name} is marked up but does not run on {node}, so it cannot be live-migrated: start it "
            "(gnt-instance startup) or mark it down (gnt-instance shutdown), or run with allow_failover=true "
            "(Ganeti starts it on its new node)"
        )
    return None, why


def memory_needed(move, failover_memory="maxmem"):
    """MiB `move` needs free on its target (None: unknown, 0: none). A failover that starts
    the instance needs its maxmem (Ganeti checks its minmem, TLMigrateInstance.CheckPrereq,
    then starts it with up to its maxmem, hv_base._InstanceStartupMemory), or with
    `failover_memory` minmem only that; one that does not start it, nothing."""
    if move.how == MIGRATE:
        return migration_memory(move.instance)
    return FAILOVER_MEMORY[failover_memory](move.instance) if move.instance.admin_up else 0


def place(moves, room, failover_memory="maxmem"):
    """(moves with their targets, shortages): `moves` (target None) placed on the nodes of
    `room` ({name: MiB free}) so that each target has free what it receives. Pure."""
    needs = {m.instance.name: memory_needed(m, failover_memory) for m in moves}
    shortages = [
        f"Ganeti gives no memory figure for {m.instance.name} (minmem, maxmem, oper_ram), so its new node's "
        "memory cannot be checked"
        for m in moves
        if needs[m.instance.name] is None
    ]
    starting = [m.instance for m in moves if needs[m.instance.name]]
    placed, unplaced, left = pack_by_memory(starting, room, need=lambda i: needs[i.name])
    hows = {m.instance.name: m.how for m in moves}
    for instance in unplaced:
        what = (
            "the memory it runs with, at least its minmem"
            if hows[instance.name] == MIGRATE
            else FAILOVER_MEMORY_WHY[failover_memory]
        )
        shortages.append(
            f"{instance.name} needs {needs[instance.name]} MiB free on its new node ({what}) and no node has that "
            f"much left once the others are placed ({free_memory_left(left)}): free memory there, or move "
            "instances elsewhere first"
        )
    spread_the_rest(placed, room, [m.instance for m in moves if needs[m.instance.name] == 0])
    placed_moves = [
        Move(m.instance, m.source, placed[m.instance.name], m.how) for m in moves if m.instance.name in placed
    ]
    return placed_moves, shortages


def drain_plan(node, instances, states, allow_failover, failover_memory="maxmem"):
    """(moves, left [(instance, why)], refusals) for draining `node` (its Node). Pure.
    `instances`: Instances read with instance_move_list_args(); `states`: NodeStates."""
    refusals, moves, left = [], [], []
    for instance in instances:
        if node.name in instance.snodes:
            refusals.append(
                f"{instance.name} has its DRBD secondary on {node.name}: its disks would have one copy while "
                f"{node.name} is down; move the secondary first (gnt-instance replace-disks -n OTHER {instance.name})"
            )
        if instance.pnode != node.name:
            continue
        template = instance.disk_template
        if template in MIRRORED_ON_A_SECONDARY:
            refusals.append(
                f"{instance.name} ({template}) can only migrate to its secondary, after which {node.name} holds its "
                f"other copy and its disks have one copy while {node.name} is down; move it off {node.name} first "
                f"(gnt-node evacuate, or gnt-instance migrate then gnt-instance replace-disks -n OTHER)"
            )
        elif template not in SHARED_DISK_TEMPLATES:
            if instance.running or instance.admin_up:
                refusals.append(
                    f"{instance.name} ({template}) cannot move off {node.name} without stopping: its disks are on "
                    f"{node.name}'s local storage; move it first (gnt-instance move, or export and import)"
                )
            else:
                left.append((instance, f"it is down and its disks ({template}) are on {node.name}'s local storage"))
        else:
            how, why = how_it_leaves(instance, node.name, allow_failover)
            if why:
                refusals.append(why)
            else:
                moves.append(Move(instance, node.name, None, how))
    if not moves:
        return [], left, refusals
    by_name = {s.name: s for s in states}
    if by_name.get(node.name) is None or by_name[node.name].boot_id is None:
        refusals.append(f"{node.name}'s ganeti-noded does not answer the master, and the instances' moves need it")
    targets, excluded = failover_targets(states, {node.name})
    if not targets:
        why = "; ".join(excluded) if excluded else "there is no other node"
        refusals.append(f"no node can take {', '.join(m.instance.name for m in moves)}: {why}")
        return [], left, refusals
    placed, shortages = place(moves, {t.name: t.memory_free for t in targets}, failover_memory)
    return placed, left, refusals + shortages


def return_plan(node, instances, states, allow_failover, failover_memory="maxmem"):
    """(moves back, instances whose home tag just goes, refusals) for migrate_back onto
    `node`, which is undrained first. Pure."""
    refusals, moves, untag = [], [], []
    homed = [i for i in instances if home_tag(node.name) in i.tags]
    by_name = {s.name: s for s in states}
    for instance in homed:
        if instance.pnode == node.name:
            untag.append(instance)
        elif instance.disk_template not in SHARED_DISK_TEMPLATES:
            refusals.append(
                f"{instance.name} ({instance.disk_template}) cannot move back to {node.name}: its disks are not on "
                "shared storage"
            )
        elif by_name.get(instance.pnode) is None or by_name[instance.pnode].boot_id is None:
            refusals.append(
                f"{instance.name} cannot move back to {node.name}: {instance.pnode}'s ganeti-noded does not answer "
                "the master"
            )
        else:
            how, why = how_it_leaves(instance, instance.pnode, allow_failover)
            if why:
                refusals.append(why)
            else:
                moves.append(Move(instance, instance.pnode, None, how))
    if not moves:
        return [], untag, refusals
    state = by_name.get(node.name)
    if state is None or state.boot_id is None:
        refusals.append(f"{node.name}'s ganeti-noded does not answer the master; nothing can move back to it")
        return [], untag, refusals
    if not state.vm_capable:
        refusals.append(f"{node.name} is not vm_capable; no instance can move back to it")
        return [], untag, refusals
    placed, shortages = place(moves, {node.name: state.memory_free}, failover_memory)
    return placed, untag, refusals + shortages


class MoveTimeout(Exception):
    def __init__(self, job_id):
        super().__init__(job_id)
        self.job_id = job_id


def ganeti_says(exc):
    """Ganeti's whole error of a failed command, on one line."""
    text = exc.stderr or exc.stdout or ""
    return " ".join(line.strip() for line in text.splitlines() if line.strip()) or exc.message


class Maintenance:
    """One run: reads, checks, then acts; every change goes through change()."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.cli = GanetiCli(module)
        self.result = {"changed": False, "plan": [], "moved": [], "left": [], "commands": [], "jobs_waited": []}

    def fail(self, msg, **extra):
        self.module.fail_json(msg=msg, **extra, **self.result)

    def change(self, args):
        """Run a command that changes the cluster (or, in check mode, list it only)."""
        self.result["commands"].append(self.cli.argv(args))
        self.result["changed"] = True
        if not self.module.check_mode:
            self.cli.run(args)

    def run_job(self, args):
        """`args` sent as a Ganeti job, waited for up to `timeout` seconds. Raises
        GanetiError with Ganeti's error when it fails, MoveTimeout when it has not ended."""
        job_args = submitted(args)
        self.result["commands"].append(self.cli.argv(job_args))
        self.result["changed"] = True
        out = self.cli.run(job_args)
        try:
            job = parse_job_id(out)
        except ValueError as exc:
            raise GanetiError(str(exc), self.cli.argv(job_args), 0, out) from None
        deadline = time.monotonic() + self.params["timeout"]
        pauses = backoff(*JOB_POLL_SECONDS)
        while True:
            out = self.cli.run(job_status_args(job))
            try:
                status = parse_job_status(out, job)
            except ValueError as exc:
                raise GanetiError(str(exc), self.cli.argv(job_status_args(job)), 0, out) from None
            if status in JOB_ENDED:
                break
            now = time.monotonic()
            if now >= deadline:
                raise MoveTimeout(job)
            time.sleep(min(next(pauses), deadline - now))
        if status != "success":
            # gnt-job wait on an ended job exits as the job did, with Ganeti's error on stderr.
            self.cli.run(job_wait_args(job))
            raise GanetiError(f"Ganeti job {job} ended {status}", self.cli.argv(job_wait_args(job)))
        return job

    def read(self, settled=False):
        """The node named, its state and tags, and every instance, once the jobs that could
        change them have ended (settled: waited for already). A node that is unknown,
        offline, or (to drain) the master is refused here, before anything else is read."""
        check_master()
        nodes = self.cli.nodes()
        node, refusal = find_node(nodes, self.params["node"])
        if refusal:
            self.refuse([refusal])
        self.result["node"] = node.name
        if node.master and self.params["state"] == "drained" and not self.params["after_handover"]:
            # Ganeti changes the master's flags only through master-failover (LUNodeSetParams).
            candidates = ", ".join(n.name for n in nodes if n.master_candidate and not n.master and not n.offline)
            self.refuse(
                [
                    f"{node.name} is the master; hand the master role over first: run gnt-cluster master-failover "
                    f"on a master candidate ({candidates or 'there is none: make one with gnt-node modify -C yes'}), "
                    "then run again"
                ]
            )
        if node.offline:
            self.refuse(
                [f"{node.name} is offline; Ganeti sends it nothing (gnt-node modify --offline=no brings it back)"]
            )
        if not settled:
            try:
                waited = self.cli.wait_for_jobs([node.name], self.params["lock_wait"], homes=[home_tag(node.name)])
            except JobsUnfinished as exc:
                self.result["jobs_waited"] = [job.as_dict() for job in exc.waited]
                raise
            self.result["jobs_waited"] = [job.as_dict() for job in waited]
            if waited:
                # They may have changed the node too: read it all again, without another wait.
                return self.read(settled=True)
        states = self.cli.node_states()
        return node, states, self.cli.node_tags(node.name), self.cli.instance_moves()

    def refuse(self, refusals):
        verb = "drain" if self.params["state"] == "drained" else "undrain"
        self.fail(f"refusing to {verb} {self.params['node']}: " + "; ".join(refusals) + ". Nothing was changed.")

    def move(self, move, leaving_drained):
        """One move, then a check that the instance is where and how it should be. With
        allow_failover a failed live migration is failed over to the same target."""
        name = move.instance.name
        how = move.how
        args = migrate_args(name, move.target) if how == MIGRATE else failover_args(name, move.target)
        try:
            self.run_job(args)
        except GanetiError as exc:
            error = ganeti_says(exc)
            if how != MIGRATE or not self.params["allow_failover"]:
                self.fail(
                    f"the {'live migration' if how == MIGRATE else 'failover'} of {name} from {move.source} to "
                    f"{move.target} failed: {error}. {leaving_drained}"
                    + (
                        " Run again with allow_failover=true to fail it over instead (it stops and starts)."
                        if how == MIGRATE
                        else ""
                    )
                )
            how = FAILOVER
            try:
                self.run_job(failover_args(name, move.target))
            except GanetiError as again:
                self.fail(
                    f"the live migration of {name} from {move.source} to {move.target} failed ({error}), and so did "
                    f"its failover: {ganeti_says(again)}. {leaving_drained}"
                )
        now = {i.name: i for i in self.cli.instance_moves()}.get(name)
        if now is None or now.pnode != move.target or now.running != move.running_after(how):
            where = (
                "gone from Ganeti's list"
                if now is None
                else f"on {now.pnode}, {'running' if now.running else 'stopped'}"
            )
            want = "running" if move.running_after(how) else "stopped"
            self.fail(f"after its {how}, {name} is {where}, not on {move.target}, {want}. {leaving_drained}")
        self.result["moved"].append(move.as_dict(how))

    def drained(self):
        node, states, tags, instances = self.read()
        state = next((s for s in states if s.name == node.name), None)
        drained_before = bool(state and state.drained)
        by_admin = drained_before and ROLL_TAG not in tags
        self.result["drained_by_admin"] = by_admin
        refusals = [p for p in (tag_problem(ROLL_TAG), tag_problem(home_tag(node.name))) if p]
        moves, left, plan_refusals = drain_plan(
            node, instances, states, self.params["allow_failover"], self.params["failover_memory"]
        )
        refusals += plan_refusals
        if refusals:
            self.refuse(refusals)
        self.result["plan"] = [m.as_dict() for m in moves]
        self.result["left"] = [{"instance": i.name, "why": f"{why}; it stays there"} for i, why in left]
        primaries = [i.name for i in instances if i.pnode == node.name]
        if self.module._diff:
            self.result["diff"] = {
                "before": {"drained": drained_before, "primaries": primaries},
                "after": {"drained": True, "primaries": [i.name for i, _why in left]},
            }
        stays = f"{node.name} stays drained, so the next run goes on from here."
        try:
            if not drained_before:
                if ROLL_TAG not in tags:
                    self.change(add_tags_args("node", node.name, [ROLL_TAG]))
                self.change(node_drained_args(node.name, True))
            for move in moves:
                if not has_a_home(move.instance):
                    self.change(add_tags_args("instance", move.instance.name, [home_tag(node.name)]))
                if self.module.check_mode:
                    args = migrate_args if move.how == MIGRATE else failover_args
                    self.result["commands"].append(self.cli.argv(submitted(args(move.instance.name, move.target))))
                else:
                    self.move(move, stays)
        except MoveTimeout as exc:
            self.fail(
                f"a move off {node.name} (Ganeti job {exc.job_id}) has not ended after {self.params['timeout']} s; "
                f"it goes on in Ganeti: follow it with gnt-job watch {exc.job_id}. {stays}"
            )
        except GanetiError as exc:
            self.fail(**exc.fail_kwargs())
        self.module.exit_json(**self.result)

    def undrained(self):
        node, states, tags, instances = self.read()
        state = next((s for s in states if s.name == node.name), None)
        drained_before = bool(state and state.drained)
        by_admin = drained_before and ROLL_TAG not in tags
        self.result["left_drained_by_admin"] = by_admin
        homed = [i for i in instances if home_tag(node.name) in i.tags]
        primaries = [i.name for i in instances if i.pnode == node.name]
        if by_admin:
            if self.params["migrate_back"]:
                self.result["left"] = [
                    {"instance": i.name, "why": f"its home {node.name} is drained by its admin; it stays on {i.pnode}"}
                    for i in homed
                    if i.pnode != node.name
                ]
            # The roll is over for this node: no later run is to move them back onto it.
            try:
                for instance in homed:
                    self.change(remove_tags_args("instance", instance.name, [home_tag(node.name)]))
            except GanetiError as exc:
                self.fail(**exc.fail_kwargs())
            if self.module._diff:
                self.result["diff"] = {
                    "before": {"drained": True, "primaries": primaries},
                    "after": {"drained": True, "primaries": primaries},
                }
            self.module.exit_json(**self.result)
        moves, untag = [], homed
        if self.params["migrate_back"]:
            moves, untag, refusals = return_plan(
                node, instances, states, self.params["allow_failover"], self.params["failover_memory"]
            )
            if refusals:
                self.refuse(refusals)
        self.result["plan"] = [m.as_dict() for m in moves]
        if self.module._diff:
            self.result["diff"] = {
                "before": {"drained": drained_before, "primaries": primaries},
                "after": {"drained": False, "primaries": primaries + [m.instance.name for m in moves]},
            }
        back = f"{node.name} is undrained; the rest stay where they run, still tagged, so the next run moves them back."
        try:
            if drained_before:
                self.change(node_drained_args(node.name, False))
            for move in moves:
                if self.module.check_mode:
                    args = migrate_args if move.how == MIGRATE else failover_args
                    self.result["commands"].append(self.cli.argv(submitted(args(move.instance.name, move.target))))
                else:
                    self.move(move, back)
                self.change(remove_tags_args("instance", move.instance.name, [home_tag(node.name)]))
            for instance in untag:
                self.change(remove_tags_args("instance", instance.name, [home_tag(node.name)]))
            if ROLL_TAG in tags:
                self.change(remove_tags_args("node", node.name, [ROLL_TAG]))
        except MoveTimeout as exc:
            self.fail(
                f"a move back to {node.name} (Ganeti job {exc.job_id}) has not ended after "
                f"{self.params['timeout']} s; it goes on in Ganeti: follow it with gnt-job watch {exc.job_id}. {back}"
            )
        except GanetiError as exc:
            self.fail(**exc.fail_kwargs())
        self.module.exit_json(**self.result)


def main():
    module = AnsibleModule(
        argument_spec={
            "node": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["drained", "undrained"], "required": True},
            "allow_failover": {"type": "bool", "default": False},
            "failover_memory": {"type": "str", "choices": ["maxmem", "minmem"], "default": "maxmem"},
            "migrate_back": {"type": "bool", "default": False},
            "timeout": {"type": "int", "default": 900},
            "after_handover": {"type": "bool", "default": False},
            **LOCK_OPTIONS,
        },
        supports_check_mode=True,
    )
    params = module.params
    if not is_valid_host(params["node"]):
        module.fail_json(msg=f"node: {params['node']!r} is not a host name or an address")
    if params["timeout"] < 1:
        module.fail_json(msg=f"timeout must be 1 second or more, not {params['timeout']}")
    if params["migrate_back"] and params["state"] != "undrained":
        module.fail_json(msg="migrate_back applies to state=undrained only")
    if params["after_handover"] and not (module.check_mode and params["state"] == "drained"):
        module.fail_json(msg="after_handover plans a drain in check mode only (state=drained, check_mode)")
    run = Maintenance(module)
    # Read under the lock too: a killed run's module may still be moving instances.
    with ganeti_lock(module) as holder:
        run.result["lock_waited"] = holder["waited"]
        try:
            if params["state"] == "drained":
                run.drained()
            run.undrained()
        except GanetiError as exc:
            run.fail(**exc.fail_kwargs())


if __name__ == "__main__":
    main()
