# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rebalance mark: the rebalance a volume is still owed, kept across runs. Pure, no I/O.

gluster_volume records the rebalance an expansion calls for in the volume option
``user.ganeti-gluster.rebalance`` before its add-brick, and marks it done once a
pass has left every file where it belongs. A run that dies in between leaves the
mark pending, and the next run pays what is owed.

The state is what the mark owes: NOTHING (no mark, or ``done``), ``fix-layout``
or ``full``. ``step(owed, observation)`` says what to do on each observation; the
module reads the cluster, asks, and acts. Every ``volume set`` is a cluster-wide
transaction that also rewrites the volfiles, so the mark is set only when what it
owes changes, and never while a rebalance pass runs.
"""

from __future__ import annotations

from dataclasses import dataclass

OPTION = "user.ganeti-gluster.rebalance"
NOTHING = None
FIX_LAYOUT = "fix-layout"
FULL = "full"
MAX_FULL_PASSES = 4

# Once nothing is owed the mark says `done`, with a `volume set`. It is not
# `volume reset`: glusterd (10.3) resets only the options it knows and refuses a
# user.* key ("Option user.ganeti-gluster.rebalance does not exist", captured in
# tests/fixtures/gluster/volume-reset-user-option.xml). Either way it is one
# transaction, and `done` also tells an operator that a rebalance ran to its end.
DONE = "done"

# Every value the mark may take, and what it owes.
VALUES = {DONE: NOTHING, f"pending {FIX_LAYOUT}": FIX_LAYOUT, f"pending {FULL}": FULL}

# What the module warns about (it words the warning, with the volume's name).
NOT_STARTED = "not-started"
STILL_MOVING = "still-moving"


class MarkError(ValueError):
    """The mark holds a value this module never writes."""


def parse(value, volume):
    """What the mark owes (NOTHING, FIX_LAYOUT or FULL); MarkError for a value it may not take.

    value: the option's value from `volume info`, None when the volume has none.
    """
    if value is None:
        return NOTHING
    if value in VALUES:
        return VALUES[value]
    raise MarkError(
        f"volume {volume} has {OPTION} = {value!r}, which is not a value this module writes: it takes "
        f"'{DONE}' (no rebalance owed), 'pending {FIX_LAYOUT}' or 'pending {FULL}' (the rebalance an "
        f"interrupted run still owes). Set the one that is true, for example: gluster volume set {volume} "
        f"{OPTION} {DONE} (glusterd refuses `gluster volume reset {volume} {OPTION}`: it resets only "
        "options it knows)"
    )


def value_of(owed):
    """The mark's value for what is owed."""
    return DONE if owed is NOTHING else f"pending {owed}"


def _stronger(owed, wanted):
    # A full rebalance also fixes the layout, so it pays a fix-layout debt too.
    return FULL if FULL in (owed, wanted) else owed or wanted


# -- observations -----------------------------------------------------------


@dataclass(frozen=True)
class BricksAdded:
    """This run is about to add bricks; `mode` is the rebalance they call for (None: none)."""

    mode: str | None


@dataclass(frozen=True)
class PassRunning:
    """A rebalance pass runs (an interrupted run's, or one started by hand)."""


@dataclass(frozen=True)
class Settled:
    """No pass runs and this run's other changes are made; `started`: the volume is started."""

    started: bool


@dataclass(frozen=True)
class PassFinished:
    """This run's pass number `passes` completed, having moved `files` files and
    failed to move `failures` (a file it could not move may be off its set)."""

    files: int
    passes: int
    failures: int = 0


@dataclass(frozen=True)
class Action:
    """What to do: owed is what the mark owes afterwards."""

    owed: str | None
    set_mark: str | None = None  # the value to `volume set`; None leaves the mark as it is
    wait: bool = False  # wait for the running pass before changing anything
    start_pass: str | None = None  # the rebalance mode to start a pass of
    warning: str | None = None  # NOT_STARTED or STILL_MOVING


def step(owed, observation):
    """The action for what the mark owes and what the module observed."""
    if isinstance(observation, PassRunning):
        return Action(owed, wait=True)
    if isinstance(observation, BricksAdded):
        after = _stronger(owed, observation.mode)
        # Recorded before the add-brick: if the run dies after it, the next one
        # still rebalances. Set only when that changes what the mark owes.
        return Action(after, set_mark=value_of(after) if after != owed else None)
    if owed is NOTHING:
        return Action(NOTHING)
    if isinstance(observation, Settled):
        if not observation.started:
            return Action(owed, warning=NOT_STARTED)
        return Action(owed, start_pass=owed)
    if isinstance(observation, PassFinished):
        # One full pass of Gluster 10's multi-node rebalance can leave files off the
        # set the directory's final layout hashes them to, where clients trusting that
        # layout (lookup-optimize) do not find them (gluster/glusterfs#973). A pass
        # that moves nothing shows every file is where it belongs. A fix-layout pass
        # moves no files: one is enough, unless it failed on some directory (a brick
        # lost meanwhile), whose layout then still leaves the new sets out.
        if not observation.failures and (owed == FIX_LAYOUT or not observation.files):
            return Action(NOTHING, set_mark=DONE)
        if observation.passes < MAX_FULL_PASSES:
            return Action(owed, start_pass=owed)
        return Action(owed, warning=STILL_MOVING)
    raise TypeError(f"not an observation of the rebalance mark: {observation!r}")
