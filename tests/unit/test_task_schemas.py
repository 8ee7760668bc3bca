from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from api.schemas.tasks import TaskCreate, TaskOut, TaskUpdate
from core.identity.models import User
from core.tasks.models import Task
from core.tasks.parsing import Priority

AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_task_out_names_the_priority_and_keeps_utc_times() -> None:
    task = Task(
        id=7,
        number=3,
        title="Lab",
        notes="",
        subject="chem",
        priority=1,
        due_at=AT,
        completed_at=None,
        completed_by_user_id=None,
        room_id=None,
        created_at=AT,
        updated_at=AT,
    )
    out = TaskOut.of(task)
    assert (out.number, out.priority, out.due_at) == (3, "high", AT)


def test_task_update_maps_to_service_changes() -> None:
    changes = TaskUpdate(priority="low", clear_due=True).changes()
    assert changes.priority is Priority.LOW and changes.clear_due and changes.title is None


def test_task_create_reads_text_and_lets_fields_win() -> None:
    user = User(display_name="Ana", timezone="UTC", locale="en")
    new = TaskCreate(text="Lab report tomorrow 5pm #chem !high", priority="low").resolve(user, AT)
    assert (new.title, new.subject, new.priority) == ("Lab report", "chem", Priority.LOW)
    assert new.due_at == datetime(2026, 11, 26, 17, 0, tzinfo=UTC)


def test_task_times_need_a_zone_and_a_representable_utc_time() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        TaskCreate.model_validate({"title": "x", "due_at": "2027-01-01T10:00:00"})
    with pytest.raises(ValidationError, match="out of range"):
        TaskUpdate.model_validate({"due_at": "9999-12-31T23:00:00-05:00"})
    assert TaskUpdate.model_validate({"done": True}).completed is True
