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


def _pack(starting, room, pick, need, takes):
    """Place each instance of `starting` (largest `need` first) on the node `pick` chooses
    among those with `need` free; it then takes `takes` of the room, or what is left
    when less. (placement in that order, instances that fit nowhere, room left)."""
    room = dict(room)
    placed, unplaced = {}, []
    for instance in sorted(starting, key=lambda i: -need(i)):
        fitting = [name for name, free in room.items() if free is not None and free >= need(instance)]
        if not fitting:
            unplaced.append(instance)
            continue
        target = pick(fitting, key=lambda name: room[name])
        room[target] -= min(takes(instance), room[target])
        placed[instance.name] = target
    return placed, unplaced, room


def pack_by_memory(starting, room, need=minmem, takes=None):
    """Greedy, largest first: each onto the target with the most memory left (load
    spreads); if that leaves one out, again onto the target with the least memory that
    still fits (packs tighter). Ties go by the order of `room` (Ganeti's node order).
    `room`: {target: MiB free, or None when unknown}; `need(instance)`: MiB it wants
    free there; `takes(instance)`: MiB it then takes at most (`need` when not given).
    (placement {instance: target}, in the order the instances must move for it to
    hold; instances that fit nowhere; room left)."""
    takes = takes or need
    placed, unplaced, left = _pack(starting, room, max, need, takes)
    if unplaced:
        placed, unplaced, left = _pack(starting, room, min, need, takes)
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


def place_instances(moving, targets):
    """({instance: target}, shortages) for failing `moving` over onto `targets` so that the
    whole evacuation fits. Pure.

    Ganeti checks, before it starts a failed-over instance (admin state up), that the
    target has the instance's minmem free (TLMigrateInstance.CheckPrereq,
    CheckNodeFreeMemory); one that stays down needs none. The hypervisor then starts it
    with as much of the free memory as its maxmem allows (hv_base._InstanceStartupMemory),
    so the next instance on that target finds only what is left: see pack_by_memory, whose
    order the failovers keep. Instances that stay down go to the target that received
    fewest."""
    shortages = [
        f"Ganeti gives no minmem or maxmem for {i.name}, so its new node's memory cannot be checked"
        for i in moving
        if i.admin_up and (i.min_memory is None or i.max_memory is None)
    ]
    starting = [i for i in moving if i.admin_up and i.min_memory is not None and i.max_memory is not None]
    room = {t.name: t.memory_free for t in targets}
    placed, unplaced, left = pack_by_memory(starting, room, takes=maxmem)
    for instance in unplaced:
        shortages.append(
            f"{instance.name} needs {instance.min_memory} MiB free on its new node (its minmem; Ganeti starts it "
            "there, and each instance started there before it takes up to its maxmem) and no node has that much "
            f"left once the others are placed ({free_memory_left(left)}): free memory there, or move instances "
            "elsewhere first"
        )
    spread_the_rest(placed, room, [i for i in moving if not i.admin_up])
    return placed, shortages
