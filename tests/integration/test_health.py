"""Health on a real pool: each unhealthy state built for real, then the verdict.

One 4-host lab: node1-3 hold gv0, a 2 x 3 volume built by site.yml with the
roles' defaults (two device bricks each); node4 is a fresh host. The cases run
in file order and each leaves the pool healthy again, but the last (split-brain).
They assert on health.yml's JSON report and on gluster's own --xml answers.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    GlusterOpError,
    rebalance_process_unanswered,
)

from .ansible_helpers import gluster_xml, install_built_collection
from .fault_lab import LAB_HOSTS, cluster_state, peers, play, pool_healthy, wait_until
from .lab_helpers import REPO, fresh_lab, ssh

pytestmark = pytest.mark.lab

FIRST = '{path: /bricks/b1/brick, device: "{{ lab_block_devices[0] }}"}'
SECOND = '{path: /bricks/b2/brick, device: "{{ lab_block_devices[1] }}"}'
SPARE = "{path: /bricks/b2/spare}"
TEXTFILE = "/var/lib/node_exporter/textfile/gluster.prom"
MOUNT = "/mnt/health"


def inventory(path, joining=False):
    spare = f", {SPARE}" if joining else ""
    lines = ["gluster_pool:", "  hosts:"]
    for host in ("node1", "node2"):
        lines.append(f"    {host}: {{gluster_pool_bricks: [{FIRST}, {SECOND}{spare}]}}")
    lines.append(f"    node3: {{gluster_pool_bricks: [{FIRST}, {SECOND}]}}")
    if joining:
        lines.append(f"    node4: {{gluster_pool_bricks: [{FIRST}]}}")
    lines += ["  vars:", "    gluster_pool_volume: gv0", "    gluster_pool_replica: 3"]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    with fresh_lab(4):
        work = tmp_path_factory.mktemp("health")
        built = play("site.yml", inventory(work / "pool.yml"), {}, timeout=600)
        assert built.rc == 0, built.failures
        out = ssh("node1", f"mkdir -p {MOUNT} && mount -t glusterfs node1:/gv0 {MOUNT}")
        assert out.returncode == 0, out.stderr
        yield work


def health(work, **extravars):
    """health.yml's run and its JSON report (written on the controller)."""
    report = work / "report.json"
    report.unlink(missing_ok=True)
    run = play(
        "health.yml", str(work / "pool.yml"), {"health_format": "json", "health_output": str(report), **extravars}
    )
    return run, json.loads(report.read_text())


def findings(report, severity=None):
    return [
        (f["severity"], f["subject"], f["reason"])
        for volume in report["volumes"]
        for f in volume["findings"]
        if severity in (None, f["severity"])
    ]


def brick_online():
    """Brick -> online, from gluster's own `volume status --xml` on node1."""
    root = gluster_xml("node1", "volume", "status", "gv0")
    return {
        f"{n.findtext('hostname')}:{n.findtext('path')}": n.findtext("status") == "1"
        for n in root.iterfind("./volStatus/volumes/volume/node")
        if (n.findtext("path") or "").startswith("/")
    }


def heal_counts():
    root = gluster_xml("node1", "volume", "heal", "gv0", "info", "summary")
    return {
        b.findtext("name"): (b.findtext("numberOfEntriesInHealPending"), b.findtext("numberOfEntriesInSplitBrain"))
        for b in root.iterfind("./healInfo/bricks/brick")
    }


def kill_brick(host, path="/bricks/b1/brick"):
    pidfile = f"/var/run/gluster/vols/gv0/{host}{path.replace('/', '-')}.pid"
    assert ssh(host, f"kill -9 $(cat {pidfile})").returncode == 0
    wait_until(lambda: brick_online().get(f"{host}:{path}") is False, 30, f"{host}:{path} offline")


def client_reaches(host, path):
    """Wait until the client mount writes to this brick again: a directory made through
    the mount (directories go to every brick) shows up on the brick itself."""
    attempt = iter(range(10**6))

    def landed():
        probe = f"reconnect-{next(attempt)}"
        ssh("node1", f"mkdir {MOUNT}/{probe}")
        return ssh(host, f"test -d {path}/{probe}").returncode == 0

    wait_until(landed, 60, f"the client to reach {host}:{path}")


def restart_bricks_and_heal():
    assert ssh("node1", "gluster --mode=script volume start gv0 force").returncode == 0
    wait_until(lambda: all(brick_online().values()) and len(brick_online()) == 6, 60, "every brick online")
    ssh("node1", "gluster --mode=script volume heal gv0")
    wait_until(lambda: all(c == ("0", "0") for c in heal_counts().values()), 120, "heal to finish")


def test_a_clean_pool_is_healthy_and_its_metrics_say_so(pool):
    for host in ("node1", "node2", "node3"):  # node_exporter's textfile directory
        assert ssh(host, f"mkdir -p {TEXTFILE.rsplit('/', 1)[0]}").returncode == 0
    run, report = health(pool, health_textfile=TEXTFILE)
    assert run.rc == 0, run.failures
    assert report["verdict"] == "healthy" and findings(report) == []
    (volume,) = report["volumes"]
    assert [s["in_quorum"] for s in volume["sets"]] == [True, True]
    assert {b["name"]: b["online"] for b in volume["bricks"]} == brick_online()
    metrics = ssh(report["read_on"], f"cat {TEXTFILE}").stdout
    up = re.findall(r'^gluster_brick_up\{[^}]*host="([^"]+)",brick_path="([^"]+)"\} (\d)$', metrics, re.M)
    assert {f"{h}:{p}": v == "1" for h, p, v in up} == brick_online()
    assert re.search(r'^gluster_health_verdict\{cluster_id="",volume="gv0"\} 0$', metrics, re.M)


def test_a_stopped_volume_is_unsafe_to_health_and_left_alone_by_a_roll(pool):
    # Created and never started, on node2's and node3's first disks beside gv0's bricks.
    create = "gluster --mode=script volume create archive replica 2 node2:/bricks/b1/archive node3:/bricks/b1/archive"
    assert ssh("node1", f"{create} force").returncode == 0
    try:
        run, report = health(pool, health_volumes=[])  # every volume of the pool
        assert run.rc != 0
        assert ("unsafe", "archive", "volume archive is Created: no client can use it") in findings(report)
        # A roll of node3 leaves it out of its gates: no client uses it, and node3 going down
        # cannot break it. Its plan (--check), then the roll itself: Gluster stopped and started.
        glusterd = ssh("node3", "cat /run/glusterd.pid").stdout.strip()
        for check in (True, False):
            roll = play("rolling.yml", str(pool / "pool.yml"), {"rolling_nodes": "node3"}, check=check)
            assert roll.rc == 0, roll.failures
        assert ssh("node3", "cat /run/glusterd.pid").stdout.strip() not in ("", glusterd)
        (archive,) = gluster_xml("node1", "volume", "info", "archive").iterfind("./volInfo/volumes/volume")
        assert archive.findtext("statusStr") == "Created"
    finally:
        # Not asserted: a failure above is the one to see.
        ssh("node1", "gluster --mode=script volume delete archive")
        ssh("node2", "rm -rf /bricks/b1/archive")
        ssh("node3", "rm -rf /bricks/b1/archive")
    run, report = health(pool)
    assert (run.rc, report["verdict"]) == (0, "healthy"), findings(report)


def test_a_killed_brick_makes_it_degraded(pool):
    kill_brick("node3")
    run, report = health(pool)
    assert run.rc != 0
    assert report["verdict"] == "degraded"
    assert ("degraded", "node3:/bricks/b1/brick", "brick offline (its brick process is not running)") in findings(
        report
    )
    assert findings(report, "unsafe") == []


def test_writes_while_a_brick_is_down_leave_heal_pending(pool):
    # node3's first brick is still down from the case before.
    out = ssh(
        "node1", f"mkdir -p {MOUNT}/while-down && for i in $(seq 1 20); do echo $i > {MOUNT}/while-down/f$i; done"
    )
    assert out.returncode == 0, out.stderr
    pending = {brick for brick, (count, _) in heal_counts().items() if count not in ("0", "-", None)}
    assert pending, heal_counts()
    run, report = health(pool)
    assert report["verdict"] == "degraded"
    reported = {s for _, s, r in findings(report, "degraded") if "pending heal" in r}
    assert reported == pending
    restart_bricks_and_heal()
    run, report = health(pool)
    assert (run.rc, report["verdict"]) == (0, "healthy"), findings(report)


def test_a_stopped_glusterd_makes_it_degraded(pool):
    assert ssh("node3", "kill $(cat /run/glusterd.pid)").returncode == 0
    wait_until(lambda: not peers()["node3"].connected, 60, "node1 to see node3 disconnected")
    try:
        run, report = health(pool)
        assert run.rc != 0
        assert report["verdict"] == "degraded"
        subjects = {s for _, s, _ in findings(report)}
        assert {"node3", "node3:/bricks/b1/brick", "node3:/bricks/b2/brick"} <= subjects
        assert findings(report, "unsafe") == []
    finally:
        assert ssh("node3", "glusterd -p /run/glusterd.pid").returncode == 0
        wait_until(pool_healthy, 60, "node3 back in the pool")
    restart_bricks_and_heal()


def rebalance_status():
    """gv0's aggregate rebalance status on node1; None while a node's rebalance
    process exits as its pass completes, as the modules read it."""
    try:
        root = gluster_xml("node1", "volume", "rebalance", "gv0", "status")
    except GlusterOpError as exc:
        if rebalance_process_unanswered(exc):
            return None
        raise
    return root.findtext("./volRebalance/aggregate/statusStr")


def test_a_running_rebalance_makes_it_degraded(pool):
    # Enough files that a pass is still crawling when its process is stopped, right after the start.
    out = ssh("node1", f"mkdir -p {MOUNT}/many && cd {MOUNT}/many && seq 1 3000 | xargs touch", timeout=300)
    assert out.returncode == 0, out.stderr
    pidfile = "/var/lib/glusterd/vols/gv0/rebalance/*.pid"
    out = ssh("node1", f"gluster --mode=script volume rebalance gv0 start force && kill -STOP $(cat {pidfile})")
    assert out.returncode == 0, out.stderr
    try:
        run, report = health(pool)
        (volume,) = report["volumes"]
        assert [t["status"] for t in volume["tasks"] if t["type"] == "Rebalance"] == ["in progress"]
        assert ("degraded", "gv0", "rebalance in progress") in findings(report)
    finally:
        assert ssh("node1", f"kill -CONT $(cat {pidfile})").returncode == 0
    wait_until(lambda: rebalance_status() == "completed", 300, "the rebalance to complete")
    run, report = health(pool)
    assert (run.rc, report["verdict"]) == (0, "healthy"), findings(report)


def test_the_installed_collection_runs_its_playbooks_by_name(pool):
    # As a user who installed the built collection runs it: by its name, from elsewhere,
    # with only the installed copy on the collections path.
    installed = install_built_collection(pool)
    assert (installed / "ansible_collections" / "ganeti_gluster" / "cluster" / "playbooks" / "health.yml").is_file()

    def by_name(playbook, extra_vars, *options):
        return subprocess.run(
            [
                str(Path(sys.executable).with_name("ansible-playbook")),
                f"ganeti_gluster.cluster.{playbook}",
                f"--inventory={LAB_HOSTS}",
                f"--inventory={pool / 'pool.yml'}",
                "--extra-vars",
                json.dumps(extra_vars),
                *options,
            ],
            cwd=pool,
            env=dict(
                os.environ,
                ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
                ANSIBLE_COLLECTIONS_PATH=str(installed),
                # Each result as JSON, uncoloured: a long line is never folded.
                ANSIBLE_CALLBACK_RESULT_FORMAT="json",
                ANSIBLE_FORCE_COLOR="false",
                ANSIBLE_NOCOLOR="1",
            ),
            capture_output=True,
            text=True,
            check=False,
        )

    report = pool / "installed-report.json"
    out = by_name("health", {"health_format": "json", "health_output": str(report)})
    assert out.returncode == 0, out.stdout[-3000:]
    assert json.loads(report.read_text())["verdict"] == "healthy"

    # The roll's plan (--check): node3's turn, and each set it holds a brick of while it is down.
    # A roll of its own: the same work by the default id (the day's) was done on node3 above.
    before, glusterd = cluster_state(), ssh("node3", "cat /run/glusterd.pid").stdout.strip()
    out = by_name("rolling", {"rolling_nodes": "node3", "rolling_id": "installed-by-name"}, "--check")
    assert out.returncode == 0, out.stdout[-3000:]
    plan = re.search(r'TASK \[Show the plan\].*?"msg": (\[.*?\])', out.stdout, re.S)
    assert plan, out.stdout[-3000:]
    assert json.loads(plan.group(1)) == [
        "1. node3: instances none; while it is down: gv0 set 0 2 of 3 up (2 needed); gv0 set 1 2 of 3 up (2 needed)"
    ]
    assert (cluster_state(), ssh("node3", "cat /run/glusterd.pid").stdout.strip()) == (before, glusterd)


def test_split_brain_is_unsafe_and_add_node_refuses_to_start(pool):
    # The documented way to make one: no healing, no client quorum, and each side
    # of the file's replica set written while the others are down.
    for option, value in (
        ("cluster.self-heal-daemon", "off"),
        ("cluster.data-self-heal", "off"),
        ("cluster.metadata-self-heal", "off"),
        ("cluster.entry-self-heal", "off"),
        ("cluster.quorum-type", "none"),
    ):
        assert ssh("node1", f"gluster --mode=script volume set gv0 {option} {value}").returncode == 0
    assert ssh("node1", f"echo first > {MOUNT}/sb").returncode == 0
    pathinfo = ssh("node1", f"getfattr -n trusted.glusterfs.pathinfo --only-values {MOUNT}/sb").stdout
    holders = re.findall(r"<POSIX\(([^)]+)\):([^:]+):", pathinfo)
    assert len(holders) == 3, pathinfo
    (first_path, first_host), *others = holders
    kill_brick(first_host, first_path)
    assert ssh("node1", f"echo side-a > {MOUNT}/sb").returncode == 0
    assert ssh("node1", "gluster --mode=script volume start gv0 force").returncode == 0
    client_reaches(first_host, first_path)
    for path, host in others:
        kill_brick(host, path)
    assert ssh("node1", f"echo side-b-longer > {MOUNT}/sb").returncode == 0
    assert ssh("node1", "gluster --mode=script volume start gv0 force").returncode == 0
    wait_until(lambda: all(brick_online().values()), 60, "every brick online")
    split = {brick for brick, (_, count) in heal_counts().items() if count not in ("0", "-", None)}
    assert split, heal_counts()

    run, report = health(pool)
    assert run.rc != 0
    assert report["verdict"] == "unsafe"
    assert {s for _, s, r in findings(report, "unsafe") if "split-brain" in r} == split

    # A join refuses before it changes anything.
    ssh("node1", "mkdir -p /bricks/b2/spare")
    ssh("node2", "mkdir -p /bricks/b2/spare")
    before = cluster_state()
    joining = play("add-node.yml", inventory(pool / "join.yml", joining=True), {"add_nodes": "node4"})
    assert joining.rc != 0
    assert "split-brain" in " ".join(joining.failures.values())
    assert cluster_state() == before
    assert "node4" not in peers()
    # Nor on the new host: no glusterd started, no brick formatted or mounted.
    # (findmnt and pgrep exit 1 when they find nothing; ssh fails with 255.)
    assert ssh("node4", "pgrep -x glusterd").returncode == 1
    assert ssh("node4", "findmnt /bricks/b1").returncode == 1
