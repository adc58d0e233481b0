#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ganeti_cluster_info
short_description: Read the Ganeti cluster's disk templates, gluster disk parameters and nodes
version_added: "0.1.0"
description:
  - Runs on the master of a Ganeti cluster and reports what the gluster disk template depends on
    (C(gnt-cluster info)) and the cluster's nodes (C(gnt-node list)).
  - Also the master's C(/etc/ganeti/file-storage-paths), which every node must have the same, and
    root's SSH public key of the cluster's key type, which C(gnt-node add) logs in to a new node with.
  - On a host that has no cluster, or that is not the master, it fails before running any Ganeti
    command and says which, unless O(must_be_master=false).
options:
  must_be_master:
    description:
      - Fail on a host that is not the master of an initialised cluster. With V(false) the module
        then returns RV(master) (null without a cluster) and nothing else.
    type: bool
    default: true
extends_documentation_fragment:
  - ganeti_gluster.cluster.attributes.INFO_MODULE
author:
  - ganeti_gluster.cluster developers (@ganeti-gluster)
"""

EXAMPLES = r"""
- name: Read the cluster
  ganeti_gluster.cluster.ganeti_cluster_info:
  register: cluster
  delegate_to: "{{ groups['ganeti_master'][0] }}"
  run_once: true

- name: Show the enabled disk templates
  ansible.builtin.debug:
    msg: "{{ cluster.cluster.enabled_disk_templates }}"
"""

RETURN = r"""
master:
  description: The master node's name as ssconf records it on this host; null without a cluster.
  returned: always
  type: str
  sample: node1
is_master:
  description: Whether this host is the master.
  returned: always
  type: bool
  sample: true
cluster:
  description: The cluster's configuration as far as the gluster disk template is concerned.
  returned: on the master
  type: dict
  sample:
    name: cluster1
    master: node1
    enabled_disk_templates:
      - file
      - gluster
    ipolicy_disk_templates:
      - file
      - gluster
    gluster_params:
      access: kernelspace
      host: 127.0.0.1
      port: '24007'
      volume: gv0
    gluster_storage_dir: /var/run/ganeti/gluster
    file_storage_dir: /srv/ganeti/file-storage
    ssh_key_type: rsa
  contains:
    name:
      description: The cluster name.
      type: str
    master:
      description: The master node.
      type: str
    enabled_disk_templates:
      description: Enabled disk templates, the default first.
      type: list
      elements: str
    ipolicy_disk_templates:
      description: Disk templates the instance policy allows.
      type: list
      elements: str
    gluster_params:
      description: The gluster disk parameters (host, port, volume, access), as strings.
      type: dict
    gluster_storage_dir:
      description: Where each node mounts the gluster volume (set at C(gnt-cluster init)).
      type: str
    file_storage_dir:
      description: The file disk template's directory.
      type: str
    ssh_key_type:
      description: The type of root's SSH key Ganeti uses between nodes.
      type: str
nodes:
  description: The cluster's nodes.
  returned: on the master
  type: list
  elements: dict
  sample:
    - name: node1
      master_candidate: true
      offline: false
      master: true
      pip: 10.77.0.11
      sip: 10.77.0.11
      vm_capable: true
    - name: node2
      master_candidate: true
      offline: false
      master: false
      pip: 10.77.0.12
      sip: 10.77.0.12
      vm_capable: true
  contains:
    name:
      description: Node name.
      type: str
    master_candidate:
      description: Whether the node is a master candidate.
      type: bool
    offline:
      description: Whether the node is offline.
      type: bool
    master:
      description: Whether the node is the master.
      type: bool
    pip:
      description: The node's primary IP.
      type: str
    sip:
      description: The node's secondary IP (its primary IP when it has none).
      type: str
    vm_capable:
      version_added: 0.2.0
      description: Whether the node may run instances.
      type: bool
    master_capable:
      version_added: 0.2.0
      description: Whether Ganeti may make the node a master candidate, and so master.
      type: bool
node_groups:
  version_added: 0.2.0
  description: The names of the cluster's node groups (from the master's ssconf).
  returned: on the master
  type: list
  elements: str
  sample: [default]
file_storage_paths:
  description: The text of the master's C(/etc/ganeti/file-storage-paths); null when it does not exist or is empty.
  returned: on the master
  type: str
  sample: "/srv/ganeti/file-storage\n/var/run/ganeti/gluster\n"
ssh_public_key:
  description:
    - The master's C(~root/.ssh/id_TYPE.pub) for the cluster's key type (RV(cluster.ssh_key_type)).
    - Null when it is missing or empty.
  returned: on the master
  type: str
  sample: "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 root@node1\n"
"""

import os
import pwd

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.files import read_text
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.ganeti_cli import (
    GanetiCli,
    GanetiError,
    check_master,
    node_group_names,
    read_ssconf,
)

FILE_STORAGE_PATHS = "/etc/ganeti/file-storage-paths"


def main():
    module = AnsibleModule(
        argument_spec={"must_be_master": {"type": "bool", "default": True}}, supports_check_mode=True
    )
    try:
        check_master()
    except GanetiError as exc:
        if module.params["must_be_master"]:
            module.fail_json(**exc.fail_kwargs())
        module.exit_json(changed=False, master=read_ssconf("master_node"), is_master=False)
    cli = GanetiCli(module)
    try:
        cluster = cli.cluster_config()
        nodes = cli.nodes()
    except GanetiError as exc:
        module.fail_json(**exc.fail_kwargs())
    module.exit_json(
        changed=False,
        master=cluster.master,
        is_master=True,
        cluster=cluster.as_dict(),
        nodes=[n.as_dict() for n in nodes],
        # Written by the master on every change of the configuration.
        node_groups=node_group_names(read_ssconf("nodegroups")),
        file_storage_paths=read_text(FILE_STORAGE_PATHS) or None,
        ssh_public_key=read_text(os.path.join(pwd.getpwnam("root").pw_dir, ".ssh", f"id_{cluster.ssh_key_type}.pub"))
        or None,
    )


if __name__ == "__main__":
    main()
