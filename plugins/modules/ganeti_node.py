#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ganeti_node
short_description: Add hosts to a Ganeti cluster as nodes
version_added: "0.1.0"
description:
  - Runs on the master. Reads the cluster's nodes and runs C(gnt-node add) for each name in
    O(nodes) that is not one of them yet, in order.
  - Ganeti connects to a new node as root with the master's SSH key, so that key must already be in
    the new node's C(/root/.ssh/authorized_keys).
  - C(gnt-node add) runs the cluster's node-add hooks; the hook of the role
    C(ganeti_gluster_disk) joins the node to the Gluster pool unless told that a playbook does.
options:
  nodes:
    description: Names of the hosts that shall be nodes, as Ganeti knows them (resolvable names).
    type: list
    elements: str
    required: true
  state:
    description: V(present) adds the missing nodes. Removing nodes is not this module's job.
    type: str
    choices: [present]
    default: present
  ssh_key_check:
    description:
      - Verify the new node's SSH host key against Ganeti's known hosts. V(false) passes
        C(--no-ssh-key-check), for hosts whose keys the master has not seen.
    type: bool
    default: true
extends_documentation_fragment:
  - ganeti_gluster.cluster.attributes.ACTION_MODULE
author:
  - ganeti_gluster.cluster developers (@ganeti-gluster)
"""

EXAMPLES = r"""
- name: Make node4 a Ganeti node
  ganeti_gluster.cluster.ganeti_node:
    nodes: [node4.example.net]
  delegate_to: "{{ groups['ganeti_master'][0] }}"
  run_once: true
"""

RETURN = r"""
added:
  description: The nodes this run added (or would add, in check mode).
  returned: always
  type: list
  elements: str
commands:
  description: The Ganeti commands run, or in check mode those that would run, as argv lists.
  returned: always
  type: list
  elements: list
nodes:
  description: The cluster's nodes after the run (see M(ganeti_gluster.cluster.ganeti_cluster_info)).
  returned: success
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.ganeti_cli import (
    GanetiCli,
    GanetiError,
    check_master,
    node_add_args,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.hosts import is_valid_host, same_name


def main():
    module = AnsibleModule(
        argument_spec={
            "nodes": {"type": "list", "elements": "str", "required": True},
            "state": {"type": "str", "choices": ["present"], "default": "present"},
            "ssh_key_check": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    wanted = module.params["nodes"]
    bad = [n for n in wanted if not is_valid_host(n)]
    if bad:
        module.fail_json(msg=f"not host names: {', '.join(map(repr, bad))}")

    cli = GanetiCli(module)
    result = {"changed": False, "added": [], "commands": []}
    try:
        check_master()
        before = cli.nodes()
    except GanetiError as exc:
        module.fail_json(**exc.fail_kwargs(), **result)
    missing = [name for name in dict.fromkeys(wanted) if not any(same_name(name, n.name) for n in before)]

    after = before
    for name in missing:
        args = node_add_args(name, module.params["ssh_key_check"])
        result["commands"].append(cli.argv(args))
        result["added"].append(name)
        result["changed"] = True
        if not module.check_mode:
            try:
                cli.run(args)
            except GanetiError as exc:
                exc.message += (
                    f"; check that the master's root SSH key is in {name}:/root/.ssh/authorized_keys and that "
                    f"{name} resolves to its primary address"
                )
                module.fail_json(**exc.fail_kwargs(), **result)
    if missing and not module.check_mode:
        try:
            after = cli.nodes()
        except GanetiError as exc:
            module.fail_json(**exc.fail_kwargs(), **result)
    result["nodes"] = [n.as_dict() for n in after]
    if module._diff:
        names = [n.name for n in before]
        result["diff"] = {"before": {"nodes": names}, "after": {"nodes": names + missing}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
