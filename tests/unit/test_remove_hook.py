"""The node-remove pre hook (roles/ganeti_gluster_disk/files/ganeti_gluster_remove.py), in-process."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils import hook_support, hosts

REPO = Path(__file__).resolve().parents[2]
HOOK = REPO / "roles" / "ganeti_gluster_disk" / "files" / "ganeti_gluster_remove.py"
FIXTURES = REPO / "tests" / "fixtures" / "gluster"
MASTER = {"GANETI_MASTER": "node1"}


@pytest.fixture
def hook(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("ganeti_gluster_remove", HOOK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = tmp_path / "settings.json"
    config.write_text(json.dumps({"volume": "hv", "lib_dir": str(REPO / "collections")}))
    monkeypatch.setattr(module, "CONFIG_FILE", str(config))
    monkeypatch.setattr(module, "MARKER_DIR", str(tmp_path / "removing"))
    monkeypatch.setattr(hook_support.socket, "getfqdn", lambda: "node1")
    answers = {"volume info": "health-volume-info.xml", "pool list": "health-pool-list.xml"}
    monkeypatch.setattr(
        hook_support,
        "run_bounded",
        lambda argv, timeout, env=None: (0, (FIXTURES / answers[" ".join(argv[3:])]).read_text(), ""),
    )
    return module


def test_a_node_holding_bricks_is_refused_on_the_master(hook, capsys):
    assert hook.main({**MASTER, "GANETI_NODE_NAME": "node3"}) == hook.REFUSED
    out = capsys.readouterr().out
    assert "node3 holds bricks of volume hv (node3:/bricks/hv)" in out
    assert "playbooks/remove-node.yml -e remove_nodes=node3" in out


def test_a_node_without_bricks_goes(hook):
    assert hook.main({**MASTER, "GANETI_NODE_NAME": "node4"}) == hook.OK


def test_a_node_gluster_knows_by_its_secondary_ip_only_is_refused(hook, monkeypatch, capsys):
    # Ganeti's gnt3.example.com; Gluster's peer node3 on the storage network, which only
    # Ganeti's ssconf (its secondary IP) ties to it.
    monkeypatch.setattr(hosts, "addresses", lambda name: {"node3": ["10.2.0.13"]}.get(name, []))
    monkeypatch.setattr(hook_support, "ssconf_node_addresses", lambda node: ["10.1.0.13", "10.2.0.13"])
    assert hook.main({**MASTER, "GANETI_NODE_NAME": "gnt3.example.com"}) == hook.REFUSED
    assert "gnt3.example.com holds bricks of volume hv (node3:/bricks/hv)" in capsys.readouterr().out
    monkeypatch.setattr(hook_support, "ssconf_node_addresses", lambda node: ["10.1.0.14", "10.2.0.14"])
    assert hook.main({**MASTER, "GANETI_NODE_NAME": "gnt4.example.com"}) == hook.OK


def test_only_the_master_decides(hook):
    assert hook.main({"GANETI_MASTER": "node2", "GANETI_NODE_NAME": "node3"}) == hook.OK


def test_remove_node_yml_s_own_removal_goes_through_while_its_marker_is_fresh(hook):
    os.makedirs(hook.MARKER_DIR)
    marker = Path(hook.MARKER_DIR) / "node3"
    marker.write_text("1\n")
    assert hook.main({**MASTER, "GANETI_NODE_NAME": "node3"}) == hook.OK
    old = marker.stat().st_mtime - hook.MARKER_MAX_AGE - 1
    os.utime(marker, (old, old))
    assert hook.main({**MASTER, "GANETI_NODE_NAME": "node3"}) == hook.REFUSED


def test_a_pool_it_cannot_read_is_a_refusal(hook, monkeypatch, capsys):
    monkeypatch.setattr(hook_support, "run_bounded", lambda argv, timeout, env=None: (None, "", ""))
    assert hook.main({**MASTER, "GANETI_NODE_NAME": "node3"}) == hook.REFUSED
    assert "cannot tell whether node3 holds bricks" in capsys.readouterr().out
