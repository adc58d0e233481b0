#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gluster_volume_health
short_description: Tell whether GlusterFS volumes are healthy, degraded or unsafe to change
version_added: "0.1.0"
description:
  - Reads, in XML mode only, C(pool list), C(volume info), and for each started volume C(volume get VOL all),
    C(volume status VOL detail), C(volume status VOL), C(volume heal VOL info summary) (replicated and
    dispersed volumes), C(volume rebalance VOL status) (when a rebalance is listed),
    C(volume remove-brick VOL BRICKS status) (when a remove-brick is listed that no longer runs) and
    C(volume heal VOL info) (when an arbiter set has one data brick offline and its arbiter lists entries, or
    they could not be counted).
  - Reports per volume each brick (online, free space and inodes, heal entries pending, in split-brain and
    possibly healing; a brick heal info cannot reach has null counts and C(heal_reached=false)), each
    replica or disperse set against its quorum, the self-heal daemon per peer, the rebalance and
    remove-brick tasks, server and client quorum, and a verdict with the findings that make it.
  - "The verdict is the worst finding. C(unsafe): the volume is not started; a read failed; a set has fewer bricks
    online than its quorum (replica with C(cluster.quorum-type) auto: more than half, or exactly half including
    the set's first brick; fixed: C(cluster.quorum-count); none: one; disperse: its data bricks or
    C(disperse.quorum-count); a distribute brick: itself); a brick has entries in split-brain; server quorum is on
    and not met; entries pending heal on a set named in O(touching), or an online brick of it that heal info could
    not count; a replica set with two bricks on one host, or a disperse set with more there than its redundancy;
    an arbiter set with one data brick offline whose arbiter lists entries for heal that the online data brick
    does not (read with C(volume heal VOL info), by gfid, only then), or whose listings are incomplete: what
    changed in them may be on the offline brick alone, and Gluster serves no read of them until it is back."
  - "C(degraded): a brick offline while its set keeps quorum, or one heal info cannot reach; entries pending
    heal or possibly healing; a peer disconnected or not in the cluster; the self-heal daemon not running
    on a connected peer that holds bricks; a rebalance or remove-brick in progress, failed, or that failed
    to move files; a remove-brick that ended leaving files on the bricks it removes (failed or skipped:
    gluster refuses to commit it, and a forced commit would take them out of the volume); a brick below
    O(free_min_percent) free space or O(inodes_min_percent) free inodes."
  - C(healthy) when there is no finding. A read that fails (other than C(pool list) and C(volume info)) is an
    C(unsafe) finding naming it, and the report keeps what the other reads gave. Read-only; fails only when
    C(pool list) or C(volume info) cannot be read.
options:
  volumes:
    description: The volumes to assess; all volumes of the pool when empty.
    type: list
    elements: str
    default: []
  touching:
    description:
      - Bricks (C(HOST:/path)) or hosts that the caller is about to change, named as in C(volume info). Entries
        pending heal on a set that holds one of them make the verdict C(unsafe) rather than C(degraded).
    type: list
    elements: str
    default: []
  skip_stopped:
    description:
      - Leave the volumes that are not started out of the verdict and the reports, and name them in
        RV(skipped). A stopped volume has no client, and taking one of its hosts down cannot break it, so
        C(rolling.yml) assesses this way and rolls a pool that keeps a stopped volume (Gluster's offline
        upgrade procedure stops the volumes it covers).
    type: bool
    default: false
  free_min_percent:
    description: A brick with less free space than this percentage is a C(degraded) finding.
    type: int
    default: 10
  inodes_min_percent:
    description: A brick with fewer free inodes than this percentage is a C(degraded) finding.
    type: int
    default: 10
extends_documentation_fragment:
  - ganeti_gluster.cluster.attributes.info_module
seealso:
  - module: ganeti_gluster.cluster.gluster_volume_info
author:
  - ganeti_gluster.cluster developers (@ganeti-gluster)
"""

EXAMPLES = r"""
- name: Assess the volume before draining a host
  ganeti_gluster.cluster.gluster_volume_health:
    volumes: [gv0]
    touching: [node4]
  register: health

- name: Refuse to go on when it is unsafe
  ansible.builtin.assert:
    that: health.verdict != 'unsafe'
    fail_msg: "{{ health.reasons | join('; ') }}"
"""

RETURN = r"""
verdict:
  description: The worst verdict of all volumes assessed.
  returned: success
  type: str
  choices: [healthy, degraded, unsafe]
  sample: degraded
reasons:
  description: "Every finding as C(SUBJECT: REASON), worst volume first."
  returned: success
  type: list
  elements: str
  sample:
    - "node3:/bricks/b1/brick: brick offline (its brick process is not running)"
peers:
  description: Every peer as this host sees it (C(hostname), C(uuid), C(connected), C(state)).
  returned: success
  type: list
  elements: dict
  sample:
    - hostname: node2
      uuid: e1bdcbc9-ad46-4cd2-b8f2-5b6903378063
      connected: false
      state: Peer in Cluster
    - hostname: localhost
      uuid: 5ce3b234-9c83-451b-861c-2a998baa4118
      connected: true
      state: this host
skipped:
  description: The volumes that are not started, left out with O(skip_stopped).
  returned: success
  type: list
  elements: str
  sample: [archive]
volumes:
  description: One report per volume.
  returned: success
  type: list
  elements: dict
  sample:
    - name: hv
      type: Replicate
      status: Started
      rolling: null
      verdict: healthy
      findings: []
      bricks:
        - name: node1:/bricks/hv
          host: node1
          path: /bricks/hv
          host_uuid: 0b182932-fe5a-4f4c-8ddf-c6e339728300
          set: 0
          arbiter: false
          online: true
          listed: true
          peer_connected: true
          size_total: 270553174016
          size_free: 246663430144
          free_percent: 91.2
          inodes_total: 16777216
          inodes_free: 16357146
          inodes_free_percent: 97.5
          heal_reached: true
          heal_status: Connected
          heal_pending: 0
          split_brain: 0
          possibly_healing: 0
      sets:
        - index: 0
          bricks:
            - node1:/bricks/hv
            - node2:/bricks/hv
            - node3:/bricks/hv
          online: 3
          quorum: 2
          in_quorum: true
          heal_pending: 0
          touched: false
      self_heal:
        - host: node1
          host_uuid: 0b182932-fe5a-4f4c-8ddf-c6e339728300
          online: true
        - host: node2
          host_uuid: 809f9917-66e5-48fd-9138-e1449e0c73d5
          online: true
        - host: node3
          host_uuid: d48889f2-f5d0-43b7-9d6f-58fa117bc5a4
          online: true
      tasks: []
      quorum:
        client: auto
        server_enabled: false
        server_met: true
        server_active: 3
        server_total: 3
        server_needed: 2
  contains:
    name:
      description: The volume.
      type: str
    verdict:
      description: This volume's verdict.
      type: str
    rolling:
      version_added: 0.2.0
      description:
        - The rolling maintenance under way on the volume (the roll's id, from the mark
          M(ganeti_gluster.cluster.gluster_roll_mark) sets), or the mark as it reads when this collection never
          writes that value; V(null) when none. No run but that roll changes the pool meanwhile.
        - "It is no finding, so no verdict: the roll itself takes a node down and gates on this report."
      type: str
    findings:
      description: What makes the verdict, each with C(severity), C(subject) and C(reason).
      type: list
      elements: dict
    bricks:
      description: >-
        Each brick with C(name), C(host), C(path), C(set), C(online), C(free_percent), C(size_free),
        C(size_total), C(inodes_free_percent), C(heal_pending), C(split_brain), C(possibly_healing),
        C(heal_reached).
      type: list
      elements: dict
    sets:
      description: Each replica or disperse set with C(bricks), C(online), C(quorum), C(in_quorum), C(heal_pending).
      type: list
      elements: dict
    self_heal:
      description: The self-heal daemon on each peer holding bricks (C(host), C(online)).
      type: list
      elements: dict
    tasks:
      description: Rebalance and remove-brick tasks glusterd lists, with C(type), C(id), C(status), C(running),
        C(bricks) and, once a task has ended, C(files), C(failures), C(failed_nodes) and, for a remove-brick,
        C(skipped) (files it skipped or failed to move stay on the bricks it removes).
      type: list
      elements: dict
    quorum:
      description:
        - C(client) quorum type, and C(server_enabled), C(server_met), C(server_active), C(server_total) and
          C(server_needed) (the active peers server quorum needs).
      type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import GlusterCli, GlusterError
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.health import (
    DEGRADED,
    SEVERITY,
    peer_problems,
    peer_report,
    read_volume,
    summary,
    worst,
)


def main():
    module = AnsibleModule(
        argument_spec={
            "volumes": {"type": "list", "elements": "str", "default": []},
            "touching": {"type": "list", "elements": "str", "default": []},
            "skip_stopped": {"type": "bool", "default": False},
            "free_min_percent": {"type": "int", "default": 10},
            "inodes_min_percent": {"type": "int", "default": 10},
        },
        supports_check_mode=True,
    )
    params = module.params
    for option in ("free_min_percent", "inodes_min_percent"):
        if not 0 <= params[option] <= 100:
            module.fail_json(msg=f"{option} must be between 0 and 100, not {params[option]}")
    cli = GlusterCli(module)
    try:
        peers = cli.pool_list()
        volumes = cli.volumes()
        known = {v.name for v in volumes}
        missing = [name for name in params["volumes"] if name not in known]
        if missing:
            module.fail_json(
                msg=f"no volume {', '.join(missing)} in the pool (volumes: {', '.join(sorted(known)) or 'none'})"
            )
        wanted = [v for v in volumes if not params["volumes"] or v.name in params["volumes"]]
        skipped = [v.name for v in wanted if params["skip_stopped"] and not v.started]
        wanted = [v for v in wanted if v.name not in skipped]
        reports = [
            read_volume(
                cli,
                volume,
                peers,
                touching=params["touching"],
                free_min_percent=params["free_min_percent"],
                inodes_min_percent=params["inodes_min_percent"],
            )
            for volume in wanted
        ]
    except GlusterError as exc:
        module.fail_json(**exc.fail_kwargs())
    reports.sort(key=lambda r: -SEVERITY[r["verdict"]])
    verdict, reasons = summary(reports)
    if skipped and not reports:
        # Each volume's report judges the peers; with every volume left out, they are judged here.
        problems = peer_problems(peers)
        reasons += [f"{subject}: {reason}" for subject, reason in problems]
        verdict = worst([verdict, *([DEGRADED] if problems else [])])
    module.exit_json(
        changed=False, verdict=verdict, reasons=reasons, peers=peer_report(peers), volumes=reports, skipped=skipped
    )


if __name__ == "__main__":
    main()
