"""REST for fixing cards and decks: find, edit, suspend and delete cards; rename, delete
and merge decks. Another user's numbers and ids answer 404, exactly like missing ones."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from core.clock import FixedClock
from teddy.runtime import Runtime
from tests.integration.test_rest_resources import (  # noqa: F401  (fixtures)
    api,
    app,
    bearer,
    give_deck_and_document,
    user_id,
)


async def test_cards_are_found_edited_suspended_and_deleted(
    app: FastAPI,  # noqa: F811
    api: httpx.AsyncClient,  # noqa: F811
    core: Runtime,
    clock: FixedClock,
) -> None:
    ana = await bearer(app, "ana@example.org", "Ana")
    deck_id, _ = await give_deck_and_document(core, await user_id(api, ana), clock)

    page = (await api.get("/api/v1/cards?search=atp", headers=ana)).json()
    assert page["total"] == 1 and not page["has_more"]
    [atp] = page["cards"]
    assert (atp["front"], atp["back"], atp["deck_id"], atp["suspended"]) == (
        "ATP?",
        "Energy",
        deck_id,
        False,
    )
    number = atp["number"]
    edited = await api.patch(
        f"/api/v1/cards/{number}", json={"back": "Energy currency"}, headers=ana
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["front"], edited.json()["back"]) == ("ATP?", "Energy currency")

    suspended = await api.patch(f"/api/v1/cards/{number}", json={"suspended": True}, headers=ana)
    assert suspended.json()["suspended"] is True
    [deck] = (await api.get("/api/v1/decks", headers=ana)).json()
    assert (deck["cards"], deck["new"]) == (2, 1)

    bad = await api.patch(f"/api/v1/cards/{number}", json={"front": "x", "back": ""}, headers=ana)
    assert bad.status_code == 422 and "both sides" in bad.json()["detail"]

    assert (await api.delete(f"/api/v1/cards/{number}", headers=ana)).status_code == 204
    assert (await api.get(f"/api/v1/cards/{number}", headers=ana)).status_code == 404
    assert (await api.get(f"/api/v1/cards?deck_id={deck_id}", headers=ana)).json()["total"] == 1


async def test_decks_are_renamed_merged_and_deleted(
    app: FastAPI,  # noqa: F811
    api: httpx.AsyncClient,  # noqa: F811
    core: Runtime,
    clock: FixedClock,
) -> None:
    ana = await bearer(app, "ana@example.org", "Ana")
    deck_id, _ = await give_deck_and_document(core, await user_id(api, ana), clock)

    renamed = await api.patch(f"/api/v1/decks/{deck_id}", json={"name": "Bio"}, headers=ana)
    assert renamed.status_code == 200 and renamed.json()["name"] == "Bio"
    refused = await api.patch(f"/api/v1/decks/{deck_id}", json={"name": "del Bio"}, headers=ana)
    assert refused.status_code == 422 and "can't start with" in refused.json()["detail"]

    other, _ = await give_deck_and_document(core, await user_id(api, ana), clock)  # "Biology"
    merged = await api.post(
        f"/api/v1/decks/{deck_id}/merge", json={"into_deck_id": other}, headers=ana
    )
    assert merged.status_code == 200, merged.text
    assert (merged.json()["moved_cards"], merged.json()["duplicates_dropped"]) == (0, 2)
    assert [d["id"] for d in (await api.get("/api/v1/decks", headers=ana)).json()] == [other]

    assert (await api.delete(f"/api/v1/decks/{other}", headers=ana)).status_code == 204
    assert (await api.get("/api/v1/decks", headers=ana)).json() == []
    assert (await api.get("/api/v1/cards", headers=ana)).json()["total"] == 0


async def test_another_users_cards_and_decks_answer_404_on_every_new_route(
    app: FastAPI,  # noqa: F811
    api: httpx.AsyncClient,  # noqa: F811
    core: Runtime,
    clock: FixedClock,
) -> None:
    ana = await bearer(app, "ana@example.org", "Ana")
    ben = await bearer(app, "ben@example.org", "Ben")
    bens_deck, _ = await give_deck_and_document(core, await user_id(api, ben), clock)
    anas_deck, _ = await give_deck_and_document(core, await user_id(api, ana), clock)
    [card, _] = (await api.get("/api/v1/cards", headers=ben)).json()["cards"]
    number = card["number"]
    routes = [
        ("GET", f"/api/v1/cards/{number}", None),
        ("PATCH", f"/api/v1/cards/{number}", {"front": "mine", "back": "now"}),
        ("PATCH", f"/api/v1/cards/{number}", {"suspended": True}),
        ("DELETE", f"/api/v1/cards/{number}", None),
        ("GET", f"/api/v1/cards?deck_id={bens_deck}", None),
        ("PATCH", f"/api/v1/decks/{bens_deck}", {"name": "Mine"}),
        ("DELETE", f"/api/v1/decks/{bens_deck}", None),
        ("POST", f"/api/v1/decks/{bens_deck}/merge", {"into_deck_id": anas_deck}),
        ("POST", f"/api/v1/decks/{anas_deck}/merge", {"into_deck_id": bens_deck}),
    ]
    for method, path, body in routes:
        assert (await api.request(method, path, json=body)).status_code == 401
        answer = await api.request(method, path, json=body, headers=ana)
        assert answer.status_code == 404, (method, path, answer.text)
        assert "Mitochondria" not in answer.text and "Ben" not in answer.text
    assert [
        c["deck_id"] for c in (await api.get("/api/v1/cards", headers=ana)).json()["cards"]
    ] == [
        anas_deck,
        anas_deck,
    ]
    kept = (await api.get(f"/api/v1/cards/{number}", headers=ben)).json()
    assert (kept["front"], kept["suspended"]) == ("Mitochondria?", False)
    assert [d["name"] for d in (await api.get("/api/v1/decks", headers=ben)).json()] == ["Biology"]
