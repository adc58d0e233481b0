"""On a lab test's failure, what the pool looked like: CI keeps no lab to look at later."""

from __future__ import annotations

import json
import subprocess

import pytest

from .lab_helpers import lab, ssh

# Per host, short: enough to tell a crashed daemon or a lost peer from a product bug.
# glusterd logs a status poll's "failed to get index from rsp dict" once per peer
# without bricks: left out, or it is all the tail shows.
SNAPSHOT = (
    "gluster volume status all 2>&1 | grep -v '^-*$' | head -40; "
    'for f in glusterfs/glustershd glusterfs/glusterd ganeti/ganeti-gluster-join; do echo "== $f.log"; '
    "grep -v 'rsp dict' /var/log/$f.log 2>/dev/null | tail -n 8; done; "
    'for f in /var/log/glusterfs/*-rebalance.log; do [ -e "$f" ] && echo "== $f" && tail -n 5 "$f"; done'
)
# Once, from the first host: every node's row, which a hung rebalance wait needs.
POOL_SNAPSHOT = (
    'for v in $(gluster volume list 2>/dev/null); do echo "== rebalance $v"; '
    "gluster volume rebalance $v status 2>&1 | head -40; done"
)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed and item.get_closest_marker("lab"):
        status = lab("status", "--json")
        if status.returncode == 0:
            hosts = json.loads(status.stdout)["hosts"]
            for host in hosts:
                report.sections.append((f"lab {host['name']}", snapshot(host["name"], SNAPSHOT, 30)))
            if hosts:
                report.sections.append(("lab rebalance", snapshot(hosts[0]["name"], POOL_SNAPSHOT, 60)))
    return report


def snapshot(host, command, timeout):
    """What `command` prints on `host`; a host that does not answer must not break the report."""
    try:
        out = ssh(host, command, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"no answer in {timeout} s"
    return out.stdout + out.stderr
