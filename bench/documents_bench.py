"""Document ingestion throughput and hybrid query latency at scale.

    python -m bench.documents_bench            # scaled down: 20,000 chunks (~2 min)
    python -m bench.documents_bench --chunks 100000 --home /tmp/scale  # keep the data
    python -m bench.documents_bench --home /tmp/scale --no-load --no-ingestion  # re-query
    python -m bench.documents_bench --full     # 1,000,000 chunks, 10,000 users (long)

1. Ingestion: a synthetic lecture PDF (reportlab) through the real intake and ingestion
   job, keyword only and with the local embedding model: pages/s and chunks/s.
2. Scale: N synthetic chunks (Zipf-distributed words, clustered 384-d vectors): a room
   scope holding a tenth of them, a 10,000-chunk scope, and the rest over many users
   (~100 chunks each). The real hybrid query (`search_scopes`) in one user's scope and in
   the room's: p50/p99 latency and recall@10 of its vector side against exact search; a
   200-word question, keyword only, in the 10,000-chunk scope: p50/p99 and how much of its
   top 10 the unpruned BM25 query agrees with.
A bare `SELECT 1` round trip is printed as the reference.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.common import bench_core, bench_user
from bench.goals import goal_line
from core.documents.embeddings import Embedder, LocalEmbedder
from core.documents.jobs import ingest
from core.documents.retrieval import DEFAULT_EF_SEARCH, EXACT_KEYWORD, Mode, search_scopes
from core.documents.service import receive_file
from core.identity.models import User
from core.jobs import JobContext
from teddy.runtime import Runtime

DIM = 384
VOCABULARY = 20_000
MODEL = "synthetic"
COLUMNS = [
    "document_id",
    "scope",
    "ordinal",
    "page",
    "text",
    "tsv",
    "length",
    "embedding",
    "embedding_model",
    "embedding_dim",
]


# Pages per second asked of ingestion (issue 22), keyword only and with the local model.
INGESTION_GOALS = {False: 50, True: 10}


def lecture_pdf(pages: int, seed: int) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    rng = random.Random(seed)
    words = [f"term{i}" for i in range(3000)] + ["cell", "energy", "membrane", "protein"]
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for _ in range(pages):
        y = 800
        for _line in range(45):
            sentence = " ".join(rng.choice(words) for _ in range(12)) + "."
            pdf.drawString(40, y, sentence.capitalize())
            y -= 16
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


async def ingestion(core: Runtime, embedder: Embedder | None, pages: int, docs: int) -> str:
    core.services.embedder = embedder
    if embedder is not None:
        await embedder.embed(["load the model before timing"])
    user = await bench_user(core, f"ingest-{embedder is not None}")
    jc = JobContext(core.db, core.services)
    chunks = 0
    elapsed = 0.0
    for seed in range(docs):
        data = lecture_pdf(pages, seed + (1000 if embedder else 0))
        started = time.perf_counter()
        async with core.db.transaction() as session:
            owner = await session.get(User, user.id)
            assert owner is not None
            document, _ = await receive_file(
                session, user=owner, room=None, name=f"l{seed}.pdf", data=data, max_bytes=1 << 30
            )
        await ingest(jc, document_id=document.id)
        elapsed += time.perf_counter() - started
        async with core.db.transaction() as session:
            chunks += int(
                await session.scalar(
                    text("SELECT chunk_count FROM documents WHERE id = :id"), {"id": document.id}
                )
                or 0
            )
    total_pages = pages * docs
    label = "local all-MiniLM-L6-v2" if embedder else "keyword only"
    goal = INGESTION_GOALS[embedder is not None]
    return (
        f"  {label:24} {total_pages / elapsed:7.1f} pages/s {chunks / elapsed:8.1f} chunks/s "
        f"(goal >= {goal} pages/s; {docs} PDFs x {pages} pages, {chunks} chunks, "
        f"{elapsed:.1f} s)"
    )


def _tsvector(words: list[str]) -> tuple[str, int]:
    positions: dict[str, list[int]] = {}
    for index, word in enumerate(words, 1):
        positions.setdefault(word, []).append(index)
    body = " ".join(f"'{w}':{','.join(map(str, p))}" for w, p in positions.items())
    return body, len(words)


@dataclass(frozen=True)
class Layout:
    """Who owns the synthetic chunks: many small user scopes, one large room scope and one
    10,000-chunk scope for the long-question keyword test."""

    total: int
    users: int
    room_chunks: int
    long_chunks: int

    @classmethod
    def sized(cls, total: int, users: int | None, room_chunks: int | None) -> Layout:
        room = room_chunks if room_chunks is not None else total // 10
        long = min(10_000, total // 4)
        user_count = users if users is not None else max(1, (total - room - long) // 100)
        if room + long >= total:
            raise SystemExit("--room-chunks leaves no chunks for the user scopes")
        return cls(total, user_count, room, long)

    @property
    def user_scopes(self) -> list[str]:
        return [f"u:syn{i}" for i in range(self.users)]

    def scope_of(self, n: int) -> str:
        if n < self.room_chunks:
            return ROOM_SCOPE
        if n < self.room_chunks + self.long_chunks:
            return LONG_SCOPE
        return f"u:syn{n % self.users}"


ROOM_SCOPE = "r:synroom"
LONG_SCOPE = "u:synlong"


def _word_ids(rng: Any, shape: tuple[int, ...]) -> Any:
    import numpy as np

    zipf = 1 / np.arange(1, VOCABULARY + 1) ** 1.1
    return rng.choice(VOCABULARY, size=shape, p=zipf / zipf.sum())


async def _chunk_indexes(raw: Any) -> list[tuple[str, str]]:
    rows = await raw.fetch(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'document_chunks'"
        " AND indexname <> 'pk_document_chunks'"
    )
    return [(row["indexname"], row["indexdef"]) for row in rows]


async def load_synthetic(core: Runtime, layout: Layout, seed: int = 7) -> dict[str, float]:
    """Insert the layout's chunks straight through COPY, with the chunk indexes dropped
    during the load and built afterwards (as a bulk import would); seconds per phase."""
    import asyncpg
    import numpy as np
    from pgvector.asyncpg import register_vector

    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(256, DIM)).astype(np.float32)
    phases: dict[str, float] = {}
    clock = time.perf_counter()
    raw = await asyncpg.connect(core.servers.database_url)
    try:
        await register_vector(raw)
        await raw.execute("TRUNCATE document_chunks, document_lexeme_stats, document_scope_stats")
        scopes = [ROOM_SCOPE, LONG_SCOPE, *layout.user_scopes]
        rows = await raw.fetch(
            "INSERT INTO documents (scope, title, kind, content_hash, size_bytes, status,"
            " chunk_count, summary, key_concepts, ingest_runs)"
            " SELECT s, 'synthetic.pdf', 'pdf', s, 0, 'ready', 0, '', '{}', 0"
            " FROM unnest($1::text[]) AS s"
            " ON CONFLICT (scope, content_hash) DO UPDATE SET status = 'ready'"
            " RETURNING id, scope",
            scopes,
        )
        doc_ids = {row["scope"]: row["id"] for row in rows}
        indexes = await _chunk_indexes(raw)
        for name, _ in indexes:
            await raw.execute(f'DROP INDEX "{name}"')
        await raw.execute(
            "CREATE TEMP TABLE staging (document_id bigint, scope text, ordinal int, page int,"
            " text text, tsv text, length int, embedding vector, embedding_model text,"
            " embedding_dim int)"
        )
        batch = 20_000
        for start in range(0, layout.total, batch):
            size = min(batch, layout.total - start)
            labels = rng.integers(0, len(centers), size)
            vectors = centers[labels] + 0.6 * rng.normal(size=(size, DIM)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            word_ids = _word_ids(rng, (size, 60))
            records = []
            for i in range(size):
                n = start + i
                scope = layout.scope_of(n)
                words = [f"w{w}" for w in word_ids[i]]
                tsv, length = _tsvector(words)
                body = " ".join(words)
                records.append(
                    (doc_ids[scope], scope, n, 1, body, tsv, length, vectors[i], MODEL, DIM)
                )
            await raw.copy_records_to_table("staging", records=records, columns=COLUMNS)
            await raw.execute(
                "INSERT INTO document_chunks ("
                + ", ".join(COLUMNS)
                + ") SELECT "
                + ", ".join(f"{c}::tsvector" if c == "tsv" else c for c in COLUMNS)
                + " FROM staging"
            )
            await raw.execute("TRUNCATE staging")
        phases["copy"], clock = time.perf_counter() - clock, time.perf_counter()
        await raw.execute("SET maintenance_work_mem = '3GB'")
        await raw.execute("SET max_parallel_maintenance_workers = 2")
        for name, definition in indexes:
            await raw.execute(definition)
            phases[f"index {name}"], clock = time.perf_counter() - clock, time.perf_counter()
        await raw.execute(
            "INSERT INTO document_lexeme_stats (scope, lexeme, df)"
            " SELECT c.scope, x.lexeme, count(*) FROM document_chunks c, unnest(c.tsv) x"
            " GROUP BY c.scope, x.lexeme"
        )
        await raw.execute(
            "INSERT INTO document_scope_stats (scope, chunks, total_length)"
            " SELECT scope, count(*), sum(length) FROM document_chunks GROUP BY scope"
        )
        phases["term statistics"], clock = time.perf_counter() - clock, time.perf_counter()
        await raw.execute("VACUUM ANALYZE document_chunks")
        await raw.execute("ANALYZE document_lexeme_stats")
        await raw.execute("ANALYZE document_scope_stats")
        phases["vacuum analyze"] = time.perf_counter() - clock
    finally:
        await raw.close()
    return phases


class FixedVectors:
    """An embedder returning prepared query vectors (the scale test has no real text)."""

    def __init__(self, vectors: list[list[float]]) -> None:
        self.vectors = vectors
        self.next = 0

    @property
    def model(self) -> str:
        return MODEL

    async def embed(self, texts: Any) -> list[list[float]]:
        vector = self.vectors[self.next % len(self.vectors)]
        self.next += 1
        return [vector]


def _query_vectors(count: int, seed: int = 7) -> list[list[float]]:
    import numpy as np

    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(256, DIM)).astype(np.float32)  # the same centres as the data
    picks = centers[rng.integers(0, len(centers), count)]
    vectors = picks + 0.6 * rng.normal(size=(count, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return [list(map(float, v)) for v in vectors]


def _short_questions(count: int) -> list[str]:
    rng = random.Random(3)
    return [
        f"w{rng.randint(0, 2000)} w{rng.randint(0, 8000)} w{rng.randint(0, 200)}"
        for _ in range(count)
    ]


def _long_questions(count: int, words: int = 200) -> list[str]:
    import numpy as np

    ids = _word_ids(np.random.default_rng(11), (count, words))
    return [" ".join(f"w{w}" for w in row) for row in ids]


async def _quoting_questions(core: Runtime, count: int) -> tuple[list[str], list[int]]:
    """200-word questions that quote 40 words of one chunk of the long scope amid 160
    others, and the id of the chunk each quotes."""
    async with core.db.transaction() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT id, text FROM document_chunks WHERE scope = :scope"
                    " ORDER BY md5(id::text) LIMIT :count"
                ),
                {"scope": LONG_SCOPE, "count": count},
            )
        ).all()
    filler = _long_questions(len(rows), words=160)
    questions = []
    for row, words in zip(rows, filler, strict=True):
        around = words.split()
        questions.append(" ".join([*around[:80], *row.text.split()[:40], *around[80:]]))
    return questions, [row.id for row in rows]


def _found(results: list[list[int]], wanted: list[int]) -> float:
    return sum(w in r for r, w in zip(results, wanted, strict=True)) / max(1, len(wanted))


async def _timed_searches(
    core: Runtime,
    scopes: list[str],
    questions: list[str],
    embedder: FixedVectors | None,
    mode: Mode,
    ef_search: int,
    **options: Any,
) -> tuple[list[float], list[list[int]]]:
    """Milliseconds per search and the chunk ids each returned (the top 10)."""
    latencies: list[float] = []
    found: list[list[int]] = []
    for i, question in enumerate(questions):
        begun = time.perf_counter()
        async with core.db.transaction() as session:
            passages = await search_scopes(
                session,
                scopes=[scopes[i % len(scopes)]],
                query=question,
                limit=10,
                embedder=embedder,
                mode=mode,
                ef_search=ef_search,
                **options,
            )
        latencies.append(1000 * (time.perf_counter() - begun))
        found.append([p.chunk_id for p in passages])
    return latencies, found


def _p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _summary(latencies: list[float]) -> str:
    return f"p50 {statistics.median(latencies):6.1f} ms, p99 {_p99(latencies):6.1f} ms"


async def _vector_recall(
    core: Runtime, scopes: list[str], vectors: list[list[float]], ef_search: int
) -> float:
    """recall@10 of the vector side of the real search path against exact search."""
    _, approx = await _timed_searches(
        core, scopes, ["q"] * len(vectors), FixedVectors(vectors), Mode.VECTOR, ef_search
    )
    hits = 0
    for i, vector in enumerate(vectors):
        params = {"scope": scopes[i % len(scopes)], "model": MODEL, "q": str(vector)}
        async with core.db.transaction() as session:
            await session.execute(text("SET LOCAL enable_indexscan = off"))
            exact = set(await session.scalars(text(_NEAREST), params))
        hits += len(set(approx[i]) & exact)
    return hits / (10 * len(vectors))


def _overlap(approx: list[list[int]], exact: list[list[int]]) -> float:
    return sum(len(set(a) & set(e)) for a, e in zip(approx, exact, strict=True)) / max(
        1, sum(len(e) for e in exact)
    )


async def scale(
    core: Runtime, layout: Layout, queries: int, ef_search: int, load: bool
) -> list[str]:
    started = time.perf_counter()
    phases = await load_synthetic(core, layout) if load else {}
    loaded = time.perf_counter() - started
    vectors = _query_vectors(queries)
    short = _short_questions(queries)
    users = layout.user_scopes
    per_user = (layout.total - layout.room_chunks - layout.long_chunks) // layout.users
    select_1 = f"SELECT 1 p50 {await round_trip(core):.2f} ms (after the load)"
    lines = [
        f"  {layout.total:,} chunks: {layout.users:,} users (~{per_user:,} each), a room of "
        f"{layout.room_chunks:,}, a scope of {layout.long_chunks:,}; loaded in {loaded:.0f} s",
        f"  reference: {select_1}",
    ]
    if phases:
        lines.append("  load phases: " + ", ".join(f"{k} {v:.0f} s" for k, v in phases.items()))
    for label, scopes in (("one user's scope", users), ("the room's scope", [ROOM_SCOPE])):
        latencies, _ = await _timed_searches(
            core, scopes, short, FixedVectors(vectors), Mode.HYBRID, ef_search
        )
        recall = await _vector_recall(core, scopes, vectors[: min(queries, 50)], ef_search)
        lines.append(
            f"  hybrid, {label:17} {_summary(latencies)}; vector recall@10 vs exact"
            f" {recall:.3f} (ef_search {ef_search})"
        )
        if scopes == users:
            note = f"{layout.users:,} users, ~{per_user:,} chunks each"
            lines.append(_goal("hybrid_user_p99_ms", _p99(latencies), select_1, layout.total, note))
            lines.append(_goal("hybrid_user_recall", recall, select_1, layout.total, note))
        else:
            lines.append(_goal("hybrid_room_p99_ms", _p99(latencies), select_1, layout.room_chunks))
    long = _long_questions(min(queries, 50))
    latencies, pruned = await _timed_searches(
        core, [LONG_SCOPE], long, None, Mode.KEYWORD, ef_search
    )
    _, exact = await _timed_searches(
        core, [LONG_SCOPE], long, None, Mode.KEYWORD, ef_search, **EXACT_KEYWORD
    )
    quoting, wanted = await _quoting_questions(core, min(queries, 50))
    quoted_latencies, quoted = await _timed_searches(
        core, [LONG_SCOPE], quoting, None, Mode.KEYWORD, ef_search
    )
    _, quoted_exact = await _timed_searches(
        core, [LONG_SCOPE], quoting, None, Mode.KEYWORD, ef_search, **EXACT_KEYWORD
    )
    lines += [
        _goal("keyword_long_p99_ms", _p99(latencies), select_1, layout.long_chunks),
        f"  keyword, 200-word question, {layout.long_chunks:,} chunks: {_summary(latencies)};"
        f" top-10 overlap with unpruned BM25 {_overlap(pruned, exact):.3f}",
        f"  keyword, 200-word question quoting a chunk: {_summary(quoted_latencies)};"
        f" the quoted chunk in the top 10: {_found(quoted, wanted):.2f}"
        f" (unpruned BM25 {_found(quoted_exact, wanted):.2f})",
    ]
    return lines


def _goal(key: str, value: float, reference: str, size: int, note: str = "") -> str:
    return goal_line(key, round(value, 3), reference=reference, size=size, note=note)


_NEAREST = (
    "SELECT id FROM document_chunks WHERE scope = :scope AND embedding_dim = 384"
    " AND embedding_model = :model"
    " ORDER BY embedding::vector(384) <=> CAST(:q AS vector(384)) LIMIT 10"
)


async def round_trip(core: Runtime) -> float:
    times = []
    for _ in range(200):
        begun = time.perf_counter()
        async with core.db.transaction() as session:
            await session.execute(text("SELECT 1"))
        times.append(1000 * (time.perf_counter() - begun))
    return statistics.median(times)


async def main(args: argparse.Namespace) -> None:
    async with bench_core(Path(args.home) if args.home else None, None) as core:
        print(f"reference: SELECT 1 round trip p50 {await round_trip(core):.2f} ms")
        if not args.no_ingestion:
            print("ingestion (intake + job: extract, chunk, embed, index, summarise):")
            print(await ingestion(core, None, args.pages, args.docs))
            if LocalEmbedder.available():
                print(await ingestion(core, LocalEmbedder(), args.pages, args.docs))
        print("query latency (hybrid: BM25 + vectors, RRF; keyword: BM25):")
        total, users, room = (
            (1_000_000, 10_000, 100_000) if args.full else (args.chunks, None, None)
        )
        layout = Layout.sized(total, args.users or users, args.room_chunks or room)
        for line in await scale(core, layout, args.queries, args.ef_search, not args.no_load):
            print(line)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="1M chunks over 10,000 users")
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--users", type=int, help="user scopes (default: ~100 chunks each)")
    parser.add_argument("--room-chunks", type=int, help="chunks in the room (default: 10 %%)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--docs", type=int, default=3)
    parser.add_argument("--ef-search", type=int, default=DEFAULT_EF_SEARCH)
    parser.add_argument("--home", help="data directory to keep (reused with --no-load)")
    parser.add_argument("--no-load", action="store_true", help="query the data in --home")
    parser.add_argument("--no-ingestion", action="store_true", help="skip the ingestion part")
    asyncio.run(main(parser.parse_args()))
