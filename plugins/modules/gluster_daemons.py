#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gluster_daemons
short_description: Stop every Gluster process of a host for maintenance, and start it again
version_added: "0.2.0"
description:
  - Runs on the host itself. Gluster's upgrade guide stops a server by stopping glusterd and then every
    glusterfsd and glusterfs process; this module does that, each process by its pid (never by a name
    pattern), and starts the host's part of the pool again afterwards.
  - With O(state=stopped), first reads everything and refuses, stopping nothing, when a process other
    than Gluster's own uses a volume through libgfapi (QEMU with a C(gluster://) disk; move its instance
    first) or keeps a FUSE mount of a volume busy (its working directory or an open file under it).
    Then unmounts this host's FUSE mounts of Gluster volumes, recorded in O(record) with the mount options
    their client was started with so that O(state=started) mounts them again alike. The options are read
    back from the client's arguments, as C(/proc/mounts) shows none of them, such as the glusterd port of
    Ganeti's mounts or an admin's backup-volfile-servers, acl, ro and log-level. It then stops
    glusterd (through its unit under systemd, which would otherwise start it again), then Gluster's events
    notifier glustereventsd where it runs as root (through the systemd service whose main process it is, if
    any; how it ran is recorded too), then sends SIGTERM to the bricks (glusterfsd) and then the other
    glusterfs processes (self-heal daemon, rebalance, clients), and waits for each to end. A process still
    running O(timeout) seconds after its SIGTERM gets SIGKILL, and RV(killed) names it.
  - With O(state=started), starts glusterd when it does not answer (its unit under systemd, else the
    daemon with a pid file), then waits until glusterd answers, every brick of this host in a started
    volume is online, the self-heal daemon runs here for each started replicated or dispersed volume, and
    every peer is connected, as this host's glusterd sees them (another peer's glusterd reconnects on its
    own timer, and lists this host's bricks a few seconds later, so run what follows here, as C(rolling.yml)
    does); fails after O(timeout) seconds naming what is missing. Then mounts again what O(state=stopped)
    recorded, and starts glustereventsd again as it ran (its service, else the installed C(glustereventsd)
    with the options it had, detached), and waits until it holds its UDP socket; when it has none after
    15 seconds (its port taken), the module stops it again and fails, keeping what it recorded. One found
    running already (its service started it at boot) is waited for alike, and only named if it binds none.
  - Geo-replication's gsyncd processes are started by glusterd, which starts them again for each started
    session. Debian's glusterd unit (C(KillMode=control-group)) ends them with glusterd; with a unit that
    ends glusterd alone, or without systemd, they are left running, so stop the sessions first.
  - C(changed) is true when something was stopped, started or mounted.
options:
  state:
    description: V(stopped) stops every Gluster process of this host; V(started) starts it again and waits.
    type: str
    choices: [stopped, started]
    required: true
  timeout:
    description:
      - Seconds each stopped process has to end after SIGTERM before SIGKILL; with O(state=started), seconds to
        wait for glusterd, the bricks, the self-heal daemons and the peers.
    type: int
    default: 120
  record:
    description:
      - Where O(state=stopped) notes that it stopped Gluster here, with the FUSE mounts it unmounted, for
        O(state=started) to mount again; O(state=started) removes it. C(rolling.yml) resumes a host that has it.
      - How glustereventsd ran (its options and its service) goes to a file beside it, named after it with
        C(-glustereventsd) (C(gluster-stopped-glustereventsd.json)), and its errors when it is started again
        without a service to C(glustereventsd.log) in the same directory.
    type: path
    default: /var/lib/ganeti-gluster/gluster-stopped.json
extends_documentation_fragment:
  - ganeti_gluster.cluster.attributes.action_module
seealso:
  - module: ganeti_gluster.cluster.gluster_volume_heal
author:
  - ganeti_gluster.cluster developers (@ganeti-gluster)
"""

EXAMPLES = r"""
- name: Stop Gluster on this host
  ganeti_gluster.cluster.gluster_daemons:
    state: stopped

- name: Start it again and wait for its bricks and peers
  ganeti_gluster.cluster.gluster_daemons:
    state: started
"""

RETURN = r"""
stopped:
  description: The Gluster processes stopped (or, in check mode, to stop), in order.
  returned: always
  type: list
  elements: dict
  sample: [{"pid": 812, "role": "glusterd", "cmdline": "/usr/sbin/glusterd -p /run/glusterd.pid"}]
killed:
  description: The pids that needed SIGKILL after O(timeout) seconds.
  returned: always
  type: list
  elements: int
  sample: []
unmounted:
  description: The FUSE mounts unmounted (C(source), C(target)).
  returned: always
  type: list
  elements: dict
  sample: [{"source": "localhost:/gv0", "target": "/var/run/ganeti/gluster/gv0"}]
mounted:
  description: The FUSE mounts mounted again with O(state=started).
  returned: always
  type: list
  elements: dict
  sample: []
started:
  description: Whether glusterd was started.
  returned: always
  type: bool
  sample: true
events_started:
  description: Whether glustereventsd was started again (it ran when O(state=stopped) stopped Gluster here).
  returned: always
  type: bool
  sample: false
commands:
  description: What was run or signalled (argv lists; a signal as C(kill -TERM PID)), in order.
  returned: always
  type: list
  elements: list
  sample: [["umount", "/var/run/ganeti/gluster/gv0"], ["/usr/bin/systemctl", "stop", "glusterd.service"]]
"""

import contextlib
import json
import os
import signal
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.cli_common import C_LOCALE, backoff
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.files import read_text, replace_file
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import GlusterCli, GlusterError
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_processes import (
    EVENTS_DAEMON,
    ROLES,
    fuse_mounts,
    gfapi_users,
    gluster_processes,
    holds_udp_socket,
    is_running,
    mount_options,
    ppid,
    script_options,
    service_unit,
    systemd_is_init,
    users_of,
)

GLUSTERD_UNIT = "glusterd.service"
# How long a restarted glustereventsd has to bind its port (Python's start and imports).
EVENTS_WAIT = 15
EVENTS_POLL = 0.2
GLUSTERD_PIDFILE = "/run/glusterd.pid"
SELF_HEAL_DAEMON = "Self-heal Daemon"
KILL_GRACE = 5
POLL_SECONDS = (0.2, 2.0)


def spawn_detached(argv, log):
    """Start argv as a daemon that does not fork itself: in a session of its own, at /,
    with nothing of the module's open, its output to /dev/null and its errors appended
    to `log`; return its pid at once. (run_command waits for the output, which a daemon
    never closes.) An argv that cannot run writes why to `log` and leaves no process."""
    pid = os.fork()
    if pid:
        return pid
    try:
        os.setsid()
        os.chdir("/")
        null = os.open(os.devnull, os.O_RDWR)
        errors = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        for fd, target in ((0, null), (1, null), (2, errors)):
            os.dup2(target, fd)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        os.execv(argv[0], argv)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.write(2, f"{argv[0]} did not start: {exc}\n".encode())
    finally:
        os._exit(127)


def describe(processes):
    return ", ".join(f"{p.pid} ({' '.join(p.cmdline)[:80]})" for p in processes)


class Daemons:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.commands = []
        self.result = {
            "changed": False,
            "stopped": [],
            "killed": [],
            "unmounted": [],
            "mounted": [],
            "started": False,
            "events_started": False,
            "commands": self.commands,
        }

    def fail(self, msg, **extra):
        self.module.fail_json(msg=msg, **self.result, **extra)

    def run_argv(self, argv, what):
        self.commands.append(argv)
        if self.module.check_mode:
            self.result["changed"] = True
            return
        rc, out, err = self.module.run_command(argv, check_rc=False, environ_update=C_LOCALE)
        if rc != 0:
            self.fail(f"{what} failed (exit {rc}): {' '.join((err or out).split()) or 'no output'}", rc=rc)
        self.result["changed"] = True

    def recorded(self):
        text = read_text(self.params["record"])
        try:
            return [tuple(m) for m in json.loads(text)] if text else []
        except (ValueError, TypeError):
            self.fail(f"{self.params['record']} is not a list of mounts; remove it after checking what it held")

    def record(self, mounts):
        replace_file(self.module, self.params["record"], json.dumps(sorted(set(mounts))) + "\n", new_mode=0o600)

    @property
    def events_record(self):
        """Beside O(record), in a file of its own (a release that knows only mounts reads
        O(record) alike): how glustereventsd ran, {"options", "unit"}."""
        root, ext = os.path.splitext(self.params["record"])
        return f"{root}-{EVENTS_DAEMON}{ext or '.json'}"

    def recorded_events(self):
        text = read_text(self.events_record)
        try:
            held = json.loads(text) if text else None
            if held is not None and not (
                isinstance(held.get("options"), list)
                and all(isinstance(a, str) for a in held["options"])
                and isinstance(held.get("unit"), (str, type(None)))
            ):
                raise TypeError(held)
            return held
        except (ValueError, TypeError, AttributeError):
            self.fail(f"{self.events_record} is not a record of {EVENTS_DAEMON}; remove it after checking what it held")

    # -- stopped ------------------------------------------------------------

    def stop(self):
        processes = gluster_processes()
        mounts = fuse_mounts()
        users = gfapi_users()
        if users:
            self.fail(
                f"processes use Gluster through libgfapi on this host: {describe(users)}. They would lose their "
                "disks: move them first (an instance: gnt-instance migrate), then run again. Nothing was stopped."
            )
        clients = {p.pid for p in processes if p.role != EVENTS_DAEMON}
        busy = {target: [p for p in users_of(target) if p.pid not in clients] for _source, target in mounts}
        busy = {target: found for target, found in busy.items() if found}
        if busy:
            self.fail(
                "FUSE mounts of Gluster volumes are in use: "
                + "; ".join(f"{target} by {describe(found)}" for target, found in busy.items())
                + ". End or move those processes, then run again. Nothing was stopped."
            )
        self.result["stopped"] = [p.as_dict() for p in processes]
        self.result["unmounted"] = [{"source": s, "target": t} for s, t in mounts]
        if self.module._diff:
            self.result["diff"] = {
                "before": {"processes": [f"{p.role} {p.pid}" for p in processes], "mounts": [t for _s, t in mounts]},
                "after": {"processes": [], "mounts": []},
            }
        if not processes and not mounts:
            return
        self.result["changed"] = True
        # Written even with no mount: it also says that Gluster here was stopped for
        # maintenance (rolling.yml resumes such a host first).
        events = self.events_daemon([p for p in processes if p.role == EVENTS_DAEMON])
        if not self.module.check_mode:
            os.makedirs(os.path.dirname(self.params["record"]), mode=0o700, exist_ok=True)
            if events:
                replace_file(self.module, self.events_record, json.dumps(events) + "\n", new_mode=0o600)
            elif not os.path.exists(self.params["record"]) and os.path.exists(self.events_record):
                # Left by a maintenance that ended otherwise: not this stop's.
                os.unlink(self.events_record)
            self.record(self.recorded() + [(s, t, mount_options(t, processes)) for s, t in mounts])
        for _source, target in mounts:
            self.run_argv([self.module.get_bin_path("umount", required=True), target], f"umount {target}")
        if systemd_is_init() and any(p.role == "glusterd" for p in processes):
            systemctl = self.module.get_bin_path("systemctl", required=True)
            self.run_argv([systemctl, "stop", GLUSTERD_UNIT], "systemctl stop glusterd")
        if events and events["unit"]:
            systemctl = self.module.get_bin_path("systemctl", required=True)
            self.run_argv([systemctl, "stop", events["unit"]], f"systemctl stop {events['unit']}")
        # The bricks once glusterd is gone (it would restart them), then the rest.
        self.end_in_order(processes)
        if self.module.check_mode:
            return
        # One that started between the read and the end (a brick glusterd was spawning, a
        # unit restarting glusterd) is ended too; one that still comes back fails the stop.
        late = gluster_processes()
        mounted = {target for _source, target in fuse_mounts()}
        clients = [p for p in late if p.role == "glusterfs" and mounted & set(p.cmdline)]
        if clients:
            # Its users were never checked, its mount never recorded: not ours to end.
            self.fail(
                f"a FUSE mount of Gluster came up while Gluster was being stopped here: {describe(clients)}. "
                "Gluster's servers here are stopped; run again, which stops that mount in order first."
            )
        if late:
            self.result["stopped"] += [p.as_dict() for p in late]
            self.end_in_order(late)
            left = gluster_processes()
            if left:
                self.fail(
                    f"Gluster processes start again here as they are stopped: {describe(left)}. See what starts "
                    "them (systemctl status glusterd; a watchdog), stop that, then run again."
                )

    def events_daemon(self, processes):
        """How glustereventsd runs here ({"options", "unit"}), or None: the options its
        command line gives it, and the systemd service whose main process it is (else it was
        started by hand, and the installed glustereventsd is started again with them)."""
        if not processes:
            return None
        unit = service_unit(processes[0].pid)
        if not (unit and systemd_is_init() and self.main_pid(unit) in {p.pid for p in processes}):
            unit = None
        return {"options": script_options(processes[0].cmdline), "unit": unit}

    def main_pid(self, unit):
        """The main process of systemd service `unit` (0: none)."""
        systemctl = self.module.get_bin_path("systemctl", required=True)
        rc, out, _err = self.module.run_command(
            [systemctl, "show", "--property=MainPID", "--value", unit], check_rc=False, environ_update=C_LOCALE
        )
        return int(out.strip()) if rc == 0 and out.strip().isdigit() else 0

    def end_in_order(self, processes):
        for role in ROLES:
            self.end([p for p in processes if p.role == role])

    def end(self, processes):
        """SIGTERM each of `processes`, then wait for them; SIGKILL what outlasts the timeout."""
        # Each pid is signalled only while it is still the process read (same start time):
        # one that ended meanwhile (systemctl stop, umount) may have passed its pid on.
        for process in processes:
            if self.module.check_mode:
                self.commands.append(["kill", "-TERM", str(process.pid)])
            elif is_running(process.pid, started=process.started):
                self.commands.append(["kill", "-TERM", str(process.pid)])
                self.signal(process.pid, signal.SIGTERM)
        if self.module.check_mode:
            return
        left = self.wait_gone(processes, self.params["timeout"])
        for process in left:
            self.commands.append(["kill", "-KILL", str(process.pid)])
            self.result["killed"].append(process.pid)
            self.signal(process.pid, signal.SIGKILL)
        left = self.wait_gone(left, KILL_GRACE)
        if left:
            pids = ", ".join(str(p.pid) for p in left)
            self.fail(f"processes {pids} still run after SIGKILL; see what holds them (D state)")

    @staticmethod
    def signal(pid, number):
        with contextlib.suppress(ProcessLookupError):  # ended meanwhile
            os.kill(pid, number)

    @staticmethod
    def wait_gone(processes, timeout):
        deadline = time.monotonic() + timeout
        pauses = backoff(*POLL_SECONDS)
        while True:
            left = [p for p in processes if is_running(p.pid, started=p.started)]
            if not left or time.monotonic() >= deadline:
                return left
            time.sleep(next(pauses))

    # -- started ------------------------------------------------------------

    def start(self):
        cli = GlusterCli(self.module)
        if not self.answers(cli):
            if systemd_is_init():
                systemctl = self.module.get_bin_path("systemctl", required=True)
                self.run_argv([systemctl, "start", GLUSTERD_UNIT], "systemctl start glusterd")
            else:
                glusterd = self.module.get_bin_path("glusterd", required=True, opt_dirs=["/usr/sbin"])
                self.run_argv([glusterd, "-p", GLUSTERD_PIDFILE], "glusterd")
            self.result["started"] = True
        recorded, events = self.recorded(), self.recorded_events()
        mounted = {target for _source, target in fuse_mounts()}
        # A record of an earlier release has no options.
        remount = [(m[0], m[1], m[2] if len(m) > 2 else "") for m in recorded if m[1] not in mounted]
        events_running = any(p.role == EVENTS_DAEMON for p in gluster_processes())
        if self.module._diff:
            self.result["diff"] = {
                "before": {
                    "glusterd": not self.result["started"],
                    "mounts": sorted(mounted),
                    EVENTS_DAEMON: events_running,
                },
                "after": {
                    "glusterd": True,
                    "mounts": sorted(mounted | {t for _s, t, _o in remount}),
                    EVENTS_DAEMON: events_running or events is not None,
                },
            }
        if self.module.check_mode:
            self.result["mounted"] = [{"source": s, "target": t} for s, t, _o in remount]
            self.result["events_started"] = events is not None and not events_running
            self.result["changed"] = self.result["changed"] or any(
                os.path.exists(path) for path in (self.params["record"], self.events_record)
            )
            return
        self.wait_ready(cli)
        for source, target, options in remount:
            # A mount point under /run is gone after a reboot.
            os.makedirs(target, exist_ok=True)
            argv = [self.module.get_bin_path("mount", required=True), "-t", "glusterfs"]
            argv += ["-o", options] if options else []
            argv += [source, target]
            self.run_argv(argv, f"mount {target}")
            self.result["mounted"].append({"source": source, "target": target})
        # Read again: the wait may have been long, and its unit may have started it meanwhile.
        running = [p.pid for p in gluster_processes() if p.role == EVENTS_DAEMON]
        if events is not None and not running:
            self.start_events_daemon(events)
        elif events is not None and not self.bound(lambda: running):
            self.fail(
                f"{EVENTS_DAEMON} runs here (pids {', '.join(map(str, running))}, not started by this run) but "
                f"holds no UDP socket after {EVENTS_WAIT} s: its port may be taken. Gluster itself runs here. Fix "
                f"it and run again, or remove {self.events_record} to leave it as it is."
            )
        if os.path.exists(self.events_record):
            os.unlink(self.events_record)
            self.result["changed"] = True
        if os.path.exists(self.params["record"]):
            # The host's maintenance ends here.
            os.unlink(self.params["record"])
            self.result["changed"] = True

    def start_events_daemon(self, events):
        """glustereventsd as it ran before the stop: through its systemd service, else the
        installed one with its options, detached (it does not fork into the background).
        Started once it holds its UDP socket: one that cannot bind its port stays up without
        it (its webhook child keeps it), and is stopped again, the records kept."""
        systemctl = self.module.get_bin_path("systemctl", required=bool(events["unit"]))
        if events["unit"]:
            self.run_argv([systemctl, "start", events["unit"]], f"systemctl start {events['unit']}")
            where = f"journalctl -u {events['unit']}"
        else:
            program = self.module.get_bin_path(EVENTS_DAEMON, opt_dirs=["/usr/sbin"])
            if not program:
                self.fail(
                    f"{EVENTS_DAEMON} ran here before Gluster was stopped, and is not installed now: install it "
                    f"(glusterfs-server) and run again, or remove {self.events_record} to leave it stopped."
                )
            argv = [program, *events["options"]]
            where = os.path.join(os.path.dirname(self.params["record"]), f"{EVENTS_DAEMON}.log")
            self.commands.append(argv)
            self.result["changed"] = True
            child = spawn_detached(argv, where)

        def ours():
            """The notifier started (its service's main process, or the child forked) and its
            webhook child; not one that came from elsewhere."""
            root = self.main_pid(events["unit"]) if events["unit"] else child
            return [p for p in gluster_processes() if p.role == EVENTS_DAEMON and root in (p.pid, ppid(p.pid))]

        if self.bound(lambda: [p.pid for p in ours()]):
            self.result["events_started"] = True
            return
        if events["unit"]:
            self.run_argv([systemctl, "stop", events["unit"]], f"systemctl stop {events['unit']}")
        else:
            self.end(ours())
        self.fail(
            f"{EVENTS_DAEMON} was started again but held no UDP socket after {EVENTS_WAIT} s (its port taken, or "
            f"it did not start), and was stopped again: see {where}. Gluster itself runs here. Fix it and run "
            f"again, or remove {self.events_record} to leave it stopped."
        )

    @staticmethod
    def bound(pids):
        """Whether the notifier processes `pids()` names hold a UDP socket within EVENTS_WAIT."""
        deadline = time.monotonic() + EVENTS_WAIT
        while True:
            found = pids()
            if found and holds_udp_socket(found):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(EVENTS_POLL)

    @staticmethod
    def answers(cli):
        try:
            cli.pool_list()
        except GlusterError:
            return False
        return True

    def missing(self, cli):
        """What this host's part of the pool still lacks (empty when ready)."""
        try:
            peers = cli.pool_list()
            volumes = cli.volumes()
        except GlusterError as exc:
            return [f"glusterd does not answer ({exc.message})"]
        own = next((p.uuid for p in peers if p.is_local), None)
        if own is None:
            return ["glusterd lists no entry for this host in its pool list"]
        # Peer Rejected (a volume's configuration differs, as after a failed upgrade) is
        # connected but not in the pool: it does not pass.
        found = [
            f"peer {p.hostname} is {'not connected' if not p.connected else p.state_str or 'not in the pool'}"
            for p in peers
            if not p.is_local and not p.in_cluster
        ]
        for volume in volumes:
            if not volume.started:
                continue
            mine = {b.name for b in volume.bricks if b.host_uuid == own}
            try:
                if mine:
                    online = {b.name for b in cli.volume_status(volume.name) if b.online}
                    found += [f"brick {name} of volume {volume.name} is offline" for name in sorted(mine - online)]
                if volume.set_size > 1 and mine:
                    daemons, _tasks = cli.volume_status_daemons(volume.name)
                    if not any(d.kind == SELF_HEAL_DAEMON and d.peer_uuid == own and d.online for d in daemons):
                        found.append(f"the self-heal daemon of volume {volume.name} does not run here")
            except GlusterError as exc:
                # Right after glusterd starts, a status may be refused for a moment: asked again.
                found.append(f"the status of volume {volume.name} cannot be read yet ({exc.message})")
        return found

    def wait_ready(self, cli):
        deadline = time.monotonic() + self.params["timeout"]
        pauses = backoff(*POLL_SECONDS)
        while True:
            found = self.missing(cli)
            if not found:
                return
            if time.monotonic() >= deadline:
                self.fail(
                    f"after {self.params['timeout']} s: {'; '.join(found)}. See /var/log/glusterfs/glusterd.log "
                    "and the bricks' logs under /var/log/glusterfs/bricks/ here (a brick's file system not "
                    "mounted, a peer unreachable); fix it and run again."
                )
            time.sleep(next(pauses))

    def run(self):
        if self.params["state"] == "stopped":
            self.stop()
        else:
            self.start()
        return self.result


def main():
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "choices": ["stopped", "started"], "required": True},
            "timeout": {"type": "int", "default": 120},
            "record": {"type": "path", "default": "/var/lib/ganeti-gluster/gluster-stopped.json"},
        },
        supports_check_mode=True,
    )
    daemons = Daemons(module)
    module.exit_json(**daemons.run())


if __name__ == "__main__":
    main()
