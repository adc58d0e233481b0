"""gluster_daemons' decisions with this host's processes and mounts given: what it
refuses before stopping anything, and what it would stop, in which order."""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from unittest import mock

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    VOLUME_STARTED,
    Brick,
    BrickStatus,
    Daemon,
    GlusterOpError,
    Peer,
    Volume,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_processes import Process, mount_options
from ansible_collections.ganeti_gluster.cluster.plugins.modules import gluster_daemons

from .module_harness import Expected, run_module

GLUSTERD = Process(7, "glusterd", ("/usr/sbin/glusterd", "-p", "/run/glusterd.pid"))
BRICK = Process(10, "glusterfsd", ("/usr/sbin/glusterfsd", "-s", "node1"))
SHD = Process(12, "glusterfs", ("/usr/sbin/glusterfs", "--volfile-id", "shd/gv0"))
FUSE = Process(13, "glusterfs", ("/usr/sbin/glusterfs", "--volfile-server=node1", "/mnt/gv0"))
QEMU = Process(20, "qemu-system-x86_64", ("qemu-system-x86_64", "-drive", "file=gluster://node1/gv0/d"))
SLEEP = Process(22, "sleep", ("sleep", "600"))
EVENTS = Process(8, "glustereventsd", ("/usr/bin/python3", "/usr/sbin/glustereventsd", "--pid-file", "/run/ev.pid"))


@pytest.fixture
def host(tmp_path):
    """This host as the module reads it; a test changes what it needs."""
    state = {"processes": [SHD, BRICK, GLUSTERD, FUSE], "gfapi": [], "mounts": [("node1:/gv0", "/mnt/gv0")]}
    users = {"/mnt/gv0": [FUSE]}
    with (
        mock.patch.object(gluster_daemons, "gluster_processes", lambda: sorted(state["processes"], key=order)),
        mock.patch.object(gluster_daemons, "gfapi_users", lambda: state["gfapi"]),
        mock.patch.object(gluster_daemons, "fuse_mounts", lambda: state["mounts"]),
        mock.patch.object(gluster_daemons, "users_of", lambda target: users.get(target, [])),
        mock.patch.object(gluster_daemons, "systemd_is_init", lambda: False),
        mock.patch.object(gluster_daemons.os, "kill", lambda pid, sig: pytest.fail(f"signalled {pid}")),
    ):
        yield state, users, str(tmp_path / "record.json")


def order(process):
    return (("glusterd", "glustereventsd", "glusterfsd", "glusterfs").index(process.role), process.pid)


def test_check_mode_lists_the_mount_then_glusterd_bricks_and_the_rest_and_signals_none(host):
    _state, _users, record = host
    result = run_module(gluster_daemons.main, {"state": "stopped", "record": record, "_ansible_check_mode": True}, [])
    assert not result.failed and result.result["changed"], result.result
    assert result.result["commands"] == [
        ["/usr/sbin/umount", "/mnt/gv0"],
        ["kill", "-TERM", "7"],
        ["kill", "-TERM", "10"],
        ["kill", "-TERM", "12"],
        ["kill", "-TERM", "13"],
    ]


def test_a_gfapi_user_is_refused_before_anything_stops(host):
    state, _users, record = host
    state["gfapi"] = [QEMU]
    result = run_module(gluster_daemons.main, {"state": "stopped", "record": record}, [])
    assert result.failed and result.result["commands"] == []
    assert result.result["msg"].startswith("processes use Gluster through libgfapi on this host: 20 (qemu-system")


def test_a_busy_mount_is_refused_by_who_holds_it_but_not_its_own_client(host):
    _state, users, record = host
    users["/mnt/gv0"] = [FUSE, SLEEP]
    result = run_module(gluster_daemons.main, {"state": "stopped", "record": record}, [])
    assert result.failed and result.result["commands"] == []
    assert "FUSE mounts of Gluster volumes are in use: /mnt/gv0 by 22 (sleep 600)." in result.result["msg"]


def test_nothing_running_is_no_change(host):
    state, _users, record = host
    state["processes"], state["mounts"] = [], []
    result = run_module(gluster_daemons.main, {"state": "stopped", "record": record}, [])
    assert (result.failed, result.result["changed"], result.result["commands"]) == (False, False, [])


def test_a_mount_is_recorded_with_the_port_its_client_asked_for_and_mounted_again_with_it(host, tmp_path):
    target = str(tmp_path / "gluster" / "gv0")
    # Ganeti's mount: -o server-port, which /proc/mounts does not show but its client's arguments do.
    ganeti = Process(
        14,
        "glusterfs",
        (
            "/usr/sbin/glusterfs",
            "--volfile-server=127.0.0.1",
            "--volfile-server-port=24017",
            "--volfile-id=/gv0",
            target,
        ),
    )
    assert mount_options("/mnt/gv0", [FUSE, ganeti]) == ""
    state, users, record = host
    state["processes"], state["mounts"] = [GLUSTERD, ganeti], [("127.0.0.1:/gv0", target)]
    users[target] = [ganeti]
    # Both processes end of themselves (none is left to signal); none is found again.
    with (
        mock.patch.object(gluster_daemons, "is_running", lambda pid, started=None: False),
        mock.patch.object(gluster_daemons, "gluster_processes", mock.Mock(side_effect=[[GLUSTERD, ganeti], []])),
    ):
        stopped = run_module(
            gluster_daemons.main, {"state": "stopped", "record": record}, [Expected(["/usr/sbin/umount", target])]
        )
    assert not stopped.failed, stopped.result
    assert json.loads(Path(record).read_text()) == [["127.0.0.1:/gv0", target, "server-port=24017"]]

    state["processes"], state["mounts"] = [], []
    mount = ["/usr/sbin/mount", "-t", "glusterfs", "-o", "server-port=24017", "127.0.0.1:/gv0", target]
    with (
        mock.patch.object(gluster_daemons.Daemons, "wait_ready", lambda self, cli: None),
        mock.patch.object(gluster_daemons.Daemons, "answers", staticmethod(lambda cli: True)),
    ):
        started = run_module(gluster_daemons.main, {"state": "started", "record": record}, [Expected(mount)])
    assert not started.failed, started.result
    assert started.result["mounted"] == [{"source": "127.0.0.1:/gv0", "target": target}]
    assert not Path(record).exists()


class ReadyCli:
    """The reads `missing` makes, answered from objects; `status_error` refuses the status reads."""

    def __init__(self, peers, status_error=None):
        self.peers, self.status_error = peers, status_error

    def pool_list(self):
        return self.peers

    def volumes(self):
        bricks = (Brick("node1:/b/gv0", "u1", False), Brick("node2:/b/gv0", "u2", False))
        return [Volume("gv0", "v1", VOLUME_STARTED, "Started", "Replicate", 2, 1, 2, 0, 0, 0, bricks, {})]

    def volume_status(self, name):
        if self.status_error:
            raise GlusterOpError(self.status_error)
        return [BrickStatus("node1", "/b/gv0", "u1", True, 10)]

    def volume_status_daemons(self, name):
        return [Daemon(gluster_daemons.SELF_HEAL_DAEMON, "u1", True)], []


ME = Peer("u1", "localhost", ("localhost",), True, None, None)


def test_a_rejected_peer_or_a_status_refused_for_a_moment_is_not_ready():
    rejected = Peer("u2", "node2", ("node2",), True, 6, "Peer Rejected")
    assert gluster_daemons.Daemons.missing(None, ReadyCli([ME, rejected])) == ["peer node2 is Peer Rejected"]
    lost = Peer("u3", "node3", ("node3",), False, 3, "Peer in Cluster")
    assert gluster_daemons.Daemons.missing(None, ReadyCli([ME, lost])) == ["peer node3 is not connected"]
    refused = ReadyCli([ME], status_error="Another transaction is in progress for gv0")
    assert gluster_daemons.Daemons.missing(None, refused) == [
        "the status of volume gv0 cannot be read yet (Another transaction is in progress for gv0)"
    ]
    assert gluster_daemons.Daemons.missing(None, ReadyCli([ME])) == []


def test_a_process_that_started_meanwhile_is_ended_too_and_one_that_keeps_coming_back_fails(host):
    state, _users, record = host
    state["mounts"] = []
    late_brick = Process(31, "glusterfsd", ("/usr/sbin/glusterfsd", "-s", "node1"))
    ended = []
    with (
        mock.patch.object(gluster_daemons, "is_running", lambda pid, started=None: False),
        mock.patch.object(gluster_daemons.os, "kill", lambda pid, sig: ended.append(pid)),
        mock.patch.object(gluster_daemons, "gluster_processes", mock.Mock(side_effect=[[GLUSTERD], [late_brick], []])),
    ):
        result = run_module(gluster_daemons.main, {"state": "stopped", "record": record}, [])
    assert not result.failed, result.result
    assert [p["pid"] for p in result.result["stopped"]] == [7, 31]
    with (
        mock.patch.object(gluster_daemons, "is_running", lambda pid, started=None: False),
        mock.patch.object(gluster_daemons, "gluster_processes", mock.Mock(return_value=[GLUSTERD])),
    ):
        result = run_module(gluster_daemons.main, {"state": "stopped", "record": record}, [])
    assert result.failed and result.result["msg"].startswith("Gluster processes start again here as they are stopped")


def test_an_admins_mount_options_are_read_back_from_its_clients_arguments():
    # As mount.glusterfs runs the client for
    # mount -t glusterfs -o acl,ro,log-level=WARNING,backup-volfile-servers=node2:[fd00::3],noatime,nodev,transport=tcp,
    #   xlator-option=*replicate*.halo-max-latency=5,process-name=vm node1:/gv0 /mnt/gv0
    client = Process(
        15,
        "glusterfs",
        (
            "/usr/sbin/glusterfs",
            "--read-only",
            "--acl",
            "--xlator-option",
            "*replicate*.halo-max-latency=5",
            "--log-level=WARNING",
            "--process-name",
            "fuse.vm",
            "--fuse-mountopts=noatime,nodev",
            "--volfile-server=node1",
            "--volfile-server=node2",
            "--volfile-server=fd00::3",
            "--volfile-server-transport=tcp",
            "--volfile-id=/gv0.tcp",
            "--fuse-mountopts=noatime,nodev",
            "/mnt/gv0",
        ),
    )
    assert mount_options("/mnt/gv0", [SHD, client]).split(",") == [
        "ro",
        "acl",
        "xlator-option=*replicate*.halo-max-latency=5",
        "log-level=WARNING",
        "process-name=vm",
        "noatime",
        "nodev",
        "backup-volfile-servers=node2:[fd00::3]",
    ]


def test_a_fuse_mount_that_came_up_during_the_stop_is_named_not_ended(host):
    state, _users, record = host
    state["mounts"] = []
    with (
        mock.patch.object(gluster_daemons, "is_running", lambda pid, started=None: False),
        mock.patch.object(gluster_daemons, "gluster_processes", mock.Mock(side_effect=[[GLUSTERD], [FUSE]])),
        mock.patch.object(gluster_daemons, "fuse_mounts", mock.Mock(side_effect=[[], [("node1:/gv0", "/mnt/gv0")]])),
    ):
        result = run_module(gluster_daemons.main, {"state": "stopped", "record": record}, [])
    assert result.failed and result.result["msg"].startswith("a FUSE mount of Gluster came up while Gluster")


EVENTS_AGAIN = Process(31, "glustereventsd", EVENTS.cmdline)
SYSTEMCTL = "/usr/sbin/systemctl"


def events_record(record):
    return Path(record.replace(".json", "-glustereventsd.json"))


@pytest.mark.parametrize("unit", [None, "glustereventsd.service"])
def test_the_events_notifier_is_stopped_after_glusterd_and_started_again_as_it_ran(host, unit):
    """Through the service whose main process it is, else by its pid, and the installed one
    started again with its options; started once it holds its UDP socket."""
    state, _users, record = host
    state["processes"], state["mounts"] = [GLUSTERD, EVENTS, BRICK], []
    units = [
        Expected([SYSTEMCTL, "show", "--property=MainPID", "--value", "glustereventsd.service"], stdout="8\n"),
        Expected([SYSTEMCTL, "stop", "glusterd.service"]),
        Expected([SYSTEMCTL, "stop", "glustereventsd.service"]),
    ]
    # Under systemd the units end glusterd and the notifier; what is left gets a signal.
    ended = {GLUSTERD.pid, EVENTS.pid} if unit else set()
    with (
        mock.patch.object(gluster_daemons, "systemd_is_init", lambda: bool(unit)),
        mock.patch.object(gluster_daemons, "service_unit", lambda pid: unit),
        mock.patch.object(gluster_daemons, "is_running", lambda pid, started=None: pid not in ended),
        mock.patch.object(gluster_daemons.os, "kill", lambda pid, sig: ended.add(pid)),
        mock.patch.object(gluster_daemons, "gluster_processes", mock.Mock(side_effect=[state["processes"], []])),
    ):
        stopped = run_module(gluster_daemons.main, {"state": "stopped", "record": record}, units if unit else [])
    assert not stopped.failed, stopped.result
    signalled = [BRICK] if unit else [GLUSTERD, EVENTS, BRICK]
    assert stopped.result["commands"] == [e.argv for e in units[1:] if unit] + [
        ["kill", "-TERM", str(p.pid)] for p in signalled
    ]
    # The mounts' record as an earlier release wrote it; the notifier's beside it.
    assert json.loads(Path(record).read_text()) == []
    assert json.loads(events_record(record).read_text()) == {"options": ["--pid-file", "/run/ev.pid"], "unit": unit}

    spawn = mock.Mock(return_value=EVENTS_AGAIN.pid)
    # Read before the wait, again after it, then once it runs.
    reads = [[], [], [EVENTS_AGAIN]]
    start = [Expected([SYSTEMCTL, "start", "glustereventsd.service"])] if unit else []
    if unit:
        start.append(
            Expected([SYSTEMCTL, "show", "--property=MainPID", "--value", "glustereventsd.service"], stdout="31")
        )
    with (
        mock.patch.object(gluster_daemons, "spawn_detached", spawn),
        mock.patch.object(gluster_daemons, "ppid", lambda pid: 1),
        mock.patch.object(gluster_daemons, "holds_udp_socket", lambda pids: pids == [EVENTS_AGAIN.pid]),
        mock.patch.object(gluster_daemons.Daemons, "wait_ready", lambda self, cli: None),
        mock.patch.object(gluster_daemons.Daemons, "answers", staticmethod(lambda cli: True)),
    ):
        with mock.patch.object(gluster_daemons, "gluster_processes", mock.Mock(side_effect=[[]])):
            checked = run_module(
                gluster_daemons.main, {"state": "started", "record": record, "_ansible_check_mode": True}, []
            )
        assert checked.result["events_started"] and checked.result["changed"], checked.result
        assert events_record(record).exists() and spawn.call_count == 0
        with mock.patch.object(gluster_daemons, "gluster_processes", mock.Mock(side_effect=reads)):
            started = run_module(gluster_daemons.main, {"state": "started", "record": record}, start)
    assert not started.failed and started.result["events_started"] and started.result["changed"], started.result
    if unit:
        spawn.assert_not_called()
    else:
        again = ["/usr/sbin/glustereventsd", "--pid-file", "/run/ev.pid"]
        assert started.result["commands"] == [again]
        spawn.assert_called_once_with(again, str(Path(record).parent / "glustereventsd.log"))
    assert started.result["commands"][:1] == ([[SYSTEMCTL, "start", "glustereventsd.service"]] if unit else [again])
    assert not Path(record).exists() and not events_record(record).exists()


def start_with(record, commands, reads, bound, **patches):
    """state=started with the records there, gluster_processes() answering `reads` in turn
    (the last from then on), holds_udp_socket() `bound`."""
    answers = iter(reads)
    last = []

    def processes():
        nonlocal last
        last = next(answers, last)
        return last

    patches = {"ppid": lambda pid: 1, **patches}
    patches |= {"gluster_processes": processes, "holds_udp_socket": lambda pids: bound, "EVENTS_WAIT": 0}
    with contextlib.ExitStack() as stack:
        for name, value in patches.items():
            stack.enter_context(mock.patch.object(gluster_daemons, name, value))
        stack.enter_context(mock.patch.object(gluster_daemons.Daemons, "wait_ready", lambda self, cli: None))
        stack.enter_context(mock.patch.object(gluster_daemons.Daemons, "answers", staticmethod(lambda cli: True)))
        return run_module(gluster_daemons.main, {"state": "started", "record": record}, commands)


@pytest.mark.parametrize("unit", [None, "glustereventsd.service"])
def test_a_notifier_that_binds_no_port_is_stopped_again_and_the_start_fails_keeping_the_records(host, unit):
    state, _users, record = host
    state["processes"], state["mounts"] = [], []
    Path(record).write_text("[]")
    events_record(record).write_text(json.dumps({"options": [], "unit": unit}))
    ended = set()
    show = Expected([SYSTEMCTL, "show", "--property=MainPID", "--value", "glustereventsd.service"], stdout="31\n")
    commands = [Expected([SYSTEMCTL, "start", unit]), show, Expected([SYSTEMCTL, "stop", unit])] if unit else []
    started = start_with(
        record,
        commands,
        [[], [], [EVENTS_AGAIN]],
        bound=False,
        spawn_detached=mock.Mock(return_value=EVENTS_AGAIN.pid),
        is_running=lambda pid, started=None: pid not in ended,
        os=mock.Mock(wraps=os, kill=lambda pid, sig: ended.add(pid)),
    )
    assert started.failed and not started.result["events_started"], started.result
    assert started.result["msg"].startswith("glustereventsd was started again but held no UDP socket after 0 s")
    stop = [[SYSTEMCTL, "start", unit], [SYSTEMCTL, "stop", unit]] if unit else [["/usr/sbin/glustereventsd"]]
    assert started.result["commands"] == stop + ([] if unit else [["kill", "-TERM", "31"]])
    assert Path(record).exists() and events_record(record).exists()


@pytest.mark.parametrize("bound", [True, False])
def test_a_notifier_already_running_is_left_and_named_only_when_it_binds_no_port(host, bound):
    state, _users, record = host
    state["processes"], state["mounts"] = [], []
    Path(record).write_text("[]")
    events_record(record).write_text(json.dumps({"options": [], "unit": "glustereventsd.service"}))
    started = start_with(
        record, [], [[EVENTS_AGAIN]], bound=bound, spawn_detached=mock.Mock(side_effect=AssertionError)
    )
    assert started.failed is not bound and not started.result["events_started"], started.result
    assert [c for c in started.result["commands"] if "kill" in c] == []
    assert events_record(record).exists() is not bound
    if not bound:
        assert started.result["msg"].startswith("glustereventsd runs here (pids 31, not started by this run)")


def test_a_stop_makes_the_records_directory_and_drops_a_notifier_record_no_stop_left(host, tmp_path):
    state, _users, _record = host
    record = str(tmp_path / "new" / "gluster-stopped.json")
    state["processes"], state["mounts"] = [BRICK], []
    with (
        mock.patch.object(gluster_daemons, "is_running", lambda pid, started=None: False),
        mock.patch.object(gluster_daemons, "gluster_processes", mock.Mock(side_effect=[[BRICK], [], [BRICK], []])),
    ):
        os.makedirs(os.path.dirname(record))
        events_record(record).write_text(json.dumps({"options": [], "unit": None}))
        stopped = run_module(gluster_daemons.main, {"state": "stopped", "record": record}, [])
        assert not stopped.failed and not events_record(record).exists(), stopped.result
        deeper = str(tmp_path / "missing" / "dir" / "gluster-stopped.json")
        stopped = run_module(gluster_daemons.main, {"state": "stopped", "record": deeper}, [])
    assert not stopped.failed and json.loads(Path(deeper).read_text()) == [], stopped.result


def test_a_notifier_that_is_not_its_services_main_process_is_started_again_by_hand(host):
    state, _users, record = host
    state["processes"], state["mounts"] = [EVENTS], []
    show = Expected([SYSTEMCTL, "show", "--property=MainPID", "--value", "glustereventsd.service"], stdout="0\n")
    with (
        mock.patch.object(gluster_daemons, "systemd_is_init", lambda: True),
        mock.patch.object(gluster_daemons, "service_unit", lambda pid: "glustereventsd.service"),
        mock.patch.object(gluster_daemons, "is_running", lambda pid, started=None: False),
        mock.patch.object(gluster_daemons, "gluster_processes", mock.Mock(side_effect=[[EVENTS], []])),
    ):
        stopped = run_module(gluster_daemons.main, {"state": "stopped", "record": record}, [show])
    assert not stopped.failed, stopped.result
    assert json.loads(events_record(record).read_text()) == {"options": ["--pid-file", "/run/ev.pid"], "unit": None}


def test_an_earlier_releases_record_of_mounts_only_is_mounted_again(host):
    state, _users, record = host
    state["processes"], state["mounts"] = [], []
    Path(record).write_text(json.dumps([["node1:/gv0", "/mnt/gv0"]]))
    mount = ["/usr/sbin/mount", "-t", "glusterfs", "node1:/gv0", "/mnt/gv0"]
    with (
        mock.patch.object(gluster_daemons.Daemons, "wait_ready", lambda self, cli: None),
        mock.patch.object(gluster_daemons.Daemons, "answers", staticmethod(lambda cli: True)),
        mock.patch.object(gluster_daemons.os, "makedirs", lambda *a, **k: None),
    ):
        started = run_module(gluster_daemons.main, {"state": "started", "record": record}, [Expected(mount)])
    assert not started.failed and not started.result["events_started"], started.result
    assert started.result["mounted"] == [{"source": "node1:/gv0", "target": "/mnt/gv0"}]


def test_a_detached_daemon_runs_in_a_session_of_its_own_with_nothing_of_the_module_open(tmp_path):
    held = open(tmp_path / "held", "w")  # noqa: SIM115 - an fd of the "module" the daemon must not keep
    started = tmp_path / "pid"
    log = tmp_path / "errors.log"
    script = f"echo failed >&2; echo $$ > {started}.new; mv {started}.new {started}; exec sleep 30"
    child = gluster_daemons.spawn_detached(["/bin/sh", "-c", script], str(log))
    deadline = time.monotonic() + 5
    while not (started.exists() and started.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = int(started.read_text())
    try:
        assert pid == child
        assert os.getsid(pid) == pid and os.readlink(f"/proc/{pid}/cwd") == "/"
        fds = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        assert fds == {os.devnull, str(log)}, fds
        assert log.read_text() == "failed\n"
    finally:
        os.kill(pid, 15)
        held.close()
