from datetime import UTC, datetime

from core.tasks.models import Task
from core.tasks.parsing import Priority
from core.tasks.schemas import TaskOut, TaskUpdate

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
