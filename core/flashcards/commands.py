"""/deck, /decks, /card, /review, /import, /export_deck, /roomdeck, /retention and the
review buttons. Fixing cards and decks (/cards, /editcard, /delcard, /deck rename|del|merge)
lives in card_commands."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import PurePath

from fsrs import Rating
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat import Ctx, Reply, Router
from core.chat.markup import count, escape
from core.chat.messages import Button, FilePart
from core.chat.router import CHOICE, Param, Suggestion, action_id, action_numbers, parse_number
from core.errors import BadInput
from core.flashcards import card_commands, exporting, importing, jobs, service, undo, undo_commands
from core.flashcards.models import Deck, ReviewSession, StudyPrefs
from core.flashcards.notes import make_note
from core.flashcards.scheduling import RATING_LABELS, RATINGS, format_interval
from core.identity.models import Room, User
from core.identity.service import user_zone

router = Router()
__all__ = ["jobs", "router"]  # importing jobs registers them

CARD_USAGE = (
    "Add a card to your current deck:\n"
    "- `/card <front> | <back>`\n"
    "- `/card <front> | <back> | reverse` (also asks back → front)\n"
    "- `/card The capital of France is {{c1::Paris}}` (a cloze card per number)"
)


# Decks ----------------------------------------------------------------------------------


def _deck_param(description: str, *, required: bool = False, own: bool = False) -> Param:
    return Param("deck", description, required=required, suggest="owndeck" if own else "deck")


@router.suggestions("deck")
async def suggest_decks(
    session: AsyncSession, user: User, room: Room | None, typed: str
) -> list[Suggestion]:
    decks = await service.decks_matching(session, user, typed)
    return [Suggestion(d.name, d.name) for d in decks]


@router.suggestions("owndeck")
async def suggest_own_decks(
    session: AsyncSession, user: User, room: Room | None, typed: str
) -> list[Suggestion]:
    decks = await service.decks_matching(session, user, typed, own_only=True)
    return [Suggestion(d.name, d.name) for d in decks]


@router.command(
    "deck",
    usage="/deck <name> | rename <old> <new> | del <name> | merge <from> <into>",
    summary="create or switch to a deck; rename, delete or merge decks; export <name> as files",
    area="cards",
    params=(_deck_param("a deck to switch to, or a new deck's name"),),
)
async def deck_cmd(ctx: Ctx, args: str) -> Reply:
    name = args.strip()
    if not name:
        current = await service.current_deck(ctx.session, ctx.user)
        where = f"Your current deck is **{escape(current.name)}**." if current else "No deck yet."
        return Reply.text(f"{where}\nUse `/deck <name>` to create or switch; /decks lists them.")
    head, _, rest = name.partition(" ")
    if head.lower() == "export" and rest.strip():
        return await _export(ctx, rest)
    managed = await card_commands.deck_subcommand(ctx, head, rest)
    if managed is not None:
        return managed
    deck, created = await service.use_deck(ctx.session, ctx.user, name)
    if created:
        return Reply.text(
            f"Created deck **{escape(deck.name)}** and made it your current deck.\n\n{CARD_USAGE}"
        )
    return Reply.text(f"Now using deck **{escape(deck.name)}**. /review to study it.")


@router.command("decks", usage="/decks", summary="your decks with cards due", area="cards")
async def decks_cmd(ctx: Ctx, args: str) -> Reply:
    decks = await service.list_decks(ctx.session, ctx.user, ctx.clock.now())
    if not decks:
        return Reply.text("You have no decks yet. Create one with /deck Biology.")
    current = await service.current_deck(ctx.session, ctx.user)
    lines = ["**Your decks**"]
    for d in decks:
        marker = " (current)" if current is not None and current.id == d.id else ""
        shared = ""
        if d.room_id is not None:
            shared = f" · shared with {escape(d.room_title or 'a room')}"
            shared += "" if d.owned else " (room deck)"
        cards = count(d.cards, "card")
        lines.append(f"- **{escape(d.name)}**{marker}: {d.due} due · {d.new} new · {cards}{shared}")
    buttons = [
        Button(f"Review {d.name[:40]}", action_id("fc.review", d.id))
        for d in decks
        if d.due or d.new
    ][:5]
    return Reply.text("\n".join(lines), [[b] for b in buttons])


@router.command(
    "roomdeck",
    usage="/roomdeck <name>",
    summary="share one of your decks with this room (each member has their own schedule)",
    area="rooms",
    rooms_only=True,
    params=(_deck_param("one of your decks", required=True, own=True),),
)
async def roomdeck_cmd(ctx: Ctx, args: str) -> Reply:
    if not args.strip():
        return Reply.text("Which deck? `/roomdeck <name>` shares one of your decks here.")
    assert ctx.room is not None
    deck = await service.share_with_room(ctx.session, ctx.user, ctx.room, args, ctx.clock.now())
    return Reply.text(
        f"**{escape(deck.name)}** is now shared with this room. Members: /review "
        f"{escape(deck.name)} studies it on your own schedule."
    )


# Cards ----------------------------------------------------------------------------------


@router.command(
    "card",
    usage="/card <front> | <back>",
    summary="add a card to the current deck; {{c1::...}} makes cloze cards",
    area="cards",
    params=(
        Param("front", "the question; {{c1::...}} in it makes cloze cards", required=True),
        Param("back", "the answer (not needed for cloze cards)", prefix="| "),
        Param("reverse", "also ask back → front", CHOICE, choices=("reverse",), prefix="| "),
    ),
)
async def card_cmd(ctx: Ctx, args: str) -> Reply:
    if not args.strip():
        return Reply.text(CARD_USAGE)
    deck = await service.current_deck(ctx.session, ctx.user)
    if deck is None:
        raise BadInput("Pick a deck first: /deck Biology, then /card front | back.")
    parts = [p.strip() for p in args.split("|")]
    reverse = len(parts) >= 3 and parts[-1].lower() in ("reverse", "r", "both")
    if reverse:
        parts = parts[:-1]
    if len(parts) > 2:
        raise BadInput("Use one | between front and back.\n\n" + CARD_USAGE)
    front = parts[0]
    back = parts[1] if len(parts) == 2 else ""
    if len(parts) == 1 and "{{c" not in front:
        raise BadInput("A card needs a front and a back.\n\n" + CARD_USAGE)
    draft = make_note(front, back, reverse=reverse)
    added = await service.add_notes(ctx.session, ctx.user, deck, [draft], ctx.clock.now())
    if added.notes == 0:
        return Reply.text(f"That card is already in **{escape(deck.name)}**.")
    noun = "card" if added.cards == 1 else "cards"
    return Reply.text(f"Added {added.cards} {noun} to **{escape(deck.name)}**. /review to study.")


# Review ---------------------------------------------------------------------------------


@router.command(
    "review",
    usage="/review [deck]",
    summary="review due cards (all decks, or one)",
    area="cards",
    params=(_deck_param("only this deck (default: all your decks)"),),
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
    run = await service.start_session(ctx.session, ctx.user, deck, now)
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


async def _next(ctx: Ctx, run: ReviewSession) -> Reply | None:
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
    run = await service.get_session(ctx.session, ctx.user, run_id)
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
    run = await service.get_session(ctx.session, ctx.user, run_id)
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
    run = await service.get_session(ctx.session, ctx.user, run_id)
    return await _summary(ctx, run)


async def _summary(ctx: Ctx, run: ReviewSession) -> Reply:
    now = ctx.clock.now()
    summary = await service.finish_session(ctx.session, ctx.user, run, now)
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


# Settings -------------------------------------------------------------------------------


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


# Import and export ----------------------------------------------------------------------


@router.command(
    "import",
    usage="/import [deck] (attach a .csv, .tsv or Anki .apkg file)",
    summary="import cards from CSV/TSV (front, back, tags) or an Anki .apkg",
    area="cards",
    params=(_deck_param("the deck to import into (default: your current deck)", own=True),),
)
async def import_cmd(ctx: Ctx, args: str) -> Reply:
    attachments = ctx.incoming.attachments
    if not attachments:
        return Reply.text(
            "Attach a file to /import: a .csv or .tsv with front, back[, tags] per line "
            "(Quizlet and Anki text exports work), or an Anki .apkg."
        )
    if len(attachments) > 1:
        raise BadInput("Send one file per /import.")
    attachment = attachments[0]
    importing.check_size(attachment.name, attachment.size)
    if not (
        importing.is_apkg(attachment.name)
        or attachment.name.lower().endswith((".csv", ".tsv", ".txt"))
    ):
        raise BadInput(
            f"I can import .csv, .tsv/.txt and Anki .apkg files, not “{escape(attachment.name)}”."
        )
    data = await attachment.fetch()
    parsed = await asyncio.to_thread(importing.parse_file, attachment.name, data)
    deck = await _import_target(ctx, args, attachment.name)
    service.require_owner(ctx.user, deck)
    added = await service.add_notes(ctx.session, ctx.user, deck, parsed.notes, ctx.clock.now())
    text = (
        f"Imported {count(added.cards, 'card')} ({count(added.notes, 'note')}) "
        f"into **{escape(deck.name)}**."
    )
    if added.duplicates:
        text += f"\n{added.duplicates} were already there and were skipped."
    if parsed.skipped:
        text += f"\n{parsed.skipped} notes of types I can't show as text were left out."
    return Reply.text(text)


async def _import_target(ctx: Ctx, args: str, filename: str) -> Deck:
    if args.strip():
        deck, _ = await service.use_deck(ctx.session, ctx.user, args)
        return deck
    current = await service.current_deck(ctx.session, ctx.user)
    if current is not None and current.owner_id == ctx.user.id:
        return current
    deck, _ = await service.use_deck(ctx.session, ctx.user, PurePath(filename).stem or "Imported")
    return deck


@router.command(
    "export_deck",
    usage="/export_deck <name>",
    summary="a deck as CSV and as an Anki .apkg",
    area="cards",
    params=(_deck_param("the deck to export", required=True),),
)
async def export_cmd(ctx: Ctx, args: str) -> Reply:
    if not args.strip():
        return Reply.text("Which deck? `/export_deck <name>` (see /decks).")
    return await _export(ctx, args)


async def _export(ctx: Ctx, args: str) -> Reply:
    deck = await service.find_deck(ctx.session, ctx.user, args)
    notes = await service.deck_notes(ctx.session, ctx.user, deck)
    apkg = await asyncio.to_thread(exporting.deck_apkg, deck.name, deck.id, notes)
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in deck.name)[:60] or "deck"
    return Reply.text(
        f"**{escape(deck.name)}**: {len(notes)} notes, as CSV and as an Anki package."
    ).with_parts(
        FilePart(f"{stem}.csv", exporting.deck_csv(notes), "text/csv"),
        FilePart(f"{stem}.apkg", apkg, "application/octet-stream"),
    )


# After this module's own commands, so help lists them in this order.
router.include(card_commands.router)
router.include(undo_commands.router)
