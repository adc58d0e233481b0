#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ganeti_host_info
short_description: Read, on one host, what it brings to a Ganeti cluster that keeps disks on GlusterFS
version_added: "0.1.0"
description:
  - Reports, in one call, what the ganeti_gluster_disk role would otherwise gather facts, stat files
    and run a command per question for, on every host - its names, whether Ganeti is installed,
    which of O(packages) are missing, its SSH host public keys, with O(hook_python) whether that
    Python can run the node-add hook, and with O(gluster_volume) whether its glusterd knows that volume.
  - Read-only; it changes nothing on the host.
options:
  packages:
    description:
      - Packages to look for, with one C(dpkg-query) (or one C(rpm -q) where there is no dpkg).
      - The module fails on a host that has neither, when O(packages) is not empty.
    type: list
    elements: str
    default: []
  hook_python:
    description:
      - A Python interpreter to check - that it runs and can import C(ansible_runner). Nothing is
        checked without it.
    type: path
  hook_playbook:
    description: With O(hook_python), a playbook path that must exist on the host.
    type: path
  gluster_volume:
    version_added: 0.2.0
    description:
      - A GlusterFS volume whose configuration this host's glusterd must hold (every peer of the volume's
        pool holds it, with bricks or without) for a FUSE mount from the host itself.
    type: str
extends_documentation_fragment:
  - ganeti_gluster.cluster.attributes.info_module
seealso:
  - module: ganeti_gluster.cluster.ganeti_cluster_info
author:
  - ganeti_gluster.cluster developers (@ganeti-gluster)
"""

EXAMPLES = r"""
- name: Read what each host brings
  ganeti_gluster.cluster.ganeti_host_info:
    packages: [glusterfs-client, qemu-block-extra]
    hook_python: /opt/ganeti-gluster/venv/bin/python3
    hook_playbook: /opt/ganeti-gluster/playbooks/add-node.yml
  register: host_info
"""

RETURN = r"""
host:
  description: This host as it knows itself, as RV(ganeti_gluster.cluster.gluster_pool_info#module:host) gives it.
  returned: always
  type: dict
  sample:
    hostname: node4
    fqdn: node4.example.org
    addresses:
      - 10.77.0.14
ganeti_installed:
  description: Whether C(/usr/sbin/ganeti-noded) exists.
  returned: always
  type: bool
  sample: true
missing_packages:
  description: Those of O(packages) that are not installed, in the order given.
  returned: always
  type: list
  elements: str
  sample:
    - qemu-block-extra
host_keys:
  description: The host's SSH public host keys (ed25519, ecdsa, rsa, those present), one line each.
  returned: always
  type: list
  elements: str
  sample:
    - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB root@node4
    - ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC9 root@node4
gluster_volume_known:
  version_added: 0.2.0
  description:
    - With O(gluster_volume), whether this host's glusterd holds that volume's configuration
      (C(/var/lib/glusterd/vols/NAME/info)), that is whether the host is a peer of its pool; null without it.
  returned: always
  type: bool
  sample: true
hook:
  description: With O(hook_python), what the check found; null without it.
  returned: always
  type: dict
  sample:
    ok: true
    message: ansible-runner importable, playbook found
  contains:
    ok:
      description: Whether the Python runs, imports C(ansible_runner) and the playbook exists.
      type: bool
    message:
      description: What was found, for an error message.
      type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.cli_common import C_LOCALE
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.files import texts_of
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import VOLUME_NAME
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.hosts import this_host

GANETI_NODED = "/usr/sbin/ganeti-noded"
GLUSTERD_VOLUMES = "/var/lib/glusterd/vols"
HOST_KEY_TYPES = ("ed25519", "ecdsa", "rsa")
SSH_DIR = "/etc/ssh"
# Run by the hook's Python: whether it imports ansible_runner, and finds the playbook.
HOOK_CHECK = """\
import importlib.util, os, sys
print(importlib.util.find_spec("ansible_runner") is not None, len(sys.argv) < 2 or os.path.isfile(sys.argv[1]))
"""


def missing_packages(module, packages):
    """The packages that are not installed; one query for all of them."""
    if not packages:
        return []
    dpkg_query = module.get_bin_path("dpkg-query")
    if dpkg_query:
        # Unknown packages are named on stderr and have no line: they are missing too.
        argv = [dpkg_query, "--show", "--showformat=${Package} ${db:Status-Status}\n", *packages]
        _rc, out, _err = module.run_command(argv, check_rc=False, environ_update=C_LOCALE)
        installed = {line.split()[0] for line in out.splitlines() if line.endswith(" installed")}
        return [p for p in packages if p not in installed]
    rpm = module.get_bin_path("rpm")
    if rpm is None:
        module.fail_json(msg="neither dpkg-query nor rpm is on this host: cannot tell which packages are installed")
    _rc, out, _err = module.run_command([rpm, "-q", *packages], check_rc=False, environ_update=C_LOCALE)
    return [p for p in packages if f"package {p} is not installed" in out.splitlines()]


def host_keys():
    return texts_of(os.path.join(SSH_DIR, f"ssh_host_{kind}_key.pub") for kind in HOST_KEY_TYPES)


def hook_check(module, python, playbook):
    if not os.access(python, os.X_OK):
        return {"ok": False, "message": f"{python} does not exist or is not executable"}
    argv = [python, "-c", HOOK_CHECK] + ([playbook] if playbook else [])
    rc, out, err = module.run_command(argv, check_rc=False, environ_update=C_LOCALE)
    if rc != 0 or out.split() not in (["True", "True"], ["True", "False"], ["False", "True"], ["False", "False"]):
        return {"ok": False, "message": f"{python} failed (exit code {rc}): {err.strip() or out.strip()}"}
    runner, found = (word == "True" for word in out.split())
    message = "ansible-runner importable" if runner else "no ansible-runner"
    if playbook:
        message += ", playbook found" if found else f", no playbook {playbook}"
    return {"ok": runner and found, "message": message}


def main():
    module = AnsibleModule(
        argument_spec={
            "packages": {"type": "list", "elements": "str", "default": []},
            "hook_python": {"type": "path"},
            "hook_playbook": {"type": "path"},
            "gluster_volume": {"type": "str"},
        },
        required_by={"hook_playbook": "hook_python"},
        supports_check_mode=True,
    )
    p = module.params
    if p["gluster_volume"] is not None and not VOLUME_NAME.match(p["gluster_volume"]):
        module.fail_json(msg=f"gluster_volume must be a GlusterFS volume name, not {p['gluster_volume']!r}")
    module.exit_json(
        changed=False,
        host=this_host(module),
        ganeti_installed=os.path.exists(GANETI_NODED),
        missing_packages=missing_packages(module, p["packages"]),
        host_keys=host_keys(),
        hook=hook_check(module, p["hook_python"], p["hook_playbook"]) if p["hook_python"] else None,
        gluster_volume_known=(
            os.path.isfile(os.path.join(GLUSTERD_VOLUMES, p["gluster_volume"], "info"))
            if p["gluster_volume"] is not None
            else None
        ),
    )


if __name__ == "__main__":
    main()
