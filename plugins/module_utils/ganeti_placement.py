# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where instances leaving a node go: the nodes that can take them, and a placement
that fits each target's free memory. Pure; ganeti_node fails instances over off a
leaving node with it, ganeti_node_maintenance live-migrates them off a node under
maintenance."""

from __future__ import annotations


def failover_targets(states, leaving):
    """(targets, why each other node is not one) among the nodes that stay: a failover's
    target must be online, not drained (Ganeti's CheckNodeNotDrained), vm_capable, and
    answer the master (Ganeti asks it for its bridges and, to start the instance, its
    free memory). Pure."""
    targets, excluded = [], []
    for state in states:
        if state.name in leaving:
            continue
        if state.offline:
            excluded.append(f"{state.name} is offline")
        elif state.drained:
            excluded.append(f"{state.name} is drained")
        elif not state.vm_capable:
            excluded.append(f"{state.name} is not vm_capable")
        elif state.boot_id is None:
            excluded.append(f"{state.name}'s ganeti-noded does not answer the master")
        else:
            targets.append(state)
    return targets, excluded


def minmem(instance):
    return instance.min_memory


def maxmem(instance):
    return instance.max_memory


# How much memory a failover that starts an instance is given room for on its target:
# what the guest may use (its maxmem: Ganeti starts it with up to that much, and a KVM
# guest's memory is taken as it touches it, so the target's free memory does not show
# what guests started there may still take), or only what Ganeti checks (its minmem; the
# guests are trusted to balloon down).
FAILOVER_MEMORY = {"maxmem": maxmem, "minmem": minmem}
# Why a failover needs what it needs, by the same choice (for a refusal's message).
FAILOVER_MEMORY_WHY = {
    "maxmem": "its maxmem: Ganeti starts it with up to that much, and the guest may use all of it",
    "minmem": "its minmem, which Ganeti checks before it starts it there",
}


def _pack(starting, room, pick, need=minmem):
    """Place each instance of `starting` (largest `need` first) on the node `pick` chooses
    among those with room for it; (placement, instances that fit nowhere, room left)."""
    room = dict(room)
    placed, unplaced = {}, []
    for instance in sorted(starting, key=lambda i: -need(i)):
        fitting = [name for name, free in room.items() if free is not None and free >= need(instance)]
        if not fitting:
            unplaced.append(instance)
            continue
        target = pick(fitting, key=lambda name: room[name])
        room[target] -= need(instance)
        placed[instance.name] = target
    return placed, unplaced, room


def pack_by_memory(starting, room, need=minmem):
    """Greedy, largest first: each onto the target with the most memory left (load
    spreads); if that leaves one out, again onto the target with the least memory that
    still fits (packs tighter). Ties go by the order of `room` (Ganeti's node order).
    `room`: {target: MiB free, or None when unknown}; `need(instance)`: MiB it takes.
    (placement {instance: target}, instances that fit nowhere, room left)."""
    placed, unplaced, left = _pack(starting, room, max, need)
    if unplaced:
        placed, unplaced, left = _pack(starting, room, min, need)
    return placed, unplaced, left


def spread_the_rest(placed, targets, rest):
    """Place `rest` (instances that need no memory there) each on the target that has
    received fewest so far; `placed` is updated and returned."""
    received = dict.fromkeys(targets, 0)
    for target in placed.values():
        received[target] += 1
    for instance in rest:
        target = min(received, key=lambda name: received[name])
        received[target] += 1
        placed[instance.name] = target
    return placed


def free_memory_left(left):
    """'node1 256 MiB, node2 unknown' from pack_by_memory's room left."""
    return ", ".join(f"{name} {'unknown' if mib is None else f'{mib} MiB'}" for name, mib in left.items())


def place_instances(moving, targets, memory="maxmem"):
    """({instance: target}, shortages) for failing `moving` over onto `targets` so that the
    whole evacuation fits. Pure.

    Ganeti checks, before it starts a failed-over instance (admin state up), that the
    target has the instance's minmem free (TLMigrateInstance.CheckPrereq,
    CheckNodeFreeMemory), then starts it with up to its maxmem
    (hv_base._InstanceStartupMemory); one that stays down needs none. Each target must
    have free the sum of what it receives, by `memory` (see FAILOVER_MEMORY): see
    pack_by_memory. Instances that stay down go to the target that received fewest."""
    need = FAILOVER_MEMORY[memory]
    shortages = [
        f"Ganeti gives no {memory} for {i.name}, so its new node's memory cannot be checked"
        for i in moving
        if i.admin_up and need(i) is None
    ]
    starting = [i for i in moving if i.admin_up and need(i) is not None]
    room = {t.name: t.memory_free for t in targets}
    placed, unplaced, left = pack_by_memory(starting, room, need)
    balloon = (
        "; a guest that gives memory back (a balloon driver) needs only its minmem: failover_memory=minmem"
        if memory == "maxmem"
        else ""
    )
    for instance in unplaced:
        shortages.append(
            f"{instance.name} needs {need(instance)} MiB free on its new node ({FAILOVER_MEMORY_WHY[memory]}) and "
            f"no node has that much left once the others are placed ({free_memory_left(left)}): free memory there, "
            f"or move instances elsewhere first{balloon}"
        )
    spread_the_rest(placed, room, [i for i in moving if not i.admin_up])
    return placed, shortages
