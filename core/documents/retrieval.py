"""Hybrid retrieval in PostgreSQL: BM25 over the tsvector lexemes and pgvector nearest
neighbours, fused by reciprocal rank fusion, in one query scoped to what the asker may see.

BM25 (k1=1.2, b=0.75) reads document frequencies and lengths kept per scope in
`document_lexeme_stats` / `document_scope_stats`; the term frequency of each query lexeme
is the number of its positions in the chunk's tsvector. `ts_rank` has neither IDF nor
term-frequency saturation, which is why it ranks far below BM25 on benchmarks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import partial

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.documents.embeddings import Embedder, needs_warming, warm
from core.errors import WarmUpFirst
from core.identity.service import is_member

TS_CONFIG = "english"
K1 = 1.2
B = 0.75
RRF_K = 60
DEFAULT_EF_SEARCH = 100
# Dimensions with an HNSW index (see the migration); other sizes use exact search.
INDEXED_DIMS = (384, 768, 1024, 1536)


class Mode(Enum):
    HYBRID = "hybrid"
    KEYWORD = "keyword"
    VECTOR = "vector"


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk. `handle` is the citation text, e.g. "lecture-3.pdf p.14"."""

    handle: str
    document_id: int
    document_title: str
    page: int | None
    section: str | None
    text: str
    score: float


def user_scope(user_id: int) -> str:
    return f"u:{user_id}"


def room_scope(room_id: int) -> str:
    return f"r:{room_id}"


async def visible_scopes(session: AsyncSession, user_id: int, room_id: int | None) -> list[str]:
    """The asker's own documents, plus the room's when they are a member of it."""
    scopes = [user_scope(user_id)]
    if room_id is not None and await is_member(session, room_id, user_id):
        scopes.append(room_scope(room_id))
    return scopes


def citation_handle(title: str, page: int | None, section: str | None) -> str:
    if page is not None:
        return f"{title} p.{page}"
    if section:
        return f"{title} § {section}"
    return title


async def search_passages(
    session: AsyncSession,
    *,
    user_id: int,
    room_id: int | None,
    query: str,
    limit: int = 8,
    embedder: Embedder | None = None,
) -> list[Passage]:
    """The passages best matching `query` among the documents the user may see: their own
    and, when `room_id` is a room they belong to, the room's. Hybrid when an embedder is
    given, keyword (BM25) only otherwise."""
    scopes = await visible_scopes(session, user_id, room_id)
    mode = Mode.HYBRID if embedder is not None else Mode.KEYWORD
    return await search_scopes(
        session, scopes=scopes, query=query, limit=limit, embedder=embedder, mode=mode
    )


async def search_scopes(
    session: AsyncSession,
    *,
    scopes: Sequence[str],
    query: str,
    limit: int,
    embedder: Embedder | None,
    mode: Mode = Mode.HYBRID,
    depth: int | None = None,
    ef_search: int = DEFAULT_EF_SEARCH,
) -> list[Passage]:
    """Search exactly these scopes. `depth` is how many candidates each side ranks before
    fusion (at least `limit`). Raises `WarmUpFirst` when the embedder's model is not
    loaded yet (the dispatcher loads it outside the transaction and runs the event again)."""
    query = query.strip()
    if not query or not scopes or limit <= 0:
        return []
    depth = max(depth or 50, limit)
    if not await _any_passages(session, scopes):
        return []  # nothing to find: spare the query embedding (and loading its model)
    vector: list[float] | None = None
    model: str | None = None
    if embedder is not None and mode is not Mode.KEYWORD:
        if needs_warming(embedder):
            # Loading takes seconds: never while the caller's transaction holds a connection.
            raise WarmUpFirst(partial(warm, embedder))
        vector = (await embedder.embed([query]))[0]
        model = embedder.model
    use_keyword = mode is not Mode.VECTOR
    if vector is None and not use_keyword:
        return []
    if vector is not None:
        await session.execute(
            text("SELECT set_config('hnsw.ef_search', :ef, true)"), {"ef": str(ef_search)}
        )
        await session.execute(
            text("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)")
        )
    sql = _search_sql(use_keyword=use_keyword, dim=len(vector) if vector is not None else None)
    params: dict[str, object] = {
        "scopes": list(scopes),
        "query": query,
        "depth": depth,
        "limit": limit,
    }
    if vector is not None:
        params["qvec"] = _vector_literal(vector)
        params["model"] = model
    rows = (await session.execute(text(sql), params)).all()
    return [
        Passage(
            handle=citation_handle(row.title, row.page, row.section),
            document_id=row.document_id,
            document_title=row.title,
            page=row.page,
            section=row.section,
            text=row.text,
            score=float(row.score),
        )
        for row in rows
    ]


async def _any_passages(session: AsyncSession, scopes: Sequence[str]) -> bool:
    found = await session.scalar(
        text("SELECT EXISTS (SELECT 1 FROM document_chunks WHERE scope = ANY(:scopes))"),
        {"scopes": list(scopes)},
    )
    return bool(found)


def _vector_literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


_KEYWORD_CTES = f"""
q AS (
    SELECT DISTINCT lexeme
    FROM unnest(tsvector_to_array(to_tsvector('{TS_CONFIG}', :query))) AS lexeme
),
totals AS (
    SELECT coalesce(sum(chunks), 0)::float8 AS n,
           greatest(coalesce(sum(total_length)::float8 / nullif(sum(chunks), 0), 1), 1) AS avgdl
    FROM document_scope_stats WHERE scope = ANY(:scopes)
),
idf AS (
    SELECT s.lexeme,
           ln(1 + ((SELECT n FROM totals) - s.df + 0.5) / (s.df + 0.5)) AS idf
    FROM (
        SELECT lexeme, sum(df)::float8 AS df FROM document_lexeme_stats
        WHERE scope = ANY(:scopes) AND lexeme IN (SELECT lexeme FROM q)
        GROUP BY lexeme
    ) AS s
    WHERE s.df > 0
),
tsq AS (
    SELECT string_agg(
        '''' || replace(replace(lexeme, '\\', '\\\\'), '''', '''''') || '''', ' | '
    )::tsquery AS tsq
    FROM idf
),
kw AS (
    SELECT c.id,
           sum(i.idf * (u.tf * ({K1} + 1))
               / (u.tf + {K1} * (1 - {B} + {B} * c.length / t.avgdl))) AS score
    FROM document_chunks AS c
    CROSS JOIN totals AS t
    CROSS JOIN LATERAL (
        SELECT x.lexeme, coalesce(array_length(x.positions, 1), 1)::float8 AS tf
        FROM unnest(c.tsv) AS x
    ) AS u
    JOIN idf AS i ON i.lexeme = u.lexeme
    WHERE c.scope = ANY(:scopes) AND c.tsv @@ (SELECT tsq FROM tsq)
    GROUP BY c.id
    ORDER BY score DESC
    LIMIT :depth
),
kw_ranked AS (
    SELECT id, row_number() OVER (ORDER BY score DESC, id) AS rank FROM kw
)"""


def _vector_ctes(dim: int) -> str:
    return f"""
vec AS (
    SELECT c.id, c.embedding::vector({dim}) <=> CAST(:qvec AS vector({dim})) AS distance
    FROM document_chunks AS c
    WHERE c.scope = ANY(:scopes) AND c.embedding_dim = {dim} AND c.embedding_model = :model
    ORDER BY c.embedding::vector({dim}) <=> CAST(:qvec AS vector({dim}))
    LIMIT :depth
),
vec_ranked AS (
    SELECT id, row_number() OVER (ORDER BY distance, id) AS rank FROM vec
)"""


def _search_sql(*, use_keyword: bool, dim: int | None) -> str:
    ctes: list[str] = []
    ranked: list[str] = []
    if use_keyword:
        ctes.append(_KEYWORD_CTES)
        ranked.append("SELECT id, rank FROM kw_ranked")
    if dim is not None:
        ctes.append(_vector_ctes(int(dim)))
        ranked.append("SELECT id, rank FROM vec_ranked")
    union = "\n    UNION ALL\n    ".join(ranked)
    return f"""
WITH {",".join(ctes)},
fused AS (
    SELECT id, sum(1.0 / ({RRF_K} + rank)) AS score
    FROM (
    {union}
    ) AS r
    GROUP BY id
    ORDER BY score DESC, id
    LIMIT :limit
)
SELECT f.score, c.document_id, c.page, c.section, c.text, d.title
FROM fused AS f
JOIN document_chunks AS c ON c.id = f.id
JOIN documents AS d ON d.id = c.document_id
ORDER BY f.score DESC, c.id
"""
