"""Downloading the media files behind a unified frame: concurrent, resumable, credential-safe.

Each provider's flow:

- Twilio (tracks and compositions): ``GET …/Media`` with Basic auth and no redirect following
  answers ``{"redirect_to": <pre-signed URL>}`` (or a 3xx); that URL is fetched without auth.
- Zoom: ``download_url`` with the Bearer API JWT; a redirect to another host is followed
  without it.
- Plivo ``recording_url`` and SignalWire ``.wav``/``.mp3`` URLs are public: no auth.

Provider credentials only ever go to the provider's API host. Files are written to
``{dest}/{provider}/{recording_id}.{ext}`` through a ``.part`` file that a later run resumes
with a ``Range`` request; complete files are skipped.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import polars as pl

from recanalytics.credentials import Credentials
from recanalytics.engine import RETRY_STATUSES, RetryPolicy, parse_retry_after
from recanalytics.errors import ConfigError, CredentialsError
from recanalytics.progress import resolve_progress
from recanalytics.providers.registry import credentials_class, spec_for
from recanalytics.redact import redact_text, redact_url
from recanalytics.sync import syncify

RESULT_SCHEMA = pl.Schema(
    {
        "provider": pl.String,
        "recording_id": pl.String,
        "path": pl.String,
        "bytes": pl.Int64,
        "sha256": pl.String,
        "status": pl.String,
        "error": pl.String,
    }
)
# No media to fetch (yet): a still-processing composition answers 404, which is not a failure.
UNAVAILABLE = frozenset({"deleted", "failed", "absent", "enqueued", "processing", "in-progress"})
AUTHED = frozenset({"twilio", "zoom"})
CHUNK = 1 << 16


@dataclass
class _Job:
    provider: str
    recording_id: str
    url: str
    path: Path


class _Failed(Exception):
    pass


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:200] or "unnamed"


def _extension(url: str, container: str | None) -> str:
    if container:
        return container
    suffix = Path(httpx.URL(url).path).suffix.lstrip(".")
    return suffix or "bin"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class _Downloader:
    def __init__(
        self,
        *,
        credentials: Mapping[str, Credentials],
        transport: httpx.AsyncBaseTransport | None,
        retry: RetryPolicy,
        timeout: float,
        concurrency: int,
    ) -> None:
        self.retry = retry
        self.gate = asyncio.Semaphore(concurrency)
        self.secrets = [s for c in credentials.values() for s in c.secrets()]
        common: dict[str, Any] = {
            "transport": transport,
            "timeout": timeout,
            "headers": {"User-Agent": "recanalytics/0.1"},
        }
        self.anonymous = httpx.AsyncClient(follow_redirects=True, **common)
        # One client per provider that needs auth; they never follow redirects, so credentials
        # cannot travel to another host with a redirected request.
        self.authed = {
            name: httpx.AsyncClient(
                auth=spec_for(name).auth(creds), follow_redirects=False, **common
            )
            for name, creds in credentials.items()
        }

    async def aclose(self) -> None:
        await self.anonymous.aclose()
        for client in self.authed.values():
            await client.aclose()

    def _clean(self, text: str) -> str:
        return redact_text(text, self.secrets)

    async def storage_url(self, job: _Job) -> tuple[str, bool]:
        """Where the bytes are, and whether that request carries the provider's credentials.

        Whatever the provider's API answers with (``redirect_to`` or a 3xx) is a storage URL
        and is fetched without credentials, even when it is on the same host.
        """
        if job.provider not in AUTHED:
            return job.url, False
        client = self.authed[job.provider]
        url = job.url
        if job.provider == "zoom":
            url = str(httpx.URL(url).copy_remove_param("access_token"))
        async with client.stream("GET", url, headers={"Accept": "application/json"}) as response:
            if response.is_redirect:
                return str(response.url.join(response.headers["location"])), False
            if response.status_code != 200:
                raise _Status(response)
            if job.provider == "zoom":
                return url, True  # Zoom served the file itself: fetch it with the JWT
            await response.aread()
        try:
            return str(response.json()["redirect_to"]), False
        except (ValueError, KeyError, TypeError):
            raise _Failed("media answer without redirect_to") from None

    async def fetch(self, job: _Job, url: str, with_auth: bool) -> str:
        """Stream ``url`` into ``job.path`` via a ``.part`` file; returns 'downloaded'/'resumed'."""
        part = job.path.with_name(job.path.name + ".part")
        offset = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        client = self.authed[job.provider] if with_auth else self.anonymous
        async with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 416 and offset:
                part.replace(job.path)
                return "resumed"
            if response.status_code not in (200, 206):
                raise _Status(response)
            resumed = response.status_code == 206 and offset > 0
            with part.open("ab" if resumed else "wb") as handle:
                async for block in response.aiter_bytes(CHUNK):
                    handle.write(block)
        os.chmod(part, 0o600)
        part.replace(job.path)
        return "resumed" if resumed else "downloaded"

    async def run(self, job: _Job) -> dict[str, Any]:
        row: dict[str, Any] = {
            "provider": job.provider,
            "recording_id": job.recording_id,
            "path": str(job.path),
            "bytes": None,
            "sha256": None,
            "status": "failed",
            "error": None,
        }
        if job.path.exists():
            row.update(status="skipped", bytes=job.path.stat().st_size, sha256=_sha256(job.path))
            return row
        async with self.gate:
            for attempt in range(self.retry.max_retries + 1):
                try:
                    status = await self.fetch(job, *(await self.storage_url(job)))
                except _Status as exc:
                    error = self._clean(f"HTTP {exc.status} from {redact_url(exc.url)}")
                    if exc.status not in RETRY_STATUSES:
                        row["error"] = error
                        return row
                    wait = max(exc.retry_after or 0.0, self.retry.backoff(attempt))
                except httpx.TransportError as exc:
                    error = self._clean(f"{type(exc).__name__}: {exc}")
                    wait = self.retry.backoff(attempt)
                except (_Failed, OSError) as exc:
                    row["error"] = self._clean(str(exc))
                    return row
                else:
                    row.update(
                        status=status, bytes=job.path.stat().st_size, sha256=_sha256(job.path)
                    )
                    return row
                row["error"] = error
                if attempt < self.retry.max_retries:
                    await asyncio.sleep(wait)
        return row


class _Status(Exception):
    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        self.url = str(response.url)
        self.retry_after = parse_retry_after(response.headers.get("Retry-After"))


def _credentials(
    providers: set[str], credentials: Any
) -> tuple[dict[str, Credentials], dict[str, str]]:
    found: dict[str, Credentials] = {}
    missing: dict[str, str] = {}
    for name in sorted(providers & AUTHED):
        value = (
            credentials.get(name)
            if isinstance(credentials, Mapping) and name in credentials
            else credentials
        )
        if isinstance(value, Credentials) and not isinstance(value, credentials_class(name)):
            value = None
        try:
            found[name] = credentials_class(name).coerce(value)
        except CredentialsError as exc:
            missing[name] = str(exc)
    return found, missing


async def adownload_media(
    frame: pl.DataFrame | pl.LazyFrame,
    dest: str | os.PathLike[str],
    *,
    credentials: Credentials | Mapping[str, Any] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    max_concurrency: int = 4,
    retry: RetryPolicy | None = None,
    timeout: float = 120.0,
    progress: bool | None = None,
) -> pl.DataFrame:
    """Download the media of every row of a unified frame into ``dest``.

    Parameters
    ----------
    frame : DataFrame or LazyFrame
        Unified rows (at least ``provider``, ``recording_id``, ``media_url``, ``container``,
        ``status``).
    dest : path
        Files go to ``{dest}/{provider}/{recording_id}.{ext}``.
    credentials : credentials or mapping, optional
        For Twilio and Zoom (the others serve media publicly); a mapping keyed by provider
        name, or one credentials object; default: environment variables.
    transport : httpx.AsyncBaseTransport, optional
        E.g. the in-process sandbox's.
    max_concurrency : int, default 4
        Downloads in flight.

    Returns
    -------
    polars.DataFrame
        One row per input row: provider, recording_id, path, bytes, sha256, status
        (``downloaded``, ``resumed``, ``skipped`` — already complete —, ``unavailable``,
        ``failed``) and error.

    Examples
    --------
    >>> df = ra.load_twilio_recordings(status="completed", **box.options("twilio"))
    >>> result = ra.download_media(df.head(5), "media", credentials=box.credentials("twilio"),
    ...                            transport=box.transport)
    >>> result["status"].to_list()
    ['downloaded', 'downloaded', 'downloaded', 'downloaded', 'downloaded']
    """
    if (
        isinstance(max_concurrency, bool)
        or not isinstance(max_concurrency, int)
        or max_concurrency < 1
    ):
        raise ConfigError("max_concurrency", "an integer >= 1", max_concurrency)
    rows = (
        frame.lazy()
        .select(
            pl.col("provider").cast(pl.String), "recording_id", "media_url", "container", "status"
        )
        .collect()
    )
    root = Path(dest)
    creds, missing = _credentials(set(rows["provider"].drop_nulls()), credentials)
    downloader = _Downloader(
        credentials=creds,
        transport=transport,
        retry=retry or RetryPolicy(),
        timeout=timeout,
        concurrency=max_concurrency,
    )
    results: list[Any] = []
    tasks = []
    bar = None
    if resolve_progress(progress):
        from tqdm.auto import tqdm

        bar = tqdm(total=rows.height, desc="media", unit=" file")
    for provider, recording_id, url, container, status in rows.iter_rows():
        name = f"{_safe(str(recording_id))}.{_extension(url or '', container)}"
        path = root / str(provider) / name
        base = {
            "provider": provider,
            "recording_id": recording_id,
            "path": str(path),
            "bytes": None,
            "sha256": None,
            "error": None,
        }
        if not url:
            results.append(base | {"status": "unavailable", "error": "no media URL"})
        elif status in UNAVAILABLE:
            results.append(
                base | {"status": "unavailable", "error": f"recording status is {status}"}
            )
        elif provider in missing:
            results.append(base | {"status": "failed", "error": missing[provider]})
        else:
            results.append(None)
            tasks.append((len(results) - 1, _Job(provider, recording_id, url, path)))
    try:
        for _, job in tasks:
            job.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)

        async def one(index: int, job: _Job) -> None:
            results[index] = await downloader.run(job)
            if bar is not None:
                bar.update(1)

        await asyncio.gather(*(one(i, job) for i, job in tasks))
    finally:
        await downloader.aclose()
        if bar is not None:
            bar.close()
    return pl.DataFrame(results, schema=RESULT_SCHEMA)


download_media = syncify(adownload_media, "download_media")
