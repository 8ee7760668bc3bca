"""The tutor as a page rather than a chat: the signed-in student's conversations on the
web (one chat key), each one's messages, and one message answered as the chat answers
plain text (a running quiz grades it; with no model, passages from the documents)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.context import Services
from core.documents.retrieval import Passage
from core.errors import BadInput, NotFound
from core.identity.models import User
from core.tutor import grounded, quizzes, service
from core.tutor.models import TutorConversation, TutorMessage, TutorQuiz
from core.tutor.proposals import Proposed
from core.tutor.quizzes import Graded
from core.tutor.turn import OnText, tutor_turn

WEB_CHAT_KEY = "web"
MAX_MESSAGE = 4000
LISTED = 30
TITLE_CHARS = 60


@dataclass(frozen=True)
class ConversationItem:
    id: int
    title: str
    started_at: datetime
    messages: int
    open: bool


@dataclass(frozen=True)
class ShownMessage:
    role: str
    content: str
    at: datetime


async def conversation_list(
    session: AsyncSession, user: User, key: str = WEB_CHAT_KEY
) -> list[ConversationItem]:
    """The student's conversations under `key`, newest first, titled by their first
    message; conversations with no message are left out."""
    first = (
        select(
            TutorMessage.conversation_id,
            func.min(TutorMessage.id).label("first_id"),
            func.count().label("count"),
        )
        .group_by(TutorMessage.conversation_id)
        .subquery()
    )
    rows = await session.execute(
        select(TutorConversation, TutorMessage.content, first.c.count)
        .join(first, first.c.conversation_id == TutorConversation.id)
        .join(TutorMessage, TutorMessage.id == first.c.first_id)
        .where(TutorConversation.user_id == user.id, TutorConversation.chat_key == key)
        .order_by(TutorConversation.id.desc())
        .limit(LISTED)
    )
    return [
        ConversationItem(
            conv.id, _title(content), conv.created_at, int(count), conv.closed_at is None
        )
        for conv, content, count in rows.all()
    ]


def _title(content: str) -> str:
    line = " ".join(content.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


async def open_conversation(
    session: AsyncSession, user: User, key: str = WEB_CHAT_KEY
) -> TutorConversation | None:
    """The running conversation under `key`, if any (none is created by looking)."""
    found: TutorConversation | None = await session.scalar(
        select(TutorConversation)
        .where(
            TutorConversation.user_id == user.id,
            TutorConversation.chat_key == key,
            TutorConversation.closed_at.is_(None),
        )
        .order_by(TutorConversation.id.desc())
        .limit(1)
    )
    return found


async def own_conversation(
    session: AsyncSession, user: User, conversation_id: int, key: str = WEB_CHAT_KEY
) -> TutorConversation:
    """One of the student's conversations under `key`; anyone else's is NotFound."""
    conv = await session.scalar(
        select(TutorConversation).where(
            TutorConversation.id == conversation_id,
            TutorConversation.user_id == user.id,
            TutorConversation.chat_key == key,
        )
    )
    if conv is None:
        raise NotFound("That conversation doesn't exist.")
    return conv


async def messages_of(session: AsyncSession, conv: TutorConversation) -> list[ShownMessage]:
    rows = await session.execute(
        select(TutorMessage.role, TutorMessage.content, TutorMessage.created_at)
        .where(TutorMessage.conversation_id == conv.id)
        .order_by(TutorMessage.id)
    )
    return [ShownMessage(role, content, at) for role, content, at in rows.all()]


@dataclass
class Answered:
    """What one message got: a streamed answer, a graded quiz answer, or (no model)
    passages from the documents."""

    text: str = ""
    error: str | None = None
    message_id: int | None = None
    proposals: list[Proposed] = field(default_factory=list)
    graded: Graded | None = None
    quiz: TutorQuiz | None = None
    passages: list[Passage] = field(default_factory=list)
    offline: bool = False


async def answer(
    session: AsyncSession,
    services: Services,
    user: User,
    text: str,
    on_text: OnText,
    key: str = WEB_CHAT_KEY,
    *,
    retry_of: int | None = None,
) -> Answered:
    """Answer one message as the chat answers plain text, under the same limits.
    `retry_of`: the id of the student's stored message the model failed to answer (the
    chat's Try again); it is answered again, `text` unused."""
    if retry_of is not None:
        turn = await tutor_turn(session, services, user, None, key, "", on_text, retry_of=retry_of)
        return Answered(turn.text, turn.error, turn.message_id, turn.proposals)
    text = text.strip()
    if not text:
        raise BadInput("Type a message first.")
    if len(text) > MAX_MESSAGE:
        raise BadInput(f"Keep a message under {MAX_MESSAGE:,} characters.")
    quiz = await quizzes.active_quiz(session, user, key)
    if quiz is not None:
        graded = await quizzes.grade_answer(session, services, user, quiz, text)
        return Answered(graded=graded, quiz=quiz)
    if service.ports(services).llm is None:
        found = await grounded.find_passages(session, services, user, None, text)
        return Answered(passages=found.passages, offline=True)
    turn = await tutor_turn(session, services, user, None, key, text, on_text)
    return Answered(turn.text, turn.error, turn.message_id, turn.proposals)


async def stop_quiz(
    session: AsyncSession, user: User, now: datetime, key: str = WEB_CHAT_KEY
) -> TutorQuiz | None:
    """End the running quiz under `key`; the stopped quiz, or None when none ran."""
    quiz = await quizzes.active_quiz(session, user, key)
    if quiz is not None:
        quiz.finished_at = now
    return quiz
