"""What stopping Gluster on a host finds in /proc: its processes by the name they
were started with (one binary for all three), libgfapi users, FUSE mounts and what
keeps them busy. On a /proc tree laid out as the kernel shows it."""

from __future__ import annotations

import os

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils import gluster_processes as gp


def process(proc, pid, argv, exe, maps="", cwd="/", fds=(), state="S", uid=0):
    d = proc / str(pid)
    (d / "fd").mkdir(parents=True)
    os.symlink(exe, d / "exe")
    os.symlink(cwd, d / "cwd")
    os.symlink("/", d / "root")
    for n, target in enumerate(fds):
        os.symlink(target, d / "fd" / str(n))
    (d / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    (d / "maps").write_text(maps)
    (d / "status").write_text(f"Name:\t{os.path.basename(argv[0])}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n")
    # Fields after the name: state, ppid, ..., starttime (the 20th), as the kernel writes them.
    after = [state, *("0" * 18), str(1000 + pid), "0"]
    (d / "stat").write_text(f"{pid} ({os.path.basename(argv[0])} x) {' '.join(after)}\n")


@pytest.fixture
def proc(tmp_path):
    p = tmp_path / "proc"
    process(p, 10, ["/usr/sbin/glusterfsd", "-s", "node1", "--volfile-id", "gv0.node1.b"], "/usr/sbin/glusterfsd")
    process(p, 7, ["/usr/sbin/glusterd", "-p", "/run/glusterd.pid"], "/usr/sbin/glusterfsd")
    # Upgraded under it: the binary it runs is deleted.
    process(p, 12, ["/usr/sbin/glusterfs", "--volfile-id", "shd/gv0"], "/usr/sbin/glusterfsd (deleted)")
    gfapi = "7f00-7f01 r-xp 0 08:01 5 /usr/lib/x86_64-linux-gnu/libgfapi.so.0.0.0\n"
    process(
        p, 20, ["qemu-system-x86_64", "-drive", "file=gluster://node1/gv0/disk"], "/usr/bin/qemu-system-x86_64", gfapi
    )
    # What `volume heal VOL info` runs: Gluster's own, not a client to stop for.
    process(p, 26, ["/usr/libexec/glusterfs/glfsheal", "gv0", "info-summary"], "/usr/libexec/glusterfs/glfsheal", gfapi)
    # Gluster's events notifier, a Python script (its exe the interpreter, as a shebang runs it).
    events = ["/usr/bin/python3", "/usr/sbin/glustereventsd", "--pid-file", "/var/run/glustereventsd.pid"]
    process(p, 8, events, "/usr/bin/python3.11")
    # Named glusterfs, another binary: not Gluster's; nor an editor on the events notifier.
    process(p, 21, ["glusterfs"], "/usr/bin/python3")
    process(p, 27, ["vi", "/usr/sbin/glustereventsd"], "/usr/bin/vim.basic")
    # A user's script of that name: not root's, no daemon of Gluster's.
    process(p, 28, ["python3", "/home/ann/glustereventsd"], "/usr/bin/python3", uid=1000)
    # Its child (a webhook pool, forked: the same command line), and the script by its real
    # name with an interpreter option.
    process(p, 9, events, "/usr/bin/python3.11")
    script = "/usr/lib/x86_64-linux-gnu/glusterfs/gfevents/glustereventsd.py"
    process(p, 30, ["python3", "-u", script], "/usr/bin/python3")
    (p / "8" / "cgroup").write_text("0::/system.slice/glustereventsd.service\n")
    (p / "30" / "cgroup").write_text("1:name=systemd:/user.slice/user-0.slice/session-4.scope\n0::/\n")
    process(p, 22, ["sleep", "600"], "/usr/bin/sleep", cwd="/mnt/gv0/dir")
    process(p, 23, ["tail", "-f", "x"], "/usr/bin/tail", fds=["/mnt/gv01/log"])
    process(p, 24, ["cat", "/mnt/gv0/file"], "/usr/bin/cat", fds=["/mnt/gv0/file"])
    process(p, 25, ["cat"], "/usr/bin/cat", state="Z")
    (p / "self").mkdir()
    (p / "self" / "mounts").write_text(
        "/dev/sda1 / ext4 rw 0 0\n"
        "node1:/gv0 /mnt/gv0 fuse.glusterfs rw,relatime 0 0\n"
        "node1:/gv0 /var/run/ganeti/gluster\\040x fuse.glusterfs rw 0 0\n"
    )
    return str(p)


def test_gluster_processes_by_the_name_they_were_started_with_in_stop_order(proc):
    found = gp.gluster_processes(proc)
    assert [(p.pid, p.role) for p in found] == [
        (7, "glusterd"),
        (8, "glustereventsd"),
        (9, "glustereventsd"),
        (30, "glustereventsd"),
        (10, "glusterfsd"),
        (12, "glusterfs"),
    ]


def test_gfapi_users_are_other_processes_with_libgfapi_loaded(proc):
    assert [p.pid for p in gp.gfapi_users(proc)] == [20]


def test_fuse_mounts_with_their_escapes_undone(proc):
    assert gp.fuse_mounts(f"{proc}/self/mounts") == [
        ("node1:/gv0", "/mnt/gv0"),
        ("node1:/gv0", "/var/run/ganeti/gluster x"),
    ]


def test_users_of_a_mount_are_under_it_not_beside_it(proc):
    # /mnt/gv01 is another path.
    assert [p.pid for p in gp.users_of("/mnt/gv0", proc)] == [22, 24]


def test_a_zombie_no_longer_runs(proc):
    assert gp.is_running(10, proc) and not gp.is_running(25, proc) and not gp.is_running(99, proc)


def test_a_pid_passed_on_to_another_process_is_not_the_one_read(proc):
    (brick,) = [p for p in gp.gluster_processes(proc) if p.role == "glusterfsd"]
    assert brick.started == 1010 and gp.is_running(10, proc, started=1010)
    assert not gp.is_running(10, proc, started=999)


def test_the_service_a_process_runs_in_is_read_from_its_control_group(proc):
    assert gp.service_unit(8, proc) == "glustereventsd.service"
    assert gp.service_unit(30, proc) is None  # a session's scope
    assert gp.service_unit(10, proc) is None  # no cgroup file


def test_a_script_s_options_are_what_follows_it():
    assert gp.script_options(["python3", "-u", "/usr/sbin/glustereventsd", "--pid-file", "/p"]) == ["--pid-file", "/p"]
    assert gp.script_options(["python3"]) == []


def test_a_udp_socket_is_found_by_its_inode_in_the_hosts_tables(proc):
    sockets = os.path.join(proc, "8", "fd")
    os.symlink("socket:[4242]", os.path.join(sockets, "5"))
    os.makedirs(os.path.join(proc, "net"))
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    row = "  1: 00000000:5DF9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 {} 2 0\n"
    with open(os.path.join(proc, "net", "udp6"), "w") as table:
        table.write(header + row.format(4242))
    assert gp.holds_udp_socket([8], proc) and not gp.holds_udp_socket([10], proc)
