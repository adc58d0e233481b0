#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gluster_roll_mark
short_description: Mark a GlusterFS pool as under a rolling maintenance, so that no other run changes it
version_added: "0.2.0"
description:
  - A rolling maintenance (C(rolling.yml)) takes one node's Gluster down at a time for as long as the operator's
    work takes, a reboot included, which no lock held by a module can span. Under the pool's lock, this module
    marks every volume of the pool with the roll (volume option C(user.ganeti-gluster.rolling), value
    C(rolling ROLL RUN)) before the roll's first node, and marks the roll done (C(done ROLL)) after its last.
  - While a volume carries the mark of a roll, every module of this collection that changes the pool
    (M(ganeti_gluster.cluster.gluster_peer), M(ganeti_gluster.cluster.gluster_volume),
    M(ganeti_gluster.cluster.gluster_volume_drain)) refuses, under the lock and before any change, and so do
    the preflights of C(site.yml), C(add-node.yml), C(remove-node.yml) and C(replace-node.yml). A roll may have
    a node drained, down or rebooting; a replacement would take that node for dead.
  - The mark also names the run that holds the roll (O(run)), as two runs of one roll would each take a node
    down at once. O(state=present) claims the roll for O(run), and refuses, before any change, while another run
    holds it. A run that stops lets go (O(state=released), C(rolling ROLL)), so that the next run of the roll
    claims it; a run cut off before it could let go leaves its claim, which only O(takeover) replaces.
  - glusterd keeps the option on every peer; a peer whose glusterd is down takes it when it comes back. The
    mark is ended by C(volume set), never C(volume reset), which glusterd refuses for a C(user.*) option.
  - While a peer is not connected, no mark is changed (RV(deferred) names the peers; a refusal still refuses),
    as a glusterd that comes back to a volume changed while it was down may lose track of its own self-heal
    daemon (found on the lab with Gluster 10.3). A run calls the module again once every peer is back.
  - O(state=present) refuses, before any change, while another roll's mark is on a volume, naming it.
    O(state=released) and O(state=absent) change only this roll's mark, held by O(run), by a run in O(takeover)
    or by no run; a mark another run holds is left as it is, with a warning.
options:
  roll:
    description:
      - "The roll's id (C(rolling_id)): letters, digits, C(.), C(_), C(:), C(+) and C(-), at most 128."
    type: str
    required: true
  run:
    description:
      - The id of this run of the roll (the same alphabet as O(roll)), unique to it. Without it, the mark names
        no run, and any run of the roll may claim it.
    type: str
  takeover:
    description:
      - The ids of runs that hold the roll and no longer go on (a controller killed, a job cancelled, a run
        stopped by Ctrl-C). Their claims count as this run's, and O(state=present) replaces them by O(run). Give them
        only once those runs are known to be gone; a run that still goes on would take its next node down beside
        this run's.
    type: list
    elements: str
    default: []
  state:
    description:
      - V(present), every volume marked with this roll, held by O(run); V(released), this roll's mark held by
        no run (the roll stays under way); V(absent), this roll's mark ended on every volume that has it.
    type: str
    choices: [present, released, absent]
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
    run: 20261203T101500Z-3f2a
    pool_members: "{{ member_uuids }}"
  delegate_to: "{{ acting_member }}"
  run_once: true

- name: Let go of the roll when this run stops early (the next run of the roll goes on)
  ganeti_gluster.cluster.gluster_roll_mark:
    roll: 2026-12-kernel
    run: 20261203T101500Z-3f2a
    state: released
  delegate_to: "{{ acting_member }}"
  run_once: true

- name: End the roll's mark once its last node healed
  ganeti_gluster.cluster.gluster_roll_mark:
    roll: 2026-12-kernel
    run: 20261203T101500Z-3f2a
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
  sample: {"gv0": "rolling 2026-12-kernel 20261203T101500Z-3f2a"}
deferred:
  description: The peers not connected, for which the marks were left as they are (empty when none).
  returned: success
  type: list
  elements: str
  sample: []
held_by:
  description: >-
    Each volume whose mark another run of this roll holds, with that run's id: left as it is (with
    O(state=present), the module fails before any change).
  returned: success
  type: dict
  sample: {}
commands:
  description: The commands that changed the pool (in check mode, would change it), as argv lists.
  returned: always
  type: list
  elements: list
  sample: [["/usr/sbin/gluster", "--mode=script", "--xml", "volume", "set", "gv0", "user.ganeti-gluster.rolling",
            "rolling 2026-12-kernel 20261203T101500Z-3f2a"]]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import GlusterCli, GlusterError
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.pool_lock import LOCK_OPTIONS, held_by
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.roll_mark import (
    OPTION,
    ROLL_ID,
    done_value,
    mark_under_way,
    under_way_value,
)


def wanted_marks(volumes, roll, state, run=None, takeover=()):
    """({volume: the value its mark must take}, {volume: the other run that holds it}).

    volumes: (name, options) pairs, each already checked free of another roll's mark
    (held_by refuses those). A mark of this roll held by a run other than `run` (and
    than those in `takeover`) is not changed."""
    changes, held = {}, {}
    for name, options in volumes:
        value = (options or {}).get(OPTION)
        mark = mark_under_way(value, name)
        ours = mark is not None and mark.roll == roll
        if ours and mark.run not in (None, run, *takeover):
            held[name] = mark.run
            continue
        wanted = {
            "present": under_way_value(roll, run),
            "released": under_way_value(roll) if ours else None,
            "absent": done_value(roll) if ours else None,
        }[state]
        if wanted is not None and wanted != value:
            changes[name] = wanted
    return changes, held


def held_message(roll, held):
    """Who holds the roll: held is wanted_marks' {volume: run}."""
    return (
        f"roll {roll} is held by another run of it, {', '.join(sorted(set(held.values())))} "
        f"(volume{'s' if len(held) > 1 else ''} {', '.join(sorted(held))}, {OPTION}): that run goes on, or it was "
        "cut off before it could let go of the roll (a killed controller, a cancelled job, Ctrl-C, a node that "
        "did not answer when it failed)"
    )


def main():
    module = AnsibleModule(
        argument_spec={
            "roll": {"type": "str", "required": True},
            "run": {"type": "str"},
            "takeover": {"type": "list", "elements": "str", "default": []},
            "state": {"type": "str", "choices": ["present", "released", "absent"], "default": "present"},
            **LOCK_OPTIONS,
        },
        supports_check_mode=True,
    )
    p = module.params
    roll, run, state = p["roll"], p["run"] or None, p["state"]
    ids = [("roll", roll), *([("run", run)] if run else []), *(("takeover", t) for t in p["takeover"])]
    for option, value in ids:
        if not ROLL_ID.match(value):
            module.fail_json(
                msg=f"{option} {value!r} is no {'roll' if option == 'roll' else 'run'} id: letters, digits, '.', "
                "'_', ':', '+' and '-', at most 128, starting with a letter or digit"
            )
    cli = GlusterCli(module)
    result = {"changed": False, "volumes": [], "marks": {}, "held_by": {}, "deferred": [], "commands": []}
    # Under the lock, which first refuses another roll's mark (pool_lock.check_pool).
    with held_by(module, roll=roll):
        try:
            volumes = [(v.name, v.options) for v in cli.volumes()]
            changes, held = wanted_marks(volumes, roll, state, run, p["takeover"])
            result["held_by"] = held
            if held and state == "present":
                others = ",".join(sorted(set(held.values()) | set(p["takeover"])))
                module.fail_json(
                    msg=f"{held_message(roll, held)}. Two runs of one roll would take two nodes down at once. "
                    f"Nothing was changed. Once that run is known to be gone, take the roll over: takeover={others} "
                    f"(rolling.yml: -e rolling_takeover={others})",
                    **result,
                )
            if held:
                module.warn(f"{held_message(roll, held)}; its mark is left as it is.")
            down = sorted(peer.hostname for peer in cli.pool_list() if not peer.is_local and not peer.connected)
            if changes and down:
                # A glusterd that comes back to a volume changed meanwhile may lose track of its
                # self-heal daemon (found on the lab): the mark changes once every peer is back.
                result["deferred"] = down
                changes = {}
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
