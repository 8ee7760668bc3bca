"""Documents through the chat: intake, ingestion job, progress, search, deletion, isolation."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from sqlalchemy import func, select

from core.chat.messages import Attachment
from core.documents import extraction
from core.documents import service as documents
from core.documents.jobs import ingest
from core.documents.models import FAILED, Chunk, Document, LexemeStats, ScopeStats
from core.documents.retrieval import search_passages
from core.errors import NotFound
from core.identity.models import Room, User
from core.jobs import JobContext
from core.outbox.models import OutboxMessage
from teddy.runtime import Runtime
from tests import doc_samples
from tests.support.chat_driver import ChatDriver

LECTURE = [
    "Cell biology basics. The cell membrane separates the inside of the cell from outside.",
    "Mitochondria produce ATP through oxidative phosphorylation, the cell energy currency.",
    "The quokka is a small marsupial. Photosynthesis happens in chloroplasts of plant cells.",
]


def attachment(name: str, data: bytes, mime: str = "application/octet-stream") -> Attachment:
    async def fetch() -> bytes:
        return data

    return Attachment(name, len(data), mime, fetch)


async def upload(core: Runtime, chat: ChatDriver, name: str, data: bytes) -> str:
    replies = await chat.send("", attachments=(attachment(name, data),))
    assert await core.services.jobs.drain(60)  # type: ignore[attr-defined]
    return "\n".join(r.plain_text() for r in replies)


async def notes(core: Runtime) -> list[str]:
    async with core.db.transaction() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [m.text for m in rows]


@pytest.fixture
def keyword_only(core: Runtime) -> None:
    core.services.embedder = None


async def test_pdf_is_ingested_with_progress_summary_and_page_citations(
    core: Runtime, chat: ChatDriver, keyword_only: None
) -> None:
    first = await upload(core, chat, "lecture-3.pdf", doc_samples.pdf(LECTURE))
    assert "Got lecture-3.pdf" in first
    sent = await notes(core)
    assert "Reading lecture-3.pdf… 3/3 pages" in sent
    assert any("Read lecture-3.pdf: 3 pages" in t for t in sent)
    assert any("Key concepts" in t and "lecture-3.pdf" in t for t in sent)
    async with core.db.transaction() as session:
        live = await session.scalars(select(OutboxMessage.live_id).distinct())
        assert set(live) == {"doc-1", None}
    found = await chat.say("/search quokka")
    assert "lecture-3.pdf p.3" in found and "quokka" in found
    assert "3 pages" in await chat.say("/docs")


async def test_docx_and_markdown_keep_their_sections(
    core: Runtime, chat: ChatDriver, keyword_only: None
) -> None:
    data = doc_samples.docx([("Osmosis", ["Water crosses a semipermeable membrane."])])
    await upload(core, chat, "bio.docx", data)
    await upload(core, chat, "notes.md", b"# Enzymes\n\nEnzymes lower activation energy.\n")
    assert "bio.docx § Osmosis" in await chat.say("/search semipermeable")
    assert "notes.md § Enzymes" in await chat.say("/search activation energy")
    listing = await chat.say("/docs")
    assert "1. bio.docx" in listing and "2. notes.md" in listing
    assert "Enzymes lower activation energy" in await chat.say("/doc 2")


async def test_docx_table_cells_are_searchable_under_their_heading(
    core: Runtime, chat: ChatDriver, keyword_only: None
) -> None:
    body = doc_samples.w_paragraph("Organelles", "Heading1") + doc_samples.w_table(
        [["Organelle", "Role"], ["Ribosome", "builds proteins from amino acids"]]
    )
    await upload(core, chat, "cells.docx", doc_samples.docx_with_body(body))
    found = await chat.say("/search ribosome amino acids")
    assert "cells.docx § Organelles" in found and "Ribosome | builds proteins" in found


@pytest.mark.parametrize(
    ("name", "make", "limit"),
    [
        ("thesis.docx", lambda: doc_samples.large_docx(20), "MAX_DOCX_SECONDS"),
        ("thesis.pdf", lambda: doc_samples.pdf(LECTURE), "MAX_PDF_SECONDS"),
    ],
)
async def test_a_file_past_its_time_limit_fails_with_a_clear_message(
    core: Runtime,
    chat: ChatDriver,
    keyword_only: None,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    make: Callable[[], bytes],
    limit: str,
) -> None:
    monkeypatch.setattr(extraction, limit, 0.0)
    await upload(core, chat, name, make())
    message = f"{name} took too long to read (over 0 seconds), so I stopped."
    assert any(message in t for t in await notes(core))
    async with core.db.transaction() as session:
        document = await session.scalar(select(Document))
        assert document is not None and document.status == FAILED
        assert message in (document.error or "")
        assert await session.scalar(select(func.count()).select_from(Chunk)) == 0


async def test_deleting_a_document_removes_it_from_search_and_statistics(
    core: Runtime, chat: ChatDriver, keyword_only: None
) -> None:
    await upload(core, chat, "a.md", b"The axolotl regrows limbs.\n")
    await upload(core, chat, "b.md", b"Frogs are amphibians too.\n")
    assert "a.md" in await chat.say("/search axolotl")
    assert "Deleted a.md" in await chat.say("/doc del 1")
    assert "Nothing in your documents matches" in await chat.say("/search axolotl")
    async with core.db.transaction() as session:
        lexemes = set(await session.scalars(select(LexemeStats.lexeme)))
        stats = await session.scalar(select(ScopeStats))
        chunks = await session.scalar(select(func.count()).select_from(Chunk))
    assert "axolotl" not in lexemes and "frog" in lexemes
    assert stats is not None and stats.chunks == chunks == 1


async def test_reingesting_replaces_chunks_and_keeps_statistics_exact(
    core: Runtime, chat: ChatDriver, keyword_only: None
) -> None:
    await upload(core, chat, "x.pdf", doc_samples.pdf(LECTURE))

    async def snapshot() -> tuple[int, list[tuple[str, int]], int]:
        async with core.db.transaction() as session:
            chunks = await session.scalar(select(func.count()).select_from(Chunk))
            lex = list(await session.execute(select(LexemeStats.lexeme, LexemeStats.df)))
            stats = await session.scalar(select(ScopeStats.total_length))
        return int(chunks or 0), sorted((r[0], r[1]) for r in lex), int(stats or 0)

    before = await snapshot()
    await ingest(JobContext(core.db, core.services), document_id=1)
    await ingest(JobContext(core.db, core.services), document_id=1)
    assert await snapshot() == before


async def test_same_file_twice_is_not_stored_twice(
    core: Runtime, chat: ChatDriver, keyword_only: None
) -> None:
    await upload(core, chat, "a.md", b"Same content.\n")
    again = await upload(core, chat, "copy.md", b"Same content.\n")
    assert "already have a.md" in again


BAD_FILES: list[tuple[str, Callable[[], bytes], str]] = [
    ("secret.pdf", lambda: doc_samples.encrypted_pdf("hidden words"), "password-protected"),
    ("broken.pdf", lambda: b"%PDF-1.7\n" + b"\x00junk" * 100, "damaged"),
    ("scan.pdf", doc_samples.image_only_pdf, "no text layer"),
    ("bomb.docx", doc_samples.docx_zip_bomb, "zip bomb"),
    ("long.pdf", lambda: doc_samples.pdf(["page"] * 6), "has 6 pages; the limit is 5"),
]


@pytest.mark.parametrize(("name", "make", "message"), BAD_FILES)
async def test_bad_documents_fail_with_a_clear_message_and_nothing_indexed(
    core: Runtime,
    chat: ChatDriver,
    keyword_only: None,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    make: Callable[[], bytes],
    message: str,
) -> None:
    monkeypatch.setattr(core.services.settings, "max_pages", 5)
    await upload(core, chat, name, make())
    assert any(message in t for t in await notes(core))
    async with core.db.transaction() as session:
        document = await session.scalar(select(Document))
        assert document is not None and document.status == FAILED
        assert message in (document.error or "")
        assert await session.scalar(select(func.count()).select_from(Chunk)) == 0
    assert "failed" in await chat.say("/docs")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.pdf", b"", "empty"),
        ("setup.pdf", b"MZ\x90\x00\x03\x00" + bytes(range(256)) * 8, "not a PDF, Word"),
    ],
)
async def test_unreadable_uploads_are_refused_at_once(
    core: Runtime, chat: ChatDriver, name: str, data: bytes, message: str
) -> None:
    assert message in await upload(core, chat, name, data)
    async with core.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Document)) == 0


async def test_too_large_upload_is_refused(
    core: Runtime, chat: ChatDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core.services.settings, "max_upload_mb", 1)
    assert "the limit is 1 MB" in await upload(core, chat, "big.txt", b"a " * 600_000)


async def test_non_utf8_text_is_searchable(
    core: Runtime, chat: ChatDriver, keyword_only: None
) -> None:
    await upload(core, chat, "fr.txt", "Le café est très chaud à Montréal.".encode("cp1252"))
    assert "Montréal" in await chat.say("/search café Montréal")


async def test_other_users_and_non_members_never_see_documents(
    core: Runtime, make_chat: Callable[..., ChatDriver], keyword_only: None
) -> None:
    alice, bob = make_chat("alice"), make_chat("bob")
    alice_room, carol_room = make_chat("alice", room="biology"), make_chat("carol", room="biology")
    await upload(core, alice, "private.md", b"The narwhal tusk is a tooth.\n")
    await upload(core, alice_room, "shared.md", b"The okapi is related to the giraffe.\n")
    assert "Nothing" in await bob.say("/search narwhal")
    assert "Nothing" in await bob.say("/search okapi")
    assert "shared.md" in await carol_room.say("/search okapi")  # a member of the room
    assert "Nothing" in await carol_room.say("/search narwhal")  # alice's own stays hers
    assert "Nothing" in await alice.say("/search okapi")  # a direct chat searches own docs
    async with core.db.transaction() as session:
        room = await session.scalar(select(Room))
        bob_user = await session.scalar(select(User).where(User.display_name == "Bob"))
        assert room is not None and bob_user is not None
        # Bob is not a member: passing the room id to the tutor's function shows nothing.
        found = await search_passages(session, user_id=bob_user.id, room_id=room.id, query="okapi")
        assert found == []
    assert "private.md" not in await carol_room.say("/docs")
    assert "Only the member who shared" in await carol_room.say("/doc del 1")


async def test_deleting_by_id_takes_only_the_users_own_document(
    core: Runtime, make_chat: Callable[..., ChatDriver], keyword_only: None
) -> None:
    alice, bob = make_chat("alice"), make_chat("bob")
    await upload(core, alice, "a.md", b"The axolotl regrows limbs.\n")
    await upload(core, bob, "b.md", b"Frogs are amphibians too.\n")
    async with core.db.transaction() as session:
        rows = {d.title: d for d in await session.scalars(select(Document))}
        a, b = rows["a.md"], rows["b.md"]
        owner = await session.get(User, a.owner_user_id)
        assert owner is not None
        with pytest.raises(NotFound):
            await documents.delete_own_document(session, owner, b.id)
        assert await documents.delete_own_document(session, owner, a.id) == "a.md"
    async with core.db.transaction() as session:
        titles = set(await session.scalars(select(Document.title)))
        chunks = set(await session.scalars(select(Chunk.document_id)))
    assert titles == {"b.md"} and chunks == {b.id}
    assert "Nothing in your documents matches" in await alice.say("/search axolotl")


class CountingEmbedder:
    """A stand-in vector space that counts the queries it was asked to embed."""

    model = "counting-3"

    def __init__(self) -> None:
        self.queries: list[str] = []

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.queries.extend(texts)
        return [[1.0, 0.0, 0.0] for _ in texts]


async def test_a_search_with_nothing_to_search_embeds_nothing(
    core: Runtime, make_chat: Callable[..., ChatDriver], keyword_only: None
) -> None:
    alice, bob = make_chat("alice"), make_chat("bob")
    await upload(core, alice, "notes.md", b"The okapi is related to the giraffe.\n")
    await bob.say("/start")
    embedder = CountingEmbedder()
    async with core.db.transaction() as session:
        users = {u.display_name: u for u in await session.scalars(select(User))}
        empty = await search_passages(
            session, user_id=users["Bob"].id, room_id=None, query="okapi", embedder=embedder
        )
        assert empty == [] and embedder.queries == []
        found = await search_passages(
            session, user_id=users["Alice"].id, room_id=None, query="okapi", embedder=embedder
        )
    assert embedder.queries == ["okapi"]
    assert [p.document_title for p in found] == ["notes.md"]
