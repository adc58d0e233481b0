"""The Ganeti CLI layer and modules on output captured from Ganeti 3.0 in the lab
(tests/fixtures/ganeti): parsers, command builders, the master check, and which
commands each module runs, in order."""

from pathlib import Path
from unittest import mock

import pytest
import yaml

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils import ganeti_cli
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
    "--output=name,master_candidate,offline,master,pip,sip",
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
    assert [(n.name, n.master_candidate, n.offline, n.master, n.pip) for n in nodes] == [
        ("node1", True, False, True, "10.77.0.11"),
        ("node2", True, False, False, "10.77.0.12"),
    ]
    with pytest.raises(ValueError, match="not 6 fields"):
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
    def node1(name):
        return name == "node1.example.net"

    with pytest.raises(GanetiError, match="no Ganeti cluster on this host"):
        check_master(str(tmp_path), is_me=node1)
    (tmp_path / "ssconf_master_node").write_text("node1.rack-b\n")
    with pytest.raises(GanetiError, match=r"is not the Ganeti master; the master is node1\.rack-b"):
        check_master(str(tmp_path), is_me=node1)
    (tmp_path / "ssconf_master_node").write_text("node1.example.net\n")
    assert check_master(str(tmp_path), is_me=node1) == "node1.example.net"


def test_a_node_is_named_by_its_exact_name_or_its_address_never_a_first_label():
    node = parse_node_list(out("node-list.txt"))[1]  # node2, 10.77.0.12
    resolver = {"node2.example.net": {"10.77.0.12"}, "node2.rack-b": {"10.9.0.2"}, "10.77.0.12": {"10.77.0.12"}}
    assert node.is_named("NODE2.", resolve=lambda n: set())
    assert node.is_named("node2.example.net", resolve=lambda n: resolver.get(n, set()))
    assert node.is_named("10.77.0.12", resolve=lambda n: resolver.get(n, set()))
    assert not node.is_named("node2.rack-b", resolve=lambda n: resolver.get(n, set()))
    assert not node.is_named("10.77.0.13", resolve=lambda n: {n})


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
            Expected(NODE_LIST, 0, out("node-list.txt") + "node4|Y|N|N|10.77.0.14|10.77.0.14\n"),
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
    # The inventory's FQDN names the node Ganeti knows by its short name: by its address.
    with mock.patch.object(ganeti_cli, "addresses", {"node2.example.net": {"10.77.0.12"}}.get):
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


ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheTestOnly root@node4\n"
RSA = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQFakeKeyToo root@node4\n"


def key_check_run(tmp_path, add_rc=0):
    """gnt-node add node4 with node4's host keys, Ganeti's known_hosts in tmp_path."""
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("labcluster ssh-rsa AAAAclusterkey\n")
    known_hosts.chmod(0o644)
    seen = []

    def during_add():
        seen.append(known_hosts.read_text())

    add = ["/usr/sbin/gnt-node", "add", "node4"]
    commands = [Expected(NODE_LIST, 0, out("node-list.txt")), Expected(add, add_rc, "", "", during=during_add)]
    commands.append(Expected(["/usr/sbin/gnt-cluster", "redist-conf"], 0, ""))
    if add_rc == 0:
        commands.append(Expected(NODE_LIST, 0, out("node-list.txt") + "node4|Y|N|N|10.77.0.14|10.77.0.14\n"))
    with (
        mock.patch.object(ganeti_node, "ssh_name", lambda name: f"{name}.example.net"),
        # prepare-node-join gives node4 the cluster's rsa key: known under node4's name too.
        mock.patch.object(ganeti_node, "master_host_keys", lambda: ["ssh-rsa AAAAclusterkey root@node1\n"]),
    ):
        result = run_module(
            ganeti_node.main,
            {"nodes": ["node4"], "host_keys": {"node4": [ED25519, RSA]}, "known_hosts": str(known_hosts)},
            commands,
        )
    return result, known_hosts, seen


def test_a_new_nodes_host_keys_are_known_to_ganeti_for_the_add_only(tmp_path):
    result, known_hosts, seen = key_check_run(tmp_path)
    assert not result.failed, result.result
    # During the add: the cluster's line, and node4's keys under the name Ganeti's ssh uses.
    assert seen == [
        "labcluster ssh-rsa AAAAclusterkey\n"
        "node4.example.net ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheTestOnly ganeti-gluster-node-add\n"
        "node4.example.net ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQFakeKeyToo ganeti-gluster-node-add\n"
        "node4.example.net ssh-rsa AAAAclusterkey ganeti-gluster-node-add\n"
    ]
    # After: Ganeti's file as it was (mode kept), and its copies redistributed from it.
    assert known_hosts.read_text() == "labcluster ssh-rsa AAAAclusterkey\n"
    assert known_hosts.stat().st_mode & 0o777 == 0o644
    assert result.result["commands"][-1] == ["/usr/sbin/gnt-cluster", "redist-conf"]
    assert "--no-ssh-key-check" not in result.result["commands"][0]


def test_a_failed_add_still_restores_ganetis_known_hosts(tmp_path):
    result, known_hosts, seen = key_check_run(tmp_path, add_rc=1)
    assert result.failed and "gnt-node add failed" in result.result["msg"]
    assert len(seen) == 1 and "node4.example.net ssh-ed25519" in seen[0]
    assert known_hosts.read_text() == "labcluster ssh-rsa AAAAclusterkey\n"


def test_host_keys_that_are_not_keys_are_refused_before_anything_runs(tmp_path):
    result = run_module(ganeti_node.main, {"nodes": ["node4"], "host_keys": {"node4": ["-----BEGIN"]}}, [])
    assert result.failed and result.result["msg"] == "host_keys of node4: not an SSH public key: '-----BEGIN'"


def test_lines_an_interrupted_add_left_are_taken_out_and_redistributed(tmp_path):
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("labcluster ssh-rsa AAAAclusterkey\nnode9 ssh-ed25519 AAAAleft ganeti-gluster-node-add\n")
    redist = Expected(["/usr/sbin/gnt-cluster", "redist-conf"], 0, "")
    result = run_module(
        ganeti_node.main,
        {"nodes": ["node1"], "known_hosts": str(known_hosts)},
        [Expected(NODE_LIST, 0, out("node-list.txt")), redist],
    )
    assert not result.failed, result.result
    assert known_hosts.read_text() == "labcluster ssh-rsa AAAAclusterkey\n"
    assert result.result["changed"] and result.result["added"] == []


INSTANCE_LIST = [
    "/usr/sbin/gnt-instance",
    "list",
    "--no-headers",
    "--separator=|",
    "--output=name,pnode,snodes,disk_template,oper_state,admin_state",
]
NODES_WITH_DEAD_NODE3 = out("node-list.txt") + "node3|Y|N|N|10.77.0.13|10.77.0.13\n"


def remove_dead_node3(after_failover, then=()):
    """ganeti_node removing the dead node3, whose inst2 fails over to node1 and is then
    listed as `after_failover`."""
    offline = ["/usr/sbin/gnt-node", "modify", "--offline=yes", "--auto-promote", "node3"]
    failover = ["/usr/sbin/gnt-instance", "failover", "--force", "--target-node=node1", "inst2"]
    # The marker for the node-remove hook is written under /var/lib; not here.
    with mock.patch.object(ganeti_node, "removal_marker", lambda name: mock.MagicMock()):
        return run_module(
            ganeti_node.main,
            {"nodes": ["node3"], "state": "absent", "dead": True, "evacuate": True},
            [
                Expected(NODE_LIST, 0, NODES_WITH_DEAD_NODE3),
                # Ganeti cannot tell whether it runs on a node that does not answer.
                Expected(INSTANCE_LIST, 0, "inst2|node3||gluster|*|up\n"),
                Expected(offline, 0, ""),
                Expected(failover, 0, ""),
                Expected(INSTANCE_LIST, 0, after_failover),
                *then,
            ],
        )


def test_a_dead_node_is_marked_offline_then_its_instances_fail_over_then_it_goes():
    remove = Expected(["/usr/sbin/gnt-node", "remove", "node3"], 0, "")
    result = remove_dead_node3("inst2|node1||gluster|Y|up\n", then=[remove])
    assert not result.failed, result.result
    assert (result.result["offlined"], result.result["removed"]) == (["node3"], ["node3"])


def test_an_instance_not_running_after_the_failover_off_a_dead_node_stops_the_removal():
    result = remove_dead_node3("inst2|node1||gluster|N|up\n")
    assert result.failed
    assert result.result["msg"].startswith("after the failover, instances are not where and how they should be: inst2")


def test_cluster_info_module_on_the_master_reads_file_storage_paths_and_the_key(tmp_path):
    # What the role used to read with a slurp task each: the paths every node gets, and the key gnt-node add uses.
    paths = tmp_path / "file-storage-paths"
    paths.write_text("/srv/ganeti/file-storage\n")
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "id_rsa.pub").write_text(RSA)
    root = mock.Mock(pw_dir=str(tmp_path))
    with (
        mock.patch.object(ganeti_cluster_info, "FILE_STORAGE_PATHS", str(paths)),
        mock.patch.object(ganeti_cluster_info.pwd, "getpwnam", lambda name: root),
    ):
        found = run_module(
            ganeti_cluster_info.main,
            {},
            [Expected(INFO, 0, out("cluster-info-gluster.txt")), Expected(NODE_LIST, 0, out("node-list.txt"))],
        )
        paths.unlink()
        (tmp_path / ".ssh" / "id_rsa.pub").unlink()
        missing = run_module(
            ganeti_cluster_info.main,
            {},
            [Expected(INFO, 0, out("cluster-info-gluster.txt")), Expected(NODE_LIST, 0, out("node-list.txt"))],
        )
    assert found.result["file_storage_paths"] == "/srv/ganeti/file-storage\n"
    assert found.result["ssh_public_key"] == RSA
    assert [n["name"] for n in found.result["nodes"]] == ["node1", "node2"]
    assert (missing.result["file_storage_paths"], missing.result["ssh_public_key"]) == (None, None)
