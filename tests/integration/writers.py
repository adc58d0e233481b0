"""VM-like writers for lab tests: one through FUSE, one through libgfapi (qemu-io on
gluster://). Each rewrites the 64 KiB blocks of one file in place, in turn, for as
long as the test acts, with one open file as a VM keeps its disk; block i of the
sequence holds the byte i % 250 + 1, so once stopped the whole file is known and is
compared byte for byte: through the volume and on every brick of its set."""

from __future__ import annotations

import hashlib
import importlib.util

from .lab_helpers import REPO, ssh

# The FUSE writer and the file the writes leave, shared with molecule's scenarios.
VM_WRITER = REPO / "molecule" / "shared" / "vm_writer.py"
_spec = importlib.util.spec_from_file_location("vm_writer", VM_WRITER)
vm_writer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vm_writer)
BLOCK, BLOCKS, expected = vm_writer.BLOCK, vm_writer.BLOCKS, vm_writer.expected

# The gfapi writer's writes, with a pause between them: over a minute in all (a test
# asserts it still ran when the change it watches ended: gfapi_running).
# qemu-io reports on stdout (buffered when it is a file) and gfapi logs on stderr
# (unbuffered): sharing one file, a log line written during a replace-brick lands
# inside a buffered "wrote" line, one write goes uncounted and the known image is
# wrong on every copy (seen twice on CI). They go to two files.
GFAPI_WRITES = 2400
GFAPI_PAUSE_MS = 25


def last_pattern(written, slot):
    """The byte block `slot` holds after `written` writes (None: never written)."""
    last = max((i for i in range(max(written - BLOCKS, 0), written) if i % BLOCKS == slot), default=None)
    return None if last is None else vm_writer.pattern(last)


class Writers:
    """The FUSE writer on `fuse_host` (volume mounted at /mnt/writers) writing `fuse_file`,
    and the gfapi writer on `gfapi_host` writing `gfapi_file`, both names relative to the
    volume's root."""

    def __init__(
        self,
        volume,
        fuse_host,
        fuse_file,
        gfapi_host,
        gfapi_file,
        gfapi_writes=GFAPI_WRITES,
        pause_ms=None,
        servers=None,
    ):
        """`servers`: the volume's servers both clients ask for its layout, in turn (a writer on
        a host outside the pool, through a roll that takes each server down); the writer's own
        host by default."""
        self.volume, self.fuse_host, self.fuse_file = volume, fuse_host, fuse_file
        self.gfapi_host, self.gfapi_file = gfapi_host, gfapi_file
        self.gfapi_writes, self.pause_ms = gfapi_writes, GFAPI_PAUSE_MS if pause_ms is None else pause_ms
        self.fuse_servers = servers or [fuse_host]
        self.gfapi_servers = servers or [gfapi_host]
        self.url = f"gluster://{self.gfapi_servers[0]}/{volume}/{gfapi_file}"
        # The same image with every server, as QEMU's option syntax names them.
        self.image_opts = f"driver=raw,file.driver=gluster,file.volume={volume},file.path={gfapi_file}," + ",".join(
            f"file.server.{n}.type=inet,file.server.{n}.host={host},file.server.{n}.port=24007"
            for n, host in enumerate(self.gfapi_servers)
        )

    def start(self):
        script = VM_WRITER.read_text().replace("'", "'\\''")
        for host in dict.fromkeys((self.fuse_host, self.gfapi_host)):
            out = ssh(host, f"printf '%s' '{script}' > /run/vm_writer.py")
            assert out.returncode == 0, out.stderr
        backups = f"-o backup-volfile-servers={':'.join(self.fuse_servers[1:])} " if self.fuse_servers[1:] else ""
        out = ssh(
            self.fuse_host,
            f"mkdir -p /mnt/writers && (mountpoint -q /mnt/writers || mount -t glusterfs {backups}"
            f"{self.fuse_servers[0]}:/{self.volume} /mnt/writers) && rm -f /run/fuse-writer.state",
        )
        assert out.returncode == 0, out.stderr
        # One command, or `&` would put the whole && chain (and ssh's output) in the background.
        out = ssh(
            self.fuse_host,
            f"nohup python3 /run/vm_writer.py write /mnt/writers/{self.fuse_file} /run/fuse-writer.state "
            "</dev/null >/run/fuse-writer.log 2>&1 & echo $! > /run/fuse-writer.pid",
        )
        assert out.returncode == 0, out.stderr
        out = ssh(
            self.gfapi_host,
            f"rm -f /run/gfapi-writer.done && qemu-img create -q -f raw {self.url} {BLOCK * BLOCKS}",
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        out = ssh(
            self.gfapi_host,
            f'nohup sh -c "python3 /run/vm_writer.py gfapi {self.image_opts} {self.gfapi_writes} {self.pause_ms}; '
            'touch /run/gfapi-writer.done" '
            "</dev/null >/run/gfapi-writer.out 2>/run/gfapi-writer.err &",
        )
        assert out.returncode == 0, out.stderr

    def gfapi_running(self):
        return ssh(self.gfapi_host, "pgrep -x qemu-io").returncode == 0

    def stop(self, gfapi_wait=120):
        """Stop the FUSE writer, wait up to `gfapi_wait` seconds for the gfapi one to end its
        writes; (FUSE writes, FUSE failures, gfapi writes that succeeded, gfapi failures)."""
        out = ssh(
            self.fuse_host,
            "kill -TERM $(cat /run/fuse-writer.pid); for i in $(seq 1 100); do "
            "[ -s /run/fuse-writer.state ] && break; sleep 0.2; done; cat /run/fuse-writer.state",
        )
        assert out.returncode == 0 and out.stdout.strip(), (out.stdout, out.stderr)
        fuse_written, fuse_failed = map(int, out.stdout.split())
        out = ssh(
            self.gfapi_host,
            f"for i in $(seq 1 {gfapi_wait * 5}); do [ -e /run/gfapi-writer.done ] && break; sleep 0.2; done; "
            "test -e /run/gfapi-writer.done && grep -c '^wrote 65536/65536' /run/gfapi-writer.out; "
            "grep -c '^write failed' /run/gfapi-writer.out || true; "
            "grep -m 5 -i 'failed' /run/gfapi-writer.out /run/gfapi-writer.err || true",
            timeout=gfapi_wait + 60,
        )
        # qemu-io reports a failed write as "write failed: ERROR"; gfapi's own log lines
        # (a brick reconnecting during a replace-brick) are no failed write.
        lines = out.stdout.splitlines()
        assert out.returncode == 0 and len(lines) >= 2, (out.stdout, out.stderr)
        self.gfapi_failures = lines[2:]
        return fuse_written, fuse_failed, int(lines[0]), int(lines[1])

    def fuse_file_is_exact(self, written, bricks):
        """sha256 of the FUSE file through the volume and on each of `bricks` (HOST:PATH)
        equals the one the writes make."""
        want = hashlib.sha256(expected(written)).hexdigest()
        seen = {"volume": self._sha(self.fuse_host, f"/mnt/writers/{self.fuse_file}")}
        for brick in bricks:
            host, path = brick.split(":", 1)
            seen[brick] = self._sha(host, f"{path}/{self.fuse_file}")
        return {where: digest == want for where, digest in seen.items()}

    def gfapi_file_is_exact(self, written, bricks):
        """sha256 of the gfapi image read back through gfapi (qemu-img convert, a fresh
        client) and on each of `bricks`, each against the one the writes make. For the
        assertion's message, self.gfapi_read_output keeps what the read printed and
        self.gfapi_unlike, for each copy that differs, its first blocks unlike the writes."""
        want = hashlib.sha256(expected(written)).hexdigest()
        copy = "/run/gfapi-check.img"
        out = ssh(self.gfapi_host, f"qemu-img convert -f raw -O raw {self.url} {copy} && sha256sum {copy}", timeout=120)
        self.gfapi_read_output = (out.returncode, out.stdout, out.stderr)
        self.gfapi_unlike = {}
        seen = {"volume": out.returncode == 0 and out.stdout.split()[:1] == [want]}
        if out.returncode == 0 and not seen["volume"]:
            self.gfapi_unlike["volume"] = self._blocks_unlike(self.gfapi_host, copy, written)
        ssh(self.gfapi_host, f"rm -f {copy}")
        for brick in bricks:
            host, path = brick.split(":", 1)
            seen[brick] = self._sha(host, f"{path}/{self.gfapi_file}") == want
            if not seen[brick]:
                self.gfapi_unlike[brick] = self._blocks_unlike(host, f"{path}/{self.gfapi_file}", written)
        return seen

    @staticmethod
    def _blocks_unlike(host, path, written):
        """Up to 8 (block, byte it holds or None when mixed, byte the writes leave) that differ."""
        script = (
            "import sys\n"
            f"f = open(sys.argv[1], 'rb')\nfor _ in range({BLOCKS}):\n"
            f"    b = f.read({BLOCK})\n    print(b[0] if b and b == b[:1] * {BLOCK} else -1)\n"
        )
        out = ssh(host, f'python3 -c "{script}" {path}', timeout=120)
        if out.returncode != 0:
            return out.stderr
        held = [None if int(v) < 0 else int(v) for v in out.stdout.split()]
        want = [last_pattern(written, slot) or 0 for slot in range(BLOCKS)]
        return [(slot, held[slot], want[slot]) for slot in range(BLOCKS) if held[slot] != want[slot]][:8]

    @staticmethod
    def _sha(host, path):
        out = ssh(host, f"sha256sum {path}", timeout=120)
        assert out.returncode == 0, out.stderr
        return out.stdout.split()[0]
