# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure decisions of the drain and the replacement (drain.yml, replace.yml), made on the
controller before anything changes.

gluster_pool_spare_reads: one host's spare bricks as the checks need them.

gluster_pool_spare_refusals: why a spare the drain's plan puts into a set cannot take
that place. `replace-brick ... commit force` skips glusterd's own check that a brick is
in no volume, and self-heal then makes the spare a copy of its set: it must be empty and
hold the set's data.

gluster_pool_other_volume_bricks: the bricks of other volumes on hosts the run is to
detach, matched by glusterd UUID (a pool may know a host by one name, its bricks by another).
"""

from __future__ import annotations

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.drain_plan import room_shortage


def gluster_pool_spare_reads(specs, directory_infos, device_checks, peer_name):
    """Each spare brick of one host, in the order of specs, as {name, path, room, entries, volume_id}.

    specs: the host's gluster_pool_bricks that are not in the volume; directory_infos:
    gluster_brick_info's bricks of the specs without a device, in their order; device_checks:
    check-mode gluster_brick results of the specs with one (registered with failed_when: false);
    peer_name: the name Gluster knows the host by.

    room: the bytes the spare can take: its filesystem's free space, or the device's size
    when this run would format or mount it (its filesystem cannot be asked yet); None when
    unknown (a device check that failed). entries: how many entries besides Gluster's
    metadata its directory holds; None when not known yet (the directory does not exist, or
    its device is not mounted). volume_id: the volume id on the directory, as far as seen.
    """
    directory_infos, device_checks = iter(directory_infos or []), iter(device_checks or [])
    spares = []
    for spec in specs or []:
        # As the role splits them (selectattr('device', 'defined')).
        if "device" in spec:
            check = next(device_checks, {})
            brick = check.get("brick") or {}
            unseen = check.get("formatted") or check.get("mounted")
            room = check.get("device_bytes") if unseen else brick.get("free_bytes")
            entries = None if unseen else brick.get("entries")
            volume_id = None if unseen else brick.get("volume_id")
        else:
            brick = next(directory_infos, None) or {}
            room, entries, volume_id = brick.get("free_bytes"), brick.get("entries"), brick.get("volume_id")
        spares.append(
            {
                "name": f"{peer_name}:{spec['path']}",
                "path": spec["path"],
                "room": room,
                "entries": entries,
                "volume_id": volume_id,
            }
        )
    return spares


def gluster_pool_spare_refusals(spares, plan, bricks, volume="the volume"):
    """Why the spares the plan puts into the volume cannot take their places, in words
    (empty when they can).

    spares: gluster_pool_spare_reads of every host with spares; plan: gluster_volume_drain's
    plan (`replace`: set, old, new); bricks: the volume's bricks as gluster_volume_drain
    returns them (name, set, arbiter, size_total, size_free). A spare must hold the set's data (its
    fullest data brick's use, for an arbiter its fullest arbiter's) and be empty; one with a
    volume id is judged by the join's checks (gluster_pool_brick_problems), not here.
    """
    by_name = {s["name"]: s for s in spares or []}
    problems = []
    for step in (plan or {}).get("replace") or []:
        new, old, index = step["new"], step["old"], step["set"]
        spare = by_name.get(new)
        if spare is None:
            # The plan and the reads name bricks alike; a spare no read covers is not vouched for.
            problems.append(f"{new} was not checked (it is not among the spares read: {', '.join(by_name) or 'none'})")
            continue
        if spare.get("entries") and not spare.get("volume_id"):
            problems.append(
                f"{new} holds {spare['entries']} entr{'y' if spare['entries'] == 1 else 'ies'} besides Gluster's "
                f"metadata: self-heal makes a spare a copy of set {index}, and what it holds would be deleted, "
                "overwritten or mixed in. Empty it if none of it is needed, or declare another spare"
            )
        short = room_shortage(bricks, index, old, new, spare.get("room"), volume)
        if short:
            problems.append(
                f"{short}. Give it a larger filesystem, or take it out of gluster_pool_bricks so that another spare "
                "is chosen"
            )
    return problems


def gluster_pool_other_volume_bricks(peers, uuids, hosts, volume):
    """For each of `hosts` that holds bricks of a volume other than `volume`, one line naming
    them: "node4 holds bricks of volume gv1 (node4:/b/1)". Empty when none does.

    peers: gluster_pool_info's peers (each with its glusterd `uuid` and its `bricks` in any
    volume as VOLUME:HOST:PATH, matched to it by the bricks' host UUID); uuids: inventory
    host -> glusterd UUID (the plan's); hosts: the inventory hosts the run is to detach. A
    host with no UUID is no peer: it holds nothing.
    """
    bricks_of = {p["uuid"]: p.get("bricks") or [] for p in peers or []}
    lines = []
    for host in hosts or []:
        others = {}
        for entry in bricks_of.get((uuids or {}).get(host), []):
            name, _colon, brick = entry.partition(":")
            if name != volume:
                others.setdefault(name, []).append(brick)
        if others:
            lines.append(
                f"{host} holds bricks of "
                + ", ".join(f"volume {name} ({', '.join(found)})" for name, found in sorted(others.items()))
            )
    return lines


class FilterModule:
    def filters(self):
        return {
            "gluster_pool_spare_reads": gluster_pool_spare_reads,
            "gluster_pool_spare_refusals": gluster_pool_spare_refusals,
            "gluster_pool_other_volume_bricks": gluster_pool_other_volume_bricks,
        }
