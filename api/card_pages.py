"""The card browser: a deck's cards with search, edit, suspend and delete, and the deck's
rename and delete; deleting asks first on a page of its own (works without JavaScript).
Every rule is in core.flashcards (browse, decks)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.pages import page, see_other
from api.web import CurrentUser, RowId, SignedIn, Tx, Viewer, check_csrf, state
from core.flashcards import browse
from core.flashcards import decks as deck_service
from core.flashcards import service as flashcards

router = APIRouter(include_in_schema=False)
PER_PAGE = 50


@router.get("/decks/{deck_id}")
async def deck_page(
    request: Request,
    deck_id: RowId,
    who: SignedIn,
    user: CurrentUser,
    session: Tx,
    q: Annotated[str, Query(max_length=browse.MAX_SEARCH)] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """A page of the deck's cards, those whose front, back or tags contain `q`."""
    deck = await flashcards.get_deck(session, user, deck_id)
    found = await browse.find_cards(
        session, user, deck=deck, search=q, offset=offset, limit=PER_PAGE
    )
    return page(
        request,
        "deck.html",
        who=who,
        csrf=who.csrf_token,
        deck=deck,
        owned=deck.owner_id == who.user_id,
        found=found,
        query=q,
        per_page=PER_PAGE,
        saved=request.query_params.get("saved", ""),
    )


@router.post("/cards/{number}/edit")
async def edit_card(
    request: Request, number: RowId, who: SignedIn, user: CurrentUser, session: Tx
) -> Response:
    form = await check_csrf(request, who.csrf_token)
    web = state(request)
    card = await browse.edit_note(
        session, user, number, form.get("front", ""), form.get("back", ""), web.now()
    )
    return see_other(f"/decks/{card.deck_id}?saved={card.number}#card-{card.number}")


@router.post("/cards/{number}/suspend")
async def suspend_card(
    request: Request, number: RowId, who: SignedIn, user: CurrentUser, session: Tx
) -> Response:
    form = await check_csrf(request, who.csrf_token)
    web = state(request)
    card = await browse.set_suspended(
        session, user, number, form.get("suspended") == "1", web.now()
    )
    return see_other(f"/decks/{card.deck_id}?saved={card.number}#card-{card.number}")


@router.get("/cards/{number}/delete")
async def confirm_card_delete(
    request: Request, number: RowId, who: SignedIn, user: CurrentUser, session: Tx
) -> Response:
    card = await browse.entry(session, user, number)
    return _confirm_delete(
        request,
        who,
        what=f"card {card.number} of {card.deck_name}",
        detail=card.front,
        warning="Its review history goes with it, for everyone who learns this deck.",
        path=f"/cards/{card.number}",
        back=f"/decks/{card.deck_id}",
    )


@router.post("/cards/{number}/delete")
async def delete_card(
    request: Request, number: RowId, who: SignedIn, user: CurrentUser, session: Tx
) -> Response:
    await check_csrf(request, who.csrf_token)
    card = await browse.delete_note(session, user, number)
    return see_other(f"/decks/{card.deck_id}")


@router.post("/decks/{deck_id}/rename")
async def rename_deck(
    request: Request, deck_id: RowId, who: SignedIn, user: CurrentUser, session: Tx
) -> Response:
    form = await check_csrf(request, who.csrf_token)
    deck = await deck_service.own_deck_by_id(session, user, deck_id)
    await deck_service.rename_deck(session, user, deck, form.get("name", ""))
    return see_other(f"/decks/{deck_id}")


@router.get("/decks/{deck_id}/delete")
async def confirm_deck_delete(
    request: Request, deck_id: RowId, who: SignedIn, user: CurrentUser, session: Tx
) -> Response:
    deck = await deck_service.own_deck_by_id(session, user, deck_id)
    cards = await deck_service.card_count(session, deck)
    return _confirm_delete(
        request,
        who,
        what=f"the deck {deck.name}",
        detail=f"{cards} card{'' if cards == 1 else 's'}",
        warning="Its cards and everyone's review history for them go with it.",
        path=f"/decks/{deck.id}",
        back=f"/decks/{deck.id}",
    )


@router.post("/decks/{deck_id}/delete")
async def delete_deck(
    request: Request, deck_id: RowId, who: SignedIn, user: CurrentUser, session: Tx
) -> Response:
    await check_csrf(request, who.csrf_token)
    await deck_service.delete_deck(session, user, deck_id)
    return see_other("/decks")


def _confirm_delete(
    request: Request, who: Viewer, *, what: str, detail: str, warning: str, path: str, back: str
) -> Response:
    """The page that asks before deleting; its form posts to `path`/delete."""
    return page(
        request,
        "confirm_delete.html",
        who=who,
        csrf=who.csrf_token,
        what=what,
        detail=detail,
        warning=warning,
        action=f"{path}/delete",
        back=back,
    )
