# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure decisions of rolling.yml, made on the controller before any node is touched.

rolling_order: the hosts to roll, one at a time, the Ganeti master last.

rolling_refusals: what forbids taking each of them down with every volume
served: Gluster supports no online upgrade of a dispersed or a pure distribute
volume, a replica set must keep its quorum with the host down, and so must the
pool's server quorum when a volume has it on.

rolling_plan: what --check prints: each host's turn, its instances' moves, and its
sets as they stand while it is down.
"""

from __future__ import annotations

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.health import set_in_quorum


def rolling_order(hosts, wanted=None, master=None, unfinished=None, done=None):
    """hosts: the inventory's hosts of gluster_pool and ganeti_nodes, in inventory order;
    wanted: the hosts asked for (a list or a comma-separated string; empty or None: all);
    master: the host that is the Ganeti master (None without Ganeti); unfinished: hosts an
    earlier roll left down or drained, finished first whether asked for or not; done:
    hosts this roll (its rolling_id) has finished, left out.

    Returns {"order": hosts to roll, the master last; "errors": names not in `hosts`;
    "done": the hosts asked for that are left out as done}."""
    hosts = list(dict.fromkeys(hosts))
    if isinstance(wanted, str):
        wanted = [n.strip() for n in wanted.split(",") if n.strip()]
    wanted = list(dict.fromkeys(wanted or hosts))
    errors = [
        f"{name} is not a host of gluster_pool or ganeti_nodes in this inventory"
        for name in wanted
        if name not in hosts
    ]
    first = [h for h in hosts if h in (unfinished or ())]
    skipped = [h for h in hosts if h in wanted and h in (done or ()) and h not in first]
    order = first + [h for h in hosts if h in wanted and h != master and h not in first + skipped]
    if master in wanted and master not in first + skipped:
        order.append(master)
    return {"order": order, "errors": errors, "done": skipped}


def _members(volume, index):
    return [b for b in volume["bricks"] if b["set"] == index]


def rolling_refusals(volumes, uuids):
    """volumes: the volume reports of gluster_volume_health; uuids: host to roll -> its
    glusterd UUID. Each line says what taking one host down would break, and what to do."""
    refusals = []
    for volume in volumes:
        name, kind = volume["name"], (volume.get("type") or "").lower()
        quorum = volume.get("quorum") or {}
        # Server quorum counts every peer of the pool, whether it holds bricks of the volume or not.
        if uuids and quorum.get("server_enabled") and quorum["server_total"] - 1 < quorum["server_needed"]:
            refusals.append(
                f"volume {name} has server quorum on (cluster.server-quorum-type server), which needs "
                f"{quorum['server_needed']} of the pool's {quorum['server_total']} peers active: with one of "
                f"{', '.join(uuids)} down, glusterd would stop every brick of {name} on every server. Add a peer, "
                "or lower cluster.server-quorum-ratio, first"
            )
            continue
        holders = [h for h, uuid in uuids.items() if any(b["host_uuid"] == uuid for b in volume["bricks"])]
        if not holders:
            continue
        if "disperse" in kind:
            refusals.append(
                f"volume {name} is dispersed ({volume['type']}), and Gluster supports no online upgrade of a "
                f"dispersed volume ({', '.join(holders)} hold bricks of it): follow Gluster's offline upgrade "
                "procedure (stop the volume, upgrade every server, start it)"
            )
            continue
        if all(len(_members(volume, s["index"])) == 1 for s in volume["sets"]):
            refusals.append(
                f"volume {name} is pure distribute: its files on {', '.join(holders)} are unreachable while that "
                "host is down, and Gluster supports no online upgrade of it: follow Gluster's offline upgrade "
                "procedure, or make it replicated first"
            )
            continue
        for host in holders:
            for entry in volume["sets"]:
                members = _members(volume, entry["index"])
                flags = [b["host_uuid"] != uuids[host] for b in members]
                if all(flags):
                    continue
                bricks = ", ".join(b["name"] for b in members)
                if not set_in_quorum(volume, entry, flags):
                    refusals.append(
                        f"set {entry['index']} of volume {name} ({bricks}) keeps {sum(flags)} of {len(members)} "
                        f"bricks with {host} down, {entry['quorum']} needed: its files would not be writable. Add "
                        f"an arbiter or a third replica first (or move a brick off {host})"
                    )
                elif entry["quorum"] <= 1 and len(members) > 1 and _data_copies(members, flags) == 1:
                    # AFR then writes to the one copy left and nothing guards against a split-brain.
                    refusals.append(
                        f"set {entry['index']} of volume {name} ({bricks}) keeps one copy of its files with "
                        f"{host} down, and its client quorum is one brick (cluster.quorum-type "
                        f"{quorum.get('client')}): every write would go to that copy alone, with nothing "
                        "to stop a split-brain. Add an arbiter or a third replica first (or set "
                        f"cluster.quorum-type auto, or move a brick off {host})"
                    )
    return refusals


def _data_copies(members, online_flags):
    """Copies of the files left online: the bricks online, an arbiter (which holds none) left out."""
    return sum(1 for brick, online in zip(members, online_flags, strict=True) if online and not brick.get("arbiter"))


def rolling_plan(order, moves, volumes, uuids, master=None):
    """order: the hosts to roll; moves: host -> the instance moves its drain would make
    (ganeti_node_maintenance's plan); volumes: gluster_volume_health's volume reports;
    uuids: host -> glusterd UUID; master: the Ganeti master. One line per host: its turn,
    its instances' moves, and each replica set it holds a brick of, as it stands with the
    host down (bricks online, and the quorum needed)."""
    lines = []
    for turn, host in enumerate(order, 1):
        handover = " (the Ganeti master: handed over to a master candidate first)" if host == master else ""
        planned = moves.get(host) or []
        instances = ", ".join(f"{m['instance']} to {m['to']} ({m['how']})" for m in planned) or "none"
        sets = []
        for volume in volumes:
            for entry in volume["sets"]:
                members = _members(volume, entry["index"])
                if host not in uuids or not any(b["host_uuid"] == uuids[host] for b in members):
                    continue
                up = sum(1 for b in members if b["host_uuid"] != uuids[host] and b.get("online"))
                sets.append(
                    f"{volume['name']} set {entry['index']} {up} of {len(members)} up ({entry['quorum']} needed)"
                )
        down = "; ".join(sets) or "no brick"
        lines.append(f"{turn}. {host}{handover}: instances {instances}; while it is down: {down}")
    return lines


class FilterModule:
    def filters(self):
        return {"rolling_order": rolling_order, "rolling_refusals": rolling_refusals, "rolling_plan": rolling_plan}
