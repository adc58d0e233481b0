#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ganeti_cluster_verify
short_description: Run gnt-cluster verify and fail on the errors that concern one node
version_added: "0.2.0"
description:
  - Runs on the master. Runs C(gnt-cluster verify --error-codes), which checks every node, instance and the
    cluster's own files and configuration, and reads each error and warning it prints.
  - Fails when an error concerns the cluster itself (or names nothing), O(node) (its own, or another
    node's that names it, such as a failed connection to it), or an instance whose primary node it is
    (every error when O(node) is not given), naming each. Errors about other nodes and every warning are
    returned, not failed on. Fails too when one of verify's jobs failed, since what it did not check is
    unknown.
  - The gate of a rolling maintenance (C(rolling.yml)) runs it before it drains a node.
  - Ganeti reports a node whose kernel has no C(/proc/sysrq-trigger) (built without C(CONFIG_MAGIC_SYSRQ))
    as an error of its setup (C(ENODESETUP), "The procfs filesystem doesn't seem to be mounted").
    That file is what C(gnt-node powercycle) writes to. With O(node_without_sysrq_trigger), seen on the
    node itself, that error is returned in RV(tolerated) and does not fail the module, when it names no
    other problem of the node's setup.
  - Changes nothing, in check mode as otherwise.
options:
  node:
    description: The node whose errors fail the module, by its Ganeti name or a name resolving to its primary or
      secondary address.
    type: str
  node_without_sysrq_trigger:
    description:
      - Whether O(node) has C(/proc) mounted but no C(/proc/sysrq-trigger), as read on the node
        (C(ansible.builtin.stat)).
      - Ganeti's error about its procfs is then tolerated.
    type: bool
    default: false
extends_documentation_fragment:
  - ganeti_gluster.cluster.attributes.INFO_MODULE
seealso:
  - module: ganeti_gluster.cluster.ganeti_node_maintenance
author:
  - ganeti_gluster.cluster developers (@ganeti-gluster)
"""

EXAMPLES = r"""
- name: Refuse to take node2 down while Ganeti reports an error about it
  ganeti_gluster.cluster.ganeti_cluster_verify:
    node: node2
  delegate_to: "{{ groups['ganeti_master'] | first }}"
"""

RETURN = r"""
node:
  description: O(node) as Ganeti names it; null when O(node) is not given.
  returned: always
  type: str
  sample: node2.example.com
errors:
  description: The errors that failed (or would fail) the module.
  returned: always
  type: list
  elements: dict
  sample:
    - level: ERROR
      code: ECLUSTERFILECHECK
      kind: cluster
      item: cluster1
      message: File /etc/ganeti/file-storage-paths found with 2 different checksums
  contains:
    level:
      description: C(ERROR) or C(WARNING).
      type: str
    code:
      description: Ganeti's error code (C(gnt-cluster verify --help) lists them).
      type: str
    kind:
      description: What the finding is about (C(cluster), C(node), C(instance), C(group)...).
      type: str
    item:
      description: The name of the cluster, node or instance.
      type: str
    message:
      description: Ganeti's message.
      type: str
tolerated:
  description: Errors about O(node) that do not fail the module (O(node_without_sysrq_trigger)).
  returned: always
  type: list
  elements: dict
  sample: []
findings:
  description: Every error and warning verify printed, with the same keys as RV(errors).
  returned: always
  type: list
  elements: dict
  sample:
    - level: WARNING
      code: ENODEN1
      kind: node
      item: node3
      message: not enough memory to accomodate instance failovers should node node1 fail
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.ganeti_cli import (
    GanetiCli,
    GanetiError,
    check_master,
    find_node,
)

ERROR = "ERROR"
# backend.VerifyNode's NV_NODESETUP problems, joined by "; " after this prefix
# (cmdlib/cluster/verify.py, _VerifyNodeOS): one finding for all of a node's.
NODE_SETUP_PREFIX = "node setup error: "
# Its one message for /proc/sys and /proc/sysrq-trigger alike.
PROCFS_PROBLEM = (
    "The procfs filesystem doesn't seem to be mounted under /proc, missing required directory /proc/sys and the "
    "file /proc/sysrq-trigger"
)


def concerns(finding, node_name, instances):
    """Whether an error stops work on the node: the cluster's own or one without a name (ENODESSH
    has none), the node's or one of its primaries', or another node's that names it (ENODENET:
    'tcp communication with node 'NODE': failure...')."""
    if finding.kind == "cluster" or node_name is None or finding.item in ("", "None"):
        return True
    if finding.kind == "node":
        return finding.item == node_name or f"'{node_name}'" in finding.message
    return finding.kind == "instance" and finding.item in instances


def is_only_the_procfs_problem(finding):
    """The node-setup error says nothing but Ganeti's procfs problem (no other, such as sysfs)."""
    if finding.code != "ENODESETUP" or not finding.message.startswith(NODE_SETUP_PREFIX):
        return False
    problems = finding.message[len(NODE_SETUP_PREFIX) :].split("; ")
    return all(problem.strip() == PROCFS_PROBLEM for problem in problems)


def main():
    module = AnsibleModule(
        argument_spec={
            "node": {"type": "str"},
            "node_without_sysrq_trigger": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    cli = GanetiCli(module)
    result = {"changed": False, "node": None, "errors": [], "tolerated": [], "findings": []}
    try:
        check_master()
        node_name, instances = None, set()
        if module.params["node"]:
            node, refusal = find_node(cli.nodes(), module.params["node"])
            if refusal:
                module.fail_json(msg=refusal, **result)
            node_name = result["node"] = node.name
            instances = {i.name for i in cli.instances() if i.pnode == node_name}
        findings, failed_jobs = cli.verify()
    except GanetiError as exc:
        module.fail_json(**exc.fail_kwargs(), **result)

    result["findings"] = [f.as_dict() for f in findings]
    for finding in findings:
        if finding.level != ERROR or not concerns(finding, node_name, instances):
            continue
        tolerable = finding.item == node_name and is_only_the_procfs_problem(finding)
        if tolerable and module.params["node_without_sysrq_trigger"]:
            result["tolerated"].append(finding.as_dict())
        else:
            result["errors"].append(finding.as_dict())
    if failed_jobs:
        module.fail_json(
            msg=f"{failed_jobs} of gnt-cluster verify's jobs failed, so it did not check everything; "
            "read the jobs (gnt-job list), fix the cause, and run again",
            **result,
        )
    if result["errors"]:
        about = f"{node_name}, its instances or the cluster" if node_name else "the cluster"
        listed = "; ".join(f"{e['code']} {e['kind']} {e['item']}: {e['message']}" for e in result["errors"])
        module.fail_json(msg=f"gnt-cluster verify reports errors about {about}: {listed}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
