"""The lab on the real machine: namespaces, loop devices, sshd, glusterd.

Each test boots and tears down its own lab, and checks the machine's footprint
(network namespaces, loop devices, processes in foreign network namespaces,
mounts) is exactly what it was before.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    GlusterCliError,
    interpret,
    parse_pool_list,
)
from lab.cli import lab_slot

from .ansible_helpers import run_module
from .lab_helpers import LAB, STATE_DIR, lab, lab_state, ssh

pytestmark = pytest.mark.lab


def footprint() -> dict:
    """What of the machine a lab could leave behind."""
    own_netns = os.stat("/proc/self/ns/net").st_ino
    foreign = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}/ns/net").st_ino != own_netns:
                foreign.add(Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    loops = subprocess.run(["losetup", "--all"], capture_output=True, text=True, check=True).stdout
    # iproute2 makes /run/netns a mount point at the first `ip netns add` after boot and keeps it.
    mounts = [
        point
        for point in (line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines())
        if point != "/run/netns"
    ]
    return {
        "netns": sorted(netns.split("\n")),
        "loops": sorted(loops.split("\n")),
        "foreign_processes": sorted(foreign),
        "mounts": sorted(mounts),
        "state_dir": STATE_DIR.exists(),
        "paths": {p: os.path.exists(p) for p in ("/bricks", "/srv/ganeti")},
    }


@pytest.fixture
def clean_machine():
    """The footprint before the test; asserts the same footprint after it."""
    if lab("status").returncode == 0:
        pytest.fail(f"a lab is already up in this slot ({STATE_DIR}); run 'bin/lab down' before the tests")
    before = footprint()
    yield before
    lab("down")
    assert footprint() == before


def test_up_4_then_down_leaves_nothing(clean_machine):
    up = lab("up", "4")
    assert up.returncode == 0, up.stderr
    state = lab_state()
    assert [h["name"] for h in state["hosts"]] == ["node1", "node2", "node3", "node4"]
    during = footprint()
    assert len(during["netns"]) == len(clean_machine["netns"]) + 5  # 4 hosts + the switch
    assert len(during["loops"]) == len(clean_machine["loops"]) + 8

    down = lab("down")
    assert down.returncode == 0, down.stderr
    assert down.stdout.strip() == "lab: down"
    after = footprint()
    assert after == clean_machine
    assert not any(str(STATE_DIR) in line for line in after["loops"])


def test_each_host_is_its_own_machine_over_ssh(clean_machine):
    assert lab("up", "3").returncode == 0
    addresses = {h["name"]: h["address"] for h in lab_state()["hosts"]}
    host_fstab = Path("/etc/fstab").read_bytes()
    for name, address in addresses.items():
        out = ssh(name, "hostname; cat /etc/hostname; ip -4 -o addr show dev eth0; getent hosts node1")
        assert out.returncode == 0, out.stderr
        hostname, etc_hostname, eth0, node1 = out.stdout.splitlines()
        assert hostname == etc_hostname == name
        assert f" {address}/24 " in eth0
        assert node1.split()[0] == addresses["node1"]

    # From inside a host (as a Ganeti hook on the master runs Ansible), the
    # other hosts answer over plain SSH with the inside inventory's settings.
    inside = json.loads((STATE_DIR / "inventory-inside.yml").read_text())["lab"]
    ssh_vars = inside["vars"]
    hop = lab(
        "exec",
        "node1",
        "--",
        "ssh",
        "-i",
        ssh_vars["ansible_ssh_private_key_file"],
        *shlex.split(ssh_vars["ansible_ssh_common_args"]),
        f"root@{inside['hosts']['node2']['ansible_host']}",
        "hostname",
    )
    assert (hop.returncode, hop.stdout.strip()) == (0, "node2"), hop.stderr

    # Private /etc/fstab, /bricks and /var/lib/glusterd: what one host writes
    # reaches neither the machine nor the other hosts.
    marker = "/dev/loop99 /bricks/x xfs defaults 0 0"
    assert ssh("node1", f"echo '{marker}' >> /etc/fstab; touch /bricks/mine /var/lib/glusterd/mine").returncode == 0
    assert Path("/etc/fstab").read_bytes() == host_fstab
    assert not Path("/var/lib/glusterd/mine").exists()
    seen = ssh("node2", "grep -c loop99 /etc/fstab; ls /bricks /var/lib/glusterd")
    assert seen.stdout.splitlines()[0] == "0"
    assert "mine" not in seen.stdout

    # Each host's block devices format and mount inside the host only.
    device = lab_state()["hosts"][0]["block_devices"][0]
    fmt = ssh(
        "node1",
        f"mkfs.xfs -q -i size=512 {device} && mkdir -p /bricks/b1 && mount {device} /bricks/b1 "
        "&& findmnt -n -o FSTYPE /bricks/b1",
    )
    assert fmt.stdout.strip() == "xfs", fmt.stderr
    assert "/bricks/b1" not in Path("/proc/self/mountinfo").read_text()


def test_two_slots_run_side_by_side_and_go_down_one_by_one(clean_machine):
    # scripts/test runs the molecule scenarios and the lab suites at once, in slots 1 and 0.
    slot = 1 if lab_slot() == 0 else 0
    other = dict(os.environ, GGLAB_SLOT=str(slot))
    other.pop("GGLAB_STATE_DIR", None)

    def second(*args):
        return subprocess.run([str(LAB), *args], capture_output=True, text=True, env=other, check=False)

    assert lab("up", "2").returncode == 0
    try:
        up = second("up", "2")
        assert up.returncode == 0, up.stderr
        theirs = json.loads(second("status", "--json").stdout)
        assert {h["address"] for h in theirs["hosts"]} == {f"10.77.{slot}.11", f"10.77.{slot}.12"}
        assert second("exec", "node1", "--", "sh", "-c", "touch /bricks/kept").returncode == 0
        # This slot goes down first: the other lab keeps its hosts and the /bricks they mount over.
        assert lab("down").returncode == 0
        still = second("exec", "node1", "--", "sh", "-c", "ls /bricks; hostname -I")
        assert still.returncode == 0, still.stderr
        assert still.stdout.split() == ["kept", f"10.77.{slot}.11"]
        assert lab("status").returncode != 0
    finally:
        down = second("down")
    assert down.returncode == 0, down.stderr
    # clean_machine asserts that nothing of either lab is left.


def test_a_dead_sshd_is_seen(clean_machine):
    assert lab("up", "2").returncode == 0
    assert ssh("node2", "true").returncode == 0
    assert lab("exec", "node2", "--", "sh", "-c", "kill $(cat /run/sshd.pid)").returncode == 0
    assert ssh("node2", "true").returncode == 255
    assert ssh("node1", "true").returncode == 0


def test_a_powered_off_host_vanishes_without_a_word(clean_machine):
    assert lab("up", "2").returncode == 0
    address = {h["name"]: h["address"] for h in lab_state()["hosts"]}
    # A connection from node1 to node2, to see that node2's end is not closed in front of it.
    listen = "setsid socat -u TCP-LISTEN:7000,reuseaddr /dev/null </dev/null >/dev/null 2>&1 &"
    assert lab("exec", "node2", "--", "sh", "-c", listen).returncode == 0
    connect = (
        f"setsid socat -u TCP:{address['node2']}:7000,retry=50,interval=0.1 /dev/null </dev/null >/dev/null 2>&1 &"
    )
    assert lab("exec", "node1", "--", "sh", "-c", connect).returncode == 0
    established = "ss -Htn state established '( dport = :7000 )' | wc -l"
    assert wait_for(lambda: ssh("node1", established).stdout.strip() == "1")

    assert lab("poweroff", "node2").returncode == 0
    status = lab("status")
    assert status.returncode == 0 and "\toff\t" in status.stdout.splitlines()[1]
    assert ssh("node2", "true").returncode == 255
    refused = lab("exec", "node2", "--", "true")
    assert refused.returncode == 1 and "powered off" in refused.stderr
    netns = next(h["netns"] for h in lab_state()["hosts"] if h["name"] == "node2")
    assert subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True).stdout.strip() == ""
    # node1 runs on; it cannot reach node2, and no FIN reached it: its end is still established.
    assert ssh("node1", f"timeout 3 bash -c '</dev/tcp/{address['node2']}/22'").returncode != 0
    assert ssh("node1", established).stdout.strip() == "1"


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def gluster_pool(host: str):
    proc = ssh(host, "gluster --mode=script --xml pool list")
    return parse_pool_list(
        interpret(["gluster", "--mode=script", "--xml", "pool", "list"], proc.returncode, proc.stdout, proc.stderr)
    )


def test_each_host_runs_its_own_glusterd(clean_machine):
    assert lab("up", "2").returncode == 0
    with pytest.raises(GlusterCliError):  # the lab starts no glusterd
        gluster_pool("node1")
    for host in ("node1", "node2"):
        assert ssh(host, "glusterd -p /run/glusterd.pid").returncode == 0
    pools = {host: gluster_pool(host) for host in ("node1", "node2")}
    for host, peers in pools.items():
        assert [p.is_local for p in peers] == [True], f"{host} sees {peers}"
        on_disk = ssh(host, "sed -n 's/^UUID=//p' /var/lib/glusterd/glusterd.info").stdout.strip()
        assert peers[0].uuid == on_disk
    assert pools["node1"][0].uuid != pools["node2"][0].uuid

    assert ssh("node2", "kill $(cat /run/glusterd.pid)").returncode == 0
    with pytest.raises(GlusterCliError):
        gluster_pool("node2")


@pytest.mark.parametrize("count", ["0", "30", "-1"])
def test_out_of_range_count_is_one_line_and_builds_nothing(clean_machine, count):
    out = lab("up", count)
    assert out.returncode != 0
    assert out.stderr.strip().splitlines() == [f"lab: the number of hosts must be between 1 and 24, not {count}"]
    assert footprint() == clean_machine


def test_down_with_nothing_up_is_a_clean_no_op(clean_machine):
    out = lab("down")
    assert (out.returncode, out.stdout.strip(), out.stderr) == (0, "lab: nothing to tear down", "")


def test_second_up_is_refused_and_leaves_the_first_lab_running(clean_machine):
    assert lab("up", "2").returncode == 0
    before = lab_state()
    again = lab("up", "3")
    assert again.returncode == 1
    assert len(again.stderr.strip().splitlines()) == 1
    assert "already up" in again.stderr
    assert lab_state() == before
    assert ssh("node2", "true").returncode == 0


def test_up_after_a_crash_cleans_up_first(clean_machine):
    assert lab("up", "2").returncode == 0
    # A crashed lab: one host's init is gone, its leftovers remain.
    os.kill(lab_state()["hosts"][0]["holder_pid"], signal.SIGKILL)
    out = lab("up", "2")
    assert out.returncode == 0, out.stderr
    assert ssh("node1", "true").returncode == 0


def test_down_finds_leftovers_without_the_state_file(clean_machine):
    assert lab("up", "2").returncode == 0
    (STATE_DIR / "state.json").unlink()
    assert lab("down").returncode == 0
    # clean_machine asserts the footprint is back to what it was.


def test_exec_on_an_unknown_host_says_which_hosts_exist(clean_machine):
    assert lab("up", "1").returncode == 0
    out = lab("exec", "node7", "--", "true")
    assert out.returncode == 1
    assert out.stderr.strip() == "lab: no host 'node7' in the lab (hosts: node1)"


def test_a_rebooted_host_comes_back_as_a_machine_does(clean_machine):
    """`lab reboot` and a reboot from inside (Ansible's reboot module, through the host's
    own shutdown): every process ends, /run is emptied, the disks and the file systems of
    its fstab come back, glusterd starts as its enabled unit would, the boot id changes;
    the machine's own boot id and the other host do not."""
    machine_boot = Path("/proc/sys/kernel/random/boot_id").read_text()
    assert lab("up", "2").returncode == 0
    device = next(h["block_devices"][0] for h in lab_state()["hosts"] if h["name"] == "node2")
    prepare = (
        f"mkfs.xfs -q {device} && mkdir -p /bricks/b1 && "
        f'echo "UUID=$(blkid -o value -s UUID {device}) /bricks/b1 xfs noatime,nofail 0 0" >> /etc/fstab && '
        "mount /bricks/b1 && echo kept > /bricks/b1/file && glusterd -p /run/glusterd.pid && "
        "touch /run/left-by-the-last-boot && (setsid sleep 1000 </dev/null >/dev/null 2>&1 &)"
    )
    assert ssh("node2", prepare).returncode == 0
    glusterd_uuid = gluster_pool("node2")[0].uuid

    def boot(host):
        if host == "node1":  # no glusterd there
            return ssh(host, "cat /proc/sys/kernel/random/boot_id").stdout.split()
        # sshd may answer before glusterd has started, as on a machine.
        wait = "for i in $(seq 1 50); do [ -s /run/glusterd.pid ] && break; sleep 0.2; done"
        # glusterd's start time (ticks since the machine booted): a new boot's pid may be the same.
        started = "cut -d' ' -f22 /proc/$(cat /run/glusterd.pid)/stat"
        out = ssh(host, f"{wait}; cat /proc/sys/kernel/random/boot_id; {started}; pgrep -x sleep || true")
        assert out.returncode == 0, out.stderr
        return out.stdout.split()

    first, node1_first = boot("node2"), boot("node1")
    rebooted = lab("reboot", "node2")
    assert rebooted.returncode == 0, rebooted.stderr
    second = boot("node2")
    # A new boot id and glusterd, and no process of the last boot (sleep).
    assert second[0] != first[0] and second[1] != first[1] and len(second) == 2, (first, second)
    kept = ssh("node2", "cat /bricks/b1/file && ! test -e /run/left-by-the-last-boot")
    assert (kept.returncode, kept.stdout) == (0, "kept\n"), kept.stderr
    assert gluster_pool("node2")[0].uuid == glusterd_uuid
    assert boot("node1") == node1_first

    # Ansible's reboot action: the host's own shutdown -r, then a new boot id.
    result = run_module("node2", "ansible.builtin.reboot", {"reboot_timeout": 120})
    assert not result["failed"] and result["rebooted"], result
    third = boot("node2")
    assert third[0] not in (first[0], second[0]) and third[1] != second[1], (second, third)
    assert ssh("node2", "cat /bricks/b1/file").stdout == "kept\n"
    assert lab("exec", "node2", "--", "true").returncode == 0
    # Only a reboot is done from inside; the machine's own init was never asked.
    refused = ssh("node2", "shutdown -h now")
    assert refused.returncode == 1 and "lab poweroff" in refused.stderr
    assert boot("node1") == node1_first
    assert Path("/proc/sys/kernel/random/boot_id").read_text() == machine_boot
