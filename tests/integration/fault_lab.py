"""The fault suite's tools: playbook runs a fault can strike at a named task, and
the checks that tell whether a fault cost anything (files, bricks, the volume).

A run is `ansible-playbook` in its own session, so that a fault can SIGKILL it
and everything it started, as a dying controller would; the test-only callback
callback_plugins/fault_at_task.py fires the fault when the named task starts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import parse_volume_status

from .ansible_helpers import gluster_xml, volume_info
from .ansible_helpers import pool as pool_of
from .lab_helpers import REPO, lab, ssh

LAB_HOSTS = str(REPO / "inventory" / "lab" / "lab_hosts")
CALLBACKS = Path(__file__).resolve().parent / "callback_plugins"
FIRST_BRICK = '{path: /bricks/b1/brick, device: "{{ lab_block_devices[0] }}"}'
DATASET = "/root/dataset.sha256"


@dataclass
class Run:
    rc: int
    stats: dict = field(default_factory=dict)
    failures: dict = field(default_factory=dict)
    killed: bool = False

    @property
    def changed(self):
        return sum(s.get("changed", 0) for s in self.stats.values())


def pool_inventory(path, new_hosts=(), spares=None, rebalance="fix-layout", extra=""):
    """node1-3 (the pool), the new hosts with their first device, and spare directory
    bricks (on the /bricks/b2 filesystems the suite prepared) on node1 and node2."""
    spare = "".join(f", {{path: /bricks/b2/{name}}}" for name in spares or [])
    lines = [
        "gluster_pool:",
        "  hosts:",
        f"    node1: {{gluster_pool_bricks: [{FIRST_BRICK}{spare}]}}",
        f"    node2: {{gluster_pool_bricks: [{FIRST_BRICK}{spare}]}}",
        f"    node3: {{gluster_pool_bricks: [{FIRST_BRICK}]}}",
    ]
    lines += [f"    {host}: {{gluster_pool_bricks: [{FIRST_BRICK}]}}" for host in new_hosts]
    lines += [
        "  vars:",
        "    gluster_pool_volume: gv0",
        "    gluster_pool_replica: 3",
        f"    gluster_pool_rebalance: {rebalance}",
    ]
    path.write_text("\n".join(lines) + "\n" + textwrap.dedent(extra))
    return str(path)


def play(
    playbook,
    inventory,
    extravars=None,
    fault_at=None,
    fault=None,
    wait="sync",
    kill=False,
    timeout=900,
    in_play=None,
    check=False,
):
    """ansible-playbook with the lab's hosts and `inventory` (with `check`, --check); a fault
    may fire when the task `fault_at` starts (argv `fault`, then with `kill` the run's SIGKILL),
    in the play named `in_play` when given."""
    report = Path(tempfile.mkstemp(prefix="run-report-", suffix=".json")[1])
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        RUN_REPORT=str(report),
        ANSIBLE_CALLBACK_PLUGINS=str(CALLBACKS),
        ANSIBLE_CALLBACKS_ENABLED="fault_at_task",
        ANSIBLE_FORCE_COLOR="false",
    )
    if fault_at:
        env.update(FAULT_AT_TASK=fault_at, FAULT_COMMAND=json.dumps(fault), FAULT_WAIT=wait, FAULT_KILL=str(int(kill)))
        if in_play:
            env["FAULT_AT_PLAY"] = in_play
    argv = [
        str(Path(sys.executable).with_name("ansible-playbook")),
        str(REPO / "playbooks" / playbook),
        f"--inventory={LAB_HOSTS}",
        f"--inventory={inventory}",
        "--extra-vars",
        json.dumps(extravars or {}),
        *(["--check"] if check else []),
    ]
    proc = subprocess.run(
        argv, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout, start_new_session=True, check=False
    )
    killed = proc.returncode == -signal.SIGKILL
    fault_rc = Path(f"{report}.fault")
    try:
        result = json.loads(report.read_text() or "{}")
        fired = fault_rc.read_text() if fault_rc.exists() else None
    finally:
        report.unlink()
        fault_rc.unlink(missing_ok=True)
    if fired not in (None, "0"):
        raise AssertionError(f"the fault {fault} at {fault_at!r} failed (exit {fired}): the case's state was not built")
    # A run that ended by itself always reports its hosts' stats (the callback writes them
    # at the playbook's end): none would make `changed` 0 whatever the run did.
    if not killed and not result.get("stats"):
        raise AssertionError(f"no run report from the callback: {proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    failures = result.get("failures") or {}
    if proc.returncode and not failures and not killed:
        failures = {"stdout": proc.stdout[-3000:], "stderr": proc.stderr[-2000:]}
    return Run(proc.returncode, result.get("stats", {}), failures, killed)


def on_host(host, command):
    """argv: a shell command inside a lab host (through the lab CLI, not SSH)."""
    return [str(REPO / "bin" / "lab"), "exec", host, "--", "sh", "-c", command]


def stop_glusterd(host):
    return ssh(host, "kill $(cat /run/glusterd.pid)")


def start_glusterd(host):
    return ssh(host, "glusterd -p /run/glusterd.pid")


def wait_until(predicate, timeout=90, what="the pool to heal"):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def pool_healthy(host="node1"):
    try:
        return all(p.in_cluster for p in pool_of(host))
    except Exception:  # glusterd coming back
        return False


def peers(host="node1"):
    return {p.hostname: p for p in pool_of(host) if not p.is_local}


def cluster_state():
    return {
        "volume": ssh("node1", "gluster --mode=script --xml volume info").stdout,
        "pool": ssh("node1", "gluster --mode=script --xml pool list").stdout,
    }


def write_dataset(files=120, kib=1024):
    """Files of random data on the volume, their checksums kept on node1."""
    script = f"""
    set -e
    mkdir -p /mnt/gv0-write && mount -t glusterfs node1:/gv0 /mnt/gv0-write
    mkdir -p /mnt/gv0-write/data /mnt/gv0-write/data/deep/er
    for i in $(seq 1 {files}); do
        d=/mnt/gv0-write/data; [ $((i % 3)) = 0 ] && d=/mnt/gv0-write/data/deep/er
        head -c {kib}K /dev/urandom > $d/f$i
    done
    cd /mnt/gv0-write/data && find . -type f | sort | xargs sha256sum > {DATASET}
    cd / && umount /mnt/gv0-write
    """
    out = ssh("node1", script, timeout=600)
    assert out.returncode == 0, out.stderr


def files_lost():
    """How many of the dataset's files a fresh client mount does not read back intact."""
    script = f"""
    m=$(mktemp -d /mnt/check.XXXXXX)
    mount -t glusterfs node1:/gv0 "$m" || exit 99
    if cd "$m/data"; then
        sha256sum --check --quiet {DATASET} 2>/dev/null | grep -c ': FAILED'
    else
        wc -l < {DATASET}
    fi
    cd / && umount "$m" && rmdir "$m"
    """
    out = ssh("node1", script, timeout=600)
    assert out.returncode == 0, f"fresh client mount failed: {out.stderr}"
    lines = out.stdout.split()
    return int(lines[-1]) if lines else 0


def offline_bricks(except_hosts=()):
    """Bricks of the volume whose process is not running, but on the hosts a fault took
    down. Read on each host from glusterd's pid file and /proc, not with `volume
    status`: that is a cluster-wide transaction, which a peer cut off mid-way blocks."""
    offline = []
    for brick in volume_info("node1", "gv0").bricks:
        host, path = brick.name.split(":", 1)
        if host in except_hosts:
            continue
        pidfile = f"/var/run/gluster/vols/gv0/{host}{path.replace('/', '-')}.pid"
        alive = ssh(host, f'p=$(cat {pidfile}) && [ "$(readlink /proc/$p/exe)" = /usr/sbin/glusterfsd ]')
        if alive.returncode != 0:
            offline.append(brick.name)
    return offline


def volume_status_answers():
    """Whether glusterd runs a cluster-wide transaction again (none left hanging)."""
    try:
        parse_volume_status(gluster_xml("node1", "volume", "status", "gv0"))
    except Exception:
        return False
    return True


def brick_online(brick, host="node1"):
    """Whether glusterd on `host` reports gv0's brick `brick` (HOST:PATH) online; None
    while it does not answer (a transaction still held by a peer)."""
    try:
        status = parse_volume_status(gluster_xml(host, "volume", "status", "gv0"))
    except Exception:
        return None
    return any(b.name == brick and b.online for b in status)


def every_brick_online(host="node1"):
    try:
        status = parse_volume_status(gluster_xml(host, "volume", "status", "gv0"))
    except Exception:  # a transaction still held by the peer that came back
        return False
    return all(b.online for b in status) and len(status) == len(volume_info(host, "gv0").bricks)


def bricks_of(host):
    return [b.name for b in volume_info("node1", "gv0").bricks if b.name.split(":")[0] == host]


def assert_nothing_lost(down=()):
    """The invariants after any fault: the volume started, every brick of the hosts the
    fault left alone online, every file intact through a fresh client mount."""
    volume = volume_info("node1", "gv0")
    assert volume is not None and volume.started
    assert offline_bricks(except_hosts=down) == []
    assert files_lost() == 0


def lab_exec(host, command):
    out = lab("exec", host, "--", "sh", "-c", command)
    assert out.returncode == 0, out.stderr
    return out
