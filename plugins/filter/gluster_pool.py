# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure decisions of the gluster_pool role, made on the controller before anything changes.

gluster_pool_plan: from each host's view of the pool (gluster_pool_info, or
unreachable, or no glusterd yet), which hosts are members, which join in this
run, which existing member acts for the pool, and what forbids the run.

gluster_pool_acting: the member that acts for the pool (and holds its lock), by
the one rule every entry point uses; with the hosts a drain takes out, the member
that acts once they are gone.

gluster_pool_join_blockers: what a later step of a join would fail on, found
before it changes anything.

gluster_pool_placement: whether the new bricks can be placed in sets on
distinct hosts, with the planner gluster_volume itself uses.
"""

from __future__ import annotations

import re

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.brick_placement import (
    BrickRef,
    Layout,
    PlacementError,
    plan_sets,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    TASK_REBALANCE,
    TASK_REMOVE_BRICK,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.hosts import (
    addresses,
    agreement,
    identity,
    match_identities,
    normalized,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.rebalance_mark import (
    OPTION as REBALANCE_MARK,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.rebalance_mark import (
    MarkError,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.rebalance_mark import (
    parse as parse_mark,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.roll_mark import OPTION as ROLL_MARK
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.roll_mark import MarkError as RollMarkError
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.roll_mark import refusal as roll_refusal
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.roll_mark import rolls_under_way

# gluster_volume waits this long for every brick to be online before a rebalance.
BRICKS_ONLINE_TIMEOUT = 60


def _answered(view):
    return bool(view) and not view.get("unreachable") and not view.get("failed") and view.get("local_uuid")


def _not_in_cluster(member, entry, seen_by):
    """The refusal for `member`, whose `pool list` entry on `seen_by` is not in the cluster."""
    state = entry.get("state_str") or f"state {entry.get('state')}"
    connected = "connected" if entry.get("connected") else "disconnected"
    return (
        f"existing member {member} is {state}, {connected}, as {seen_by} sees it; "
        "every member must be Peer in Cluster and connected"
    )


def _pool_uuids(view):
    """Every peer of the pool as this host sees it, whatever the peer's state."""
    return {p["uuid"] for p in view.get("peers", [])}


def _host_identity(host, view, explicit_name, extra_names, resolve):
    """Who an inventory host is: its inventory names, and what it says of itself
    (gluster_pool_info's `host`, returned even without glusterd); a host that did not
    answer at all is what its inventory names resolve to on the controller."""
    me = (view or {}).get("host") or {}
    names = [host, explicit_name, *extra_names, me.get("hostname"), me.get("fqdn")]
    return identity(names, me.get("addresses", []), resolve=None if me else resolve)


def _peer_identity(peer):
    return identity(peer.get("hostnames") or [peer["hostname"]], peer.get("addresses", []))


def gluster_pool_plan(
    views,
    hosts,
    add_nodes=None,
    peer_names=None,
    inventory_names=None,
    storage_hosts=None,
    resolve=addresses,
    joins=True,
    lost=None,
):
    """Who is a member, who joins, who acts for the pool, the name Gluster knows each
    host by; and the errors that forbid the run.

    views: host -> registered result of gluster_pool_info (unreachable or failed for hosts
      without a running glusterd); hosts: the gluster_pool group in inventory order;
    add_nodes: hosts this run may join (None: every host that is not a member);
    peer_names: host -> gluster_pool_peer_name, where the inventory sets one;
    inventory_names: host -> other names the inventory gives it (ansible_host);
    storage_hosts: the hosts that declare bricks (gluster_pool_bricks);
    joins: False for a run that joins no host (a drain): add_nodes is not read, and
      every host that is not a member is left out;
    lost: hosts the run replaces because they are dead (replace-node.yml): their peer
      entry must be disconnected and their glusterd must not answer; they are neither
      members nor errors, and `lost` maps each that is still a peer to its peer name.

    A member is matched to its peer entry by its glusterd UUID; a member that does
    not answer, by an exact name or a shared address (never by a first label).

    A peer that is a host of the inventory declaring bricks, unreachable over SSH,
    disconnected and holding no brick of any volume (`detach`) was cut off during its
    join: it is detached rather than blocking every later run, since it holds no data.
    Peers outside the inventory, and brick-less hosts (clients, compute nodes), are
    never detached.
    """
    hosts = list(hosts)
    views = dict(views or {})
    explicit = {h: n for h, n in (peer_names or {}).items() if n}
    extra = {h: [n for n in (inventory_names or {}).get(h) or [] if n] for h in hosts}
    errors, warnings = [], []

    if not joins:
        add_nodes = None
    if add_nodes is not None:
        if isinstance(add_nodes, str):
            add_nodes = [n.strip() for n in add_nodes.split(",") if n.strip()]
        unknown = [n for n in add_nodes if n not in hosts]
        if unknown:
            errors.append(f"add_nodes names hosts that are not in the gluster_pool group: {', '.join(unknown)}")
        if not add_nodes:
            errors.append("add_nodes is empty; name the hosts to join, or leave it out to join every new host")

    lost = [n.strip() for n in (lost.split(",") if isinstance(lost, str) else lost or []) if n and n.strip()]
    unknown_lost = [n for n in lost if n not in hosts]
    if unknown_lost:
        errors.append(
            f"the failed host {', '.join(unknown_lost)} is not in the gluster_pool group; name it as the "
            "inventory does (keep it there until it is replaced)"
        )
    lost_peers = {}

    answered = [h for h in hosts if _answered(views.get(h))]
    # A pool is a host with peers, or one serving a volume alone (a pool of one).
    established = [
        h
        for h in answered
        if len(views[h].get("peers", [])) > 1
        or any(p.get("local") and p.get("bricks") for p in views[h].get("peers", []))
    ]
    # A machine cloned after glusterd first ran carries its original's UUID: the pool
    # would take the two for one peer and never probe the clone.
    by_local_uuid = {}
    for host in answered:
        by_local_uuid.setdefault(views[host]["local_uuid"], []).append(host)
    for uuid, alike in by_local_uuid.items():
        if len(alike) > 1:
            errors.append(
                f"{', '.join(alike)} answer with one glusterd UUID ({uuid}): a machine cloned after glusterd "
                "first ran, or one host under two inventory names. On each clone that is not yet a member of a "
                "pool, stop glusterd, remove /var/lib/glusterd/glusterd.info and /var/lib/glusterd/peers/*, "
                "start it again (it makes a new UUID), then run again; or fix the inventory"
            )

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

    names = {h: explicit.get(h) or h for h in hosts}
    uuids = {}
    detach = []
    detached_hosts = []
    if anchor is None:
        fresh = True
        reachable = [h for h in hosts if not (views.get(h) or {}).get("unreachable")]
        anchor = reachable[0] if reachable else None
        members = [anchor] if anchor else []
    else:
        fresh = False
        members = [h for h in answered if views[h]["local_uuid"] in pool]
        for host in [h for h in members if h in lost]:
            errors.append(
                f"{host} is not dead: its glusterd answers, as a member of the pool (UUID "
                f"{views[host]['local_uuid']}). To retire a host that runs, drain it with "
                f"remove-node.yml -e remove_nodes={host}"
            )
        uuids = {h: views[h]["local_uuid"] for h in members}
        peers = [p for p in views[anchor].get("peers", []) if not p.get("local")]
        by_uuid = {views[h]["local_uuid"]: h for h in answered}
        matched = {p["uuid"]: by_uuid[p["uuid"]] for p in peers if p["uuid"] in by_uuid}
        # The rest are matched by name or address: hosts that did not answer, and
        # answering hosts outside the pool, which must not look like a member.
        unmatched_peers = {p["hostname"]: p for p in peers if p["uuid"] not in matched}
        host_ids = {
            h: _host_identity(h, views.get(h), explicit.get(h), extra[h], resolve) for h in hosts if h not in members
        }
        pairs, match_errors = match_identities(
            host_ids, {name: _peer_identity(p) for name, p in unmatched_peers.items()}, what="peer"
        )
        errors += match_errors
        claimed = set(pairs.values())
        for host, peer_name in pairs.items():
            peer = unmatched_peers[peer_name]
            if host in answered:
                errors.append(
                    f"{host} answers with glusterd UUID {views[host]['local_uuid']}, but the pool knows it as peer "
                    f"{peer_name} with UUID {peer['uuid']} (by {agreement(host_ids[host], _peer_identity(peer))}); "
                    "it was reinstalled, or another machine has its name: detach the old peer "
                    f"(gluster peer detach {peer_name}) once it holds no bricks, or fix the inventory"
                )
            else:
                matched[peer["uuid"]] = host
        # A failed host no peer matched: already detached, or known to the pool by a name and
        # address the inventory does not give it; then a disconnected peer nobody claims may be it.
        lost_unmatched = [h for h in lost if h in hosts and h not in members and h not in matched.values()]
        unclaimed = [p["hostname"] for p in peers if p["uuid"] not in matched and not p.get("connected")]
        for host in lost_unmatched if unclaimed else []:
            errors.append(
                f"cannot tell which peer is the failed host {host}: none has its name or address, and "
                f"{', '.join(unclaimed)} {'is' if len(unclaimed) == 1 else 'are'} disconnected. Set "
                f"gluster_pool_peer_name of {host} to the name the pool knows it by"
            )
        for peer in peers:
            host = matched.get(peer["uuid"])
            if host in lost and host in members:
                continue  # it answered: refused above
            if host in lost:
                # Every member must see it gone: one that still reaches it may be on its side of a partition.
                seeing = [
                    h
                    for h in members
                    if any(q["uuid"] == peer["uuid"] and q.get("connected") for q in views[h].get("peers", []))
                ]
                if seeing:
                    errors.append(
                        f"{', '.join(seeing)}'s glusterd counts the failed host {host} (peer {peer['hostname']}) "
                        "connected: it is not dead, or glusterd has not noticed yet. Check it; once `gluster pool "
                        f"list` on {', '.join(seeing)} shows it Disconnected, run again. To retire a host that "
                        "runs, use remove-node.yml"
                    )
                names[host] = peer["hostname"]
                uuids[host] = peer["uuid"]
                lost_peers[host] = peer["hostname"]
                continue
            unreachable = host is not None and (views.get(host) or {}).get("unreachable")
            brickless = not peer.get("bricks", ["unknown"])
            if unreachable and brickless and not peer.get("connected") and host in (storage_hosts or ()):
                # Probed, then lost before it got a brick (a join cut short): it holds no
                # data, and left in place it would block every later change of the pool.
                detach.append(peer["hostname"])
                if host is not None:
                    detached_hosts.append(host)
                warnings.append(
                    f"peer {peer['hostname']}{f' ({host})' if host != peer['hostname'] else ''} is "
                    "disconnected, unreachable and holds no brick of any volume: it is detached so that it "
                    "does not block the pool. Before it joins again, clear its /var/lib/glusterd/peers."
                )
                continue
            if host is None:
                if peer["hostname"] in claimed:
                    continue
                if lost_unmatched and not peer.get("connected"):
                    continue  # perhaps the failed host under another name: refused below
                if not peer.get("in_cluster") and peer.get("bricks"):
                    errors.append(
                        f"peer {peer['hostname']} (not in the gluster_pool group) holds bricks and is "
                        f"{peer.get('state_str') or 'not in cluster'}, "
                        f"{'connected' if peer.get('connected') else 'disconnected'}; bring it back first"
                    )
                else:
                    warnings.append(
                        f"peer {peer['hostname']} is in the pool but not in the gluster_pool group; left as it is"
                    )
                continue
            known = peer.get("hostnames") or [peer["hostname"]]
            if host in explicit and normalized(explicit[host]) not in {normalized(n) for n in known}:
                errors.append(
                    f"gluster_pool_peer_name of {host} is {explicit[host]}, but the pool knows that host "
                    f"(UUID {peer['uuid']}) as {', '.join(known)}; set it to one of these or leave it unset"
                )
            names[host] = explicit.get(host) or peer["hostname"]
            uuids[host] = peer["uuid"]
            if unreachable and brickless and peer.get("connected"):
                # glusterd counts a peer that vanished silently as connected until a transaction
                # with it times out; until then nothing can safely detach it.
                errors.append(
                    f"existing member {host} is unreachable and holds no brick (a join cut short?), but "
                    f"{anchor}'s glusterd still counts it connected: restore it and re-run, or, once "
                    f"`gluster pool list` on {anchor} shows it Disconnected, re-run and it is detached"
                )
            elif unreachable:
                errors.append(f"existing member {host} is unreachable; fix it (or its SSH access) before joining hosts")
            elif not peer.get("in_cluster"):
                errors.append(_not_in_cluster(host, peer, anchor))
            elif host not in members:
                members.append(host)
        members.sort(key=hosts.index)
        # Every member must see every other in cluster, not only the anchor: the member
        # that acts for the pool (the lowest UUID) may be another one.
        for host in members:
            if host == anchor or not _answered(views.get(host)):
                continue
            for entry in views[host].get("peers", []):
                other = next((m for m in members if m != host and uuids.get(m) == entry["uuid"]), None)
                if other is not None and not entry.get("in_cluster"):
                    errors.append(_not_in_cluster(other, entry, host))
        # The anchor's own name, as another member knows it.
        for host in members:
            entry = next((p for p in views.get(host, {}).get("peers", []) if p["uuid"] == uuids[anchor]), None)
            if host != anchor and entry is not None:
                names[anchor] = explicit.get(anchor) or entry["hostname"]
                break

    # A host detached by this run joins in a later one, after its admin has cleared its peers.
    candidates = [h for h in hosts if h not in members and h not in uuids and h not in lost + detached_hosts]
    if add_nodes is not None and not fresh:
        # A warning, not a refusal: a re-run of a join that got this far must converge.
        already = [h for h in add_nodes if h in members]
        if already:
            warnings.append(f"add_nodes names hosts that are members of the pool already: {', '.join(already)}")
    if not joins:
        joining, skipped = [], candidates
    elif add_nodes is not None:
        joining = [h for h in candidates if h in add_nodes]
        skipped = [h for h in candidates if h not in add_nodes]
    else:
        joining, skipped = candidates, []
    skipped = skipped + detached_hosts
    for host in detached_hosts:
        if add_nodes is not None and host in add_nodes:
            errors.append(
                f"{host} is unreachable; it cannot join. Its peer entry (no brick, disconnected) is detached by a "
                "run that does not name it"
            )
    for host in joining:
        view = views.get(host) or {}
        if view.get("unreachable"):
            errors.append(f"{host} is unreachable; it cannot join")
        elif _answered(view) and len(view.get("peers", [])) > 1 and not fresh:
            others = ", ".join(sorted(p["hostname"] for p in view["peers"] if not p.get("local")))
            errors.append(f"{host} already belongs to another trusted pool (peers: {others}); detach it there first")

    if not fresh and members:
        anchor = _lowest_uuid(members, uuids)
    return {
        "anchor": anchor,
        "fresh": fresh,
        "members": members,
        "pool_members": sorted(uuids[h] for h in members if h in uuids),
        "joining": joining,
        "skipped": skipped,
        "peer_names": {h: names[h] for h in members + joining},
        "uuids": uuids,
        "detach": detach,
        "lost": lost_peers,
        "errors": errors,
        "warnings": warnings,
    }


def _lowest_uuid(hosts, uuids):
    return min(hosts, key=lambda h: (uuids.get(h, "~"), h), default=None)


def gluster_pool_acting(plan, leaving=None):
    """The member that acts for the pool, and holds its lock while it changes it.

    One rule for every entry point (site.yml, add-node.yml and the node-add hook that
    runs it, remove-node.yml, replace-node.yml), so that two runs lock the same host:
    of the plan's members, which are the hosts of the gluster_pool group whose glusterd
    answers (the hosts a drain takes out included, a dead host that replace-node.yml
    replaces not), the one with the lowest glusterd UUID, whatever the controller and
    its inventory order. A pool being built has no UUIDs yet: its first reachable host.

    leaving: hosts a drain takes out; then the member that acts once they are gone,
    which is where the drain detaches them from (glusterd detaches a peer only from
    another member). None when no member would be left.
    """
    gone = set(leaving.split(",") if isinstance(leaving, str) else leaving or [])
    if plan.get("fresh"):
        return plan.get("anchor") if plan.get("anchor") not in gone else None
    return _lowest_uuid([h for h in plan["members"] if h not in gone], plan.get("uuids") or {})


def gluster_pool_join_blockers(report, volume, new_sets, rebalance):
    """What a later step of this run would fail on after it changed the pool, in words
    (empty when nothing would), so that the preflight refuses it before any change.

    report: gluster_volume_health's report of the volume (an item of its `volumes`);
    volume: gluster_volume_info's `volume` (its options hold the rebalance mark);
    new_sets: how many sets the run adds; rebalance: gluster_pool_rebalance.

    - The mark: a value gluster_volume never writes fails it.
    - add-brick (new sets): glusterd refuses it while a rebalance or a remove-brick
      migrates data ("rebalance is in progress"). gluster_volume waits for a running pass
      that the mark owes (an interrupted run's, which a re-run is meant to see through);
      any other running pass or migration is refused here.
    - The rebalance (new sets and a rebalance asked for, or a pass the mark still owes):
      gluster_volume waits BRICKS_ONLINE_TIMEOUT s for every brick to be online, and
      glusterd refuses to start it while a remove-brick is not committed.

    The join waits for no heal (gluster_volume adds whole sets and rebalances; nothing
    heals onto them), so a self-heal daemon down is no blocker: it stays a warning of
    the health report.
    """
    if not report or not volume:
        return []
    name = volume.get("name") or report.get("name")
    found = []
    try:
        owed = parse_mark((volume.get("options") or {}).get(REBALANCE_MARK), name)
    except MarkError as exc:
        return [str(exc)]
    adds = int(new_sets or 0) > 0
    asked = adds and rebalance not in (None, "none")
    rebalances = asked or owed is not None
    mode = "full" if "full" in (owed, rebalance if asked else None) else "fix-layout"
    why = (
        f"this run ends with a {mode} rebalance (gluster_pool_rebalance: {rebalance})"
        if asked
        else f"this run pays the {mode} rebalance an earlier run left owed ({REBALANCE_MARK})"
    )

    for task in report.get("tasks") or []:
        bricks = " ".join(task.get("bricks") or [])
        if task["type"] == TASK_REMOVE_BRICK and task.get("running") and adds:
            found.append(
                f"a remove-brick of {', '.join(task.get('bricks') or [])} is running ({task['status']}): glusterd "
                "refuses add-brick while it migrates data (a drain's, remove-node.yml, or an admin's). Let it end "
                f"(gluster volume remove-brick {name} {bricks} status), then run again"
            )
        elif task["type"] == TASK_REMOVE_BRICK and rebalances:
            found.append(
                f"a remove-brick of {', '.join(task.get('bricks') or [])} was started and not committed "
                f"({task['status']}), and {why}: glusterd refuses to start a rebalance until it is committed or "
                f"stopped. Commit it once its status shows every node completed (gluster volume remove-brick {name} "
                f"{bricks} commit), or stop it, then run again"
            )
        elif task["type"] == TASK_REBALANCE and task.get("running") and adds and owed is None:
            found.append(
                f"a rebalance of {name} is running ({task['status']}) that no run of this project left owed "
                f"({REBALANCE_MARK} is not pending): glusterd refuses add-brick until it ends. Let it end "
                f"(gluster volume rebalance {name} status), then run again"
            )

    if rebalances:
        reasons = {
            f["subject"]: f["reason"].removeprefix("brick ")
            for f in report.get("findings") or []
            if f["reason"].startswith("brick offline")
        }
        for brick in report.get("bricks") or []:
            if brick.get("online") is False:
                found.append(
                    f"brick {brick['name']} is {reasons.get(brick['name'], 'offline')}, and {why}, which needs every "
                    f"brick online (it waits {BRICKS_ONLINE_TIMEOUT} s for them, after the new bricks are in): start "
                    f"it (gluster volume start {name} force starts the brick processes that are down) or bring "
                    f"{brick['host']} back, then run again"
                    + ("; or grow the volume with gluster_pool_rebalance: none and rebalance later" if asked else "")
                )
    return found


def gluster_pool_placement(new_bricks, layout, failure_domains=None, volume="the volume", arbiters=None):
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
            arbiters=[BrickRef.parse(b) for b in arbiters or []],
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


def gluster_pool_bricks(declared, plan, volume_bricks=None):
    """The bricks of the hosts in this run, as Gluster names them.

    declared: host -> its gluster_pool_bricks; plan: gluster_pool_plan's result;
    volume_bricks: gluster_volume_info's `bricks` (name, host_uuid) of the existing volume.
    A brick already in the volume keeps the name it has there (matched by its host's
    UUID and its path, whatever name the inventory uses); a new one is NAME:PATH with
    the host's Gluster name. Returns {"all": [...], "in_volume": host -> [paths], "arbiters":
    [...] (those of all marked `arbiter: true`)}.
    """
    by_uuid_path = {}
    for brick in volume_bricks or []:
        path = brick["name"].split(":", 1)[1]
        by_uuid_path[(brick["host_uuid"], path)] = brick["name"]
    uuids = plan.get("uuids") or {}
    names = plan.get("peer_names") or {}
    all_bricks, in_volume, arbiters = [], {}, []
    for host in plan["members"] + plan["joining"]:
        in_volume[host] = []
        specs = declared.get(host)
        for spec in specs if isinstance(specs, list) else []:
            if not isinstance(spec, dict) or not isinstance(spec.get("path"), str):
                continue  # refused by the brick list check
            existing = by_uuid_path.get((uuids.get(host), spec["path"]))
            if existing:
                in_volume[host].append(spec["path"])
            all_bricks.append(existing or f"{names.get(host, host)}:{spec['path']}")
            if spec.get("arbiter") is True:
                arbiters.append(all_bricks[-1])
    return {"all": all_bricks, "in_volume": in_volume, "arbiters": arbiters}


# Gluster names a brick HOST:PATH and splits on the first colon; keep paths plain.
_BRICK_PATH = re.compile(r"^/[A-Za-z0-9._/+-]+$")


def gluster_pool_brick_list_problems(bricks, arbiter=0):
    """What is wrong with one host's gluster_pool_bricks as written, in words (empty when
    fine); `arbiter`: gluster_pool_arbiter, without which no brick may be marked one."""
    if not isinstance(bricks, list) or not all(isinstance(b, dict) for b in bricks):
        return [f"gluster_pool_bricks must be a list of {{path: /absolute/path, device: /dev/...}}, not {bricks!r}"]
    problems = []
    for brick in bricks:
        unknown = sorted(set(brick) - {"path", "device", "arbiter"})
        path, device = brick.get("path"), brick.get("device")
        if unknown:
            problems.append(f"brick {brick!r} has unknown keys {unknown}; a brick is {{path, device, arbiter}}")
        if "arbiter" in brick and not isinstance(brick["arbiter"], bool):
            problems.append(f"brick {path}: arbiter must be true or false, not {brick['arbiter']!r}")
        elif brick.get("arbiter") and not int(arbiter or 0):
            problems.append(f"brick {path} is marked arbiter, but gluster_pool_arbiter is 0: the volume has none")
        if not isinstance(path, str) or not _BRICK_PATH.match(path) or "//" in path or "/." in path:
            problems.append(
                f"brick path {path!r} must be an absolute, normalized path of letters, digits and . _ + - /"
            )
        elif path.endswith("/"):
            # Gluster names a brick without it: the brick in the volume would not be found as this one.
            problems.append(f"brick path {path} ends with '/': write it as {path.rstrip('/')}")
        elif path.rstrip("/") in ("", "/bricks") or path.count("/") < 2:
            problems.append(f"brick path {path} must be a directory below a mount point, not a top-level directory")
        if "device" in brick and (not isinstance(device, str) or not device.startswith("/dev/")):
            # A device of null (a template's empty value) would be neither a device nor a directory brick.
            problems.append(
                f"brick device {device!r} must be a block device path under /dev (leave `device` out for a "
                "directory brick)"
            )
    paths = [b["path"].rstrip("/") for b in bricks if isinstance(b.get("path"), str)]
    for path in sorted({p for p in paths if paths.count(p) > 1}):
        problems.append(f"brick path {path} is listed more than once")
    for outer in sorted(set(paths)):
        for inner in sorted(set(paths)):
            if inner.startswith(outer + "/"):
                problems.append(f"brick path {inner} is inside brick {outer}; bricks must not nest")
    devices = [b["device"] for b in bricks if isinstance(b.get("device"), str)]
    for device in sorted({d for d in devices if devices.count(d) > 1}):
        problems.append(f"device {device} is given for more than one brick; each device makes one filesystem")
    return problems


def gluster_pool_brick_infos(specs, directory_infos, device_checks):
    """Every declared brick's gluster_brick_info entry, in the order of specs (a host's
    gluster_pool_bricks), from the two reads the role makes: gluster_brick_info of the
    directory bricks (directory_infos, in their order) and the check-mode gluster_brick
    results of the device bricks (device_checks), each of which carries its `brick`. A
    device check that failed has none: its entry is the bare path (the failure itself is
    a problem gluster_pool_brick_problems reports).
    """
    directory_infos, device_checks = iter(directory_infos or []), iter(device_checks or [])
    infos = []
    for spec in specs or []:
        # As the role splits them (selectattr('device', 'defined')): a device of null is checked
        # with the device bricks, whose check then runs gluster_brick on the directory.
        found = next(device_checks, {}).get("brick") if "device" in spec else next(directory_infos, None)
        infos.append(found or {"path": spec["path"]})
    return infos


def gluster_pool_brick_problems(
    infos, specs, device_checks, volume_paths, volume_name, volume_id, allow_root, min_bytes
):
    """What makes a host's declared bricks unusable, in words (empty when they are fine).

    infos: gluster_brick_info's bricks, in the order of specs (the host's gluster_pool_bricks);
    volume_paths: the paths of this host's bricks that are in the volume (gluster_pool_bricks's `in_volume`);
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
        part_at = info.get("part_of_volume_at")
        is_new = path not in (volume_paths or [])
        if is_new and part_at and part_at != path:
            problems.append(
                f"{path} lies inside {part_at}, which carries a brick's gfid or volume id (it is, or was, a brick): "
                "glusterd refuses a brick inside another; use a path elsewhere"
            )
        elif is_new and part_at == path and not found_id:
            problems.append(
                f"{path} carries a brick's gfid (trusted.gfid) and no volume id: it was a brick. See what it holds; "
                f"only if none of it is needed, clear it (setfattr -x trusted.gfid {path}; rm -rf {path}/.glusterfs) "
                "and run again"
            )
        if found_id and found_id != volume_id:
            problems.append(
                f"{path} carries the id of another volume ({found_id}); it is, or was, a brick elsewhere"
                + (
                    ". It holds nothing else: a `volume create` that failed on another host leaves its id on the "
                    "bricks it checked. If no volume of the pool has that id (gluster volume info), clear it "
                    f"(setfattr -x trusted.glusterfs.volume-id {path}; setfattr -x trusted.gfid {path}; "
                    f"rm -rf {path}/.glusterfs) and run again"
                    if info.get("empty") and not volume_id
                    else ""
                )
            )
        elif found_id and is_new and not info.get("empty"):
            problems.append(f"{path} carries volume {volume_name}'s id but is not one of its bricks, and holds data")
    by_number = {}
    for check in device_checks or []:
        if check.get("device_number"):
            by_number.setdefault(check["device_number"], []).append(check.get("item", {}).get("device"))
    for number, devices in sorted(by_number.items()):
        if len(devices) > 1:
            problems.append(
                f"{' and '.join(devices)} are one disk (device {number}), given for more than one brick; each "
                "device makes one filesystem"
            )
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


def gluster_pool_roll_refusal(marks):
    """Why no run but a roll may change the pool now, in words; empty when nothing
    refuses. marks: volume -> its roll mark as gluster_pool_info's `roll_marks` reads
    it (rolling.yml marks every volume), or nothing. The modules refuse the same under
    the pool's lock; the preflights say it before anything changes."""
    volumes = [(volume, {ROLL_MARK: value}) for volume, value in sorted((marks or {}).items())]
    try:
        return roll_refusal(rolls_under_way(volumes)) or ""
    except RollMarkError as exc:
        return str(exc)


class FilterModule:
    def filters(self):
        return {
            "gluster_pool_plan": gluster_pool_plan,
            "gluster_pool_acting": gluster_pool_acting,
            "gluster_pool_join_blockers": gluster_pool_join_blockers,
            "gluster_pool_roll_refusal": gluster_pool_roll_refusal,
            "gluster_pool_placement": gluster_pool_placement,
            "gluster_pool_layout": gluster_pool_layout,
            "gluster_pool_brick_problems": gluster_pool_brick_problems,
            "gluster_pool_brick_infos": gluster_pool_brick_infos,
            "gluster_pool_brick_list_problems": gluster_pool_brick_list_problems,
            "gluster_pool_bricks": gluster_pool_bricks,
        }
