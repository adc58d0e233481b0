#!/usr/bin/python3
"""Time one node's rolling maintenance against the same steps typed by hand, in one lab.

A 4-host lab: a Ganeti cluster on node1 to node4 (node1 the master), a replica 3
volume gv0 on node1 to node3, node4 a peer without bricks (site.yml, not timed),
one instance on the gluster template on node2 and one on node3. Each run, with
nothing for the operator to do (no reboot: what is timed is what the roll adds
around the operator's work):

- rolling: `rolling.yml -e rolling_nodes=node2` (a new rolling_id each run): the
  plan, the gate (health, Ganeti's verify), the drain with a live migration, Gluster
  stopped and started, heal started and waited for, the undrain, the op-version and
  the summary;
- floor: the same for node3, one direct command per step: drain, `gnt-node
  migrate`, unmount its FUSE mounts, stop glusterd, its bricks and its other
  glusterfs processes by pid, start glusterd, wait until its brick and its
  self-heal daemon are online, mount again, `volume heal` (again while glusterd
  refuses it), wait until heal info shows nothing, undrain.

While the node's glusterd is down, files are written through node4's mount of the
volume (every 0.2 s, 20 at most), so that there is something to heal. Each
instance goes back home after its run (not timed).

    bench/rolling.py [--runs 3]   (as root, no lab running, after scripts/setup)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from join import B1, LAB, CommandFailed, gluster, on, on_rc, playbook, sh, start  # noqa: E402

INVENTORY = f"""\
gluster_pool:
  hosts:
    node1:
    node2:
    node3:
    # A peer without bricks: its instances mount the volume from its own glusterd.
    node4: {{gluster_pool_bricks: []}}
  vars:
    gluster_pool_volume: gv0
    gluster_pool_replica: 3
    gluster_pool_bricks: [{B1}]
ganeti_master:
  hosts:
    node1:
ganeti_nodes:
  hosts:
    node1:
    node2:
    node3:
    node4:
  vars:
    ganeti_gluster_disk_hook_project_dir: "{{{{ lab_project_dir }}}}"
    ganeti_gluster_disk_hook_python: "{{{{ ansible_playbook_python }}}}"
"""
HOMES = {"inst2": "node2", "inst3": "node3"}


def glusterd_down(host):
    return not on(host, "pgrep -x glusterd || true").stdout.strip()


class WritesWhileDown(threading.Thread):
    """Once `host`'s glusterd is down, writes a file through node4's mount every 0.2 s
    until it is up again (20 at most): what heal has to bring back to it."""

    def __init__(self, host):
        super().__init__(daemon=True)
        self.host, self.written, self.ending, self.error = host, 0, threading.Event(), None

    def run(self):
        try:
            while not self.ending.is_set() and not glusterd_down(self.host):
                time.sleep(0.1)
            while self.written < 20 and glusterd_down(self.host):
                on("node4", f"head -c 256K /dev/urandom > /mnt/bench/f{time.monotonic_ns()}")
                self.written += 1
                time.sleep(0.2)
        except CommandFailed as exc:
            self.error = exc

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.ending.set()
        self.join()
        if self.error is not None and exc[0] is None:
            raise self.error


def until(done, what, timeout=300):
    """Polls `done` every 0.1 s; a bench that waits longer than `timeout` stops, naming `what`."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise CommandFailed(f"waited {timeout} s for {what}")
        time.sleep(0.1)


def heal_pending():
    summary = gluster("node1", "volume", "heal", "gv0", "info", "summary")
    counts = (b.findtext("numberOfEntriesInHealPending") or "0" for b in summary.iterfind(".//brick"))
    return sum(int(c) if c.isdigit() else 1 for c in counts)


def uuid_of(host):
    info = on(host, "cat /var/lib/glusterd/glusterd.info").stdout
    return next(line.split("=", 1)[1] for line in info.splitlines() if line.startswith("UUID="))


def brick_and_shd_online(host, uuid):
    """What an operator waits for in `volume status` before `volume heal`: the host's
    brick and its self-heal daemon online (the heal is refused before the daemon runs)."""
    nodes = gluster("node1", "volume", "status", "gv0").iterfind(".//node")
    online = {(n.findtext("hostname"), n.findtext("peerid")) for n in nodes if n.findtext("status") == "1"}
    return (host, uuid) in online and ("Self-heal Daemon", uuid) in online


def floor(host):
    """The roll of `host` by hand, one direct command per step."""
    uuid = uuid_of(host)
    started = time.perf_counter()
    on("node1", f"gnt-node modify --drained=yes {host}")
    on("node1", f"gnt-node migrate -f {host}")
    listed = on(host, "findmnt -rn -t fuse.glusterfs -o SOURCE,TARGET || true").stdout.splitlines()
    mounts = [line.split() for line in listed if line.strip()]
    for _source, target in mounts:
        on(host, f"umount {target}")
    for name in ("glusterd", "glusterfsd", "glusterfs"):
        on(host, f"for pid in $(pgrep -x {name}); do kill $pid; done")
    gone = "! pgrep -x 'glusterd|glusterfsd|glusterfs'"
    until(lambda: on_rc(host, gone) == 0, f"{host}'s gluster processes to end")
    on(host, "glusterd -p /run/glusterd.pid")
    until(lambda: brick_and_shd_online(host, uuid), f"{host}'s brick and self-heal daemon online")
    for source, target in mounts:
        on(host, f"mount -t glusterfs {source} {target}")
    # glusterd refuses the heal for a moment after volume status shows the daemon online.
    until(lambda: on_rc("node1", "gluster --mode=script volume heal gv0") == 0, "glusterd to take the heal")
    until(lambda: not heal_pending(), "heal to finish")
    on("node1", f"gnt-node modify --drained=no {host}")
    return time.perf_counter() - started


def rolled(inventory, run):
    """rolling.yml for node2 alone, a new roll each run."""
    extra = ["-e", "rolling_nodes=node2", "-e", f"rolling_id=bench-{run}"]
    return playbook([inventory], REPO / "playbooks" / "rolling.yml", *extra)


def send_home():
    for name, home in HOMES.items():
        where = on("node1", f"gnt-instance list --no-headers -o pnode {name}").stdout.strip()
        if where != home:
            on("node1", f"gnt-instance migrate -f --target-node={home} {name}")


def main():
    runs = start(__doc__).runs
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as inventory:
        inventory.write(INVENTORY)
        inventory.flush()
        sh(LAB, "up", "4")
        try:
            playbook([inventory.name], REPO / "molecule" / "shared" / "ganeti-init.yml")
            playbook([inventory.name], REPO / "playbooks" / "site.yml")
            for name, home in HOMES.items():
                on(
                    "node1",
                    "gnt-instance add -t gluster --disk=0:size=1G,access=kernelspace -o lab+default "
                    f"-n {home} --no-name-check --no-ip-check {name}",
                )
            on("node4", "mkdir -p /mnt/bench && mount -t glusterfs node1:/gv0 /mnt/bench")
            rolls, floors, written = [], [], []
            for run in range(runs):
                with WritesWhileDown("node2") as writes:
                    rolls.append(rolled(inventory.name, run))
                send_home()
                with WritesWhileDown("node3") as floor_writes:
                    floors.append(floor("node3"))
                send_home()
                written.append((writes.written, floor_writes.written))
        finally:
            sh(LAB, "down")
    f, r = statistics.median(floors), statistics.median(rolls)
    print(f"runs: {runs}; files written while the node was down (roll, floor): {written}")
    print(f"floor (node3 by hand): median {f:.1f}s  {[round(x, 1) for x in sorted(floors)]}")
    rolls_text = [round(x, 1) for x in sorted(rolls)]
    print(f"rolling.yml -e rolling_nodes=node2: median {r:.1f}s  {rolls_text}  = {r / f:.2f}x")


if __name__ == "__main__":
    main()
