# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render a gluster_volume_health result.

gluster_health_table: a table to read (health.yml prints it).
gluster_health_prometheus: the Prometheus text format for node_exporter's
textfile collector, names and labels after gluster-prometheus's
(docs/health.md lists them).
"""

from __future__ import annotations

import time

VERDICT_VALUE = {"healthy": 0, "degraded": 1, "unsafe": 2}


def _size(value):
    if value is None:
        return "-"
    for unit in ("B", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024.0
    return "-"


def _cell(value, suffix=""):
    return "-" if value is None else f"{value}{suffix}"


def _columns(rows):
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def gluster_health_table(result):
    lines = [f"verdict: {result['verdict'].upper()}"]
    for volume in result.get("volumes", []):
        lines.append("")
        lines.append(f"volume {volume['name']} ({volume['type']}, {volume['status']}): {volume['verdict'].upper()}")
        if volume.get("rolling"):
            lines.append(
                f"  rolling maintenance under way: roll {volume['rolling']} (no other run changes the pool until it "
                "ends; playbooks/rolling.yml finishes it)"
            )
        for finding in volume["findings"]:
            lines.append(f"  {finding['severity'].upper():8} {finding['subject']}: {finding['reason']}")
        rows = [("BRICK", "SET", "ONLINE", "FREE", "SIZE", "INODES FREE", "HEAL PENDING", "SPLIT-BRAIN", "HEALING")]
        for brick in volume["bricks"]:
            healed = brick["heal_reached"] is not False
            rows.append(
                (
                    brick["name"] + (" (arbiter)" if brick["arbiter"] else ""),
                    brick["set"],
                    "?" if brick["online"] is None else "yes" if brick["online"] else "NO",
                    _cell(brick["free_percent"], "%"),
                    _size(brick["size_total"]),
                    _cell(brick["inodes_free_percent"], "%"),
                    _cell(brick["heal_pending"]) if healed else "unreachable",
                    _cell(brick["split_brain"]) if healed else "-",
                    _cell(brick["possibly_healing"]) if healed else "-",
                )
            )
        lines.extend("  " + row for row in _columns(rows))
        if volume["self_heal"]:
            daemons = ", ".join(f"{d['host']} {'up' if d['online'] else 'DOWN'}" for d in volume["self_heal"])
            lines.append(f"  self-heal daemon: {daemons}")
        for task in volume["tasks"]:
            moved = f", {task['files']} files moved, {task['failures']} failures" if "files" in task else ""
            moved += f", {task['skipped']} skipped" if "skipped" in task else ""
            lines.append(f"  task: {task['type'].lower()} {task['status']}{moved}")
        quorum = volume["quorum"]
        server = (
            f"server quorum {'met' if quorum['server_met'] else 'LOST'} ({quorum['server_active']} of "
            f"{quorum['server_total']} peers)"
            if quorum["server_enabled"]
            else "server quorum off"
        )
        client = f"client quorum {quorum['client']}, " if quorum["client"] else ""
        lines.append(f"  {client}{server}")
    peers = ", ".join(
        f"{p['hostname']} {'connected' if p['connected'] else 'DISCONNECTED'}"
        for p in result.get("peers", [])
        if p["state"] != "this host"
    )
    lines.append("")
    lines.append(f"peers: {peers or 'none'}")
    for reason in result.get("not_read", []):
        lines.append(f"not read: {reason}")
    for node in result.get("left_drained_by_roll", []):
        lines.append(f"Ganeti node {node}: drained by a roll that did not finish (run playbooks/rolling.yml again)")
    return "\n".join(lines)


def _label(value):
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _sample(name, labels, value):
    text = ",".join(f'{key}="{_label(val)}"' for key, val in labels.items())
    return f"{name}{{{text}}} {value}"


METRICS = {
    "gluster_health_last_read_timestamp_seconds": "When this report was read (Unix time): a stale file shows here.",
    "gluster_health_verdict": "Verdict per volume: 0 healthy, 1 degraded, 2 unsafe (ganeti_gluster.cluster).",
    "gluster_health_findings": "Findings per volume and severity (ganeti_gluster.cluster).",
    "gluster_volume_up": "Whether the volume is started.",
    "gluster_volume_rolling": "1 while a rolling maintenance marks the volume: no other run changes the pool.",
    "gluster_brick_up": "Whether the brick process runs.",
    "gluster_brick_capacity_bytes_total": "Size of the brick's filesystem.",
    "gluster_brick_capacity_free_bytes": "Free space on the brick's filesystem.",
    "gluster_brick_inodes_total": "Inodes of the brick's filesystem.",
    "gluster_brick_inodes_free": "Free inodes on the brick's filesystem.",
    "gluster_volume_heal_count": "Entries pending heal on the brick (absent when heal info cannot reach it).",
    "gluster_volume_split_brain_heal_count": "Entries in split-brain on the brick.",
    "gluster_self_heal_daemon_up": "Whether the self-heal daemon runs on the peer.",
    "gluster_peer_connected": "Whether this host's glusterd is connected to the peer.",
}


def gluster_health_prometheus(result, cluster_id="", timestamp=None):
    """The result in the Prometheus text format (names and labels after gluster-prometheus)."""
    samples = {name: [] for name in METRICS}
    now = time.time() if timestamp is None else timestamp
    samples["gluster_health_last_read_timestamp_seconds"].append(
        _sample("gluster_health_last_read_timestamp_seconds", {"cluster_id": cluster_id}, f"{now:.0f}")
    )
    for volume in result.get("volumes", []):
        vol = {"cluster_id": cluster_id, "volume": volume["name"]}
        verdict = VERDICT_VALUE[volume["verdict"]]
        samples["gluster_health_verdict"].append(_sample("gluster_health_verdict", vol, verdict))
        for severity in ("degraded", "unsafe"):
            count = sum(1 for f in volume["findings"] if f["severity"] == severity)
            samples["gluster_health_findings"].append(
                _sample("gluster_health_findings", {**vol, "severity": severity}, count)
            )
        samples["gluster_volume_up"].append(_sample("gluster_volume_up", vol, int(volume["status"] == "Started")))
        samples["gluster_volume_rolling"].append(
            _sample("gluster_volume_rolling", vol, int(bool(volume.get("rolling"))))
        )
        for brick in volume["bricks"]:
            labels = {**vol, "host": brick["host"], "brick_path": brick["path"]}
            # None: the brick's status could not be read (glusterd busy); no sample rather than "down".
            if brick["online"] is not None:
                samples["gluster_brick_up"].append(_sample("gluster_brick_up", labels, int(brick["online"])))
            for metric, key in (
                ("gluster_brick_capacity_bytes_total", "size_total"),
                ("gluster_brick_capacity_free_bytes", "size_free"),
                ("gluster_brick_inodes_total", "inodes_total"),
                ("gluster_brick_inodes_free", "inodes_free"),
                ("gluster_volume_heal_count", "heal_pending"),
                ("gluster_volume_split_brain_heal_count", "split_brain"),
            ):
                if brick[key] is not None:
                    samples[metric].append(_sample(metric, labels, brick[key]))
        for daemon in volume["self_heal"]:
            labels = {**vol, "host": daemon["host"]}
            samples["gluster_self_heal_daemon_up"].append(
                _sample("gluster_self_heal_daemon_up", labels, int(daemon["online"]))
            )
    for peer in result.get("peers", []):
        if peer["state"] != "this host":
            labels = {"cluster_id": cluster_id, "hostname": peer["hostname"], "uuid": peer["uuid"]}
            samples["gluster_peer_connected"].append(_sample("gluster_peer_connected", labels, int(peer["connected"])))
    lines = []
    for name, help_text in METRICS.items():
        if samples[name]:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", *samples[name]]
    return "\n".join(lines) + "\n"


class FilterModule:
    def filters(self):
        return {"gluster_health_table": gluster_health_table, "gluster_health_prometheus": gluster_health_prometheus}
