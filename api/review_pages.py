"""Reviewing flashcards on the web: the same review sessions, FSRS schedule and logs as
`/review` in chat, through the flashcards service. Each step is a plain page and form
(works without JavaScript); review.js adds Anki's keys (Space shows, 1-4 grade)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.pages import page, see_other
from api.web import CurrentUser, RowId, SignedIn, Tx, Viewer, check_csrf, state
from core.errors import BadInput, Forbidden, NotFound
from core.flashcards import service as flashcards
from core.flashcards.models import ReviewRound
from core.flashcards.scheduling import RATING_LABELS, RATINGS, format_interval
from core.flashcards.service import DueCard
from core.flashcards.undo import grade_undoably
from core.identity.models import User
from core.identity.service import user_zone

router = APIRouter(include_in_schema=False)
KEYS = {rating: str(number) for number, rating in enumerate(RATINGS, 1)}


@router.get("/review")
async def review_start_page(
    request: Request, who: SignedIn, user: CurrentUser, session: Tx
) -> Response:
    web = state(request)
    decks = await flashcards.list_decks(session, user, web.now())
    return page(request, "review_start.html", who=who, csrf=who.csrf_token, decks=decks)


@router.post("/review")
async def start_review(request: Request, who: SignedIn, user: CurrentUser, session: Tx) -> Response:
    form = await check_csrf(request, who.csrf_token)
    web = state(request)
    chosen = form.get("deck", "")
    deck = await flashcards.get_deck(session, user, _id(chosen)) if chosen else None
    run = await flashcards.start_round(session, user, deck, web.now())
    run_id = run.id
    return see_other(f"/review/{run_id}")


@router.get("/review/{run_id}")
async def review_next(
    request: Request, run_id: RowId, who: SignedIn, user: CurrentUser, session: Tx
) -> Response:
    """The next due card's front (its answer is in the page, hidden), or the summary."""
    web = state(request)
    now = web.now()
    run = await _run(session, user, run_id)
    card = None if run.finished_at else await flashcards.next_card(session, user, run, now)
    if card is None:
        return await _summary(request, who, session, user, run)
    return _card_page(request, who, run, card, _ms(now), revealed=False)


@router.get("/review/{run_id}/card/{card_id}")
async def review_answer(
    request: Request,
    run_id: RowId,
    card_id: RowId,
    shown: int,
    who: SignedIn,
    user: CurrentUser,
    session: Tx,
) -> Response:
    """The card with its answer and the four grades (what "Show answer" leads to)."""
    web = state(request)
    run = await _run(session, user, run_id)
    card = await flashcards.show_card(session, user, card_id, web.now())
    return _card_page(request, who, run, card, shown, revealed=True)


@router.post("/review/{run_id}/grade")
async def grade_card(
    request: Request, run_id: RowId, who: SignedIn, user: CurrentUser, session: Tx
) -> Response:
    form = await check_csrf(request, who.csrf_token)
    web = state(request)
    ratings = {str(int(r)): r for r in RATINGS}
    if form.get("rating") not in ratings:
        raise BadInput("Pick Again, Hard, Good or Easy.")
    run = await _run(session, user, run_id)
    await grade_undoably(
        session,
        user,
        run,
        _id(form.get("card", "")),
        ratings[form["rating"]],
        _from_ms(_id(form.get("shown", ""))),
        web.now(),
    )
    return see_other(f"/review/{run_id}")


@router.post("/review/{run_id}/end")
async def end_review(
    request: Request, run_id: RowId, who: SignedIn, user: CurrentUser, session: Tx
) -> Response:
    await check_csrf(request, who.csrf_token)
    web = state(request)
    run = await _run(session, user, run_id)
    await flashcards.finish_round(session, user, run, web.now())
    return see_other(f"/review/{run_id}")


async def _run(session: AsyncSession, user: User, run_id: int) -> ReviewRound:
    try:
        return await flashcards.get_round(session, user, run_id)
    except Forbidden:
        # Someone else's session is answered exactly like a missing one.
        raise NotFound("That review session doesn't exist.") from None


def _card_page(
    request: Request, who: Viewer, run: ReviewRound, card: DueCard, shown: int, *, revealed: bool
) -> Response:
    grades = [
        {
            "rating": int(r),
            "label": RATING_LABELS[r],
            "key": KEYS[r],
            "interval": format_interval(card.intervals[r]),
        }
        for r in RATINGS
    ]
    return page(
        request,
        "review_card.html",
        who=who,
        csrf=who.csrf_token,
        run=run,
        card=card,
        shown=shown,
        revealed=revealed,
        grades=grades,
    )


async def _summary(
    request: Request, who: Viewer, session: AsyncSession, user: User, run: ReviewRound
) -> Response:
    web = state(request)
    summary = await flashcards.finish_round(session, user, run, web.now())
    counts = [(RATING_LABELS[r], summary.by_rating[r]) for r in RATINGS]
    next_due = summary.next_due.astimezone(user_zone(user)) if summary.next_due else None
    return page(
        request,
        "review_summary.html",
        who=who,
        summary=summary,
        counts=counts,
        minutes=max(round(summary.seconds / 60), 1) if summary.reviewed else 0,
        next_due=next_due,
    )


def _id(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise BadInput("That form is out of date; reload the page.")
    return int(text)


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _from_ms(ms: int) -> datetime:
    try:
        return datetime.fromtimestamp(ms / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadInput("That form is out of date; reload the page.") from None
