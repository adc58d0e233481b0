# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ganeti node-add post hook: join the new node to the Gluster pool.

The role ganeti_gluster_disk installs this file, with a shebang naming a Python
that has ansible-runner, into /etc/ganeti/hooks/node-add-post.d/ on the master
and the master candidates, and its settings into CONFIG_FILE. After `gnt-node
add NODE` it runs the project's add-node.yml for NODE through ansible-runner's
Python API, so an admin's plain `gnt-node add` gives the node storage as well.

What Ganeti 3.0 does with node-add post hooks shapes this file:
- they run on every node of the cluster and on the new node, so the hook acts
  only where it runs on the master (GANETI_MASTER) and exits 0 elsewhere;
- they run with a reset environment (GANETI_* and little else), so the hook
  sets PATH, HOME and a UTF-8 locale for Ansible and ssh itself;
- the master stops waiting for hooks after 900 s (the hooks RPC timeout) and
  reports them failed, so a join that runs that long says so in the log, and
  goes on to its end.

Exit status: 0 joined, or nothing to do (not the master, node not in the
Gluster group, add-node.yml itself runs the join); 1 the join failed; 2 the
hook is not set up right. Every decision is logged to the configured file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import pwd
import shutil
import socket
import sys
import threading
import time

CONFIG_FILE = "/etc/ganeti/ganeti-gluster-join.json"
HOOKS_RPC_TIMEOUT = 900
WARN_SECONDS_BEFORE_TIMEOUT = 60
# A marker older than this was left by a playbook run that died; it no longer
# means a playbook is joining the node.
MARKER_MAX_AGE = 3600
DEFAULTS = {
    "playbook": "playbooks/add-node.yml",
    "inventory": [],
    "extra_vars": {},
    "group": "gluster_pool",
    "log_file": "/var/log/ganeti/ganeti-gluster-join.log",
    "data_dir": "/var/lib/ganeti-gluster",
    "keep_runs": 20,
}

log = logging.getLogger("ganeti-gluster-join")


class HookSetupError(Exception):
    """The hook's settings do not let it run a join."""


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
    return config


def local_names():
    names = {socket.gethostname(), socket.getfqdn()}
    return {n for n in names if n}


def same_host(a, b):
    """Ganeti may know a node by its FQDN where the inventory has its short name.

    The collection's hosts.same_name; repeated because this file is installed
    on its own, outside the collection."""
    return a == b or a.split(".")[0] == b.split(".")[0]


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


def inventory_host(node, inventory, group):
    """The inventory name of Ganeti's `node` in `group`, or None."""
    for host in sorted(group_hosts(inventory, group)):
        if same_host(host, node):
            return host
    return None


def failures(events):
    """One line per failed or unreachable task result of a run."""
    lines = []
    for event in events:
        kind = event.get("event")
        data = event.get("event_data", {})
        if kind == "runner_on_failed" and not data.get("ignore_errors"):
            what = "failed"
        elif kind == "runner_on_unreachable":
            what = "unreachable"
        else:
            continue
        msg = str((data.get("res") or {}).get("msg") or "no message").strip().splitlines()
        lines.append(f"{data.get('host')}: {data.get('task')}: {what}: {msg[0] if msg else ''}")
    return lines


def marker_state(joining_dir, node, now=None):
    """('absent', None), or ('fresh' | 'stale', path) for a playbook's marker for `node`.

    A fresh marker means add-node.yml runs this node's join itself and fired
    this hook with its own `gnt-node add`.
    """
    try:
        names = os.listdir(joining_dir)
    except FileNotFoundError:
        return "absent", None
    for name in names:
        if same_host(name, node):
            path = os.path.join(joining_dir, name)
            age = (now or time.time()) - os.stat(path).st_mtime
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


@contextlib.contextmanager
def exclusive(lock_path):
    """One join at a time on this master."""
    with open(lock_path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("another join holds %s; waiting for it", lock_path)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def join(node, config, environ):
    """Run add-node.yml for `node`; return the hook's exit status."""
    import ansible_runner  # only on the master, where the join runs

    env = {**environ, **hook_environment(sys.executable)}
    cfg = os.path.join(config["project_dir"], "ansible.cfg")
    if os.path.isfile(cfg):
        env["ANSIBLE_CONFIG"] = cfg
    os.environ.update(env)

    inventory, error = ansible_runner.get_inventory(
        action="list", inventories=config["inventory"], response_format="json", quiet=True
    )
    if not isinstance(inventory, dict):
        log.error("cannot read the inventory %s: %s", config["inventory"], (error or inventory or "").strip())
        print(f"ganeti-gluster: cannot read the inventory; see {config['log_file']}")
        return 2
    host = inventory_host(node, inventory, config["group"])
    if host is None:
        log.info("%s is not in the group %s of %s: nothing to join", node, config["group"], config["inventory"])
        return 0

    runs_dir = os.path.join(config["data_dir"], "runs")
    os.makedirs(runs_dir, mode=0o700, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    run_dir = os.path.join(runs_dir, f"{stamp}-{host}")
    os.makedirs(run_dir, mode=0o700)
    playbook = os.path.join(config["project_dir"], config["playbook"])
    log.info("joining %s: %s on %s; artifacts in %s", host, playbook, config["inventory"], run_dir)
    warn_at = HOOKS_RPC_TIMEOUT - WARN_SECONDS_BEFORE_TIMEOUT
    timer = threading.Timer(
        warn_at,
        log.warning,
        (
            "the join of %s has run %ss; Ganeti stops waiting for hooks at %ss and will report this one failed. "
            "The join goes on; its result follows in this log",
            host,
            warn_at,
            HOOKS_RPC_TIMEOUT,
        ),
    )
    timer.daemon = True
    timer.start()
    started = time.monotonic()
    try:
        runner = ansible_runner.run(
            private_data_dir=run_dir,
            project_dir=config["project_dir"],
            playbook=playbook,
            inventory=config["inventory"],
            # The role then leaves cluster-wide settings alone: `gnt-node add`
            # holds its locks until this hook returns.
            extravars={**config["extra_vars"], "add_nodes": host, "ganeti_gluster_disk_in_hook": True},
            quiet=True,
        )
    finally:
        timer.cancel()
    elapsed = time.monotonic() - started
    prune_runs(runs_dir, config["keep_runs"])
    if runner.status == "successful" and runner.rc == 0:
        log.info("joined %s in %.0fs; stats: %s", host, elapsed, json.dumps(runner.stats, sort_keys=True))
        return 0
    lines = failures(runner.events) or [f"ansible-playbook ended {runner.status} (rc {runner.rc})"]
    for line in lines:
        log.error("join of %s: %s", host, line)
    log.error("join of %s failed after %.0fs; artifacts in %s", host, elapsed, run_dir)
    print(f"ganeti-gluster: join of {host} to the Gluster pool failed: {lines[0]} (see {config['log_file']})")
    return 1


def main(environ=None, config_path=CONFIG_FILE):
    environ = dict(os.environ if environ is None else environ)
    node = environ.get("GANETI_NODE_NAME", "")
    master = environ.get("GANETI_MASTER", "")
    if environ.get("GANETI_HOOKS_PHASE") != "post" or environ.get("GANETI_OP_CODE") != "OP_NODE_ADD" or not node:
        return 0
    try:
        config = load_config(config_path)
    except HookSetupError as exc:
        print(f"ganeti-gluster: {exc}")
        return 2
    setup_logging(config["log_file"])
    if not any(same_host(master, name) for name in local_names()):
        log.info("node add of %s: this host is not the master (%s); the master runs the join", node, master)
        return 0

    state, marker = marker_state(os.path.join(config["data_dir"], "joining"), node)
    if state == "fresh":
        log.info("node add of %s: add-node.yml runs this join itself (%s); nothing to do", node, marker)
        return 0
    if state == "stale":
        log.warning("removing %s, left by a playbook run that ended more than %ss ago", marker, MARKER_MAX_AGE)
        os.unlink(marker)
    os.makedirs(config["data_dir"], mode=0o700, exist_ok=True)
    with exclusive(os.path.join(config["data_dir"], "join.lock")):
        try:
            return join(node, config, environ)
        except Exception:
            log.exception("join of %s stopped by an error in the hook", node)
            print(f"ganeti-gluster: the join of {node} stopped by an error; see {config['log_file']}")
            return 1


if __name__ == "__main__":
    sys.exit(main())
