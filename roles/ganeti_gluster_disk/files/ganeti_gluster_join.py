# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ganeti node-add post hook: join the new node to the Gluster pool.

The role ganeti_gluster_disk installs this file, with a shebang naming a Python
that has ansible-runner, into /etc/ganeti/hooks/node-add-post.d/ on every node
that can become master, and its settings into CONFIG_FILE. After `gnt-node
add NODE` it runs the project's add-node.yml for NODE through ansible-runner's
Python API, so an admin's plain `gnt-node add` gives the node storage as well.

What Ganeti 3.0 does with node-add post hooks shapes this file:
- they run on every node of the cluster and on the new node, so the hook acts
  only where it runs on the master (GANETI_MASTER) and exits 0 elsewhere;
- they run with a reset environment (GANETI_* and little else), so the hook
  sets PATH, HOME and a UTF-8 locale for Ansible and ssh itself;
- the master stops waiting for hooks after 900 s (the hooks RPC timeout) and
  reports them failed, so the hook ends at least 60 s before that: it waits at
  most `lock_wait` seconds for another join's lock, and gives the playbook run
  at most `run_timeout` seconds (ansible-runner's timeout), never more than
  what is left of its 840 s; a run that outlasts it is killed, with the task it
  was running, and the log says which limit ran out. The remote module that a
  killed run leaves behind goes on, holding the pool's lock, so the run is told
  to stop waiting for the rebalance (gluster_pool_rebalance_wait_until) in time
  for the rest of the join: the rebalance then goes on in the background and
  the next site.yml or add-node.yml run finishes it. The module looks at the
  time between its gluster commands, so one command that glusterd keeps busy
  (up to 200 s) can still outlast the run; it then ends at its next look. Each
  module waits for the pool's lock (another controller's run) at most a quarter
  of the run (gluster_pool_lock_wait), and holds it under an owner that names
  this hook, the node and the master.

Exit status: 0 joined, or nothing to do (not the master, add-node.yml itself
runs the join); 1 the join failed, or the node is not in the inventory's Gluster
group (it joined Ganeti only); 2 the
hook is not set up right (its settings, the inventory, or a Python without
ansible-runner); 3 the join ran out of time (reading the inventory or the
playbook run outlasted its timeout, and was stopped); 4 another join held the
lock for all of `lock_wait`, and nothing was run. Every decision is logged to
the configured file.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import logging
import os
import pwd
import shutil
import signal
import socket
import sys
import tempfile
import time

CONFIG_FILE = "/etc/ganeti/ganeti-gluster-join.json"
HOOKS_RPC_TIMEOUT = 900
# Everything the hook does ends this long after it started: 60 s before Ganeti
# stops waiting for it, so that Ganeti gets the hook's own status and output.
HOOK_DEADLINE = HOOKS_RPC_TIMEOUT - 60
MIN_RUN_TIMEOUT = 60
MAX_RUN_TIMEOUT = 780
INVENTORY_TIMEOUT = 60
# Seconds of the run kept for what follows the rebalance wait (the pool's check, the
# Ganeti side of the new node), at most half the run: a package install over a slow
# mirror can take a minute.
AFTER_REBALANCE = 120
DONE, FAILED, NOT_SET_UP, RUN_TIMED_OUT, LOCK_BUSY = 0, 1, 2, 3, 4
# A marker that names no process (written by an earlier version of the role) and is
# older than this was left by a playbook run that died.
MARKER_MAX_AGE = 3600
DEFAULTS = {
    "playbook": "playbooks/add-node.yml",
    "inventory": [],
    # Where ansible_collections/ lives: the role's copy of the collection; empty for a
    # checkout of the project, whose collections/ dir holds it.
    "collections_path": "",
    # The ansible.cfg the role writes for the run; empty: the project's own, if it has one.
    "ansible_config": "",
    "extra_vars": {},
    "group": "gluster_pool",
    # Where the master is looked for: the run names it (ganeti_gluster_disk_master).
    "ganeti_group": "ganeti_nodes",
    "log_file": "/var/log/ganeti/ganeti-gluster-join.log",
    "data_dir": "/var/lib/ganeti-gluster",
    "keep_runs": 20,
    # Seconds: lock_wait + run_timeout leave HOOK_DEADLINE 60 s for the rest.
    "lock_wait": 120,
    "run_timeout": 660,
}

log = logging.getLogger("ganeti-gluster-join")


class HookSetupError(Exception):
    """The hook's settings do not let it run a join."""


class LockBusy(Exception):
    """Another join held the hook's lock for all of lock_wait."""

    def __init__(self, path, wait, holder):
        super().__init__(path, wait, holder)
        self.path, self.wait, self.holder = path, wait, holder


def load_config(path=CONFIG_FILE):
    try:
        with open(path) as handle:
            config = {**DEFAULTS, **json.load(handle)}
    except (OSError, ValueError) as exc:
        raise HookSetupError(f"cannot read the hook's settings {path}: {exc}") from None
    if not config.get("project_dir") or not os.path.isdir(config["project_dir"]):
        raise HookSetupError(f"project_dir {config.get('project_dir')!r} in {path} is not a directory")
    playbook = os.path.join(config["project_dir"], config["playbook"])
    if not os.path.isfile(playbook):
        raise HookSetupError(f"the playbook {playbook} does not exist")
    if not config["inventory"]:
        raise HookSetupError(f"no inventory in {path}")
    if config["ansible_config"] and not os.path.isfile(config["ansible_config"]):
        raise HookSetupError(
            f"ansible_config {config['ansible_config']} in {path} does not exist: apply the role again (site.yml)"
        )
    check_time_limits(config, path)
    return config


def check_time_limits(config, path):
    """lock_wait and run_timeout: whole seconds that end the hook by HOOK_DEADLINE."""
    limits = {
        "lock_wait": (0, HOOK_DEADLINE - MIN_RUN_TIMEOUT),
        "run_timeout": (MIN_RUN_TIMEOUT, MAX_RUN_TIMEOUT),
    }
    for key, (low, high) in limits.items():
        value = config[key]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise HookSetupError(f"{key} in {path} must be whole seconds from {low} to {high}, not {value!r}")
    if config["lock_wait"] + config["run_timeout"] > HOOK_DEADLINE:
        raise HookSetupError(
            f"lock_wait ({config['lock_wait']} s) and run_timeout ({config['run_timeout']} s) in {path} add up to "
            f"more than {HOOK_DEADLINE} s: the hook must end 60 s before Ganeti stops waiting for it "
            f"({HOOKS_RPC_TIMEOUT} s)"
        )


def import_runner():
    """ansible_runner, from the Python the hook's shebang names."""
    try:
        import ansible_runner
    except ImportError as exc:
        raise HookSetupError(
            f"{sys.executable} cannot import ansible_runner ({exc}): install ansible-runner for it, or name a "
            "Python that has it (ganeti_gluster_disk_hook_python) and apply the role again"
        ) from None
    return ansible_runner


def ansible_config(config):
    """The ansible.cfg of the hook's run: the role's, else the project's own, else none."""
    if config["ansible_config"]:
        return config["ansible_config"]
    own = os.path.join(config["project_dir"], "ansible.cfg")
    return own if os.path.isfile(own) else None


def collections_path(config):
    """The directory that holds ansible_collections/ganeti_gluster/cluster for this project."""
    return config["collections_path"] or os.path.join(config["project_dir"], "collections")


def host_helpers(config):
    """The collection's hosts module (plugins/module_utils/hosts.py), from the project the
    hook runs: one answer to "are these two names one host?" for the playbooks and the hook."""
    collections = collections_path(config)
    if collections not in sys.path:
        sys.path.insert(0, collections)
    try:
        from ansible_collections.ganeti_gluster.cluster.plugins.module_utils import hosts
    except ImportError as exc:
        raise HookSetupError(f"cannot load the collection's host helpers from {collections}: {exc}") from None
    return hosts


def node_identity(hosts, node, environ):
    """Ganeti's node: its name and its primary and secondary IPs (GANETI_NODE_PIP/SIP)."""
    return hosts.identity([node], [environ.get("GANETI_NODE_PIP"), environ.get("GANETI_NODE_SIP")])


def ssconf_addresses(node):
    """`node`'s primary and secondary IPs from Ganeti's ssconf (after host_helpers: the
    collection is on the path)."""
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.hook_support import ssconf_node_addresses

    return ssconf_node_addresses(node)


def group_hosts(inventory, group):
    """Hosts of `group` and its children in `ansible-inventory --list` output."""
    hosts, pending, seen = set(), [group], set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        entry = inventory.get(name) or {}
        hosts.update(entry.get("hosts", []))
        pending.extend(entry.get("children", []))
    return hosts


def inventory_host(node, inventory, group, hosts, wanted):
    """The inventory name of Ganeti's `node` in `group`, or None: the host one of whose
    names (inventory name, ansible_host, ganeti_gluster_disk_node_name) is the node's name
    or resolves to one of its IPs (`wanted`, its identity). Two such hosts are an error."""
    hostvars = (inventory.get("_meta") or {}).get("hostvars") or {}
    found = []
    for host in sorted(group_hosts(inventory, group)):
        values = hostvars.get(host) or {}
        names = [host, values.get("ansible_host"), values.get("ganeti_gluster_disk_node_name")]
        why = hosts.agreement(wanted, hosts.identity([n for n in names if isinstance(n, str)], resolve=hosts.addresses))
        if why:
            found.append((host, why))
    if len(found) > 1:
        raise HookSetupError(
            f"Ganeti node {node} matches more than one host of the group {group}: "
            + ", ".join(f"{host} (by {why})" for host, why in found)
            + "; give each host a name that only it has"
        )
    return found[0][0] if found else None


def failures(events, stats=None):
    """One line per failed or unreachable task result of a run. With the run's `stats`, a host
    it did not count unreachable in the end (a task that ignores unreachable hosts, as the
    pool's reads do) has no unreachable line."""
    dark = None if stats is None else set((stats.get("dark") or {}).keys())
    lines = []
    for event in events:
        kind = event.get("event")
        data = event.get("event_data", {})
        if kind == "runner_on_failed" and not data.get("ignore_errors"):
            what = "failed"
        elif kind == "runner_on_unreachable" and (dark is None or data.get("host") in dark):
            what = "unreachable"
        else:
            continue
        msg = str((data.get("res") or {}).get("msg") or "no message").strip().splitlines()
        lines.append(f"{data.get('host')}: {data.get('task')}: {what}: {msg[0] if msg else ''}")
    return lines


def warnings(events):
    """One line per warning of a run's task results (a rebalance left in the background, for one)."""
    return [
        f"{data.get('host')}: {data.get('task')}: {warning}"
        for event in events
        if event.get("event") in ("runner_on_ok", "runner_on_failed", "runner_item_on_ok", "runner_item_on_failed")
        for data in [event.get("event_data", {})]
        for warning in (data.get("res") or {}).get("warnings") or []
    ]


def last_task(events):
    """'HOST ran TASK' for the last task a run started, or None."""
    for event in reversed(events):
        data = event.get("event_data", {})
        if event.get("event") == "runner_on_start":
            return f"{data.get('host')} ran {data.get('task')!r}"
        if event.get("event") == "playbook_on_task_start":
            return f"it ran {data.get('task')!r}"
    return None


def marker_writer_alive(token):
    """Whether the process a marker names still runs (after host_helpers: the collection
    is on the path)."""
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.hook_support import process_alive

    return process_alive(token)


def marker_state(joining_dir, node, hosts, environ, now=None, alive=marker_writer_alive):
    """('absent', None), or ('fresh' | 'stale', path) for a playbook's marker for `node`.

    A fresh marker means add-node.yml runs this node's join itself and fired
    this hook with its own `gnt-node add`: ganeti_node wrote it, naming its own
    process, which still runs. A marker is named by the name the playbook gave
    `gnt-node add`, which Ganeti may have resolved to another.
    """
    try:
        names = os.listdir(joining_dir)
    except FileNotFoundError:
        return "absent", None
    wanted = node_identity(hosts, node, environ)
    for name in names:
        if hosts.agreement(wanted, hosts.identity([name], resolve=hosts.addresses)):
            path = os.path.join(joining_dir, name)
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    writer = handle.read().strip()
                age = (now or time.time()) - os.stat(path).st_mtime
            except FileNotFoundError:
                continue  # its add just ended
            if writer:
                return ("fresh" if alive(writer) else "stale"), path
            return ("fresh" if age < MARKER_MAX_AGE else "stale"), path
    return "absent", None


def hook_environment(python):
    """What Ansible and ssh need, which Ganeti's reset environment lacks."""
    user = pwd.getpwuid(os.getuid())
    path = [os.path.dirname(python), "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
    return {
        "PATH": ":".join(path),
        "HOME": user.pw_dir,
        "USER": user.pw_name,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
    }


def prune_runs(runs_dir, keep):
    runs = sorted(d for d in os.listdir(runs_dir) if os.path.isdir(os.path.join(runs_dir, d)))
    for old in runs[: max(len(runs) - keep, 0)]:
        shutil.rmtree(os.path.join(runs_dir, old), ignore_errors=True)


def setup_logging(log_file):
    os.makedirs(os.path.dirname(log_file), exist_ok=True)
    handler = logging.FileHandler(log_file)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(process)d] %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def utc_text(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def lock_holder(handle):
    """Who holds the lock of `handle`, as the holder wrote it there."""
    handle.seek(0)
    try:
        holder = json.loads(handle.read())
        return f"pid {holder['pid']}, the join of {holder['node']} since {holder['since']}"
    except (ValueError, KeyError, TypeError):
        return "a process that did not say who it is"


@contextlib.contextmanager
def exclusive(lock_path, wait, node):
    """One join at a time on this master; wait at most `wait` seconds for it (LockBusy)."""
    with open(lock_path, "a+") as handle:
        started = time.monotonic()
        delay = 0.1
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - started
                if waited >= wait:
                    raise LockBusy(lock_path, wait, lock_holder(handle)) from None
                if delay == 0.1:
                    log.info(
                        "another join holds %s (%s); waiting up to %s s for it", lock_path, lock_holder(handle), wait
                    )
                time.sleep(min(delay, wait - waited))
                delay = min(delay * 2, 2.0)
        if time.monotonic() - started >= 1:
            log.info("got the lock %s after %.0fs", lock_path, time.monotonic() - started)
        handle.truncate(0)
        handle.write(json.dumps({"pid": os.getpid(), "node": node, "since": utc_text(time.time())}) + "\n")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            handle.flush()


# Rounds of stop_leftovers (ansible-playbook, its workers, their tasks' own sessions), and
# how long each waits for the groups it killed to be gone.
STOP_ROUNDS = 8
GROUP_END_SECONDS = 5


def become_subreaper():
    """Adopt what the run leaves behind when ansible-runner kills it.

    At its timeout ansible-runner kills ansible-playbook's process group, but
    Ansible's workers run in sessions of their own (setsid), so the task a
    worker runs would go on. As a child subreaper (Linux prctl
    PR_SET_CHILD_SUBREAPER) the hook becomes their parent and can stop them."""
    with contextlib.suppress(OSError, AttributeError):
        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0
    return False


def live_children():
    """{pid: command line} of this process's children that have not ended, from /proc."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as handle:
                state, ppid = handle.read().rsplit(")", 1)[1].split()[:2]
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, ValueError):
            continue
        if int(ppid) == os.getpid() and state != "Z":
            found[int(pid)] = cmdline
    return found


def stop_leftovers(known):
    """Kill the process groups of children that were not there before the run (`known`).

    Round after round: a process of a killed group that started one in a session of its
    own (Ansible's workers, their tasks) leaves it to this process (the subreaper) only
    once it has ended, so each round waits for its groups to be gone, reaping what is
    left to it, and the next looks again."""
    stopped = {}
    for _round in range(STOP_ROUNDS):
        found = {pid: cmd for pid, cmd in live_children().items() if pid not in known and pid not in stopped}
        if not found:
            break
        groups = set()
        for pid, cmdline in found.items():
            with contextlib.suppress(ProcessLookupError):
                group = os.getpgid(pid)
                if group == os.getpgrp():
                    os.kill(pid, signal.SIGKILL)
                else:
                    os.killpg(group, signal.SIGKILL)
                    groups.add(group)
                log.warning("stopped what the run left running: pid %s (%s) and its process group", pid, cmdline)
        ends = time.monotonic() + GROUP_END_SECONDS
        while True:
            reap_children(found)
            if not any(map(group_runs, groups)) or time.monotonic() >= ends:
                break
            time.sleep(0.05)
        stopped.update(found)
    return stopped


def reap_children(pids):
    """Reap `pids` and any other child of this process that has ended (orphans left to it)."""
    for pid in pids:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def group_runs(group):
    """Whether any process of process group `group` is left (an unreaped one counts)."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def seconds_left(deadline):
    return deadline - time.monotonic()


def rebalance_wait_until(run_timeout):
    """When a run given `run_timeout` seconds from now stops waiting for the rebalance (epoch seconds)."""
    return time.time() + run_timeout - min(AFTER_REBALANCE, run_timeout / 2)


def lock_wait_within(run_timeout):
    """Seconds each module waits for the pool's lock: its default (300), at most a quarter of the run
    (the run may wait at the peer step and again at the volume step)."""
    return int(max(10, min(300, run_timeout / 4)))


def join(node, config, environ, ansible_runner, deadline):
    """Run add-node.yml for `node`, ending by `deadline` (monotonic); return the hook's exit status."""
    env = {**environ, **hook_environment(sys.executable)}
    cfg = ansible_config(config)
    if cfg:
        env["ANSIBLE_CONFIG"] = cfg
    if config["collections_path"]:
        env["ANSIBLE_COLLECTIONS_PATH"] = config["collections_path"]
    os.environ.update(env)

    statuses = []
    read_timeout = int(min(INVENTORY_TIMEOUT, seconds_left(deadline)))
    # ansible-runner keeps what ansible-inventory printed (every host's variables) in its
    # private data dir: a private one, removed once read, rather than one left in /tmp.
    runs_dir = os.path.join(config["data_dir"], "runs")
    os.makedirs(runs_dir, mode=0o700, exist_ok=True)
    # Named as the runs are, so that prune_runs removes one a killed hook left.
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    reading_dir = tempfile.mkdtemp(prefix=f"{stamp}-inventory-", dir=runs_dir)
    try:
        inventory, error = ansible_runner.get_inventory(
            action="list",
            inventories=config["inventory"],
            response_format="json",
            quiet=True,
            timeout=max(read_timeout, 1),
            private_data_dir=reading_dir,
            status_handler=lambda data, runner_config: statuses.append(data.get("status")),
        )
    finally:
        shutil.rmtree(reading_dir, ignore_errors=True)
    if statuses[-1:] == ["timeout"]:
        log.error(
            "node add of %s: reading the inventory %s ran out of its %s s and was stopped; nothing was run. "
            "Find out why ansible-inventory hangs, then run ansible-playbook %s -e add_nodes=%s (the node as "
            "your inventory names it)",
            node,
            config["inventory"],
            read_timeout,
            config["playbook"],
            node,
        )
        print(f"ganeti-gluster: reading the inventory ran out of time; see {config['log_file']}")
        return RUN_TIMED_OUT
    if not isinstance(inventory, dict):
        log.error("cannot read the inventory %s: %s", config["inventory"], (error or inventory or "").strip())
        print(f"ganeti-gluster: cannot read the inventory; see {config['log_file']}")
        return NOT_SET_UP
    hosts = host_helpers(config)
    identity = node_identity(hosts, node, environ)
    host = inventory_host(node, inventory, config["group"], hosts, identity)
    if host is None:
        # A node declared after the role last rendered the inventory. Ganeti shows a
        # failed post hook's output: the admin sees that the node joined Ganeti only.
        log.error(
            "%s is not in the group %s of %s: it joined Ganeti, not the pool. A node reaches instance disks "
            "through a glusterd of its own (the disk template's default gluster:host), so every node that runs "
            "instances is a peer, with bricks or without (gluster_pool_bricks: []). Declare it in your inventory, "
            "run site.yml (which renews this inventory), or add-node.yml -e add_nodes=%s",
            node,
            config["group"],
            config["inventory"],
            node,
        )
        print(
            f"ganeti-gluster: {node} is not in the group {config['group']} of the hook's inventory: not joined to "
            f"the pool; see {config['log_file']}"
        )
        return FAILED

    if inventory_host(node, inventory, config["ganeti_group"], hosts, identity) != host:
        # The run's Ganeti play covers that group only: the node would join the pool without
        # the client, file-storage-paths and hooks its instances' disks need.
        log.error(
            "%s is the host %s of the group %s of %s, but not of the group %s: the join would leave its Ganeti "
            "side undone (the gluster client, file-storage-paths, the hooks), and no instance could use its disks "
            "there. Declare it in %s too, then run site.yml (which renews this inventory), or add-node.yml -e "
            "add_nodes=%s",
            node,
            host,
            config["group"],
            config["inventory"],
            config["ganeti_group"],
            config["ganeti_group"],
            host,
        )
        print(
            f"ganeti-gluster: {node} is not in the group {config['ganeti_group']} of the hook's inventory: not "
            f"joined to the pool; see {config['log_file']}"
        )
        return FAILED

    master = environ.get("GANETI_MASTER", "")
    master_identity = hosts.identity([master], ssconf_addresses(master))
    master_host = inventory_host(master, inventory, config["ganeti_group"], hosts, master_identity)
    if master_host is None:
        # The run's own checks then name what is wrong with the inventory's master.
        log.warning(
            "the master %s is not in the group %s of %s; the run takes the host of ganeti_master",
            master,
            config["ganeti_group"],
            config["inventory"],
        )

    # Unique even for two joins within a second; sorted by time for prune_runs.
    run_dir = tempfile.mkdtemp(prefix=f"{stamp}-{host}-", dir=runs_dir)
    playbook = os.path.join(config["project_dir"], config["playbook"])
    # What is left of the hook's time, and never more than run_timeout.
    timeout = int(min(config["run_timeout"], seconds_left(deadline)))
    if timeout < 1:
        log.error("no time left to join %s before Ganeti stops waiting for this hook; nothing was run", host)
        print(f"ganeti-gluster: no time left to join {host}; see {config['log_file']}")
        return RUN_TIMED_OUT
    log.info(
        "joining %s: %s on %s, for at most %s s; artifacts in %s", host, playbook, config["inventory"], timeout, run_dir
    )
    become_subreaper()
    known = live_children()
    started = time.monotonic()
    runner = ansible_runner.run(
        private_data_dir=run_dir,
        project_dir=config["project_dir"],
        playbook=playbook,
        inventory=config["inventory"],
        # The role then leaves cluster-wide settings alone: `gnt-node add`
        # holds its locks until this hook returns.
        # The master this hook runs on, whatever master the inventory was rendered with.
        extravars={
            # A run of another controller holding the pool's lock is waited for within the
            # hook's time, and one that meets this run's lock can tell whose it is (the
            # settings' extra_vars may say otherwise).
            "gluster_pool_lock_wait": lock_wait_within(timeout),
            "gluster_pool_lock_owner": f"the node-add hook joining {host} on {socket.getfqdn()} (pid {os.getpid()})",
            **config["extra_vars"],
            "gluster_pool_rebalance_wait_until": rebalance_wait_until(timeout),
            "add_nodes": host,
            "ganeti_gluster_disk_in_hook": True,
            **({"ganeti_gluster_disk_master": master_host} if master_host else {}),
        },
        quiet=True,
        timeout=timeout,
    )
    elapsed = time.monotonic() - started
    events = list(runner.events)
    if runner.status == "timeout":
        stop_leftovers(known)
    prune_runs(runs_dir, config["keep_runs"])
    for line in warnings(events):
        log.warning("join of %s: %s", host, line)
    if runner.status == "successful" and runner.rc == 0:
        log.info("joined %s in %.0fs; stats: %s", host, elapsed, json.dumps(runner.stats, sort_keys=True))
        return DONE
    again = f"ansible-playbook {config['playbook']} -e add_nodes={host}"
    if runner.status == "timeout":
        doing = last_task(events)
        what = f"the join of {host} ran out of its run timeout ({timeout} s, run_timeout in the hook's settings)"
        log.error(
            "%s and was stopped after %.0fs%s; artifacts in %s. Find out what it waited for, then run %s",
            what,
            elapsed,
            f" while {doing}" if doing else "",
            run_dir,
            again,
        )
        print(f"ganeti-gluster: {what}; see {config['log_file']}")
        return RUN_TIMED_OUT
    lines = failures(events, runner.stats) or [f"ansible-playbook ended {runner.status} (rc {runner.rc})"]
    for line in lines:
        log.error("join of %s: %s", host, line)
    log.error("join of %s failed after %.0fs; artifacts in %s. Fix the cause and run %s", host, elapsed, run_dir, again)
    print(f"ganeti-gluster: join of {host} to the Gluster pool failed: {lines[0]} (see {config['log_file']})")
    return FAILED


def main(environ=None, config_path=CONFIG_FILE, started=None):
    """The hook; `started` is when it started (time.monotonic()), now by default."""
    deadline = (time.monotonic() if started is None else started) + HOOK_DEADLINE
    environ = dict(os.environ if environ is None else environ)
    node = environ.get("GANETI_NODE_NAME", "")
    master = environ.get("GANETI_MASTER", "")
    if environ.get("GANETI_HOOKS_PHASE") != "post" or environ.get("GANETI_OP_CODE") != "OP_NODE_ADD" or not node:
        return DONE
    try:
        config = load_config(config_path)
    except HookSetupError as exc:
        print(f"ganeti-gluster: {exc}")
        return NOT_SET_UP
    setup_logging(config["log_file"])
    try:
        hosts = host_helpers(config)
    except HookSetupError as exc:
        log.error("node add of %s: %s", node, exc)
        print(f"ganeti-gluster: {exc}")
        return NOT_SET_UP
    if not hosts.is_this_host(master):
        log.info("node add of %s: this host is not the master (%s); the master runs the join", node, master)
        return DONE

    state, marker = marker_state(os.path.join(config["data_dir"], "joining"), node, hosts, environ)
    if state == "fresh":
        log.info("node add of %s: add-node.yml runs this join itself (%s); nothing to do", node, marker)
        return DONE
    if state == "stale":
        log.warning("removing %s, left by a playbook run that no longer runs; this hook joins the node", marker)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(marker)
    try:
        runner_api = import_runner()
    except HookSetupError as exc:
        log.error("node add of %s: %s", node, exc)
        print(f"ganeti-gluster: {exc}")
        return NOT_SET_UP
    os.makedirs(config["data_dir"], mode=0o700, exist_ok=True)
    try:
        with exclusive(os.path.join(config["data_dir"], "join.lock"), config["lock_wait"], node):
            try:
                return join(node, config, environ, runner_api, deadline)
            except HookSetupError as exc:
                log.error("node add of %s: %s", node, exc)
                print(f"ganeti-gluster: {exc}")
                return NOT_SET_UP
            except Exception:
                log.exception("join of %s stopped by an error in the hook", node)
                print(f"ganeti-gluster: the join of {node} stopped by an error; see {config['log_file']}")
                return FAILED
    except LockBusy as exc:
        log.error(
            "node add of %s: the lock %s is held by %s; gave up after lock_wait (%s s), nothing was run. "
            "Once that join is done, run ansible-playbook %s -e add_nodes=%s (the node as your inventory names it)",
            node,
            exc.path,
            exc.holder,
            exc.wait,
            config["playbook"],
            node,
        )
        print(
            f"ganeti-gluster: the join lock is held by {exc.holder}; gave up after lock_wait ({exc.wait} s), "
            f"nothing was run (see {config['log_file']})"
        )
        return LOCK_BUSY


if __name__ == "__main__":
    sys.exit(main())
