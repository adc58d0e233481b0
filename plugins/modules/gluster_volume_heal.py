#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gluster_volume_heal
short_description: Start self-heal on GlusterFS volumes and wait until nothing is left to heal
version_added: "0.2.0"
description:
  - For each replicated or dispersed volume in O(volumes) (all of the pool's when empty), the sets to
    watch are those holding a brick of one of O(hosts) (every set when O(hosts) is empty). Hosts are
    matched to bricks by glusterd UUID, so a host may be named otherwise than the volume names it.
  - Reads heal info for those sets. When an entry is pending or possibly healing, the module starts the
    self-heal daemons' crawl (C(gluster volume heal VOL)) rather than leave it to their next crawl (every
    C(cluster.heal-timeout), 600 s), then reads heal info until those sets have nothing pending, in
    split-brain or possibly healing. Whenever nothing progresses for O(heal_retrigger_after) seconds it
    starts the index crawl again (never a full crawl, which walks every file of every brick; the bricks
    were only down, and what they missed is in the index); with no progress for O(heal_stall_timeout) seconds, or
    after O(timeout), it fails with the counts. This is the wait C(gluster_volume_drain) does after a
    replace-brick, and what Gluster's upgrade guide asks after each server comes back.
  - Refuses, before starting any crawl, when a brick of a set to watch is offline (heal cannot end
    without it; start it first), a set has entries in split-brain, a volume named in O(volumes) is not
    started, or, when something is to heal, its self-heal daemon is switched off (glusterd would start no
    crawl).
  - Distribute volumes have nothing to heal and are skipped, and so, with a warning, is a volume that is
    not started when O(volumes) is empty (nothing is written to it, nor healed, while it is stopped).
  - C(changed) is true when a crawl was started (something was to heal). In check mode the module reads
    and reports the counts, and starts nothing.
options:
  volumes:
    description: The volumes to heal; every replicated or dispersed volume of the pool when empty.
    type: list
    elements: str
    default: []
  hosts:
    description:
      - Hosts whose sets are watched (a host that came back after a restart, as the pool or the volume names
        it, by an address of its own, or by its glusterd UUID). Every set when empty.
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds to wait for each volume's heal before failing (heal goes on in the background).
    type: int
    default: 3600
extends_documentation_fragment:
  - ganeti_gluster.cluster.attributes.action_module
  - ganeti_gluster.cluster.heal_wait
seealso:
  - module: ganeti_gluster.cluster.gluster_volume_health
  - module: ganeti_gluster.cluster.gluster_volume_drain
author:
  - ganeti_gluster.cluster developers (@ganeti-gluster)
"""

EXAMPLES = r"""
- name: Heal what node2 missed while it was down
  ganeti_gluster.cluster.gluster_volume_heal:
    hosts: [node2]

- name: Heal volume gv0 everywhere, failing after 20 minutes
  ganeti_gluster.cluster.gluster_volume_heal:
    volumes: [gv0]
    timeout: 1200
"""

RETURN = r"""
volumes:
  description: Each volume looked at, with the sets watched and what heal info showed first.
  returned: always
  type: list
  elements: dict
  sample:
    - name: gv0
      sets: [0, 1]
      entries: 49
      healed: true
heal:
  description: Each wait for heal, as it ended (or where it stood when the module failed).
  returned: always
  type: list
  elements: dict
  sample:
    - volume: gv0
      sets: [0, 1]
      seconds: 12.5
      entries_first: 49
      entries_fewest: 0
      healed_bytes: null
      retriggered: 0
      seconds_without_progress: 0.0
commands:
  description: The crawls started (argv lists), in order.
  returned: always
  type: list
  elements: list
  sample: [["/usr/sbin/gluster", "--mode=script", "volume", "heal", "gv0"]]
"""

import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import GlusterCli, GlusterError
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.heal_wait import HEAL_OPTIONS, HealWaiter
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.health import self_heal_switched_off, volume_kind
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.hosts import peer_of


def watched_sets(volume, uuids):
    """Indices of the sets of `volume` holding a brick of a host in `uuids` (every set when None)."""
    size = volume.set_size
    return sorted({i // size for i, brick in enumerate(volume.bricks) if uuids is None or brick.host_uuid in uuids})


def set_bricks(volume, indices):
    size = volume.set_size
    return [b for i in indices for b in volume.bricks[i * size : (i + 1) * size]]


class Heal:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.cli = GlusterCli(module)
        self.commands = []
        self.labels = {}
        self.result = {"changed": False, "volumes": [], "heal": [], "commands": self.commands}
        self.waiter = HealWaiter.for_module(module, self.cli, self.commands, self.result["heal"], self.fail)

    def fail(self, msg, **extra):
        self.module.fail_json(msg=msg, **self.result, **extra)

    def host_uuids(self, peers):
        """glusterd UUIDs of the hosts named, or None for every set; a name no peer answers to fails."""
        if not self.params["hosts"]:
            return None
        uuids, unknown = set(), []
        for host in self.params["hosts"]:
            peer = peer_of(host, peers)
            if peer is None:
                unknown.append(host)
            else:
                uuids.add(peer.uuid)
                if host == peer.uuid or peer.is_local:
                    # Named by its UUID, or this host: messages name it as the pool does.
                    self.labels[host] = socket.getfqdn() if peer.is_local else peer.hostname
        if unknown:
            self.fail(
                f"{', '.join(unknown)}: no peer of the pool by that name or address (the pool has "
                f"{', '.join(sorted(p.hostname for p in peers))}); name hosts as `gluster pool list` does"
            )
        return uuids

    def chosen_volumes(self):
        volumes = self.cli.volumes()
        wanted = self.params["volumes"]
        missing = sorted(set(wanted) - {v.name for v in volumes})
        if missing:
            self.fail(f"no volume {', '.join(missing)} in the pool (it has {', '.join(v.name for v in volumes)})")
        return [v for v in volumes if not wanted or v.name in wanted]

    @property
    def cause(self):
        """What made the heal, for messages."""
        hosts = [self.labels.get(h, h) for h in self.params["hosts"]]
        return f"{', '.join(hosts)} came back" if hosts else "the last change"

    def run(self):
        peers = self.cli.pool_list()
        uuids = self.host_uuids(peers)
        plans = []
        # Everything read and judged first: a refusal starts no crawl anywhere.
        for volume in self.chosen_volumes():
            if volume.set_size < 2:
                continue
            indices = watched_sets(volume, uuids)
            if not indices:
                continue
            if not volume.started:
                if self.params["volumes"]:
                    self.fail(f"volume {volume.name} is not started; start it (gluster volume start {volume.name})")
                # Nothing is written to it, nor healed, while it is stopped: its heal is its start's.
                self.module.warn(
                    f"volume {volume.name} is not started: not healed now; once started (gluster volume start "
                    f"{volume.name}), see gluster volume heal {volume.name} info"
                )
                continue
            members = {b.name for b in set_bricks(volume, indices)}
            status = self.cli.volume_status(volume.name)
            # A brick whose host is down is not listed at all.
            offline = [b.name for b in status if b.name in members and not b.online]
            offline += sorted(members - {b.name for b in status})
            if offline:
                self.fail(
                    f"bricks {', '.join(sorted(set(offline)))} of volume {volume.name} are offline: heal cannot end "
                    f"without them. Start them (gluster volume start {volume.name} force starts a volume's "
                    "offline bricks; see the brick's log under /var/log/glusterfs/bricks/ when it does not stay up), "
                    "then run again. No crawl was started."
                )
            sample = self.waiter.sample_patiently(volume.name, indices, with_bytes=False)
            if sample.split_brain:
                self.fail(
                    f"volume {volume.name} has {sample.split_brain} entries in split-brain on sets "
                    f"{', '.join(map(str, indices))}; resolve them (gluster volume heal {volume.name} info "
                    "split-brain), then run again. No crawl was started."
                )
            entry = {"name": volume.name, "sets": indices, "entries": sample.entries, "healed": sample.entries == 0}
            self.result["volumes"].append(entry)
            if sample.entries != 0:
                switched_off = self_heal_switched_off(volume_kind(volume), volume.options)
                if switched_off:
                    option, value = switched_off
                    self.fail(
                        f"the self-heal daemon of volume {volume.name} is switched off ({option} {value}): glusterd "
                        f"starts no crawl, and files heal only when a client reads them. Turn it on (gluster volume "
                        f"set {volume.name} {option} {'enable' if value.strip().lower() == 'disable' else 'on'}), then "
                        "run again. No crawl was started."
                    )
                plans.append((volume, indices, entry))
        if self.module._diff:
            self.result["diff"] = {
                "before": {v["name"]: v["entries"] for v in self.result["volumes"]},
                "after": {v["name"]: 0 for v in self.result["volumes"]},
            }
        # No bytes are watched: the bricks of a host that came back grow with the clients' writes too.
        for volume, indices, entry in plans:
            self.result["changed"] = True
            if self.module.check_mode:
                self.commands.append(self.cli.heal_argv(volume.name))
                continue
            self.waiter.wait(volume.name, indices, after=self.cause)
            entry["healed"] = True
        return self.result


def main():
    module = AnsibleModule(
        argument_spec={
            "volumes": {"type": "list", "elements": "str", "default": []},
            "hosts": {"type": "list", "elements": "str", "default": []},
            "timeout": {"type": "int", "default": 3600},
            **HEAL_OPTIONS,
        },
        supports_check_mode=True,
    )
    heal = Heal(module)
    try:
        result = heal.run()
    except GlusterError as exc:
        module.fail_json(**exc.fail_kwargs(), **heal.result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
