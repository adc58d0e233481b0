#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gluster_pool_info
short_description: Report the GlusterFS trusted storage pool as this host's glusterd sees it
version_added: "0.1.0"
description:
  - Runs C(gluster pool list) and C(gluster volume info) in XML mode on the host and returns
    every peer, this host included, with its UUID, names, peer state, connection state and bricks.
  - Also reports this host's names (RV(host)) and its glusterd (RV(daemon)) - whether it is
    installed, whether the host runs systemd and, there, whether the unit is enabled; a role reads
    these instead of gathering facts.
  - Read-only. Fails when glusterd does not answer, with the CLI's own message; RV(host) and
    RV(daemon) are returned then too.
options: {}
extends_documentation_fragment:
  - ganeti_gluster.cluster.attributes.info_module
notes:
  - A peer is a member of the pool when its state is 3 (C(Peer in Cluster)) and it is connected.
author:
  - ganeti_gluster.cluster developers (@ganeti-gluster)
"""

EXAMPLES = r"""
- name: Read the pool
  ganeti_gluster.cluster.gluster_pool_info:
  register: pool

- name: Fail unless every peer is in the cluster and connected
  ansible.builtin.assert:
    that: pool.peers | rejectattr('in_cluster') | list | length == 0
"""

RETURN = r"""
daemon:
  description: This host's glusterd, as far as the pool's readers need it.
  returned: always
  type: dict
  sample:
    installed: true
    systemd: true
    enabled: true
  contains:
    installed:
      description: Whether the glusterd program is on the host (C(/usr/sbin/glusterd) or on C(PATH)).
      type: bool
    systemd:
      description: Whether systemd is the host's init system (C(/run/systemd/system) exists and PID 1 is systemd).
      type: bool
    enabled:
      description: Under systemd, whether C(glusterd.service) is enabled; null elsewhere.
      type: bool
local_uuid:
  description: UUID of this host's glusterd.
  returned: success
  type: str
  sample: d1bb3fe9-15ac-4b7d-9314-0840f531343b
peers:
  description: Every member of the pool as seen from this host, this host first.
  returned: success
  type: list
  elements: dict
  sample:
    - uuid: 5ce3b234-9c83-451b-861c-2a998baa4118
      hostname: localhost
      hostnames:
        - localhost
      connected: true
      state: null
      state_str: null
      local: true
      in_cluster: true
      addresses:
        - 10.77.0.11
      bricks:
        - gv0:node1:/bricks/b1/brick
    - uuid: e1bdcbc9-ad46-4cd2-b8f2-5b6903378063
      hostname: node2
      hostnames:
        - node2
      connected: true
      state: 3
      state_str: Peer in Cluster
      local: false
      in_cluster: true
      addresses:
        - 10.77.0.12
      bricks:
        - gv0:node2:/bricks/b1/brick
  contains:
    uuid:
      description: The peer's glusterd UUID.
      type: str
    hostname:
      description: The name the peer is known by (C(localhost) for this host).
      type: str
    hostnames:
      description: Every name and address glusterd knows the peer by.
      type: list
      elements: str
    connected:
      description: Whether this host's glusterd is connected to the peer.
      type: bool
    state:
      description: The peer state number (3 is C(Peer in Cluster)); null for this host.
      type: int
    state_str:
      description: The peer state as glusterd words it; null for this host.
      type: str
    local:
      description: Whether this entry is the host the module ran on.
      type: bool
    in_cluster:
      description: Whether the peer is a full, connected member of the pool.
      type: bool
    addresses:
      description: The addresses the peer's names resolve to on this host (empty for this host).
      type: list
      elements: str
    bricks:
      description: The peer's bricks in any volume, each as C(VOLUME:HOST:PATH).
      type: list
      elements: str
roll_marks:
  version_added: 0.2.0
  description:
    - The roll mark of each volume that has one (option C(user.ganeti-gluster.rolling), see
      M(ganeti_gluster.cluster.gluster_roll_mark)), as it reads; the playbooks' preflights refuse while a roll
      is under way (P(ganeti_gluster.cluster.gluster_pool_roll_refusal#filter)).
  returned: success
  type: dict
  sample:
    gv0: rolling 2026-12-kernel
host:
  description:
    - This host as it knows itself, also returned when glusterd does not answer.
    - The gluster_pool role matches inventory hosts to peers with it.
  returned: always
  type: dict
  sample:
    hostname: node1
    fqdn: node1.example.org
    addresses:
      - 10.77.0.11
  contains:
    hostname:
      description: The host name.
      type: str
    fqdn:
      description: The fully qualified name.
      type: str
    addresses:
      description: The host's global addresses (C(ip address show)).
      type: list
      elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.cli_common import C_LOCALE
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    GlusterCli,
    GlusterError,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_processes import systemd_is_init
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.hosts import addresses, this_host
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.roll_mark import OPTION as ROLL_MARK

GLUSTERD = "/usr/sbin/glusterd"


def peer_entry(peer, volumes):
    entry = peer.as_dict()
    # As this host's resolver (glusterd's own) sees the peer's names.
    entry["addresses"] = [] if peer.is_local else sorted(set().union(*((addresses(n) or ()) for n in peer.hostnames)))
    entry["bricks"] = [f"{v.name}:{b.name}" for v in volumes for b in v.bricks if b.host_uuid == peer.uuid]
    return entry


def daemon_state(module):
    """Whether glusterd is installed and, under systemd, enabled: what a role would
    otherwise gather facts and stat files for."""
    installed = os.path.exists(GLUSTERD) or module.get_bin_path("glusterd") is not None
    systemd = systemd_is_init()
    enabled = None
    if systemd:
        systemctl = module.get_bin_path("systemctl")
        if systemctl:
            rc, _out, _err = module.run_command(
                [systemctl, "--quiet", "is-enabled", "glusterd.service"], check_rc=False, environ_update=C_LOCALE
            )
            enabled = rc == 0
    return {"installed": installed, "systemd": systemd, "enabled": enabled}


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    host = this_host(module)
    daemon = daemon_state(module)
    if module.get_bin_path("gluster") is None:
        module.fail_json(msg="no gluster command on this host: GlusterFS is not installed", host=host, daemon=daemon)
    cli = GlusterCli(module)
    try:
        peers = cli.pool_list()
        volumes = cli.volumes()
    except GlusterError as exc:
        module.fail_json(host=host, daemon=daemon, **exc.fail_kwargs())
    peers.sort(key=lambda p: (not p.is_local, p.hostname))
    local = [p.uuid for p in peers if p.is_local]
    module.exit_json(
        changed=False,
        local_uuid=local[0] if local else None,
        host=host,
        daemon=daemon,
        peers=[peer_entry(p, volumes) for p in peers],
        roll_marks={v.name: v.options[ROLL_MARK] for v in volumes if ROLL_MARK in v.options},
    )


if __name__ == "__main__":
    main()
