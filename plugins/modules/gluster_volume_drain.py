#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gluster_volume_drain
short_description: Move every brick of some hosts out of a GlusterFS volume without losing a file
version_added: "0.1.0"
description:
  - Plans, for each replica or disperse set that holds bricks of the leaving O(hosts), how its data stays
    safe (the planner in C(drain_plan.py)), then acts on it.
  - A set whose bricks all leave (a plain distribute brick is a set of one) is removed with a data
    migration, C(remove-brick ... start); the module waits until every node reports it completed with
    no failed and no skipped file, and only then runs C(commit). With a failure or a skipped file it
    commits nothing and fails, the files still in the volume.
  - A brick whose set stays is replaced, one at a time, by a spare brick from O(spares) on a host that is
    not in that set (C(replace-brick ... commit force), the only form Gluster 10 has), and the module waits
    until heal shows no entry pending, in split-brain or possibly healing on that set before the next.
  - Heal is started, not left to the self-heal daemon's next crawl (every C(cluster.heal-timeout), 600 s).
    The module runs C(volume heal VOL) right after the replacement, then, whenever nothing progresses for
    O(heal_retrigger_after) seconds, a full crawl (the one Gluster's maintainers name for a replaced brick)
    and later index crawls again. Progress is the count of entries to heal falling, or the new bricks
    filling. With no progress for O(heal_stall_timeout) seconds the module fails with the numbers; the
    heal goes on, and the next run waits for it again. Each change of the counts is logged (syslog of the
    host that acts), and RV(heal) reports them.
  - Hosts are compared as peers (glusterd UUIDs), never as the text of brick names. O(hosts), O(spares) and
    O(failure_domains) may name a host otherwise than the volume does (FQDN, short name, address). A spare on
    a host that is no peer is refused; a set is never given two bricks on one host.
  - Refuses before any change when the volume is not healthy enough to drain (a brick offline, heal
    pending or in split-brain, a rebalance or remove-brick running, a peer not connected, a read failed),
    when no set would remain, when the other sets lack the free space for the data of the removed ones
    (with O(space_margin)), or when a brick has no spare on a suitable host; the message says what to do.
  - A run interrupted during a migration is picked up. A remove-brick of the same bricks still running is
    waited for, one that completed cleanly is committed.
  - With O(lost), the O(hosts) are dead (C(replace-node.yml)). Nothing can migrate off them, so each of
    their bricks is replaced by a spare (typically the replacement host's bricks) and self-heal copies its
    data from the other bricks of its set. Their bricks being offline and their peer disconnected is expected;
    anything else wrong refuses as above, and so does a set with no online data brick outside them (its
    files are only on the dead host), or an arbiter set whose arbiter lists entries for heal that its
    surviving data brick does not (see M(ganeti_gluster.cluster.gluster_volume_health)). The bricks are
    replaced first, all of them (the dead ones give no redundancy), then the module waits until heal shows
    nothing pending on every set that holds a spare, also one an interrupted run put in. With
    O(wait_heal=false) it starts heal and returns; the volume keeps the record of the bricks heal owes, and a
    later run waits for that heal.
options:
  name:
    description: The volume.
    type: str
    required: true
  hosts:
    description: The hosts that leave, by any name C(pool list) gives them or an address of theirs.
    type: list
    elements: str
    required: true
  spares:
    description: Bricks (C(HOST:/path)) not in the volume, prepared, that may take the place of leaving bricks.
    type: list
    elements: str
    default: []
  failure_domains:
    description: Host (as in the bricks) to failure domain; a replaced brick goes to a domain its set does not use
      whenever the spares allow it.
    type: dict
    default: {}
  space_margin:
    description: The share of the moved data the remaining sets must have free on top of it (0.2 is 20%).
    type: float
    default: 0.2
  timeout:
    description: Seconds to wait for each migration and for each heal before failing (the work goes on in
      the background, and the next run waits for it again).
    type: int
    default: 3600
  lost:
    description: The O(hosts) are dead; replace their bricks from the other bricks of their sets.
    type: bool
    default: false
  wait_heal:
    version_added: 0.2.0
    description:
      - With O(lost), wait for heal on the sets that hold a spare. With V(false), the bricks are replaced,
        the module waits until the new ones are online (a set counts a brick for its quorum only then), starts
        heal, and returns; a later run (with V(true)) waits for that heal.
        C(replace-node.yml) fails the dead node's instances over in between, onto a volume whose sets have
        their bricks again.
      - Only with O(lost); a live drain replaces one brick at a time and waits for each.
    type: bool
    default: true
  checked_plan:
    version_added: 0.2.0
    description:
      - The RV(plan) of an earlier run of this module in check mode, whose spares the caller has checked
        (C(remove-node.yml) and C(replace-node.yml) check theirs in their first play).
      - Before any change, the module refuses when the plan it makes now replaces or removes other bricks
        than that one; the caller's checks then vouch for what is done, and the volume is planned once less.
    type: dict
  spare_room:
    version_added: 0.2.0
    description:
      - Bytes each spare (named as in O(spares)) can take, as the caller measured it.
      - Before any change, a spare the plan puts in with less room than a brick of its set holds as the
        module reads it then is refused (the data may have grown since the caller's checks).
    type: dict
    default: {}
extends_documentation_fragment:
  - ganeti_gluster.cluster.attributes.action_module
  - ganeti_gluster.cluster.heal_wait
  - ganeti_gluster.cluster.pool_lock
seealso:
  - module: ganeti_gluster.cluster.gluster_volume_health
author:
  - ganeti_gluster.cluster developers (@ganeti-gluster)
"""

EXAMPLES = r"""
- name: Drain node4 out of gv0, its replica set completed by a spare on node5
  ganeti_gluster.cluster.gluster_volume_drain:
    name: gv0
    hosts: [node4]
    spares: ["node5:/bricks/b2/brick"]

- name: Replace the bricks of node3, which died, by node6's
  ganeti_gluster.cluster.gluster_volume_drain:
    name: gv0
    hosts: [node3]
    lost: true
    spares: ["node6:/bricks/b1/brick"]
"""

RETURN = r"""
plan:
  description: What happens to each brick of the leaving hosts.
  returned: always
  type: dict
  sample:
    remove_sets: []
    replace:
      - set: 0
        old: node3:/bricks/b1/brick
        new: node4:/bricks/s1/brick
    data_to_move: 0
    data_to_heal: 209715200
    warnings: []
  contains:
    remove_sets:
      description: Sets removed with a data migration (C(set), C(bricks)).
      type: list
      elements: dict
    replace:
      description: Bricks replaced (C(set), C(old), C(new)).
      type: list
      elements: dict
    data_to_move:
      description: Bytes the removal migrates onto the other sets.
      type: int
    data_to_heal:
      description: Bytes self-heal copies onto the replacing bricks.
      type: int
    warnings:
      description: What the plan could not honour (a failure domain shared), in words.
      type: list
      elements: str
heal:
  description: Each wait for heal, as it ended (or where it stood when the module failed).
  returned: always (empty when no brick was replaced)
  type: list
  elements: dict
  sample:
    - volume: gv0
      sets: [0]
      seconds: 21.4
      entries_first: 49
      entries_fewest: 3
      healed_bytes: 209715200
      retriggered: 0
      seconds_without_progress: 0.9
bricks:
  version_added: 0.2.0
  description:
    - The volume's bricks as read before any change, with their sizes (null where a brick is offline) and
      their set (counted from 0); the drain's and the replacement's spare checks compare a spare's room with
      what a brick of its set holds.
  returned: when the volume exists
  type: list
  elements: dict
  sample:
    - name: node3:/bricks/b1/brick
      host_uuid: 3c74e68e-e20f-4644-b58b-b3dd8944990b
      set: 0
      arbiter: false
      size_total: 4284481536
      size_free: 4073254912
removed_bricks:
  description:
    - The bricks a remove-brick took out (C(name), C(host_uuid), C(path)); as Gluster asks, look for files
      left behind on them (remove-node.yml does) before their filesystems go.
  returned: when a remove-brick was committed (or, in check mode, would be)
  type: list
  elements: dict
  sample: [{"name": "node4:/bricks/b1/brick", "host_uuid": "3c74e68e-e20f-4644-b58b-b3dd8944990b",
            "path": "/bricks/b1/brick"}]
commands:
  description: The gluster commands run (in check mode, that would run).
  returned: always
  type: list
  elements: list
  sample:
    - - /usr/sbin/gluster
      - --mode=script
      - --xml
      - volume
      - replace-brick
      - gv0
      - node3:/bricks/b1/brick
      - node4:/bricks/s1/brick
      - commit
      - force
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.brick_placement import BrickRef, PlacementError
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.cli_common import paced
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.drain_plan import (
    DrainError,
    SetState,
    plan_differences,
    plan_drain,
    room_shortage,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    TASK_REMOVE_BRICK,
    GlusterCli,
    GlusterError,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.heal_wait import (
    HEAL_OPTIONS,
    POLL_SECONDS,
    HealWaiter,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.heal_watch import (
    HEAL_DONE,
    HEAL_MARK,
    heal_mark,
    owed_heal,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.health import (
    read_volume,
    set_in_quorum,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.hosts import normalized, peer_of
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.pool_lock import LOCK_OPTIONS, held_by

# Seconds a brick just put in has to come online.
BRICKS_ONLINE_TIMEOUT = 60

# The bricks' fields the module returns (from health.read_volume's report).
BRICK_FIELDS = ("name", "host_uuid", "set", "arbiter", "size_total", "size_free")


def brick_blockers(bricks, heal_expected=frozenset()):
    """Each brick (of a health report) offline, out of heal info's reach, with entries in
    split-brain, or with entries to heal unless its set is one in `heal_expected`."""
    found = []
    for brick in bricks:
        if brick["online"] is not True:
            found.append(f"{brick['name']} is offline")
        if brick["heal_reached"] is False:
            found.append(f"heal info cannot reach {brick['name']}")
        if brick["split_brain"]:
            found.append(f"{brick['name']} has {brick['split_brain']} entries in split-brain")
        pending = (brick["heal_pending"] or 0) + (brick["possibly_healing"] or 0)
        if pending and brick["set"] not in heal_expected:
            found.append(f"{brick['name']} has {pending} entries to heal")
    return found


def blockers(report, peers, resuming, volume_bricks=(), healing_sets=()):
    """What stops a drain now: anything the health report finds but a brick's space, and
    any peer not in the cluster. A remove-brick of the bricks this drain resumes is not one;
    another whose bricks are still in the volume (started, not committed) is. Heal on
    `healing_sets` (those an earlier run put a spare into) is what this run waits for."""
    found = brick_blockers(report["bricks"], heal_expected=set(healing_sets))
    for task in report["tasks"]:
        ours = task["type"] == TASK_REMOVE_BRICK and set(task["bricks"]) == set(resuming)
        if task["running"] and not ours:
            found.append(f"a {task['type'].lower()} is running ({task['status']})")
        elif task["type"] == TASK_REMOVE_BRICK and not ours and set(task["bricks"]) & set(volume_bricks):
            found.append(
                f"a remove-brick of {', '.join(task['bricks'])} was started and not committed; commit or stop it"
            )
    found += [
        f"peer {p.hostname} is {p.state_str or p.state}, {'connected' if p.connected else 'disconnected'}"
        for p in peers
        if not p.in_cluster
    ]
    found += [f"{f['subject']}: {f['reason']}" for f in report["findings"] if f["severity"] == "unsafe"]
    return list(dict.fromkeys(found))


def single_copy_warnings(report, plan):
    """Sets a live drain leaves with one data copy until heal fills the new brick (replica 2,
    or an arbiter set whose leaving brick holds data), in words: `replace-brick` drops the
    leaving brick at once, so a disk lost meanwhile loses what only it held."""
    warnings = []
    for index, old, new in plan.replace:
        members = [b for b in report["bricks"] if b["set"] == index]
        leaving = next((b for b in members if b["name"] == str(old)), None)
        data_kept = [b for b in members if not b["arbiter"] and b["name"] != str(old)]
        if leaving is not None and not leaving["arbiter"] and len(data_kept) < 2:
            warnings.append(
                f"set {index} keeps one copy of its data ({', '.join(b['name'] for b in data_kept)}) until heal "
                f"fills {new}: keep {old}'s disk as it is until then"
            )
    return warnings


def quorum_losses(report, lost_uuids, shown="the dead hosts"):
    """Replica sets whose client quorum went with the dead hosts' bricks (a replica 2 set whose
    first brick died, under cluster.quorum-type auto): set index -> what that means, in words.
    Their clients' writes have failed since. Measured on Gluster 10.3: a FUSE writer's file,
    opened before and written to since, stays unusable after the replacement (EBADF, also
    once healed), and QEMU's gluster driver fails every write after a failed flush; a file
    opened through FUSE after the replacement is written at once (AFR's lookup creates it
    on the new brick)."""
    if report["quorum"]["client"] is None:  # not a replicated volume
        return {}
    losses = {}
    lost_sets = {b["set"] for b in report["bricks"] if b["host_uuid"] in lost_uuids}
    for entry in (s for s in report["sets"] if s["index"] in lost_sets):
        index, needed, quorum_type = entry["index"], entry["quorum"], report["quorum"]["client"]
        members = [b for b in report["bricks"] if b["set"] == index]
        online = [bool(b["online"]) and b["host_uuid"] not in lost_uuids for b in members]
        if len(members) > 1 and not set_in_quorum(report, entry, online):
            losses[index] = (
                f"set {index} of volume {report['name']} has had no client quorum since {shown} died "
                f"(cluster.quorum-type {quorum_type}: {sum(online)} of {len(members)} bricks online, "
                f"{needed} needed{', or the first alone' if quorum_type == 'auto' and len(members) % 2 == 0 else ''}"
                "): no write to its files has succeeded since. A disk written to since then, by an instance that "
                "kept running on another node, may stay unusable after the replacement (measured: a FUSE writer's "
                "file stayed so, even once healed; QEMU's gluster driver fails every write after a failed flush): "
                "once the bricks are replaced, restart every instance that kept running with a disk on this volume "
                "(gnt-instance reboot --type=full; `getfattr -n "
                "trusted.glusterfs.pathinfo FILE` on a mount names the bricks of one disk). A file opened after "
                "the replacement is written at once"
            )
    return losses


def lost_blockers(report, peers, lost_uuids, healing_sets, shown="the dead hosts"):
    """What stops replacing the bricks of dead hosts (glusterd UUIDs `lost_uuids`) now.
    Their bricks offline and unreachable and their peer disconnected are the premise;
    heal pending on a set that holds one of their bricks or a replacing brick is what
    the replacement waits for. Anything else is as for a drain, and a set left without
    an online data brick elsewhere is refused (its files are only on the dead host)."""
    lost_sets = {b["set"] for b in report["bricks"] if b["host_uuid"] in lost_uuids}
    found = brick_blockers(
        [b for b in report["bricks"] if b["host_uuid"] not in lost_uuids], heal_expected=lost_sets | set(healing_sets)
    )
    for index in sorted(lost_sets):
        survivors = [
            b
            for b in report["bricks"]
            if b["set"] == index and b["host_uuid"] not in lost_uuids and b["online"] and not b["arbiter"]
        ]
        if not survivors:
            found.append(f"set {index} has no online data brick outside {shown}")
    for task in report["tasks"]:
        if task["running"]:
            found.append(f"a {task['type'].lower()} is running ({task['status']})")
    found += [
        f"peer {p.hostname} is {p.state_str or p.state}, {'connected' if p.connected else 'disconnected'}"
        for p in peers
        if not p.is_local and not p.in_cluster and p.uuid not in lost_uuids
    ]
    # A set that lost its quorum with the dead host gets it back from the replacement.
    lost_labels = {f"set {s['index']} ({', '.join(s['bricks'])})" for s in report["sets"] if s["index"] in lost_sets}
    lost_labels |= {s["bricks"][0] for s in report["sets"] if s["index"] in lost_sets and len(s["bricks"]) == 1}
    found += [
        f"{f['subject']}: {f['reason']}"
        for f in report["findings"]
        if f["severity"] == "unsafe" and f["subject"] not in lost_labels
    ]
    return list(dict.fromkeys(found))


def still_alive(report, peers, lost_uuids):
    """What shows, now, that a host given as dead is not: its peer connected, a brick of it
    online. Read under the pool's lock just before any replace-brick,
    since the playbook's own check came minutes earlier (a rebooting host comes back)."""
    found = [
        f"peer {p.hostname} is connected" for p in peers if not p.is_local and p.connected and p.uuid in lost_uuids
    ]
    found += [f"brick {b['name']} is online" for b in report["bricks"] if b["host_uuid"] in lost_uuids and b["online"]]
    return found


def set_states(volume, report):
    """SetState per set, from the health report's bricks: data used (the fullest data
    brick; times the data bricks of a disperse set) and room left (the emptiest, likewise)."""
    factor = volume.set_size - volume.redundancy_count if volume.disperse_count else 1
    states = []
    for start in range(0, len(report["bricks"]), volume.set_size):
        members = report["bricks"][start : start + volume.set_size]
        known = [b for b in members if not b["arbiter"] and b["size_total"] is not None and b["size_free"] is not None]
        used = max((b["size_total"] - b["size_free"] for b in known), default=0)
        free = min((b["size_free"] for b in known), default=0)
        states.append(SetState(tuple(BrickRef.parse(b["name"]) for b in members), used * factor, free * factor))
    return states


def bricks_diff(volume, plan):
    """The volume's bricks, one per line, before and after `plan`."""
    replaced = {str(old): str(new) for _index, old, new in plan.replace}
    removed = {str(b) for _index, group in plan.remove_sets for b in group}
    before = [b.name for b in volume.bricks]
    after = [replaced.get(name, name) for name in before if name not in removed]
    return {
        "before": "".join(f"{name}\n" for name in before),
        "after": "".join(f"{name}\n" for name in after),
        "before_header": f"volume {volume.name} bricks",
        "after_header": f"volume {volume.name} bricks",
    }


class Drain:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.cli = GlusterCli(module)
        self.commands = []
        self.result = {"changed": False, "commands": self.commands, "plan": {}, "heal": []}
        self.heal = HealWaiter.for_module(module, self.cli, self.commands, self.result["heal"], self.fail)

    def fail(self, msg, **extra):
        self.module.fail_json(msg=msg, **self.result, **extra)

    def act(self, *args):
        self.commands.append(self.cli.argv(*args))
        answer = None if self.module.check_mode else self.cli.run(*args)
        # Only once it succeeded: a command glusterd refused changed nothing.
        self.result["changed"] = True
        return answer

    def host_keys(self, volume, peers, spares):
        """Each brick of the volume and each spare -> its host's glusterd UUID. A spare on a
        host that is no peer of the pool fails, since it could not be put in; in check mode it
        is planned as a host of its own (replace-node.yml's preflight previews the plan before
        the replacement is probed)."""
        keys = {b.name: b.host_uuid for b in volume.bricks}
        strangers = []
        for spare in spares:
            peer = peer_of(spare.host, peers)
            if peer is not None:
                keys[str(spare)] = peer.uuid
            elif self.module.check_mode:
                keys[str(spare)] = f"not yet a peer: {normalized(spare.host)}"
            else:
                strangers.append(str(spare))
        if strangers:
            self.fail(
                f"spare bricks on hosts that are not peers of the pool: {', '.join(strangers)}. Name them as "
                "`gluster pool list` knows their hosts (or by an address of theirs), or join those hosts first. "
                "Nothing was changed."
            )
        return keys

    @staticmethod
    def placed(volume, spares, keys):
        """The bricks an earlier run replaced into the volume whose heal it did not see end
        (the heal mark), the sets that hold them, and the spares that are in no set (matched
        by host UUID and path: a spare may name its host otherwise than the volume does)."""
        owed = owed_heal(volume.options.get(HEAL_MARK), [b.name for b in volume.bricks])
        index = {b.name: i // volume.set_size for i, b in enumerate(volume.bricks)}
        in_volume = {(b.host_uuid, b.path) for b in volume.bricks}
        free = [s for s in spares if (keys.get(str(s)), s.path) not in in_volume]
        return owed, free, sorted({index[b] for b in owed})

    def mark_heal(self, volume, bricks):
        """Record in the volume the bricks whose heal is owed (`done` for none), when that
        changes: one transaction before a replace-brick, one once its heal has ended."""
        value = heal_mark(bricks)
        if (self.marked or HEAL_DONE) != value:
            self.act("volume", "set", volume.name, HEAL_MARK, value)
            self.marked = value

    def run(self):
        p = self.params
        name = p["name"]
        try:
            spares = [BrickRef.parse(s) for s in p["spares"]]
        except PlacementError as exc:
            self.fail(f"spares: {exc}")
        if not 0 <= p["space_margin"] <= 10:
            self.fail(f"space_margin must be between 0 and 10, not {p['space_margin']}")
        volume = self.cli.volume(name)
        if volume is None:
            self.fail(f"volume {name} does not exist")
        peers = self.cli.pool_list()
        # Hosts are peers, not names: the volume may name a host otherwise than the pool does.
        self.peers = peers
        leaving, shown = set(), {}
        for host in p["hosts"]:
            peer = peer_of(host, peers)
            if peer is not None:
                leaving.add(peer.uuid)
                shown.setdefault(peer.uuid, host)
        lost = p["lost"]
        keys = self.host_keys(volume, peers, spares)
        self.marked = volume.options.get(HEAL_MARK)
        owed, free_spares, healing = self.placed(volume, spares, keys)
        set_of = {b.name: i // volume.set_size for i, b in enumerate(volume.bricks)}
        leaving_bricks = [b.name for b in volume.bricks if b.host_uuid in leaving]
        # Heal pending on the dead hosts' sets is expected (lost_blockers judges it), and so
        # is heal an earlier run's replacement still owes.
        touching = [] if lost else [b for b in leaving_bricks if set_of[b] not in healing]
        report = read_volume(self.cli, volume, peers, touching=touching)
        # What the spare checks compare a spare's room with; a second read would ask heal
        # info again, which waits seconds on every brick whose host is down.
        self.result["bricks"] = [{k: b[k] for k in BRICK_FIELDS} for b in report["bricks"]]
        sets = set_states(volume, report)
        if lost:
            return self.replace_lost(volume, report, peers, sets, free_spares, leaving, keys, shown, owed, healing)

        # An earlier run's migration of these hosts' bricks, to see through rather than start again.
        resuming = next(
            (
                t["bricks"]
                for t in report["tasks"]
                if t["type"] == TASK_REMOVE_BRICK and t["bricks"] and set(t["bricks"]) <= set(leaving_bricks)
            ),
            [],
        )
        problems = blockers(report, peers, resuming, [b.name for b in volume.bricks], healing)
        what = f"drain {', '.join(sorted(shown.values()))} from"
        self.result["plan"] = {"remove_sets": [], "replace": [], "data_to_move": 0, "data_to_heal": 0}
        if not leaving_bricks and not healing:
            return self.result
        self.refuse(volume, problems, what)
        plan = self.plan(volume, sets, leaving, free_spares, keys, shown, p["space_margin"])
        removing = [str(b) for _index, group in plan.remove_sets for b in group]
        if resuming and set(resuming) != set(removing):
            # glusterd refuses a new remove-brick while an earlier one is on record.
            self.refuse(
                volume,
                [
                    f"an earlier run's remove-brick of {', '.join(resuming)} is still on record, and this drain "
                    f"removes {', '.join(removing) or 'no brick'}: see it through first (gluster volume "
                    f"remove-brick {name} {' '.join(resuming)} status, then commit), or stop it (... stop), "
                    "then run again"
                ],
                what,
            )
        self.refuse(volume, self.heal_blockers(report, plan), what)
        # The hosts go, and the next brick is replaced, only once what an earlier run replaced has healed.
        if healing and not self.module.check_mode:
            self.heal.wait(name, healing, owed, fresh=False)
            self.mark_heal(volume, [])

        for warning in single_copy_warnings(report, plan):
            self.module.warn(warning)
        for index, old, new in plan.replace:
            self.mark_heal(volume, [str(new)])
            self.act("volume", "replace-brick", name, str(old), str(new), "commit", "force")
            if not self.module.check_mode:
                self.heal.wait(name, [index], [str(new)])
                self.mark_heal(volume, [])
        if plan.remove_sets:
            bricks = removing
            if set(resuming) != set(bricks):
                self.act("volume", "remove-brick", name, *bricks, "start")
            if not self.module.check_mode:
                self.wait_migrated(name, bricks, {keys[b] for b in bricks})
            self.act("volume", "remove-brick", name, *bricks, "commit")
            self.result["removed_bricks"] = [
                {"name": b.name, "host_uuid": b.host_uuid, "path": b.path} for b in volume.bricks if b.name in bricks
            ]
        return self.result

    def refuse(self, volume, problems, what):
        """Fail, before any change, when the volume is not in a state to `what`."""
        if not volume.started:
            problems.insert(0, f"volume {volume.name} is {volume.status_str}")
        if problems:
            self.fail(
                f"volume {volume.name} is not in a state to {what}: "
                + "; ".join(problems)
                + ". Nothing was changed. Fix that first (playbooks/health.yml shows the whole report), then run again."
            )

    @staticmethod
    def heal_blockers(report, plan):
        """A replacement waits for the self-heal daemons: disabled, or not running where a
        set that heals keeps bricks (the daemon beside a brick crawls that brick's index of
        what the new brick lacks), that wait would run out."""
        if not plan.replace:
            return []
        healing = {index for index, _old, _new in plan.replace}
        replaced = {str(old) for _index, old, _new in plan.replace}
        hosts = {b["host_uuid"] for b in report["bricks"] if b["set"] in healing and b["name"] not in replaced}
        found = [
            f"{f['subject']}: {f['reason']}"
            for f in report["findings"]
            if f["reason"].startswith("self-heal daemon disabled")
        ]
        found += [
            f"the self-heal daemon is not running on {d['host']}, which holds bricks of a set to heal "
            f"(gluster volume start {report['name']} force starts it again, and leaves what runs as it is)"
            for d in report["self_heal"]
            if not d["online"] and d["host_uuid"] in hosts
        ]
        return found

    def spare_room_of(self, spare):
        """O(spare_room) of `spare` in bytes, None when not given."""
        has = self.params["spare_room"].get(str(spare))
        try:
            return None if has is None else int(has)
        except (TypeError, ValueError):
            self.fail(f"spare_room: the room of {spare} must be a number of bytes, not {has!r}")

    def room_short(self, index, old, new):
        """Why spare `new` cannot take `old`'s place in set `index` for want of room, or None."""
        return room_shortage(
            self.result["bricks"], index, str(old), str(new), self.spare_room_of(new), self.params["name"]
        )

    def short_spares(self, plan):
        """The spares the plan puts in whose room (O(spare_room)) is less than what a brick of
        their set holds as read now, in words: the caller checked the room against an older read."""
        short = [self.room_short(index, old, new) for index, old, new in plan.replace]
        return [f"spare {why} (as read now)" for why in short if why]

    def plan(self, volume, sets, leaving, spares, keys, shown, margin=0.2, lost=False):
        """plan_drain's plan, reported; its refusals, and a replacement on a disperse volume, fail."""
        domains = {}
        for host, domain in self.params["failure_domains"].items():
            peer = peer_of(host, self.peers)
            if peer is not None:
                domains[peer.uuid] = domain
        try:
            plan = plan_drain(
                sets,
                leaving,
                spares,
                domains,
                margin,
                volume=volume.name,
                lost=lost,
                host_key=lambda brick: keys.get(str(brick), brick.host),
                host_name=lambda uuid: shown.get(uuid, uuid),
                fits=lambda index, old, spare: self.room_short(index, old, spare) is None,
            )
        except DrainError as exc:
            self.fail(f"{exc} Nothing was changed.")
        self.result["plan"] = plan.as_dict()
        if self.module._diff:
            self.result["diff"] = bricks_diff(volume, plan)
        checked = self.params["checked_plan"]
        if checked is not None:
            changes = plan_differences(checked, self.result["plan"])
            if changes:
                self.fail(
                    f"the plan for volume {volume.name} is not the one checked before: {'; '.join(changes)}. The "
                    "volume or its spares changed since. Nothing was changed; run again, which checks the new plan."
                )
        short = self.short_spares(plan)
        if short:
            self.fail(
                f"{'; '.join(short)}. Nothing was changed. Give it a larger filesystem, or take it out of the "
                "spares so that another is chosen, then run again."
            )
        if plan.replace and volume.disperse_count:
            # glusterd marks nothing to heal on a disperse brick that replace-brick put in: heal
            # info shows 0 until the self-heal daemon starts on it, so no wait here is sound yet.
            self.fail(
                f"replacing bricks of disperse volume {volume.name} is not supported yet (heal on the new brick "
                f"cannot be waited for): {', '.join(str(old) for _i, old, _n in plan.replace)}. Drain hosts whose "
                "sets leave whole, or replace the bricks by hand (replace-brick ... commit force, then heal full). "
                "Nothing was changed."
            )
        for warning in plan.warnings:
            self.module.warn(warning)
        return plan

    def replace_lost(self, volume, report, peers, sets, free_spares, lost_uuids, keys, shown, placed, healing):
        """Replace every brick of the dead hosts by a spare, then wait for heal on every set
        that holds a spare (the ones replaced now and those an interrupted run replaced)."""
        name = volume.name
        dead = ", ".join(sorted(shown.values())) or ", ".join(sorted(set(self.params["hosts"])))
        alive = still_alive(report, peers, lost_uuids)
        if alive:
            self.fail(
                f"{dead} is not dead: {'; '.join(alive)}. Nothing was "
                "changed. A host that runs is drained with remove-node.yml; one that is coming back needs no "
                "replacement."
            )
        healing = list(healing)
        problems = lost_blockers(report, peers, lost_uuids, healing, dead)
        self.refuse(volume, problems, f"replace the bricks of {dead}")
        plan = self.plan(volume, sets, lost_uuids, free_spares, keys, shown, lost=True)
        new_bricks = placed + [str(new) for _index, _old, new in plan.replace]
        self.refuse(volume, self.heal_blockers(report, plan), f"replace the bricks of {dead}")
        if plan.replace:
            self.mark_heal(volume, new_bricks)
        # Only for sets this run replaces: it says what to do once they are.
        losses = quorum_losses(report, lost_uuids, dead)
        for index in sorted({index for index, _old, _new in plan.replace} & losses.keys()):
            self.module.warn(losses[index])
        for index, old, new in plan.replace:
            self.act("volume", "replace-brick", name, str(old), str(new), "commit", "force")
            healing.append(index)
        if not self.params["wait_heal"]:
            # The record of what heal owes stays: a later run waits for it. The bricks an
            # interrupted run put in count too: the caller goes on as if every set were whole.
            if new_bricks and not self.module.check_mode:
                self.wait_online(name, new_bricks, keys)
                self.heal.trigger(name)
            return self.result
        if not self.module.check_mode and healing:
            # Each set heals from its own bricks: one wait for all of them, triggered once.
            self.heal.wait(name, sorted(set(healing)), new_bricks, fresh=bool(plan.replace))
            self.mark_heal(volume, [])
        return self.result

    def wait_online(self, name, bricks, keys):
        """Until each of `bricks`, just put in, is online: its set counts it for client quorum
        (and its heal starts) only then, and the caller goes on as if the set were whole."""
        wanted = {(keys[brick], BrickRef.parse(brick).path): brick for brick in bricks}
        deadline = time.monotonic() + BRICKS_ONLINE_TIMEOUT
        pauses = paced(*POLL_SECONDS)
        while True:
            online = {(b.peer_uuid, b.path) for b in self.cli.volume_status(name) if b.online}
            offline = [brick for key, brick in wanted.items() if key not in online]
            if not offline:
                return
            if time.monotonic() >= deadline:
                self.fail(
                    f"the new bricks {', '.join(offline)} of volume {name} are not online "
                    f"{BRICKS_ONLINE_TIMEOUT} s after their replace-brick; nothing was changed after it. See "
                    f"gluster volume status {name}, and the brick's log on its host (/var/log/glusterfs/bricks/); "
                    "once it is online, run again, which waits for their heal"
                )
            time.sleep(next(pauses))

    def poll(self, what, done, timeout):
        deadline = time.monotonic() + timeout
        pauses = paced(*POLL_SECONDS)
        while True:
            state = done()
            if state is not None:
                return state
            if time.monotonic() >= deadline:
                self.fail(
                    f"{what} not done after {timeout} s; it goes on in the background, and the next run waits "
                    "for it again"
                )
            time.sleep(next(pauses))

    def wait_migrated(self, name, bricks, hosts):
        """Until the migration of `bricks` completed on every node that hosts one of them
        (`hosts`: glusterd UUIDs; a node `remove-brick status` does not list is not done);
        fails (committing nothing) on any failed or skipped file."""

        def migrated():
            nodes = self.cli.remove_brick_status(name, bricks)
            listed = {n.node_id for n in nodes}
            if any(n.running for n in nodes) or not nodes or not hosts <= listed:
                return None
            bad = [n for n in nodes if not n.clean]
            if bad:
                rows = "; ".join(f"{n.name}: {n.status_str}, {n.failures} failures, {n.skipped} skipped" for n in bad)
                self.fail(
                    f"the migration off {', '.join(bricks)} did not move every file ({rows}). Nothing was "
                    f"committed: the files are still in volume {name}. See gluster volume remove-brick {name} "
                    f"{' '.join(bricks)} status and the rebalance log on those nodes; fix the cause, end this "
                    f"migration (gluster volume remove-brick {name} {' '.join(bricks)} stop), then run again: it "
                    "starts a new one."
                )
            return nodes

        self.poll(
            f"the migration off {', '.join(bricks)} (on every node that hosts one of them)",
            migrated,
            self.params["timeout"],
        )


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "hosts": {"type": "list", "elements": "str", "required": True},
            "spares": {"type": "list", "elements": "str", "default": []},
            "failure_domains": {"type": "dict", "default": {}},
            "space_margin": {"type": "float", "default": 0.2},
            "timeout": {"type": "int", "default": 3600},
            "lost": {"type": "bool", "default": False},
            "wait_heal": {"type": "bool", "default": True},
            "checked_plan": {"type": "dict"},
            "spare_room": {"type": "dict", "default": {}},
            **HEAL_OPTIONS,
            **LOCK_OPTIONS,
        },
        supports_check_mode=True,
    )
    drain = Drain(module)
    if not module.params["wait_heal"] and not module.params["lost"]:
        drain.fail("wait_heal=false goes with lost=true only: a live drain waits for each brick's heal before the next")
    with held_by(module):
        try:
            result = drain.run()
        except GlusterError as exc:
            module.fail_json(**exc.fail_kwargs(), **drain.result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
