#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gluster_peer
short_description: Add hosts to, or remove them from, a GlusterFS trusted storage pool
version_added: "0.1.0"
description:
  - Runs on a host that is already a member of the pool (or on the first host of a new one).
  - With O(state=present), probes only the nodes that are not yet peers, then waits until every
    listed node is C(Peer in Cluster) and connected. A node found C(Peer Rejected), or still not
    connected when O(timeout) runs out, fails the task with the node's name and state.
  - With O(state=absent), detaches the listed peers. It refuses, before detaching anything, while
    any of them still hosts bricks of a volume, or when one of them is the host it runs on (glusterd
    detaches a peer only from another member).
  - With O(state=leaving), run on a member that leaves the pool and acts for it (the lowest glusterd UUID),
    once its bricks are moved. It detaches nobody, and hands the pool over. Under the pool's lock it
    checks that this host holds no brick of any volume, then records beside the lock that it hands over
    the pool, so that from then on every change that takes the lock here refuses (but one of a run that
    takes this host out too, O(pool_leaving)). The member that acts once it is gone then detaches it
    (O(state=absent) there). The record lapses once this host is detached.
  - With O(state=present), the host the module runs on may be listed; it is recognised by name or
    address and skipped.
options:
  nodes:
    description:
      - Host names or addresses of the nodes, as the other peers can reach them.
    type: list
    elements: str
    required: true
  state:
    description:
      - V(present) makes the nodes peers; V(absent) detaches them; V(leaving) hands the pool over from
        the host the module runs on, which O(nodes) must name (and name alone).
    type: str
    choices: [present, absent, leaving]
    default: present
  timeout:
    description:
      - Seconds to wait for probed nodes to become C(Peer in Cluster) and connected.
    type: int
    default: 120
  only_disconnected:
    description:
      - With O(state=absent), detach only the named peers that are disconnected when the module
        looks, under the pool's lock; a connected one is left, with a warning. For peers that were
        cut off during a join.
    type: bool
    default: false
extends_documentation_fragment:
  - ganeti_gluster.cluster.attributes.ACTION_MODULE
  - ganeti_gluster.cluster.pool_lock
notes:
  - Peer membership is read from C(gluster --xml pool list); a peer is a member when its state is 3
    (C(Peer in Cluster)) and it is connected.
seealso:
  - module: ganeti_gluster.cluster.gluster_pool_info
author:
  - ganeti_gluster.cluster developers (@ganeti-gluster)
"""

EXAMPLES = r"""
- name: Join node4 and node5 to the pool, from an existing member
  ganeti_gluster.cluster.gluster_peer:
    nodes: [node4, node5]
  run_once: true
  delegate_to: node1

- name: Remove a peer that hosts no bricks any more
  ganeti_gluster.cluster.gluster_peer:
    nodes: [node5]
    state: absent

- name: Node1 acts for the pool and leaves it; it hands over, then node2 detaches it
  ganeti_gluster.cluster.gluster_peer:
    nodes: [node1]
    state: leaving
  delegate_to: node1

- name: Detach node1, from the member that acts once it is gone
  ganeti_gluster.cluster.gluster_peer:
    nodes: [node1]
    state: absent
  delegate_to: node2
"""

RETURN = r"""
probed:
  description:
    - Nodes this run added to the pool (in check mode, the nodes that would be probed).
    - Every node that is not yet a peer is probed; one that C(gluster) answers is already a peer
      (known under another name or address) is probed but not listed here.
  returned: always
  type: list
  elements: str
  sample: [node4]
detached:
  description: Nodes detached by this run (in check mode, the nodes that would be).
  returned: always
  type: list
  elements: str
  sample:
    - node5
handed_over:
  description:
    - With O(state=leaving), the record of the hand-over in force on this host, with C(host_uuid), C(pool)
      (the UUIDs of the peers it hands the pool over to), C(owner) and C(since_text). Null when this host is
      in no pool, and in check mode when there was none yet.
  returned: always
  type: dict
  sample:
    host_uuid: 5ce3b234-9c83-451b-861c-2a998baa4118
    pool:
      - c4a3ad5d-ff05-457b-9125-a67f64cca061
      - e1bdcbc9-ad46-4cd2-b8f2-5b6903378063
    owner: remove-node.yml by ops
    since: 1796324823.4
    since_text: '2026-12-03T19:07:03Z'
commands:
  description: The C(gluster) commands run, or in check mode those that would run, as argv lists.
  returned: always
  type: list
  elements: list
  sample: [["/usr/sbin/gluster", "--mode=script", "--xml", "peer", "probe", "node4"]]
peers:
  description: The pool after the change, as in M(ganeti_gluster.cluster.gluster_pool_info).
  returned: always
  type: list
  elements: dict
  sample:
    - uuid: e1bdcbc9-ad46-4cd2-b8f2-5b6903378063
      hostname: node2
      hostnames:
        - node2
      connected: true
      state: 3
      state_str: Peer in Cluster
      local: false
      in_cluster: true
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    PEER_REJECTED,
    PROBE_NEW,
    GlusterCli,
    GlusterError,
    probe_outcome,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.hosts import (
    find_peer,
    is_this_host,
    is_valid_host,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.pool_lock import (
    LOCK_OPTIONS,
    hand_over_in_force,
    held_by,
    read_hand_over,
    write_hand_over,
)

POLL_SECONDS = 0.5


def peer_names(peers):
    return sorted(p.hostname for p in peers if not p.is_local)


def describe(peer):
    state = peer.state_str or f"state {peer.state}"
    return f"{state}, {'connected' if peer.connected else 'disconnected'}"


def wait_in_cluster(module, cli, nodes, timeout, result):
    """Wait until every node is in the cluster and connected; fail on rejection or timeout
    with `result` (what was probed)."""
    deadline = time.monotonic() + timeout
    while True:
        peers = cli.pool_list()
        pending = {}
        for node in nodes:
            peer = find_peer(node, peers)
            if peer is not None and peer.state == PEER_REJECTED:
                module.fail_json(
                    msg=f"{node} is in state Peer Rejected: its volume configuration conflicts with the pool's. "
                    f"Compare /var/lib/glusterd/vols on {node} with a healthy peer, then detach and probe it again.",
                    **result,
                    peers=[p.as_dict() for p in peers],
                )
            if peer is None or not peer.in_cluster:
                pending[node] = "not in the pool" if peer is None else describe(peer)
        if not pending:
            return peers
        if time.monotonic() >= deadline:
            states = "; ".join(f"{n}: {s}" for n, s in pending.items())
            module.fail_json(
                msg=f"peers not in cluster after {timeout}s ({states}). Check that glusterd runs on them and "
                "that they reach this host on TCP 24007.",
                **result,
                peers=[p.as_dict() for p in peers],
            )
        time.sleep(POLL_SECONDS)


def bricks_on(volumes, uuid):
    """Each volume's bricks on the peer with glusterd UUID `uuid`, in words."""
    found = []
    for volume in volumes:
        held = [b.name for b in volume.bricks if b.host_uuid == uuid]
        if held:
            found.append(f"volume {volume.name} ({', '.join(held)})")
    return found


def hand_over(module, cli, before, result):
    """state=leaving: record that this host hands the pool over, once it holds no brick."""
    local = next(p for p in before if p.is_local)
    record = read_hand_over(module.params["lock_path"])
    if hand_over_in_force(record, before):
        return record
    if len(before) == 1:
        return None  # in no pool: nothing to hand over
    held = bricks_on(cli.volumes(), local.uuid)
    if held:
        module.fail_json(
            msg="refusing to hand the pool over from this host while it holds bricks: "
            + "; ".join(held)
            + ". Move them off first (replace-brick, or remove-brick with a data migration). Nothing was changed.",
            **result,
        )
    result["changed"] = True
    if module.check_mode:
        return None
    return write_hand_over(module.params["lock_path"], local.uuid, before, module.params["lock_owner"])


def main():
    module = AnsibleModule(
        argument_spec={
            "nodes": {"type": "list", "elements": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent", "leaving"], "default": "present"},
            "timeout": {"type": "int", "default": 120},
            "only_disconnected": {"type": "bool", "default": False},
            **LOCK_OPTIONS,
        },
        supports_check_mode=True,
    )
    nodes = module.params["nodes"]
    state = module.params["state"]
    timeout = module.params["timeout"]

    bad = [n for n in nodes if not is_valid_host(n)]
    if bad:
        module.fail_json(msg=f"not host names or addresses: {', '.join(map(repr, bad))}")
    if timeout < 0:
        module.fail_json(msg=f"timeout must be 0 or more seconds, not {timeout}")
    here = [n for n in dict.fromkeys(nodes) if is_this_host(n)]
    others = [n for n in dict.fromkeys(nodes) if n not in here]
    if state == "absent" and here:
        module.fail_json(
            msg=f"{', '.join(here)} is the host this module runs on; glusterd detaches a peer only from another "
            "member. Detach it from the member that acts once it is gone; where it acted for the pool, hand the "
            "pool over from it first (state=leaving). Nothing was changed."
        )
    if state == "leaving" and (not here or others):
        module.fail_json(
            msg="state=leaving runs on the host that leaves and names it alone; nodes names "
            f"{', '.join(others) or 'nothing'}{' besides this host' if here else ''}. Nothing was changed."
        )

    cli = GlusterCli(module)
    result = {"changed": False, "probed": [], "detached": [], "commands": [], "handed_over": None}
    with held_by(module):
        try:
            before = cli.pool_list()
            if state == "leaving":
                result["handed_over"] = hand_over(module, cli, before, result)
                after_names = peer_names(before)
                peers = before
            elif state == "present":
                missing = [n for n in others if find_peer(n, before) is None]
                result["commands"] = [cli.argv("peer", "probe", n) for n in missing]
                after_names = sorted(set(peer_names(before)) | set(missing))
                if module.check_mode:
                    result["probed"] = list(missing)
                else:
                    # Every missing node is probed; `probed` is a list of its own, built from the answers.
                    for node in missing:
                        if probe_outcome(cli.run("peer", "probe", node)) == PROBE_NEW:
                            result["probed"].append(node)
                            result["changed"] = True
                        # Otherwise known under another name after all: nothing was added.
                peers = before if module.check_mode else wait_in_cluster(module, cli, others, timeout, result)
            else:
                present = {n: find_peer(n, before) for n in others}
                present = {n: p for n, p in present.items() if p is not None}
                if module.params["only_disconnected"]:
                    # Checked again here, under the lock: a peer that came back stays.
                    back = [n for n, p in present.items() if p.connected]
                    for node in back:
                        module.warn(f"{node} is connected again; it is not detached")
                        del present[node]
                hosting = []
                volumes = cli.volumes() if present else []
                for node, peer in present.items():
                    hosting += [f"{node} hosts bricks of {held}" for held in bricks_on(volumes, peer.uuid)]
                if hosting:
                    module.fail_json(
                        msg="refusing to detach peers that host bricks: "
                        + "; ".join(hosting)
                        + ". Move the bricks off first (replace-brick, or remove-brick with a data migration).",
                        **result,
                    )
                result["commands"] = [cli.argv("peer", "detach", n) for n in present]
                after_names = sorted(set(peer_names(before)) - {p.hostname for p in present.values()})
                if module.check_mode:
                    result["detached"] = list(present)
                else:
                    # Built from the answers: a failed run names only what it detached.
                    for node in present:
                        cli.run("peer", "detach", node)
                        result["detached"].append(node)
                        result["changed"] = True
                peers = before if module.check_mode else cli.pool_list()
        except GlusterError as exc:
            module.fail_json(**exc.fail_kwargs(), **result)

    result["changed"] = bool(result["changed"] or result["probed"] or result["detached"])
    result["peers"] = [p.as_dict() for p in peers]
    if module._diff:
        result["diff"] = {
            "before": {"peers": peer_names(before)},
            "after": {"peers": after_names},
        }
        if state == "leaving":
            result["diff"]["before"]["hands_over"] = not result["changed"] and result["handed_over"] is not None
            result["diff"]["after"]["hands_over"] = result["changed"] or result["handed_over"] is not None
    module.exit_json(**result)


if __name__ == "__main__":
    main()
