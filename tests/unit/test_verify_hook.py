"""The cluster-verify hook (roles/ganeti_gluster_disk/files/ganeti_gluster_verify.py), run in-process."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils import hook_support

REPO = Path(__file__).resolve().parents[2]
HOOK = REPO / "roles" / "ganeti_gluster_disk" / "files" / "ganeti_gluster_verify.py"
FIXTURES = REPO / "tests" / "fixtures" / "gluster"
GLUSTER_MOUNT = "52 30 0:45 / /run/ganeti/gluster rw,relatime shared:1 - fuse.glusterfs 127.0.0.1:/gv0 rw\n"
OTHER_MOUNT = "52 30 0:45 / /run/ganeti/gluster rw,relatime shared:1 - tmpfs tmpfs rw\n"


def fake_run_bounded(module, stat=(0, "", "")):
    """stat -f of the storage dir answers `stat`; other commands run for real."""
    real = hook_support.run_bounded

    def run_bounded(argv, timeout, env=None):
        if argv[0] == "stat":
            return stat
        return real(argv, timeout, env)

    return run_bounded


@pytest.fixture
def hook(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("ganeti_gluster_verify", HOOK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    settings = {
        "volume": "gv0",
        "storage_dir": "/run/ganeti/gluster",
        "access": "userspace",
        "lib_dir": str(REPO / "collections"),
    }
    config = tmp_path / "verify.json"
    config.write_text(json.dumps(settings))
    monkeypatch.setattr(module, "CONFIG_FILE", str(config))
    monkeypatch.setattr(module.glob, "glob", lambda pattern: ["/usr/lib/x86_64-linux-gnu/qemu/block-gluster.so"])
    monkeypatch.setattr(
        module.os, "access", lambda path, mode: path == "/sbin/mount.glusterfs" or path.endswith("/gluster")
    )
    monkeypatch.setattr(module.os.path, "realpath", lambda path: path)
    monkeypatch.setattr(hook_support, "run_bounded", fake_run_bounded(module))
    module.mountinfo = ""
    module.storage_paths = "# the site's own\n/srv/ganeti/file-storage\n/run/ganeti/gluster\n"
    real_open = open

    def fake_open(path, *args, **kwargs):
        if path == "/proc/self/mountinfo":
            return __import__("io").StringIO(module.mountinfo)
        if path == module.STORAGE_PATHS_FILE:
            if module.storage_paths is None:
                raise FileNotFoundError(path)
            # Bytes: read from a real file, as the hook opens it.
            if isinstance(module.storage_paths, bytes):
                (tmp_path / "file-storage-paths").write_bytes(module.storage_paths)
                return real_open(tmp_path / "file-storage-paths", *args, **kwargs)
            return __import__("io").StringIO(module.storage_paths)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(module, "open", fake_open, raising=False)
    return module


def answers(monkeypatch, hook, fixtures):
    """gluster commands answered by recorded outputs, keyed by their arguments after --xml."""

    def run_bounded(argv, timeout, env=None):
        if argv[0] == "stat":
            return 0, "", ""
        return 0, (FIXTURES / fixtures[" ".join(argv[3:])]).read_text(), ""

    monkeypatch.setattr(hook_support, "run_bounded", run_bounded)


def test_a_node_with_everything_in_place_finds_nothing(hook, capsys):
    hook.mountinfo = GLUSTER_MOUNT
    assert hook.main({"GANETI_MASTER": "not-this-host.invalid"}) == 0
    assert capsys.readouterr().out == ""


def test_a_missing_client_and_driver_and_a_foreign_mount_are_errors(hook, monkeypatch, capsys):
    hook.mountinfo = OTHER_MOUNT
    monkeypatch.setattr(hook.os, "access", lambda path, mode: False)
    monkeypatch.setattr(hook.glob, "glob", lambda pattern: [])
    assert hook.main({}) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "ERROR: gluster: the GlusterFS client (mount.glusterfs) is not installed: install glusterfs-client",
        "ERROR: gluster: QEMU's gluster driver is not installed: install qemu-block-extra",
        "ERROR: gluster: /run/ganeti/gluster is tmpfs (tmpfs), not volume gv0: unmount it",
    ]


@pytest.mark.parametrize(
    ("listed", "accepted"),
    [
        (None, False),
        ("", False),
        ("# /run/ganeti/gluster\n", False),
        ("/run/ganeti/glusterfs\nrun/ganeti/gluster\n", False),
        ("/run/ganeti/\n", True),
        ("  /run/ganeti/gluster/  \n", True),
    ],
)
def test_a_storage_dir_ganeti_does_not_accept_is_an_error(hook, capsys, listed, accepted):
    hook.storage_paths = listed
    hook.storage_paths = listed
    assert hook.main({}) == (0 if accepted else 1)
    out = capsys.readouterr().out
    assert (
        (out == "")
        if accepted
        else out.startswith(
            "ERROR: gluster: /etc/ganeti/file-storage-paths does not list /run/ganeti/gluster or a directory above it"
        )
    )


def test_a_file_storage_paths_that_is_not_utf8_is_read_not_a_crash(hook, capsys):
    hook.storage_paths = b"/srv/\xff\n/run/ganeti/gluster\n"
    assert hook.main({}) == 0
    assert capsys.readouterr().out == ""


def test_a_storage_dir_under_a_prefix_ganeti_forbids_is_an_error_even_when_listed(hook, capsys):
    assert hook.storage_dir_refusal("/etc/ganeti/gluster", ["/etc/ganeti/gluster"]) == (
        "/etc/ganeti/gluster is under /etc, where Ganeti accepts no disk"
    )
    assert hook.storage_dir_refusal("/usr/lib/gluster", ["/usr"]).startswith("/usr/lib/gluster is under /usr/lib,")
    assert hook.storage_dir_refusal("/srv/library/gluster", ["/srv"]) is None


def test_a_mount_that_does_not_answer_is_an_error(hook, monkeypatch, capsys):
    hook.mountinfo = GLUSTER_MOUNT

    stale = (
        1,
        "",
        "stat: cannot read file system information for '/run/ganeti/gluster': Transport endpoint is not connected\n",
    )
    monkeypatch.setattr(hook_support, "run_bounded", fake_run_bounded(hook, stale))
    assert hook.main({}) == 1
    assert "does not answer: stat: cannot read file system information" in capsys.readouterr().out


def test_a_mount_that_hangs_is_an_error_within_its_time(hook, monkeypatch, capsys):
    hook.mountinfo = GLUSTER_MOUNT
    monkeypatch.setattr(hook_support, "run_bounded", fake_run_bounded(hook, (None, "", "")))
    assert hook.main({}) == 1
    assert capsys.readouterr().out == "ERROR: gluster: /run/ganeti/gluster (volume gv0) does not answer within 10 s\n"


def test_run_bounded_kills_what_outlives_its_time(hook):
    started = hook.time.monotonic()
    assert hook_support.run_bounded(["sh", "-c", "sleep 30 & sleep 30"], 0.5) == (None, "", "")
    assert hook.time.monotonic() - started < 5


JOIN_HOOK = "/etc/ganeti/hooks/node-add-post.d/50-ganeti-gluster-join"
JOIN_SETTINGS = "/etc/ganeti/ganeti-gluster-join.json"


def with_join_hook(hook, monkeypatch, tmp_path, candidates, present):
    """Settings that ask for the node-add hook; ssconf names `candidates` (None: no ssconf);
    `present`: the hook's files that exist."""
    config = Path(hook.CONFIG_FILE)
    config.write_text(json.dumps({**json.loads(config.read_text()), "join_hook_files": [JOIN_HOOK, JOIN_SETTINGS]}))
    ssconf = tmp_path / "ssconf_master_candidates"
    if candidates is not None:
        ssconf.write_text("".join(f"{name}\n" for name in candidates))
    monkeypatch.setattr(hook_support, "SSCONF_MASTER_CANDIDATES", str(ssconf))
    monkeypatch.setattr(hook_support.socket, "getfqdn", lambda: "node2.example.net")
    monkeypatch.setattr(hook_support.socket, "gethostname", lambda: "node2")
    access = hook.os.access
    monkeypatch.setattr(hook.os, "access", lambda path, mode: path in present or access(path, mode))
    hook.mountinfo = GLUSTER_MOUNT


def test_a_master_candidate_without_the_node_add_hook_is_a_warning(hook, monkeypatch, tmp_path, capsys):
    with_join_hook(hook, monkeypatch, tmp_path, ["node1.example.net", "NODE2.example.net"], [JOIN_SETTINGS])
    assert hook.main({"GANETI_MASTER": "node1.example.net"}) == 1
    assert capsys.readouterr().out == (
        f"WARNING: gluster: this node is a master candidate without the node-add hook ({JOIN_HOOK} missing): "
        "once it is the master, gnt-node add adds a node to Ganeti only, not to the Gluster pool. Run site.yml, "
        "which installs the hook on every node that can become master\n"
    )


@pytest.mark.parametrize(
    ("candidates", "present"),
    [
        (["node1.example.net", "node2.example.net"], [JOIN_HOOK, JOIN_SETTINGS]),  # a candidate with the hook
        (["node1.example.net"], []),  # not a candidate
        (None, []),  # no ssconf: not a Ganeti node (yet)
    ],
)
def test_the_node_add_hook_is_asked_of_master_candidates_only(hook, monkeypatch, tmp_path, capsys, candidates, present):
    with_join_hook(hook, monkeypatch, tmp_path, candidates, present)
    assert hook.main({"GANETI_MASTER": "node1.example.net"}) == 0
    assert capsys.readouterr().out == ""


def test_only_the_master_reads_the_pool(hook, monkeypatch, capsys):
    monkeypatch.setattr(hook_support.socket, "getfqdn", lambda: "node1.example.net")
    assert hook_support.is_master({"GANETI_MASTER": "NODE1.example.net"})
    assert not hook_support.is_master({"GANETI_MASTER": "node2.example.net"})
    assert not hook_support.is_master({})


def test_the_master_reports_the_pool_findings(hook, monkeypatch, capsys):
    hook.mountinfo = GLUSTER_MOUNT.replace("/gv0", "/hv")
    settings = json.loads(Path(hook.CONFIG_FILE).read_text())
    Path(hook.CONFIG_FILE).write_text(json.dumps({**settings, "volume": "hv"}))
    monkeypatch.setattr(hook_support.socket, "getfqdn", lambda: "node1")
    answers(
        monkeypatch,
        hook,
        {
            "pool list": "health-pool-list.xml",
            "volume info": "health-volume-info.xml",
            "volume get hv all": "health-volume-get.xml",
            "volume status hv detail": "health-status-detail-split-brain.xml",
            "volume status hv": "health-status-split-brain.xml",
            "volume heal hv info summary": "health-heal-summary-split-brain.xml",
        },
    )
    assert hook.main({"GANETI_MASTER": "node1"}) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(": ")[2] for line in lines] == ["node1:/bricks/hv", "node2:/bricks/hv", "node3:/bricks/hv"]
    assert all(line.startswith("ERROR: gluster: ") and "1 entries in split-brain" in line for line in lines)


def test_a_glusterd_that_does_not_answer_in_time_is_one_error(hook, monkeypatch, capsys):
    hook.mountinfo = GLUSTER_MOUNT
    monkeypatch.setattr(hook_support.socket, "getfqdn", lambda: "node1")

    # stat -f answers; every gluster command runs out of time.
    monkeypatch.setattr(
        hook_support,
        "run_bounded",
        lambda argv, timeout, env=None: (0, "", "") if argv[0] == "stat" else (None, "", ""),
    )
    assert hook.main({"GANETI_MASTER": "node1"}) == 1
    assert capsys.readouterr().out == (
        "ERROR: gluster: cannot read the Gluster pool here: pool list did not answer within 20 s\n"
    )


def test_the_role_lays_every_library_the_hook_imports():
    """The role copies a list of module_utils for the hook (not the whole collection): each
    module_utils file the hook imports, and each one those import, must be in it."""
    libs = yaml.safe_load((REPO / "roles" / "ganeti_gluster_disk" / "vars" / "main.yml").read_text())[
        "__ganeti_gluster_disk_verify_hook_libs"
    ]
    pattern = re.compile(r"plugins\.module_utils(?:\.(\w+)| import (\w+))")

    def imported(path):
        return {f"{a or b}.py" for a, b in pattern.findall(path.read_text())}

    needed, todo = set(), set(imported(HOOK))
    while todo:
        name = todo.pop()
        needed.add(name)
        todo |= imported(REPO / "plugins" / "module_utils" / name) - needed
    assert needed <= set(libs), f"missing from __ganeti_gluster_disk_verify_hook_libs: {sorted(needed - set(libs))}"


def test_a_master_candidate_whose_node_add_hook_names_a_missing_python_is_a_warning(
    hook, monkeypatch, tmp_path, capsys
):
    script = tmp_path / "50-ganeti-gluster-join"
    script.write_text("#!/var/lib/ganeti-gluster/venv/bin/python3\nimport sys\n")
    with_join_hook(hook, monkeypatch, tmp_path, ["node1.example.net", "node2.example.net"], [str(script)])
    config = Path(hook.CONFIG_FILE)
    config.write_text(json.dumps({**json.loads(config.read_text()), "join_hook_files": [str(script)]}))
    assert hook.main({"GANETI_MASTER": "node1.example.net"}) == 1
    assert capsys.readouterr().out.startswith(
        "WARNING: gluster: the node-add hook's Python /var/lib/ganeti-gluster/venv/bin/python3 is missing here"
    )
