"""`teddy up` (the whole product on one machine), `teddy worker`, `teddy beat`,
`teddy status` and `teddy jobs failed`."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from core.settings import Settings
from teddy.options import home_option, load_settings, read_settings
from teddy.supervisor import ChildSpec, ChildState, Supervisor, UpState, pid_alive

if TYPE_CHECKING:
    from celery import Celery

log = logging.getLogger("teddy.up")

# Ctrl-C budget (10 s in all): children get STOP_TIMEOUT, then the servers stop side by side.
STOP_TIMEOUT = 5.0
STOP_GRACE_WORKER = 3.0

# Bot commands started by `teddy up` when they exist and their credentials are set.
BOTS: tuple[tuple[str, Callable[[Settings], bool]], ...] = (
    ("telegram", lambda s: s.telegram_bot_token is not None),
    ("discord", lambda s: s.discord_bot_token is not None),
    ("slack", lambda s: s.slack_mode() is not None),
)


def state_path(settings: Settings) -> Path:
    return settings.home() / "run" / "up.json"


def child_specs(
    settings: Settings, commands: set[str], *, embed_port: int | None = None
) -> list[ChildSpec]:
    """The processes of the product: a worker, beat, the API and every configured bot, and
    `teddy embed` serving them the local model when it is what the settings would load."""
    from core.documents.embeddings import uses_local_model

    teddy = [sys.executable, "-m", "teddy"]
    specs = [ChildSpec("worker", [*teddy, "worker"]), ChildSpec("beat", [*teddy, "beat"])]
    if "api" in commands:
        specs.append(ChildSpec("api", [*teddy, "api"]))
    for command, configured in BOTS:
        if command in commands and configured(settings):
            specs.append(ChildSpec(command, [*teddy, command, *_bot_options(settings, command)]))
    clients = specs[2:]
    if clients and "embed" in commands and uses_local_model(settings):
        # Bots and the API ask it for query embeddings instead of each loading torch and
        # the model; the worker keeps its own for ingestion (batches, no network hop).
        port = embed_port if embed_port is not None else free_port()
        specs.insert(2, ChildSpec("embed", [*teddy, "embed", "--port", str(port)]))
        for spec in clients:
            spec.env["EMBEDDINGS_URL"] = f"http://127.0.0.1:{port}"
    return specs


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _bot_options(settings: Settings, command: str) -> list[str]:
    # Without an app-level token Slack cannot use Socket Mode: it posts HTTP events instead.
    if command == "slack" and settings.slack_app_token is None:
        return ["--http"]
    return []


@click.command()
@home_option
def up(home: Path | None) -> None:
    """Run the whole product here: servers, migrations, worker, beat, API and bots."""
    from teddy import migrate
    from teddy.cli import main
    from teddy.servers import start_servers

    settings = load_settings(home)
    path = state_path(settings)
    previous = UpState.read(path)
    if previous is not None and pid_alive(previous.pid):
        raise click.ClickException(f"teddy up is already running here (pid {previous.pid})")
    stop = _StopFlag()
    # Made here, once: children started together would otherwise race to make it.
    settings.resolved_secret_key()
    with start_servers(settings) as servers:
        migrate.upgrade(servers.database_url)
        env = {
            **os.environ,
            "TEDDY_HOME": str(settings.home()),
            "DATABASE_URL": servers.database_url,
            "REDIS_URL": servers.redis_url,
            "JOB_QUEUE": "celery",
            "PYTHONUNBUFFERED": "1",
        }
        # Running jobs get this long to finish on Ctrl-C; the rest go back to the queue.
        env.setdefault("WORKER_SHUTDOWN_GRACE", str(STOP_GRACE_WORKER))
        started = time.time()

        def report(children: list[ChildState]) -> None:
            UpState(os.getpid(), started, servers.database_url, servers.redis_url, children).write(
                path
            )

        supervisor = Supervisor(child_specs(settings, set(main.commands)), env, on_change=report)
        stop.target = supervisor
        requeue_app = None
        if settings.redis_url is None and settings.celery_broker_url is None:
            requeue_app = _requeue_after_worker_crash(
                supervisor, settings, servers.database_url, servers.redis_url
            )
        try:
            click.echo(
                f"Study Teddy is up: {', '.join(c.spec.name for c in supervisor.children)}. "
                "Ctrl-C stops everything.",
                err=True,
            )
            if not stop.requested:
                supervisor.run()
        finally:
            supervisor.stop_all(timeout=STOP_TIMEOUT)
            if requeue_app is not None:
                requeue_app.close()  # an open client would keep the embedded Redis alive
            with suppress(FileNotFoundError):
                path.unlink()
    click.echo("Study Teddy stopped.", err=True)


class _StopFlag:
    """SIGINT/SIGTERM handler installed before anything starts, so no signal is missed."""

    def __init__(self) -> None:
        self.requested = False
        self.target: Supervisor | None = None
        signal.signal(signal.SIGINT, self)
        signal.signal(signal.SIGTERM, self)

    def __call__(self, *_: Any) -> None:
        self.requested = True
        if self.target is not None:
            self.target.request_stop()


def _requeue_after_worker_crash(
    supervisor: Supervisor, settings: Settings, database_url: str, redis_url: str
) -> Celery:
    """With the embedded Redis the only worker is ours: when it dies, its unfinished jobs go
    straight back to the queue instead of waiting out the visibility timeout."""
    from teddy.bootstrap import celery_app as create_app
    from workers.inspect import requeue_unacked

    app = create_app(settings, database_url=database_url, redis_url=redis_url)

    def requeue(_: object) -> None:
        try:
            count = requeue_unacked(app)
        except Exception:
            log.exception("could not requeue the dead worker's jobs")
            return
        if count:
            log.warning("requeued %d unfinished job(s) of the dead worker", count)

    for child in supervisor.children:
        if child.spec.name == "worker":
            child.on_exit.append(requeue)
    return app


@click.command()
@home_option
@click.option("--concurrency", "-c", type=int, default=None, help="Jobs run at once.")
@click.option("--pool", type=click.Choice(["prefork", "solo", "threads"]), default="prefork")
@click.option("--health-port", type=int, default=None, help="Serve GET /healthz on this port.")
def worker(home: Path | None, concurrency: int | None, pool: str, health_port: int | None) -> None:
    """Run a Celery worker that runs background jobs."""
    # SIGTERM (Kubernetes, `teddy up`) lets running jobs finish for WORKER_SHUTDOWN_GRACE
    # seconds, then hands the rest back to the queue.
    os.environ.setdefault("REMAP_SIGTERM", "SIGQUIT")
    from teddy.bootstrap import celery_app as create_app
    from teddy.servers import start_servers
    from workers.config import QUEUE

    settings = load_settings(home)
    with start_servers(settings) as servers:
        app = create_app(settings, database_url=servers.database_url, redis_url=servers.redis_url)
        argv = [
            "worker",
            f"--loglevel={settings.log_level.upper()}",
            f"--concurrency={concurrency or settings.worker_concurrency}",
            f"--pool={pool}",
            f"--queues={QUEUE}",
            f"--hostname=teddy-{os.getpid()}@{socket.gethostname()}",
            "--without-mingle",
            "--without-gossip",
        ]
        if health_port is not None:
            _serve_worker_health(health_port)
        app.worker_main(argv)


def _serve_worker_health(port: int) -> None:
    """Healthy from the moment the worker consumes until it starts shutting down."""
    from celery import signals

    from workers.health import serve_health

    state = {"ready": False}

    def ready(**_: object) -> None:
        state["ready"] = True

    def stopping(**_: object) -> None:
        state["ready"] = False

    signals.worker_ready.connect(ready, weak=False)
    signals.worker_shutting_down.connect(stopping, weak=False)
    serve_health(port, lambda: state["ready"])


@click.command()
@home_option
@click.option("--health-port", type=int, default=None, help="Serve GET /healthz on this port.")
def beat(home: Path | None, health_port: int | None) -> None:
    """Run Celery beat: it queues every periodic sweep on time. Run exactly one."""
    from teddy.bootstrap import celery_app as create_app
    from teddy.servers import start_servers

    settings = load_settings(home)
    with start_servers(settings) as servers:
        app = create_app(settings, database_url=servers.database_url, redis_url=servers.redis_url)
        for name, entry in sorted(app.conf.beat_schedule.items()):
            log.info("beat: %s every %s", name, entry["schedule"])
        schedule = settings.home() / "run" / "celerybeat-schedule"
        schedule.parent.mkdir(parents=True, exist_ok=True)
        if health_port is not None:
            from workers.health import serve_health

            serve_health(health_port, lambda: True)
        app.Beat(schedule=str(schedule), loglevel=settings.log_level.upper()).run()


@click.command()
@home_option
def status(home: Path | None) -> None:
    """Show the processes of `teddy up`, the job queue's depth and failed jobs."""
    settings = read_settings(home)
    state = UpState.read(state_path(settings))
    if state is None or not pid_alive(state.pid):
        click.echo("teddy up: not running")
        database_url, redis_url = settings.database_url, settings.redis_url
    else:
        click.echo(f"teddy up: running (pid {state.pid}, up {_ago(state.started_at)})")
        for child in state.children:
            alive = child.state == "running" and pid_alive(child.pid)
            click.echo(
                f"  {child.name:<10} {'running' if alive else child.state:<10} "
                f"pid {child.pid or '-':<8} restarts {child.restarts}"
                + (f" (last exit {child.last_exit})" if child.last_exit is not None else "")
            )
        database_url, redis_url = state.database_url, state.redis_url
    if redis_url is not None or settings.celery_broker_url is not None:
        _echo_queues(settings, database_url or "", redis_url or "")
    if database_url is not None:
        count = asyncio.run(_failed_count(database_url))
        click.echo(f"failed jobs: {count}" + ("  (teddy jobs failed)" if count else ""))


def _echo_queues(settings: Settings, database_url: str, redis_url: str) -> None:
    from teddy.bootstrap import celery_app as create_app
    from workers.inspect import queue_depths

    app = create_app(settings, database_url=database_url, redis_url=redis_url)
    try:
        depths = queue_depths(app)
    except Exception as err:
        click.echo(f"queue: broker unreachable ({type(err).__name__})")
        return
    for depth in depths:
        extra = f", {depth.unacked} taken" if depth.unacked is not None else ""
        click.echo(f"queue {depth.queue}: {depth.waiting} waiting{extra}")


async def _failed_count(database_url: str) -> int:
    from core.db import Database
    from core.maintenance import service as maintenance

    db = Database(database_url, pool_size=1)
    try:
        async with db.transaction() as session:
            return await maintenance.count_failed_jobs(session)
    except Exception:
        return -1
    finally:
        await db.dispose()


def _ago(at: float) -> str:
    seconds = int(time.time() - at)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds}s"


@click.command("failed")
@home_option
@click.option("--limit", default=20, help="How many, newest first.")
@click.option("--traceback", "show_traceback", is_flag=True, help="Show each traceback.")
def jobs_failed(home: Path | None, limit: int, show_traceback: bool) -> None:
    """Jobs that failed for good (the dead letters), newest first."""
    from core.app import load_models
    from core.db import Database
    from core.maintenance import service as maintenance
    from teddy.servers import Servers, start_servers

    settings = read_settings(home)
    load_models()
    state = UpState.read(state_path(settings))
    if state is not None and pid_alive(state.pid):
        servers = Servers(state.database_url, state.redis_url)
    else:
        servers = start_servers(settings)

    async def run() -> None:
        db = Database(servers.database_url, pool_size=1)
        try:
            async with db.transaction() as session:
                rows = await maintenance.failed_jobs(session, limit=limit)
        finally:
            await db.dispose()
        if not rows:
            click.echo("no failed jobs")
        for row in rows:
            click.echo(
                f"#{row.id} {row.failed_at:%Y-%m-%d %H:%M:%S} {row.job} "
                f"attempts={row.attempts} id={row.correlation_id or '-'}\n"
                f"    {row.kwargs}\n    {row.error}"
            )
            if show_traceback:
                click.echo("    " + row.traceback.replace("\n", "\n    "))

    with servers:
        asyncio.run(run())
