"""The tutor's tools called the way the tutor calls them (`run_tool` during the turn,
`apply` after Confirm), without a model in between: what each plan resolves and shows,
what each run writes, and what each refuses. Written against the survivors of a mutation
run of core/tutor/toolbox.py (docs/testing.md)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.messages import Sender
from core.flashcards import service as cards
from core.flashcards.models import Deck, Note
from core.identity import service as identity
from core.tasks.models import Reminder, Task
from core.tasks.service import Priority
from core.tutor import toolbox  # noqa: F401  (registers the tools)
from core.tutor.llm import ToolCall
from core.tutor.tools import Outcome, Plan, ToolContext, apply, run_tool
from teddy.runtime import Runtime
from tests.integration.test_tutor_grounded import upload
from tests.support.chat_driver import ChatDriver


@pytest.fixture
async def tc(core: Runtime) -> AsyncIterator[ToolContext]:
    """Alice's tool context inside one open transaction (as the tutor's turn has)."""
    async with core.db.transaction() as session:
        user = await identity.user_for_sender(
            session, Sender("test", "alice", "Alice"), core.services.clock.now()
        )
        yield ToolContext(session, user, None, core.services)


async def call(tc: ToolContext, name: str, args: dict[str, Any]) -> Outcome:
    return await run_tool(tc, ToolCall("call-1", name, json.dumps(args)))


async def plan_of(tc: ToolContext, name: str, args: dict[str, Any]) -> Plan:
    outcome = await call(tc, name, args)
    assert outcome.plan is not None, outcome.text
    assert outcome.text == outcome.plan.summary
    return outcome.plan


async def refusal(tc: ToolContext, name: str, args: dict[str, Any]) -> str:
    outcome = await call(tc, name, args)
    assert outcome.plan is None
    return outcome.text


async def rows(session: AsyncSession, model: type[Any]) -> list[Any]:
    return list(await session.scalars(select(model).order_by(model.id)))


# Tasks ------------------------------------------------------------------------------------


async def test_a_task_plan_resolves_every_argument_and_shows_them(tc: ToolContext) -> None:
    tc.user.timezone = "Asia/Tokyo"
    plan = await plan_of(
        tc,
        "create_task",
        {
            "title": "  Lab \n report ",
            "due": "friday 5pm",
            "subject": " #Chem ",
            "priority": "high",
        },
    )
    assert plan == Plan(
        "create_task",
        {
            "title": "Lab report",
            "due_at": "2026-11-27T08:00:00+00:00",
            "subject": "chem",
            "priority": "high",
        },
        "add the task “Lab report” (#chem, high), due Fri 27 Nov 17:00",
    )


async def test_a_plain_task_plan_is_medium_priority_with_nothing_in_brackets(
    tc: ToolContext,
) -> None:
    plan = await plan_of(tc, "create_task", {"title": "Read chapter 3"})
    assert plan.arguments == {
        "title": "Read chapter 3",
        "due_at": None,
        "subject": None,
        "priority": "medium",
    }
    assert plan.summary == "add the task “Read chapter 3”"
    medium = await plan_of(tc, "create_task", {"title": "x", "priority": "medium"})
    assert medium.summary == "add the task “x”"
    low = await plan_of(tc, "create_task", {"title": "x", "priority": "low", "subject": ""})
    assert low.summary == "add the task “x” (low)" and low.arguments["subject"] is None
    subject_only = await plan_of(tc, "create_task", {"title": "x", "subject": "bio"})
    assert subject_only.summary == "add the task “x” (#bio)"
    xray = await plan_of(tc, "create_task", {"title": "x", "subject": "##Xray"})
    assert xray.arguments["subject"] == "xray"  # only the hashes go


async def test_a_long_title_is_shortened_in_the_summary_only(tc: ToolContext) -> None:
    title = "word " * 40
    plan = await plan_of(tc, "create_task", {"title": title})
    assert plan.arguments["title"] == title.strip()
    assert plan.summary == f"add the task “{title.strip()[:119]}…”"


async def test_a_task_without_a_title_or_with_an_unreadable_or_past_due_is_refused(
    tc: ToolContext,
) -> None:
    said = await refusal(tc, "create_task", {"title": " \n "})
    assert said == "error: a task needs a title; nothing was done"
    said = await refusal(tc, "create_task", {"title": "x", "due": "someday maybe"})
    assert said == "error: “someday maybe” is not a date or time I can read; nothing was done"
    said = await refusal(tc, "create_task", {"title": "x", "due": "yesterday 5pm"})
    assert said == "error: “yesterday 5pm” is in the past; nothing was done"


async def test_a_due_time_of_exactly_now_is_in_the_past(tc: ToolContext) -> None:
    # The fixed clock reads Wednesday 09:00 UTC.
    said = await refusal(tc, "create_reminder", {"text": "x", "when": "today 9am"})
    assert said == "error: “today 9am” is in the past; nothing was done"
    plan = await plan_of(tc, "create_reminder", {"text": "x", "when": "today 9:01am"})
    assert plan.arguments["at"] == "2026-11-25T09:01:00+00:00"


async def test_a_confirmed_task_is_stored_as_planned_with_the_configured_reminders(
    tc: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tc.services.settings, "task_reminder_minutes", [1440])
    tc.user.timezone = "Europe/Berlin"
    plan = await plan_of(
        tc, "create_task", {"title": "Essay", "due": "tomorrow 6pm", "priority": "low"}
    )
    said = await apply(tc, plan.tool, plan.arguments)
    assert said == "created task #1: Essay, due Thu 26 Nov 18:00"
    (task,) = await rows(tc.session, Task)
    assert task.user_id == tc.user.id and task.title == "Essay" and task.subject is None
    assert task.due_at == datetime(2026, 11, 26, 17, 0, tzinfo=UTC)
    assert task.priority == int(Priority.LOW)
    assert task.next_remind_at == datetime(2026, 11, 25, 17, 0, tzinfo=UTC)  # a day before


async def test_a_confirmed_task_without_a_due_time_says_so_by_saying_nothing(
    tc: ToolContext,
) -> None:
    plan = await plan_of(tc, "create_task", {"title": "Tidy notes", "subject": "bio"})
    assert await apply(tc, plan.tool, plan.arguments) == "created task #1: Tidy notes"
    (task,) = await rows(tc.session, Task)
    assert task.due_at is None and task.subject == "bio"
    assert task.priority == int(Priority.MEDIUM) and task.next_remind_at is None


# Reminders --------------------------------------------------------------------------------


async def test_a_reminder_plan_shows_the_local_time_and_the_whole_text(tc: ToolContext) -> None:
    tc.user.timezone = "America/New_York"
    text = "call " + "mum " * 80
    plan = await plan_of(tc, "create_reminder", {"text": f"  {text}", "when": "tomorrow 9am"})
    flat = " ".join(text.split())
    assert plan.tool == "create_reminder"
    assert plan.arguments == {"text": flat, "at": "2026-11-26T14:00:00+00:00"}
    assert plan.summary == f"remind you on Thu 26 Nov 09:00: “{flat[:299]}…”"


async def test_a_reminder_needs_a_text(tc: ToolContext) -> None:
    said = await refusal(tc, "create_reminder", {"text": "  ", "when": "tomorrow 9am"})
    assert said == "error: a reminder needs a text; nothing was done"


async def test_a_confirmed_reminder_is_stored_for_the_planned_instant(tc: ToolContext) -> None:
    tc.user.timezone = "Asia/Kolkata"
    plan = await plan_of(tc, "create_reminder", {"text": "revise", "when": "tomorrow 8am"})
    said = await apply(tc, plan.tool, plan.arguments)
    assert said == "reminder set for Thu 26 Nov 08:00: revise"
    (reminder,) = await rows(tc.session, Reminder)
    assert reminder.user_id == tc.user.id and reminder.text == "revise"
    assert reminder.remind_at == datetime(2026, 11, 26, 2, 30, tzinfo=UTC)


# Flashcards -------------------------------------------------------------------------------


async def test_a_cards_plan_shows_each_card_and_counts_them(tc: ToolContext) -> None:
    plan = await plan_of(
        tc,
        "add_cards",
        {
            "deck": "  Cell \n biology ",
            "cards": [{"front": " ATP? ", "back": " energy "}, {"front": "DNA?", "back": "genes"}],
        },
    )
    assert plan.arguments == {
        "deck": "Cell biology",
        "cards": [{"front": "ATP?", "back": "energy"}, {"front": "DNA?", "back": "genes"}],
    }
    assert plan.summary == (
        "add 2 cards to your deck “Cell biology”: “ATP?” → “energy”; “DNA?” → “genes”"
    )
    one = await plan_of(tc, "add_cards", {"deck": "Bio", "cards": [{"front": "a", "back": "b"}]})
    assert one.summary == "add 1 card to your deck “Bio”: “a” → “b”"


async def test_long_card_sides_are_shortened_in_the_summary_only(tc: ToolContext) -> None:
    front, back = "f" * 80, "b" * 80
    plan = await plan_of(
        tc, "add_cards", {"deck": "Bio", "cards": [{"front": front, "back": back}]}
    )
    assert plan.arguments["cards"] == [{"front": front, "back": back}]
    assert plan.summary == f"add 1 card to your deck “Bio”: “{'f' * 59}…” → “{'b' * 59}…”"


async def test_a_cards_plan_refuses_a_nameless_deck_and_a_bad_card_before_confirm(
    tc: ToolContext,
) -> None:
    good = {"front": "a", "back": "b"}
    said = await refusal(tc, "add_cards", {"deck": " ", "cards": [good]})
    assert said == "error: the deck needs a name; nothing was done"
    said = await refusal(
        tc, "add_cards", {"deck": "Bio", "cards": [good, {"front": "a", "back": ""}]}
    )
    assert said.startswith("error: A card needs both sides")


async def test_confirmed_cards_go_to_a_new_deck_without_switching_the_current_one(
    tc: ToolContext,
) -> None:
    chemistry, _ = await cards.use_deck(tc.session, tc.user, "Chemistry")
    plan = await plan_of(
        tc,
        "add_cards",
        {"deck": "Biology", "cards": [{"front": "a", "back": "b"}, {"front": "c", "back": "d"}]},
    )
    said = await apply(tc, plan.tool, plan.arguments)
    assert said == "added 2 cards to deck Biology (0 duplicates)"
    biology = await cards.find_deck(tc.session, tc.user, "biology")
    assert biology.owner_id == tc.user.id and biology.id != chemistry.id
    assert (await cards.current_deck(tc.session, tc.user)) == chemistry
    fronts = await tc.session.scalars(select(Note.front).where(Note.deck_id == biology.id))
    assert sorted(fronts) == ["a", "c"]
    again = await apply(tc, plan.tool, plan.arguments)
    assert again == "added 0 cards to deck Biology (2 duplicates)"


async def test_cards_for_a_student_with_no_deck_make_the_new_deck_current(
    tc: ToolContext,
) -> None:
    plan = await plan_of(
        tc, "add_cards", {"deck": "Spanish", "cards": [{"front": "si", "back": "yes"}]}
    )
    await apply(tc, plan.tool, plan.arguments)
    current = await cards.current_deck(tc.session, tc.user)
    assert current is not None and current.name == "Spanish"
    assert len(await rows(tc.session, Deck)) == 1


async def test_cards_for_an_existing_deck_go_into_it_whatever_the_case_of_its_name(
    tc: ToolContext,
) -> None:
    deck, _ = await cards.use_deck(tc.session, tc.user, "Spanish")
    await cards.use_deck(tc.session, tc.user, "Chemistry")
    plan = await plan_of(
        tc, "add_cards", {"deck": "SPANISH", "cards": [{"front": "si", "back": "yes"}]}
    )
    assert (
        await apply(tc, plan.tool, plan.arguments) == "added 1 cards to deck Spanish (0 duplicates)"
    )
    assert len(await rows(tc.session, Deck)) == 2
    notes = list(await tc.session.scalars(select(Note.deck_id)))
    assert notes == [deck.id]
    current = await cards.current_deck(tc.session, tc.user)
    assert current is not None and current.name == "Chemistry"


# Searching documents ----------------------------------------------------------------------


async def test_search_quotes_at_most_five_passages_each_cut_at_700_characters(
    core: Runtime, chat: ChatDriver
) -> None:
    core.services.embedder = None  # keyword retrieval: deterministic
    for n in range(7):
        body = f"Mitochondria fact {n}. " + "x" * 900
        await upload(core, chat, f"notes{n}.txt", body.encode(), "text/plain")
    async with core.db.transaction() as session:
        user = await identity.user_for_sender(
            session, Sender("test", "alice", "Alice"), core.services.clock.now()
        )
        outcome = await run_tool(
            ToolContext(session, user, None, core.services),
            ToolCall("c", "search_documents", json.dumps({"query": "mitochondria fact"})),
        )
    assert outcome.plan is None
    passages = outcome.text.split("\n\n")
    assert len(passages) == 5
    for passage in passages:
        handle, _, text = passage.partition("] ")
        assert handle.startswith("[") and text.startswith("Mitochondria fact ")
        assert len(text) == 700


async def test_search_with_nothing_found_says_so(tc: ToolContext) -> None:
    tc.services.embedder = None
    outcome = await call(tc, "search_documents", {"query": "quantum chromodynamics"})
    assert outcome == Outcome("no passages found")
