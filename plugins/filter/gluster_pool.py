# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure decisions of the gluster_pool role, made on the controller before anything changes.

gluster_pool_plan: from each host's view of the pool (gluster_pool_info, or
unreachable, or no glusterd yet), which hosts are members, which join in this
run, which existing member acts for the pool, and what forbids the run.

gluster_pool_placement: whether the new bricks can be placed in sets on
distinct hosts, with the planner gluster_volume itself uses.
"""

from __future__ import annotations

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.brick_placement import (
    BrickRef,
    Layout,
    PlacementError,
    plan_sets,
)


def _answered(view):
    return bool(view) and not view.get("unreachable") and not view.get("failed") and view.get("local_uuid")


def _pool_uuids(view):
    """Every peer of the pool as this host sees it, whatever the peer's state."""
    return {p["uuid"] for p in view.get("peers", [])}


def gluster_pool_plan(views, hosts, add_nodes=None, peer_names=None):
    """Who is a member, who joins, who acts for the pool; and the errors that forbid the run.

    views: host -> registered result of gluster_pool_info (unreachable or failed for hosts
      without a running glusterd); hosts: the gluster_pool group in inventory order;
    add_nodes: hosts this run may join (None: every host that is not a member);
    peer_names: host -> the name Gluster knows it by (default: the host's name).
    """
    hosts = list(hosts)
    views = dict(views or {})
    peer_names = dict(peer_names or {})
    name = {h: peer_names.get(h) or h for h in hosts}
    errors, warnings = [], []

    if add_nodes is not None:
        if isinstance(add_nodes, str):
            add_nodes = [n.strip() for n in add_nodes.split(",") if n.strip()]
        unknown = [n for n in add_nodes if n not in hosts]
        if unknown:
            errors.append(f"add_nodes names hosts that are not in the gluster_pool group: {', '.join(unknown)}")
        if not add_nodes:
            errors.append("add_nodes is empty; name the hosts to join, or leave it out to join every new host")

    answered = [h for h in hosts if _answered(views.get(h))]
    established = [h for h in answered if len(views[h].get("peers", [])) > 1]

    # Hosts that already belong to a pool must all belong to the same one.
    anchor = None
    pool = set()
    for host in established:
        uuids = _pool_uuids(views[host])
        if anchor is None:
            anchor, pool = host, uuids
        elif views[host]["local_uuid"] not in pool:
            errors.append(
                f"{anchor} and {host} belong to different trusted pools; this playbook joins hosts to one pool, "
                f"so take {host} out of the gluster_pool group or out of its pool first"
            )

    if anchor is None:
        fresh = True
        reachable = [h for h in hosts if not (views.get(h) or {}).get("unreachable")]
        anchor = reachable[0] if reachable else None
        members = [anchor] if anchor else []
    else:
        fresh = False
        members = [h for h in answered if views[h]["local_uuid"] in pool]
        peers = views[anchor].get("peers", [])
        for peer in peers:
            if peer.get("local"):
                continue
            host = next((h for h in hosts if name[h] in peer.get("hostnames", [peer["hostname"]])), None)
            if host is None:
                warnings.append(
                    f"peer {peer['hostname']} is in the pool but not in the gluster_pool group; left as it is"
                )
                continue
            if (views.get(host) or {}).get("unreachable"):
                errors.append(f"existing member {host} is unreachable; fix it (or its SSH access) before joining hosts")
            elif not peer.get("in_cluster"):
                state = peer.get("state_str") or f"state {peer.get('state')}"
                connected = "connected" if peer.get("connected") else "disconnected"
                errors.append(
                    f"existing member {host} is {state}, {connected}, as {anchor} sees it; "
                    "every member must be Peer in Cluster and connected"
                )
            elif host not in members:
                members.append(host)
        members.sort(key=hosts.index)

    candidates = [h for h in hosts if h not in members]
    if add_nodes is not None:
        joining = [h for h in candidates if h in add_nodes]
        skipped = [h for h in candidates if h not in add_nodes]
    else:
        joining, skipped = candidates, []
    for host in joining:
        view = views.get(host) or {}
        if view.get("unreachable"):
            errors.append(f"{host} is unreachable; it cannot join")
        elif _answered(view) and len(view.get("peers", [])) > 1 and not fresh:
            others = ", ".join(sorted(p["hostname"] for p in view["peers"] if not p.get("local")))
            errors.append(f"{host} already belongs to another trusted pool (peers: {others}); detach it there first")

    return {
        "anchor": anchor,
        "fresh": fresh,
        "members": members,
        "joining": joining,
        "skipped": skipped,
        "errors": errors,
        "warnings": warnings,
    }


def gluster_pool_placement(new_bricks, layout, failure_domains=None, volume="the volume"):
    """The sets the new bricks would form, or in `error` why they cannot be placed."""
    layout = layout or {}
    try:
        plan = plan_sets(
            [BrickRef.parse(b) for b in new_bricks],
            Layout(
                replica=int(layout.get("replica") or 1),
                arbiter=int(layout.get("arbiter") or 0),
                disperse=int(layout.get("disperse") or 0),
                redundancy=int(layout.get("redundancy") or 0),
            ),
            {k: v for k, v in (failure_domains or {}).items() if v},
            volume=volume,
        )
    except PlacementError as exc:
        return {"sets": [], "warnings": [], "error": str(exc)}
    return {"sets": [[str(b) for b in group] for group in plan.sets], "warnings": plan.warnings, "error": None}


def gluster_pool_layout(volume=None, replica=3, arbiter=0, disperse=None, redundancy=None):
    """The layout as a dict: the existing volume's (from gluster_volume_info), else the one asked for."""
    if volume:
        disperse_count = int(volume.get("disperse_count") or 0)
        return {
            "replica": 1 if disperse_count else int(volume.get("replica_count") or 1),
            "arbiter": int(volume.get("arbiter_count") or 0),
            "disperse": disperse_count,
            "redundancy": int(volume.get("redundancy_count") or 0),
        }
    return {
        "replica": 1 if disperse else int(replica or 1),
        "arbiter": int(arbiter or 0),
        "disperse": int(disperse or 0),
        "redundancy": int(redundancy or 0),
    }


def gluster_pool_brick_problems(
    infos, specs, device_checks, peer_name, volume_name, volume_id, volume_bricks, allow_root, min_bytes
):
    """What makes a host's declared bricks unusable, in words (empty when they are fine).

    infos: gluster_brick_info's bricks, in the order of specs (the host's gluster_pool_bricks);
    device_checks: gluster_brick results in check mode for the specs that have a device (registered
      with failed_when: false).
    """
    problems = []
    for info, spec in zip(infos or [], specs or [], strict=False):
        path = info["path"]
        if not spec.get("device"):
            if info.get("on_root_fs") and not allow_root:
                problems.append(
                    f"{path} is on the root filesystem (set gluster_pool_allow_root_bricks: true to allow it)"
                )
            if (info.get("size_bytes") or 0) < int(min_bytes):
                problems.append(
                    f"{path} is on a filesystem of {info.get('size_bytes')} bytes, less than "
                    f"gluster_pool_brick_min_bytes ({min_bytes})"
                )
        found_id = info.get("volume_id")
        if found_id and found_id != volume_id:
            problems.append(f"{path} carries the id of another volume ({found_id}); it is, or was, a brick elsewhere")
        elif found_id and f"{peer_name}:{path}" not in (volume_bricks or []) and not info.get("empty"):
            problems.append(f"{path} carries volume {volume_name}'s id but is not one of its bricks, and holds data")
    for check in device_checks or []:
        # Registered with failed_when: false, which overwrites `failed`; a successful
        # gluster_brick result always carries `brick`, a refusal never does.
        if check.get("failed") or "brick" not in check:
            problems.append(check.get("msg", "the brick device check failed"))
        elif (check.get("device_bytes") or 0) < int(min_bytes):
            device = check.get("item", {}).get("device")
            problems.append(
                f"{device} has {check.get('device_bytes')} bytes, less than gluster_pool_brick_min_bytes ({min_bytes})"
            )
    return problems


class FilterModule:
    def filters(self):
        return {
            "gluster_pool_plan": gluster_pool_plan,
            "gluster_pool_placement": gluster_pool_placement,
            "gluster_pool_layout": gluster_pool_layout,
            "gluster_pool_brick_problems": gluster_pool_brick_problems,
        }
