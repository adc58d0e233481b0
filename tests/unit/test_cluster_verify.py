"""ganeti_cluster_verify on `gnt-cluster verify --error-codes` as Ganeti 3.0 prints it."""

from __future__ import annotations

from unittest import mock

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.ganeti_cli import parse_verify
from ansible_collections.ganeti_gluster.cluster.plugins.modules import ganeti_cluster_verify

from .module_harness import Expected, run_module
from .test_ganeti import INSTANCE_LIST, NODE_LIST, out

VERIFY = ["/usr/sbin/gnt-cluster", "verify", "--error-codes"]
# On a kernel without CONFIG_MAGIC_SYSRQ, every node has the same node-setup error.
NO_SYSRQ = out("cluster-verify-no-sysrq.txt")
FILES_DIFFER = (
    "Fri Dec  4 04:02:13 2026   - ERROR:ECLUSTERFILECHECK:cluster:cluster1:"
    "File /etc/ganeti/file-storage-paths found with 2 different checksums (variant 1 on node1; variant 2 on node2)\n"
)
INSTANCES = "inst1|node2||gluster|Y|up|256|512\ninst2|node1||gluster|Y|up|256|512\n"


@pytest.fixture(autouse=True)
def on_the_master():
    with mock.patch.object(ganeti_cluster_verify, "check_master", lambda: "node1"):
        yield


def verify(args, text, rc=1):
    reads = []
    if "node" in args:
        reads = [Expected(NODE_LIST, 0, out("node-list.txt")), Expected(INSTANCE_LIST, 0, INSTANCES)]
    return run_module(ganeti_cluster_verify.main, args, [*reads, Expected(VERIFY, rc, text)])


def test_each_error_line_is_read_with_its_code_kind_item_and_message():
    findings, failed_jobs = parse_verify(NO_SYSRQ + FILES_DIFFER)
    assert failed_jobs == 0
    assert [(f.level, f.code, f.kind, f.item) for f in findings] == [
        ("ERROR", "ENODESETUP", "node", "node1"),
        ("ERROR", "ENODESETUP", "node", "node2"),
        ("ERROR", "ECLUSTERFILECHECK", "cluster", "cluster1"),
    ]
    assert findings[2].message.startswith("File /etc/ganeti/file-storage-paths found with 2 different checksums (")


def test_a_missing_sysrq_trigger_seen_on_the_node_is_tolerated_for_that_node_only():
    result = verify({"node": "node2", "node_without_sysrq_trigger": True}, NO_SYSRQ)
    assert not result.failed, result.result["msg"]
    assert [e["item"] for e in result.result["tolerated"]] == ["node2"]
    assert result.result["errors"] == []
    assert len(result.result["findings"]) == 2


def test_a_sysfs_problem_beside_it_is_not_tolerated():
    both = NO_SYSRQ.replace(
        "node2:node setup error: ",
        "node2:node setup error: The sysfs filesytem doesn't seem to be mounted under /sys, missing required "
        "directories /sys/block and /sys/class/net; ",
    )
    result = verify({"node": "node2", "node_without_sysrq_trigger": True}, both)
    assert result.failed
    assert result.result["tolerated"] == []


def test_warnings_alone_do_not_explain_a_failed_verify():
    result = verify({}, "  - WARNING:ENODEN1:node:node2:not enough memory\n", rc=1)
    assert result.failed
    assert result.result["msg"].startswith("gnt-cluster verify failed (exit 1)")


def test_without_that_sight_the_same_error_stops_the_node():
    result = verify({"node": "node2"}, NO_SYSRQ)
    assert result.failed
    assert [e["item"] for e in result.result["errors"]] == ["node2"]
    assert "ENODESETUP node node2" in result.result["msg"]


@pytest.mark.parametrize(
    ("line", "stops"),
    [
        (FILES_DIFFER, True),
        ("  - ERROR:EINSTANCEDOWN:instance:inst1:instance not running on its primary node node2\n", True),
        ("  - ERROR:EINSTANCEDOWN:instance:inst2:instance not running on its primary node node1\n", False),
        ("  - ERROR:ENODEHV:node:node1:hypervisor fake verify failure\n", False),
        ("  - WARNING:ENODEN1:node:node2:not enough memory to accomodate instance failovers\n", False),
        # Ganeti names no node in an SSH setup error, and a node's network from the others.
        ("  - ERROR:ENODESSH:node:None:Node node2 is missing from ssh_known_hosts\n", True),
        (
            "  - ERROR:ENODENET:node:node1:tcp communication with node 'node2': failure using the primary "
            "interface(s)\n",
            True,
        ),
        (
            "  - ERROR:ENODENET:node:node1:tcp communication with node 'node3': failure using the primary "
            "interface(s)\n",
            False,
        ),
    ],
)
def test_errors_of_the_cluster_the_node_and_its_primaries_stop_it_others_do_not(line, stops):
    result = verify({"node": "node2", "node_without_sysrq_trigger": True}, NO_SYSRQ + line)
    assert result.failed is stops
    assert len(result.result["findings"]) == 3


def test_a_failed_verify_job_stops_it_since_what_was_not_checked_is_unknown():
    result = verify({"node": "node2"}, "Submitted jobs 41, 42\n1 job(s) failed while verifying the cluster.\n")
    assert result.failed
    assert "did not check everything" in result.result["msg"]


def test_a_clean_cluster_passes_and_a_failure_without_findings_is_ganetis_error():
    assert not verify({}, "Submitted jobs 41, 42\nWaiting for job 41 ...\n", rc=0).failed
    broken = verify({}, "", rc=1)
    assert broken.failed
    assert broken.result["msg"].startswith("gnt-cluster verify failed (exit 1)")


def test_an_unknown_node_is_refused_before_verify_runs():
    result = run_module(ganeti_cluster_verify.main, {"node": "node9"}, [Expected(NODE_LIST, 0, out("node-list.txt"))])
    assert result.failed
    assert "node9 is not a Ganeti node" in result.result["msg"]
