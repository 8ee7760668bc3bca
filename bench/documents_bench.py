"""Document ingestion throughput and hybrid query latency at scale.

    python -m bench.documents_bench            # scaled down: 20,000 chunks (~2 min)
    python -m bench.documents_bench --full     # 100,000 and 1,000,000 chunks (long)

1. Ingestion: a synthetic lecture PDF (reportlab) through the real intake and ingestion
   job, keyword only and with the local embedding model: pages/s and chunks/s.
2. Scale: N synthetic chunks (Zipf-distributed words, clustered 384-d vectors) spread over
   10 scopes, so one student's scope keeps 10 % of the rows; the real hybrid query
   (`search_scopes`) in one scope: p50/p99 latency; and recall@10 of the HNSW index
   (iterative scan, at the configured ef_search) against exact search.
A bare `SELECT 1` round trip is printed as the reference.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import statistics
import time
from typing import Any

from sqlalchemy import text

from bench.common import bench_core, bench_user
from core.documents.embeddings import Embedder, LocalEmbedder
from core.documents.jobs import ingest
from core.documents.retrieval import DEFAULT_EF_SEARCH, Mode, search_scopes
from core.documents.service import receive_file
from core.identity.models import User
from core.jobs import JobContext
from teddy.runtime import Core

DIM = 384
SCOPES = 10
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


async def ingestion(core: Core, embedder: Embedder | None, pages: int, docs: int) -> str:
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
    return (
        f"  {label:24} {total_pages / elapsed:7.1f} pages/s {chunks / elapsed:8.1f} chunks/s "
        f"({docs} PDFs x {pages} pages, {chunks} chunks, {elapsed:.1f} s)"
    )


def _tsvector(words: list[str]) -> tuple[str, int]:
    positions: dict[str, list[int]] = {}
    for index, word in enumerate(words, 1):
        positions.setdefault(word, []).append(index)
    body = " ".join(f"'{w}':{','.join(map(str, p))}" for w, p in positions.items())
    return body, len(words)


async def load_synthetic(core: Core, total: int, seed: int = 7) -> list[str]:
    """Insert `total` chunks over SCOPES scopes straight through COPY; returns the scopes."""
    import numpy as np
    from pgvector.asyncpg import register_vector

    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(256, DIM)).astype(np.float32)
    zipf = 1 / np.arange(1, VOCABULARY + 1) ** 1.1
    zipf /= zipf.sum()
    scopes = [f"u:syn{i}" for i in range(SCOPES)]
    import asyncpg

    raw = await asyncpg.connect(core.servers.database_url)
    try:
        await register_vector(raw)
        await raw.execute("TRUNCATE document_chunks, document_lexeme_stats, document_scope_stats")
        doc_ids = []
        for scope in scopes:
            doc_ids.append(
                await raw.fetchval(
                    "INSERT INTO documents (scope, title, kind, content_hash, size_bytes, status,"
                    " chunk_count, summary, key_concepts, ingest_runs) VALUES"
                    " ($1, 'synthetic.pdf', 'pdf', $1, 0, 'ready', 0, '', '{}', 0)"
                    " ON CONFLICT (scope, content_hash) DO UPDATE SET status = 'ready'"
                    " RETURNING id",
                    scope,
                )
            )
        await raw.execute(
            "CREATE TEMP TABLE staging (document_id bigint, scope text, ordinal int, page int,"
            " text text, tsv text, length int, embedding vector, embedding_model text,"
            " embedding_dim int)"
        )
        batch = 20_000
        for start in range(0, total, batch):
            size = min(batch, total - start)
            labels = rng.integers(0, len(centers), size)
            vectors = centers[labels] + 0.6 * rng.normal(size=(size, DIM)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            word_ids = rng.choice(VOCABULARY, size=(size, 60), p=zipf)
            records = []
            for i in range(size):
                n = start + i
                words = [f"w{w}" for w in word_ids[i]]
                tsv, length = _tsvector(words)
                records.append(
                    (
                        doc_ids[n % SCOPES],
                        scopes[n % SCOPES],
                        n,
                        1,
                        " ".join(words),
                        tsv,
                        length,
                        vectors[i],
                        MODEL,
                        DIM,
                    )
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
        await raw.execute(
            "INSERT INTO document_lexeme_stats (scope, lexeme, df)"
            " SELECT c.scope, x.lexeme, count(*) FROM document_chunks c, unnest(c.tsv) x"
            " GROUP BY c.scope, x.lexeme"
        )
        await raw.execute(
            "INSERT INTO document_scope_stats (scope, chunks, total_length)"
            " SELECT scope, count(*), sum(length) FROM document_chunks GROUP BY scope"
        )
        await raw.execute("ANALYZE document_chunks")
    finally:
        await raw.close()
    return scopes


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


async def scale(core: Core, total: int, queries: int, ef_search: int) -> list[str]:
    started = time.perf_counter()
    scopes = await load_synthetic(core, total)
    loaded = time.perf_counter() - started
    vectors = _query_vectors(queries)
    embedder = FixedVectors(vectors)
    rng = random.Random(3)
    words = [
        f"w{rng.randint(0, 2000)} w{rng.randint(0, 8000)} w{rng.randint(0, 200)}"
        for _ in range(queries)
    ]
    latencies = []
    for i in range(queries):
        begun = time.perf_counter()
        async with core.db.transaction() as session:
            await search_scopes(
                session,
                scopes=[scopes[i % SCOPES]],
                query=words[i],
                limit=8,
                embedder=embedder,
                mode=Mode.HYBRID,
                ef_search=ef_search,
            )
        latencies.append(1000 * (time.perf_counter() - begun))
    recall = await hnsw_recall(core, scopes, vectors[: min(queries, 100)], ef_search)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return [
        f"  {total:>9,} chunks ({total // SCOPES:,} in the searched scope), loaded in "
        f"{loaded:.0f} s: hybrid p50 {statistics.median(latencies):6.1f} ms, p99 {p99:6.1f} ms;"
        f" HNSW recall@10 vs exact {recall:.3f} (ef_search {ef_search}, iterative scan)"
    ]


_NEAREST = (
    "SELECT id FROM document_chunks WHERE scope = :scope AND embedding_dim = 384"
    " AND embedding_model = :model"
    " ORDER BY embedding::vector(384) <=> CAST(:q AS vector(384)) LIMIT 10"
)


async def hnsw_recall(
    core: Core, scopes: list[str], vectors: list[list[float]], ef_search: int
) -> float:
    hits = 0
    for i, vector in enumerate(vectors):
        params = {"scope": scopes[i % SCOPES], "model": MODEL, "q": str(vector)}
        async with core.db.transaction() as session:
            await session.execute(text(f"SET LOCAL hnsw.ef_search = {int(ef_search)}"))
            await session.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
            approx = set(await session.scalars(text(_NEAREST), params))
        async with core.db.transaction() as session:
            await session.execute(text("SET LOCAL enable_indexscan = off"))
            exact = set(await session.scalars(text(_NEAREST), params))
        hits += len(approx & exact)
    return hits / (10 * len(vectors))


async def round_trip(core: Core) -> float:
    times = []
    for _ in range(200):
        begun = time.perf_counter()
        async with core.db.transaction() as session:
            await session.execute(text("SELECT 1"))
        times.append(1000 * (time.perf_counter() - begun))
    return statistics.median(times)


async def main(args: argparse.Namespace) -> None:
    async with bench_core(None, None) as core:
        print(f"reference: SELECT 1 round trip p50 {await round_trip(core):.2f} ms")
        print("ingestion (intake + job: extract, chunk, embed, index, summarise):")
        print(await ingestion(core, None, args.pages, args.docs))
        if LocalEmbedder.available():
            print(await ingestion(core, LocalEmbedder(), args.pages, args.docs))
        print("hybrid query latency (BM25 + HNSW, RRF) in one scope of 10:")
        sizes = [100_000, 1_000_000] if args.full else [args.chunks]
        for total in sizes:
            for line in await scale(core, total, args.queries, args.ef_search):
                print(line)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="100k and 1M chunks")
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--docs", type=int, default=3)
    parser.add_argument("--ef-search", type=int, default=DEFAULT_EF_SEARCH)
    asyncio.run(main(parser.parse_args()))
