#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gluster_volume
short_description: Create, expand, start, stop and delete a GlusterFS volume, with safe brick placement
version_added: "0.1.0"
description:
  - Runs on one member of the trusted pool (use C(run_once)).
  - Creates the volume from O(bricks) when it does not exist. When it exists and O(bricks) lists
    bricks it does not have, expands it by whole replica or disperse sets, appended after the
    existing sets, which are never changed.
  - New bricks are ordered into sets whose members are on distinct hosts, and on distinct failure
    domains (O(failure_domains)) whenever the new bricks allow it. When no such order exists the
    module fails before touching the cluster and says what is missing.
  - Bricks that are in the volume but not in O(bricks) are reported in RV(unmanaged_bricks), never
    removed.
  - After an expansion of a distributed volume it runs the rebalance asked for in O(rebalance) and
    waits for it. A rebalance that was interrupted (or timed out) is picked up by the next run; the
    pending work is recorded in the volume option C(user.ganeti-gluster.rebalance) (V(pending fix-layout),
    V(pending full) or V(done)). Any other value there fails the run before it changes anything.
  - While a rebalance pass runs (an interrupted run's, or one started by hand) the module changes
    nothing; it waits for the pass to end first.
options:
  name:
    description: Name of the volume.
    type: str
    required: true
  state:
    description:
      - V(present) the volume exists (a new volume is left created but not started; an existing one
        keeps its run state); V(started) it exists and is started; V(stopped) it exists and is stopped;
        V(absent) it is stopped and deleted (the data on the bricks stays).
    type: str
    choices: [present, started, stopped, absent]
    default: present
  bricks:
    description:
      - The volume's bricks as C(HOST:/path). Required to create a volume.
      - HOST must be a member of the pool (C(Peer in Cluster)) or the host the module runs on.
      - The order only matters within a host; the module decides the set layout.
    type: list
    elements: str
  replica:
    description:
      - Bricks per replica set, the arbiter included (C(volume info)'s replicaCount). V(1) or unset
        means a distribute volume, unless O(disperse) is set.
      - For an existing volume, it must match; this module does not change a volume's replica count.
    type: int
  arbiter:
    description: V(1) makes the last brick of every replica set an arbiter (metadata only). Needs O(replica=3).
    type: int
    choices: [0, 1]
  disperse:
    description: Bricks per disperse (erasure-coded) set, redundancy included.
    type: int
  redundancy:
    description: Bricks per disperse set that may be lost without losing data.
    type: int
  options:
    description:
      - Volume options (C(gluster volume set)). Only the options listed here are managed; others are
        left as they are. Booleans become C(on) and C(off).
      - Each by its full name, as C(gluster volume get VOLUME all) lists it (C(cluster.quorum-type)), which
        is how glusterd keeps it; C(group) names one of glusterd's option groups (C(virt) for VM images),
        read from C(/var/lib/glusterd/groups) and compared option by option.
      - On an existing volume they are set before new bricks are added, so that one glusterd refuses fails
        the run with no brick added.
    type: dict
    default: {}
  failure_domains:
    description:
      - Map of brick host to failure domain (rack, zone). Sets are spread across domains when the new
        bricks allow it; otherwise across hosts, with a warning.
    type: dict
    default: {}
  rebalance:
    description:
      - What to run after an expansion of a distributed volume. V(fix-layout) only lets new files
        land on the new bricks; V(full) also moves existing files, in passes until one moves nothing;
        V(none) runs nothing.
      - A pure replicate or disperse volume (one set) is never rebalanced.
    type: str
    choices: [none, fix-layout, full]
    default: fix-layout
  rebalance_timeout:
    description:
      - Seconds to wait for each pass of the rebalance (a C(full) rebalance may run several). When they run
        out the task fails, the bricks already added; the pass goes on, and the next run waits for it again.
    type: int
    default: 1800
  rebalance_background_after:
    version_added: 0.2.0
    description:
      - Seconds from the module's start after which it stops waiting for the rebalance, for a caller whose own
        time is limited (the node-add hook, which Ganeti waits for). The module then returns with a warning and
        RV(rebalance.in_background); the pass goes on in the background (a pass not started by then is not
        started), the rebalance mark stays pending, and the next run of this module waits for the pass and
        finishes what is owed. Without it, a caller that gives up first leaves the module running, and holding
        the pool's lock, until O(rebalance_timeout).
      - When a pass of an earlier run still runs by then and this run has a change to make, the task fails
        having changed nothing (glusterd refuses C(add-brick) while a pass runs).
    type: float
  root_bricks:
    description:
      - Bricks of O(bricks), as C(HOST:/path), that are directories on their host's root filesystem,
        which glusterd refuses without C(force).
      - C(volume create) or C(volume add-brick) gets C(force) only when a brick it creates or adds is
        listed here. C(force) also turns off glusterd's other checks for every brick of that command
        (that a brick is not part of a volume, that its filesystem is mounted), so check the bricks
        just before (the gluster_pool role reads them with M(ganeti_gluster.cluster.gluster_brick_info)
        on their hosts and refuses a brick that carries a volume id).
      - Each must be one of O(bricks) (the same host, under any of its names, and path).
    type: list
    elements: str
    default: []
  arbiter_bricks:
    description:
      - Bricks of O(bricks), as C(HOST:/path), that are to be arbiters (O(arbiter=1)), which hold only
        metadata and may sit on a small disk. Each new set then gets one of them last, where Gluster puts
        its arbiter; as many must be listed as new sets are made. Bricks already in the volume are left
        as they are.
      - Empty, the last brick of each new set as placed is its arbiter.
    type: list
    elements: str
    default: []
    version_added: 0.2.0
  force:
    description:
      - Deprecated, use O(root_bricks). V(true) passes C(force) to every C(volume create) and
        C(volume add-brick), which turns off all of glusterd's brick checks, not only the one for
        the root filesystem. Placement is checked all the same.
    type: bool
extends_documentation_fragment:
  - ganeti_gluster.cluster.attributes.ACTION_MODULE
  - ganeti_gluster.cluster.pool_lock
seealso:
  - module: ganeti_gluster.cluster.gluster_peer
  - module: ganeti_gluster.cluster.gluster_brick
author:
  - ganeti_gluster.cluster developers (@ganeti-gluster)
"""

EXAMPLES = r"""
- name: Create and start a replica 3 volume
  ganeti_gluster.cluster.gluster_volume:
    name: gv0
    state: started
    replica: 3
    bricks:
      - node1:/bricks/b1/brick
      - node2:/bricks/b1/brick
      - node3:/bricks/b1/brick
    options:
      cluster.quorum-type: auto
  run_once: true

- name: Grow it with node4 and spare bricks on node1 and node2
  ganeti_gluster.cluster.gluster_volume:
    name: gv0
    state: started
    replica: 3
    bricks:
      - node1:/bricks/b1/brick
      - node2:/bricks/b1/brick
      - node3:/bricks/b1/brick
      - node4:/bricks/b1/brick
      - node1:/bricks/b2/brick
      - node2:/bricks/b2/brick
    rebalance: fix-layout
  run_once: true
"""

RETURN = r"""
volume:
  description: The volume after the run (before it, in check mode); absent when there is none.
  returned: when the volume exists
  type: dict
  sample:
    name: gv0
    id: 05ef83ec-3e04-4f1b-9398-191360c8fac3
    status: Started
    type: Distributed-Replicate
    brick_count: 6
    distribute_count: 2
    replica_count: 3
    arbiter_count: 0
    disperse_count: 0
    redundancy_count: 0
    bricks: [node1:/bricks/b1/brick]
    options: {cluster.quorum-type: auto}
added_bricks:
  description: Bricks added by this run, in the order given to gluster (set after set).
  returned: always
  type: list
  elements: str
  sample:
    - node4:/bricks/b1/brick
    - node5:/bricks/b1/brick
    - node6:/bricks/b1/brick
unmanaged_bricks:
  description: Bricks in the volume that O(bricks) does not list. Reported, never removed.
  returned: always
  type: list
  elements: str
  sample:
    []
commands:
  description: The C(gluster) commands run, or in check mode those that would run, as argv lists.
  returned: always
  type: list
  elements: list
  sample:
    - - /usr/sbin/gluster
      - --mode=script
      - --xml
      - volume
      - add-brick
      - gv0
      - replica
      - '3'
      - node4:/bricks/b1/brick
      - node5:/bricks/b1/brick
      - node6:/bricks/b1/brick
    - - /usr/sbin/gluster
      - --mode=script
      - --xml
      - volume
      - rebalance
      - gv0
      - fix-layout
      - start
rebalance:
  description: The rebalance run or waited for by this run.
  returned: when a rebalance ran
  type: dict
  sample:
    task_id: 0b0c9f5e-5d1e-4f4e-9a57-6f7d1d3c2a10
    status: fix-layout completed
    failures: 0
    files: 0
    failed_nodes: []
    passes: 1
  contains:
    task_id:
      description: Gluster's rebalance task id.
      type: str
    status:
      description: Final status as gluster words it.
      type: str
    failures:
      description: Files the rebalance failed to handle.
      type: int
    files:
      description: Files the last pass moved.
      type: int
    failed_nodes:
      description: Nodes whose rebalance process failed or stopped in the last pass.
      type: list
      elements: str
    in_background:
      version_added: 0.2.0
      description:
        - The run stopped waiting at O(rebalance_background_after); the other keys then tell of the pass
          left running as last read (C(status) V(not started) when none was started), the mark stays
          pending and the next run finishes the rebalance.
      type: bool
      returned: when the run stopped waiting
    passes:
      description:
        - Passes run. A V(full) rebalance runs again (up to 4 passes) until a pass moves no file,
          because one pass can leave files where clients do not find them by name (gluster/glusterfs#973).
          Either kind runs again while a pass fails on some file or directory (a V(fix-layout) that failed on
          a directory leaves its layout without the new sets). When the 4th pass still moved or failed on
          something, the mark stays pending and the next run goes on.
      type: int
"""

import os
import time
from dataclasses import dataclass

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.brick_placement import (
    BrickRef,
    Layout,
    PlacementError,
    plan_sets,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.cli_common import backoff
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    VOLUME_NAME,
    GlusterCli,
    GlusterError,
    GlusterOpError,
    add_brick_args,
    no_rebalance_on_record,
    rebalance_process_unanswered,
    rebalance_start_args,
    volume_create_args,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.hosts import find_peer, is_this_host
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.pool_lock import LOCK_OPTIONS, held_by
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.rebalance_mark import DONE as DONE_MARK
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.rebalance_mark import (
    NOT_STARTED,
    NOTHING,
    STILL_MOVING,
    BricksAdded,
    MarkError,
    PassFinished,
    PassRunning,
    Settled,
    step,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.rebalance_mark import OPTION as REBALANCE_MARK
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.rebalance_mark import parse as parse_mark

# The options that name some of the bricks, and what they say of them.
LISTED_MEANS = {
    "root_bricks": "may sit on the root filesystem",
    "arbiter_bricks": "are to be arbiters",
}

# glusterd's option groups (`volume set VOL group NAME`): one file of KEY=VALUE lines each.
OPTION_GROUP_DIR = "/var/lib/glusterd/groups"

POLL_SECONDS = (0.25, 2.0)
BRICKS_ONLINE_TIMEOUT = 60
PASS_ATTEMPTS = 3
STATUS_UNANSWERED_TIMEOUT = 30
# How long a node with a brick may stay unlisted by `rebalance status` once no listed
# node runs. Seen on the lab: a new node's process listed after the others had
# completed. One never listed did not start (its glusterd may not yet know the brick
# as its own) or does not answer.
UNLISTED_GRACE = 60


@dataclass(frozen=True)
class PassWait:
    """How the wait for one rebalance pass ended."""

    status: object  # its last Rebalance status; None when glusterd never showed this pass
    unlisted: tuple = ()  # brick hosts not listed for UNLISTED_GRACE once no listed node ran
    other_task: str = ""  # the task glusterd showed instead of this pass, all that while


class StoppedWaiting(Exception):
    """The time to stop waiting (rebalance_background_after) came first."""

    def __init__(self, status=None, task_id="", last=""):
        super().__init__(status, task_id, last)
        # The pass left running; or none started, `last` saying why the last one is started again.
        self.status, self.task_id, self.last = status, task_id, last


def pass_problem(wait):
    """What went wrong with a pass, as the module words it after "rebalance of VOL"."""
    if wait.other_task:
        return f"was not shown by glusterd, which showed task {wait.other_task} instead, for {UNLISTED_GRACE}s"
    if wait.unlisted:
        return (
            f"was not listed on {', '.join(wait.unlisted)} for {UNLISTED_GRACE}s once no listed node ran "
            "(its rebalance process did not start or does not answer)"
        )
    return f"{wait.status.status_str} on {', '.join(wait.status.failed_nodes) or 'some node'}"


TRUE_WORDS = {"on", "yes", "true", "enable", "enabled", "1"}
FALSE_WORDS = {"off", "no", "false", "disable", "disabled", "0"}


def option_value(value):
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def read_option_group(module, name):
    """The options of glusterd's group NAME (GROUP_DIR/NAME, KEY=VALUE lines), as
    `volume set VOL group NAME` sets them."""
    path = os.path.join(OPTION_GROUP_DIR, name)
    if "/" in name or not os.path.isfile(path):
        module.fail_json(msg=f"option group {name!r}: glusterd has no {path}; nothing was done")
    with open(path, encoding="utf-8") as group:
        pairs = [line.strip().split("=", 1) for line in group if "=" in line and not line.lstrip().startswith("#")]
    return {key.strip(): value.strip() for key, value in pairs}


def same_option_value(current, wanted):
    if current is None:
        return False
    a, b = current.strip().lower(), wanted.strip().lower()
    return a == b or (a in TRUE_WORDS and b in TRUE_WORDS) or (a in FALSE_WORDS and b in FALSE_WORDS)


def state_of(volume):
    if volume is None:
        return "absent"
    return "started" if volume.started else "stopped"


class VolumeRun:
    """One run of the module: read, plan, then act (or, in check mode, only report)."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.cli = GlusterCli(module)
        self.commands = []
        self.result = {"changed": False, "added_bricks": [], "unmanaged_bricks": [], "commands": self.commands}
        self.volume = None  # as read at the start of the run
        self.owed = NOTHING  # the rebalance the mark owes (rebalance_mark)
        self.settled = False
        after = self.params["rebalance_background_after"]
        self.stop_waiting_at = None if after is None else time.monotonic() + after

    # -- acting ------------------------------------------------------------

    def time_is_up(self):
        return self.stop_waiting_at is not None and time.monotonic() >= self.stop_waiting_at

    def act(self, *args):
        """Run a mutating gluster command, or only record it in check mode."""
        try:
            self.settle()
        except StoppedWaiting:
            self.module.fail_json(
                msg=f"a rebalance pass of volume {self.params['name']} from an earlier run still runs, and this run "
                "stopped waiting for it (rebalance_background_after): glusterd changes nothing on the volume while "
                "a pass runs. Nothing was changed; the next run waits for the pass, then goes on.",
                **self.result,
            )
        self.commands.append(self.cli.argv(*args))
        answer = None if self.module.check_mode else self.cli.run(*args)
        # Only once it succeeded: a command glusterd refused changed nothing.
        self.result["changed"] = True
        return answer

    # -- validation --------------------------------------------------------

    def validate(self):
        p = self.params
        fail = self.module.fail_json
        if not VOLUME_NAME.match(p["name"]):
            fail(msg=f"volume name {p['name']!r} must be 1 to 64 letters, digits, '-' or '_'")
        try:
            self.bricks = [BrickRef.parse(b) for b in p["bricks"] or []]
        except PlacementError as exc:
            fail(msg=str(exc))
        self.listed = {}
        for option in LISTED_MEANS:
            try:
                self.listed[option] = [BrickRef.parse(b) for b in p[option]]
            except PlacementError as exc:
                fail(msg=f"{option}: {exc}")
        if p["replica"] is not None and p["replica"] < 1:
            fail(msg=f"replica must be 1 or more, not {p['replica']}")
        if p["arbiter"] and p["replica"] != 3:
            fail(msg=f"arbiter 1 needs replica 3 (two data bricks and the arbiter per set), not replica {p['replica']}")
        if p["disperse"] is not None:
            if p["disperse"] < 3:
                fail(msg=f"disperse must be 3 or more bricks per set, not {p['disperse']}")
            if p["redundancy"] < 1 or 2 * p["redundancy"] >= p["disperse"]:
                fail(
                    msg=f"redundancy must be at least 1 and less than half of disperse {p['disperse']}, "
                    f"not {p['redundancy']}"
                )
        if p["rebalance_timeout"] < 0:
            fail(msg=f"rebalance_timeout must be 0 or more seconds, not {p['rebalance_timeout']}")
        bad_domains = [h for h, d in p["failure_domains"].items() if not isinstance(d, str) or not d]
        if bad_domains:
            fail(msg=f"failure_domains must map hosts to names; bad entries for {', '.join(bad_domains)}")
        self.wanted_options = self.expand_options(p["options"])

    def expand_options(self, options):
        """{option: value} as `volume info` lists them once set: `group NAME` is the options of
        glusterd's group file (the CLI sets each of them); a key must be given by its full name,
        which is how glusterd keeps it (it completes `quorum-type` to `cluster.quorum-type`)."""
        self.group = option_value(options["group"]) if "group" in options else None
        self.grouped = read_option_group(self.module, self.group) if self.group else {}
        wanted = dict(self.grouped)
        for key in options:
            if key != "group" and "." not in key:
                self.module.fail_json(
                    msg=f"option {key!r}: give its full name, as `gluster volume get VOLUME all` lists it "
                    "(cluster.quorum-type, not quorum-type); nothing was done"
                )
        wanted.update({k: option_value(v) for k, v in options.items() if k != "group"})
        return wanted

    def layout_for(self, volume):
        """The layout to place new bricks with; for an existing volume, checked against it."""
        p = self.params
        wanted = Layout(
            replica=p["replica"] or 1,
            arbiter=p["arbiter"] or 0,
            disperse=p["disperse"] or 0,
            redundancy=p["redundancy"] or 0,
        )
        if volume is None:
            return wanted
        actual = Layout(
            replica=volume.replica_count if not volume.disperse_count else 1,
            arbiter=volume.arbiter_count,
            disperse=volume.disperse_count,
            redundancy=volume.redundancy_count,
        )
        given = {
            "replica": p["replica"],
            "arbiter": p["arbiter"],
            "disperse": p["disperse"],
            "redundancy": p["redundancy"],
        }
        mismatched = [
            f"{k} {v} (volume has {getattr(actual, k)})"
            for k, v in given.items()
            if v is not None and v != getattr(actual, k)
        ]
        if mismatched:
            self.module.fail_json(
                msg=f"volume {volume.name} is {actual.describe()}; this module does not change a volume's layout, "
                f"but the task asks for {', '.join(mismatched)}. Fix the task's parameters."
            )
        return actual

    # -- reading -----------------------------------------------------------

    def brick_key(self, brick, peers, local_uuid):
        """(host uuid, path) for a wanted brick; fails when its host is not in the pool."""
        if is_this_host(brick.host):
            return (local_uuid, brick.path)
        peer = find_peer(brick.host, peers)
        if peer is None:
            self.module.fail_json(
                msg=f"brick host {brick.host} is not in the trusted pool; probe it first "
                "(ganeti_gluster.cluster.gluster_peer)"
            )
        if not peer.in_cluster:
            self.module.fail_json(
                msg=f"brick host {brick.host} is a peer but not in cluster ({peer.state_str or peer.state}, "
                f"{'connected' if peer.connected else 'disconnected'}); bricks can only go on connected peers"
            )
        return (peer.uuid, brick.path)

    def host_uuid(self, host, peers, local_uuid):
        """The UUID the pool knows a host by; None when it does not know the host."""
        if is_this_host(host):
            return local_uuid
        peer = find_peer(host, peers)
        return peer.uuid if peer else None

    def listed_keys(self, option, keys, peers, local_uuid):
        """(host uuid, path) of the bricks `option` lists; fails when one is not among the bricks."""
        wanted = set(keys.values())
        found, outside = set(), []
        for brick in self.listed[option]:
            # Named as in bricks, or under another name of the same host.
            key = keys.get(brick) or (self.host_uuid(brick.host, peers, local_uuid), brick.path)
            if key in wanted:
                found.add(key)
            else:
                outside.append(str(brick))
        if outside:
            self.module.fail_json(
                msg=f"{option} lists bricks that are not in bricks: {', '.join(outside)}; "
                f"it names which of the bricks {LISTED_MEANS[option]}",
                **self.result,
            )
        return found

    def settle(self):
        """Before the run's first change to a volume a rebalance pass may run on, wait for the pass to end.

        glusterd refuses add-brick and volume stop while a pass runs (captured:
        add-brick-during-rebalance.xml), and a `volume set` would change the volfile
        under the pass's rebalance processes. Only a started volume of more than one
        set has passes; in check mode nothing changes, so nothing waits. Raises
        StoppedWaiting when the time to stop waiting comes first.
        """
        if self.settled:
            return
        self.settled = True
        volume = self.volume
        if self.module.check_mode or volume is None or not volume.started or not volume.is_distributed:
            return
        status = self.current_rebalance(volume.name)
        if status is not None and status.running and step(self.owed, PassRunning()).wait:
            self.wait_rebalance(volume.name)

    # -- the run -----------------------------------------------------------

    def run(self):
        p = self.params
        name = p["name"]
        volume = self.cli.volume(name)
        self.volume = volume
        before = self.snapshot(volume)

        if p["state"] == "absent":
            if volume is not None:
                if volume.started:
                    self.act("volume", "stop", name)
                self.act("volume", "delete", name)
            return self.finish(before, None if not self.module.check_mode else volume, {"state": "absent"})

        # A mark this module did not write fails the run here, before anything changes.
        if volume is not None:
            try:
                self.owed = parse_mark(volume.options.get(REBALANCE_MARK), name)
            except MarkError as exc:
                self.module.fail_json(msg=str(exc), **self.result)

        peers = self.cli.pool_list()
        local_uuid = next(p.uuid for p in peers if p.is_local)
        layout = self.layout_for(volume)
        keys = {b: self.brick_key(b, peers, local_uuid) for b in self.bricks}
        if len(set(keys.values())) != len(keys):
            self.module.fail_json(msg="bricks list the same host and path more than once (under different names)")
        root_keys = self.listed_keys("root_bricks", keys, peers, local_uuid)
        arbiter_keys = self.listed_keys("arbiter_bricks", keys, peers, local_uuid)

        if volume is None:
            if not self.bricks:
                self.module.fail_json(msg=f"volume {name} does not exist; give its bricks to create it")
            new = self.bricks
        else:
            existing = {(b.host_uuid, b.path) for b in volume.bricks}
            new = [b for b in self.bricks if keys[b] not in existing]
            if self.bricks:
                wanted = set(keys.values())
                self.result["unmanaged_bricks"] = [b.name for b in volume.bricks if (b.host_uuid, b.path) not in wanted]
        # Hosts are told apart by glusterd UUID: node4, node4.example.com and its address are
        # one host, named as its first new brick names it.
        names = {}
        for brick in new:
            names.setdefault(keys[brick][0], brick.host)
        domains = {
            names[uuid]: domain
            for host, domain in p["failure_domains"].items()
            if (uuid := self.host_uuid(host, peers, local_uuid)) in names
        }
        try:
            plan = plan_sets(
                new,
                layout,
                domains,
                volume=name,
                host_of=lambda brick: names[keys[brick][0]],
                arbiters=[b for b in new if keys[b] in arbiter_keys],
            )
        except PlacementError as exc:
            self.module.fail_json(msg=str(exc), **self.result)
        for warning in plan.warnings:
            self.module.warn(warning)
        added = [str(b) for b in plan.bricks]
        self.result["added_bricks"] = added
        if self.result["unmanaged_bricks"]:
            self.module.warn(
                f"volume {name} has bricks the task does not list (left in place): "
                f"{', '.join(self.result['unmanaged_bricks'])}"
            )

        # force lets a brick sit on the root filesystem, and also silences glusterd's
        # other brick checks for the whole command: only when a new brick needs it.
        force = bool(p["force"]) or any(keys[b] in root_keys for b in plan.bricks)
        will_rebalance = self.rebalance_wanted(volume, layout, len(added))
        if volume is None:
            self.act(
                *volume_create_args(
                    name,
                    added,
                    replica=layout.replica,
                    arbiter=layout.arbiter,
                    disperse=layout.disperse,
                    redundancy=layout.redundancy,
                    force=force,
                )
            )
        else:
            # Before the bricks: a key or value glusterd refuses fails the run with nothing else changed.
            self.set_options(name, volume, p["options"])
        if volume is not None and added:
            # The first change: act() waits for a running pass before it.
            action = step(self.owed, BricksAdded(p["rebalance"] if will_rebalance else None))
            if action.set_mark:
                self.act("volume", "set", name, REBALANCE_MARK, action.set_mark)
            self.owed = action.owed
            self.act(*add_brick_args(name, added, replica=layout.replica if not layout.disperse else None, force=force))

        if volume is None:
            self.set_options(name, None, p["options"])

        state = p["state"]
        is_started = volume is not None and volume.started
        if state == "started" and not is_started:
            self.act("volume", "start", name)
        elif state == "stopped" and is_started:
            self.act("volume", "stop", name)

        # A rebalance this run calls for, or one an earlier run recorded and did not see through.
        self.rebalance(name, started=is_started or state == "started")

        after = self.cli.volume(name) if self.commands and not self.module.check_mode else volume
        return self.finish(before, after, self.predicted(before, added, state))

    def set_options(self, name, volume, options):
        """Set what differs from `volume info`: each option, or a group all at once."""
        current = dict(volume.options) if volume is not None else {}
        explicit = {k: option_value(v) for k, v in options.items() if k != "group"}
        # An option given as well as in the group is the given one's to set.
        if any(not same_option_value(current.get(k), v) for k, v in self.grouped.items() if k not in explicit):
            self.act("volume", "set", name, "group", self.group)
            current.update(self.grouped)
        for key, value in explicit.items():
            if not same_option_value(current.get(key), value):
                self.act("volume", "set", name, key, value)

    def rebalance_wanted(self, volume, layout, added_count):
        if self.params["rebalance"] == "none" or volume is None or not added_count:
            return False
        sets_after = (volume.brick_count + added_count) // layout.set_size
        return sets_after > 1

    def rebalance(self, name, started):
        """Run the rebalance the mark owes (this run's or an interrupted run's), in passes, then mark it done."""
        action = step(self.owed, Settled(started))
        if action.warning == NOT_STARTED:
            self.module.warn(f"volume {name} is not started: its rebalance waits for a run that starts it")
        if not action.start_pass:
            return
        # The volume as read before this run's change: one set still, unless this run added one.
        if not self.result.get("added_bricks") and self.volume is not None and not self.volume.is_distributed:
            # Owed by an add-brick that glusterd then refused, or by a volume a drain has
            # since taken back to one set: glusterd runs no rebalance on one set.
            self.module.warn(
                f"volume {name} has one set: the rebalance {REBALANCE_MARK} owed ({self.owed}) has nothing to "
                "spread; it is marked done"
            )
            self.act("volume", "set", name, REBALANCE_MARK, DONE_MARK)
            self.owed = None
            return
        if self.module.check_mode:
            self.commands.append(self.cli.argv(*rebalance_start_args(name, action.start_pass)))
            self.result["changed"] = True
            return
        passes = 0
        try:
            # An interrupted run's pass that goes on: let it finish, then run ours.
            self.settle()
            if self.time_is_up():
                raise StoppedWaiting()  # a pass started now would not be watched
            hosts = self.wait_bricks_online(name)
            while action.start_pass:
                if self.time_is_up():
                    raise StoppedWaiting()
                status = self.run_pass(name, action.start_pass, hosts)
                passes += 1
                action = step(self.owed, PassFinished(status.files, passes, status.failures))
        except StoppedWaiting as stopped:
            self.leave_in_background(name, stopped, passes)
            return
        self.result["rebalance"] = {**status.as_dict(), "passes": passes}
        if action.warning == STILL_MOVING:
            outcome = " and ".join(
                f"{verb} {count} {noun}"
                for verb, count, noun in (("moved", status.files, "files"), ("failed on", status.failures, "entries"))
                if count
            )
            self.module.warn(
                f"rebalance ({self.owed}) of {name} still {outcome} in pass {passes}, the last one a run makes; "
                f"{REBALANCE_MARK} stays 'pending {self.owed}', so the next run goes on with the passes"
                + (f" (/var/log/glusterfs/{name}-rebalance.log says why)" if status.failures else "")
            )
        if action.set_mark:
            self.act("volume", "set", name, REBALANCE_MARK, action.set_mark)
        self.owed = action.owed

    def leave_in_background(self, name, stopped, passes):
        """Report the rebalance this run stopped waiting for; its mark stays pending."""
        status = stopped.status
        if status:
            shown = status.status_str
        elif stopped.task_id:
            shown = "not shown by glusterd yet"
        else:
            shown = "not started" + (f" again (the last {stopped.last})" if stopped.last else "")
        self.module.warn(
            f"this run stopped waiting for the rebalance ({self.owed}) of {name} (rebalance_background_after); "
            f"its pass: {shown}. {REBALANCE_MARK} stays 'pending {self.owed}': the next run of this module "
            f"(site.yml, add-node.yml) waits for the pass and finishes the rebalance "
            f"(gluster volume rebalance {name} status shows it)"
        )
        self.result["rebalance"] = {
            "task_id": stopped.task_id or (status.task_id if status else ""),
            "status": shown,
            "failures": status.failures if status else 0,
            "files": status.files if status else 0,
            "failed_nodes": list(status.failed_nodes) if status else [],
            "passes": passes,
            "in_background": True,
        }

    def current_rebalance(self, name):
        try:
            return self.cli.rebalance_status(name)
        except GlusterOpError as exc:
            if no_rebalance_on_record(exc):
                return None  # for example after a restart
            raise

    def run_pass(self, name, mode, hosts):
        """Start one rebalance pass and wait for it on every node of `hosts` ({glusterd UUID: name});
        start it again when a node's process failed or a node was never listed.

        The volume is not touched while a pass runs: a `volume set` then changes the
        volfile under the rebalance processes. A process that finishes within a second
        can still be recorded as failed by its glusterd (the completion and the
        disconnect race, seen on Gluster 10.3); a rebalance is safe to start again:
        glusterd refuses the start on every connected node while a process of the
        last one runs there, and every brick host is connected again first.
        """
        problem = ""  # why the last pass is started again
        for attempt in range(1, PASS_ATTEMPTS + 1):
            if attempt > 1:
                if self.time_is_up():
                    raise StoppedWaiting(last=problem)
                hosts = self.wait_bricks_online(name)  # a node cut off may still run the last pass
            try:
                started = self.act(*rebalance_start_args(name, mode))
            except GlusterOpError as exc:
                if attempt == 1:
                    raise
                self.module.fail_json(
                    msg=f"rebalance of volume {name} {problem}, and glusterd refused to start it again: {exc}. "
                    f"See gluster volume rebalance {name} status; the volume is usable, and the next run starts "
                    "the rebalance again.",
                    **self.result,
                )
            task_id = (started.findtext("./volRebalance/task-id") or "").strip()
            wait = self.wait_rebalance(name, task_id, hosts)
            if not wait.unlisted and not wait.status.failed:
                return wait.status
            problem = pass_problem(wait)
            if attempt < PASS_ATTEMPTS:
                self.module.warn(
                    f"rebalance of {name} {problem} (attempt {attempt} of {PASS_ATTEMPTS}); starting it again"
                )
        self.module.fail_json(
            msg=f"rebalance of volume {name} {problem} {PASS_ATTEMPTS} times; "
            f"see gluster volume rebalance {name} status, and "
            f"/var/log/glusterfs/{name}-rebalance.log and glusterd.log on those nodes. The volume is usable; "
            "the next run starts the rebalance again.",
            rebalance=wait.status.as_dict() if wait.status else None,
            **self.result,
        )

    def wait_bricks_online(self, name):
        """Wait until every brick of volume `name` is online; return their hosts as {glusterd UUID: name}."""
        deadline = time.monotonic() + BRICKS_ONLINE_TIMEOUT
        pauses = backoff(*POLL_SECONDS)
        while True:
            status = self.cli.volume_status(name)
            online = {(b.peer_uuid, b.path) for b in status if b.online}
            volume = self.cli.volume(name)
            offline = [b.name for b in volume.bricks if (b.host_uuid, b.path) not in online]
            if not offline:
                return {b.host_uuid: b.host for b in volume.bricks}
            if time.monotonic() >= deadline:
                self.module.fail_json(
                    msg=f"bricks of volume {name} not online after {BRICKS_ONLINE_TIMEOUT}s: "
                    f"{', '.join(offline)}; rebalance needs every brick. The next run retries it.",
                    **self.result,
                )
            time.sleep(next(pauses))

    def wait_rebalance(self, name, task_id=None, hosts=None):
        """Wait until the rebalance (task_id's, when given) has completed, on each node of
        `hosts` ({glusterd UUID: name}) too, or failed, or until UNLISTED_GRACE seconds with
        no node of it running leave a node of `hosts` unlisted; return a PassWait. Raises
        StoppedWaiting when the time to stop waiting comes first."""
        hosts = hosts or {}
        timeout = self.params["rebalance_timeout"]
        deadline = time.monotonic() + timeout
        unanswered_since = idle_since = None
        pauses = backoff(*POLL_SECONDS)
        while True:
            # Right after a start glusterd may not list the new task yet ("Rebalance
            # not started", seen on Gluster 10.3): no answer yet, for a bounded while.
            # A node's rebalance process that is starting or exiting GlusterCli asks
            # again itself; when that still fails, its error stands.
            try:
                status = self.cli.rebalance_status(name)
                unanswered_since = None
            except GlusterOpError as exc:
                if rebalance_process_unanswered(exc):
                    raise
                if unanswered_since is None:
                    unanswered_since = time.monotonic()
                if time.monotonic() - unanswered_since >= STATUS_UNANSWERED_TIMEOUT:
                    raise
                status = None
            other_task = ""
            if status is not None and task_id and status.task_id != task_id:
                other_task, status = status.task_id, None  # glusterd still shows the previous task
            # The CLI leaves out a node whose process has not started or did not
            # answer, and then speaks for the others.
            waiting_for = set(hosts) - (status.completed_nodes if status is not None else set())
            if status is not None and status.completed and not waiting_for:
                if status.failures:
                    self.module.warn(
                        f"rebalance of {name} completed with {status.failures} failures; "
                        f"see gluster volume rebalance {name} status"
                    )
                return PassWait(status)
            if status is not None and status.failed:
                return PassWait(status)
            if status is not None and not hosts and not status.running:
                return PassWait(status)  # no node lists the pass running any more
            unlisted = tuple(sorted({hosts[uuid] for uuid in waiting_for}))
            if status is None or not status.running:
                if idle_since is None:
                    idle_since = time.monotonic()
                if waiting_for and time.monotonic() - idle_since >= UNLISTED_GRACE:
                    return PassWait(status, unlisted, other_task)
            else:
                idle_since = None
            if self.time_is_up():
                raise StoppedWaiting(status, task_id or "")
            if time.monotonic() >= deadline:
                self.module.fail_json(
                    msg=f"rebalance of volume {name} still running after {timeout}s"
                    + (f" (not yet completed on {', '.join(unlisted)})" if unlisted else "")
                    + "; it goes on in the background, and the next run waits for it again",
                    rebalance=status.as_dict() if status else None,
                    **self.result,
                )
            time.sleep(next(pauses))

    # -- reporting ---------------------------------------------------------

    def snapshot(self, volume):
        if volume is None:
            return {"state": "absent"}
        managed = {k: v for k, v in volume.options.items() if k in self.wanted_options}
        return {"state": state_of(volume), "bricks": [b.name for b in volume.bricks], "options": managed}

    def predicted(self, before, added, state):
        bricks = before.get("bricks", []) + added
        options = dict(before.get("options", {}))
        options.update(self.wanted_options)
        run_state = before["state"] if state == "present" else state
        if run_state == "absent":
            run_state = "stopped"
        return {"state": run_state, "bricks": bricks, "options": options}

    def finish(self, before, volume, predicted):
        if volume is not None:
            self.result["volume"] = volume.as_dict()
        if self.module._diff:
            self.result["diff"] = {"before": before, "after": predicted}
        self.module.exit_json(**self.result)


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "started", "stopped", "absent"], "default": "present"},
            "bricks": {"type": "list", "elements": "str"},
            "replica": {"type": "int"},
            "arbiter": {"type": "int", "choices": [0, 1]},
            "disperse": {"type": "int"},
            "redundancy": {"type": "int"},
            "options": {"type": "dict", "default": {}},
            "failure_domains": {"type": "dict", "default": {}},
            "rebalance": {"type": "str", "choices": ["none", "fix-layout", "full"], "default": "fix-layout"},
            "rebalance_timeout": {"type": "int", "default": 1800},
            "rebalance_background_after": {"type": "float"},
            "root_bricks": {"type": "list", "elements": "str", "default": []},
            "arbiter_bricks": {"type": "list", "elements": "str", "default": []},
            "force": {
                "type": "bool",
                "removed_in_version": "1.0.0",
                "removed_from_collection": "ganeti_gluster.cluster",
            },
            **LOCK_OPTIONS,
        },
        mutually_exclusive=[("replica", "disperse"), ("arbiter", "disperse"), ("force", "root_bricks")],
        required_together=[("disperse", "redundancy")],
        supports_check_mode=True,
    )
    run = VolumeRun(module)
    # Arguments first: a wrong one fails before the lock is waited for or the pool read.
    run.validate()
    # Read, compare and act under the pool's lock: another run's change cannot fall in between.
    with held_by(module):
        try:
            run.run()
        except GlusterError as exc:
            module.fail_json(**exc.fail_kwargs(), **run.result)


if __name__ == "__main__":
    main()
