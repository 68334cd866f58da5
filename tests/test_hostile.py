"""A hostile server and a tampered frame: credentials stay home, secrets stay out of every sink,
and names from data never become paths outside the destination."""

from __future__ import annotations

import base64
import logging
import traceback
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import polars as pl
import pytest
from provider_cases import (
    CREDENTIALS,
    LOADER_PARAMS,
    MEDIA_AUTH,
    PROVIDER_PARAMS,
    PUBLIC_MEDIA,
    mock_endpoint,
    sync_loader,
)

import recanalytics as ra
from recanalytics.errors import ArchiveWarning
from recanalytics.filenames import safe_name
from recanalytics.providers.base import Loader
from recanalytics.providers.registry import LOADERS, spec_for
from tests.conftest import FAST_RETRY

HOST = "https://api.hostile.test"
EVIL = "https://evil.test"
RT = "RT" + "a" * 32
PERIOD = {"since": "2026-01-01", "until": "2026-02-01"}


def echo_forms(request: httpx.Request, provider: str) -> list[str]:
    """Every form of the credential this request carried, as a hostile server might echo it."""
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    forms = [credential, credential.rstrip("="), quote(credential, safe="")]
    if scheme.lower() == "basic":
        decoded = base64.b64decode(credential).decode()
        secret = decoded.partition(":")[2]
        forms += [decoded, quote_plus(decoded), secret, quote(secret, safe=""), quote_plus(secret)]
    elif scheme.lower() == "bearer":
        forms.append(credential.rsplit(".", 1)[-1])  # the JWT's signature alone
    forms += CREDENTIALS[provider].secrets()
    return [f for f in forms if f]


class Echo:
    """A server that answers 503 then 401 (or a page), each echoing the request's credential."""

    def __init__(self, provider: str, mode: str = "error") -> None:
        self.provider = provider
        self.mode = mode
        self.forms: set[str] = set()
        self.requests: list[httpx.Request] = []
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        forms = echo_forms(request, self.provider) if "authorization" in request.headers else []
        self.forms.update(forms)
        echo = " | ".join(forms) or "no credential"
        if self.mode == "page":
            return httpx.Response(200, json=page(self.provider, request, echo))
        if len(self.requests) % 2:
            reason = echo.encode("latin-1", "replace")
            return httpx.Response(503, extensions={"reason_phrase": reason})
        body = {"message": f"bad credential {echo}", "code": echo, "more_info": echo}
        return httpx.Response(401, json=body)

    def assert_clean(self, *texts: str) -> None:
        assert self.forms, "the server saw no credential"
        for text in texts:
            for form in self.forms:
                assert form not in text, f"{form!r} leaked"


def page(provider: str, request: httpx.Request, echo: str) -> dict[str, Any]:
    """One page of the provider's list endpoint that ``request`` asked for, echo inside."""
    loaders = LOADERS[provider]  # media and other paths get the first endpoint's page
    loader = next((x for x in loaders if mock_endpoint(x).path in request.url.path), loaders[0])
    mock = mock_endpoint(loader)
    return mock.envelope([mock.echoed(echo, HOST)])


def chain(exc: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def exception_text(exc: BaseException) -> str:
    parts = ["".join(traceback.format_exception(exc))]
    for link in chain(exc):
        parts += [str(link), repr(link), *(str(v) for v in vars(link).values())]
    return "\n".join(parts)


def text_of(frame: pl.DataFrame) -> str:
    return frame.select(pl.col(pl.String, pl.Categorical, pl.Enum).cast(pl.String)).write_csv()


def options(provider: str, echo: Echo, **extra: Any) -> dict[str, Any]:
    return {
        "credentials": CREDENTIALS[provider],
        "base_url": HOST,
        "transport": echo.transport,
        "retry": FAST_RETRY,
    } | extra


@pytest.mark.parametrize("loader", LOADER_PARAMS)
def test_echoed_credentials_reach_no_exception_log_or_progress(
    loader: Loader[Any], caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    provider = loader.provider
    echo = Echo(provider)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ra.AuthError) as info:
        sync_loader(loader)(**options(provider, echo, progress=True), **PERIOD)
    out = capsys.readouterr()
    assert "retry" in caplog.text  # the retry log did record the 503
    echo.assert_clean(exception_text(info.value), caplog.text, out.out, out.err)


@pytest.mark.parametrize("provider", PROVIDER_PARAMS)
def test_echoed_credentials_reach_no_status_warning_or_store_file(
    provider: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    echo = Echo(provider)
    caplog.set_level(logging.DEBUG)
    kwargs = {
        "credentials": {provider: CREDENTIALS[provider]},
        "base_url": HOST,
        "transport": echo.transport,
        "retry": FAST_RETRY,
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = ra.load_with_status([provider], **PERIOD, **kwargs)
        store = ra.Store(tmp_path / "store")
        report = store.refresh([provider], **PERIOD, **kwargs)
    assert result.status[provider].state == "failed" and report.errors
    files = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    echo.assert_clean(
        result.status[provider].error,
        result.status_frame().write_csv(),
        str(report.errors),
        "\n".join(str(w.message) for w in caught),
        caplog.text,
        files.decode("latin-1"),
    )


@pytest.mark.parametrize("loader", LOADER_PARAMS)
def test_credentials_echoed_into_records_are_scrubbed_from_frames_and_files(
    loader: Loader[Any], tmp_path: Path
) -> None:
    provider = loader.provider
    echo = Echo(provider, mode="page")
    load = sync_loader(loader)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ra.LoadWarning)
        unified = load(**options(provider, echo), **PERIOD)
        raw = load(**options(provider, echo, raw=True), **PERIOD)
        store = ra.Store(tmp_path / "store")
        store.refresh(
            [provider],
            **PERIOD,
            credentials={provider: CREDENTIALS[provider]},
            base_url=HOST,
            transport=echo.transport,
        )
    assert unified.height >= 1 and "REDACTED" in text_of(unified)
    files = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    stored = store.read()
    assert stored.height >= 1
    echo.assert_clean(text_of(unified), text_of(raw), text_of(stored), files.decode("latin-1"))


def test_credentials_echoed_into_records_reach_no_archive_file(tmp_path: Path) -> None:
    echo = Echo("twilio", mode="page")
    out = tmp_path / "archive"
    with pytest.warns(ArchiveWarning, match="media files could not be downloaded"):
        ra.archive_twilio(out, media=True, **options("twilio", echo), **PERIOD)  # echo has none
    texts = [p.read_bytes().decode("latin-1") for p in out.rglob("*") if p.is_file()]
    texts += [text_of(pl.read_parquet(p)) for p in out.glob("*.parquet")]
    assert (out / "media.csv").exists() and len(texts) > 6
    assert "REDACTED" in text_of(pl.read_parquet(out / "recordings.parquet"))
    echo.assert_clean(*texts)


@pytest.mark.parametrize("provider", MEDIA_AUTH)
def test_echoed_credentials_reach_no_media_result(provider: str, tmp_path: Path) -> None:
    echo = Echo(provider)
    frame = pl.DataFrame(
        {
            "provider": [provider],
            "recording_id": ["r1"],
            "media_url": [f"{HOST}/media/r1"],
            "container": ["mp4"],
            "status": ["completed"],
        }
    )
    result = ra.download_media(frame, tmp_path, **options(provider, echo))
    assert result["status"].to_list() == ["failed"]
    echo.assert_clean(result.write_csv())


# --- credentials go to the provider's own origins only ---------------------------------------


class Recorder:
    """Serves media (and Twilio's redirect_to); records who got which Authorization header."""

    def __init__(self, redirect: str | None = None) -> None:
        self.seen: list[tuple[str, bool]] = []
        self.redirect = redirect
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.url.host, "authorization" in request.headers))
        if self.redirect and request.url.host != httpx.URL(self.redirect).host:
            if request.url.path.endswith("/Media"):
                return httpx.Response(200, json={"redirect_to": self.redirect})
            return httpx.Response(302, headers={"Location": self.redirect})
        return httpx.Response(200, content=b"media bytes")

    def hosts_with_credentials(self) -> set[str]:
        return {host for host, authed in self.seen if authed}

    def download(self, provider: str, url: str, dest: Path) -> pl.DataFrame:
        """``download_media`` of one ``provider`` row at ``url``, its API at ``HOST``."""
        return ra.download_media(
            one_row(provider, url),
            dest,
            credentials=CREDENTIALS[provider],
            base_url=HOST,
            transport=self.transport,
        )


def one_row(provider: str, url: str, recording_id: str = "r1") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "provider": [provider],
            "recording_id": [recording_id],
            "media_url": [url],
            "container": ["wav"],
            "status": ["completed"],
        }
    )


FOREIGN = [
    f"{EVIL}/v1/Recordings/{RT}/Media",
    "https://video.twilio.com.evil.test/v1/Recordings/x/Media",
    "http://video.twilio.com/v1/Recordings/x/Media",  # the right host, but in clear text
    "https://zoom.us.evil.test/rec/download/x",
    "https://api.hostile.test:8443/rec/download/x",  # another port of the given base_url
]


@pytest.mark.parametrize("url", FOREIGN)
@pytest.mark.parametrize("provider", MEDIA_AUTH)
def test_a_frame_cannot_send_credentials_to_a_foreign_host(
    provider: str, url: str, tmp_path: Path
) -> None:
    server = Recorder()
    result = server.download(provider, url, tmp_path)
    assert result["status"].to_list() == ["unavailable"]
    assert "credentials are never sent there" in result["error"][0]
    assert server.seen == []


def test_a_host_that_only_ends_like_zoom_s_wildcard_domain_gets_no_credentials(
    tmp_path: Path,
) -> None:
    # "*.zoom.us" is zoom.us's subdomains: evilzoom.us ends with "zoom.us" but is no subdomain.
    server = Recorder()
    result = server.download("zoom", "https://evilzoom.us/rec/download/x", tmp_path)
    assert result["status"].to_list() == ["unavailable"]
    assert "credentials are never sent there" in result["error"][0]
    assert server.seen == []


@pytest.mark.parametrize("provider", PUBLIC_MEDIA)
def test_public_media_on_any_host_is_fetched_without_credentials(
    provider: str, tmp_path: Path
) -> None:
    server = Recorder()
    result = ra.download_media(
        one_row(provider, f"{EVIL}/r1.wav"),
        tmp_path,
        credentials={provider: CREDENTIALS[provider]},
        transport=server.transport,
    )
    assert result["status"].to_list() == ["downloaded"]
    assert server.seen == [("evil.test", False)]


@pytest.mark.parametrize(
    ("provider", "url"),
    [
        ("twilio", f"https://video.twilio.com/v1/Recordings/{RT}/Media"),
        ("zoom", "https://zoom.us/rec/download/abc"),
        ("zoom", "https://us02web.zoom.us/rec/download/abc"),
        ("zoom", "https://api.zoom.us/v2/videosdk/recordings/download/abc"),
        ("twilio", f"{HOST}/v1/Recordings/{RT}/Media"),
    ],
)
def test_own_hosts_get_credentials_and_their_redirects_do_not(
    provider: str, url: str, tmp_path: Path
) -> None:
    server = Recorder(redirect=f"{EVIL}/storage/file?Signature=abc")
    result = server.download(provider, url, tmp_path)
    assert result["status"].to_list() == ["downloaded"], result["error"][0]
    assert server.hosts_with_credentials() == {httpx.URL(url).host}
    assert ("evil.test", False) in server.seen


def test_a_next_page_on_a_foreign_host_gets_no_credentials() -> None:
    seen: list[tuple[str, bool]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, "authorization" in request.headers))
        if request.url.host == "evil.test":
            return httpx.Response(401, json={"message": "who are you"})
        meta = {"next_page_url": f"{EVIL}/v1/Recordings?Page=1", "key": "recordings"}
        return httpx.Response(200, json={"recordings": [{"sid": RT}], "meta": meta})

    with pytest.raises(ra.AuthError):
        ra.load_twilio_recordings(
            credentials=CREDENTIALS["twilio"],
            base_url=HOST,
            transport=httpx.MockTransport(handle),
            max_concurrency=1,
        )
    assert ("evil.test", False) in seen and ("evil.test", True) not in seen
    assert ("api.hostile.test", True) in seen


# --- names from data never become paths ------------------------------------------------------

HOSTILE_IDS = [
    "a/b",
    "a_b",
    "a_b--c14cddc033f64b9d",  # looks like the safe form of a/b: must still get its own file
    "../../outside",
    "..",
    ".hidden",
    "/etc/passwd",
    "C:\\Windows\\x",
    "x" * 400,
    "x" * 401,
    "spaces and ünïcödé",
    "nul\x00byte",
    # Two files where case is told apart, one on macOS's and Windows' disks by default.
    "abc123xyz",
    "aBc123XyZ",
    "AbC123xYz",
    # Windows opens a device for these names, with any extension; it drops a trailing dot.
    "CON",
    "nul.mp4",
    "com1",
    "trailing.",
    "trailing",
]


def test_hostile_ids_and_containers_stay_inside_dest_and_never_share_a_file(
    tmp_path: Path,
) -> None:
    served: dict[str, bytes] = {}

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=served[str(request.url)])

    rows = []
    containers = ["../../x", "mka/../../y", ".", "wav", None, "../" * 5 + "etc"]
    for i, recording_id in enumerate(HOSTILE_IDS):
        url = f"https://media.plivo.com/r{i}.wav"
        served[url] = f"bytes of {recording_id!r}".encode()
        rows.append(("plivo", recording_id, url, containers[i % len(containers)], "completed"))
    # A blank id is no id (recanalytics.blank): never a file, which every such row would share.
    rows.append(("plivo", "", "https://media.plivo.com/blank.wav", "wav", "completed"))
    rows.append(("../signalwire", "evil", "https://x.test/e.wav", "wav", "completed"))
    frame = pl.DataFrame(
        rows, schema=["provider", "recording_id", "media_url", "container", "status"], orient="row"
    )
    dest = tmp_path / "dest"
    for _ in range(2):  # the second run finds every file complete
        result = ra.download_media(frame, dest, transport=httpx.MockTransport(handle))
        rows_out = result.head(len(HOSTILE_IDS))
        assert set(rows_out["status"]) <= {"downloaded", "skipped"}
        paths = [Path(p) for p in rows_out["path"]]
        assert len({path.name.casefold() for path in paths}) == len(paths)
        stems = {path.name.split(".")[0].upper() for path in paths}
        assert not stems & {"CON", "NUL", "COM1"}
        assert not any(path.stem.endswith(".") for path in paths)
        for path, recording_id in zip(paths, HOSTILE_IDS, strict=True):
            assert path.resolve().is_relative_to(dest.resolve())
            assert path.parent == dest / "plivo"
            assert not path.name.startswith(".") and len(path.name) <= 130
            assert path.suffix in (".wav", ".bin")
            assert path.read_bytes() == f"bytes of {recording_id!r}".encode()
    assert result["status"][-2:].to_list() == ["unavailable"] * 2  # a blank id, a provider
    assert result["error"][-2] == "no recording_id"
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(p.resolve().is_relative_to(dest.resolve()) for p in written)
    assert len(written) == len(HOSTILE_IDS)


def test_ids_cased_as_their_provider_cases_them_keep_their_names(tmp_path: Path) -> None:
    # Case-blind disks: a name is the id only in the one case its provider writes ids.
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x")

    twilio = "RT" + "0a" * 16
    frame = pl.DataFrame(
        {
            "provider": ["plivo", "twilio"],
            "recording_id": ["0e5c1b2a-4f3d-4c2b-9a1e-7d6f5e4c3b2a", twilio],
            "media_url": ["https://media.plivo.com/r.wav", "https://media.plivo.com/t.wav"],
            "container": ["wav", "mka"],
            "status": ["completed", "completed"],
        }
    )
    result = ra.download_media(
        frame.head(1), tmp_path, transport=httpx.MockTransport(handle), credentials={}
    )
    assert Path(result["path"][0]).name == "0e5c1b2a-4f3d-4c2b-9a1e-7d6f5e4c3b2a.wav"
    assert safe_name(twilio, capitals=spec_for("twilio").id_capitals) == twilio
    assert safe_name(twilio.lower(), capitals=2) != twilio.lower()


def test_the_same_recording_twice_is_downloaded_once(tmp_path: Path) -> None:
    count = 0

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        return httpx.Response(200, content=b"once")

    frame = pl.concat([one_row("plivo", "https://media.plivo.com/r.wav")] * 3)
    result = ra.download_media(frame, tmp_path, transport=httpx.MockTransport(handle))
    assert result["status"].to_list() == ["downloaded", "skipped", "skipped"]
    assert count == 1 and len(set(result["path"])) == 1
    assert result["sha256"].n_unique() == 1


def test_media_files_and_folders_are_private(tmp_path: Path) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"private")

    result = ra.download_media(
        one_row("plivo", "https://media.plivo.com/r.wav"),
        tmp_path / "media",
        transport=httpx.MockTransport(handle),
    )
    path = Path(result["path"][0])
    assert path.stat().st_mode & 0o077 == 0
    assert path.parent.stat().st_mode & 0o077 == 0
