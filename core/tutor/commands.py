"""Chat handlers of the tutor: plain text, photos and mentions, /newchat, /explain, /quiz."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from core.chat import Button, Ctx, Reply, Router
from core.chat.markup import escape
from core.chat.router import CHOICE, Param, action_id
from core.documents.retrieval import Passage
from core.errors import NotFound
from core.flashcards import card_commands
from core.tutor import (
    conversation,
    grounded,
    photo_job,
    photos,
    prompts,
    proposals,
    quizzes,
    service,
    turn,
)
from core.tutor.footers import answer_extras
from core.tutor.models import TutorQuiz

router = Router()


class LiveAnswer:
    """One message that grows as tokens arrive: sent on the first token, then edited at
    most once per `interval` seconds; the handler returns `final()` as the last edit."""

    def __init__(
        self,
        ctx: Ctx,
        live_id: str,
        interval: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ctx = ctx
        self.live_id = live_id
        self.interval = interval
        self.monotonic = monotonic
        self.text = ""
        self.edits = 0
        self._last: float | None = None

    async def push(self, delta: str) -> None:
        self.text += delta
        now = self.monotonic()
        if not self.text.strip() or (self._last is not None and now - self._last < self.interval):
            return
        self._last = now
        self.edits += 1
        await self.ctx.emit(Reply.text(escape(self.text), live_id=self.live_id))

    def final(
        self,
        text: str,
        footer: str = "",
        buttons: Sequence[Sequence[Button]] | Sequence[Button] = (),
    ) -> Reply:
        body = escape(text) if text.strip() else ""
        full = "\n\n".join(p for p in (body, footer) if p)
        return Reply.text(full, buttons, live_id=self.live_id)


def _live(ctx: Ctx, kind: str) -> LiveAnswer:
    live_id = f"{kind}-{ctx.user.id}-{time.monotonic_ns()}"
    return LiveAnswer(ctx, live_id, ctx.services.settings.tutor_stream_edit_seconds)


async def converse(ctx: Ctx, text: str, *, retry_of: int | None = None) -> Reply:
    """One streamed tutor turn; on a provider failure the partial answer stays, with a
    clear note and a Try again button (the student's message is already stored)."""
    live = _live(ctx, "tutor")
    key = service.chat_key(ctx.incoming)
    result = await turn.tutor_turn(
        ctx.session,
        ctx.services,
        ctx.user,
        ctx.room,
        key,
        text,
        live.push,
        retry_of=retry_of,
    )
    footer, rows = answer_extras(result)
    return live.final(result.text, footer, rows)


@router.action("tutor.tool_ok")
async def confirm_change(ctx: Ctx, payload: str) -> Reply:
    decision = await proposals.decide(
        ctx.session, ctx.services, ctx.user, ctx.room, payload, confirm=True
    )
    return Reply.text(escape(decision.message))


@router.action("tutor.tool_no")
async def cancel_change(ctx: Ctx, payload: str) -> Reply:
    decision = await proposals.decide(
        ctx.session, ctx.services, ctx.user, ctx.room, payload, confirm=False
    )
    return Reply.text(escape(decision.message))


@router.on_text
async def on_text(ctx: Ctx, text: str) -> Reply:
    key = service.chat_key(ctx.incoming)
    quiz = await quizzes.active_quiz(ctx.session, ctx.user, key)
    if quiz is not None:
        return await _grade(ctx, quiz, text)
    if service.ports(ctx.services).llm is None:
        return await _offline_answer(ctx, text)
    return await converse(ctx, text)


@router.on_photo
async def on_photo(ctx: Ctx, caption: str) -> Reply:
    """A photo of notes or a problem: checked and shrunk here, then read (by a vision model,
    else text recognition) and answered by the photo job, so this transaction never waits
    on either; the answer replaces the "Reading" message."""
    llm = service.ports(ctx.services).llm
    if llm is not None:
        await service.check_limits(ctx.session, ctx.services, ctx.user, ctx.clock.now())
    vision = llm is not None and ctx.services.settings.llm_vision
    photo = photos.the_photo(ctx.incoming)
    picture = await photos.picture_of(ctx.services.settings, photo, vision=vision)
    token = await photo_job.submit(
        ctx.session,
        ctx.services.jobs,
        ctx.user,
        ctx.room,
        key=service.chat_key(ctx.incoming),
        caption=caption,
        picture=picture,
        vision=vision,
        several=len(ctx.incoming.attachments) > 1,
        chat=ctx.incoming.chat,
    )
    doing = "Looking at" if vision else "Reading"
    return Reply.text(f"📷 {doing} your photo…", live_id=photo_job.live_id(token))


@router.action("tutor.retry")
async def retry(ctx: Ctx, payload: str) -> Reply:
    if not payload.isdigit():
        return Reply.text("That button has expired.")
    return await converse(ctx, "", retry_of=int(payload))


@router.command(
    "newchat", usage="/newchat", summary="start a fresh conversation (memory cleared)", area="tutor"
)
async def newchat(ctx: Ctx, args: str) -> Reply:
    key = service.chat_key(ctx.incoming)
    await conversation.new_conversation(ctx.session, ctx.user, key, ctx.clock.now())
    return Reply.text("Fresh start! I've forgotten our earlier chat here. What shall we study?")


@router.command(
    "explain",
    usage="/explain <concept>",
    summary="a clear explanation with an example",
    area="tutor",
    params=(Param("concept", "what to explain, e.g. photosynthesis", required=True),),
)
async def explain(ctx: Ctx, args: str) -> Reply:
    concept = args.strip()
    if not concept:
        return Reply.text("What should I explain? For example: /explain photosynthesis")
    service.require_llm(ctx.services, "/explain")
    return await converse(ctx, prompts.EXPLAIN.format(concept=concept))


# Quizzes ---------------------------------------------------------------------------------


@router.command(
    "quiz",
    usage="/quiz <topic> [easy|medium|hard]",
    summary="practice questions, answered in chat and graded",
    area="tutor",
    params=(
        Param("topic", "what to be quizzed on (stop: end the running quiz)", required=True),
        Param("level", "how hard the questions are", CHOICE, choices=("easy", "medium", "hard")),
    ),
)
async def quiz(ctx: Ctx, args: str) -> Reply:
    key = service.chat_key(ctx.incoming)
    if args.strip().lower() == "stop":
        current = await quizzes.active_quiz(ctx.session, ctx.user, key)
        if current is None:
            return Reply.text("There is no quiz running here.")
        current.finished_at = ctx.clock.now()
        return Reply.text(_score_line(current, stopped=True))
    started = await quizzes.start_quiz(ctx.session, ctx.services, ctx.user, key, args)
    intro = (
        f"**Quiz: {escape(started.topic)}** ({started.difficulty}, "
        f"{len(started.questions)} questions). Answer in your next message; /quiz stop ends it."
    )
    return Reply.text(f"{intro}\n\n{_question(started)}")


async def _grade(ctx: Ctx, current: TutorQuiz, answer: str) -> Reply:
    graded = await quizzes.grade_answer(ctx.session, ctx.services, ctx.user, current, answer)
    verdict = "✅ Correct!" if graded.correct else "❌ Not quite."
    lines = [f"{verdict} {escape(graded.feedback)}"]
    if not graded.correct and graded.expected:
        lines.append(f"Expected: {escape(graded.expected)}")
    if current.finished_at is not None:
        lines.append(_score_line(current))
    else:
        lines.append(_question(current))
    return Reply.text("\n\n".join(lines))


def _question(current: TutorQuiz) -> str:
    n = len(current.results)
    text = current.questions[n]["question"]
    return f"**Question {n + 1}/{len(current.questions)}:** {escape(text)}"


def _score_line(current: TutorQuiz, *, stopped: bool = False) -> str:
    score = quizzes.quiz_score(current)
    answered = len(current.results)
    total = answered if stopped else len(current.questions)
    head = "Quiz stopped." if stopped else "Quiz finished!"
    return f"**{head} Score: {score}/{total}** on {escape(current.topic)}."


# Grounded answers and cards ------------------------------------------------------------


@router.command(
    "ask",
    usage="/ask <question>",
    summary="an answer from your (and the room's) documents, with numbered citations",
    area="tutor",
    params=(Param("question", "what you want to know", required=True),),
)
async def ask(ctx: Ctx, args: str) -> Reply:
    question = args.strip()
    if not question:
        return Reply.text("What would you like to know? For example: /ask what is glycolysis?")
    live = _live(ctx, "ask")
    key = service.chat_key(ctx.incoming)
    result = await grounded.grounded_answer(
        ctx.session, ctx.services, ctx.user, ctx.room, key, question, live.push
    )
    private = ctx.room is not None  # passages may quote the asker's private documents
    keyword_only = f"\n\n{result.note}" if result.note else ""
    if not result.passages:
        return Reply.text(
            f"Your documents don't cover “{escape(question)}”: I found no matching passage. "
            f"Send me a PDF, DOCX, TXT or MD file and ask again.{keyword_only}",
            private=private,
        )
    if result.text:
        numbers = result.cited or list(range(1, len(result.passages) + 1))
        reply = live.final(result.text, _sources(result.passages, numbers) + keyword_only)
    else:
        note = f"⚠️ {escape(result.error)}" if result.error else prompts.CONNECT_MODEL
        reply = live.final("", f"{_passages(result.passages)}\n\n{note}{keyword_only}")
    return Reply(reply.parts, reply.live_id, private, reply.kind)


def _sources(passages: Sequence[Passage], numbers: Sequence[int]) -> str:
    lines = ["**Sources**"]
    lines += [f"\\[{n}\\] {escape(passages[n - 1].handle)}" for n in numbers]
    return "\n".join(lines)


def _passages(passages: Sequence[Passage], limit: int = 3) -> str:
    lines = ["**From your documents:**"]
    for n, passage in enumerate(passages[:limit], 1):
        text = passage.text if len(passage.text) <= 400 else passage.text[:399] + "…"
        lines.append(f"\\[{n}\\] **{escape(passage.handle)}**: {escape(text)}")
    return "\n\n".join(lines)


async def _offline_answer(ctx: Ctx, text: str) -> Reply:
    found = await grounded.find_passages(ctx.session, ctx.services, ctx.user, ctx.room, text)
    if not found.passages:
        return Reply.text(prompts.CONNECT_MODEL)
    keyword_only = f"\n\n{found.note}" if found.note else ""
    body = f"{_passages(found.passages)}\n\n{prompts.CONNECT_MODEL}{keyword_only}"
    return Reply.text(body, private=ctx.room is not None)


@router.command(
    "cards",
    usage="/cards [deck] [search] · /cards from <doc n|topic>",
    summary="find and fix your cards; with from: cards written by the tutor, for approval",
    area="cards",
    params=(
        Param("deck", "only this deck", suggest="deck"),
        Param("search", "words on the card"),
        Param(
            "source",
            "a topic, or a document's number from /docs",
            suggest="document",
            prefix="from ",
        ),
    ),
)
async def cards_from(ctx: Ctx, args: str) -> Reply:
    word, _, rest = args.strip().partition(" ")
    if word.lower() != "from":
        return await card_commands.cards_browse(ctx, args)
    label, drafts = await grounded.draft_cards(ctx.session, ctx.services, ctx.user, ctx.room, rest)
    draft = await grounded.save_draft(ctx.session, ctx.user, label, drafts)
    lines = [f"**{len(drafts)} cards on {escape(label)}**: add them?"]
    lines += [f"- {escape(d['front'])} → {escape(d['back'])}" for d in drafts]
    buttons = [
        Button("Approve", action_id("tutor.cards_ok", draft.id)),
        Button("Discard", action_id("tutor.cards_no", draft.id)),
    ]
    return Reply.text("\n".join(lines), buttons)


@router.action("tutor.cards_ok")
async def approve_cards(ctx: Ctx, payload: str) -> Reply:
    deck, added = await grounded.decide_draft(
        ctx.session, ctx.services, ctx.user, ctx.room, _draft_id(payload), approve=True
    )
    noun = "card" if added == 1 else "cards"
    return Reply.text(f"Added {added} {noun} to **{escape(deck)}**. /review to study them.")


@router.action("tutor.cards_no")
async def discard_cards(ctx: Ctx, payload: str) -> Reply:
    await grounded.decide_draft(
        ctx.session, ctx.services, ctx.user, ctx.room, _draft_id(payload), approve=False
    )
    return Reply.text("Discarded; nothing was added.")


def _draft_id(payload: str) -> int:
    if not payload.isdigit():
        raise NotFound("That button has expired.")
    return int(payload)
