"""Run a module's main() in-process with scripted command results.

run_command is replaced by a script of (expected argv, rc, stdout, stderr);
the harness fails the test on any command the script did not expect, so each
test states exactly which commands a module runs, in order.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import pytest
from ansible.module_utils import basic

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core before 2.19 (the oldest we serve): its modules read _ANSIBLE_ARGS

    def patch_module_args(args):
        module_args = {"_ansible_remote_tmp": "/tmp", "_ansible_keep_remote_files": False, **args}
        return mock.patch.object(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": module_args}).encode())


from ansible_collections.ganeti_gluster.cluster.plugins.module_utils import hosts, pool_lock
from ansible_collections.ganeti_gluster.cluster.plugins.modules import gluster_peer, gluster_volume

GLUSTER_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gluster"
G = ["/usr/sbin/gluster", "--mode=script", "--xml"]


def out(name):
    """A recorded `gluster --xml` output."""
    return (GLUSTER_FIXTURES / name).read_text()


def read(args, fixture):
    """A read-only gluster command answered by a recorded output."""
    return Expected([*G, *args], 0, out(fixture))


class FakeClock:
    """A module's `time`: monotonic() from 0, each sleep() moves it on by `step`."""

    def __init__(self, step):
        self.now = 0.0
        self.step = step

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += self.step


@pytest.fixture
def on_node1():
    """Run the gluster modules as if on node1, with no name resolution (names compare as names)."""
    with (
        mock.patch.object(hosts, "addresses", lambda name: set()),
        mock.patch.object(gluster_volume, "is_this_host", lambda name: name == "node1"),
        mock.patch.object(gluster_peer, "is_this_host", lambda name: name == "node1"),
    ):
        yield


class ModuleExit(Exception):
    def __init__(self, result: dict, failed: bool):
        super().__init__(result)
        self.result = result
        self.failed = failed


@dataclass
class Expected:
    argv: list[str]
    rc: int = 0
    stdout: str = ""
    stderr: str = ""
    # Called when the command runs: asserts on what the module prepared for it.
    during: Callable[[], None] | None = None


HOLD = """
import sys, time
sys.path[:0] = {paths!r}
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.pool_lock import pool_lock
with pool_lock("run A: add-node.yml from ctl1", 5, {path!r}):
    print("held", flush=True)
    time.sleep(60)
"""


def holder(path):
    """A separate process that takes a lock of pool_lock's kind at `path` and keeps it
    until killed."""
    code = HOLD.format(paths=sys.path, path=str(path))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


@dataclass
class CommandScript:
    expected: list[Expected]
    ran: list[list[str]] = field(default_factory=list)

    def run_command(self, args, **kwargs):
        self.ran.append(list(args))
        if not self.expected:
            pytest.fail(f"unexpected command: {args}")
        want = self.expected.pop(0)
        assert list(args) == want.argv, f"ran {args}, expected {want.argv}"
        assert kwargs.get("check_rc") is False
        assert kwargs.get("environ_update", {}).get("LC_ALL") == "C"
        if want.during is not None:
            want.during()
        return want.rc, want.stdout, want.stderr


# What every change reads first, under the lock: the volumes' roll marks (pool_lock.check_pool).
NO_ROLL = read(["volume", "info"], "volume-info-all.xml")


def run_module(main, args: dict, commands: list[Expected], bins: dict[str, str] | None = None) -> ModuleExit:
    """Call main() with args; return how it exited. Every scripted command must run."""
    script = CommandScript(list(commands))
    bins = bins or {}

    def get_bin_path(module, name, required=False, opt_dirs=None):
        return bins.get(name, f"/usr/sbin/{name}")

    def exit_json(module, **result):
        raise ModuleExit(result, failed=False)

    def fail_json(module, msg, **result):
        raise ModuleExit({"msg": msg, **result}, failed=True)

    with (
        patch_module_args(args),
        # The pool's lock has its own tests (test_pool_lock.py); module runs here take none on this
        # machine. (The Ganeti modules' lock, which imports pool_lock by name, is taken for real, under
        # each test's tmp_path: conftest.py.)
        mock.patch.object(pool_lock, "pool_lock", lambda *a, **k: contextlib.nullcontext()),
        mock.patch.object(basic.AnsibleModule, "run_command", script.run_command),
        mock.patch.object(basic.AnsibleModule, "get_bin_path", get_bin_path),
        mock.patch.object(basic.AnsibleModule, "exit_json", exit_json),
        mock.patch.object(basic.AnsibleModule, "fail_json", fail_json),
        pytest.raises(ModuleExit) as caught,
    ):
        main()
    assert not script.expected, f"commands not run: {[e.argv for e in script.expected]}"
    return caught.value
