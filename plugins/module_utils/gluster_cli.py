# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The gluster CLI in XML mode: command builders, one runner, pure parsers.

Every call is ``gluster --mode=script --xml ARGS`` as an argv list. In XML mode
the CLI exits 0 on many failures, so success is decided by ``opRet`` alone and
a failure becomes a typed error carrying ``opErrno`` and ``opErrstr``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

# One place for the locale: gluster's messages are matched by nobody, but the
# operator reading a failure should get them untranslated.
C_LOCALE = {"LANG": "C", "LC_ALL": "C", "LC_MESSAGES": "C"}

# glusterd's peer state machine: 3 is "Peer in Cluster".
PEER_IN_CLUSTER = 3


class GlusterError(Exception):
    """A gluster command failed. Carries what a module needs for fail_json."""

    def __init__(self, message, argv=None, rc=None, stdout="", stderr="", op_errno=None, op_errstr=None):
        super().__init__(message)
        self.message = message
        self.argv = list(argv or [])
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.op_errno = op_errno
        self.op_errstr = op_errstr

    def fail_kwargs(self):
        """Keyword arguments for AnsibleModule.fail_json."""
        return {
            "msg": self.message,
            "cmd": self.argv,
            "rc": self.rc,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "op_errno": self.op_errno,
            "op_errstr": self.op_errstr,
        }


class GlusterCliError(GlusterError):
    """The CLI printed no XML: it could not reach glusterd, or rejected its arguments."""


class GlusterOpError(GlusterError):
    """glusterd answered with opRet != 0."""


def script_argv(binary, args):
    """The argv for one non-interactive, XML-mode gluster call."""
    return [binary, "--mode=script", "--xml"] + [str(a) for a in args]


def interpret(argv, rc, stdout, stderr):
    """Turn one CLI run into the parsed <cliOutput> element, or raise GlusterError."""
    what = " ".join(argv[3:]) if len(argv) > 3 else " ".join(argv)
    text = stdout.strip()
    if not text.startswith("<"):
        detail = (stderr.strip() or text or "no output").splitlines()[-1]
        raise GlusterCliError(
            f"gluster {what} failed (exit {rc}): {detail}. Check that glusterd is running on this host.",
            argv=argv,
            rc=rc,
            stdout=stdout,
            stderr=stderr,
        )
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise GlusterCliError(
            f"gluster {what} printed unreadable XML: {exc}", argv=argv, rc=rc, stdout=stdout, stderr=stderr
        ) from None
    op_ret = _int(root.findtext("opRet"), default=-1)
    if op_ret != 0:
        op_errno = _int(root.findtext("opErrno"), default=None)
        op_errstr = (root.findtext("opErrstr") or "").strip() or "no error text"
        raise GlusterOpError(
            f"gluster {what} failed: {op_errstr} (opRet {op_ret}, opErrno {op_errno})",
            argv=argv,
            rc=rc,
            stdout=stdout,
            stderr=stderr,
            op_errno=op_errno,
            op_errstr=op_errstr,
        )
    return root


@dataclass(frozen=True)
class Peer:
    """One entry of ``pool list``: a peer, or this host itself (hostname localhost)."""

    uuid: str
    hostname: str
    hostnames: tuple
    connected: bool
    state: int | None
    state_str: str | None

    @property
    def is_local(self):
        return self.hostname == "localhost" and self.state is None

    @property
    def in_cluster(self):
        if self.is_local:
            return True
        return self.state == PEER_IN_CLUSTER and self.connected

    def as_dict(self):
        return {
            "uuid": self.uuid,
            "hostname": self.hostname,
            "hostnames": list(self.hostnames),
            "connected": self.connected,
            "state": self.state,
            "state_str": self.state_str,
            "local": self.is_local,
            "in_cluster": self.in_cluster,
        }


def parse_pool_list(root):
    """Peers from ``pool list``, this host included."""
    peers = []
    for node in root.iterfind("./peerStatus/peer"):
        hostname = (node.findtext("hostname") or "").strip()
        names = tuple(h.text.strip() for h in node.iterfind("./hostnames/hostname") if h.text)
        peers.append(
            Peer(
                uuid=(node.findtext("uuid") or "").strip(),
                hostname=hostname,
                hostnames=names or (hostname,),
                connected=_int(node.findtext("connected"), default=0) == 1,
                state=_int(node.findtext("state"), default=None),
                state_str=(node.findtext("stateStr") or "").strip() or None,
            )
        )
    return peers


def _int(text, default):
    try:
        return int(text.strip())
    except (AttributeError, ValueError):
        return default


class GlusterCli:
    """Runs gluster for a module: argv lists, C locale, check_rc off, opRet checked."""

    def __init__(self, module):
        self._module = module
        self.binary = module.get_bin_path("gluster", required=True)

    def argv(self, *args):
        return script_argv(self.binary, args)

    def run(self, *args):
        argv = self.argv(*args)
        rc, stdout, stderr = self._module.run_command(argv, check_rc=False, environ_update=C_LOCALE)
        return interpret(argv, rc, stdout, stderr)

    def pool_list(self):
        return parse_pool_list(self.run("pool", "list"))
