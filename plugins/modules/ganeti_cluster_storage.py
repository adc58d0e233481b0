#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ganeti_cluster_storage
short_description: Enable Ganeti's gluster disk template and set its disk parameters
version_added: "0.1.0"
description:
  - Runs on the master of a Ganeti cluster. Reads the cluster's configuration first and changes only
    what differs, with one C(gnt-cluster modify).
  - Adds C(gluster) to the enabled disk templates and to the instance policy's disk templates,
    keeping the templates already there (O(keep_templates)), and sets the gluster disk parameters
    (C(-D gluster:host=...,port=...,volume=...,access=...)).
  - Refuses to change C(gluster:volume) while instances use the gluster disk template, since their disks are
    paths on the volume, which Ganeti would then look for on the other one.
  - The gluster storage directory is set by C(gnt-cluster init --gluster-storage-dir) and Ganeti 3.0
    cannot change it later (C(gnt-cluster modify) has no option for it, and the opcode ignores it).
    When O(storage_dir) differs from the cluster's, the module fails before changing anything.
  - Node groups may set gluster disk parameters and allowed disk templates of their own, which their
    instances follow instead of the cluster's. The module leaves them as the admin set them, returns them
    (RV(group_overrides)) and warns of each one that differs from O(host), O(port), O(volume) and O(access) or
    leaves C(gluster) out.
options:
  host:
    description: The Gluster server each node's client asks for the volume (C(gluster:host)).
    type: str
    default: 127.0.0.1
  port:
    description: glusterd's port on O(host) (C(gluster:port)).
    type: int
    default: 24007
  volume:
    description: The Gluster volume that holds instance disks (C(gluster:volume)).
    type: str
    required: true
  access:
    description:
      - How instances reach their disks. V(kernelspace) through the node's FUSE mount of the volume,
        V(userspace) through QEMU's gluster driver (libgfapi, C(gluster://) URIs).
    type: str
    choices: [kernelspace, userspace]
    default: kernelspace
  storage_dir:
    description:
      - The gluster storage directory the caller expects. Checked, never changed (see above).
        Omit to accept the cluster's.
    type: path
  keep_templates:
    description:
      - Keep the disk templates that are already enabled and allowed, adding C(gluster) after them.
        With V(false) C(gluster) becomes the only one (Ganeti refuses while instances use another).
    type: bool
    default: true
extends_documentation_fragment:
  - ganeti_gluster.cluster.attributes.ACTION_MODULE
author:
  - ganeti_gluster.cluster developers (@ganeti-gluster)
"""

EXAMPLES = r"""
- name: Let instances keep their disks on the gv0 volume
  ganeti_gluster.cluster.ganeti_cluster_storage:
    volume: gv0
    access: userspace
  delegate_to: "{{ groups['ganeti_master'][0] }}"
  run_once: true
"""

RETURN = r"""
commands:
  description: The Ganeti commands run, or in check mode those that would run, as argv lists.
  returned: always
  type: list
  elements: list
  sample:
    - - /usr/sbin/gnt-cluster
      - modify
      - --enabled-disk-templates=file,gluster
      - --ipolicy-disk-templates=file,gluster
      - -D
      - gluster:access=kernelspace
group_overrides:
  description:
    - The node groups that set gluster disk parameters or allowed disk templates of their own, with what they
      set (C(disk_templates) is V(null) where the group allows the cluster's), and C(follow_cluster), the
      C(gnt-group modify) argv that makes the group follow the cluster's gluster settings (V(null) when it
      does). Ganeti 3.0 cannot unset a group's C(access), so that argv sets it to O(access).
  returned: success
  type: dict
  sample:
    rack2:
      gluster:
        access: kernelspace
      disk_templates:
        - plain
      follow_cluster:
        - gnt-group
        - modify
        - -D
        - gluster:access=userspace
        - --ipolicy-disk-templates=default
        - rack2
cluster:
  description: The cluster's configuration after the run (see M(ganeti_gluster.cluster.ganeti_cluster_info)).
  returned: success
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
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.ganeti_cli import (
    GLUSTER,
    GLUSTER_ACCESS,
    GanetiCli,
    GanetiError,
    check_master,
    cluster_modify_args,
    group_follow_args,
    group_override_warnings,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.hosts import is_valid_host


def wanted_templates(current, keep):
    if not keep:
        return (GLUSTER,)
    return tuple(current) if GLUSTER in current else (*current, GLUSTER)


def snapshot(cluster):
    return {
        "enabled_disk_templates": list(cluster.enabled_disk_templates),
        "ipolicy_disk_templates": list(cluster.ipolicy_disk_templates),
        "gluster_params": dict(cluster.gluster_params),
        "gluster_storage_dir": cluster.gluster_storage_dir,
    }


def main():
    module = AnsibleModule(
        argument_spec={
            "host": {"type": "str", "default": "127.0.0.1"},
            "port": {"type": "int", "default": 24007},
            "volume": {"type": "str", "required": True},
            "access": {"type": "str", "choices": list(GLUSTER_ACCESS), "default": "kernelspace"},
            "storage_dir": {"type": "path"},
            "keep_templates": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    p = module.params
    if not is_valid_host(p["host"]):
        module.fail_json(msg=f"host {p['host']!r} is not a host name or an address")
    if not 1 <= p["port"] <= 65535:
        module.fail_json(msg=f"port must be 1 to 65535, not {p['port']}")
    if not p["volume"] or any(c in p["volume"] for c in ",=:/ "):
        module.fail_json(msg=f"volume {p['volume']!r} is not a Gluster volume name")

    cli = GanetiCli(module)
    result = {"changed": False, "commands": []}
    try:
        check_master()
        before = cli.cluster_config()
        groups, unread_groups = cli.group_overrides()
    except GanetiError as exc:
        module.fail_json(**exc.fail_kwargs(), **result)

    storage_dir = p["storage_dir"]
    if storage_dir and storage_dir.rstrip("/") != before.gluster_storage_dir.rstrip("/"):
        module.fail_json(
            msg=f"the cluster's gluster storage dir is {before.gluster_storage_dir}, not {storage_dir}; it is set "
            "by gnt-cluster init --gluster-storage-dir and Ganeti cannot change it afterwards. Use "
            f"{before.gluster_storage_dir} (ganeti_gluster_disk_storage_dir).",
            **result,
        )

    enabled = wanted_templates(before.enabled_disk_templates, p["keep_templates"])
    allowed = wanted_templates(before.ipolicy_disk_templates, p["keep_templates"])
    params = {"host": p["host"], "port": str(p["port"]), "volume": p["volume"], "access": p["access"]}
    changed_params = {k: v for k, v in params.items() if before.gluster_params.get(k) != v}
    if "volume" in changed_params:
        # An instance's disk is a path on the volume (ganeti/UUID.N): Ganeti would look
        # for it on the new one, and checks nothing when the parameter changes.
        try:
            # "mixed": disks of several templates, some of which may be gluster.
            on_gluster = [i.name for i in cli.instances() if i.disk_template in (GLUSTER, "mixed")]
        except GanetiError as exc:
            module.fail_json(**exc.fail_kwargs(), **result)
        if on_gluster:
            module.fail_json(
                msg=f"refusing to change gluster:volume from {before.gluster_params.get('volume')} to "
                f"{p['volume']}: instances {', '.join(on_gluster)} have (or, of the mixed template, may have) disks on "
                f"{before.gluster_params.get('volume')}, and Ganeti would look for them on {p['volume']} (they "
                "could not start or migrate). Keep ganeti_gluster_disk_volume at the volume they use. Nothing was "
                "changed.",
                **result,
            )
    args = cluster_modify_args(
        enabled_disk_templates=enabled if enabled != before.enabled_disk_templates else None,
        ipolicy_disk_templates=allowed if allowed != before.ipolicy_disk_templates else None,
        gluster_params=changed_params,
    )
    after = before
    if len(args) > 2:
        result["changed"] = True
        result["commands"].append(cli.argv(args))
        if not module.check_mode:
            try:
                cli.run(args)
                after = cli.cluster_config()
            except GanetiError as exc:
                module.fail_json(**exc.fail_kwargs(), **result)
    result["cluster"] = after.as_dict()
    result["group_overrides"] = {
        group: {**found, "follow_cluster": group_follow_args(group, found, params)} for group, found in groups.items()
    }
    for warning in group_override_warnings(groups, params):
        module.warn(warning)
    for row in unread_groups:
        module.warn(
            f"gnt-group list printed a row this module cannot read, so a node group's own settings are unknown: {row!r}"
        )
    if module._diff:
        predicted = snapshot(before)
        predicted.update(
            enabled_disk_templates=list(enabled),
            ipolicy_disk_templates=list(allowed),
            gluster_params={**before.gluster_params, **params},
        )
        result["diff"] = {"before": snapshot(before), "after": predicted}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
