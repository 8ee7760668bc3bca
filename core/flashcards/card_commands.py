"""Fixing cards and decks in chat: `/cards [deck] [search]` (reached through `/cards`,
whose `from` form makes cards with the tutor), `/editcard`, `/delcard`, and the
`/deck rename|del|merge` sub-commands with their buttons."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.chat import Ctx, Reply, Router
from core.chat.markup import count, escape, shorten
from core.chat.messages import MAX_ACTION_BYTES, Button
from core.chat.router import INTEGER, Param, Suggestion, action_id
from core.errors import BadInput, NotFound
from core.flashcards import browse, decks, service
from core.flashcards.browse import CardEntry, CardPage
from core.flashcards.models import Deck
from core.flashcards.names import SUBCOMMANDS
from core.identity.models import Room, User

router = Router()

PAGE_SIZE = 5
CARDS_USAGE = "/cards [deck] [search]"
EDIT_USAGE = "/editcard <n> <front> | <back>"
RENAME_USAGE = "/deck rename <old> <new>"
DELETE_USAGE = "/deck del <name>"
MERGE_USAGE = "/deck merge <from> <into>"
# Deck names may hold spaces; only this many leading words are tried as one.
MAX_NAME_WORDS = 12


def _number(args: str, usage: str) -> tuple[int, str]:
    head, _, rest = args.strip().partition(" ")
    if not head:
        raise BadInput(f"Which card? `{usage}` — the number from /cards.")
    if not head.isdecimal() or len(head) > 12:
        raise BadInput(f"“{escape(shorten(head, 20))}” is not a card number. `{usage}`")
    return int(head), rest.strip()


def _sides(entry: CardEntry) -> str:
    if entry.kind == "cloze":
        return escape(shorten(entry.front, 80))
    return f"{escape(shorten(entry.front, 60))} → {escape(shorten(entry.back, 60))}"


def _line(entry: CardEntry, show_deck: bool) -> str:
    extra = []
    if show_deck:
        extra.append(f"_{escape(entry.deck_name)}_")
    if entry.kind == "reverse":
        extra.append("both ways")
    if entry.suspended:
        extra.append("⏸ suspended")
    tail = f" · {' · '.join(extra)}" if extra else ""
    return f"- **{entry.number}**. {_sides(entry)}{tail}"


# Browsing -------------------------------------------------------------------------------


async def cards_browse(ctx: Ctx, args: str) -> Reply:
    """`/cards [deck] [search]`: a deck name may lead (the longest one that matches)."""
    if "\x00" in args:
        raise BadInput("Remove the NUL character from your search.")
    deck, search = await _deck_and_search(ctx, args)
    return await _page(ctx, deck, search, 0)


async def _deck_and_search(ctx: Ctx, args: str) -> tuple[Deck | None, str]:
    words = args.split()
    for cut in range(min(len(words), MAX_NAME_WORDS), 0, -1):
        try:
            deck = await service.find_deck(ctx.session, ctx.user, " ".join(words[:cut]))
        except NotFound:
            continue
        return deck, " ".join(words[cut:])
    return None, " ".join(words)


async def _page(ctx: Ctx, deck: Deck | None, search: str, offset: int) -> Reply:
    page = await browse.find_cards(
        ctx.session, ctx.user, deck=deck, search=search, offset=offset, limit=PAGE_SIZE
    )
    where = f"in {escape(deck.name)}" if deck else "in your decks"
    found = f" matching “{escape(shorten(search, 40))}”" if search else ""
    if page.total == 0:
        hint = "Add one with /card front | back." if not search else "Try another word."
        return Reply.text(f"No cards {where}{found}. {hint}", private=ctx.room is not None)
    lines = [f"**Cards {where}{found}** ({page.total})"]
    lines += [_line(e, deck is None) for e in page.entries]
    if page.has_more:
        lines.append(f"Showing {offset + 1}–{offset + len(page.entries)} of {page.total}.")
    lines.append("Fix one with `/editcard <n> <front> | <back>` or `/delcard <n>`.")
    return Reply.text("\n".join(lines), _buttons(page, deck, search), private=ctx.room is not None)


def _buttons(page: CardPage, deck: Deck | None, search: str) -> list[list[Button]]:
    # One row per action, so a page fits Discord's five rows of five buttons.
    entries = page.entries
    rows = [
        [Button(f"✏️ {e.number}", action_id("fc.cedit", e.number)) for e in entries],
        [Button(f"🗑 {e.number}", action_id("fc.cdel", e.number)) for e in entries if e.owned],
        [
            Button(
                f"{'▶️' if e.suspended else '⏸'} {e.number}",
                action_id("fc.csusp", e.number, 0 if e.suspended else 1),
            )
            for e in entries
        ],
    ]
    if page.has_more:
        more = action_id("fc.cards", deck.id if deck else 0, page.offset + len(entries), search)
        if len(more.encode()) <= MAX_ACTION_BYTES:
            rows.append([Button("More ▸", more)])
    return [row for row in rows if row]


@router.action("fc.cards")
async def page_action(ctx: Ctx, payload: str) -> Reply:
    deck_id, offset, search = [*payload.split(":", 2), "", ""][:3]
    if not deck_id.isdecimal() or not offset.isdecimal():
        raise BadInput("That button has expired. Send /cards again.")
    deck = await service.get_deck(ctx.session, ctx.user, int(deck_id)) if int(deck_id) else None
    return await _page(ctx, deck, search, int(offset))


# Editing, deleting, suspending ------------------------------------------------------------


@router.suggestions("card")
async def suggest_cards(
    session: AsyncSession, user: User, room: Room | None, typed: str
) -> list[Suggestion]:
    """Cards whose text contains what was typed (or whose number it is), for a card number
    being entered."""
    typed = typed.strip()
    if typed.isdecimal() and len(typed) < 19:
        try:
            return [_suggestion(await browse.entry(session, user, int(typed)))]
        except NotFound:
            return []
    page = await browse.find_cards(session, user, search=typed[:100], limit=25)
    return [_suggestion(e) for e in page.entries]


def _suggestion(entry: CardEntry) -> Suggestion:
    return Suggestion(
        shorten(f"{entry.number}. {entry.front} → {entry.back}", 90), str(entry.number)
    )


def _card_param() -> Param:
    return Param(
        "number",
        "the card's number from /cards",
        INTEGER,
        required=True,
        min_value=1,
        suggest="card",
    )


@router.command(
    "editcard",
    usage=EDIT_USAGE,
    summary="change card n's text (its schedule stays)",
    area="cards",
    params=(
        _card_param(),
        Param("front", "the new front (or cloze text)", required=True),
        Param("back", "the new back", prefix="| "),
    ),
)
async def editcard_cmd(ctx: Ctx, args: str) -> Reply:
    number, rest = _number(args, EDIT_USAGE)
    if not rest:
        current = await browse.entry(ctx.session, ctx.user, number)
        return Reply.text(_edit_hint(current))
    front, _, back = rest.partition("|")
    if "|" in back:
        raise BadInput(f"Use one | between front and back: `{EDIT_USAGE}`")
    entry = await browse.edit_note(ctx.session, ctx.user, number, front, back, ctx.clock.now())
    return Reply.text(
        f"Updated card **{entry.number}** in **{escape(entry.deck_name)}**: {_sides(entry)}"
    )


def _edit_hint(entry: CardEntry) -> str:
    text = (
        entry.front if entry.kind == "cloze" and not entry.back else f"{entry.front} | {entry.back}"
    )
    return (
        f"Card **{entry.number}** in **{escape(entry.deck_name)}** reads:\n"
        f"`/editcard {entry.number} {escape(text)}`\n"
        "Send that with your changes."
    )


@router.action("fc.cedit")
async def edit_action(ctx: Ctx, payload: str) -> Reply:
    entry = await browse.entry(ctx.session, ctx.user, _payload_number(payload))
    return Reply.text(_edit_hint(entry))


@router.command(
    "delcard",
    usage="/delcard <n>",
    summary="delete card n with its review history",
    area="cards",
    params=(_card_param(),),
)
async def delcard_cmd(ctx: Ctx, args: str) -> Reply:
    number, _ = _number(args, "/delcard <n>")
    return await _delete(ctx, number)


async def _delete(ctx: Ctx, number: int) -> Reply:
    entry = await browse.delete_note(ctx.session, ctx.user, number)
    return Reply.text(
        f"Deleted card **{entry.number}** ({_sides(entry)}) from **{escape(entry.deck_name)}**, "
        "with its review history."
    )


@router.action("fc.cdel")
async def delete_action(ctx: Ctx, payload: str) -> Reply:
    entry = await browse.entry(ctx.session, ctx.user, _payload_number(payload))
    service.require_owner(ctx.user, await service.get_deck(ctx.session, ctx.user, entry.deck_id))
    return Reply.text(
        f"Delete card **{entry.number}** ({_sides(entry)}) from **{escape(entry.deck_name)}**, "
        "with its review history?",
        [
            Button(f"Delete card {entry.number}", action_id("fc.cdelok", entry.number)),
            Button("Keep it", action_id("fc.keep")),
        ],
    )


@router.action("fc.cdelok")
async def delete_confirmed(ctx: Ctx, payload: str) -> Reply:
    return await _delete(ctx, _payload_number(payload))


@router.action("fc.keep")
async def keep_action(ctx: Ctx, payload: str) -> Reply:
    return Reply.text("Nothing was deleted.")


@router.action("fc.csusp")
async def suspend_action(ctx: Ctx, payload: str) -> Reply:
    number, _, flag = payload.partition(":")
    if flag not in ("0", "1"):
        raise BadInput("That button has expired. Send /cards again.")
    entry = await browse.set_suspended(
        ctx.session, ctx.user, _payload_number(number), flag == "1", ctx.clock.now()
    )
    if entry.suspended:
        return Reply.text(
            f"Suspended card **{entry.number}** ({_sides(entry)}): it stays out of your "
            "reviews until you bring it back.",
            [Button(f"▶️ Bring back {entry.number}", action_id("fc.csusp", entry.number, 0))],
        )
    return Reply.text(f"Card **{entry.number}** ({_sides(entry)}) is back in your reviews.")


def _payload_number(payload: str) -> int:
    if not payload.isdecimal() or len(payload) > 18:
        raise BadInput("That button has expired. Send /cards again.")
    return int(payload)


# /deck rename | del | merge --------------------------------------------------------------


async def deck_subcommand(ctx: Ctx, word: str, rest: str) -> Reply | None:
    """Handle `/deck <sub-command> …`; None when `word` is not one (a deck name)."""
    word = word.lower()
    if word in SUBCOMMANDS and "\x00" in rest:
        raise BadInput("A deck name cannot contain a NUL character.")
    if word == "export" and not rest.strip():
        raise BadInput("Which deck? `/deck export <name>` (see /decks).")
    handler = {"rename": _rename, "del": _ask_delete, "delete": _ask_delete, "merge": _merge}
    if word not in handler:
        return None
    try:
        return await handler[word](ctx, rest)
    except NotFound as missing:
        # "/deck Delete me" meant as a new deck's name: say why it is read as a command.
        raise NotFound(
            f"{missing.message}\n(`/deck {escape(word)} …` is a command, so a deck name can't "
            f"start with “{escape(word)}”.)"
        ) from None


async def _rename(ctx: Ctx, rest: str) -> Reply:
    old, new = await decks.split_two_names(ctx.session, ctx.user, rest)
    if not old or not new:
        raise BadInput(
            f"`{RENAME_USAGE}`, e.g. /deck rename Biology Bio "
            "(with spaces in a name: /deck rename Organic Chem | Orgo)."
        )
    deck = await decks.own_deck(ctx.session, ctx.user, old)
    before = deck.name
    await decks.rename_deck(ctx.session, ctx.user, deck, new)
    return Reply.text(f"Renamed **{escape(before)}** to **{escape(deck.name)}**.")


async def _ask_delete(ctx: Ctx, rest: str) -> Reply:
    if not rest.strip():
        raise BadInput(f"Which deck? `{DELETE_USAGE}` (see /decks).")
    deck = await decks.own_deck(ctx.session, ctx.user, rest)
    cards = await decks.card_count(ctx.session, deck)
    shared = " It is shared with a room: the members lose it too." if deck.room_id else ""
    return Reply.text(
        f"Delete deck **{escape(deck.name)}** with its {count(cards, 'card')} and their "
        f"review history? This can't be undone.{shared}",
        [
            Button(
                f"Delete {shorten(deck.name, 30)} ({count(cards, 'card')})",
                action_id("fc.ddel", deck.id),
            ),
            Button("Keep it", action_id("fc.keep")),
        ],
    )


@router.action("fc.ddel")
async def delete_deck_action(ctx: Ctx, payload: str) -> Reply:
    deleted = await decks.delete_deck(ctx.session, ctx.user, _payload_number(payload))
    return Reply.text(
        f"Deleted deck **{escape(deleted.name)}** and its {count(deleted.cards, 'card')}."
    )


async def _merge(ctx: Ctx, rest: str) -> Reply:
    text = rest.replace(" into ", " | ", 1) if " into " in rest else rest
    source, target = await decks.split_two_names(ctx.session, ctx.user, text)
    if not source or not target:
        raise BadInput(
            f"`{MERGE_USAGE}`, e.g. /deck merge Bio Biology "
            "(with spaces in a name: /deck merge Organic Chem | Chemistry)."
        )
    source_deck = await decks.own_deck(ctx.session, ctx.user, source)
    target_deck = await decks.own_deck(ctx.session, ctx.user, target)
    merged = await decks.merge_decks(
        ctx.session, ctx.user, source_deck, target_deck, ctx.clock.now()
    )
    text = (
        f"Merged **{escape(merged.source)}** into **{escape(merged.target)}**: "
        f"{count(merged.moved_notes, 'card')} moved with their schedules."
    )
    if merged.duplicates:
        text += f" {count(merged.duplicates, 'duplicate')} already there were dropped."
    return Reply.text(text)
