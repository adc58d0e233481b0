"""A lab of real hosts on one machine: network + mount + UTS + PID namespaces.

Each host gets its own address on a private bridge, its own hostname, sshd,
/etc/hosts, /etc/fstab, Gluster and Ganeti state directories and two
loop-backed block devices. The bridge lives in a namespace of its own (the
"switch"), so the machine's own network namespace is never touched; the
controller reaches hosts over real SSH through a ProxyCommand that enters the
switch namespace.

Everything the lab makes is found again by its names (namespaces with the
lab's prefix, loop devices backed by files in the state directory, processes
inside the lab's network namespaces), so `down` also cleans up after a crash.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lab.power import BOOTS, HOLDER_PID, POWER_REQUEST

HERE = Path(__file__).resolve().parent
NODE_INIT = HERE / "node-init.sh"
REAPER = HERE / "reaper.py"
POWER = HERE / "power.py"

MAX_HOSTS = 24
# A DNS domain for --domain: dot-separated labels of letters, digits and inner hyphens.
DOMAIN = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$")
DISKS_PER_HOST = 2
READY_TIMEOUT = 20.0
# A reboot ends every process of the host first, then boots it and waits for its sshd.
REBOOT_TIMEOUT = 60.0
TEARDOWN_TIMEOUT = 20.0
ZOMBIE_GRACE = 5.0

# Paths a real host keeps to itself. Each is bind-mounted over the machine's
# path inside the host's mount namespace.
PRIVATE_DIRS = (
    "/etc/ssh",
    "/etc/ganeti",
    "/root",
    "/run",
    "/tmp",
    "/var/lib/glusterd",
    "/var/log/glusterfs",
    "/var/lib/ganeti",
    "/var/log/ganeti",
    "/var/lib/ganeti-gluster",
    "/srv/ganeti",
    "/bricks",
)
PRIVATE_FILES = ("/etc/hosts", "/etc/hostname", "/etc/fstab")
# Left in the machine's directories that the lab had to create as mount points.
MOUNTPOINT_MARK = ".gglab-mountpoint"
# Beside it, one mark per lab using such a directory: a lab going down removes
# the directory only when no other lab mounts over it (rmdir would detach the
# other lab's mounts).
IN_USE_MARK = ".gglab-in-use-"
MOUNTPOINTS_LOCK = Path("/run/lock/gglab-mountpoints.lock")
# Labs that run side by side take different slots: slot N has its own
# namespaces (PREFIX-...), subnet (10.77.N.0/24) and state directory.
MAX_SLOT = 9

REQUIRED_TOOLS = ("ip", "unshare", "nsenter", "losetup", "ssh-keygen", "socat", "/usr/sbin/sshd")

SSHD_DROP_IN = """\
# Written by the lab: key-only root login, no DNS, no PAM (no session stack in a lab host).
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
"""


class LabError(Exception):
    """A lab operation failed; the message is one line for the operator."""


@dataclass
class Host:
    name: str
    address: str
    netns: str
    root: str
    block_devices: list[str] = field(default_factory=list)
    launcher_pid: int = 0
    holder_pid: int = 0
    # `lab poweroff` ended every process of the host and took its link down.
    powered_off: bool = False

    @property
    def directory(self) -> Path:
        """The host's files in the state dir: its tree (root/), disks, logs and power files."""
        return Path(self.root).parent

    def current_holder(self) -> int:
        """PID 1 of the host's current boot (lab/power.py writes it at each boot)."""
        try:
            return int((self.directory / HOLDER_PID).read_text())
        except (OSError, ValueError):
            return self.holder_pid

    def rebooting(self) -> bool:
        """Its power supply has a reboot to do: the host has no PID 1 for a moment."""
        try:
            return (self.directory / POWER_REQUEST).read_text().strip() == "reboot"
        except OSError:
            return False


@dataclass
class LabState:
    prefix: str
    subnet: str
    hosts: list[Host]
    # With a domain, each name resolves to its FQDN first (NAME.DOMAIN NAME in
    # /etc/hosts), as on a host installed with one: Ganeti then knows the hosts
    # by FQDN while the inventory keeps the short names.
    domain: str = ""

    @classmethod
    def load(cls, path: Path) -> LabState:
        data = json.loads(path.read_text())
        data["hosts"] = [Host(**h) for h in data["hosts"]]
        return cls(**data)

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(path)


def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a command; raise LabError with its stderr when it fails."""
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise LabError(f"{' '.join(argv)} failed: {detail[-1] if detail else f'exit {proc.returncode}'}")
    return proc


def netns_inode(name: str) -> tuple[int, int] | None:
    try:
        st = os.stat(f"/run/netns/{name}")
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino)


def pids_in_netns(inodes: set[tuple[int, int]]) -> list[int]:
    """Processes whose network namespace is one of `inodes`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            st = os.stat(f"/proc/{entry}/ns/net")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in inodes:
            found.append(int(entry))
    return found


def process_in_netns(pid: int, netns: str) -> bool:
    inode = netns_inode(netns)
    return bool(pid) and inode is not None and pid in pids_in_netns({inode})


@contextlib.contextmanager
def mountpoints_locked():
    """Every lab's bookkeeping of the machine directories it mounts over, one at a time."""
    MOUNTPOINTS_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with open(MOUNTPOINTS_LOCK, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


class Lab:
    @classmethod
    def in_slot(cls, slot: int, state_dir: Path | None = None) -> Lab:
        """The lab of `slot` (0: gglab, 10.77.0.0/24, /var/tmp/gglab; N: gglabN, 10.77.N.0/24, /var/tmp/gglabN).
        lab.cli.lab_slot() reads and checks it."""
        prefix = f"gglab{slot or ''}"
        return cls(state_dir or Path("/var/tmp") / prefix, prefix=prefix, subnet=f"10.77.{slot}")

    def __init__(self, state_dir: Path, prefix: str = "gglab", subnet: str = "10.77.0") -> None:
        self.state_dir = state_dir
        self.prefix = prefix
        self.subnet = subnet
        self.state_file = state_dir / "state.json"
        self.ssh_dir = state_dir / "ssh"
        self.lock_file = Path("/run/lock") / f"{prefix}.lock"

    # -- naming -------------------------------------------------------------

    @property
    def in_use_mark(self) -> str:
        return IN_USE_MARK + self.prefix

    @property
    def switch_netns(self) -> str:
        return f"{self.prefix}-sw"

    @property
    def cluster_address(self) -> str:
        return f"{self.subnet}.250"

    def host(self, index: int) -> Host:
        name = f"node{index}"
        return Host(
            name=name,
            address=f"{self.subnet}.{10 + index}",
            netns=f"{self.prefix}-{name}",
            root=str(self.state_dir / "hosts" / name / "root"),
        )

    def ssh_common_args(self) -> str:
        return (
            f'-o ProxyCommand="ip netns exec {self.switch_netns} socat - TCP:%h:%p,connect-timeout=10" '
            f"-o UserKnownHostsFile={self.ssh_dir / 'known_hosts'} "
            "-o StrictHostKeyChecking=yes"
        )

    # -- locking and state ----------------------------------------------------

    @contextlib.contextmanager
    def locked(self):
        self.lock_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_file, "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LabError("another lab command is running; wait for it to finish") from None
            yield

    def load_state(self) -> LabState | None:
        try:
            state = LabState.load(self.state_file)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError, KeyError):
            # A half-written state file from a crash: treat the lab as leftovers.
            return None
        # A host may have rebooted itself (shutdown -r inside it) since the file was written.
        for host in state.hosts:
            host.holder_pid = host.current_holder()
        return state

    def is_running(self, state: LabState) -> bool:
        # A host that reboots has no PID 1 for a moment, but its power supply runs. A host
        # whose PID 1 died otherwise (a crash) is not running, even while its power
        # supply has not yet noticed.
        return (
            bool(state.hosts)
            and all(
                h.powered_off
                or process_in_netns(h.holder_pid, h.netns)
                or (h.rebooting() and process_in_netns(h.launcher_pid, h.netns))
                for h in state.hosts
            )
            and netns_inode(self.switch_netns) is not None
        )

    def lab_netns_names(self) -> list[str]:
        proc = run(["ip", "netns", "list"])
        names = [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]
        return [n for n in names if n.startswith(f"{self.prefix}-")]

    def lab_loop_devices(self) -> list[str]:
        proc = run(["losetup", "--list", "--json", "--output", "NAME,BACK-FILE"])
        if not proc.stdout.strip():
            return []
        prefix = str(self.state_dir) + "/"
        devices = []
        for dev in json.loads(proc.stdout).get("loopdevices", []):
            back = (dev.get("back-file") or "").removesuffix(" (deleted)")
            if back.startswith(prefix):
                devices.append(dev["name"])
        return devices

    def has_leftovers(self) -> bool:
        return bool(self.lab_netns_names() or self.lab_loop_devices() or self.state_dir.exists())

    # -- up -----------------------------------------------------------------

    def up(self, count: int, disk_size: str = "4G", domain: str = "") -> LabState:
        if not 1 <= count <= MAX_HOSTS:
            raise LabError(f"the number of hosts must be between 1 and {MAX_HOSTS}, not {count}")
        domain = domain.strip(".")
        if domain and not DOMAIN.match(domain):
            raise LabError(f"--domain {domain!r} is not a DNS domain (labels of letters, digits and hyphens)")
        preflight()
        with self.locked():
            state = self.load_state()
            if state is not None and self.is_running(state):
                raise LabError(
                    f"a lab of {len(state.hosts)} hosts is already up ({self.state_dir}); run 'lab down' first"
                )
            if self.has_leftovers():
                self._teardown()
            state = LabState(
                prefix=self.prefix,
                subnet=self.subnet,
                hosts=[self.host(i) for i in range(1, count + 1)],
                domain=domain,
            )
            try:
                self._build(state, disk_size)
            except BaseException:
                # Never leave a half-built lab behind.
                self._teardown(state)
                raise
            return state

    def _build(self, state: LabState, disk_size: str) -> None:
        self.state_dir.mkdir(parents=True)
        # Written first, so a crash from here on is cleaned up by the next command.
        state.save(self.state_file)
        self._make_controller_key()
        keygens = [self._prepare_host_tree(host, state) for host in state.hosts]
        for host, keygen in zip(state.hosts, keygens, strict=True):
            if keygen.wait() != 0:
                raise LabError(f"ssh-keygen for {host.name} failed")
        self._make_network(state)
        for host in state.hosts:
            host.block_devices = self._make_block_devices(host, disk_size)
        state.save(self.state_file)
        for host in state.hosts:
            host.launcher_pid = self._launch(host)
        state.save(self.state_file)
        self._wait_ready(state)
        state.save(self.state_file)
        self._write_known_hosts(state)
        self._write_ssh_config(state)
        self._write_inside_inventory(state)

    def _make_controller_key(self) -> None:
        self.ssh_dir.mkdir(mode=0o700)
        run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                f"{self.prefix}-controller",
                "-f",
                str(self.ssh_dir / "id_ed25519"),
            ]
        )

    def _prepare_host_tree(self, host: Host, state: LabState) -> subprocess.Popen:
        """Lay out the host's private paths; return the running host-key generation."""
        root = Path(host.root)
        with mountpoints_locked():
            for path in PRIVATE_DIRS:
                if not os.path.isdir(path):
                    # Marked, so teardown finds what it made even without state.json.
                    os.makedirs(path)
                    (Path(path) / MOUNTPOINT_MARK).touch()
                if os.path.exists(os.path.join(path, MOUNTPOINT_MARK)):
                    (Path(path) / self.in_use_mark).touch()
        for path in PRIVATE_DIRS:
            (root / path.lstrip("/")).mkdir(parents=True, exist_ok=True)
        (root / "tmp").chmod(0o1777)

        etc_ssh = root / "etc/ssh"
        shutil.copytree(
            "/etc/ssh", etc_ssh, symlinks=True, dirs_exist_ok=True, ignore=shutil.ignore_patterns("ssh_host_*")
        )
        (etc_ssh / "sshd_config.d").mkdir(exist_ok=True)
        (etc_ssh / "sshd_config.d/00-lab.conf").write_text(SSHD_DROP_IN)

        shutil.copytree("/etc/ganeti", root / "etc/ganeti", symlinks=True, dirs_exist_ok=True)
        for packaged in ("groups", "hooks"):
            src = Path("/var/lib/glusterd") / packaged
            if src.is_dir():
                shutil.copytree(src, root / "var/lib/glusterd" / packaged, symlinks=True)

        self._write_lab_os(root / "srv/ganeti/os/lab")

        dot_ssh = root / "root/.ssh"
        dot_ssh.mkdir(mode=0o700)
        authorized = dot_ssh / "authorized_keys"
        authorized.write_text((self.ssh_dir / "id_ed25519.pub").read_text())
        authorized.chmod(0o600)

        (root / "etc/hostname").write_text(host.name + "\n")
        (root / "etc/hosts").write_text(self._etc_hosts(state))
        fstab = Path("/etc/fstab")
        (root / "etc/fstab").write_text(fstab.read_text() if fstab.exists() else "")
        # What a boot leaves to the machine: node-init.sh mounts only what the host added.
        (root / ".machine-fstab").write_text((root / "etc/fstab").read_text())
        (root / ".private-dirs").write_text("\n".join(PRIVATE_DIRS) + "\n")
        (root / ".private-files").write_text("\n".join(PRIVATE_FILES) + "\n")
        return subprocess.Popen(
            ["ssh-keygen", "-A", "-f", str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    @staticmethod
    def _write_lab_os(directory: Path) -> None:
        """Ganeti OS definition `lab` (variant `default`), as an OS package would
        install one: the fake hypervisor boots nothing, so each script succeeds."""
        directory.mkdir(parents=True)
        for script in ("create", "export", "import", "rename", "verify"):
            (directory / script).write_text("#!/bin/sh\nexit 0\n")
            (directory / script).chmod(0o755)
        for name, text in (("ganeti_api_version", "20\n"), ("variants.list", "default\n"), ("parameters.list", "")):
            (directory / name).write_text(text)
            (directory / name).chmod(0o644)

    def _etc_hosts(self, state: LabState) -> str:
        lines = [
            "# Written by the lab.",
            "127.0.0.1\tlocalhost",
            "::1\tlocalhost ip6-localhost ip6-loopback",
        ]
        for address, name in [*((h.address, h.name) for h in state.hosts), (self.cluster_address, "labcluster")]:
            lines.append(f"{address}\t{name}.{state.domain} {name}" if state.domain else f"{address}\t{name}")
        return "\n".join(lines) + "\n"

    def _make_network(self, state: LabState) -> None:
        sw = self.switch_netns
        run(["ip", "netns", "add", sw])
        run(["ip", "-n", sw, "link", "set", "lo", "up"])
        run(["ip", "-n", sw, "link", "add", "br-lab", "type", "bridge"])
        run(["ip", "-n", sw, "addr", "add", f"{self.subnet}.1/24", "dev", "br-lab"])
        run(["ip", "-n", sw, "link", "set", "br-lab", "up"])
        for index, host in enumerate(state.hosts, start=1):
            port = f"port{index}"
            run(["ip", "netns", "add", host.netns])
            run(["ip", "-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", host.netns])
            run(["ip", "-n", sw, "link", "set", port, "master", "br-lab", "up"])
            for argv in (
                ["link", "set", "lo", "up"],
                ["addr", "add", f"{host.address}/24", "dev", "eth0"],
                ["link", "set", "eth0", "up"],
                # A default route, as real hosts have (facts such as default_ipv4
                # depend on it); the switch forwards nothing beyond the lab.
                ["route", "add", "default", "via", f"{self.subnet}.1"],
                # Ganeti's instance NICs attach to br0 (--nic-parameters=link=br0).
                ["link", "add", "br0", "type", "bridge"],
                ["link", "set", "br0", "up"],
            ):
                run(["ip", "-n", host.netns, *argv])

    def _make_block_devices(self, host: Host, disk_size: str) -> list[str]:
        disks = Path(host.root).parent / "disks"
        disks.mkdir()
        devices = []
        for n in range(DISKS_PER_HOST):
            image = disks / f"disk{n}.img"
            run(["truncate", "-s", disk_size, str(image)])
            devices.append(run(["losetup", "--find", "--show", str(image)]).stdout.strip())
        return devices

    def _launch(self, host: Host) -> int:
        """Start the host's power supply (lab/power.py), which boots it; return its pid."""
        with open(host.directory / "init.log", "a") as log:
            proc = subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    host.netns,
                    "/usr/bin/python3",
                    str(POWER),
                    str(host.directory),
                    host.name,
                    str(NODE_INIT),
                    str(REAPER),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"},
            )
        return proc.pid

    def _wait_ready(self, state: LabState) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        pending = list(state.hosts)
        while pending:
            for host in list(pending):
                if self._booted(host):
                    host.holder_pid = host.current_holder()
                    pending.remove(host)
                elif not os.path.exists(f"/proc/{host.launcher_pid}"):
                    raise LabError(f"{host.name} did not start: {self._init_log_tail(host)}")
            if pending and time.monotonic() > deadline:
                names = ", ".join(h.name for h in pending)
                raise LabError(f"{names} not ready after {READY_TIMEOUT:.0f}s: {self._init_log_tail(pending[0])}")
            if pending:
                time.sleep(0.02)

    @staticmethod
    def _booted(host: Host, after: int = 0) -> bool:
        """The host's boot (a PID 1 other than `after`) has its sshd up."""
        holder = host.current_holder() if (host.directory / HOLDER_PID).exists() else 0
        return bool(holder) and holder != after and (Path(host.root) / "run/sshd.pid").exists()

    @staticmethod
    def _init_log_tail(host: Host) -> str:
        try:
            lines = (Path(host.root).parent / "init.log").read_text().strip().splitlines()
        except OSError:
            return "no init log"
        return lines[-1] if lines else "init log is empty"

    def _write_known_hosts(self, state: LabState) -> None:
        lines = []
        for host in state.hosts:
            for pub in sorted((Path(host.root) / "etc/ssh").glob("ssh_host_*_key.pub")):
                keytype, key = pub.read_text().split()[:2]
                lines.append(f"{host.name},{host.address} {keytype} {key}")
        (self.ssh_dir / "known_hosts").write_text("\n".join(lines) + "\n")

    def _write_ssh_config(self, state: LabState) -> None:
        lines = ["# Written by the lab: ssh -F THIS_FILE node1"]
        for host in state.hosts:
            lines += [f"Host {host.name}", f"    HostName {host.address}"]
        lines += [
            "Host *",
            "    User root",
            f"    IdentityFile {self.ssh_dir / 'id_ed25519'}",
            "    IdentitiesOnly yes",
            f"    UserKnownHostsFile {self.ssh_dir / 'known_hosts'}",
            "    StrictHostKeyChecking yes",
            f"    ProxyCommand ip netns exec {self.switch_netns} socat - TCP:%h:%p,connect-timeout=10",
        ]
        (self.ssh_dir / "config").write_text("\n".join(lines) + "\n")

    def inventory(self) -> dict:
        """The running lab as an Ansible script inventory (empty when none is up)."""
        state = self.load_state()
        if state is None or not self.is_running(state):
            return {"_meta": {"hostvars": {}}}
        hostvars = self._hostvars(state)
        return {
            "lab": {"hosts": list(hostvars), "vars": self._group_vars(self.ssh_common_args())},
            "_meta": {"hostvars": hostvars},
        }

    @property
    def inside_inventory_file(self) -> Path:
        return self.state_dir / "inventory-inside.yml"

    def _write_inside_inventory(self, state: LabState) -> None:
        """The lab as a static inventory for Ansible run from inside a lab host (a
        Ganeti hook on the master): plain SSH over the bridge, since a host cannot
        see the switch namespace the controller's ProxyCommand enters."""
        inventory = {
            "lab": {
                "hosts": self._hostvars(state),
                "vars": self._group_vars(
                    f"-o UserKnownHostsFile={self.ssh_dir / 'known_hosts'} -o StrictHostKeyChecking=yes"
                ),
            }
        }
        # JSON is YAML: the yaml inventory plugin reads it.
        self.inside_inventory_file.write_text(json.dumps(inventory, indent=2) + "\n")

    @staticmethod
    def _hostvars(state: LabState) -> dict:
        return {h.name: {"ansible_host": h.address, "lab_block_devices": h.block_devices} for h in state.hosts}

    def _group_vars(self, ssh_common_args: str) -> dict:
        return {
            "ansible_user": "root",
            # Interpreter discovery over SSH can pick a pyenv shim from PATH.
            "ansible_python_interpreter": "/usr/bin/python3",
            "ansible_ssh_private_key_file": str(self.ssh_dir / "id_ed25519"),
            "ansible_ssh_common_args": ssh_common_args,
            "lab_cluster_name": "labcluster",
            "lab_cluster_address": self.cluster_address,
            "lab_state_dir": str(self.state_dir),
            # The checkout the lab runs from: the controller's, which the hosts see too.
            "lab_project_dir": str(HERE.parent),
            # The hosts cannot reach the package index: the node-add hook's virtualenv
            # comes from the wheelhouse scripts/setup downloads (an air-gapped site's way).
            "ganeti_gluster_disk_hook_wheelhouse": str(HERE.parent / ".wheelhouse"),
        }

    # -- down ---------------------------------------------------------------

    def down(self) -> bool:
        """Tear the lab down; return False when there was nothing to tear down."""
        with self.locked():
            if not self.has_leftovers():
                return False
            self._teardown()
            return True

    def _teardown(self, state: LabState | None = None) -> None:
        state = state or self.load_state()
        names = set(self.lab_netns_names())
        if state is not None:
            names.update(h.netns for h in state.hosts)
            names.add(self.switch_netns)
        inodes = {inode for inode in map(netns_inode, names) if inode is not None}
        # Killing a host's PID 1 ends its whole PID namespace; what remains in
        # the network namespaces (launchers, ssh proxies) goes the same way.
        deadline = time.monotonic() + TEARDOWN_TIMEOUT
        killed: set[int] = set()
        while True:
            pids = pids_in_netns(inodes)
            if not pids:
                break
            if time.monotonic() > deadline:
                raise LabError(f"processes {pids} in the lab's namespaces did not exit")
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            killed.update(pids)
            time.sleep(0.05)
        # The launchers were orphaned to PID 1 by 'lab up'; give it a moment to
        # reap them so no <defunct> entry outlives 'down'.
        reap_deadline = time.monotonic() + ZOMBIE_GRACE
        while any(os.path.exists(f"/proc/{pid}") for pid in killed) and time.monotonic() < reap_deadline:
            time.sleep(0.05)
        for name in sorted(names):
            if netns_inode(name) is not None:
                run(["ip", "netns", "delete", name])
        self._detach_loop_devices()
        with mountpoints_locked():
            for path in PRIVATE_DIRS:
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(path, self.in_use_mark))
                with contextlib.suppress(OSError):
                    if os.listdir(path) == [MOUNTPOINT_MARK]:
                        os.unlink(os.path.join(path, MOUNTPOINT_MARK))
                        os.rmdir(path)
        self._remove_state_dir()

    def _detach_loop_devices(self) -> None:
        # Mounts die with the hosts' mount namespaces, which the kernel may
        # release a moment after the last process exits.
        deadline = time.monotonic() + TEARDOWN_TIMEOUT
        while devices := self.lab_loop_devices():
            for device in devices:
                subprocess.run(["losetup", "--detach", device], capture_output=True, check=False)
            if time.monotonic() > deadline:
                raise LabError(f"loop devices {', '.join(devices)} are still busy")
            time.sleep(0.05)

    def _remove_state_dir(self) -> None:
        if not self.state_dir.exists():
            return
        prefix = str(self.state_dir) + "/"
        with open("/proc/self/mountinfo") as mountinfo:
            for line in mountinfo:
                mountpoint = line.split()[4]
                if mountpoint.startswith(prefix):
                    raise LabError(f"{mountpoint} is still mounted; not removing {self.state_dir}")
        shutil.rmtree(self.state_dir)
        with contextlib.suppress(FileNotFoundError):
            self.lock_file.unlink()

    # -- using a running lab ------------------------------------------------

    def running_state(self) -> LabState:
        state = self.load_state()
        if state is None or not self.is_running(state):
            raise LabError("no lab is up; run 'lab up N' first")
        return state

    def find_host(self, name: str, state: LabState | None = None) -> Host:
        state = state or self.running_state()
        for host in state.hosts:
            if host.name == name:
                if host.powered_off:
                    raise LabError(f"{name} is powered off ('lab poweroff'); only 'lab down' ends it now")
                return host
        known = ", ".join(h.name for h in state.hosts)
        raise LabError(f"no host {name!r} in the lab (hosts: {known})")

    def reboot(self, name: str) -> int:
        """What a reset button does: the host's link goes down and every process of it
        ends, as in poweroff; then its power supply boots it again (its tree and disks
        as they were, /run empty, a new boot id) and its sshd comes up. Returns the
        host's boot count."""
        with self.locked():
            state = self.running_state()
            host = self.find_host(name, state)
            old = host.holder_pid
            # Its power supply (lab/power.py) resets it and boots it again.
            (host.directory / POWER_REQUEST).write_text("reboot\n")
            deadline = time.monotonic() + REBOOT_TIMEOUT
            while not self._booted(host, after=old):
                if not process_in_netns(host.launcher_pid, host.netns):
                    raise LabError(f"{name} did not boot again: {self._init_log_tail(host)}")
                if time.monotonic() > deadline:
                    raise LabError(f"{name} not up {REBOOT_TIMEOUT:.0f}s after its reboot: {self._init_log_tail(host)}")
                time.sleep(0.05)
            host.holder_pid = host.current_holder()
            state.save(self.state_file)
            return int((host.directory / BOOTS).read_text())

    def poweroff(self, name: str) -> None:
        """What a host's power failing looks like to the others: its link goes down
        first, so that nothing more leaves it (not even the FIN of a socket its dying
        processes close: the peers notice only by their own timeouts), then every
        process of the host ends (its PID 1 first, which ends its PID namespace). Its
        block devices stay attached, as a dead machine's disks stay in it."""
        with self.locked():
            state = self.running_state()
            host = self.find_host(name, state)
            # Its power supply must not boot it again.
            (host.directory / POWER_REQUEST).unlink(missing_ok=True)
            run(["ip", "-n", host.netns, "link", "set", "eth0", "down"])
            inode = netns_inode(host.netns)
            host.powered_off = True
            state.save(self.state_file)
            # Its PID 1 first (checked to be still its own: a pid can be reused), which ends its PID namespace.
            if process_in_netns(host.holder_pid, host.netns):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(host.holder_pid, signal.SIGKILL)
            deadline = time.monotonic() + TEARDOWN_TIMEOUT
            while pids := pids_in_netns({inode}):
                if time.monotonic() > deadline:
                    raise LabError(f"processes {pids} of {name} did not exit")
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                time.sleep(0.05)

    def enter_argv(self, name: str, command: list[str]) -> list[str]:
        """argv that runs `command` inside a host, with a clean environment."""
        host = self.find_host(name)
        return [
            "nsenter",
            "--target",
            str(host.holder_pid),
            "--mount",
            "--uts",
            "--net",
            "--pid",
            "--wd=/",
            "env",
            "-i",
            "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME=/root",
            "LC_ALL=C",
            *command,
        ]


def preflight() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab must run as root (it makes namespaces and loop devices)")
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing:
        raise LabError(f"missing {', '.join(missing)}; run lab/install-packages.sh first")
