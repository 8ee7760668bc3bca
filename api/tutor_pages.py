"""The tutor on the web: the running conversation with its history, answers streamed as
server-sent events, "new chat", earlier conversations to reread, and quizzes graded answer
by answer. Every rule and limit is the chat's, in core.tutor."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.pages import page, see_other
from api.streaming import OnText, run_warm, stream, wants_stream
from api.web import (
    CurrentUser,
    RowId,
    SignedIn,
    Tx,
    Viewer,
    WebState,
    check_csrf,
    load_user,
    state,
    viewer,
)
from core.errors import TeddyError
from core.identity.models import User
from core.tutor import conversation, conversations, prompts, proposals, quizzes
from core.tutor import service as tutor
from core.tutor.conversations import Answered
from core.tutor.models import TutorQuiz

router = APIRouter(include_in_schema=False)


def quiz_question(quiz: TutorQuiz) -> str:
    n = len(quiz.results)
    return f"Question {n + 1}/{len(quiz.questions)}: {quiz.questions[n]['question']}"


def quiz_score(quiz: TutorQuiz, *, stopped: bool = False) -> str:
    total = len(quiz.results) if stopped else len(quiz.questions)
    head = "Quiz stopped." if stopped else "Quiz finished!"
    return f"{head} Score: {quizzes.quiz_score(quiz)}/{total} on {quiz.topic}."


def reply_data(answered: Answered) -> dict[str, Any]:
    """The `done` event (and the page without JavaScript): the answer's text and what
    comes under it."""
    notes: list[str] = []
    retry: int | None = None
    if answered.error:
        notes.append(f"{answered.error} Your message is saved: press Try again in a moment.")
        retry = answered.message_id
    if answered.graded is not None and answered.quiz is not None:
        graded, quiz = answered.graded, answered.quiz
        lines = [f"{'Correct!' if graded.correct else 'Not quite.'} {graded.feedback}".strip()]
        if not graded.correct and graded.expected:
            lines.append(f"Expected: {graded.expected}")
        finished = quiz.finished_at is not None
        lines.append(quiz_score(quiz) if finished else quiz_question(quiz))
        return {"text": "\n\n".join(lines), "notes": notes, "quiz": not finished}
    if answered.offline:
        found = [f"[{n}] {p.handle}: {p.text[:400]}" for n, p in enumerate(answered.passages, 1)]
        head = ["From your documents:", *found] if found else []
        return {"text": "\n\n".join([*head, prompts.CONNECT_MODEL]), "notes": notes}
    offers = [{"id": p.id, "summary": p.summary} for p in answered.proposals]
    return {"text": answered.text, "notes": notes, "proposals": offers, "retry": retry}


async def _render(
    request: Request,
    session: AsyncSession,
    user: User,
    who: Viewer,
    conversation_id: int | None = None,
    **extra: Any,
) -> Response:
    listed = await conversations.conversation_list(session, user)
    if conversation_id is None:
        conv = await conversations.open_conversation(session, user)
    else:
        conv = await conversations.own_conversation(session, user, conversation_id)
    shown = await conversations.messages_of(session, conv) if conv is not None else []
    quiz = await quizzes.active_quiz(session, user, conversations.WEB_CHAT_KEY)
    return page(
        request,
        "tutor.html",
        who=who,
        csrf=who.csrf_token,
        conversations=listed,
        current=conv,
        reading=conversation_id is not None and conv is not None and conv.closed_at,
        messages=shown,
        quiz=quiz_question(quiz) if quiz is not None else None,
        offline=tutor.ports(state(request).core.services).llm is None,
        **extra,
    )


async def _tutor_page(request: Request, who: Viewer, **extra: Any) -> Response:
    async with state(request).transaction() as session:
        return await _render(request, session, await load_user(session, who), who, **extra)


@router.get("/tutor")
async def tutor_page(request: Request, who: SignedIn, user: CurrentUser, session: Tx) -> Response:
    return await _render(request, session, user, who)


@router.get("/tutor/conversations/{conversation_id}")
async def earlier_conversation(
    request: Request, conversation_id: RowId, who: SignedIn, user: CurrentUser, session: Tx
) -> Response:
    return await _render(request, session, user, who, conversation_id)


@router.post("/tutor")
async def say(request: Request, who: Viewer = Depends(viewer)) -> Response:
    form = await check_csrf(request, who.csrf_token)
    web = state(request)
    text = form.get("text", "")
    retry = form.get("retry", "")
    # Try again after a failed answer: the stored message, answered again.
    retry_of = int(retry) if retry.isascii() and retry.isdigit() and len(retry) < 19 else None

    async def work(on_text: OnText) -> dict[str, Any]:
        async with web.transaction() as session:
            user = await load_user(session, who)
            answered = await conversations.answer(
                session, web.core.services, user, text, on_text, retry_of=retry_of
            )
        return reply_data(answered)

    if wants_stream(request.headers.get("accept", "")):
        return stream(work)

    async def ignore(delta: str) -> None:
        return None

    try:
        reply = await run_warm(work, ignore)
    except TeddyError as err:
        return await _tutor_page(request, who, error=err.message, draft=text, retry=retry_of)
    return await _tutor_page(request, who, reply=reply)


@router.post("/tutor/new")
async def new_chat(request: Request, who: Viewer = Depends(viewer)) -> Response:
    await check_csrf(request, who.csrf_token)
    web = state(request)
    async with web.transaction() as session:
        user = await load_user(session, who)
        await conversation.new_conversation(session, user, conversations.WEB_CHAT_KEY, web.now())
    return see_other("/tutor")


@router.post("/tutor/quiz")
async def start_quiz(request: Request, who: Viewer = Depends(viewer)) -> Response:
    form = await check_csrf(request, who.csrf_token)
    web = state(request)
    args = f"{form.get('topic', '')} {form.get('level', '')}".strip()
    try:
        await _start(web, who, args)
    except TeddyError as err:
        return await _tutor_page(request, who, error=err.message)
    return see_other("/tutor#quiz")


async def _start(web: WebState, who: Viewer, args: str) -> None:
    async with web.transaction() as session:
        user = await load_user(session, who)
        await quizzes.start_quiz(session, web.core.services, user, conversations.WEB_CHAT_KEY, args)


@router.post("/tutor/quiz/stop")
async def stop_quiz(request: Request, who: Viewer = Depends(viewer)) -> Response:
    await check_csrf(request, who.csrf_token)
    web = state(request)
    async with web.transaction() as session:
        user = await load_user(session, who)
        stopped = await conversations.stop_quiz(session, user, web.now())
        notice = quiz_score(stopped, stopped=True) if stopped else "There is no quiz running."
    return await _tutor_page(request, who, notice=notice)


@router.post("/tutor/proposals/{proposal_id}")
async def decide(request: Request, proposal_id: RowId, who: Viewer = Depends(viewer)) -> Response:
    """Confirm or cancel a change the tutor proposed (only the asker's own, once)."""
    form = await check_csrf(request, who.csrf_token)
    web = state(request)
    async with web.transaction() as session:
        user = await load_user(session, who)
        decision = await proposals.decide(
            session,
            web.core.services,
            user,
            None,
            str(proposal_id),
            confirm=form.get("confirm") == "1",
        )
    return await _tutor_page(request, who, notice=decision.message)
