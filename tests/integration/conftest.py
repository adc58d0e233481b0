"""On a lab test's failure, what the pool looked like: CI keeps no lab to look at later."""

from __future__ import annotations

import json

import pytest

from .lab_helpers import lab, ssh

# Per host, short: enough to tell a crashed daemon or a lost peer from a product bug.
SNAPSHOT = (
    "gluster volume status all 2>&1 | grep -v '^-*$' | head -40; "
    'for f in glusterfs/glustershd glusterfs/glusterd ganeti/ganeti-gluster-join; do echo "== $f.log"; '
    "tail -n 8 /var/log/$f.log 2>/dev/null; done"
)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed and item.get_closest_marker("lab"):
        status = lab("status", "--json")
        if status.returncode == 0:
            for host in json.loads(status.stdout)["hosts"]:
                out = ssh(host["name"], SNAPSHOT, timeout=30)
                report.sections.append((f"lab {host['name']}", out.stdout + out.stderr))
    return report
