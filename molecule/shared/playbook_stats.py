"""Run a playbook through ansible-runner and print its stats as JSON, for
verify steps that assert on them (such as "a second run changes nothing").

    python playbook_stats.py PLAYBOOK INVENTORY... [-e KEY=VALUE]... [--cancel-when PATH]

--cancel-when kills ansible-playbook once PATH exists on the controller, as a
controller lost in the middle of a run.
"""

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import ansible_runner


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("playbook")
    parser.add_argument("inventory", nargs="+")
    parser.add_argument("-e", "--extra-var", action="append", default=[])
    parser.add_argument("--cancel-when", type=Path)
    args = parser.parse_args()
    # Kept when the run fails, so that the assertion can point at its events.
    private_dir = tempfile.mkdtemp(prefix="playbook-stats-")
    runner = ansible_runner.run(
        private_data_dir=private_dir,
        playbook=args.playbook,
        inventory=args.inventory,
        extravars=dict(v.split("=", 1) for v in args.extra_var),
        quiet=True,
        cancel_callback=(lambda: args.cancel_when.exists()) if args.cancel_when else None,
    )
    # What each failed task said, for the assertions on refusals.
    failures = {
        event["event_data"].get("host"): event["event_data"].get("res", {}).get("msg", "")
        for event in runner.events
        if event.get("event") == "runner_on_failed" and not event["event_data"].get("ignore_errors")
    }
    result = {
        "status": runner.status,
        "rc": runner.rc,
        "stats": runner.stats,
        "failures": failures,
        "artifacts": private_dir,
    }
    if runner.status == "successful":
        shutil.rmtree(private_dir)
        result["artifacts"] = None
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
