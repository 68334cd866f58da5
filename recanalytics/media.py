"""Downloading the media files behind a unified frame: concurrent, resumable, credential-safe.

Each provider's flow:

- Twilio (tracks and compositions): ``GET …/Media`` with Basic auth and no redirect following
  answers ``{"redirect_to": <pre-signed URL>}`` (or a 3xx); that URL is fetched without auth.
- Zoom: ``download_url`` with the Bearer API JWT; a redirect to another host is followed
  without it.
- Plivo ``recording_url`` and SignalWire ``.wav``/``.mp3`` URLs are public: no auth.

Provider credentials only ever go to the provider's own origins (its
:meth:`~recanalytics.providers.base.ProviderSpec.credential_scope`: its API hosts and the
``base_url`` the caller gave), whatever URL a frame holds: a media URL elsewhere is reported
``unavailable`` for a provider whose media needs credentials (``ProviderSpec.media_auth``), and
fetched without them otherwise. Files are written to ``{dest}/{provider}/{name}.{ext}`` (names
from :mod:`recanalytics.filenames`: never outside ``dest``, never shared by two recordings)
through a ``.part`` file that a later run resumes with a ``Range`` request; complete files are
skipped; a ``.part`` is locked while one process writes it (another leaves that file alone
and its row fails, saying so). A file already there whose size is not the row's
``size_bytes`` is fetched again. No
symbolic link at a media path is ever followed (hashed as the recording or written through),
and anything there that is not a regular file is that row's failure, not the batch's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import polars as pl

from recanalytics import answers, network, validate
from recanalytics.blank import is_blank
from recanalytics.checksum import sha256_file
from recanalytics.credentials import Credentials
from recanalytics.engine import (
    RETRY_STATUSES,
    Retry,
    RetryPolicy,
    borrowed,
    claim,
    parse_retry_after,
    with_retries,
)
from recanalytics.errors import ConfigError, CredentialsError
from recanalytics.fileflags import BINARY, NOFOLLOW
from recanalytics.filenames import media_extension, safe_name
from recanalytics.helpers.codecs import container_info
from recanalytics.hosts import CredentialScope, Origin, ScopedAuth
from recanalytics.options import retry_policy, transport_option
from recanalytics.probe import _import_av, probe_media
from recanalytics.progress import Progress, resolve_progress
from recanalytics.providers.registry import credentials_class, spec_for
from recanalytics.redact import Secrets, redact_text, shown_url, visible
from recanalytics.schema import PROVIDERS
from recanalytics.store import _unlock, private_write, try_lock, write_json
from recanalytics.sync import all_or_none, syncify
from recanalytics.verify import UNAVAILABLE, verify_media

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
REQUIRED_COLUMNS = ("provider", "recording_id", "media_url")
OPTIONAL_COLUMNS = ("container", "status")
SIZE_COLUMN = "size_bytes"
CHUNK = 1 << 16
# Bytes a download must make within each ``timeout`` seconds (1 MiB in 120 s: ~8.7 KB/s).
PROGRESS = 1 << 20
OVERSIZE_FACTOR = 2
"""A body may be this many times the row's ``size_bytes`` (and :data:`OVERSIZE_SLACK` more)
before the download stops: stated sizes may be off, but not by this much."""
OVERSIZE_SLACK = 16 << 20
"""Bytes a body may exceed the row's ``size_bytes`` by, however small the row states it."""


def most_bytes(size: int | None) -> int | None:
    """The most bytes a file stated as ``size`` bytes is downloaded to (None: no size stated,
    no ceiling): twice its size, and at least 16 MiB more.

    Examples
    --------
    >>> most_bytes(1_004), most_bytes(100 << 20) == 200 << 20, most_bytes(None)
    (16778220, True, None)
    """
    if size is None:
        return None
    return max(OVERSIZE_FACTOR * size, size + OVERSIZE_SLACK)


@dataclass
class _Job:
    provider: str
    recording_id: str
    url: str
    path: Path
    size: int | None = None  # the row's size_bytes: a file of another size is not whole

    @property
    def part(self) -> Path:
        return self.path.with_name(self.path.name + ".part")

    @property
    def validator(self) -> Path:
        """Where the ``.part``'s ETag is kept (hidden: folder scans skip it), so a resume asks
        ``If-Range`` and a file changed since is sent whole instead of spliced."""
        return self.path.with_name(f".{self.path.name}.part-etag")

    @property
    def lock(self) -> Path:
        """The lock file of the ``.part`` (hidden), held while one process downloads it."""
        return self.path.with_name(f".{self.path.name}.part-lock")


class _Failed(Exception):
    pass


class _Restart(Exception):
    """The download has to start again from its first byte."""


class _Incomplete(Exception):
    """Fewer bytes arrived than the answer announced (the ``.part`` is kept and resumed)."""


class _Oversized(_Failed):
    """The storage sent far more than the row's size: not the file (the ``.part`` is dropped)."""


_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
# Written without following a symbolic link (where the platform can refuse one).


def _regular_size(path: Path) -> int | None:
    """The size of the regular file at ``path``; None when nothing is there.

    Anything else there is not a file a download wrote: a symbolic link (never followed, so a
    link pointing outside the folder is neither hashed as the recording nor written through),
    a folder, a device. That row fails, saying what to move aside.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISREG(info.st_mode):
        return info.st_size
    if stat.S_ISLNK(info.st_mode):
        what = "a symbolic link (never followed)"
    elif stat.S_ISDIR(info.st_mode):
        what = "a folder"
    else:
        what = "not a regular file"
    raise _Failed(f"{path} is {what}, where the media file goes: move it aside and run again")


def _folder(path: Path) -> None:
    """A provider's media folder, made if missing; a symbolic link or a file there fails the
    row (files are never written through a link to elsewhere)."""
    path.mkdir(exist_ok=True, mode=0o700)
    if not stat.S_ISDIR(os.lstat(path).st_mode):
        raise _Failed(f"{path} is not a folder (a symbolic link or a file): move it aside")


class _Busy(_Failed):
    """Another process is downloading the same file into the same folder."""


@contextlib.contextmanager
def _claimed(job: _Job) -> Iterator[None]:
    """Hold ``job``'s lock file for the download, or raise :class:`_Busy` at once.

    Two processes writing one ``.part`` (one resuming it while the other truncates and renames
    it) made a corrupt file that both reported downloaded. The lock file is removed while held
    (an opener that then locks the removed file tries again); a file system without locks
    downloads unlocked, as before.
    """
    for _ in range(5):
        fd = os.open(job.lock, os.O_RDWR | os.O_CREAT | NOFOLLOW | BINARY, 0o600)
        try:
            held: bool | None = try_lock(fd)
        except OSError:
            held = None
        if held is None:
            os.close(fd)
            yield
            return
        if not held:
            os.close(fd)
            raise _Busy(
                f"being downloaded by another process (it holds {job.lock.name}): "
                "run again once it is done"
            )
        try:
            current: os.stat_result | None = os.lstat(job.lock)
            opened = os.fstat(fd)
        except FileNotFoundError:
            current = None
        except BaseException:
            _unlock(fd)  # held for the rest of the process, every later try would be "busy"
            os.close(fd)
            raise
        if current is None or (current.st_dev, current.st_ino) != (opened.st_dev, opened.st_ino):
            _unlock(fd)  # the holder removed it as this process opened it: take the new one
            os.close(fd)
            continue
        try:
            yield
        finally:
            if os.name != "nt":
                job.lock.unlink(missing_ok=True)
            _unlock(fd)
            os.close(fd)
            if os.name == "nt":
                with contextlib.suppress(OSError):  # another process opened it meanwhile
                    job.lock.unlink()
        return
    raise _Busy(f"being downloaded by another process ({job.lock.name} keeps changing)")


_UNSATISFIED = re.compile(r"bytes \*/(\d+)")
# A strong entity tag, printable ASCII in quotes (RFC 9110 8.8.3): what If-Range may carry.
_STRONG_ETAG = re.compile(r'"[\x21\x23-\x7e]{0,128}"')


class _Downloader:
    def __init__(
        self,
        *,
        credentials: Mapping[str, Credentials],
        scopes: Mapping[str, CredentialScope],
        transport: httpx.AsyncBaseTransport | None,
        retry: RetryPolicy,
        timeout: float,
        concurrency: int,
        https: bool = True,
    ) -> None:
        self.retry = retry
        self.timeout = timeout
        self.gate = asyncio.Semaphore(concurrency)
        self.secrets = Secrets(s for c in credentials.values() for s in c.secrets())
        claim(transport)
        self.network = transport is None
        common: dict[str, Any] = {
            "network": self.network,
            # No file at an https URL (the served sandbox's): a bad CA setting fails only a
            # redirect to one.
            "https": https,
            "transport": borrowed(transport),
            "timeout": timeout,
            # Files come as stored: a resume's Range counts bytes of the file itself, which a
            # compressed transfer (httpx asks for gzip by default) would not.
            "headers": {"User-Agent": "recanalytics/0.1", "Accept-Encoding": "identity"},
        }
        # Never an Authorization header, not even one httpx makes from a URL's user info.
        self.anonymous = network.client(
            follow_redirects=True,
            event_hooks={"request": [_without_auth], "response": [_refuse_redirect]},
            **common,
        )
        # One client per provider that needs auth. They never follow redirects, so credentials
        # cannot travel to another host with a redirected request, and their auth applies only
        # inside the provider's scope, whatever URL they are handed.
        self.authed = {
            name: network.client(
                auth=ScopedAuth(spec_for(name).auth(creds), scopes[name], self.secrets),
                follow_redirects=False,
                **common,
            )
            for name, creds in credentials.items()
        }

    async def aclose(self) -> None:
        await self.anonymous.aclose()
        for client in self.authed.values():
            await client.aclose()

    def _clean(self, text: str) -> str:
        # One line, its controls visible: the error goes to media.csv, a warning and the CLI.
        return visible(redact_text(text, self.secrets))

    def direct(self, job: _Job) -> bool:
        """Whether ``job``'s URL answers with the file or a redirect to it: its provider needs
        credentials and has no JSON envelope around the storage URL."""
        return job.provider in self.authed and not self.envelope(job)

    async def storage_url(self, job: _Job) -> tuple[str, bool]:
        """Where the bytes are, and whether that request carries the provider's credentials.

        For a provider with a ``media_envelope`` (Twilio): whatever its API answers with (the
        envelope's JSON, or a 3xx) is a storage URL and is fetched without credentials, even
        when it is on the same host; any other answer is the file itself, fetched with
        credentials. Providers without an envelope are fetched directly (:meth:`direct`).
        """
        envelope = spec_for(job.provider).media_envelope
        if job.provider not in self.authed or envelope is None:
            return job.url, False
        client = self.authed[job.provider]
        url = _authorised(job.url)
        async with client.stream("GET", url, headers={"Accept": "application/json"}) as response:
            if response.is_redirect:
                return _redirected(response), False
            if response.status_code != 200:
                raise _Status(response)
            if not response.headers.get("content-type", "").startswith("application/json"):
                return url, True
            try:
                content = await answers.read(response)
            except answers.TooLarge as exc:
                # Read no further (a gzip bomb): asking again would send the same.
                raise _Failed(f"the media answer ({envelope} expected): {exc}") from None
        try:
            answer = json.loads(content)
        except ValueError:
            # A cut answer (the connection dropped inside the JSON) is worth asking again.
            raise _Incomplete(f"the media answer is not whole JSON ({envelope} expected)") from None
        if not isinstance(answer, dict) or envelope not in answer:
            raise _Failed(f"media answer without {envelope}")
        return _storage(answer[envelope], url), False

    async def fetch(self, job: _Job, url: str, with_auth: bool) -> str:
        """Stream ``url`` into ``job.path`` via a ``.part`` file; returns 'downloaded'/'resumed'."""
        part = job.part
        offset = _regular_size(part) or 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        etag = _read_validator(job.validator) if offset else None
        if etag:
            headers["If-Range"] = etag
        client = self.authed[job.provider] if with_auth else self.anonymous
        # httpx's timeout bounds each read, so a byte a second would never trip it: the answer's
        # head must come within timeout seconds, then every PROGRESS bytes of the body (a part
        # cut off so is kept, and resumed).
        async with (
            asyncio.timeout(self.timeout) as deadline,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code == 416 and offset:
                # Nothing left to send: the part is whole only if the file's size, as the
                # answer states it, is the part's (a stale or foreign part is not).
                stated = _UNSATISFIED.fullmatch(response.headers.get("content-range", ""))
                # Nor when the row states another size: a server's word that the part is the
                # whole file does not make a cut copy whole.
                if stated is None or int(stated[1]) != offset or job.size not in (None, offset):
                    _discard(job)
                    raise _Restart("a resume refused without the size of the part")
                _finish(job)
                return "resumed"
            if with_auth and response.is_redirect:
                # The provider's answer points at storage: fetched without credentials.
                raise _Moved(_redirected(response))
            if response.status_code not in (200, 206):
                raise _Status(response)
            kind = _content_type(response)
            if kind == "text/html":
                # No recording is a web page: a login, quota or error page answered 200.
                raise _Failed("answered an HTML page, not the media file")
            if with_auth and self.envelope(job) and kind == "application/json":
                # The provider's JSON envelope (asked again after an odd first answer), not
                # the file: read it again from the start.
                raise _Incomplete("answered the media envelope, not the file")
            if _textual(kind) and not _text_file(job.path):
                # An error answered 200 is no recording, and is never saved as one: storage's
                # (S3's <Error> XML, a text page) or an API's (Zoom: {"status": false, ...},
                # which may echo the token). Only a text file (a transcript, a chat) is text.
                what = "JSON" if "json" in kind else "XML" if "xml" in kind else "text"
                raise _Failed(
                    f"answered {what} ({kind}), not the media file: an error of the storage "
                    "or the API?"
                )
            resumed = response.status_code == 206 and offset > 0
            # A server that compresses anyway hands over decoded bytes: their count is no
            # offset into what it serves, so such a part file is never resumed from.
            encoded = response.headers.get("content-encoding", "identity").lower() != "identity"
            if encoded and resumed:
                _discard(job)
                raise _Restart("a compressed answer to a resumed download")
            if resumed and etag and response.headers.get("etag", etag).strip() != etag:
                # The rest of another version of the file (a server ignoring If-Range).
                _discard(job)
                raise _Restart("a resumed download answered for another version of the file")
            span = _RANGE.fullmatch(response.headers.get("content-range", ""))
            start = offset if resumed else 0
            if response.status_code == 206 and (span is None or int(span[1]) != start):
                # Bytes from elsewhere in the file, appended to the part (or taken for its
                # start), would corrupt it.
                _discard(job)
                raise _Restart("a partial answer from another offset")
            if not resumed:
                etag = response.headers.get("etag")
                # Never a file holding a credential a server echoed into its ETag.
                _keep_validator(job.validator, etag if etag and self._clean(etag) == etag else None)
            announced = None if encoded else response.headers.get("content-length")
            # An endless or oversized body stops here rather than fill the disk (a row that
            # states no size has no ceiling: its file is streamed to its end).
            ceiling = most_bytes(job.size)
            length = (
                int(announced) if announced and announced.isascii() and announced.isdigit() else 0
            )
            if ceiling is not None and start + length > ceiling:
                _discard(job)
                raise _Oversized(
                    f"the storage announced {start + length:,} bytes for a recording of "
                    f"{job.size:,} (size_bytes): not this recording's file"
                )
            written = 0
            try:
                append = os.O_APPEND if resumed else os.O_TRUNC
                flags = os.O_WRONLY | os.O_CREAT | NOFOLLOW | BINARY | append
                with os.fdopen(os.open(part, flags, 0o600), "wb") as handle:
                    os.chmod(part, 0o600)
                    counted = 0
                    async for block in response.aiter_bytes(CHUNK):
                        if ceiling is not None and start + written + len(block) > ceiling:
                            raise _Oversized(
                                f"the storage sent more than {ceiling:,} bytes for a recording "
                                f"of {job.size:,} (size_bytes): not this recording's file"
                            )
                        handle.write(block)
                        written += len(block)
                        counted += len(block)
                        if counted >= PROGRESS:
                            counted = 0
                            deadline.reschedule(asyncio.get_running_loop().time() + self.timeout)
            except BaseException as exc:
                if encoded or isinstance(exc, _Oversized):
                    _discard(job)
                raise
        if announced is not None and announced.isdigit() and written < int(announced):
            # Cut short without an error from the connection (a proxy, a transport that does
            # not count): the part is resumed from where it stopped.
            raise _Incomplete(f"{written} of the {announced} bytes announced arrived")
        whole = start + written
        if whole == 0:
            # No recording is empty: an empty 200 (a storage hiccup) saved as the file would be
            # 'downloaded', then 'skipped' on every later run for rows without a stated size.
            _discard(job)
            raise _Incomplete("an empty body instead of the media file")
        if span is not None and span[3].isdigit() and whole < int(span[3]):
            # A partial answer (asked for or not) that stops before the file's stated end:
            # the part is resumed from there.
            raise _Incomplete(f"{whole} of the {span[3]} bytes of the file arrived")
        if announced is None and job.size is not None and whole < job.size:
            # A body without a length that ends early looks whole; the row's size says it is
            # not (a larger file than stated is taken: the metadata may be off, not the file).
            raise _Incomplete(f"{whole} of the {job.size} bytes the provider states arrived")
        _finish(job)
        return "resumed" if resumed else "downloaded"

    def envelope(self, job: _Job) -> bool:
        """Whether ``job``'s provider wraps its storage URL in a JSON envelope (Twilio)."""
        return spec_for(job.provider).media_envelope is not None

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
        try:
            _folder(job.path.parent)
            if _skipped(job, row):
                return row
        except _Failed as exc:
            row["error"] = self._clean(str(exc))
            return row
        except OSError as exc:
            row["error"] = self._clean(f"{type(exc).__name__}: {exc}")
            return row

        async def once() -> str:
            try:
                if self.direct(job):
                    # No envelope to read first (Zoom): the file itself, or a redirect to it,
                    # in one request (a first look at the answer cost a request per file).
                    try:
                        return await self.fetch(job, _authorised(job.url), True)
                    except _Moved as moved:
                        return await self.fetch(job, moved.url, False)
                async with asyncio.timeout(self.timeout):
                    url, with_auth = await self.storage_url(job)
                try:
                    return await self.fetch(job, url, with_auth)
                except _Moved as moved:
                    # Asked again with credentials, the answer pointed at storage after all.
                    return await self.fetch(job, moved.url, False)
            except _Status as exc:
                error = _Failed(f"HTTP {exc.status} from {shown_url(exc.url, self.secrets)}")
                if exc.status not in RETRY_STATUSES:
                    raise error from None
                wait = exc.retry_after
                if wait is not None and not wait <= self.retry.max_retry_after:
                    raise _Failed(
                        f"{error}: asked to wait {wait:g} s, more than "
                        f"retry.max_retry_after={self.retry.max_retry_after:g} s"
                    ) from None
                raise Retry(error, wait) from None
            except httpx.UnsupportedProtocol as exc:
                # Asking again cannot change a URL's scheme.
                raise _Failed(self._clean(f"{type(exc).__name__}: {exc}")) from None
            except (httpx.TransportError, httpx.DecodingError, _Restart, _Incomplete) as exc:
                # A broken compressed body is transient too (a proxy, a cut transfer). httpx's
                # class names say what failed (ReadTimeout); this module's own are private and
                # their message says it ("_Incomplete: 1000 of the 2000 bytes ..." read oddly).
                own = isinstance(exc, _Restart | _Incomplete)
                text = str(exc) if own else f"{type(exc).__name__}: {exc}"
                if self.network and (note := network.connect_note(exc)):
                    text = f"{text}; {note}"
                raise Retry(_Failed(self._clean(text))) from None
            except TimeoutError:
                raise Retry(
                    _Failed(f"too slow: under {PROGRESS:,} bytes in timeout={self.timeout:g} s")
                ) from None

        async with self.gate:
            try:
                with _claimed(job):
                    # Another process may have finished it while this one waited.
                    if _skipped(job, row):
                        return row
                    status = await with_retries(self.retry, once, label=job.provider)
                    row.update(
                        status=status,
                        bytes=job.path.stat().st_size,
                        sha256=sha256_file(job.path),
                    )
            except _Failed as exc:
                row["error"] = self._clean(str(exc))
                return row
            except (OSError, httpx.HTTPError, httpx.InvalidURL, ValueError, OverflowError) as exc:
                row["error"] = self._clean(f"{type(exc).__name__}: {exc}")
                return row
            except ExceptionGroup as group:
                # A redirect to a port past 65535 fails inside the transport's task group: one
                # row's failure, never the batch's.
                row["error"] = self._clean(f"{type(group).__name__}: {group.exceptions[0]!r}")
                return row
        return row


def _skipped(job: _Job, row: dict[str, Any]) -> bool:
    """Whether ``job``'s file is already whole (then ``row`` says so). One of another size
    than the row states (a cut copy) is fetched again through the ``.part`` file, which
    replaces it once whole."""
    size = _regular_size(job.path)
    if size is not None and job.size in (None, size):
        row.update(status="skipped", bytes=size, sha256=sha256_file(job.path))
        return True
    return False


_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*")


def _content_type(response: httpx.Response) -> str:
    """The answer's media type, lower case without parameters ('' when absent or malformed,
    so an error message never shows a server's odd header)."""
    kind = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return kind if _MEDIA_TYPE.fullmatch(kind) else ""


def _textual(kind: str) -> bool:
    """Whether a media type is text: what error pages and API errors are answered as."""
    application = kind.startswith("application/") and (
        kind in ("application/json", "application/xml") or kind.endswith(("+json", "+xml"))
    )
    return kind.startswith("text/") or application


def _text_file(path: Path) -> bool:
    """Whether ``path`` is named as a text file (a Zoom transcript, chat or timeline)."""
    info = container_info(path.suffix.removeprefix("."))
    return info is not None and info.media_type == "text"


def _read_validator(path: Path) -> str | None:
    """The ETag kept beside a ``.part`` (None: none kept, or unreadable)."""
    try:
        with os.fdopen(os.open(path, os.O_RDONLY | NOFOLLOW | BINARY)) as handle:
            text = handle.read(200).strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if _STRONG_ETAG.fullmatch(text) else None


def _keep_validator(path: Path, etag: str | None) -> None:
    """Keep a strong ETag for the ``.part`` being written (If-Range takes no weak one)."""
    path.unlink(missing_ok=True)
    if etag and _STRONG_ETAG.fullmatch(etag.strip()):
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | NOFOLLOW | BINARY
        with os.fdopen(os.open(path, flags, 0o600), "w") as handle:
            handle.write(etag.strip())


def _finish(job: _Job) -> None:
    """The whole ``.part`` becomes the file; its ETag is no longer needed."""
    job.part.replace(job.path)
    job.validator.unlink(missing_ok=True)


def _discard(job: _Job) -> None:
    """A ``.part`` that cannot be resumed, and its ETag."""
    job.part.unlink(missing_ok=True)
    job.validator.unlink(missing_ok=True)


def _storage(url: Any, source: str) -> str:
    """A storage URL from a provider's answer to ``source``: absolute http(s), and not plain
    http when ``source`` was https, else the download fails. User info in it is dropped: httpx
    would send it as Basic credentials to the storage host."""
    if not isinstance(url, str) or Origin.of(url) is None:
        raise _Failed("the media answer's storage URL is not an http(s) URL")
    parsed = httpx.URL(url)
    _check_hop(httpx.URL(source), parsed)
    return str(parsed.copy_with(userinfo=b"")) if parsed.userinfo else url


def _check_hop(source: httpx.URL, target: httpx.URL) -> None:
    """Refuse a redirect (or a storage URL) out of http(s), or from https to plain http: a
    pre-signed URL would travel unencrypted. Neither the path nor the query is named."""
    if target.scheme not in ("http", "https"):
        raise _Failed(f"redirected to a {target.scheme or 'relative'}: URL, not http(s): refused")
    if source.scheme == "https" and target.scheme == "http":
        port = f":{target.port}" if target.port else ""
        raise _Failed(
            f"redirected from https to plain http (http://{target.host}{port}/…): refused, "
            "the file and its signed URL would travel unencrypted"
        )


async def _refuse_redirect(response: httpx.Response) -> None:
    """The anonymous client's response hook: a redirect it must not follow fails the row at
    once (a file: URL was a transport error, retried for half a minute)."""
    if response.has_redirect_location:
        _check_hop(response.url, response.url.join(response.headers["location"]))


async def _without_auth(request: httpx.Request) -> None:
    """The anonymous client's request hook (each redirect too): no Authorization header, and
    no user info in the URL (httpx logs it)."""
    request.headers.pop("Authorization", None)
    if request.url.userinfo:
        request.url = request.url.copy_with(userinfo=b"")


def _authorised(url: str) -> str:
    """``url`` for a request with credentials: a token in it (redacted in frames anyway) is
    dropped, the credentials authorise instead."""
    return str(httpx.URL(url).copy_remove_param("access_token"))


def _redirected(response: httpx.Response) -> str:
    """The storage URL a provider's 3xx answer points at."""
    location = response.headers.get("location")
    if not location:
        raise _Failed("redirect without a Location header")
    return _storage(str(response.url.join(location)), str(response.url))


class _Moved(Exception):
    """The provider answered with a redirect to the file's storage URL."""

    def __init__(self, url: str) -> None:
        self.url = url


class _Status(Exception):
    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        self.url = str(response.url)
        self.retry_after = parse_retry_after(response.headers.get("Retry-After"))


def _credentials(
    providers: set[str], credentials: Any
) -> tuple[dict[str, Credentials], dict[str, str]]:
    """Credentials of each provider (among ``providers``) whose media needs them.

    What the caller gave must be right (``ConfigError`` otherwise); a provider they gave none
    for falls back to the environment, and is reported per row when that has none either.
    """
    validate.check_keyed(credentials, "credentials")
    if not (credentials is None or isinstance(credentials, Credentials | Mapping)):
        raise ConfigError(
            "credentials",
            "a credentials object, a mapping (of its fields, or keyed by provider) or None",
            type(credentials).__name__,
        )
    keyed = isinstance(credentials, Mapping) and (
        not credentials or validate.keyed_by_provider(credentials)
    )
    found: dict[str, Credentials] = {}
    missing: dict[str, str] = {}
    for name in sorted(p for p in providers if spec_for(p).media_auth):
        cls = credentials_class(name)
        value = credentials.get(name) if keyed and isinstance(credentials, Mapping) else credentials
        if isinstance(value, Credentials) and not isinstance(value, cls):
            value = None  # one provider's object given: the others use the environment
        if value is not None:
            found[name] = cls.coerce(value)
            continue
        try:
            found[name] = cls.from_env()
        except CredentialsError as exc:
            missing[name] = str(exc)
    return found, missing


def _rows(frame: Any) -> pl.DataFrame:
    """The columns a download needs, as text; ConfigError for anything but a unified frame."""
    if not isinstance(frame, pl.DataFrame | pl.LazyFrame):
        raise ConfigError("frame", "a polars DataFrame or LazyFrame", type(frame).__name__)
    lazy = frame.lazy()
    names = set(lazy.collect_schema().names())
    absent = [c for c in REQUIRED_COLUMNS if c not in names]
    if absent:
        raise ConfigError(
            "frame",
            "a unified frame with the columns " + ", ".join(REQUIRED_COLUMNS),
            hint=f"missing: {', '.join(absent)} (pass a frame returned by the loaders)",
        )
    columns = [
        pl.col(c).cast(pl.String) if c in names else pl.lit(None, pl.String).alias(c)
        for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
    ]
    # A size that is not a whole number is unknown (the file is then trusted as it is).
    size = pl.col(SIZE_COLUMN).cast(pl.Int64, strict=False) if SIZE_COLUMN in names else None
    columns.append(pl.lit(None, pl.Int64).alias(SIZE_COLUMN) if size is None else size)
    try:
        return lazy.select(columns).collect()
    except pl.exceptions.PolarsError:
        raise ConfigError(
            "frame", "text values in " + ", ".join((*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS))
        ) from None


def _scopes(credentials: Mapping[str, Credentials], base_url: Any) -> dict[str, CredentialScope]:
    """Where each provider's credentials may go: its own hosts and the base_url given for it."""
    validate.check_keyed(base_url, "base_url")
    given = base_url.values() if validate.keyed_by_provider(base_url) else [base_url]
    for value in given:
        if value is not None:
            validate.url(value, "base_url")
    return {
        name: spec_for(name).credential_scope(creds, validate.per_provider(base_url, name))
        for name, creds in credentials.items()
    }


async def adownload_media(
    frame: pl.DataFrame | pl.LazyFrame,
    dest: str | os.PathLike[str],
    *,
    credentials: Credentials | Mapping[str, Any] | None = None,
    base_url: str | Mapping[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    max_concurrency: int = 4,
    retry: RetryPolicy | None = None,
    timeout: float = 120.0,
    progress: bool | None = None,
    verify: bool = False,
) -> pl.DataFrame:
    """Download the media of every row of a unified frame into ``dest``.

    Parameters
    ----------
    frame : DataFrame or LazyFrame
        Unified rows: ``provider``, ``recording_id`` and ``media_url`` (``container``,
        ``status`` and ``size_bytes`` are used when present: a file is whole at its row's
        size, and its download fails past :func:`most_bytes` of it).
    dest : path
        Files go to ``{dest}/{provider}/{name}.{ext}``: ``name`` is the recording id when it
        is a plain file name, else a safe form of it plus a hash; ``ext`` comes from a known
        container (else ``bin``).
    credentials : credentials or mapping, optional
        For Twilio and Zoom (the others serve media publicly); a mapping keyed by provider
        name, or one credentials object; default: environment variables.
    base_url : str or mapping, optional
        The API host the frame was loaded from when it is not the provider's own (the sandbox,
        a proxy), or a mapping keyed by provider name. Credentials go to the provider's own
        hosts and this one only: a media URL elsewhere is ``unavailable`` for Twilio and Zoom,
        and fetched without credentials for Plivo and SignalWire.
    transport : httpx.AsyncBaseTransport, optional
        E.g. the in-process sandbox's.
    max_concurrency : int, default 4
        Downloads in flight.
    retry : RetryPolicy, optional
        For 429, 5xx and dropped connections.
    timeout : float, default 120
        Seconds an answer's head may take, and then each MiB of its body (a download slower
        than that is retried, resuming its part).
    progress : bool, optional
        A progress bar (default: on in a notebook).
    verify : bool, default False
        Then decode every file and compare it with the row's metadata
        (:func:`~recanalytics.probe_media` + :func:`~recanalytics.verify_media`; needs the
        ``media`` extra): adds ``verified`` (True, False, or null where no file is expected)
        and ``problems``, and writes the per-file verification to
        ``dest/verification.parquet`` and its totals and verdict to ``dest/verification.json``.

    Returns
    -------
    polars.DataFrame
        One row per input row: provider, recording_id, path, bytes, sha256, status
        (``downloaded``, ``resumed``, ``skipped`` — already complete, or the same file as
        another row that got it —, ``unavailable``, ``failed``: also while another process
        downloads the same file) and error (and ``verified``, ``problems`` with
        ``verify=True``).

    Examples
    --------
    >>> df = ra.load_twilio_recordings(status="completed", **box.options("twilio"))
    >>> result = ra.download_media(df.head(5), "media", **box.options("twilio"))
    >>> result["status"].to_list()
    ['downloaded', 'downloaded', 'downloaded', 'downloaded', 'downloaded']
    """
    root = validate.folder(dest, "dest")
    max_concurrency = validate.concurrency(max_concurrency)
    policy = retry_policy(retry)
    seconds = validate.number(timeout, "timeout", form="seconds > 0")
    transport = transport_option(transport)
    show = resolve_progress(validate.optional_boolean(progress, "progress"))
    rows = _rows(frame)
    known = {p for p in rows["provider"].drop_nulls().unique() if p in PROVIDERS}
    creds, missing = _credentials(known, credentials)
    scopes = _scopes(creds, base_url)
    if not isinstance(verify, bool):
        raise ConfigError("verify", "True or False", verify)
    if verify:
        _import_av()  # fail before downloading anything when PyAV is missing
    results: list[Any] = []
    tasks: list[tuple[int, _Job]] = []
    first_of: dict[Path, int] = {}
    # Later rows of a file already asked for: {first row: [(row, its job)]}.
    copies: dict[int, list[tuple[int, _Job]]] = {}
    for provider, recording_id, url, container, status, size in rows.iter_rows():
        capitals = spec_for(provider).id_capitals if provider in PROVIDERS else 0
        name = f"{safe_name(recording_id, capitals=capitals)}.{media_extension(container, url)}"
        path = root / safe_name(provider) / name
        base = {
            "provider": provider,
            "recording_id": recording_id,
            # A row without an id (null or blank) is never downloaded: it has no file (not
            # one named "None", nor one that every id-less row would write to).
            "path": None if is_blank(recording_id) else str(path),
            "bytes": None,
            "sha256": None,
            "error": None,
        }
        problem = _unavailable(provider, recording_id, url, status, scopes)
        if problem:
            results.append(base | {"status": "unavailable", "error": problem})
        elif provider in missing:
            results.append(base | {"status": "failed", "error": missing[provider]})
        elif path in first_of:
            results.append(None)
            job = _Job(provider, recording_id, url, path, size)
            copies.setdefault(first_of[path], []).append((len(results) - 1, job))
        else:
            results.append(None)
            first_of[path] = len(results) - 1
            tasks.append((len(results) - 1, _Job(provider, recording_id, url, path, size)))
    downloader = _Downloader(
        credentials=creds,
        scopes=scopes,
        transport=transport,
        retry=policy,
        timeout=seconds,
        concurrency=max_concurrency,
        https=any(
            not str(job.url).lower().startswith("http://")
            for _, job in [*tasks, *(copy for later in copies.values() for copy in later)]
        ),
    )
    # The files to fetch: a row without a file to fetch (unavailable, a copy) is no part of
    # it, so a bar that ends short of its total means downloads that failed.
    bar = Progress("media", enabled=show, unit=" file", total=len(tasks), paged=False)
    try:
        if tasks:  # before any request: a dest that cannot be made is a ConfigError
            validate.made_folder(root, "dest", private=True)

        async def one(index: int, job: _Job) -> None:
            results[index] = await downloader.run(job)
            if results[index]["status"] != "failed":
                bar.update(records=1)

        await all_or_none(one(i, job) for i, job in tasks)
        urls = {index: job.url for index, job in tasks}

        async def others(first: int, later: list[tuple[int, _Job]]) -> None:
            # A failed file's later rows naming other URLs (a newer signed URL): tried in
            # turn until one gives the file.
            tried = {urls[first]}
            for index, job in later:
                if job.url in tried:
                    continue
                tried.add(job.url)
                results[index] = await downloader.run(job)
                if results[index]["status"] != "failed":
                    bar.update(records=1)
                    return

        failed = [i for i in copies if results[i]["status"] == "failed"]
        await all_or_none(others(first, copies[first]) for first in failed)
    finally:
        await downloader.aclose()
        bar.close()
    for first, later in copies.items():
        _copies(results, [(first, urls[first]), *((i, job.url) for i, job in later)])
    result = pl.DataFrame(results, schema=RESULT_SCHEMA)
    if verify:
        result = await asyncio.to_thread(_with_verification, frame, result, root)
    return result


def _copies(results: list[Any], rows: list[tuple[int, str]]) -> None:
    """Fill the results of one file's rows (``(index, url)``, the first asked first).

    The row whose URL gave the file says how; every other row is ``skipped`` and says where
    the file is. When none did, a row reports the failure of its URL (the first row's, or
    the earlier one it shares its URL with).
    """
    got = next((i for i, _ in rows if results[i] and results[i]["status"] != "failed"), None)
    outcome: dict[str, dict[str, Any]] = {}
    for index, url in rows:
        if got is not None and index != got:
            results[index] = results[got] | {"status": "skipped", "error": None}
        elif results[index] is None:
            results[index] = outcome[url]
        outcome.setdefault(url, results[index])


VERIFICATION = "verification.parquet"
VERDICT = "verification.json"


def _with_verification(
    frame: pl.DataFrame | pl.LazyFrame, result: pl.DataFrame, root: Path
) -> pl.DataFrame:
    """The result with ``verified``/``problems``; the per-file verification is written to
    ``root/verification.parquet`` and its totals and one-line verdict to
    ``root/verification.json``."""
    check = verify_media(frame, probe_media(result, decode=True))
    private_write(root / VERIFICATION, check.files.write_parquet)
    write_json(root / VERDICT, {"verdict": check.verdict, **check.totals})
    outcome = check.files.select(
        pl.col("provider").cast(pl.String),
        "recording_id",
        pl.col("ok").alias("verified"),
        "problems",
    ).unique(["provider", "recording_id"], keep="last")
    return result.join(
        outcome,
        on=["provider", "recording_id"],
        how="left",
        nulls_equal=True,
        maintain_order="left",
    )


def _unavailable(
    provider: str | None,
    recording_id: str | None,
    url: str | None,
    status: str | None,
    scopes: Mapping[str, CredentialScope],
) -> str:
    """Why a row cannot be downloaded, or an empty string."""
    if provider not in PROVIDERS:
        return f"unknown provider {provider!r}; expected one of {', '.join(PROVIDERS)}"
    if is_blank(recording_id):
        return "no recording_id"
    if not url:
        return "no media URL"
    if status in UNAVAILABLE:
        return f"recording status is {status}"
    if Origin.of(url) is None:
        return "media URL is not an http(s) URL"
    scope = scopes.get(provider)
    if scope is not None and not scope.allows(url):
        return (
            f"media URL host is not one of {provider}'s own ({scope.describe()}): its "
            "credentials are never sent there (pass base_url= for a sandbox or proxy)"
        )
    return ""


download_media = syncify(adownload_media, "download_media")
