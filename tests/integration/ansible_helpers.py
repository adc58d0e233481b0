"""Run one of the collection's modules on a lab host through ansible-runner, and read
cluster state back with the collection's own parsers over SSH."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import ansible_runner

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    interpret,
    parse_pool_list,
    parse_volume_info,
)

from .lab_helpers import REPO, ssh

FINAL_EVENTS = {"runner_on_ok", "runner_on_failed", "runner_on_unreachable"}


def run_module(host: str, module: str, args: dict, check: bool = False, diff: bool = False) -> dict:
    """The result dict of `module` (the collection's, or one named in full) for `host`,
    with `failed` and `changed` always set."""
    flags = (["--check"] if check else []) + (["--diff"] if diff else [])
    with tempfile.TemporaryDirectory() as private_dir:
        runner = ansible_runner.run(
            private_data_dir=private_dir,
            inventory=str(REPO / "inventory" / "lab"),
            host_pattern=host,
            module=module if "." in module else f"ganeti_gluster.cluster.{module}",
            module_args=json.dumps(args),
            cmdline=" ".join(flags) or None,
            envvars={"ANSIBLE_CONFIG": str(REPO / "ansible.cfg")},
            quiet=True,
        )
        for event in runner.events:
            if event.get("event") in FINAL_EVENTS and event["event_data"].get("host") == host:
                result = dict(event["event_data"]["res"])
                result.setdefault("failed", event["event"] != "runner_on_ok")
                result.setdefault("changed", False)
                return result
    raise AssertionError(f"no result for {host} from {module} (runner status {runner.status}, rc {runner.rc})")


def gluster_xml(host: str, *args: str):
    argv = ["gluster", "--mode=script", "--xml", *args]
    proc = ssh(host, " ".join(argv))
    return interpret(argv, proc.returncode, proc.stdout, proc.stderr)


def volume_info(host: str, name: str):
    return next((v for v in parse_volume_info(gluster_xml(host, "volume", "info")) if v.name == name), None)


def pool(host: str):
    return parse_pool_list(gluster_xml(host, "pool", "list"))


def run_playbook(
    playbook: str, inventories: list[str], extravars: dict | None = None, check: bool = False, limit: str | None = None
):
    """Run a playbook through ansible-runner: (rc, {host: message of its failed task})."""
    args = [f"--inventory={inv}" for inv in inventories] + (["--check"] if check else [])
    with tempfile.TemporaryDirectory() as private_dir:
        runner = ansible_runner.run(
            private_data_dir=private_dir,
            playbook=str(REPO / "playbooks" / playbook),
            cmdline=" ".join(args),
            extravars=extravars or {},
            limit=limit,
            envvars={"ANSIBLE_CONFIG": str(REPO / "ansible.cfg")},
            quiet=True,
        )
        failures = {}
        for event in runner.events:
            if event.get("event") in ("runner_on_failed", "runner_on_unreachable"):
                data = event["event_data"]
                if not data.get("ignore_errors"):
                    failures.setdefault(data["host"], data["res"].get("msg", ""))
        return runner.rc, failures


def galaxy_collection(work: Path, *args):
    """`ansible-galaxy collection ARGS` from `work`, away from the repo (whose ansible.cfg
    would find the repo itself) and from the ANSIBLE_ settings of the test's own run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    galaxy = str(Path(sys.executable).with_name("ansible-galaxy"))
    out = subprocess.run([galaxy, "collection", *args], cwd=work, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def install_built_collection(work: Path) -> Path:
    """Build the collection's tarball into `work`/build and install it as a user does,
    under `work`: the collections path."""
    galaxy_collection(work, "build", "--output-path", str(work / "build"), str(REPO))
    (archive,) = (work / "build").glob("*.tar.gz")
    galaxy_collection(work, "install", "-p", str(work / "installed"), str(archive))
    return work / "installed"


def run_playbook_from(cwd, playbook, inventories, envvars=None, limit=None, extravars=None, cancel=None):
    """ansible-playbook `playbook` (a path, or a name the collections path has) from `cwd`:
    (rc, stats with "changed_tasks"), or (rc, the failed and unreachable results).
    `cancel`, called while it runs: True kills ansible-playbook, as a controller lost."""
    with tempfile.TemporaryDirectory() as private_dir:
        runner = ansible_runner.run(
            private_data_dir=private_dir,
            project_dir=str(cwd),
            playbook=str(playbook),
            cmdline=" ".join(f"--inventory={inventory}" for inventory in inventories),
            limit=limit,
            extravars=extravars or {},
            envvars={"ANSIBLE_HOST_KEY_CHECKING": "true", **(envvars or {})},
            quiet=True,
            cancel_callback=cancel,
        )
        failed = [
            f"{e['event_data'].get('host')}: {e['event_data'].get('task')}: {e['event_data']['res'].get('msg')}"
            for e in runner.events
            if e.get("event") in ("runner_on_failed", "runner_on_unreachable")
            and not e["event_data"].get("ignore_errors")
        ]
        changed = [
            f"{e['event_data'].get('host')}: {e['event_data'].get('task')}"
            for e in runner.events
            if e.get("event") == "runner_on_ok" and e["event_data"]["res"].get("changed")
        ]
        if runner.stats is None:  # ansible-playbook stopped before any play (a bad inventory, a missing playbook)
            return runner.rc, [runner.stdout.read()[-2000:]]
        return runner.rc, failed or {**runner.stats, "changed_tasks": changed}
