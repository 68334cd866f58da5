"""What a provider module declares, and the one driver that loads any endpoint.

A provider is a :class:`ProviderSpec` (credentials, host, documented rate limit, auth) plus one
:class:`Endpoint` per listing (record fields, list key, pager, mapping to the unified frame).
The driver pages every query concurrently through the shared engine, parses each page into a
typed frame as it arrives, de-duplicates by id and maps to the unified schema.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import polars as pl

from recanalytics.credentials import Credentials
from recanalytics.engine import Session
from recanalytics.errors import LoadWarning
from recanalytics.fields import EXTRA, Field, RecordSpec
from recanalytics.options import Context
from recanalytics.paging import NextUrlPager, Pager, PageRequest, dig
from recanalytics.schema import conform


@dataclass(frozen=True)
class ProviderSpec:
    """A provider's connection facts.

    Parameters
    ----------
    name : str
        The ``provider`` value in the unified frame.
    credentials : type
        Its :class:`~recanalytics.credentials.Credentials` class.
    base_url : str
        Default API host, without a trailing slash.
    rate : float
        Documented request rate limit per second; the client stays under it by default.
    concurrency : int
        Default number of requests in flight.
    """

    name: str
    credentials: type[Credentials]
    base_url: str
    rate: float
    concurrency: int
    burst: int = 1

    def default_base_url(self, credentials: Credentials) -> str:
        return self.base_url

    def auth(self, credentials: Credentials) -> httpx.Auth:
        return httpx.BasicAuth(*credentials.basic_auth())


@dataclass(frozen=True)
class Endpoint:
    """One list endpoint of a provider. Subclasses override :meth:`unified` (and, when the
    provider pages or nests differently, :meth:`pager`, :meth:`records` or :meth:`fetch`)."""

    provider: ProviderSpec
    fields: Sequence[Field]
    list_key: str
    id_column: str

    def pager(self, ctx: Context, first: PageRequest) -> Pager:
        return NextUrlPager(self.provider.name, first, max_pages=ctx.max_pages)

    def records(self, body: Any) -> list[Any]:
        """The records of one page (a missing or malformed list reads as no records)."""
        value = dig(body, self.list_key)
        return value if isinstance(value, list) else []

    def single_records(self, body: Any) -> list[Any]:
        """The records of a retrieve-one answer (one, unless the resource nests files)."""
        return [body]

    def unified(self, raw: pl.LazyFrame) -> pl.LazyFrame:
        raise NotImplementedError

    async def fetch(
        self, session: Session, ctx: Context, first: PageRequest, spec: RecordSpec
    ) -> list[pl.DataFrame]:
        """Page one query to its end, strictly in order (cursors are sequential)."""
        pager = self.pager(ctx, first)
        frames = []
        request: PageRequest | None = first
        while request is not None:
            body = await session.get_json(request.url, request.params)
            records = self.records(body)
            frames.append(spec.frame(records))
            session.page_done(len(records))
            request = pager.next(body, len(records))
        return frames

    def dedupe(self, raw: pl.DataFrame) -> pl.DataFrame:
        """Keep the last copy of each id; rows without an id are all kept."""
        key = pl.col(self.id_column)
        with_id = raw.filter(key.is_not_null()).unique(
            subset=self.id_column, keep="last", maintain_order=True
        )
        return pl.concat([with_id, raw.filter(key.is_null())])

    def finish(self, raw: pl.DataFrame, ctx: Context) -> pl.DataFrame:
        """Raw frame to what the caller asked for: raw columns or the unified frame."""
        if ctx.raw:
            return raw
        return self.unified(raw.lazy()).pipe(conform).collect()


def warn_issues(spec: RecordSpec, provider: str) -> None:
    if spec.issues:
        warnings.warn(
            f"{provider}: {sum(spec.issues.values())} values could not be read and are null in "
            f"the frame ({spec.issue_summary()}); each is kept as sent in the raw frame's "
            f"'{EXTRA}' column (raw=True)",
            LoadWarning,
            stacklevel=4,
        )


async def collect(endpoint: Endpoint, ctx: Context, queries: Sequence[PageRequest]) -> pl.DataFrame:
    """Load every query concurrently and return one de-duplicated frame."""
    spec = RecordSpec(endpoint.fields)
    async with ctx.session() as session:
        results = await asyncio.gather(*(endpoint.fetch(session, ctx, q, spec) for q in queries))
    frames = [frame for frames in results for frame in frames if frame.height]
    raw = endpoint.dedupe(pl.concat(frames)) if frames else spec.empty()
    warn_issues(spec, endpoint.provider.name)
    return endpoint.finish(raw, ctx)


async def fetch_one(endpoint: Endpoint, ctx: Context, url: str) -> pl.DataFrame:
    """Retrieve one resource (a page of one) and return it as a one-row frame."""
    spec = RecordSpec(endpoint.fields)
    async with ctx.session() as session:
        body = await session.get_json(url)
        session.page_done(1)
    raw = spec.frame(endpoint.single_records(body))
    warn_issues(spec, endpoint.provider.name)
    return endpoint.finish(raw, ctx)
