#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gluster_volume_info
short_description: Report a GlusterFS volume, its bricks' processes and its last rebalance
version_added: "0.1.0"
description:
  - Reads C(volume info), and for a started volume C(volume status) and C(volume rebalance status),
    all in XML mode. Read-only.
  - Also returns the pool as this host's glusterd sees it (C(pool list), a local read), so that one
    call tells whether a change left every peer in the pool and every brick online.
options:
  name:
    description: Name of the volume.
    type: str
    required: true
extends_documentation_fragment:
  - ganeti_gluster.cluster.attributes.info_module
seealso:
  - module: ganeti_gluster.cluster.gluster_volume
author:
  - ganeti_gluster.cluster developers (@ganeti-gluster)
"""

EXAMPLES = r"""
- name: Read the volume
  ganeti_gluster.cluster.gluster_volume_info:
    name: gv0
  register: gv0

- name: Every brick is online
  ansible.builtin.assert:
    that: gv0.bricks | rejectattr('online') | list | length == 0
"""

RETURN = r"""
peers:
  description: Every peer, this host included, as RV(ganeti_gluster.cluster.gluster_pool_info#module:peers)
    gives it without the C(addresses) and C(bricks) of each.
  returned: always
  type: list
  elements: dict
  sample:
    - uuid: e1bdcbc9-ad46-4cd2-b8f2-5b6903378063
      hostname: node2
      hostnames:
        - node2
      connected: true
      state: 3
      state_str: Peer in Cluster
      local: false
      in_cluster: true
exists:
  description: Whether the volume exists.
  returned: always
  type: bool
  sample: true
volume:
  description: The volume as in RV(ganeti_gluster.cluster.gluster_volume#module:volume).
  returned: when it exists
  type: dict
  sample:
    name: gv0
    id: 1d1779f0-2d14-4383-8acd-1acb3e82209a
    status: Started
    type: Replicate
    brick_count: 3
    distribute_count: 1
    replica_count: 3
    arbiter_count: 0
    disperse_count: 0
    redundancy_count: 0
    bricks:
      - node1:/bricks/b1/brick
      - node2:/bricks/b1/brick
      - node3:/bricks/b1/brick
    options:
      cluster.granular-entry-heal: 'on'
      nfs.disable: 'on'
bricks:
  description: Each brick of the volume with its process state (offline when the volume is stopped).
  returned: when it exists
  type: list
  elements: dict
  sample:
    - name: node1:/bricks/b1/brick
      host_uuid: 5ce3b234-9c83-451b-861c-2a998baa4118
      arbiter: false
      online: true
  contains:
    name:
      description: The brick as C(HOST:/path).
      type: str
    host_uuid:
      description: UUID of the peer that holds it.
      type: str
    arbiter:
      description: Whether it is an arbiter brick.
      type: bool
    online:
      description: Whether its brick process runs.
      type: bool
rebalance:
  description: The last rebalance of a started, distributed volume, or null when there was none.
  returned: when it exists
  type: dict
  sample:
    task_id: fdd67b17-1535-4cfc-9052-2690b31582d4
    status: fix-layout completed
    failures: 0
    files: 0
    failed_nodes: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    GlusterCli,
    GlusterError,
    GlusterOpError,
    no_rebalance_on_record,
)


def main():
    module = AnsibleModule(argument_spec={"name": {"type": "str", "required": True}}, supports_check_mode=True)
    name = module.params["name"]
    cli = GlusterCli(module)
    try:
        peers = [p.as_dict() for p in cli.pool_list()]
        volume = cli.volume(name)
        if volume is None:
            module.exit_json(changed=False, exists=False, peers=peers)
        online = set()
        rebalance = None
        if volume.started:
            online = {(b.peer_uuid, b.path) for b in cli.volume_status(name) if b.online}
            if volume.is_distributed:
                try:
                    rebalance = cli.rebalance_status(name)
                except GlusterOpError as exc:
                    if not no_rebalance_on_record(exc):
                        raise
                    rebalance = None  # none on record
    except GlusterError as exc:
        module.fail_json(**exc.fail_kwargs())
    bricks = [
        {"name": b.name, "host_uuid": b.host_uuid, "arbiter": b.is_arbiter, "online": (b.host_uuid, b.path) in online}
        for b in volume.bricks
    ]
    module.exit_json(
        changed=False,
        peers=peers,
        exists=True,
        volume=volume.as_dict(),
        bricks=bricks,
        rebalance=rebalance.as_dict() if rebalance else None,
    )


if __name__ == "__main__":
    main()
