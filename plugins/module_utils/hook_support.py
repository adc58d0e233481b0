# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the role's Ganeti hooks share (cluster-verify-post, node-remove-pre): bounded
commands, a GlusterCli runner without AnsibleModule, Ganeti's "am I the master?".

The hooks run under the system's Python with Ganeti's reset environment; the role
copies this file, with gluster_cli.py, health.py, hosts.py and cli_common.py, into
their lib dir.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time

BIN_DIRS = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")


class OutOfTime(Exception):
    """A command, or the whole read, did not answer in time."""


def process_token(pid="self"):
    """A process's id and start time (clock ticks after boot, field 22 of proc(5)'s stat),
    as one string: what names a process for as long as it runs, where its id alone may be
    reused. None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return None
    # The command, in parentheses, may hold spaces; the fields after it start at field 3.
    after_command = stat[stat.rindex(")") + 2 :].split()
    return f"{stat.split(' ', 1)[0]} {after_command[19]}"


def process_alive(token):
    """Whether the process that process_token() named `token` still runs."""
    pid = (token or "").split()[0] if (token or "").split() else ""
    return pid.isdigit() and process_token(pid) == token.strip()


def run_bounded(argv, timeout, env=None):
    """(returncode, stdout, stderr), or None for the return code when it ran out of time;
    then it is killed with what it started (heal info's glfsheal), not left to pile up."""
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None, "", ""
    return proc.returncode, stdout, stderr


class Runner:
    """What GlusterCli needs of AnsibleModule: each command bounded by `command_timeout`,
    all of them by `deadline` (time.monotonic())."""

    def __init__(self, deadline, command_timeout):
        self.deadline = deadline
        self.command_timeout = command_timeout

    def get_bin_path(self, name, required=False):
        for directory in BIN_DIRS:
            path = os.path.join(directory, name)
            if os.access(path, os.X_OK):
                return path
        raise FileNotFoundError(f"{name} is not installed")

    def run_command(self, argv, check_rc=False, environ_update=None):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise OutOfTime("the pool was not read in time")
        env = dict(os.environ, **(environ_update or {}))
        returncode, stdout, stderr = run_bounded(argv, min(self.command_timeout, left), env)
        if returncode is None:
            raise OutOfTime(f"{' '.join(argv[3:])} did not answer within {self.command_timeout} s")
        return returncode, stdout, stderr

    def sleep(self, pause):
        """A pause (GlusterCli's busy-lock backoff) that never runs past the deadline."""
        time.sleep(min(pause, max(self.deadline - time.monotonic(), 0)))


# Ganeti's ssconf files (ssconf.SimpleStore): the master candidates' names, one per
# line; each node's primary and secondary IP, "NAME ADDRESS" per line.
SSCONF_DIR = "/var/lib/ganeti"
SSCONF_MASTER_CANDIDATES = f"{SSCONF_DIR}/ssconf_master_candidates"


def ssconf_node_addresses(node, ssconf_dir=SSCONF_DIR):
    """`node`'s primary and secondary IPs as Ganeti's ssconf files on this node list them."""
    found = []
    for name in ("ssconf_node_primary_ips", "ssconf_node_secondary_ips"):
        with contextlib.suppress(OSError), open(os.path.join(ssconf_dir, name), encoding="utf-8") as lines:
            found += [fields[1] for fields in map(str.split, lines) if len(fields) == 2 and fields[0] == node]
    return found


def own_names():
    return {socket.getfqdn().lower(), socket.gethostname().lower()}


def is_master(environ):
    """Ganeti's own test (ssconf.CheckMaster): the master's name is this host's FQDN."""
    master = environ.get("GANETI_MASTER", "").lower()
    return bool(master) and master in own_names()


def is_master_candidate():
    """Whether Ganeti's ssconf names this host among the master candidates (the master is
    one); None when ssconf cannot be read here."""
    try:
        with open(SSCONF_MASTER_CANDIDATES, encoding="utf-8") as handle:
            names = {line.strip().lower() for line in handle if line.strip()}
    except OSError:
        return None
    return bool(names & own_names())
