"""/review with its buttons (show the answer, grade, end the session) and /retention, the
learner's review settings."""

from __future__ import annotations

from datetime import UTC, datetime

from fsrs import Rating

from core.chat import Ctx, Reply, Router
from core.chat.markup import escape
from core.chat.messages import Button
from core.chat.router import Param, action_id, action_numbers, parse_number
from core.errors import BadInput
from core.flashcards import jobs, service, undo, undo_commands
from core.flashcards.deck_params import deck_param
from core.flashcards.models import Deck, ReviewRound, StudyPrefs
from core.flashcards.scheduling import RATING_LABELS, RATINGS, format_interval
from core.identity.models import User
from core.identity.service import user_zone

router = Router()


@router.command(
    "review",
    usage="/review [deck]",
    summary="review due cards (all decks, or one)",
    area="cards",
    params=(deck_param("only this deck (default: all your decks)"),),
)
async def review_cmd(ctx: Ctx, args: str) -> Reply:
    deck = await service.find_deck(ctx.session, ctx.user, args) if args.strip() else None
    return await _start(ctx, deck)


@router.action("fc.review")
async def review_button(ctx: Ctx, payload: str) -> Reply:
    deck_id = parse_number(payload) if payload else None
    if payload and deck_id is None:
        raise BadInput("That button has expired. Try /decks again.")
    deck = await service.get_deck(ctx.session, ctx.user, deck_id) if deck_id is not None else None
    return await _start(ctx, deck)


async def _start(ctx: Ctx, deck: Deck | None) -> Reply:
    now = ctx.clock.now()
    run = await service.start_round(ctx.session, ctx.user, deck, now)
    shown = await _next(ctx, run)
    if shown is not None:
        return shown
    where = f"in **{escape(deck.name)}**" if deck else "in your decks"
    text = f"Nothing is due {where} right now. 🎉"
    prefs = await service.get_prefs(ctx.session, ctx.user)
    if await service.new_cards_left(ctx.session, ctx.user, prefs, now) == 0:
        text += (
            f"\nYou've started today's {prefs.new_per_day} new cards; "
            "`/retention new <n>` changes the daily limit."
        )
    return Reply.text(text)


async def _next(ctx: Ctx, run: ReviewRound) -> Reply | None:
    now = ctx.clock.now()
    card = await service.next_card(ctx.session, ctx.user, run, now)
    if card is None:
        return None
    shown_ms = _ms(now)
    label = "new" if card.is_new else "review"
    return Reply.text(
        f"_{escape(card.deck_name)} · {label}_\n\n{card.question}",
        [
            [Button("Show answer", action_id("fc.show", run.id, card.card_id, shown_ms))],
            [Button("End session", action_id("fc.end", run.id))],
        ],
        live_id=f"fc:{run.id}:{card.card_id}:{shown_ms}",
    )


@router.action("fc.show")
async def show_answer(ctx: Ctx, payload: str) -> Reply:
    run_id, card_id, shown_ms = _ints(payload, 3)
    run = await service.get_round(ctx.session, ctx.user, run_id)
    card = await service.show_card(ctx.session, ctx.user, card_id, ctx.clock.now())
    buttons = [
        Button(
            f"{RATING_LABELS[r]} · {format_interval(card.intervals[r])}",
            action_id("fc.grade", run.id, card_id, int(r), shown_ms),
        )
        for r in RATINGS
    ]
    return Reply.text(
        f"_{escape(card.deck_name)}_\n\n{card.question}\n\n———\n\n{card.answer}",
        [buttons, [Button("End session", action_id("fc.end", run.id))]],
        live_id=f"fc:{run.id}:{card_id}:{shown_ms}",
    )


@router.action("fc.grade")
async def grade_button(ctx: Ctx, payload: str) -> list[Reply]:
    run_id, card_id, rating, shown_ms = _ints(payload, 4)
    if rating not in {int(r) for r in RATINGS}:
        raise BadInput("That button has expired. Try /review again.")
    run = await service.get_round(ctx.session, ctx.user, run_id)
    now = ctx.clock.now()
    graded, undo_id = await undo.grade_undoably(
        ctx.session, ctx.user, run, card_id, Rating(rating), _from_ms(shown_ms), now
    )
    if graded.already:
        return [Reply.text("You already answered that card.")]
    card = await service.show_card(ctx.session, ctx.user, card_id, now)
    done = Reply.text(
        f"_{escape(card.deck_name)}_\n\n{card.question}\n\n———\n\n{card.answer}\n\n"
        f"{RATING_LABELS[Rating(rating)]} · next in {format_interval(graded.interval)}",
        [undo_commands.undo_button(undo_id)] if undo_id is not None else (),
        live_id=f"fc:{run.id}:{card_id}:{shown_ms}",
    )
    following = await _next(ctx, run)
    if following is None:
        return [done, await _summary(ctx, run)]
    return [done, following]


@router.action("fc.end")
async def end_button(ctx: Ctx, payload: str) -> Reply:
    (run_id,) = _ints(payload, 1)
    run = await service.get_round(ctx.session, ctx.user, run_id)
    return await _summary(ctx, run)


async def _summary(ctx: Ctx, run: ReviewRound) -> Reply:
    now = ctx.clock.now()
    summary = await service.finish_round(ctx.session, ctx.user, run, now)
    if summary.reviewed == 0:
        return Reply.text("Session ended. No cards reviewed.")
    counts = " · ".join(f"{RATING_LABELS[r]} {summary.by_rating[r]}" for r in RATINGS)
    minutes = max(round(summary.seconds / 60), 1)
    noun = "card" if summary.reviewed == 1 else "cards"
    text = f"**Session done**: {summary.reviewed} {noun} in about {minutes} min.\n{counts}"
    if summary.next_due is not None:
        local = summary.next_due.astimezone(user_zone(ctx.user))
        text += f"\nNext card due {local:%a %d %b %H:%M}."
    return Reply.text(text)


def _ints(payload: str, count: int) -> list[int]:
    numbers = action_numbers(payload, count)
    if numbers is None:
        raise BadInput("That button has expired. Try /review again.")
    return numbers


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


# Review settings -------------------------------------------------------------------------------


@router.command(
    "retention",
    usage="/retention [0.70-0.99 | new <n>]",
    summary="how much you want to remember (FSRS desired retention) and new cards per day",
    area="cards",
    params=(Param("value", "desired retention 0.70-0.99, or new <n> new cards a day"),),
)
async def retention_cmd(ctx: Ctx, args: str) -> Reply:
    value = args.strip().lower()
    if value.startswith("new"):
        count = parse_number(value[3:].strip())
        if count is None:
            raise BadInput("New cards per day is a number from 0 to 9999: /retention new 20")
        prefs = await service.set_new_per_day(ctx.session, ctx.user, count)
        return Reply.text(f"Up to {prefs.new_per_day} new cards a day.")
    if value:
        try:
            number = float(value.rstrip("%")) / (100 if value.endswith("%") else 1)
        except ValueError:
            raise BadInput("Desired retention is a number like 0.9 (or 90%).") from None
        prefs = await service.set_retention(ctx.session, ctx.user, number)
        return Reply.text(
            f"Desired retention set to {prefs.desired_retention:.2f}. Higher means shorter "
            "intervals and more reviews."
        )
    prefs = await service.get_prefs(ctx.session, ctx.user)
    tuned = "your own (fitted to your reviews)" if prefs.parameters else "the FSRS defaults"
    return Reply.text(
        f"Desired retention {prefs.desired_retention:.2f}; up to {prefs.new_per_day} new "
        f"cards a day; scheduling parameters: {tuned}.\n{_last_fitted(ctx.user, prefs)}\n"
        "Change with `/retention 0.9` or `/retention new 20`."
    )


def _last_fitted(user: User, prefs: StudyPrefs) -> str:
    if prefs.optimized_at is None:
        return (
            f"Not fitted to your reviews yet: that happens once you have "
            f"{jobs.MIN_REVIEWS_TO_OPTIMIZE:,} reviews."
        )
    local = prefs.optimized_at.astimezone(user_zone(user))
    day = f"{local.day} {local:%b %Y}"
    return (
        f"Schedule last fitted to your reviews on {day} ({prefs.optimized_reviews:,} reviews); "
        "a fit is kept only when it predicts your recall better than the parameters before it."
    )
