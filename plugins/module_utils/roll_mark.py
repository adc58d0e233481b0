# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roll mark: a rolling maintenance under way, kept in the pool. Pure, no I/O.

rolling.yml takes one node's Gluster down at a time for as long as the operator's
tasks take (a reboot), which no lock held by a module can span. So the roll marks
every volume of the pool, under the pool's lock, before its first node, in the
volume option ``user.ganeti-gluster.rolling`` (``rolling ROLL RUN``), and marks it
``done ROLL`` once its last node is healed. glusterd keeps the option on every
peer (a peer that was down takes it when it comes back), so whichever member a
run acts from sees it. Every change of the pool (pool_lock.check_pool, under the
lock) and each playbook's preflight refuse while a roll is under way: the roll
may have a node drained or down, and a replace-node.yml would take a node the
roll rebooted for dead.

RUN names the run that holds the roll (one ansible-playbook run of it). Two runs
of one roll would each take a node down at once, so a run claims the roll and a
second run of it is refused while the claim stands. A run that stops with every
peer connected lets go of the roll (``rolling ROLL``: under way, held by no run),
and the next run of it claims it. A run that stops with a peer down (no mark
changes then), or is cut off before it could let go (a killed controller, a
cancelled job), leaves its claim, which only an explicit takeover replaces: the
pool cannot tell a run that died from one that still goes on.

A mark is ended by a `volume set`, not a `volume reset`: glusterd refuses to
reset a user.* key (see rebalance_mark).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPTION = "user.ganeti-gluster.rolling"
UNDER_WAY = "rolling"
DONE = "done"

# A roll's id, and a run's, go into the option's value and into commands an operator copies.
ROLL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$")


class MarkError(ValueError):
    """The mark holds a value this project never writes."""


@dataclass(frozen=True)
class Mark:
    """A roll under way: its id, and the run that holds it (None: no run does)."""

    roll: str
    run: str | None = None


def under_way_value(roll, run=None):
    return f"{UNDER_WAY} {roll}" + (f" {run}" if run else "")


def done_value(roll):
    return f"{DONE} {roll}"


def mark_under_way(value, volume):
    """The roll the mark says is under way (a Mark), None when none is (no mark, or
    `done ...`); MarkError for a value this project never writes.

    value: the option's value from `volume info`, None when the volume has none."""
    if value is None:
        return None
    words = value.split()
    if words and words[0] == DONE and len(words) <= 2:
        return None
    if len(words) in (2, 3) and words[0] == UNDER_WAY and all(ROLL_ID.match(w) for w in words[1:]):
        return Mark(*words[1:])
    raise MarkError(
        f"volume {volume} has {OPTION} = {value!r}, which is not a value this project writes: "
        f"'{UNDER_WAY} ROLL [RUN]' while a rolling maintenance is under way, '{DONE} ROLL' once it ended. If no "
        f"roll runs, end it: gluster volume set {volume} {OPTION} {DONE}"
    )


def roll_under_way(value, volume):
    """The id of the roll the mark says is under way, None when none is (mark_under_way)."""
    mark = mark_under_way(value, volume)
    return mark.roll if mark else None


def rolls_under_way(volumes):
    """{roll id: [volume names]} of the rolls the volumes' marks say are under way.

    volumes: (name, options) pairs; MarkError on a value this project never writes."""
    rolls = {}
    for name, options in volumes:
        roll = roll_under_way((options or {}).get(OPTION), name)
        if roll is not None:
            rolls.setdefault(roll, []).append(name)
    return rolls


def refusal(rolls, roll=None):
    """Why a change must not be made while `rolls` ({roll id: [volume names]}, from
    rolls_under_way) are under way; None when it may. roll: the roll this change is
    part of (its own mark does not refuse it)."""
    others = {r: names for r, names in rolls.items() if r != roll}
    if not others:
        return None
    other, names = sorted(others.items())[0]
    ending = " ".join(f"gluster volume set {name} {OPTION} {DONE};" for name in names)
    return (
        f"a rolling maintenance is under way on this pool: roll {other} marked volume"
        f"{'s' if len(names) > 1 else ''} {', '.join(names)} ({OPTION}), and no other run changes the pool "
        "until it ends: a node of the roll may be drained, down or rebooting. Nothing was changed. Finish the "
        f"roll (ansible-playbook playbooks/rolling.yml -e rolling_id={other}, with the work it was given; it "
        "goes on where it stopped), then run again. If no run of that roll goes on and it is abandoned, end "
        f"it by hand once the node it took down is back, or lost for good (replace that one afterwards): {ending} "
        "then run again"
    )
