"""Hosts simulated with network namespaces: each host is a namespace whose one interface
(`eth0`, 10.231.0.x/24) is cabled to a bridge living in a switch namespace of its own, so no
address or link is added outside the test's namespaces, and nothing in one host reaches
another through loopback. Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and `ip`."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import subprocess
from collections.abc import Iterator

SUBNET = "10.231.0"
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _ip(*args: str) -> None:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise OSError(f"ip {' '.join(args)}: {result.stderr.strip()}")


def unavailable() -> str | None:
    """Why namespaces cannot be made here, or None when they can."""
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    probe = f"tdyprobe{os.getpid()}"
    try:
        _ip("netns", "add", probe)
    except OSError as err:
        return f"cannot make network namespaces (needs root): {err}"
    with contextlib.suppress(OSError):
        _ip("netns", "del", probe)
    return None


class Network:
    """`hosts` name -> address; `run(host)` is the argv prefix that runs a command there."""

    def __init__(self, names: list[str]) -> None:
        self.tag = f"tdy{os.getpid() % 100000}"
        self.switch = f"{self.tag}sw"
        self.hosts = {name: f"{SUBNET}.{i}" for i, name in enumerate(names, start=2)}
        self._made: list[str] = []

    def namespace(self, host: str) -> str:
        return f"{self.tag}{host}"

    def run(self, host: str) -> list[str]:
        return ["ip", "netns", "exec", self.namespace(host)]

    def create(self) -> None:
        self._add(self.switch)
        _ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.switch, "link", "set", "br0", "up")
        for i, (host, address) in enumerate(self.hosts.items()):
            namespace = self.namespace(host)
            self._add(namespace)
            port = f"port{i}"
            _ip("-n", self.switch, "link", "add", port, "type", "veth", "peer", "eth0", "netns",
                namespace)  # fmt: skip
            _ip("-n", self.switch, "link", "set", port, "master", "br0", "up")
            _ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
            _ip("-n", namespace, "link", "set", "eth0", "up")
            _ip("-n", namespace, "link", "set", "lo", "up")

    def _add(self, namespace: str) -> None:
        _ip("netns", "add", namespace)
        self._made.append(namespace)

    def remove(self) -> None:
        for namespace in reversed(self._made):
            with contextlib.suppress(OSError):
                _ip("netns", "del", namespace)
        self._made.clear()

    @contextlib.contextmanager
    def inside(self, host: str) -> Iterator[None]:
        """Sockets this thread makes meanwhile belong to `host` (they stay there after)."""
        here = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        there = os.open(f"/run/netns/{self.namespace(host)}", os.O_RDONLY)
        try:
            _setns(there)
            try:
                yield
            finally:
                _setns(here)
        finally:
            os.close(here)
            os.close(there)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
