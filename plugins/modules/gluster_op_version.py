#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gluster_op_version
short_description: Raise a GlusterFS pool's cluster.op-version once every peer runs the new release
version_added: "0.2.0"
description:
  - The last step of Gluster's online upgrade, after every server of the pool runs the new release. Until
    then the pool keeps working at its old operating version (C(cluster.op-version)) and the new release's
    features stay off.
  - Reads C(gluster volume get all cluster.op-version) and C(cluster.max-op-version) (the highest version
    every peer of the pool supports). When the pool's version is lower than O(op_version), sets it
    (C(gluster volume set all cluster.op-version)). Never lowers it (Gluster does not either).
  - Run it once every client runs the new release too (FUSE mounts and QEMU through libgfapi, on hosts outside
    the pool as well); glusterd refuses while a connected client is too old, but one that is not connected
    then cannot mount afterwards, and a raise cannot be undone. C(rolling.yml) runs it after an upgrade
    (C(rolling_upgrade=glusterfs)) or when asked (C(rolling_raise_op_version=true)).
  - Refuses, before any change, when a peer is not connected or not in the pool (C(Peer Rejected), for one),
    since glusterd reads the supported version of, and raises the version on, only the connected peers in the
    pool; and when O(op_version) is a number above C(cluster.max-op-version).
options:
  op_version:
    description:
      - V(max) for C(cluster.max-op-version), or the operating version to reach, as a number (C(100000)
        for GlusterFS 10).
    type: str
    default: max
extends_documentation_fragment:
  - ganeti_gluster.cluster.attributes.ACTION_MODULE
seealso:
  - module: ganeti_gluster.cluster.gluster_daemons
  - name: Gluster's generic upgrade procedure
    description: Raising the op-version after the last server.
    link: https://docs.gluster.org/en/latest/Upgrade-Guide/generic-upgrade-procedure/
author:
  - ganeti_gluster.cluster developers (@ganeti-gluster)
"""

EXAMPLES = r"""
- name: Let the pool use what its new release has
  ganeti_gluster.cluster.gluster_op_version:
  run_once: true
"""

RETURN = r"""
op_version:
  description: The pool's operating version now (in check mode, what it would be).
  returned: success
  type: int
  sample: 100000
previous_op_version:
  description: The pool's operating version before the module ran.
  returned: success
  type: int
  sample: 90000
max_op_version:
  description: The highest operating version every peer supports.
  returned: success
  type: int
  sample: 100000
commands:
  description: The commands that changed the pool (in check mode, would change it), as argv lists.
  returned: always
  type: list
  elements: list
  sample: [["/usr/sbin/gluster", "--mode=script", "--xml", "volume", "set", "all", "cluster.op-version", "100000"]]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    GlusterCli,
    GlusterError,
    parse_volume_get,
)

OP_VERSION = "cluster.op-version"
MAX_OP_VERSION = "cluster.max-op-version"


def global_option(cli, name):
    """A pool-wide option's value (`volume get all NAME`) as a number."""
    value = parse_volume_get(cli.run("volume", "get", "all", name)).get(name, "")
    if not value.isdigit():
        raise GlusterError(f"gluster volume get all {name} gave {value!r}, not a number")
    return int(value)


def wanted_version(text, maximum):
    """(version, refusal) for the op_version option."""
    if text == "max":
        return maximum, None
    if not text.isdigit():
        return None, f"op_version must be 'max' or a number such as 100000, not {text!r}"
    if int(text) > maximum:
        return None, (
            f"op_version {text} is above cluster.max-op-version {maximum}, the highest every peer supports; "
            "upgrade the peers first"
        )
    return int(text), None


def main():
    module = AnsibleModule(argument_spec={"op_version": {"type": "str", "default": "max"}}, supports_check_mode=True)
    cli = GlusterCli(module)
    result = {"changed": False, "commands": []}
    try:
        # glusterd asks, and raises, only the peers it counts as befriended (Peer in Cluster):
        # a connected peer rejected after a failed upgrade would be left out of both.
        outside = [
            f"{p.hostname} ({p.state_str or 'state ' + str(p.state)}, {'connected' if p.connected else 'disconnected'})"
            for p in cli.pool_list()
            if not p.in_cluster
        ]
        if outside:
            module.fail_json(
                msg=f"{', '.join(sorted(outside))}: not a connected member of the pool; the operating version is "
                "raised only when every peer is in the pool and answers (start glusterd there, settle a rejected "
                "peer, or detach a peer that is gone), then run again",
                **result,
            )
        current = global_option(cli, OP_VERSION)
        maximum = global_option(cli, MAX_OP_VERSION)
    except GlusterError as exc:
        module.fail_json(**exc.fail_kwargs(), **result)
    target, refusal = wanted_version(module.params["op_version"].strip(), maximum)
    if refusal:
        module.fail_json(msg=refusal, **result)

    result.update(previous_op_version=current, max_op_version=maximum, op_version=max(current, target))
    if target > current:
        args = ("volume", "set", "all", OP_VERSION, target)
        result["commands"].append(cli.argv(*args))
        result["changed"] = True
        if not module.check_mode:
            try:
                cli.run(*args)
            except GlusterError as exc:
                module.fail_json(**exc.fail_kwargs(), **result)
    if module._diff:
        result["diff"] = {"before": {OP_VERSION: current}, "after": {OP_VERSION: result["op_version"]}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
