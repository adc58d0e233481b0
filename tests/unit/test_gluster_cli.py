"""The gluster CLI layer against output captured from real glusterd (tests/fixtures/gluster)."""

from pathlib import Path

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    C_LOCALE,
    GlusterCli,
    GlusterCliError,
    GlusterOpError,
    interpret,
    parse_pool_list,
    script_argv,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gluster"
ARGV = ["/usr/sbin/gluster", "--mode=script", "--xml", "pool", "list"]


def fixture(name):
    return (FIXTURES / name).read_text()


def test_script_argv_is_non_interactive_xml_and_all_strings():
    assert script_argv("/usr/sbin/gluster", ["volume", "create", "gv0", "replica", 3]) == [
        "/usr/sbin/gluster",
        "--mode=script",
        "--xml",
        "volume",
        "create",
        "gv0",
        "replica",
        "3",
    ]


def test_pool_list_alone_is_just_this_host():
    peers = parse_pool_list(interpret(ARGV, 0, fixture("pool-list-alone.xml"), ""))
    assert len(peers) == 1
    (me,) = peers
    assert me.is_local and me.in_cluster and me.connected
    assert me.state is None
    assert len(me.uuid) == 36


def test_pool_list_with_a_peer_in_cluster():
    peers = {p.hostname: p for p in parse_pool_list(interpret(ARGV, 0, fixture("pool-list-two.xml"), ""))}
    assert set(peers) == {"localhost", "node2"}
    node2 = peers["node2"]
    assert (node2.state, node2.state_str, node2.connected) == (3, "Peer in Cluster", True)
    assert node2.in_cluster and not node2.is_local
    assert node2.hostnames == ("node2",)
    assert node2.uuid != peers["localhost"].uuid


def test_a_disconnected_peer_is_not_in_cluster_even_in_state_3():
    peers = {p.hostname: p for p in parse_pool_list(interpret(ARGV, 0, fixture("pool-list-peer-down.xml"), ""))}
    node2 = peers["node2"]
    assert node2.state == 3
    assert not node2.connected
    assert not node2.in_cluster


def test_op_ret_failure_with_exit_0_raises_typed_error():
    argv = ["/usr/sbin/gluster", "--mode=script", "--xml", "peer", "probe", "no-such-host.invalid"]
    with pytest.raises(GlusterOpError) as caught:
        interpret(argv, 0, fixture("peer-probe-unresolvable.xml"), "")
    err = caught.value
    assert err.op_errno == 107
    assert err.op_errstr == "Probe returned with Transport endpoint is not connected"
    assert err.rc == 0
    assert "peer probe no-such-host.invalid failed" in err.message
    kwargs = err.fail_kwargs()
    assert kwargs["cmd"] == argv and kwargs["op_errno"] == 107


def test_successful_probe_parses():
    root = interpret(ARGV, 0, fixture("peer-probe.xml"), "")
    assert root.findtext("output") == "success"


def test_no_xml_means_the_cli_could_not_talk_to_glusterd():
    with pytest.raises(GlusterCliError) as caught:
        interpret(ARGV, 1, fixture("glusterd-down.txt"), "")
    assert caught.value.rc == 1
    assert "Connection failed" in caught.value.message
    assert "glusterd is running" in caught.value.message


def test_truncated_xml_is_an_error_not_a_success():
    with pytest.raises(GlusterCliError, match="unreadable XML"):
        interpret(ARGV, 0, fixture("pool-list-two.xml")[:120], "")


def test_missing_op_ret_is_a_failure():
    with pytest.raises(GlusterOpError):
        interpret(ARGV, 0, "<cliOutput><peerStatus/></cliOutput>", "")


class RecordingModule:
    """Stands in for AnsibleModule: records each run_command call."""

    def __init__(self, results):
        self.results = list(results)
        self.calls = []

    def get_bin_path(self, name, required=False):
        return f"/usr/sbin/{name}"

    def run_command(self, argv, **kwargs):
        self.calls.append((argv, kwargs))
        return self.results.pop(0)


def test_runner_uses_argv_list_c_locale_and_no_check_rc():
    module = RecordingModule([(0, fixture("pool-list-two.xml"), "")])
    peers = GlusterCli(module).pool_list()
    assert [p.hostname for p in peers] == ["node2", "localhost"]
    ((argv, kwargs),) = module.calls
    assert argv == ARGV
    assert kwargs == {"check_rc": False, "environ_update": C_LOCALE}
