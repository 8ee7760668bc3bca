"""Retrieval quality on BEIR SciFact through the real ingestion and search path.

    python -m bench.retrieval --dataset ../shared/data/scifact [--embedder local|none]

Every abstract is sent as a Markdown file (`# title` + text) through the same service
and ingestion job as a chat upload, then each of the 300 test claims is searched with
`search_scopes` in keyword (BM25), vector and hybrid (RRF) mode. A document's rank is the
rank of its best passage. Prints nDCG@10, Recall@10 and Recall@100 next to the published
reference points, and next to the same searches without query-term pruning (every term of
the claim selects candidates), measured in the same run."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import math
import time
from pathlib import Path

from sqlalchemy import func, select

from bench.common import bench_core, bench_user
from core.documents.embeddings import Embedder, LocalEmbedder
from core.documents.jobs import ingest
from core.documents.models import READY, Document
from core.documents.query_terms import PRUNED, Pruning
from core.documents.retrieval import Mode, search_scopes, user_scope
from core.documents.service import receive_file
from core.identity.models import User
from core.jobs import JobContext
from teddy.runtime import Runtime

REFERENCE = {
    "BM25 (published)": "0.665-0.679",
    "all-MiniLM-L6-v2 (published)": "0.645",
    "PostgreSQL ts_rank (published)": "0.569",
}


def load(dataset: Path) -> tuple[dict[str, str], dict[str, str], dict[str, set[str]]]:
    corpus: dict[str, str] = {}
    with (dataset / "corpus.jsonl").open() as handle:
        for line in handle:
            row = json.loads(line)
            corpus[row["_id"]] = f"# {row['title']}\n\n{row['text']}\n"
    qrels: dict[str, set[str]] = {}
    with (dataset / "qrels" / "test.tsv").open() as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if int(row["score"]) > 0:
                qrels.setdefault(row["query-id"], set()).add(row["corpus-id"])
    queries: dict[str, str] = {}
    with (dataset / "queries.jsonl").open() as handle:
        for line in handle:
            row = json.loads(line)
            if row["_id"] in qrels:
                queries[row["_id"]] = row["text"]
    return corpus, queries, qrels


async def ingest_corpus(core: Runtime, user_id: int, corpus: dict[str, str], workers: int) -> float:
    """Ingest every abstract not yet ingested; returns the seconds it took."""
    jc = JobContext(core.db, core.services)
    async with core.db.transaction() as session:
        done = set(
            await session.scalars(
                select(Document.title).where(
                    Document.scope == user_scope(user_id), Document.status == READY
                )
            )
        )
    todo = [(doc_id, text) for doc_id, text in corpus.items() if f"{doc_id}.md" not in done]
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for item in todo:
        queue.put_nowait(item)
    started = time.perf_counter()

    async def worker() -> None:
        while not queue.empty():
            doc_id, text = queue.get_nowait()
            async with core.db.transaction() as session:
                owner = await session.get(User, user_id)
                assert owner is not None
                document, _ = await receive_file(
                    session,
                    user=owner,
                    room=None,
                    name=f"{doc_id}.md",
                    data=text.encode(),
                    max_bytes=25 * 1_048_576,
                )
            await ingest(jc, document_id=document.id)

    await asyncio.gather(*(worker() for _ in range(workers)))
    return time.perf_counter() - started


def ndcg_at(ranked: list[str], relevant: set[str], k: int) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


def recall_at(ranked: list[str], relevant: set[str], k: int) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant)


async def evaluate(
    core: Runtime,
    user_id: int,
    queries: dict[str, str],
    qrels: dict[str, set[str]],
    mode: Mode,
    embedder: Embedder | None,
    ef_search: int,
    pruning: Pruning | None,
) -> dict[str, float]:
    totals = {"nDCG@10": 0.0, "Recall@10": 0.0, "Recall@100": 0.0}
    latencies: list[float] = []
    for query_id, text in queries.items():
        started = time.perf_counter()
        async with core.db.transaction() as session:
            passages = await search_scopes(
                session,
                scopes=[user_scope(user_id)],
                query=text,
                limit=200,
                depth=200,
                embedder=embedder,
                mode=mode,
                ef_search=ef_search,
                pruning=pruning,
            )
        latencies.append(time.perf_counter() - started)
        ranked: list[str] = []
        for passage in passages:
            doc_id = passage.document_title.removesuffix(".md")
            if doc_id not in ranked:
                ranked.append(doc_id)
        relevant = qrels[query_id]
        totals["nDCG@10"] += ndcg_at(ranked, relevant, 10)
        totals["Recall@10"] += recall_at(ranked, relevant, 10)
        totals["Recall@100"] += recall_at(ranked, relevant, 100)
    result = {name: value / len(queries) for name, value in totals.items()}
    latencies.sort()
    result["p50 ms"] = 1000 * latencies[len(latencies) // 2]
    return result


async def main(args: argparse.Namespace) -> None:
    corpus, queries, qrels = load(Path(args.dataset))
    embedder: Embedder | None = LocalEmbedder() if args.embedder == "local" else None
    async with bench_core(Path(args.home) if args.home else None, embedder) as core:
        user = await bench_user(core, "scifact")
        seconds = await ingest_corpus(core, user.id, corpus, args.workers)
        async with core.db.transaction() as session:
            chunks = await session.scalar(
                select(func.sum(Document.chunk_count)).where(Document.scope == user_scope(user.id))
            )
        print(
            f"SciFact: {len(corpus)} abstracts ({chunks} passages), {len(queries)} test queries; "
            f"ingested in {seconds:.0f} s, embedder: {args.embedder}"
        )
        if embedder is not None:
            # A reused --home ingests nothing, so nothing has loaded the model yet.
            await embedder.embed(["load the model before timing"])
        pruning = Pruning(args.max_terms, args.max_candidates)
        runs: list[tuple[str, Mode, Pruning | None]] = [("ours: keyword", Mode.KEYWORD, pruning)]
        if embedder:
            runs += [("ours: vector", Mode.VECTOR, pruning), ("ours: hybrid", Mode.HYBRID, pruning)]
        runs.append(("reference: keyword, no pruning", Mode.KEYWORD, None))
        if embedder:
            runs.append(("reference: hybrid, no pruning", Mode.HYBRID, None))
        print(f"{'run':34} {'nDCG@10':>8} {'R@10':>7} {'R@100':>7} {'p50 ms':>7}")
        for label, mode, chosen in runs:
            scores = await evaluate(
                core, user.id, queries, qrels, mode, embedder, args.ef_search, chosen
            )
            print(
                f"{label:34} {scores['nDCG@10']:8.3f} {scores['Recall@10']:7.3f} "
                f"{scores['Recall@100']:7.3f} {scores['p50 ms']:7.1f}"
            )
        for name, value in REFERENCE.items():
            print(f"{name:34} {value:>8}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="../shared/data/scifact")
    parser.add_argument("--embedder", choices=["local", "none"], default="local")
    parser.add_argument("--home", help="data directory to keep (reused by the next run)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--ef-search", type=int, default=100)
    parser.add_argument("--max-terms", type=int, default=PRUNED.max_terms)
    parser.add_argument("--max-candidates", type=int, default=PRUNED.max_candidates)
    asyncio.run(main(parser.parse_args()))
