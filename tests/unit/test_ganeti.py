"""The Ganeti CLI layer and modules on output captured from Ganeti 3.0 in the lab
(tests/fixtures/ganeti): parsers, command builders, the master check, and which
commands each module runs, in order."""

from pathlib import Path
from unittest import mock

import pytest
import yaml

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.ganeti_cli import (
    GanetiError,
    check_master,
    cluster_modify_args,
    node_add_args,
    parse_cluster_info,
    parse_node_list,
)
from ansible_collections.ganeti_gluster.cluster.plugins.modules import (
    ganeti_cluster_info,
    ganeti_cluster_storage,
    ganeti_node,
)

from .module_harness import Expected, run_module

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ganeti"
INFO = ["/usr/sbin/gnt-cluster", "info"]
NODE_LIST = [
    "/usr/sbin/gnt-node",
    "list",
    "--no-headers",
    "--separator=|",
    "--output=name,master_candidate,offline,master",
]


def out(name):
    return (FIXTURES / name).read_text()


@pytest.fixture(autouse=True)
def on_the_master():
    with (
        mock.patch.object(ganeti_cluster_storage, "check_master", lambda: "node1"),
        mock.patch.object(ganeti_node, "check_master", lambda: "node1"),
        mock.patch.object(ganeti_cluster_info, "check_master", lambda: "node1"),
    ):
        yield


def test_cluster_info_parses_templates_params_and_paths():
    cluster = parse_cluster_info(yaml.safe_load(out("cluster-info-gluster.txt")))
    assert cluster.name == "labcluster"
    assert cluster.master == "node1"
    assert cluster.enabled_disk_templates == ("file", "gluster")
    assert cluster.ipolicy_disk_templates == ("file", "gluster")
    assert cluster.gluster_params == {"access": "kernelspace", "host": "127.0.0.1", "port": "24007", "volume": "gv0"}
    assert cluster.gluster_storage_dir == "/var/run/ganeti/gluster"
    assert cluster.file_storage_dir == "/srv/ganeti/file-storage"
    assert cluster.ssh_key_type == "rsa"


def test_cluster_info_without_its_sections_is_an_error():
    with pytest.raises(ValueError, match="no 'Cluster parameters' section"):
        parse_cluster_info({"Cluster name": "x"})


def test_node_list_parses_flags():
    nodes = parse_node_list(out("node-list.txt"))
    assert [(n.name, n.master_candidate, n.offline, n.master) for n in nodes] == [
        ("node1", True, False, True),
        ("node2", True, False, False),
    ]
    with pytest.raises(ValueError, match="not 4 fields"):
        parse_node_list("node1|Y\n")


def test_builders():
    assert cluster_modify_args(("file", "gluster"), None, {"volume": "gv0", "access": "userspace"}) == [
        "gnt-cluster",
        "modify",
        "--enabled-disk-templates=file,gluster",
        "-D",
        "gluster:volume=gv0,access=userspace",
    ]
    assert node_add_args("node4") == ["gnt-node", "add", "node4"]
    assert node_add_args("node4", ssh_key_check=False) == ["gnt-node", "add", "--no-ssh-key-check", "node4"]


def test_master_check_reads_ssconf(tmp_path):
    with pytest.raises(GanetiError, match="no Ganeti cluster on this host"):
        check_master(str(tmp_path), names={"node2"})
    (tmp_path / "ssconf_master_node").write_text("node1.example.net\n")
    with pytest.raises(GanetiError, match=r"is not the Ganeti master; the master is node1\.example\.net"):
        check_master(str(tmp_path), names={"node2"})
    assert check_master(str(tmp_path), names={"node1"}) == "node1.example.net"


def storage(args, commands):
    return run_module(ganeti_cluster_storage.main, args, commands, bins={"gnt-cluster": "/usr/sbin/gnt-cluster"})


def test_storage_adds_gluster_to_the_templates_it_keeps_and_sets_params():
    modify = [
        "/usr/sbin/gnt-cluster",
        "modify",
        "--enabled-disk-templates=file,gluster",
        "--ipolicy-disk-templates=file,gluster",
        "-D",
        "gluster:volume=gv1",
    ]
    result = storage(
        {"volume": "gv1", "_ansible_diff": True},
        [
            Expected(INFO, 0, out("cluster-info-file-only.txt")),
            Expected(modify, 0, ""),
            Expected(INFO, 0, out("cluster-info-gluster.txt")),
        ],
    )
    assert not result.failed, result.result
    assert result.result["changed"] is True
    assert result.result["commands"] == [modify]
    assert result.result["diff"]["before"]["enabled_disk_templates"] == ["file"]
    assert result.result["diff"]["after"]["enabled_disk_templates"] == ["file", "gluster"]


def test_storage_in_check_mode_runs_only_the_read():
    result = storage(
        {"volume": "gv0", "access": "userspace", "_ansible_check_mode": True},
        [Expected(INFO, 0, out("cluster-info-file-only.txt"))],
    )
    assert (result.failed, result.result["changed"]) == (False, True)
    assert result.result["commands"][0][2:] == [
        "--enabled-disk-templates=file,gluster",
        "--ipolicy-disk-templates=file,gluster",
        "-D",
        "gluster:access=userspace",
    ]


def test_storage_that_matches_changes_nothing():
    result = storage({"volume": "gv0"}, [Expected(INFO, 0, out("cluster-info-gluster.txt"))])
    assert (result.failed, result.result["changed"], result.result["commands"]) == (False, False, [])


def test_storage_dir_that_differs_is_refused_before_any_change():
    result = storage(
        {"volume": "gv0", "storage_dir": "/srv/gluster"}, [Expected(INFO, 0, out("cluster-info-file-only.txt"))]
    )
    assert result.failed
    assert result.result["msg"].startswith(
        "the cluster's gluster storage dir is /var/run/ganeti/gluster, not /srv/gluster"
    )
    assert result.result["commands"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"volume": "gv0", "port": 0}, "port must be 1 to 65535"),
        ({"volume": "gv0", "host": "bad host"}, "is not a host name or an address"),
        ({"volume": "a,b"}, "is not a Gluster volume name"),
    ],
)
def test_storage_argument_errors_run_nothing(args, message):
    result = storage(args, [])
    assert result.failed
    assert message in result.result["msg"]


def test_node_adds_only_missing_nodes_in_order():
    add = ["/usr/sbin/gnt-node", "add", "--no-ssh-key-check", "node4"]
    result = run_module(
        ganeti_node.main,
        {"nodes": ["node1", "node2", "node4"], "ssh_key_check": False},
        [
            Expected(NODE_LIST, 0, out("node-list.txt")),
            Expected(add, 0, ""),
            Expected(NODE_LIST, 0, out("node-list.txt") + "node4|Y|N|N\n"),
        ],
    )
    assert not result.failed, result.result
    assert (result.result["changed"], result.result["added"]) == (True, ["node4"])
    assert result.result["nodes"][-1]["name"] == "node4"


def test_node_failure_says_what_to_check():
    add = ["/usr/sbin/gnt-node", "add", "node4"]
    result = run_module(
        ganeti_node.main,
        {"nodes": ["node4"]},
        [Expected(NODE_LIST, 0, out("node-list.txt")), Expected(add, 1, "", "Failure: ssh connection refused\n")],
    )
    assert result.failed
    assert result.result["msg"].startswith("gnt-node add failed (exit 1): Failure: ssh connection refused; check")


def test_node_present_and_check_mode_run_no_add():
    present = run_module(ganeti_node.main, {"nodes": ["node2"]}, [Expected(NODE_LIST, 0, out("node-list.txt"))])
    assert (present.result["changed"], present.result["commands"]) == (False, [])
    # The inventory's FQDN names the node Ganeti knows by its short name.
    fqdn = run_module(
        ganeti_node.main, {"nodes": ["node2.example.net"]}, [Expected(NODE_LIST, 0, out("node-list.txt"))]
    )
    assert (fqdn.result["changed"], fqdn.result["commands"]) == (False, [])
    checked = run_module(
        ganeti_node.main,
        {"nodes": ["node5"], "_ansible_check_mode": True},
        [Expected(NODE_LIST, 0, out("node-list.txt"))],
    )
    assert checked.result["added"] == ["node5"]
    assert checked.result["commands"] == [["/usr/sbin/gnt-node", "add", "node5"]]


def test_cluster_info_module_off_the_master():
    def not_master():
        raise GanetiError("this host (node2) is not the Ganeti master; the master is node1: run there")

    with (
        mock.patch.object(ganeti_cluster_info, "check_master", not_master),
        mock.patch.object(ganeti_cluster_info, "read_ssconf", lambda key: "node1"),
    ):
        strict = run_module(ganeti_cluster_info.main, {}, [])
        lenient = run_module(ganeti_cluster_info.main, {"must_be_master": False}, [])
    assert strict.failed and "the master is node1" in strict.result["msg"]
    assert (lenient.failed, lenient.result["master"], lenient.result["is_master"]) == (False, "node1", False)
