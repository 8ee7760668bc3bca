"""/docs, /doc, /search and file intake."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.chat import Ctx, Reply, Router
from core.chat.markup import count, escape
from core.chat.router import CHOICE, INTEGER, Param, Suggestion
from core.documents import jobs  # registers the ingestion job
from core.documents import service as docs
from core.documents.embeddings import embedder_for
from core.documents.models import FAILED, QUEUED, READY, Document
from core.documents.retrieval import Passage
from core.documents.search import find_passages
from core.errors import BadInput
from core.identity.models import Room, User

router = Router()

SNIPPET_CHARS = 280
QUEUE_DOWN = (
    "Got {title}, and it is saved. My reading queue is not reachable right now: "
    "I will read it as soon as the queue is back, no need to send it again."
)
STATUS_LABEL = {READY: "", FAILED: " (failed)"}


@router.on_file
async def receive(ctx: Ctx, args: str) -> list[Reply]:
    settings = ctx.services.settings
    max_bytes = settings.max_upload_mb * 1_048_576
    replies = []
    for attachment in ctx.incoming.attachments:
        if attachment.size > max_bytes:
            raise BadInput(
                f"{attachment.name} is {attachment.size / 1_048_576:.1f} MB; "
                f"the limit is {settings.max_upload_mb} MB."
            )
        data = await attachment.fetch()
        document, queued = await docs.submit_file(
            ctx.session,
            ctx.services.jobs,
            user=ctx.user,
            room=ctx.room,
            name=attachment.name,
            data=data,
            max_bytes=max_bytes,
        )
        title = escape(document.title)
        if not queued and document.status == QUEUED:
            replies.append(
                Reply.text(f"I already have {title}; it is waiting to be read. See /docs.")
            )
        elif not queued:
            replies.append(Reply.text(f"I already have {title} (same content). See /docs."))
        elif await ctx.services.jobs.reachable():
            replies.append(Reply.text(f"Got {title}. Reading it…", live_id=f"doc-{document.id}"))
        else:
            # Saved and recorded as a pending job: the relay sends it once the queue is back.
            replies.append(Reply.text(QUEUE_DOWN.format(title=title), live_id=f"doc-{document.id}"))
    return replies


@router.command(
    "docs", usage="/docs", summary="your documents (in a room: the room's)", area="tutor"
)
async def list_docs(ctx: Ctx, args: str) -> Reply:
    documents = await docs.visible_documents(ctx.session, ctx.user, ctx.room)
    if not documents:
        return Reply.text("No documents yet. Send me a PDF, DOCX, TXT or MD file.")
    whose = "This room's documents" if ctx.room is not None else "Your documents"
    lines = [f"**{whose}**"]
    for number, document in enumerate(documents, 1):
        lines.append(f"{number}. {escape(document.title)} — {_status(document)}")
    lines.append("\n/doc <n> shows a summary; /doc del <n> deletes one.")
    return Reply.text("\n".join(lines))


@router.suggestions("document")
async def suggest_documents(
    session: AsyncSession, user: User, room: Room | None, typed: str
) -> list[Suggestion]:
    """The documents of /docs, by their number there, whose title contains what was typed."""
    documents = await docs.visible_documents(session, user, room)
    wanted = typed.strip().lower()
    numbered = [(str(n), d.title) for n, d in enumerate(documents, 1)]
    return [
        Suggestion(f"{n}. {title}", n)
        for n, title in numbered
        if not wanted or n.startswith(wanted) or wanted in title.lower()
    ]


def _status(document: Document) -> str:
    if document.status == READY:
        pages = f"{count(document.pages, 'page')}, " if document.pages else ""
        return f"{pages}{count(document.chunk_count, 'passage')}"
    if document.status == FAILED:
        return "failed"
    return "reading…"


@router.command(
    "doc",
    usage="/doc <n> | /doc del <n>",
    summary="a document's summary, or delete it",
    area="tutor",
    params=(
        Param("action", "del: delete the document", CHOICE, choices=("del",)),
        Param(
            "number", "the document's number from /docs", INTEGER, required=True, suggest="document"
        ),
    ),
)
async def doc(ctx: Ctx, args: str) -> Reply:
    words = args.split()
    if len(words) == 2 and words[0].lower() in ("del", "delete", "rm"):
        title = await docs.delete_document(ctx.session, ctx.user, ctx.room, _number(words[1]))
        return Reply.text(f"Deleted {escape(title)} and everything indexed from it.")
    if len(words) != 1:
        raise BadInput("Use /doc <n> to see a document, /doc del <n> to delete it (see /docs).")
    document = await docs.document_at(ctx.session, ctx.user, ctx.room, _number(words[0]))
    if document.status == FAILED:
        return Reply.text(f"**{escape(document.title)}** failed: {escape(document.error or '')}")
    if document.status != READY:
        return Reply.text(f"**{escape(document.title)}** is still being read.")
    return Reply.text(jobs.summary_text(document))


def _number(word: str) -> int:
    try:
        return int(word.lstrip("#"))
    except ValueError:
        raise BadInput(f"“{escape(word)}” is not a document number; see /docs.") from None


@router.command(
    "search",
    usage="/search <query>",
    summary="passages from your documents that match, with document and page",
    area="tutor",
    params=(Param("query", "words to look for, e.g. mitochondria ATP", required=True),),
)
async def search(ctx: Ctx, args: str) -> Reply:
    query = args.strip()
    if not query:
        raise BadInput("What should I look for? For example: /search mitochondria ATP")
    found = await find_passages(
        ctx.session,
        user_id=ctx.user.id,
        room_id=ctx.room.id if ctx.room is not None else None,
        query=query,
        limit=5,
        embedder=embedder_for(ctx.services),
    )
    note = f"\n\n{found.note}" if found.note else ""
    if not found.passages:
        return Reply.text(f"Nothing in your documents matches “{escape(query)}”.{note}")
    lines = [f"**Results for “{escape(query)}”**"]
    for number, passage in enumerate(found.passages, 1):
        lines.append(f"{number}. **{escape(passage.handle)}**: {escape(snippet(passage))}")
    if found.note:
        lines.append(found.note)
    # In a room the results may quote the asker's private documents: show them only to them.
    return Reply.text("\n\n".join(lines), private=ctx.room is not None)


def snippet(passage: Passage) -> str:
    text = passage.text
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + "…"
