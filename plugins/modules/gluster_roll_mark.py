#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gluster_roll_mark
short_description: Mark a GlusterFS pool as under a rolling maintenance, so that no other run changes it
version_added: "0.1.0"
description:
  - A rolling maintenance (C(rolling.yml)) takes one node's Gluster down at a time for as long as the operator's
    work takes, a reboot included, which no lock held by a module can span. Under the pool's lock, this module
    marks every volume of the pool with the roll (volume option C(user.ganeti-gluster.rolling), value
    C(rolling ROLL)) before the roll's first node, and marks the roll done (C(done ROLL)) after its last.
  - While a volume carries the mark of a roll, every module of this collection that changes the pool
    (M(ganeti_gluster.cluster.gluster_peer), M(ganeti_gluster.cluster.gluster_volume),
    M(ganeti_gluster.cluster.gluster_volume_drain)) refuses, under the lock and before any change, and so do
    the preflights of C(site.yml), C(add-node.yml), C(remove-node.yml) and C(replace-node.yml). A roll may have
    a node drained, down or rebooting; a replacement would take that node for dead.
  - glusterd keeps the option on every peer; a peer whose glusterd is down takes it when it comes back. The
    mark is ended by C(volume set), never C(volume reset), which glusterd refuses for a C(user.*) option.
  - O(state=present) refuses, before any change, while another roll's mark is on a volume, naming it.
    O(state=absent) ends only this roll's mark.
options:
  roll:
    description:
      - "The roll's id (C(rolling_id)): letters, digits, C(.), C(_), C(:), C(+) and C(-), at most 128."
    type: str
    required: true
  state:
    description:
      - V(present), every volume marked with this roll; V(absent), this roll's mark ended on every volume
        that has it.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - ganeti_gluster.cluster.attributes.ACTION_MODULE
  - ganeti_gluster.cluster.pool_lock
seealso:
  - module: ganeti_gluster.cluster.gluster_daemons
  - module: ganeti_gluster.cluster.gluster_volume_heal
author:
  - ganeti_gluster.cluster developers (@ganeti-gluster)
"""

EXAMPLES = r"""
- name: Mark the pool before the roll's first node
  ganeti_gluster.cluster.gluster_roll_mark:
    roll: 2026-12-kernel
    pool_members: "{{ member_uuids }}"
  delegate_to: "{{ acting_member }}"
  run_once: true

- name: End the roll's mark once its last node healed
  ganeti_gluster.cluster.gluster_roll_mark:
    roll: 2026-12-kernel
    state: absent
  delegate_to: "{{ acting_member }}"
  run_once: true
"""

RETURN = r"""
volumes:
  description: The volumes whose mark this run set or ended (in check mode, would).
  returned: success
  type: list
  elements: str
  sample: [gv0]
marks:
  description: Each volume's mark after the run (in check mode, what it would be); V(null) for none.
  returned: success
  type: dict
  sample: {"gv0": "rolling 2026-12-kernel"}
commands:
  description: The commands that changed the pool (in check mode, would change it), as argv lists.
  returned: always
  type: list
  elements: list
  sample: [["/usr/sbin/gluster", "--mode=script", "--xml", "volume", "set", "gv0", "user.ganeti-gluster.rolling",
            "rolling 2026-12-kernel"]]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import GlusterCli, GlusterError
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.pool_lock import LOCK_OPTIONS, held_by
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.roll_mark import (
    OPTION,
    ROLL_ID,
    done_value,
    roll_under_way,
    under_way_value,
)


def wanted_marks(volumes, roll, present):
    """{volume: the value its mark must take} for the volumes whose mark changes.

    volumes: (name, options) pairs, each already checked free of another roll's mark
    (held_by refuses those)."""
    changes = {}
    for name, options in volumes:
        ours = roll_under_way((options or {}).get(OPTION), name) == roll
        if present and not ours:
            changes[name] = under_way_value(roll)
        elif not present and ours:
            changes[name] = done_value(roll)
    return changes


def main():
    module = AnsibleModule(
        argument_spec={
            "roll": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            **LOCK_OPTIONS,
        },
        supports_check_mode=True,
    )
    roll = module.params["roll"]
    if not ROLL_ID.match(roll):
        module.fail_json(
            msg=f"roll {roll!r} is no roll id: letters, digits, '.', '_', ':', '+' and '-', at most 128, "
            "starting with a letter or digit"
        )
    cli = GlusterCli(module)
    result = {"changed": False, "volumes": [], "marks": {}, "commands": []}
    # Under the lock, which first refuses another roll's mark (pool_lock.check_pool).
    with held_by(module, roll=roll):
        try:
            volumes = [(v.name, v.options) for v in cli.volumes()]
            changes = wanted_marks(volumes, roll, module.params["state"] == "present")
            before = {name: (options or {}).get(OPTION) for name, options in volumes}
            result["commands"] = [cli.argv("volume", "set", name, OPTION, value) for name, value in changes.items()]
            result["volumes"] = list(changes)
            result["marks"] = {**before, **changes}
            result["changed"] = bool(changes)
            if not module.check_mode:
                for name, value in changes.items():
                    cli.run("volume", "set", name, OPTION, value)
        except GlusterError as exc:
            module.fail_json(**exc.fail_kwargs(), **result)
    if module._diff:
        result["diff"] = {
            "before": {name: before[name] for name in changes},
            "after": dict(changes),
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()
