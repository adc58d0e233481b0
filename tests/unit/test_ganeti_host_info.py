"""ganeti_host_info: one read per host of what it brings to a Ganeti join."""

from unittest import mock

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils import hosts
from ansible_collections.ganeti_gluster.cluster.plugins.modules import ganeti_host_info

from .module_harness import Expected, run_module

DPKG = ["/usr/sbin/dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status}\n"]
IP = Expected(["/usr/sbin/ip", "-json", "address", "show"], 0, "[]")


@pytest.fixture
def host_dirs(tmp_path):
    ssh = tmp_path / "ssh"
    ssh.mkdir()
    (ssh / "ssh_host_ed25519_key.pub").write_text("ssh-ed25519 AAAAC3Nza root@node4\n")
    (ssh / "ssh_host_rsa_key.pub").write_text("ssh-rsa AAAAB3Nza root@node4\n")
    with (
        mock.patch.object(ganeti_host_info, "SSH_DIR", str(ssh)),
        mock.patch.object(ganeti_host_info, "GANETI_NODED", str(tmp_path / "ganeti-noded")),
        mock.patch.object(ganeti_host_info, "GLUSTERD_VOLUMES", str(tmp_path / "vols")),
        mock.patch.object(hosts, "addresses", lambda name: set()),
    ):
        yield tmp_path


def test_reports_missing_packages_host_keys_and_no_ganeti(host_dirs):
    # dpkg-query names packages it does not know on stderr only: those are missing too.
    query = Expected(
        [*DPKG, "glusterfs-client", "qemu-block-extra", "python3-yaml"],
        1,
        "glusterfs-client installed\nqemu-block-extra config-files\n",
        "dpkg-query: no packages found matching python3-yaml\n",
    )
    found = run_module(
        ganeti_host_info.main, {"packages": ["glusterfs-client", "qemu-block-extra", "python3-yaml"]}, [IP, query]
    )
    assert not found.failed and found.result["changed"] is False
    assert found.result["missing_packages"] == ["qemu-block-extra", "python3-yaml"]
    assert found.result["host_keys"] == ["ssh-ed25519 AAAAC3Nza root@node4", "ssh-rsa AAAAB3Nza root@node4"]
    assert found.result["ganeti_installed"] is False
    assert found.result["hook"] is None


def test_checks_the_hooks_python_and_playbook(host_dirs):
    python = host_dirs / "python3"
    python.write_text("")
    python.chmod(0o755)
    playbook = str(host_dirs / "add-node.yml")
    check = [str(python), "-c", ganeti_host_info.HOOK_CHECK, playbook]
    ok = run_module(
        ganeti_host_info.main,
        {"hook_python": str(python), "hook_playbook": playbook},
        [IP, Expected(check, 0, "True True\n")],
    )
    no_runner = run_module(
        ganeti_host_info.main,
        {"hook_python": str(python), "hook_playbook": playbook},
        [IP, Expected(check, 0, "False True\n")],
    )
    broken = run_module(
        ganeti_host_info.main,
        {"hook_python": str(python), "hook_playbook": playbook},
        [IP, Expected(check, 1, "", "Traceback: ImportError\n")],
    )
    absent = run_module(ganeti_host_info.main, {"hook_python": str(host_dirs / "nosuch")}, [IP])
    assert ok.result["hook"] == {"ok": True, "message": "ansible-runner importable, playbook found"}
    assert no_runner.result["hook"] == {"ok": False, "message": "no ansible-runner, playbook found"}
    assert broken.result["hook"]["ok"] is False and "ImportError" in broken.result["hook"]["message"]
    assert absent.result["hook"]["ok"] is False and "does not exist" in absent.result["hook"]["message"]


def test_the_check_script_answers_for_this_python(tmp_path):
    # The script itself, run for real: this interpreter, a playbook that is not there.
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", ganeti_host_info.HOOK_CHECK, str(tmp_path / "nosuch.yml")],
        capture_output=True,
        text=True,
        check=True,
    )
    runner, playbook = done.stdout.split()
    assert runner in ("True", "False") and playbook == "False"


def test_rpm_hosts_are_asked_once_for_every_package(host_dirs):
    query = Expected(
        ["/usr/sbin/rpm", "-q", "glusterfs-fuse", "qemu-kvm-block-gluster"],
        1,
        "glusterfs-fuse-10.3-1.el9.x86_64\npackage qemu-kvm-block-gluster is not installed\n",
    )
    found = run_module(
        ganeti_host_info.main,
        {"packages": ["glusterfs-fuse", "qemu-kvm-block-gluster"]},
        [IP, query],
        bins={"dpkg-query": None},
    )
    assert found.result["missing_packages"] == ["qemu-kvm-block-gluster"]


def test_says_whether_its_glusterd_knows_the_volume(host_dirs):
    unknown = run_module(ganeti_host_info.main, {"gluster_volume": "gv0"}, [IP])
    assert unknown.result["gluster_volume_known"] is False
    (host_dirs / "vols" / "gv0").mkdir(parents=True)
    (host_dirs / "vols" / "gv0" / "info").write_text("type=2\n")
    known = run_module(ganeti_host_info.main, {"gluster_volume": "gv0"}, [IP])
    assert known.result["gluster_volume_known"] is True
    assert run_module(ganeti_host_info.main, {}, [IP]).result["gluster_volume_known"] is None
    refused = run_module(ganeti_host_info.main, {"gluster_volume": "../gv0"}, [])
    assert refused.failed and "volume name" in refused.result["msg"]
