"""The node-add hook's decisions, without Ganeti: which host it joins, when it
stands aside, and what it reports. The join itself runs on the lab in the
molecule scenario `ganeti`."""

from __future__ import annotations

import importlib.util
import json
import os
import time
from pathlib import Path

import pytest

HOOK = Path(__file__).resolve().parents[2] / "roles" / "ganeti_gluster_disk" / "files" / "ganeti_gluster_join.py"


@pytest.fixture(scope="module")
def hook():
    spec = importlib.util.spec_from_file_location("ganeti_gluster_join", HOOK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


INVENTORY = {
    "all": {"children": ["ungrouped", "lab", "gluster_pool", "ganeti_nodes"]},
    "gluster_pool": {"hosts": ["node1", "node2"], "children": ["new_racks"]},
    "new_racks": {"hosts": ["node4.example.net"]},
    "ganeti_nodes": {"hosts": ["node1", "node2", "node7"]},
}


def test_inventory_host_finds_the_node_in_the_group_and_its_children(hook):
    assert hook.inventory_host("node4.example.net", INVENTORY, "gluster_pool") == "node4.example.net"
    assert hook.inventory_host("node2.example.net", INVENTORY, "gluster_pool") == "node2"
    assert hook.inventory_host("node7", INVENTORY, "gluster_pool") is None


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


def test_marker_of_a_running_playbook_is_fresh_and_an_old_one_stale(hook, tmp_path):
    assert hook.marker_state(str(tmp_path / "missing"), "node4") == ("absent", None)
    marker = tmp_path / "node4"
    marker.touch()
    assert hook.marker_state(str(tmp_path), "node4.example.net") == ("fresh", str(marker))
    old = time.time() - hook.MARKER_MAX_AGE - 5
    os.utime(marker, (old, old))
    assert hook.marker_state(str(tmp_path), "node4")[0] == "stale"
    assert hook.marker_state(str(tmp_path), "node5") == ("absent", None)


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
    monkeypatch.setattr(hook, "local_names", lambda: {"node2"})
    config = write_config(tmp_path)
    assert hook.main(env(), config) == 0
    assert "this host is not the master (node1)" in (tmp_path / "log" / "join.log").read_text()


def test_a_playbooks_marker_makes_it_stand_aside(hook, tmp_path, monkeypatch):
    monkeypatch.setattr(hook, "local_names", lambda: {"node1"})
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
