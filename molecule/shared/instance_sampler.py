"""What Ganeti's master says of the instances, sampled every 2 s while a change runs.

    python instance_sampler.py sample OUT PIDFILE NODE...
                                                    until SIGTERM, one JSON line per
                                                    sample appended to OUT; its pid
                                                    in PIDFILE
    python instance_sampler.py summary OUT          the samples in short, as JSON

The master is asked through whichever of NODE answers first (a roll hands the master
over and reboots every node). Each sample holds the seconds since the start, each
instance's primary node and oper_state (null when no node answered), and the
instances a job may have been migrating while they were read (one that ran before or
after, or was submitted in between): the fake hypervisor marks an instance down on its
old node before up on its new one within the job, where a real one keeps it running.
The sampler ends by itself once the lab has been down for 30 s.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

LAB = Path(__file__).resolve().parents[2] / "bin" / "lab"


def on_master(nodes, command):
    """`command`'s output on the first of `nodes` that runs it (None: none did)."""
    for node in nodes:
        try:
            out = subprocess.run(
                [str(LAB), "ssh", node, command], capture_output=True, text=True, timeout=20, check=False
            )
        except subprocess.TimeoutExpired:
            continue
        if out.returncode == 0:
            return out.stdout
    return None


def instances(nodes):
    listed = on_master(nodes, "gnt-instance list --no-headers --separator='|' -o name,pnode,oper_state")
    if listed is None:
        return None
    return {
        name: [pnode, state]
        for name, pnode, state in (line.split("|", 2) for line in listed.splitlines() if line.count("|") == 2)
    }


MIGRATE = "INSTANCE_MIGRATE("
FINISHED = {"success", "error", "canceled"}


def jobs(nodes):
    """Each job the master lists: (id, status, the instances it migrates); None when no
    node answered."""
    listed = on_master(nodes, "gnt-job list --no-headers --separator='|' -o id,status,summary")
    if listed is None:
        return None
    found = []
    for line in listed.splitlines():
        if line.count("|") < 2:
            continue
        job, status, summary = line.split("|", 2)
        ops = summary.split(",")
        found.append((int(job), status, {op[len(MIGRATE) : -1] for op in ops if op.startswith(MIGRATE)}))
    return found


def migrating(before, after):
    """The instances migrated by a job that may have run between the two listings: one
    not finished at either, or one submitted after the first (a migration can start and
    end between two listings taken seconds apart, as the master answers a loaded lab)."""
    last = max((job for job, _status, _names in before), default=0)
    return set().union(
        *(names for _job, status, names in before if status not in FINISHED),
        *(names for job, status, names in after if status not in FINISHED or job > last),
    )


def lab_gone():
    out = subprocess.run([str(LAB), "status"], capture_output=True, text=True, check=False)
    return out.returncode == 1 and "no lab is up" in out.stderr


def sample(out, pid_file, nodes):
    # Started with setsid: Ansible ends a task's worker with its whole process group
    # (WorkerProcess._term, os.killpg), and a sampler in it died with it now and then.
    Path(pid_file).write_text(f"{os.getpid()}\n")
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    started, gone_since = time.monotonic(), None
    with open(out, "a") as samples:
        while not stopping:
            line = {"t": round(time.monotonic() - started)}
            try:
                before, seen, after = jobs(nodes), instances(nodes), jobs(nodes)
                if before is None or after is None:
                    # Which migrations ran is unknown (a master handed over, say): no verdict.
                    line.update(instances=None, migrating=[], error="the jobs were not listed")
                else:
                    line.update(instances=seen, migrating=sorted(migrating(before, after)))
            except Exception as exc:  # a sample lost is kept as its error; the sampling goes on
                line.update(instances=None, migrating=[], error=repr(exc))
            # A scenario that failed and was destroyed. The lab's state reads as gone for a
            # moment while a host reboots (its state file rewritten): gone means gone for 30 s.
            if line["instances"] is None and lab_gone():
                gone_since = gone_since or time.monotonic()
                if time.monotonic() - gone_since >= 30:
                    break
            else:
                gone_since = None
            samples.write(json.dumps(line) + "\n")
            samples.flush()
            time.sleep(2)


def summary(out):
    samples = [json.loads(line) for line in Path(out).read_text().splitlines()]
    answered = [s for s in samples if s["instances"] is not None]
    down = [
        [s["t"], name, pnode, state]
        for s in answered
        for name, (pnode, state) in s["instances"].items()
        if state != "Y" and name not in s["migrating"]
    ]
    names = sorted({name for s in answered for name in s["instances"]})
    errors = sorted({s["error"] for s in samples if "error" in s})
    return {"samples": len(samples), "answered": len(answered), "down": down, "instances": names, "errors": errors}


def main(argv):
    if argv[:1] == ["sample"] and len(argv) >= 4:
        sample(argv[1], argv[2], argv[3:])
    elif argv[:1] == ["summary"] and len(argv) == 2:
        print(json.dumps(summary(argv[1])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
