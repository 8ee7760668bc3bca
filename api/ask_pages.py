"""`/ask` on the web: a question about all of the student's documents, or about one of
them, answered with numbered citations. The answer streams as server-sent events when the
browser asks for `text/event-stream` (ask.js does), else the page comes back whole. The
rules (retrieval, limits, budget, memory) are the chat's, in core.tutor.grounded."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup, escape

from api.pages import page
from api.streaming import OnText, run_warm, stream, wants_stream
from api.web import (
    CurrentUser,
    SignedIn,
    Tx,
    Viewer,
    WebState,
    check_csrf,
    load_user,
    state,
    templates,
    viewer,
)
from core.documents import service as documents
from core.documents.models import Document
from core.errors import BadInput
from core.tutor import grounded, prompts
from core.tutor import service as tutor
from core.tutor.conversations import WEB_CHAT_KEY
from core.tutor.grounded import GroundedAnswer

router = APIRouter(include_in_schema=False)
MAX_QUESTION = 1000
CITATION = re.compile(r"\[(\d+)\]")


def cite_links(text: str, count: int) -> Markup:
    """The answer as HTML: escaped, each valid citation [n] a link to its passage."""

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if not 1 <= n <= count:
            return match.group(0)
        return f'<a class="cite" href="#source-{n}" data-source="{n}">[{n}]</a>'

    return Markup(CITATION.sub(link, str(escape(text))))


templates.env.filters["cite_links"] = cite_links


def answer_data(result: GroundedAnswer, question: str, offline: bool) -> dict[str, Any]:
    """What the page shows under the answer: every passage (the cited ones marked) and a
    note when there is no answer to stream."""
    cited = set(result.cited)
    sources = [
        {"n": n, "handle": p.handle, "text": p.text, "cited": n in cited}
        for n, p in enumerate(result.passages, 1)
    ]
    notes = [result.note.strip("_")] if result.note else []
    if not result.passages:
        notes.insert(
            0,
            f"Your documents don't cover “{question}”: I found no matching passage. "
            "Upload a PDF, DOCX, TXT or MD file and ask again.",
        )
    elif result.error:
        notes.insert(0, f"{result.error} Here are the passages I found.")
    elif offline:
        notes.insert(0, "Here are the passages I found. " + prompts.CONNECT_MODEL)
    return {"text": result.text, "sources": sources, "notes": notes}


async def _document(web: WebState, who: Viewer, document_id: int | None) -> Document | None:
    if document_id is None:
        return None
    async with web.transaction() as session:
        return await documents.own_document(session, await load_user(session, who), document_id)


def _document_id(raw: str | None) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise BadInput("That document doesn't exist.")
    return int(raw)


@router.get("/documents/ask")
async def ask_page(
    request: Request, who: SignedIn, user: CurrentUser, session: Tx, document: str | None = None
) -> Response:
    document_id = _document_id(document)
    found = None
    if document_id is not None:
        found = await documents.own_document(session, user, document_id)
    return page(request, "ask.html", who=who, csrf=who.csrf_token, document=found, question="")


@router.post("/documents/ask")
async def ask(request: Request, who: Viewer = Depends(viewer)) -> Response:
    form = await check_csrf(request, who.csrf_token)
    web = state(request)
    question = form.get("q", "").strip()
    document_id = _document_id(form.get("document"))
    if not question:
        raise BadInput("Type a question first.")
    if len(question) > MAX_QUESTION:
        raise BadInput(f"Keep the question under {MAX_QUESTION} characters.")
    services = web.core.services
    offline = tutor.ports(services).llm is None

    async def work(on_text: OnText) -> dict[str, Any]:
        async with web.transaction() as session:
            user = await load_user(session, who)
            result = await grounded.grounded_answer(
                session, services, user, None, WEB_CHAT_KEY, question, on_text, document_id
            )
        return answer_data(result, question, offline)

    if wants_stream(request.headers.get("accept", "")):
        return stream(work)

    async def ignore(delta: str) -> None:
        return None

    answer = await run_warm(work, ignore)
    found = await _document(web, who, document_id)
    return page(
        request,
        "ask.html",
        who=who,
        csrf=who.csrf_token,
        document=found,
        question=question,
        answer=answer,
    )
