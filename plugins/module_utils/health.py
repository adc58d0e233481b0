# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is a volume safe? Pure rules over what the gluster CLI reported.

`assess` takes the parsed answers of one volume's reads (gluster_cli.py) and
returns a report: per brick, per replica or disperse set, the self-heal daemons,
the tasks, quorum, and a verdict with its findings. The rules, worst first:

unsafe (a change to the pool now could lose data or access to it):
  - the volume is not started; a read failed (nothing vouches for what it
    would have shown);
  - a set has fewer bricks online than its quorum (replica, quorum-type auto:
    more than half, or exactly half with the set's first brick; fixed:
    cluster.quorum-count; none: one. Disperse: its data bricks, or
    disperse.quorum-count when set. A plain distribute brick: itself);
  - a brick holds entries in split-brain;
  - server quorum is on (cluster.server-quorum-type server) and not met;
  - heal entries pending on a set the caller is about to change (`touching`),
    or an online brick of such a set that heal info could not count;
  - a replica set with two bricks on one host, a disperse set with more there
    than its redundancy (one glusterd UUID, whatever names the bricks carry);
  - an arbiter set with one data brick offline whose arbiter lists entries for
    heal that the online data brick does not, or whose listings are
    incomplete: the arbiter blames the online data brick for them, so what
    changed in them may be on the offline one alone (see arbiter_orphans).
degraded (works now, with less margin than it should):
  - a brick offline, its set still in quorum; a brick heal info cannot reach;
  - a disperse set with bricks on one host, no more than its redundancy;
  - heal entries pending or possibly healing;
  - a peer disconnected or not in the cluster;
  - the self-heal daemon not running on a peer that holds bricks of the
    volume, or switched off by its option;
  - a rebalance or remove-brick running, failed, or with failed files; a
    remove-brick that ended with files it failed to move or skipped (they are
    still on the bricks it removes: gluster refuses to commit it, and a forced
    commit would take them out of the volume);
  - a brick with less free space or free inodes than the given percentages.
healthy: none of these.
"""

from __future__ import annotations

import math
from dataclasses import replace

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    PEER_IN_CLUSTER,
    REBALANCE_COMPLETED,
    REBALANCE_FAILED,
    REBALANCE_RUNNING,
    TASK_REBALANCE,
    TASK_REMOVE_BRICK,
    GlusterError,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.roll_mark import OPTION as ROLL_MARK
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.roll_mark import MarkError as RollMarkError
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.roll_mark import roll_under_way

HEALTHY, DEGRADED, UNSAFE = "healthy", "degraded", "unsafe"
SEVERITY = {HEALTHY: 0, DEGRADED: 1, UNSAFE: 2}
SELF_HEAL_DAEMON = "Self-heal Daemon"
# The self-heal daemon's switch, by kind of set, and the value that turns it off.
SELF_HEAL_OPTION = {
    "replicate": ("cluster.self-heal-daemon", "off"),
    "disperse": ("cluster.disperse-self-heal-daemon", "disable"),
}
# glusterd reads the switch as a boolean (gf_string2boolean): any of these turns it off.
FALSE_WORDS = frozenset({"off", "no", "false", "0", "disable"})


def volume_kind(volume):
    return "disperse" if volume.disperse_count else ("replicate" if volume.set_size > 1 else "distribute")


def self_heal_switched_off(kind, options):
    """(option, value) when `options` switch the self-heal daemon of a volume of `kind` off, else None."""
    switch = SELF_HEAL_OPTION.get(kind, (None, None))[0]
    value = options.get(switch) if switch else None
    return (switch, value) if value is not None and str(value).strip().lower() in FALSE_WORDS else None


def worst(verdicts):
    return max(verdicts, key=SEVERITY.__getitem__, default=HEALTHY)


def client_quorum_type(options, size):
    """cluster.quorum-type as AFR applies it: left at its default, AFR uses auto on
    sets of more than 2 bricks, whatever `volume get` prints (none, for even sets)."""
    value = options.get("cluster.quorum-type")
    if value is None or ("cluster.quorum-type" in getattr(options, "defaults", ()) and size > 2):
        return "auto" if size > 2 else (value or "none")
    return value


def set_quorum(size, kind, options, redundancy=0):
    """Bricks a set needs online to serve its files, for a set of `size` bricks."""
    if kind == "disperse":
        configured = _int(options.get("disperse.quorum-count"))
        return configured if configured else size - redundancy
    if size == 1:
        return 1
    quorum_type = client_quorum_type(options, size)
    if quorum_type == "fixed":
        return max(_int(options.get("cluster.quorum-count")) or 1, 1)
    if quorum_type == "none":
        return 1
    return size // 2 + 1  # auto; exactly half also holds when the first brick is among them


def has_quorum(online_flags, quorum, kind, options):
    online = sum(online_flags)
    if online >= quorum:
        return True
    # quorum-type auto on an even set: exactly half holds if it includes the first brick.
    auto = kind == "replicate" and client_quorum_type(options, len(online_flags)) == "auto"
    return auto and len(online_flags) % 2 == 0 and online * 2 == len(online_flags) and online_flags[0]


def set_in_quorum(report, entry, online_flags):
    """Whether set `entry` of a health report would be in quorum with `online_flags` (its
    bricks in order), judged as the report judged it: the bricks the set needs and the
    volume's effective cluster.quorum-type, both from `volume get VOL all`."""
    quorum_type = (report.get("quorum") or {}).get("client")  # None: not a replicated volume
    kind = "replicate" if quorum_type is not None else "disperse"
    return has_quorum(online_flags, entry["quorum"], kind, {"cluster.quorum-type": quorum_type or "auto"})


def server_quorum(peers, options):
    """(enabled, met, active, total) of glusterd's server quorum. Like glusterd, it counts
    this host and the peers in the cluster (not those rejected or still joining); it is
    met when the active ones are at least cluster.server-quorum-ratio percent of them,
    rounded up, or more than half when no ratio is set."""
    enabled = options.get("cluster.server-quorum-type", "off") == "server"
    counted = [p for p in peers if p.is_local or p.state == PEER_IN_CLUSTER]
    total = len(counted)
    active = sum(1 for p in counted if p.is_local or p.connected)
    return enabled, active >= server_quorum_needed(total, options), active, total


def server_quorum_needed(total, options):
    """How many of `total` counted peers server quorum needs active."""
    try:
        ratio = float(str(options.get("cluster.server-quorum-ratio", "")).strip().rstrip("%"))
    except ValueError:
        ratio = 0.0
    return math.ceil(ratio * total / 100) if ratio > 0 else total // 2 + 1


def _int(text):
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None


def _percent(free, total):
    if free is None or not total:
        return None
    return round(free * 100.0 / total, 1)


def brick_lookup(items):
    """brick -> the item of `items` (heal info's per-brick answers: .name, .host_uuid) that
    is about it, by its host's UUID and path, else by name (heal info names an unreachable
    brick's host "-"); None when there is none."""
    by_key = {(i.host_uuid, i.name.rsplit(":", 1)[-1]): i for i in items}
    by_name = {i.name: i for i in items}
    return lambda brick: by_key.get((brick.host_uuid, brick.path)) or by_name.get(brick.name)


def assess(
    volume,
    peers,
    details=(),
    daemons=(),
    tasks=(),
    heal=None,
    options=None,
    rebalance=None,
    migration=None,
    touching=(),
    free_min_percent=10,
    inodes_min_percent=10,
    unread=(),
    listing=None,
):
    """The health report of one volume (see the module docstring for the rules).

    volume: gluster_cli.Volume; peers: pool list (this host included); details:
    BrickDetail of `volume status VOL detail`; daemons, tasks: from `volume status
    VOL`; heal: HealCount list of `heal info summary` (None: not a replicated or
    dispersed volume, or not read); options: `volume get VOL all`; rebalance: the
    Rebalance aggregate when a rebalance task is listed; migration: the node rows
    (MigrationNode) of `remove-brick VOL BRICKS status` for a remove-brick task listed
    and no longer running; touching: bricks (HOST:PATH)
    or hosts the caller is about to change; unread: (what, error) of the reads that
    failed. details None: bricks' state unknown (no offline or quorum finding then).
    listing: HealEntries of `heal info` (read_volume reads it for arbiter sets that may
    hold entries whose only good copy is offline; None when not read).
    """
    options = options or {}
    findings = []

    def find(severity, subject, reason):
        findings.append({"severity": severity, "subject": subject, "reason": reason})

    # What could not be read cannot be vouched for: a change must not rely on it.
    for what, error in unread:
        find(UNSAFE, volume.name, f"{what} could not be read: {error}")
    roll, roll_problem = rolling_maintenance(volume)
    if roll_problem:
        find(DEGRADED, volume.name, roll_problem)
    known = details is not None
    by_uuid = {p.uuid: p for p in peers}
    detail_of = {(d.peer_uuid, d.path): d for d in details or ()}
    heal_of = brick_lookup(heal or ())
    kind = volume_kind(volume)
    touched = set(touching)

    bricks = []
    for index, brick in enumerate(volume.bricks):
        detail = detail_of.get((brick.host_uuid, brick.path))
        counts = heal_of(brick)
        peer = by_uuid.get(brick.host_uuid)
        bricks.append(
            {
                "name": brick.name,
                "host": brick.host,
                "path": brick.path,
                "host_uuid": brick.host_uuid,
                "set": index // volume.set_size,
                "arbiter": brick.is_arbiter,
                "online": bool(detail and detail.online) if known else None,
                "listed": detail is not None,
                "peer_connected": bool(peer and (peer.is_local or peer.connected)),
                "size_total": detail.size_total if detail else None,
                "size_free": detail.size_free if detail else None,
                "free_percent": _percent(detail.size_free, detail.size_total) if detail else None,
                "inodes_total": detail.inodes_total if detail else None,
                "inodes_free": detail.inodes_free if detail else None,
                "inodes_free_percent": _percent(detail.inodes_free, detail.inodes_total) if detail else None,
                "heal_reached": counts.reached if counts else None,
                "heal_status": counts.status if counts else None,
                "heal_pending": counts.pending if counts else None,
                "split_brain": counts.split_brain if counts else None,
                "possibly_healing": counts.possibly_healing if counts else None,
            }
        )

    if not volume.started:
        find(UNSAFE, volume.name, f"volume {volume.name} is {volume.status_str or 'not started'}: no client can use it")

    sets = []
    for start in range(0, len(bricks), volume.set_size):
        members = bricks[start : start + volume.set_size]
        flags = [bool(b["online"]) for b in members]
        quorum = set_quorum(len(members), kind, options, volume.redundancy_count)
        names = [b["name"] for b in members]
        in_quorum = has_quorum(flags, quorum, kind, options)
        pending = sum((b["heal_pending"] or 0) + (b["possibly_healing"] or 0) for b in members)
        is_touched = any(b["name"] in touched or b["host"] in touched or b["host_uuid"] in touched for b in members)
        sets.append(
            {
                "index": start // volume.set_size,
                "bricks": names,
                "online": sum(flags),
                "quorum": quorum,
                "in_quorum": in_quorum if known else None,
                "heal_pending": pending,
                "touched": is_touched,
            }
        )
        label = f"set {start // volume.set_size} ({', '.join(names)})" if len(members) > 1 else names[0]
        if volume.started and known and not in_quorum:
            find(
                UNSAFE,
                label,
                f"{sum(flags)} of {len(members)} bricks online, {quorum} needed: its files are not "
                "available" + ("" if len(members) == 1 else " for writing"),
            )
        if pending and is_touched:
            find(UNSAFE, label, f"{pending} entries still to heal on a set this run changes; wait for heal")
        # An online brick heal info did not count (glfsheal's "Failed to process entries
        # completely" gives no numbers): what it still owes is unknown.
        uncounted = [b["name"] for b in members if b["online"] and b["heal_reached"] is False]
        if uncounted and is_touched and not pending:
            find(
                UNSAFE,
                label,
                f"heal info could not count {', '.join(uncounted)}, on a set this run changes: whether entries are "
                f"still to heal there is unknown; see gluster volume heal {volume.name} info, then run again",
            )
        hosts = [b["host_uuid"] for b in members]
        shared = sorted({b["host"] for b in members if hosts.count(b["host_uuid"]) > 1})
        most_on_one_host = max((hosts.count(h) for h in hosts), default=0)
        # A disperse set may lose `redundancy` bricks; a replica set none of two on one host.
        bearable = kind == "disperse" and most_on_one_host <= (volume.redundancy_count or 0)
        if len(members) > 1 and shared:
            find(
                DEGRADED if bearable else UNSAFE,
                label,
                f"more than one of its bricks is on one host ({', '.join(shared)}, by glusterd UUID): losing that "
                + (
                    f"host uses up {most_on_one_host} of the {volume.redundancy_count} bricks the set can lose"
                    if bearable
                    else "host loses them together; replace one of them by a brick on another host"
                ),
            )

    for brick in bricks:
        name = brick["name"]
        if volume.started and known and not brick["online"]:
            why = "its peer is disconnected" if not brick["peer_connected"] else "its brick process is not running"
            if not brick["listed"] and brick["peer_connected"]:
                why = "glusterd does not list it"
            find(DEGRADED, name, f"brick offline ({why})")
        if brick["split_brain"]:
            find(
                UNSAFE,
                name,
                f"{brick['split_brain']} entries in split-brain: resolve them (gluster volume heal "
                f"{volume.name} split-brain ...) before changing the pool",
            )
        if brick["heal_reached"] is False and brick["online"]:
            find(DEGRADED, name, f"heal info cannot reach it ({brick['heal_status'] or 'no answer'})")
        if brick["heal_pending"] or brick["possibly_healing"]:
            find(
                DEGRADED,
                name,
                f"{brick['heal_pending'] or 0} entries pending heal, {brick['possibly_healing'] or 0} possibly healing",
            )
        if brick["free_percent"] is not None and brick["free_percent"] < free_min_percent:
            find(DEGRADED, name, f"{brick['free_percent']}% space free, below {free_min_percent}%")
        if brick["inodes_free_percent"] is not None and brick["inodes_free_percent"] < inodes_min_percent:
            find(DEGRADED, name, f"{brick['inodes_free_percent']}% inodes free, below {inodes_min_percent}%")

    online = {(b["host_uuid"], b["path"]) for b in bricks if b["online"]}
    for _index, (arbiter, *found) in sorted(arbiter_orphans(volume, online, listing).items()):
        find(UNSAFE, arbiter, arbiter_orphan_reason(volume.name, *found))

    for subject, reason in peer_problems(peers):
        find(DEGRADED, subject, reason)

    enabled, met, active, total = server_quorum(peers, options)
    if enabled and not met:
        find(UNSAFE, volume.name, f"server quorum lost: {active} of {total} peers active")

    self_heal = []
    disabled = self_heal_switched_off(kind, options)
    if disabled and volume.started:
        find(DEGRADED, volume.name, f"self-heal daemon disabled ({' '.join(disabled)}): files heal only when accessed")
    if kind != "distribute" and volume.started and not disabled:
        running = {d.peer_uuid for d in daemons if d.kind == SELF_HEAL_DAEMON and d.online}
        for uuid in dict.fromkeys(b["host_uuid"] for b in bricks):
            peer = by_uuid.get(uuid)
            host = (peer.hostname if peer and not peer.is_local else None) or next(
                b["host"] for b in bricks if b["host_uuid"] == uuid
            )
            online = uuid in running
            self_heal.append({"host": host, "host_uuid": uuid, "online": online})
            if known and not online and peer is not None and (peer.is_local or peer.connected):
                find(
                    DEGRADED,
                    host,
                    f"self-heal daemon not running (gluster volume start {volume.name} force starts it again)",
                )

    task_reports = []
    for task in tasks:
        report = {
            "type": task.kind,
            "id": task.task_id,
            "status": task.status_str,
            "running": task.status in REBALANCE_RUNNING,
            "bricks": list(task.bricks),
        }
        what = task.kind.lower()
        if task.kind == TASK_REBALANCE and rebalance is not None and rebalance.task_id == task.task_id:
            report.update(failures=rebalance.failures, files=rebalance.files, failed_nodes=list(rebalance.failed_nodes))
            if rebalance.failures and task.status not in REBALANCE_FAILED:
                find(DEGRADED, volume.name, f"the last {what} failed to move {rebalance.failures} files")
        elif task.kind == TASK_REMOVE_BRICK and migration and task.status not in REBALANCE_RUNNING:
            failures, skipped = sum(n.failures for n in migration), sum(n.skipped for n in migration)
            left_on = [n.name for n in migration if n.failures or n.skipped]
            report.update(
                failures=failures, skipped=skipped, files=sum(n.files for n in migration), failed_nodes=left_on
            )
            # A stopped or failed one is a finding below; its counts leave out files it never tried.
            if (failures or skipped) and task.status in REBALANCE_COMPLETED:
                find(
                    DEGRADED,
                    volume.name,
                    f"the remove-brick of {', '.join(task.bricks)} left {failures + skipped} files on those bricks "
                    f"({failures} failed, {skipped} skipped): gluster refuses to commit it, and a forced commit "
                    f"would take them out of the volume; {volume.name}-rebalance.log on {', '.join(left_on)} says why",
                )
        task_reports.append(report)
        # By number: the words differ for a fix-layout ("fix-layout in progress", ...).
        if task.status in REBALANCE_RUNNING:
            find(DEGRADED, volume.name, f"{what} {task.status_str}")
        elif task.status in REBALANCE_FAILED:
            find(DEGRADED, volume.name, f"the last {what} {task.status_str}")

    return {
        "name": volume.name,
        "type": volume.type_str,
        "status": volume.status_str,
        "rolling": roll,
        "verdict": worst(f["severity"] for f in findings),
        "findings": findings,
        "bricks": bricks,
        "sets": sets,
        "self_heal": self_heal,
        "tasks": task_reports,
        "quorum": {
            "client": client_quorum_type(options, volume.set_size) if kind == "replicate" else None,
            "server_enabled": enabled,
            "server_met": met,
            "server_active": active,
            "server_total": total,
            "server_needed": server_quorum_needed(total, options),
        },
    }


ROOT_GFID = "00000000-0000-0000-0000-000000000001"


def arbiter_orphans(volume, online, listing):
    """Arbiter sets with one data brick offline and one online, whose arbiter lists entries
    for heal that the online data brick does not, or whose listings are incomplete: set
    index -> (arbiter, offline data brick, online data brick, {gfid: path} of those entries,
    [(brick, status)] of the incomplete listings). online: (host_uuid, path) of the bricks
    online; listing: HealEntries of `heal info`, None when not read.

    With a data brick dead nothing heals in its set (heal locks every brick), and each
    change marks it as owed on both bricks left, so their listings grow alike. An entry on
    the arbiter alone is one the arbiter blames the online data brick for: what changed in
    it while that brick was down may be on the offline brick alone. AFR serves no read of
    such a file (none at all of the volume when its root is among them), heal copies no
    data from an arbiter, and a replace-brick of the offline brick fails half-way when the
    root is among them (measured on Gluster 10.3: the commit failed on the new brick's
    host, whose glusterd then no longer started). heal info says nothing of who is blamed
    for what. Measured: AFR fails each later write and mode change to a file whose data only
    the dead brick held, and the write in flight at the death too, blaming nobody, so the
    online data brick does not come to list it; a mode or owner change in flight then (not
    measured) would have it listed by both, and not found. One listed by the arbiter alone
    and blamed for its metadata only is taken as data: refused, though heal could mend it."""
    if listing is None:
        return {}
    listed = brick_lookup(listing)
    orphans = {}
    for index, arbiter, offline, online_data in arbiter_sets_at_risk(volume, online):
        theirs, ours = listed(arbiter), listed(online_data)
        incomplete = [
            (brick.name, entry.status if entry else "not listed")
            for brick, entry in ((arbiter, theirs), (online_data, ours))
            if entry is None or not entry.complete
        ]
        known = set(ours.files) if ours else set()
        left = {gfid: path for gfid, path in (theirs.files if theirs else {}).items() if gfid not in known}
        if left or incomplete:
            orphans[index] = (arbiter.name, offline.name, online_data.name, left, incomplete)
    return orphans


def arbiter_sets_at_risk(volume, online):
    """(set index, arbiter, offline data brick, online data brick) of each arbiter set whose
    arbiter is online and one of its two data bricks offline (both offline: the set's
    quorum finding says it). online: (host_uuid, path) of the bricks online."""
    if not volume.arbiter_count:
        return
    for start in range(0, len(volume.bricks), volume.set_size):
        members = volume.bricks[start : start + volume.set_size]
        arbiter = next((b for b in members if b.is_arbiter), None)
        data = [b for b in members if not b.is_arbiter]
        up = [b for b in data if (b.host_uuid, b.path) in online]
        down = [b for b in data if (b.host_uuid, b.path) not in online]
        if arbiter is not None and (arbiter.host_uuid, arbiter.path) in online and len(down) == 1 and len(up) == 1:
            yield start // volume.set_size, arbiter, down[0], up[0]


def arbiter_orphan_reason(volume_name, offline, online, entries, incomplete):
    """What arbiter_orphans found for one set, in words: what it means and what to do."""
    unlisted = "; ".join(f"{name}: {status}" for name, status in incomplete)
    if not entries:
        return (
            f"heal info could not list every entry of this arbiter or of {online} ({unlisted}) while {offline} is "
            f"offline: whether the arbiter blames {online} for entries whose latest changes are on {offline} "
            f"alone is unknown. See gluster volume heal {volume_name} info, then run again"
        )
    shown = sorted(entries.values())
    paths = ", ".join(shown[:5]) + (f" and {len(shown) - 5} more" if len(shown) > 5 else "")
    count = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
    return (
        f"the arbiter lists {count} for heal that {online} does not ({paths}): it blames {online} for them, so "
        f"what changed in them while {online} was down may be on {offline} alone, which is offline (heal info "
        "cannot tell data from metadata). Gluster serves no read of such a file until it is back"
        + (f" (the root among them: no client can use volume {volume_name})" if ROOT_GFID in entries else "")
        + f". Bring {offline}'s host back and let heal finish before replacing or draining it: replacing it now "
        "would lose those changes, and gluster's replace-brick fails half-way when the root is among them. If "
        'that host is gone for good, see the README, "An arbiter set\'s only good copy"'
        + (f" (some listings were incomplete: {unlisted})" if incomplete else "")
    )


def rolling_maintenance(volume):
    """(roll, problem): the id of the roll whose mark is on the volume (no finding: the
    roll's own gates read this report, and it is the roll that keeps a node down), None
    without one; and, for a mark this project never writes, what it blocks."""
    try:
        return roll_under_way((volume.options or {}).get(ROLL_MARK), volume.name), None
    except RollMarkError as exc:
        return None, f"{exc}; every change of the pool refuses until then"


def peer_report(peers):
    return [
        {
            "hostname": p.hostname,
            "uuid": p.uuid,
            "connected": p.is_local or p.connected,
            "state": "this host" if p.is_local else (p.state_str or f"state {p.state}"),
        }
        for p in peers
    ]


def peer_problems(peers):
    """(peer, reason) for each peer that is not in the cluster: a degraded finding."""
    return [
        (
            peer.hostname,
            f"peer {peer.state_str or f'state {peer.state}'}, {'connected' if peer.connected else 'disconnected'}",
        )
        for peer in peers
        if not peer.is_local and not peer.in_cluster
    ]


def summary(reports):
    """One line: the worst verdict and its reasons."""
    verdict = worst(r["verdict"] for r in reports)
    reasons = [f"{f['subject']}: {f['reason']}" for r in reports for f in r["findings"]]
    return verdict, reasons


def arbiter_at_risk(volume, online, heal):
    """Whether a set of arbiter_sets_at_risk has entries to heal on its arbiter (or they were
    not counted): then `heal info`'s entries are read (arbiter_orphans); otherwise they
    cannot matter."""
    counts_of = brick_lookup(heal)
    for _index, arbiter, _offline, _online in arbiter_sets_at_risk(volume, online):
        counts = counts_of(arbiter)
        if counts is None or counts.total is None or counts.total:
            return True
    return False


def merge_data_entries(volume, first, second):
    """`first`'s listing with each data brick's entries from `second` added, complete when
    either listing of it was (the arbiters' stay as `first` listed them); `first` when
    `second` was not read."""
    if second is None:
        return first
    arbiters = {b.name for b in volume.bricks if b.is_arbiter}
    later = {e.name: e for e in second}
    merged = []
    for entry in first:
        again = later.get(entry.name)
        if entry.name in arbiters or again is None:
            merged.append(entry)
        else:
            status = again.status if again.complete else entry.status
            merged.append(replace(entry, status=status, files={**again.files, **entry.files}))
    return merged


def read_volume(cli, volume, peers, touching=(), free_min_percent=10, inodes_min_percent=10):
    """Read one volume's state through `cli` (a GlusterCli) and assess it. A read that
    fails is an unsafe finding; the report keeps what the other reads gave."""
    details, daemons, tasks, heal, options, rebalance, migration = (), (), (), None, {}, None, None
    listing = None
    unread = []

    def attempt(what, read, default):
        try:
            return read(volume.name)
        except GlusterError as exc:
            unread.append((what, exc.op_errstr or exc.message))
            return default

    if volume.started:
        options = attempt("the volume's options", cli.volume_options, {})
        details = attempt("the bricks' status", cli.volume_status_detail, None)
        daemons, tasks = attempt("the volume's daemons and tasks", cli.volume_status_daemons, ((), ()))
        if volume.set_size > 1:
            heal = attempt("heal info", cli.heal_summary, None)
        online = {(d.peer_uuid, d.path) for d in details or () if d.online}
        if heal and details and arbiter_at_risk(volume, online, heal):
            listing = attempt("heal info's entries", cli.heal_entries, None)
            if arbiter_orphans(volume, online, listing):
                # glfsheal lists brick by brick, a set's arbiter last: an entry changed
                # after it listed a data brick shows on the arbiter alone. Such an entry
                # is on that data brick by a second listing; an orphan is on neither.
                again = attempt("heal info's entries, read again", cli.heal_entries, None)
                listing = merge_data_entries(volume, listing, again)
        # Its counts matter once a pass has ended; while it runs, `rebalance status`
        # asks every node's rebalance process and waits on one that does not answer.
        if any(t.kind == TASK_REBALANCE and t.status not in REBALANCE_RUNNING for t in tasks):
            rebalance = attempt("the last rebalance", cli.rebalance_status, None)
        # A migration that ended before its commit: whether it left files on the bricks it removes.
        removal = next(
            (t for t in tasks if t.kind == TASK_REMOVE_BRICK and t.bricks and t.status not in REBALANCE_RUNNING), None
        )
        if removal is not None:
            migration = attempt(
                "the last remove-brick", lambda name: cli.remove_brick_status(name, list(removal.bricks)), None
            )
    return assess(
        volume,
        peers,
        details=details,
        daemons=daemons,
        tasks=tasks,
        heal=heal,
        options=options,
        rebalance=rebalance,
        migration=migration,
        touching=touching,
        free_min_percent=free_min_percent,
        inodes_min_percent=inodes_min_percent,
        unread=unread,
        listing=listing,
    )
