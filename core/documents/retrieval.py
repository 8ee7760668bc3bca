"""Hybrid retrieval in PostgreSQL: BM25 over the tsvector lexemes and pgvector nearest
neighbours, fused by reciprocal rank fusion, in one query scoped to what the asker may see.

BM25 (k1=1.2, b=0.75) reads document frequencies and lengths kept per scope in
`document_lexeme_stats` / `document_scope_stats`; the term frequency of each query lexeme
is the number of its positions in the chunk's tsvector. `ts_rank` has neither IDF nor
term-frequency saturation, which is why it ranks far below BM25 on benchmarks.

Cost follows the scope, not the table: the full-text index is a composite GIN on
(scope, tsv), so a search reads only its own scopes' postings, and only those of the
question's most selective terms (see `query_terms`). Vectors: scopes small enough, or a
small enough share of the table, are searched exactly; larger ones through HNSW with
pgvector's iterative scan, which keeps walking the graph until enough rows pass the scope
filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import partial

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.documents.embeddings import Embedder, needs_warming, warm
from core.documents.query_terms import PRUNED, Pruning, any_of, candidate_terms, weigh
from core.errors import WarmUpFirst
from core.identity.service import is_member

TS_CONFIG = "english"
K1 = 1.2
B = 0.75
RRF_K = 60
DEFAULT_EF_SEARCH = 100
# Exact vector search up to this many chunks in the searched scopes, or when they hold less
# than EXACT_VECTOR_SHARE of the table: HNSW would walk most of its graph to find `depth`
# rows of theirs.
EXACT_VECTOR_MAX = 20_000
EXACT_VECTOR_SHARE = 0.02
# Dimensions with an HNSW index (see the migration); other sizes use exact search.
INDEXED_DIMS = (384, 768, 1024, 1536)
# Every query term selects candidates: the reference the pruned search is measured against.
EXACT_KEYWORD: dict[str, object] = {"pruning": None}


class Mode(Enum):
    HYBRID = "hybrid"
    KEYWORD = "keyword"
    VECTOR = "vector"


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk. `handle` is the citation text, e.g. "lecture-3.pdf p.14"."""

    handle: str
    chunk_id: int
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
    pruning: Pruning | None = PRUNED,
) -> list[Passage]:
    """Search exactly these scopes. `depth` is how many candidates each side ranks before
    fusion (at least `limit`); with `pruning` None every query term selects candidates.
    Raises `WarmUpFirst` when the embedder's model is not loaded yet (the dispatcher loads
    it outside the transaction and runs the event again)."""
    query = query.strip()
    if not query or not scopes or limit <= 0:
        return []
    depth = max(depth or 50, limit)
    facts = await _scope_facts(session, scopes, query, ef_search)
    if facts.chunks == 0:
        return []  # nothing to find: spare the query embedding (and loading its model)
    vector: list[float] | None = None
    model: str | None = None
    if embedder is not None and mode is not Mode.KEYWORD:
        if needs_warming(embedder):
            # Loading takes seconds: never while the caller's transaction holds a connection.
            raise WarmUpFirst(partial(warm, embedder))
        vector = (await embedder.embed([query]))[0]
        model = embedder.model
    terms = weigh(facts.dfs, facts.chunks) if mode is not Mode.VECTOR else []
    if vector is None and not terms:
        return []
    sql = _search_sql(
        use_keyword=bool(terms),
        dim=len(vector) if vector is not None else None,
        exact_vectors=facts.exact_vectors,
    )
    params: dict[str, object] = {"scopes": list(scopes), "depth": depth, "limit": limit}
    if terms:
        params["lexemes"] = [term.lexeme for term in terms]
        params["idfs"] = [term.idf for term in terms]
        params["tsq"] = any_of(term.lexeme for term in candidate_terms(terms, pruning))
        params["avgdl"] = facts.average_length
    if vector is not None:
        params["qvec"] = _vector_literal(vector)
        params["model"] = model
    rows = (await session.execute(text(sql), params)).all()
    return [
        Passage(
            handle=citation_handle(row.title, row.page, row.section),
            chunk_id=row.id,
            document_id=row.document_id,
            document_title=row.title,
            page=row.page,
            section=row.section,
            text=row.text,
            score=float(row.score),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class _ScopeFacts:
    chunks: int
    average_length: float
    dfs: dict[str, int]
    exact_vectors: bool


_FACTS_SQL = f"""
SELECT s.chunks, s.total_length, t.table_rows, d.lexemes, d.dfs,
       set_config('hnsw.ef_search', :ef, true) AS ef,
       set_config('hnsw.iterative_scan', 'relaxed_order', true) AS scan,
       set_config('plan_cache_mode', 'force_custom_plan', true) AS plans
FROM (
    SELECT coalesce(sum(chunks), 0)::bigint AS chunks,
           coalesce(sum(total_length), 0)::bigint AS total_length
    FROM document_scope_stats WHERE scope = ANY(:scopes)
) AS s
CROSS JOIN (
    SELECT reltuples AS table_rows FROM pg_class WHERE oid = 'document_chunks'::regclass
) AS t
CROSS JOIN (
    SELECT array_agg(lexeme) AS lexemes, array_agg(df) AS dfs
    FROM (
        SELECT lexeme, sum(df)::bigint AS df FROM document_lexeme_stats
        WHERE scope = ANY(:scopes)
          AND lexeme = ANY(tsvector_to_array(to_tsvector('{TS_CONFIG}', :query)))
        GROUP BY lexeme
    ) AS found
) AS d
"""


async def _scope_facts(
    session: AsyncSession, scopes: Sequence[str], query: str, ef_search: int
) -> _ScopeFacts:
    """In one round trip: the scopes' size, their document frequencies of the query's
    lexemes, and the options of this transaction: HNSW's, and custom plans. A generic plan
    of the cached search statement, blind to the scope and terms, intersects a scope-only
    btree scan with a terms-only scan of the GIN index, which reads every scope's
    postings."""
    row = (
        await session.execute(
            text(_FACTS_SQL), {"scopes": list(scopes), "query": query, "ef": str(ef_search)}
        )
    ).one()
    chunks = int(row.chunks)
    table_rows = max(float(row.table_rows or 0), float(chunks), 1.0)
    exact = chunks <= EXACT_VECTOR_MAX or chunks / table_rows < EXACT_VECTOR_SHARE
    return _ScopeFacts(
        chunks=chunks,
        average_length=max(int(row.total_length) / chunks, 1.0) if chunks else 1.0,
        dfs=dict(zip(row.lexemes or [], map(int, row.dfs or []), strict=True)),
        exact_vectors=exact,
    )


def _vector_literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


# Candidates: the scopes' chunks matching the selective terms (the composite GIN index
# answers both conditions). Score: every question term found in the chunk.
_KEYWORD_CTES = f"""
terms AS (
    SELECT * FROM unnest(CAST(:lexemes AS text[]), CAST(:idfs AS float8[])) AS t(lexeme, idf)
),
kw AS (
    SELECT c.id,
           sum(t.idf * (u.tf * ({K1} + 1))
               / (u.tf + {K1} * (1 - {B} + {B} * c.length / CAST(:avgdl AS float8)))) AS score
    FROM document_chunks AS c
    CROSS JOIN LATERAL (
        SELECT x.lexeme, coalesce(array_length(x.positions, 1), 1)::float8 AS tf
        FROM unnest(c.tsv) AS x
    ) AS u
    JOIN terms AS t ON t.lexeme = u.lexeme
    WHERE c.scope = ANY(:scopes) AND c.tsv @@ CAST(:tsq AS tsquery)
    GROUP BY c.id
    ORDER BY score DESC
    LIMIT :depth
),
kw_ranked AS (
    SELECT id, row_number() OVER (ORDER BY score DESC, id) AS rank FROM kw
)"""


def _vector_ctes(dim: int, *, exact: bool) -> str:
    if exact:
        # MATERIALIZED keeps the planner from answering the ORDER BY with the HNSW index,
        # which would walk the whole table's graph for the few rows of a small scope.
        return f"""
scoped AS MATERIALIZED (
    SELECT c.id, c.embedding::vector({dim}) <=> CAST(:qvec AS vector({dim})) AS distance
    FROM document_chunks AS c
    WHERE c.scope = ANY(:scopes) AND c.embedding_dim = {dim} AND c.embedding_model = :model
),
vec AS (
    SELECT id, distance FROM scoped ORDER BY distance LIMIT :depth
),
vec_ranked AS (
    SELECT id, row_number() OVER (ORDER BY distance, id) AS rank FROM vec
)"""
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


def _search_sql(*, use_keyword: bool, dim: int | None, exact_vectors: bool) -> str:
    ctes: list[str] = []
    ranked: list[str] = []
    if use_keyword:
        ctes.append(_KEYWORD_CTES)
        ranked.append("SELECT id, rank FROM kw_ranked")
    if dim is not None:
        ctes.append(_vector_ctes(int(dim), exact=exact_vectors))
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
SELECT f.score, c.id, c.document_id, c.page, c.section, c.text, d.title
FROM fused AS f
JOIN document_chunks AS c ON c.id = f.id
JOIN documents AS d ON d.id = c.document_id
ORDER BY f.score DESC, c.id
"""
