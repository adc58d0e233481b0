# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""This host's Gluster processes, its FUSE mounts of Gluster volumes and what uses
them, read from /proc: what stopping Gluster on a host must find, each by its pid.

glusterd, glusterfsd and glusterfs are one binary (glusterd and glusterfs link to
glusterfsd), so /proc/PID/exe names glusterfsd for all three; the name a process
was started by (argv[0]) tells them apart. After a package upgrade the binary a
process runs is deleted: its exe then ends in " (deleted)", and it is still ours.
glustereventsd, Gluster's events notifier, is a Python script: its exe is the
interpreter, its script the first argument.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

PROC = "/proc"
BINARY = "glusterfsd"
# The order Gluster's upgrade guide stops them in: the management daemon, the events
# notifier, the bricks, then every other glusterfs process (self-heal daemon,
# rebalance, clients).
EVENTS_DAEMON = "glustereventsd"
# /usr/sbin/glustereventsd links to gfevents/glustereventsd.py.
EVENTS_SCRIPTS = frozenset({EVENTS_DAEMON, f"{EVENTS_DAEMON}.py"})
ROLES = ("glusterd", EVENTS_DAEMON, "glusterfsd", "glusterfs")
DELETED = " (deleted)"
FUSE_TYPE = "fuse.glusterfs"
SYSTEMD_RUN_DIR = "/run/systemd/system"  # present only when systemd is the init system...
PID1_NAME = "/proc/1/comm"  # ...unless a container bind-mounts the host's /run/systemd


@dataclass(frozen=True)
class Process:
    pid: int
    role: str  # one of ROLES; or the program's name for another process
    cmdline: tuple[str, ...]
    # When it started (clock ticks after boot): a pid reused later has another.
    started: int | None = None

    def as_dict(self):
        return {"pid": self.pid, "role": self.role, "cmdline": " ".join(self.cmdline)}


def _read(path, binary=False):
    try:
        with open(path, "rb" if binary else "r") as f:
            return f.read()
    except OSError:
        return None


def _pids(proc):
    try:
        return sorted(int(entry) for entry in os.listdir(proc) if entry.isdigit())
    except OSError:
        return []


def _cmdline(proc, pid):
    raw = _read(f"{proc}/{pid}/cmdline", binary=True) or b""
    return tuple(part.decode("utf-8", "replace") for part in raw.split(b"\0") if part)


# Gluster's own programs that load libgfapi for a moment (heal info's helper).
GLUSTER_GFAPI_TOOLS = frozenset({"glfsheal"})


def _script_index(cmdline):
    """Where in an interpreter's argv its script is: the first argument that is not an
    option (python3 -u SCRIPT), or None."""
    return next((i for i, arg in enumerate(cmdline) if i and not arg.startswith("-")), None)


def _script(cmdline):
    index = _script_index(cmdline)
    return os.path.basename(cmdline[index]) if index is not None else ""


def script_options(cmdline):
    """The arguments an interpreter's argv gives its script (--pid-file PATH)."""
    index = _script_index(cmdline)
    return list(cmdline[index + 1 :]) if index is not None else []


def _uid(pid, proc):
    """The real user id `pid` runs as, or None when it is gone."""
    for line in (_read(f"{proc}/{pid}/status") or "").splitlines():
        if line.startswith("Uid:") and len(line.split()) > 1:
            return int(line.split()[1])
    return None


def holds_udp_socket(pids, proc=PROC):
    """Whether any of `pids` holds a UDP socket of this host's network (IPv4 or IPv6): the
    notifier's only ones are its listeners."""
    held = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"{proc}/{pid}/fd"):
                with contextlib.suppress(OSError):
                    link = os.readlink(f"{proc}/{pid}/fd/{fd}")
                    if link.startswith("socket:["):
                        held.add(link[len("socket:[") : -1])
    for table in ("udp", "udp6"):
        for line in (_read(f"{proc}/net/{table}") or "").splitlines()[1:]:
            fields = line.split()
            if len(fields) > 9 and fields[9] in held:
                return True
    return False


def service_unit(pid, proc=PROC):
    """The systemd service whose control group holds `pid` (glustereventsd.service), or
    None: a session's scope, no systemd."""
    for line in (_read(f"{proc}/{pid}/cgroup") or "").splitlines():
        parts = line.split(":", 2)
        units = [name for name in parts[-1].split("/") if name.endswith(".service")] if len(parts) == 3 else []
        if units:
            return units[-1]
    return None


def gluster_processes(proc=PROC):
    """Every Gluster process of this host, in ROLES order then by pid."""
    found = []
    for pid in _pids(proc):
        try:
            program = os.path.basename(os.readlink(f"{proc}/{pid}/exe").removesuffix(DELETED))
        except OSError:
            continue  # gone, or a kernel thread
        if program != BINARY and not program.startswith("python"):
            continue
        cmdline = _cmdline(proc, pid)
        if program == BINARY:
            role = os.path.basename(cmdline[0]) if cmdline else ""
        else:
            # Root's only: a user's script of that name is no daemon of Gluster's.
            role = EVENTS_DAEMON if _script(cmdline) in EVENTS_SCRIPTS and _uid(pid, proc) == 0 else ""
        if role in ROLES:
            found.append(Process(pid, role, cmdline, start_time(pid, proc)))
    return sorted(found, key=lambda p: (ROLES.index(p.role), p.pid))


def gfapi_users(proc=PROC):
    """Processes other than Gluster's own that have libgfapi loaded (QEMU with a
    gluster:// disk, qemu-img): they lose their volume when Gluster stops here.
    glfsheal (what `volume heal VOL info` runs) is Gluster's own: a read that ends."""
    ours = {p.pid for p in gluster_processes(proc)}
    found = []
    for pid in _pids(proc):
        if pid in ours or pid == os.getpid():
            continue
        try:
            if os.path.basename(os.readlink(f"{proc}/{pid}/exe").removesuffix(DELETED)) in GLUSTER_GFAPI_TOOLS:
                continue
        except OSError:
            continue  # gone, or a kernel thread
        maps = _read(f"{proc}/{pid}/maps")
        if maps and "libgfapi.so" in maps:
            cmdline = _cmdline(proc, pid)
            found.append(Process(pid, os.path.basename(cmdline[0]) if cmdline else "?", cmdline))
    return found


def _unescape(field):
    """A /proc/mounts field: spaces and the like are octal escapes there."""
    return field.encode().decode("unicode_escape") if "\\" in field else field


def fuse_mounts(mounts=f"{PROC}/self/mounts"):
    """(source, mount point) of each FUSE mount of a Gluster volume on this host."""
    text = _read(mounts) or ""
    found = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2] == FUSE_TYPE:
            found.append((_unescape(fields[0]), _unescape(fields[1])))
    return found


# mount.glusterfs's options as its client's arguments carry them (mount.glusterfs.in):
# --ARG=VALUE from option NAME=VALUE, and --FLAG from option NAME.
_CLIENT_VALUES = {
    "--volfile-server-port": "server-port",
    "--volfile-max-fetch-attempts": "fetch-attempts",
    "--auto-invalidation": "auto-invalidation",
    **{
        f"--{name}": name
        for name in (
            "log-level",
            "log-file",
            "direct-io-mode",
            "use-readdirp",
            "event-history",
            "reader-thread-count",
            "volume-name",
            "attribute-timeout",
            "entry-timeout",
            "negative-timeout",
            "gid-timeout",
            "lru-limit",
            "inode-table-size",
            "invalidate-limit",
            "background-qlen",
            "congestion-threshold",
            "oom-score-adj",
            "kernel-writeback-cache",
            "attr-times-granularity",
            "dump-fuse",
            "fuse-flush-handle-interrupt",
            "fuse-setlk-handle-interrupt",
            "fuse-handle-copy_file_range",
            "fuse-dev-eperm-ratelimit-ns",
            "fopen-keep-cache",
            "io-engine",
        )
    },
}
_CLIENT_FLAGS = {
    "--read-only": "ro",
    "--no-root-squash": "no-root-squash=yes",
    "--volfile-check": "volfile-check=yes",
    **{
        f"--{name}": name
        for name in (
            "acl",
            "selinux",
            "worm",
            "enable-ino32",
            "mem-accounting",
            "aux-gfid-mount",
            "thin-client",
            "resolve-gids",
            "global-threading",
            "localtime-logging",
        )
    },
}


def mount_options(target, processes):
    """The `mount -o` options that mount `target` again as its client runs now, read back
    from the client's arguments as mount.glusterfs made them: /proc/mounts shows none of
    them (Ganeti mounts with -o server-port; an admin adds backup-volfile-servers, acl,
    log-level ...). The volume and the first server are in the mount's source."""
    for process in processes:
        if process.role != "glusterfs" or not process.cmdline or process.cmdline[-1] != target:
            continue
        # mount.glusterfs passes the kernel's options (noatime, nodev ...) twice, the same
        # value each time; the transport is in the source already (VOLUME.tcp).
        options, servers, kernel = [], [], []
        args = iter(process.cmdline[1:-1])
        for arg in args:
            name, has_value, value = arg.partition("=")
            if name == "--volfile-server" and has_value:
                servers.append(f"[{value}]" if ":" in value else value)
            elif name in _CLIENT_VALUES and has_value:
                options.append(f"{_CLIENT_VALUES[name]}={value}")
            elif name == "--fuse-mountopts" and has_value:
                kernel = value.split(",")
            elif arg in _CLIENT_FLAGS:
                options.append(_CLIENT_FLAGS[arg])
            elif arg == "--xlator-option":
                options.append(f"xlator-option={next(args, '')}")
            elif arg == "--process-name":
                label = next(args, "fuse")
                if label.startswith("fuse."):
                    options.append(f"process-name={label[len('fuse.') :]}")
        options.extend(kernel)
        if servers[1:]:
            options.append(f"backup-volfile-servers={':'.join(servers[1:])}")
        return ",".join(options)
    return ""


def _under(path, mountpoint):
    return path == mountpoint or path.startswith(mountpoint.rstrip("/") + "/")


def users_of(mountpoint, proc=PROC):
    """Processes with their working directory, root or an open file under `mountpoint`:
    what keeps it busy (umount would fail)."""
    found = []
    for pid in _pids(proc):
        try:
            fds = [f"fd/{fd}" for fd in os.listdir(f"{proc}/{pid}/fd")]
        except OSError:
            fds = []
        links = []
        for name in ("cwd", "root", *fds):
            with contextlib.suppress(OSError):
                links.append(os.readlink(f"{proc}/{pid}/{name}"))
        if any(_under(link, mountpoint) for link in links):
            cmdline = _cmdline(proc, pid)
            found.append(Process(pid, os.path.basename(cmdline[0]) if cmdline else "?", cmdline))
    return found


def _stat_fields(pid, proc):
    """The fields of /proc/PID/stat after the command name (which is in parentheses and
    may hold spaces): state first; None when the process is gone."""
    stat = _read(f"{proc}/{pid}/stat")
    return None if stat is None else stat.rsplit(")", 1)[-1].split()


def ppid(pid, proc=PROC):
    """The parent of `pid`, or None when it is gone."""
    fields = _stat_fields(pid, proc)
    return int(fields[1]) if fields and len(fields) > 1 and fields[1].isdigit() else None


def start_time(pid, proc=PROC):
    fields = _stat_fields(pid, proc)
    # starttime is field 22 of stat, the 20th after the command name.
    return int(fields[19]) if fields and len(fields) > 19 and fields[19].isdigit() else None


def is_running(pid, proc=PROC, started=None):
    """Whether `pid` still runs (a zombie has ended) and, given `started`, is still the
    process that started then, not another that got its pid."""
    fields = _stat_fields(pid, proc)
    if not fields or fields[0] == "Z":
        return False
    return started is None or start_time(pid, proc) == started


def init_name():
    """The name of PID 1, or None where /proc does not say."""
    text = _read(PID1_NAME)
    return text.strip() if text is not None else None


def systemd_is_init():
    return os.path.isdir(SYSTEMD_RUN_DIR) and init_name() in ("systemd", None)
