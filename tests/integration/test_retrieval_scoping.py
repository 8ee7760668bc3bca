"""Retrieval under the scoped indexes: the composite (scope, tsv) full-text index, exact and
HNSW vector search, and query-term pruning. A passage of another user or of a room the
asker is not in is never returned, even when it is the best match."""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Callable, Sequence

import pytest
from sqlalchemy import select

from core.documents import retrieval
from core.documents.query_terms import PRUNED
from core.documents.retrieval import Mode, search_passages, search_scopes, user_scope
from core.identity.models import Room, User
from teddy.runtime import Runtime
from tests.integration.test_documents import upload
from tests.support.chat_driver import ChatDriver

DIM = 384  # a size with an HNSW index, so both vector paths are exercised


class HashingEmbedder:
    """A stand-in vector space: each word adds to one of 384 dimensions, so texts sharing
    words are near each other."""

    model = "hashing-384"

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._vector(text) for text in texts]

    @staticmethod
    def _vector(text: str) -> list[float]:
        vector = [0.0] * DIM
        for word in re.findall(r"[a-z]+", text.lower()):
            vector[zlib.crc32(word.encode()) % DIM] += 1.0
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        return [x / norm for x in vector]


BEST = b"# Narwhal\n\nThe narwhal tusk is a spiral tooth that grows through the upper lip.\n"
WEAKER = b"# Whales\n\nArctic whales include the beluga; the narwhal lives there too.\n"
QUESTION = "narwhal tusk spiral tooth upper lip"


@pytest.fixture
def embedder(core: Runtime) -> HashingEmbedder:
    chosen = HashingEmbedder()
    core.services.embedder = chosen
    return chosen


@pytest.fixture(params=["exact", "hnsw"])
def vector_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Exact search (small scopes) or HNSW with the iterative scan (large scopes)."""
    if request.param == "hnsw":
        monkeypatch.setattr(retrieval, "EXACT_VECTOR_MAX", 0)
        monkeypatch.setattr(retrieval, "EXACT_VECTOR_SHARE", 0.0)
    return str(request.param)


async def users_by_name(core: Runtime) -> dict[str, User]:
    async with core.db.transaction() as session:
        return {u.display_name: u for u in await session.scalars(select(User))}


@pytest.mark.parametrize("mode", [Mode.KEYWORD, Mode.VECTOR, Mode.HYBRID])
async def test_another_users_best_match_is_never_returned(
    core: Runtime,
    make_chat: Callable[..., ChatDriver],
    embedder: HashingEmbedder,
    vector_path: str,
    mode: Mode,
) -> None:
    await upload(core, make_chat("bob"), "bob.md", BEST)
    await upload(core, make_chat("alice"), "alice.md", WEAKER)
    alice = (await users_by_name(core))["Alice"]
    async with core.db.transaction() as session:
        found = await search_scopes(
            session,
            scopes=[user_scope(alice.id)],
            query=QUESTION,
            limit=10,
            embedder=embedder,
            mode=mode,
        )
    assert [p.document_title for p in found] == ["alice.md"]


async def test_a_room_passage_reaches_members_only_even_as_the_best_match(
    core: Runtime,
    make_chat: Callable[..., ChatDriver],
    embedder: HashingEmbedder,
    vector_path: str,
) -> None:
    await upload(core, make_chat("alice", room="zoology"), "room.md", BEST)
    await upload(core, make_chat("bob"), "bob.md", WEAKER)
    await make_chat("carol", room="zoology").say("/start")
    users = await users_by_name(core)
    async with core.db.transaction() as session:
        room = await session.scalar(select(Room))
        assert room is not None

        async def titles(name: str, room_id: int | None) -> list[str]:
            found = await search_passages(
                session,
                user_id=users[name].id,
                room_id=room_id,
                query=QUESTION,
                limit=10,
                embedder=embedder,
            )
            return [p.document_title for p in found]

        assert await titles("Carol", room.id) == ["room.md"]  # a member, in the room
        assert await titles("Bob", room.id) == ["bob.md"]  # not a member: his own only
        assert await titles("Carol", None) == []  # a member, in a direct chat


FILLER = re.findall(
    r"\S+",
    "please explain in detail what the lecture says about how cells use energy and why "
    "the notes describe the process this way because I need to understand it for the exam "
    "and also what the teacher meant when talking about membranes proteins and transport",
)
TOPICS = [
    "photosynthesis chloroplast light",
    "mitochondria respiration glucose",
    "ribosome translation codon",
    "osmosis water gradient",
    "enzyme catalyst substrate",
    "nucleus chromosome mitosis",
    "lysosome digestion waste",
    "cytoskeleton microtubule shape",
]


def lecture_notes() -> bytes:
    """Many sections in the same common vocabulary; one is about axolotl regeneration."""
    sections = []
    for i in range(40):
        topic = TOPICS[i % len(TOPICS)]
        words = " ".join(FILLER[(i * 7 + k) % len(FILLER)] for k in range(30))
        sections.append(f"# Part {i}\n\nOn {topic}: {words}.\n")
    sections.insert(
        23,
        "# Regeneration\n\nThe axolotl regrows a lost limb from a blastema, a mass of "
        "dedifferentiated cells; the lecture notes say the energy comes from the membranes.\n",
    )
    return "\n".join(sections).encode()


def long_question() -> str:
    topics = " ".join(TOPICS).split()
    words = [FILLER[(k * 5) % len(FILLER)] for k in range(190 - len(topics))] + topics
    words[97:97] = re.findall(r"\S+", "how does the axolotl regrow its limb from a blastema")
    return " ".join(words)


async def test_a_200_word_question_still_finds_the_passage_it_is_about(
    core: Runtime, chat: ChatDriver
) -> None:
    core.services.embedder = None
    await upload(core, chat, "notes.md", lecture_notes())
    question = long_question()
    assert len(question.split()) >= 200
    alice = (await users_by_name(core))["Alice"]
    async with core.db.transaction() as session:
        facts = await retrieval._scope_facts(session, [user_scope(alice.id)], question, 100)
        # More of the question's terms occur in the notes than pruning lets select candidates.
        assert len(facts.dfs) > PRUNED.max_terms
        found = await search_passages(session, user_id=alice.id, room_id=None, query=question)
        unpruned = await search_scopes(
            session,
            scopes=[user_scope(alice.id)],
            query=question,
            limit=8,
            embedder=None,
            mode=Mode.KEYWORD,
            pruning=None,
        )
    assert found[0].section == "Regeneration"
    assert found[0].chunk_id == unpruned[0].chunk_id
    assert found[0].score == pytest.approx(unpruned[0].score)
