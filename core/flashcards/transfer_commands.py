"""/import (CSV, TSV or an Anki package into a deck) and /export_deck (CSV and .apkg)."""

from __future__ import annotations

import asyncio
from pathlib import PurePath

from core.chat import Ctx, Reply, Router
from core.chat.markup import count, escape
from core.chat.messages import FilePart
from core.errors import BadInput
from core.flashcards import exporting, importing, service
from core.flashcards.deck_params import deck_param
from core.flashcards.models import Deck

router = Router()


@router.command(
    "import",
    usage="/import [deck] (attach a .csv, .tsv or Anki .apkg file)",
    summary="import cards from CSV/TSV (front, back, tags) or an Anki .apkg",
    area="cards",
    params=(deck_param("the deck to import into (default: your current deck)", own=True),),
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
    params=(deck_param("the deck to export", required=True),),
)
async def export_cmd(ctx: Ctx, args: str) -> Reply:
    if not args.strip():
        return Reply.text("Which deck? `/export_deck <name>` (see /decks).")
    return await export(ctx, args)


async def export(ctx: Ctx, args: str) -> Reply:
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
