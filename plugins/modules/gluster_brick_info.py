#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gluster_brick_info
short_description: Report what GlusterFS brick paths sit on
version_added: "0.1.0"
description:
  - For each brick path on the host it runs on, reports whether it exists, the filesystem and
    device it is on (for a path that does not exist yet, the filesystem it would be created on),
    the XFS inode size, size and free space, whether it is on the root filesystem, the volume id
    Gluster left on it and whether it holds anything besides Gluster's C(.glusterfs).
  - Read-only; needs no glusterd.
options:
  paths:
    description: Absolute brick directory paths.
    type: list
    elements: path
    required: true
  count_files:
    description:
      - Also walk each existing path and count its data files (regular files outside C(.glusterfs), DHT
        link files left out), as Gluster asks after a remove-brick commit. Reads every directory of the
        brick, so only where that is wanted.
    type: bool
    default: false
extends_documentation_fragment:
  - ganeti_gluster.cluster.attributes.info_module
seealso:
  - module: ganeti_gluster.cluster.gluster_brick
author:
  - ganeti_gluster.cluster developers (@ganeti-gluster)
"""

EXAMPLES = r"""
- name: Inspect the bricks declared for this host
  ganeti_gluster.cluster.gluster_brick_info:
    paths: "{{ gluster_pool_bricks | map(attribute='path') }}"
  register: brick_info

- name: Refuse bricks on the root filesystem
  ansible.builtin.assert:
    that: brick_info.bricks | selectattr('on_root_fs') | list | length == 0
"""

RETURN = r"""
bricks:
  description: One entry per path, in the order given.
  returned: always
  type: list
  elements: dict
  sample:
    - path: /bricks/b1/brick
      exists: true
      mount_point: /bricks/b1
      device: /dev/vdb
      fs_type: xfs
      mount_options: rw,noatime,inode64
      xfs_inode_size: 512
      size_bytes: 53660876800
      free_bytes: 53286178816
      on_root_fs: false
      volume_id: null
      part_of_volume_at: null
      empty: true
      entries: 0
  contains:
    path:
      description: The brick path, normalised.
      type: str
    exists:
      description: Whether the path is an existing directory.
      type: bool
    mount_point:
      description: Mount point of the filesystem holding the path (or that would hold it).
      type: str
    device:
      description: Block device of that filesystem, when it has one.
      type: str
    fs_type:
      description: Filesystem type, for example C(xfs).
      type: str
    mount_options:
      description: Mount options of that filesystem.
      type: str
    xfs_inode_size:
      description: Inode size of an XFS filesystem in bytes (Gluster wants 512).
      type: int
    size_bytes:
      description: Size of the filesystem.
      type: int
    free_bytes:
      description: Space available to unprivileged users.
      type: int
    on_root_fs:
      description: Whether the path is (or would be) on the root filesystem.
      type: bool
    volume_id:
      description: The C(trusted.glusterfs.volume-id) on the directory, if any.
      type: str
    part_of_volume_at:
      description:
        - The first of the path and its parent directories that carries a brick's C(trusted.gfid) or
          C(trusted.glusterfs.volume-id), which glusterd refuses for a new brick (unless forced); null when
          none does.
      type: str
      version_added: 0.2.0
    empty:
      description: Whether the directory holds nothing besides C(.glusterfs). Null when it does not exist.
      type: bool
    entries:
      description: How many entries besides C(.glusterfs) it holds.
      type: int
    data_files:
      description: With O(count_files), how many data files it holds (null when it does not exist).
      type: int
    data_file_samples:
      description: With O(count_files), the first few of them, relative to the path.
      type: list
      elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.brick_fs import (
    data_files,
    read_brick_info,
    read_mounts,
)


def main():
    module = AnsibleModule(
        argument_spec={
            "paths": {"type": "list", "elements": "path", "required": True},
            "count_files": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    relative = [p for p in module.params["paths"] if not os.path.isabs(p)]
    if relative:
        module.fail_json(msg=f"brick paths must be absolute: {', '.join(relative)}")
    mounts = read_mounts()
    try:
        bricks = [read_brick_info(path, mounts) for path in module.params["paths"]]
        if module.params["count_files"]:
            for brick in bricks:
                count, first = data_files(brick["path"]) if brick["exists"] else (None, [])
                brick.update(data_files=count, data_file_samples=first)
    except OSError as exc:
        module.fail_json(msg=f"cannot inspect {exc.filename}: {exc.strerror}")
    module.exit_json(changed=False, bricks=bricks)


if __name__ == "__main__":
    main()
