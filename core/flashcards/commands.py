"""/deck, /decks, /roomdeck and /card; the capability's command router, which includes
/review and /retention (review_commands), /import and /export_deck (transfer_commands),
fixing cards and decks (/cards, /editcard, /delcard, /deck rename|del|merge: card_commands)
and /undo."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.chat import Ctx, Reply, Router
from core.chat.markup import count, escape
from core.chat.messages import Button
from core.chat.router import CHOICE, Param, Suggestion, action_id
from core.errors import BadInput
from core.flashcards import (
    card_commands,
    review_commands,
    service,
    transfer_commands,
    undo_commands,
)
from core.flashcards.deck_params import deck_param
from core.flashcards.notes import make_note
from core.identity.models import Room, User

router = Router()

CARD_USAGE = (
    "Add a card to your current deck:\n"
    "- `/card <front> | <back>`\n"
    "- `/card <front> | <back> | reverse` (also asks back → front)\n"
    "- `/card The capital of France is {{c1::Paris}}` (a cloze card per number)"
)


# Decks ----------------------------------------------------------------------------------


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
    params=(deck_param("a deck to switch to, or a new deck's name"),),
)
async def deck_cmd(ctx: Ctx, args: str) -> Reply:
    name = args.strip()
    if not name:
        current = await service.current_deck(ctx.session, ctx.user)
        where = f"Your current deck is **{escape(current.name)}**." if current else "No deck yet."
        return Reply.text(f"{where}\nUse `/deck <name>` to create or switch; /decks lists them.")
    head, _, rest = name.partition(" ")
    if head.lower() == "export" and rest.strip():
        return await transfer_commands.export(ctx, rest)
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
    params=(deck_param("one of your decks", required=True, own=True),),
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


# After this module's own commands, so help lists them in this order.
router.include(review_commands.router)
router.include(transfer_commands.router)
router.include(card_commands.router)
router.include(undo_commands.router)
