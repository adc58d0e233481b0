"""The node-add hook's decisions, without Ganeti: which host it joins, when it
stands aside, and what it reports. The join itself runs on the lab in the
molecule scenario `ganeti`."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils import hook_support
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils import hosts as real_hosts

HOOK = Path(__file__).resolve().parents[2] / "roles" / "ganeti_gluster_disk" / "files" / "ganeti_gluster_join.py"


@pytest.fixture(scope="module")
def hook():
    spec = importlib.util.spec_from_file_location("ganeti_gluster_join", HOOK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


INVENTORY = {
    "all": {"children": ["ungrouped", "lab", "gluster_pool", "ganeti_nodes"]},
    "gluster_pool": {"hosts": ["node1", "node2", "10.0.0.5"], "children": ["new_racks"]},
    "new_racks": {"hosts": ["node4.example.net"]},
    "ganeti_nodes": {"hosts": ["node1", "node2", "node7"]},
    "_meta": {"hostvars": {"node1": {"ansible_host": "10.0.0.1"}}},
}
# The master's resolver.
RESOLVER = {"node2": {"10.0.0.2"}, "node2.example.net": {"10.0.0.2"}, "node1.rack-b": {"10.9.0.1"}}


def helpers(me="node1", resolver=None):
    """The collection's host helpers, as the hook loads them, on host `me` with `resolver`."""
    resolver = RESOLVER if resolver is None else resolver
    return SimpleNamespace(
        identity=real_hosts.identity,
        agreement=real_hosts.agreement,
        addresses=lambda name: set(resolver.get(name, ())),
        is_this_host=lambda name: name == me,
    )


def test_inventory_host_finds_the_node_by_exact_name_or_address_in_the_group_and_its_children(hook):
    def find(node, **environ):
        return hook.inventory_host(
            node, INVENTORY, "gluster_pool", helpers(), hook.node_identity(real_hosts, node, environ)
        )

    assert find("node4.example.net") == "node4.example.net"
    assert find("node2.example.net", GANETI_NODE_PIP="10.0.0.2") == "node2"  # by address
    assert find("node1.example.net", GANETI_NODE_PIP="10.0.0.1") == "node1"  # by ansible_host
    assert find("node5.example.net", GANETI_NODE_PIP="10.0.0.5") == "10.0.0.5"  # inventory keyed by address
    assert find("node7") is None
    # A first label is no evidence: node1.rack-b is another machine than node1.
    assert find("node1.rack-b", GANETI_NODE_PIP="10.9.0.1") is None


def test_two_inventory_hosts_for_one_node_are_refused(hook):
    inventory = {"gluster_pool": {"hosts": ["node2", "10.0.0.2"]}}
    with pytest.raises(hook.HookSetupError, match=r"matches more than one host of the group gluster_pool"):
        wanted = hook.node_identity(real_hosts, "node2.example.net", {"GANETI_NODE_PIP": "10.0.0.2"})
        hook.inventory_host("node2.example.net", inventory, "gluster_pool", helpers(), wanted)


def test_the_masters_addresses_come_from_ganetis_ssconf(hook, tmp_path):
    (tmp_path / "ssconf_node_primary_ips").write_text("node1.example.net 10.0.0.1\nnode2.example.net 10.0.0.2\n")
    (tmp_path / "ssconf_node_secondary_ips").write_text("node2.example.net 10.1.0.2\n")
    assert hook_support.ssconf_node_addresses("node2.example.net", str(tmp_path)) == ["10.0.0.2", "10.1.0.2"]
    assert hook_support.ssconf_node_addresses("node9", str(tmp_path)) == []
    assert hook_support.ssconf_node_addresses("node1", str(tmp_path / "none")) == []


def test_failures_lists_failed_and_unreachable_results_but_not_ignored_ones(hook):
    events = [
        {"event": "runner_on_ok", "event_data": {"host": "node1", "task": "Read"}},
        {
            "event": "runner_on_failed",
            "event_data": {"host": "node1", "task": "Refuse", "res": {"msg": "bad brick\nmore"}},
        },
        {
            "event": "runner_on_failed",
            "event_data": {"host": "node2", "task": "Probe", "ignore_errors": True, "res": {"msg": "x"}},
        },
        {"event": "runner_on_unreachable", "event_data": {"host": "node6", "task": "Read", "res": {"msg": "down"}}},
    ]
    assert hook.failures(events) == ["node1: Refuse: failed: bad brick", "node6: Read: unreachable: down"]
    # node6's read ignored its unreachability: the run's stats count it ok, not dark.
    assert hook.failures(events, {"dark": {}, "ok": {"node6": 1}}) == ["node1: Refuse: failed: bad brick"]
    assert hook.failures(events, {"dark": {"node6": 1}})[1:] == ["node6: Read: unreachable: down"]


def test_marker_of_a_running_playbook_is_fresh_and_an_old_one_stale(hook, tmp_path):
    lab = helpers(resolver={"node4": {"10.0.0.4"}, "node5": {"10.0.0.5"}})

    def state(directory, node, **environ):
        return hook.marker_state(str(directory), node, lab, environ)

    assert state(tmp_path / "missing", "node4") == ("absent", None)
    marker = tmp_path / "node4"
    marker.touch()
    # The playbook named it node4; Ganeti resolved that to node4.example.net.
    assert state(tmp_path, "node4.example.net", GANETI_NODE_PIP="10.0.0.4") == ("fresh", str(marker))
    assert state(tmp_path, "node4.rack-b", GANETI_NODE_PIP="10.9.0.4") == ("absent", None)
    old = time.time() - hook.MARKER_MAX_AGE - 5
    os.utime(marker, (old, old))
    assert state(tmp_path, "node4")[0] == "stale"
    assert state(tmp_path, "node5") == ("absent", None)


def test_a_marker_is_fresh_while_the_process_it_names_runs(hook, tmp_path):
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.hook_support import process_token

    lab = helpers(resolver={"node4": {"10.0.0.4"}})
    marker = tmp_path / "node4"
    marker.write_text(process_token() + "\n")
    assert hook.marker_state(str(tmp_path), "node4", lab, {}) == ("fresh", str(marker))
    # Its writer ended (a controller that died mid-run): however young, the marker is stale.
    child = subprocess.run(["sh", "-c", "cat /proc/self/stat"], capture_output=True, text=True, check=True)
    gone = f"{child.stdout.split()[0]} {child.stdout[child.stdout.rindex(')') + 2 :].split()[19]}"
    marker.write_text(gone + "\n")
    assert hook.marker_state(str(tmp_path), "node4", lab, {}) == ("stale", str(marker))
    # Its pid reused by another process: the start time tells them apart.
    marker.write_text(f"{os.getpid()} 1\n")
    assert hook.marker_state(str(tmp_path), "node4", lab, {}) == ("stale", str(marker))


def test_environment_has_what_ganetis_reset_environment_lacks(hook):
    env = hook.hook_environment("/opt/venv/bin/python3")
    assert env["PATH"].split(":")[0] == "/opt/venv/bin"
    assert env["HOME"] and env["LC_ALL"] == "C.UTF-8"


def write_config(tmp_path, **overrides):
    project = tmp_path / "project"
    (project / "playbooks").mkdir(parents=True, exist_ok=True)
    (project / "playbooks" / "add-node.yml").write_text("---\n")
    config = {
        "project_dir": str(project),
        "inventory": [str(tmp_path / "hosts.yml")],
        "log_file": str(tmp_path / "log" / "join.log"),
        "data_dir": str(tmp_path / "data"),
        **overrides,
    }
    path = tmp_path / "hook.json"
    path.write_text(json.dumps(config))
    return str(path)


def env(node="node4", master="node1", **extra):
    return {
        "GANETI_HOOKS_PHASE": "post",
        "GANETI_OP_CODE": "OP_NODE_ADD",
        "GANETI_NODE_NAME": node,
        "GANETI_MASTER": master,
        **extra,
    }


def test_not_on_the_master_it_logs_and_exits_0(hook, tmp_path, monkeypatch):
    monkeypatch.setattr(hook, "host_helpers", lambda config: helpers(me="node2"))
    config = write_config(tmp_path)
    assert hook.main(env(), config) == 0
    assert "this host is not the master (node1)" in (tmp_path / "log" / "join.log").read_text()


def test_a_playbooks_marker_makes_it_stand_aside(hook, tmp_path, monkeypatch):
    monkeypatch.setattr(hook, "host_helpers", lambda config: helpers(me="node1"))
    monkeypatch.setattr(hook, "join", lambda *a: pytest.fail("the hook joined a node a playbook is joining"))
    config = write_config(tmp_path)
    (tmp_path / "data" / "joining").mkdir(parents=True)
    (tmp_path / "data" / "joining" / "node4").touch()
    assert hook.main(env(), config) == 0


def test_other_phases_and_opcodes_do_nothing(hook, tmp_path):
    config = write_config(tmp_path)
    assert hook.main(env(GANETI_HOOKS_PHASE="pre"), config) == 0
    assert hook.main(env(GANETI_OP_CODE="OP_NODE_REMOVE"), config) == 0
    assert not (tmp_path / "log").exists()


def test_bad_settings_exit_2_and_say_why(hook, tmp_path, capsys):
    assert hook.main(env(), str(tmp_path / "none.json")) == 2
    assert "cannot read the hook's settings" in capsys.readouterr().out
    config = write_config(tmp_path, playbook="playbooks/missing.yml")
    assert hook.main(env(), config) == 2
    assert "missing.yml does not exist" in capsys.readouterr().out


# The hook's time limits: Ganeti stops waiting for it after HOOKS_RPC_TIMEOUT.

JOIN_INVENTORY = {
    "gluster_pool": {"hosts": ["node1", "node2", "node4"]},
    # Without the master: the run keeps the inventory's ganeti_master.
    "ganeti_nodes": {"hosts": ["node4"]},
}


class FakeRunnerApi:
    """ansible_runner as the hook uses it: the inventory, and a run that ends as told."""

    def __init__(self, status="successful", rc=0, events=()):
        self.status, self.rc, self.events = status, rc, list(events)
        self.runs, self.inventory_dirs = [], []

    def get_inventory(self, **kwargs):
        self.inventory_dirs.append(kwargs["private_data_dir"])
        # ansible-runner leaves what ansible-inventory printed there.
        with open(os.path.join(kwargs["private_data_dir"], "inventory-output"), "w") as out:
            out.write("every host's variables")
        return JOIN_INVENTORY, ""

    def run(self, **kwargs):
        self.runs.append(kwargs)
        stats = None if self.status == "timeout" else {"ok": {"node4": 3}}
        return SimpleNamespace(status=self.status, rc=self.rc, events=self.events, stats=stats)


@pytest.fixture
def on_master(hook, monkeypatch):
    """Run as the master node1; put back the environment the join sets for Ansible."""
    monkeypatch.setattr(hook, "host_helpers", lambda config: helpers(me="node1"))
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def runner_api(monkeypatch, **kwargs):
    api = FakeRunnerApi(**kwargs)
    monkeypatch.setitem(sys.modules, "ansible_runner", api)
    return api


def log_of(tmp_path):
    return (tmp_path / "log" / "join.log").read_text()


def test_the_default_limits_end_the_hook_well_before_ganeti_stops_waiting(hook, tmp_path, monkeypatch, on_master):
    api = runner_api(monkeypatch)
    before = time.time()
    assert hook.main(env(), write_config(tmp_path)) == 0
    (run,) = api.runs
    assert run["timeout"] == hook.DEFAULTS["run_timeout"]
    wait_until = run["extravars"].pop("gluster_pool_rebalance_wait_until")
    owner = run["extravars"].pop("gluster_pool_lock_owner")
    assert owner.startswith("the node-add hook joining node4 on ") and f"(pid {os.getpid()})" in owner
    # A quarter of the run at most: the run may wait at the peer step and at the volume step.
    assert run["extravars"].pop("gluster_pool_lock_wait") == hook.DEFAULTS["run_timeout"] // 4
    assert run["extravars"] == {"add_nodes": "node4", "ganeti_gluster_disk_in_hook": True}
    # The run stops waiting for the rebalance AFTER_REBALANCE s before its timeout: its
    # module then returns, and lets go of the pool's lock, before the hook kills the run.
    stop_waiting = before + hook.DEFAULTS["run_timeout"] - hook.AFTER_REBALANCE
    assert stop_waiting - 1 <= wait_until <= time.time() + hook.DEFAULTS["run_timeout"] - hook.AFTER_REBALANCE
    # The inventory was read in a private dir of the hook's, gone once read.
    (reading,) = api.inventory_dirs
    assert os.path.dirname(reading) == os.path.dirname(run["private_data_dir"])
    assert not os.path.exists(reading)
    reserve = hook.HOOKS_RPC_TIMEOUT - hook.HOOK_DEADLINE
    assert reserve >= 60
    assert hook.DEFAULTS["lock_wait"] + hook.DEFAULTS["run_timeout"] + 60 <= hook.HOOK_DEADLINE
    assert hook.MAX_RUN_TIMEOUT <= 780


def test_the_run_reads_the_roles_ansible_cfg_else_the_projects_own(hook, tmp_path, monkeypatch, on_master):
    runner_api(monkeypatch)
    rendered = tmp_path / "data-ansible.cfg"
    rendered.write_text("[defaults]\nforks = 20\n")
    assert hook.main(env(), write_config(tmp_path, ansible_config=str(rendered))) == 0
    assert os.environ["ANSIBLE_CONFIG"] == str(rendered)
    os.environ.pop("ANSIBLE_CONFIG")
    own = tmp_path / "project" / "ansible.cfg"
    own.write_text("[defaults]\n")
    assert hook.main(env(), write_config(tmp_path)) == 0
    assert os.environ["ANSIBLE_CONFIG"] == str(own)


def test_a_missing_ansible_cfg_is_a_bad_setting(hook, tmp_path, capsys):
    config = write_config(tmp_path, ansible_config=str(tmp_path / "gone.cfg"))
    assert hook.main(env(), config) == 2
    assert "gone.cfg in" in capsys.readouterr().out


def test_the_run_gets_what_is_left_of_the_hooks_deadline(hook, tmp_path, monkeypatch, on_master):
    api = runner_api(monkeypatch)
    config = write_config(tmp_path, lock_wait=60, run_timeout=780)
    # As if the hook had waited 200 s for the lock already.
    assert hook.main(env(), config, started=time.monotonic() - 200) == 0
    assert hook.HOOK_DEADLINE - 205 <= api.runs[0]["timeout"] <= hook.HOOK_DEADLINE - 200


def test_the_run_names_the_master_the_hook_runs_on_after_a_master_failover(hook, tmp_path, monkeypatch, on_master):
    # Rendered while node2 was master; node1 is now (gnt-cluster master-failover).
    inventory = {
        "gluster_pool": {"hosts": ["node1", "node2", "node4"]},
        "ganeti_nodes": {"hosts": ["node1", "node2", "node4"]},
        "ganeti_master": {"hosts": ["node2"]},
    }
    api = runner_api(monkeypatch)
    monkeypatch.setattr(api, "get_inventory", lambda **kwargs: (inventory, ""))
    assert hook.main(env(master="node1"), write_config(tmp_path)) == 0
    assert api.runs[0]["extravars"]["ganeti_gluster_disk_master"] == "node1"
    # A master the inventory does not have: the run keeps the inventory's, and the log says so.
    api.runs.clear()
    inventory["ganeti_nodes"]["hosts"].remove("node1")
    assert hook.main(env(master="node1"), write_config(tmp_path)) == 0
    assert "ganeti_gluster_disk_master" not in api.runs[0]["extravars"]
    assert "the master node1 is not in the group ganeti_nodes" in log_of(tmp_path)


@pytest.mark.parametrize(
    ("pool", "ganeti", "said"),
    [
        (["node1", "node2"], ["node1", "node2"], ["node4 is not in the group gluster_pool", "gluster_pool_bricks: []"]),
        # The join would leave its Ganeti side undone.
        (
            ["node1", "node2", "node4"],
            ["node1", "node2"],
            ["node4 is the host node4 of the group gluster_pool", "but not of the group ganeti_nodes"],
        ),
    ],
)
def test_a_node_the_inventory_does_not_declare_in_both_groups_fails_the_hook_and_says_why(
    hook, tmp_path, monkeypatch, on_master, pool, ganeti, said
):
    inventory = {
        "gluster_pool": {"hosts": pool},
        "ganeti_nodes": {"hosts": ganeti},
        "ganeti_master": {"hosts": ["node1"]},
    }
    api = runner_api(monkeypatch)
    monkeypatch.setattr(api, "get_inventory", lambda **kwargs: (inventory, ""))
    assert hook.main(env(), write_config(tmp_path)) == hook.FAILED
    assert api.runs == []
    for words in said:
        assert words in log_of(tmp_path)


def test_a_run_that_outlasts_its_timeout_is_logged_as_such_and_exits_3(hook, tmp_path, monkeypatch, on_master, capsys):
    task_start = {"event": "runner_on_start", "event_data": {"host": "node1", "task": "Add the bricks"}}
    api = runner_api(monkeypatch, status="timeout", rc=254, events=[task_start])
    assert hook.main(env(), write_config(tmp_path, run_timeout=300)) == 3
    assert api.runs[0]["timeout"] == 300
    log = log_of(tmp_path)
    assert "ran out of its run timeout (300 s, run_timeout in the hook's settings)" in log
    assert "while node1 ran 'Add the bricks'" in log
    assert "ansible-playbook playbooks/add-node.yml -e add_nodes=node4" in log
    assert "ran out of its run timeout (300 s" in capsys.readouterr().out


# The task's sleep, told apart from that of another run of this test on the machine.
HANG_SECONDS = f"30.{os.getpid()}"
HANGING_PLAY = f"""\
- hosts: gluster_pool
  gather_facts: false
  tasks:
    - name: Hang
      ansible.builtin.command: sleep {HANG_SECONDS}
"""


def leftover_sleeps():
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:2] == [b"sleep", HANG_SECONDS.encode()]:
                found.append(pid)
    return found


def test_a_real_run_that_hangs_is_killed_at_its_timeout_with_what_it_left_running(
    hook, tmp_path, monkeypatch, on_master
):
    """The installed ansible-runner, a real ansible-playbook: the timeout reaches the run,
    comes back as status 'timeout', and the task Ansible's worker was running is stopped too."""
    monkeypatch.setattr(hook, "MIN_RUN_TIMEOUT", 1, raising=False)
    # Long enough for ansible-playbook to reach its task on a loaded machine (it takes about 2 s idle).
    config = write_config(tmp_path, run_timeout=6)
    (tmp_path / "project" / "playbooks" / "add-node.yml").write_text(HANGING_PLAY)
    hosts = {"node4": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}
    (tmp_path / "hosts.yml").write_text(
        json.dumps({"gluster_pool": {"hosts": hosts}, "ganeti_nodes": {"hosts": hosts}})
    )
    started = time.monotonic()
    assert hook.main(env(), config) == 3
    assert time.monotonic() - started < 25
    log = log_of(tmp_path)
    assert "ran out of its run timeout (6 s" in log
    assert "while node4 ran 'Hang'" in log
    assert not leftover_sleeps(), log


def hold_lock(path, seconds):
    """Another process holding an flock on `path` (for at most `seconds`)."""
    code = (
        "import fcntl, sys, time\n"
        "f = open(sys.argv[1], 'a')\n"
        "fcntl.flock(f, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        "time.sleep(float(sys.argv[2]))\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_lock_held_by_another_process_is_waited_for_lock_wait_seconds_then_exits_4(
    hook, tmp_path, monkeypatch, on_master, capsys
):
    api = runner_api(monkeypatch)
    config = write_config(tmp_path, lock_wait=1)
    (tmp_path / "data").mkdir()
    holder = hold_lock(tmp_path / "data" / "join.lock", 20)
    try:
        started = time.monotonic()
        assert hook.main(env(), config) == 4
        assert 1 <= time.monotonic() - started < 5
    finally:
        holder.kill()
        holder.wait()
    assert api.runs == []
    log = log_of(tmp_path)
    assert "waiting up to 1 s for it" in log
    assert "gave up after lock_wait (1 s)" in log and "nothing was run" in log
    assert "gave up after lock_wait (1 s)" in capsys.readouterr().out


def test_the_log_names_the_join_that_holds_the_lock(hook, tmp_path, monkeypatch, on_master):
    api = runner_api(monkeypatch)
    config = write_config(tmp_path, lock_wait=0)
    (tmp_path / "data").mkdir()
    with hook.exclusive(str(tmp_path / "data" / "join.lock"), 0, "node5"):
        assert hook.main(env(), config) == 4
    assert api.runs == []
    assert f"held by pid {os.getpid()}, the join of node5 since " in log_of(tmp_path)
    # Released, the lock is free again.
    assert hook.main(env(), config) == 0


def test_without_ansible_runner_it_exits_2_and_logs_why(hook, tmp_path, monkeypatch, on_master, capsys):
    monkeypatch.setitem(sys.modules, "ansible_runner", None)  # import ansible_runner: ImportError
    assert hook.main(env(), write_config(tmp_path)) == 2
    assert f"{sys.executable} cannot import ansible_runner" in log_of(tmp_path)
    assert "cannot import ansible_runner" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"run_timeout": 900}, "run_timeout in"),
        ({"run_timeout": "600"}, "run_timeout in"),
        ({"lock_wait": -1}, "lock_wait in"),
        ({"lock_wait": True}, "lock_wait in"),
        ({"lock_wait": 300, "run_timeout": 780}, "add up to more than"),
    ],
)
def test_time_limits_beyond_ganetis_are_bad_settings(hook, tmp_path, monkeypatch, on_master, capsys, settings, message):
    monkeypatch.setattr(hook, "join", lambda *a: pytest.fail("the hook joined with bad settings"))
    assert hook.main(env(), write_config(tmp_path, **settings)) == 2
    assert message in capsys.readouterr().out


@pytest.mark.parametrize("run_timeout", [60, 300, 780])  # the least, one between, the most allowed
def test_the_rebalance_wait_ends_in_time_for_the_rest_of_the_join(hook, run_timeout):
    assert hook.MIN_RUN_TIMEOUT <= run_timeout <= hook.MAX_RUN_TIMEOUT
    now = time.time()
    until = hook.rebalance_wait_until(run_timeout)
    kept = now + run_timeout - until
    assert min(hook.AFTER_REBALANCE, run_timeout / 2) - 1 <= kept <= hook.AFTER_REBALANCE + 1
    assert until > now  # a short run still waits for a while


def test_a_join_that_leaves_its_rebalance_in_the_background_says_so_in_the_log(hook, tmp_path, monkeypatch, on_master):
    left = "rebalance (fix-layout) of gv0 goes on in the background: this run stopped waiting for it"
    events = [
        {
            "event": "runner_on_ok",
            "event_data": {
                "host": "node1",
                "task": "Create or grow the volume",
                "res": {"changed": True, "warnings": [left]},
            },
        },
        {"event": "runner_on_ok", "event_data": {"host": "node4", "task": "Verify", "res": {"changed": False}}},
    ]
    runner_api(monkeypatch, events=events)
    assert hook.main(env(), write_config(tmp_path)) == 0
    assert f"join of node4: node1: Create or grow the volume: {left}" in log_of(tmp_path)


def test_the_hooks_own_wait_for_the_rebalance_outranks_one_in_its_settings(hook, tmp_path, monkeypatch, on_master):
    api = runner_api(monkeypatch)
    settings = write_config(tmp_path, extra_vars={"gluster_pool_rebalance_wait_until": 1, "site_var": "kept"})
    assert hook.main(env(), settings) == 0
    (run,) = api.runs
    assert run["extravars"]["gluster_pool_rebalance_wait_until"] > time.time()
    assert run["extravars"]["site_var"] == "kept"
