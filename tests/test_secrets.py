"""No secret in logs, progress bars, frames or files, across providers.

Wrong credentials on every registered loader (the AuthError, its URL and the credentials' repr
hold no secret) are checked in tests/providers/test_contract.py.
"""

from __future__ import annotations

import base64
import logging
import subprocess
import sys
import warnings
from pathlib import Path

import httpx
import polars as pl
import pytest
from provider_cases import CREDENTIALS, twilio_track

import recanalytics as ra
from recanalytics import redact
from recanalytics.providers.zoom import make_jwt
from recanalytics.redact import redact_frame
from recanalytics.redact import redact_text as ra_redact_text
from recanalytics.sandbox import Faults, Sandbox
from tests.conftest import FAST_RETRY


def secrets_of(box: Sandbox) -> list[str]:
    values = []
    for name in box.emulators:
        values += box.credentials(name).secrets()
    return values


def test_progress_logs_and_frames_hold_no_secret(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    box = Sandbox(seed=3, size=200, faults=Faults(error_rate=0.2, drop_rate=0.05, seed=9))
    caplog.set_level(logging.DEBUG)
    df = ra.load(
        since=box.config.start,
        until=box.config.end,
        progress=True,
        retry=FAST_RETRY,
        **box.load_options(),
    )
    out = capsys.readouterr()
    shown = out.out + out.err + caplog.text
    assert "retries" in out.err  # the progress bars did draw
    creds = box.credentials("zoom")
    jwt = make_jwt(creds.api_key or "", creds.api_secret or "", issued_at=0, lifetime=3600)
    for secret in [*secrets_of(box), jwt.split(".")[2][:20]]:
        assert secret not in shown
        assert (
            not df.select(pl.any_horizontal(pl.col(pl.String).str.contains(secret, literal=True)))
            .to_series()
            .any()
        )
    assert not df["media_url"].str.contains("access_token=eyJ").any()
    path = tmp_path / "f.parquet"
    df.write_parquet(path)
    assert all(s.encode() not in path.read_bytes() for s in secrets_of(box))


# --- secrets a provider put in its own records ------------------------------------------------

URL_SECRETS = [
    "user1:SECRET1",
    "SECRET2",
    "SECRET3",
    "SECRET4",
    "eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl",
]


def _serve(body: dict[str, object]) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(200, json=body))


def test_url_secrets_in_records_reach_no_frame() -> None:
    # Only the load's own credentials were scrubbed (and Zoom's download_url): user info,
    # a pre-signed link's signature or a token inside any other field or `extra` stayed.
    track = twilio_track(0) | {
        "links": {"media": "https://user1:SECRET1@video.example/v1/Recordings/RT1/Media?x=1"},
        "media_external_location": "https://b.s3.example/k?X-Amz-Signature=SECRET2&X-Amz-Date=1",
        "track_name": "see https://h.example/s?access_token=SECRET3",
        "unknown_field": {"share": "https://h.example/r?sig=SECRET4&sp=r", "jwt": URL_SECRETS[4]},
    }
    options = {
        "credentials": CREDENTIALS["twilio"],
        "base_url": "https://video.example",
        "transport": _serve({"recordings": [track], "meta": {"next_page_url": None}}),
        "max_concurrency": 1,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ra.LoadWarning)  # the unknown field, kept in extra
        frames = [
            ra.load_twilio_recordings(**options),
            ra.load_twilio_recordings(raw=True, **options),
        ]
    for frame in frames:
        text = frame.select(pl.col(pl.String)).write_csv()
        assert not [s for s in URL_SECRETS if s in text], text
        assert "REDACTED" in text
    assert frames[1].select(pl.col(pl.String)).write_csv().count("REDACTED") >= 4
    unified = frames[0]
    assert unified["media_url"][0] == "https://video.example/v1/Recordings/RT1/Media?x=1"
    assert "X-Amz-Date=1" in frames[1]["media_external_location"][0]  # only the secret goes


def test_url_secrets_in_text_are_redacted() -> None:
    text = "GET https://u:pw@s.example/f.mka?se=2026&sig=PRESIGNED1&x=ok from alice@example.com"
    clean = ra_redact_text(text)
    assert "PRESIGNED1" not in clean and "u:pw" not in clean
    assert "x=ok" in clean and "alice@example.com" in clean  # not a URL's user info
    assert "PageToken=PA123" in ra_redact_text("?Page=1&PageToken=PA123")


def test_httpcore_debug_records_hold_no_echoed_credential(caplog: pytest.LogCaptureFixture) -> None:
    # httpcore logs response headers at DEBUG from httpcore.http11: a child logger, whose
    # records never met the filter on "httpcore".
    creds = CREDENTIALS["twilio"]
    token = base64.b64encode(f"{creds.account_sid}:{creds.auth_token}".encode()).decode()

    def echo(request: httpx.Request) -> httpx.Response:
        headers = {"X-Echo": request.headers["Authorization"]}
        # What httpcore logs of a real response (a MockTransport bypasses httpcore).
        logging.getLogger("httpcore.http11").debug("receive_response_headers %r", headers)
        return httpx.Response(401, headers=headers, json={"code": 20003, "message": "no"})

    caplog.set_level(logging.DEBUG)
    with pytest.raises(ra.AuthError):
        ra.load_twilio_recordings(
            credentials=creds, base_url="https://video.example", transport=httpx.MockTransport(echo)
        )
    assert "receive_response_headers" in caplog.text
    assert token not in caplog.text and str(creds.auth_token) not in caplog.text


def test_records_stay_scrubbed_after_the_application_sets_its_own_record_factory(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An application that set a record factory of its own after the first load (one that
    does not call the one it replaced) ended the scrubbing for good: httpx's INFO line logged
    pre-signed URLs' signatures in full on every later request."""
    creds = CREDENTIALS["twilio"]
    token = base64.b64encode(f"{creds.account_sid}:{creds.auth_token}".encode()).decode()

    def echo(request: httpx.Request) -> httpx.Response:
        logging.getLogger("httpcore.http11").debug("receive_response_headers [X-Echo: %s]", token)
        logging.getLogger("httpx").info("GET https://s.example/f.mka?Signature=PRESIGNED9 200")
        return httpx.Response(401, json={"code": 20003, "message": "no"})

    def load() -> None:
        with pytest.raises(ra.AuthError):
            ra.load_twilio_recordings(
                credentials=creds,
                base_url="https://video.example",
                transport=httpx.MockTransport(echo),
            )

    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(logging, "_logRecordFactory", logging.getLogRecordFactory())
    load()
    logging.setLogRecordFactory(logging.LogRecord)  # the application's, calling no other
    load()
    assert caplog.text.count("receive_response_headers") == 2
    assert token not in caplog.text and "PRESIGNED9" not in caplog.text


@pytest.mark.parametrize(
    ("value", "frame_value"),
    [
        # secret parameters in other spellings: encoded names, nested URLs, any ASCII case
        (
            "https://h.example/f?access%5Ftoken=S1&x=1",
            "https://h.example/f?access%5Ftoken=REDACTED&x=1",
        ),
        (
            "https://l.example/?next=https%3A%2F%2Fh%2Ff%3Faccess_token%3DS2",
            "https://l.example/?next=https%3A%2F%2Fh%2Ff%3Faccess_token%3DREDACTED",
        ),
        (
            "https://h.example/f?X%2DAmz%2DSignature=S3",
            "https://h.example/f?X%2DAmz%2DSignature=REDACTED",
        ),
        ("https://h.example/f?toKen=S4", "https://h.example/f?toKen=REDACTED"),
        # an STS session token beside a pre-signed link's signature (Alibaba OSS)
        (
            "https://b.oss.example/r.mp3?Signature=S6&security-token=CAIS7",
            "https://b.oss.example/r.mp3?Signature=REDACTED&security-token=REDACTED",
        ),
        (
            "https://b.oss.example/r.mp3?x-oss-security-token=CAIS8",
            "https://b.oss.example/r.mp3?x-oss-security-token=REDACTED",
        ),
        (
            "https://b.s3.example/r.mka?X-Amz-Security-Token=FQoG9",
            "https://b.s3.example/r.mka?X-Amz-Security-Token=REDACTED",
        ),
        # provider data that is no secret stays as it was
        ("Design token=v2 review", "Design token=v2 review"),
        (
            "https://docs.example.com,support@example.com",
            "https://docs.example.com,support@example.com",
        ),
        (
            "https://wiki.example/search?q=rec&sp=2&se=2026",
            "https://wiki.example/search?q=rec&sp=2&se=2026",
        ),
        ("sip:alice@example.com", "sip:alice@example.com"),
        ("https://h/p?PageToken=PA123&Page=2", "https://h/p?PageToken=PA123&Page=2"),
        # patterns that are ASCII in both engines: no Unicode case folding of "ſ" to "s"
        ("https://h.example/f?ſignature=S5", "https://h.example/f?ſignature=S5"),
        # user info in a URL, with a scheme or, holding a password, scheme-relative
        ("ops://team@hq weekly", "ops://hq weekly"),
        ("see //u:pw@h.example/f", "see //h.example/f"),
        ("see //ghp_T0ken1234@media.example.com/r.mp4", "see //media.example.com/r.mp4"),
        ("1https://ghp_T0ken1234@media.example.com/r.mp4", "1https://media.example.com/r.mp4"),
        # "//…@" in provider text that is no URL is left as it was
        ("Standup //alice@acme", "Standup //alice@acme"),
        ("a (//x@y)", "a (//x@y)"),
        ("//@", "//@"),
    ],
)
def test_frames_and_text_redact_the_same_url_alike(value: str, frame_value: str) -> None:
    # The frame's pass (polars) and redact_text (Python's re) disagreed on encoded names,
    # Unicode case folding and \b; and a name anywhere a word starts mangled provider text.
    frame = pl.DataFrame({"v": [value, "beside it: user@example.com"]})
    assert redact_frame(frame, [])["v"][0] == frame_value
    if "://" in value and "," not in value:
        assert ra_redact_text(value) == frame_value  # a URL alone: the same in both


def test_httpcore_records_stay_scrubbed_when_httpcore_is_imported_after_a_load_begins() -> None:
    """httpx imports httpcore when it builds a network transport, after the load's secrets
    installed the scrubbing: httpcore's loggers, made then, never got the filter, and an
    application's own record factory let httpcore.http11 log a signature in full."""
    script = """
import logging, sys
import recanalytics.redact as redact
assert "httpcore" not in sys.modules
secrets = redact.Secrets(["hunter2222"])
import httpcore  # as httpx's network transport does, after the load began
logging.setLogRecordFactory(logging.LogRecord)  # the application's, calling no other
logging.basicConfig(level=logging.DEBUG, stream=sys.stdout, format="%(message)s")
logging.getLogger("httpcore.http11").debug(
    "receive_response_headers Location: https://b.example/r.mka?X-Amz-Signature=deadbeefSIG"
)
"""
    shown = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert "receive_response_headers" in shown and "deadbeefSIG" not in shown, shown


def test_ids_that_look_like_user_info_stay_two_recordings(tmp_path: Path) -> None:
    """Two sids differing only in text like a URL's user info were cut to one id by the
    frame's redaction, after de-duplication: the store kept one of the two recordings."""
    sid = "AC" + "0" * 32
    records = [
        {"sid": "rec https://alice@x", "account_sid": sid, "status": "completed"},
        {"sid": "rec https://bob@x", "account_sid": sid, "status": "failed"},
    ]
    for record in records:
        record["date_created"] = "2025-01-01T00:00:00Z"
    body = {"recordings": records, "meta": {"next_page_url": None}}
    options: dict[str, object] = {
        "transport": httpx.MockTransport(lambda r: httpx.Response(200, json=body)),
        "credentials": {"account_sid": sid, "auth_token": "x" * 32},
    }
    direct = ra.load_twilio_recordings(**options)
    assert sorted(direct["recording_id"]) == ["rec https://alice@x", "rec https://bob@x"]
    store = ra.Store(tmp_path / "store")
    span = {"since": "2025-01-01", "until": "2025-01-02"}
    answer = ra.load_twilio_recordings(**span, store=store, **options)
    assert answer.height == 2 and store.read().height == 2


def test_a_redirect_to_the_credentials_as_user_info_shows_no_piece_of_them() -> None:
    """A Location header https://AC…:TOKEN@host/ whose token holds "/" failed as "Invalid
    port: '<the token up to its />'": the whole secret was redacted, not its pieces."""
    sid, token = "AC" + "1" * 32, "s3cr3t-Tok_en/7Qx9zLm"
    location = f"https://{sid}:{token}@evil.example/x"
    transport = httpx.MockTransport(lambda r: httpx.Response(302, headers={"Location": location}))
    with pytest.raises(ra.ProviderError) as info:
        ra.load_twilio_recordings(
            credentials={"account_sid": sid, "auth_token": token},
            transport=transport,
            retry=FAST_RETRY,
        )
    shown = f"{info.value} {info.value.message} {info.value.url} {info.value.__cause__}"
    assert "s3cr3t-Tok_en" not in shown and "7Qx9zLm" not in shown, shown


def test_a_credential_echoed_in_another_case_is_redacted() -> None:
    # A redirect to https://<basic token>.host/ came back lower-cased (httpx lower-cases a
    # host), and lower-cased base64 is guessed back in 16 tries per 4 characters.
    secret = "TWsecretQ7xZ9kP2mN4vB8"
    token = base64.b64encode(f"AC{'5a' * 16}:{secret}".encode()).decode().rstrip("=")
    for echoed in (token.lower(), token.upper(), secret.lower()):
        text = f"HTTP 404 from https://{echoed}.storage.example/f.mka"
        assert echoed not in ra_redact_text(text, [secret, token])
        frame = redact_frame(pl.DataFrame({"error": [text]}), [secret, token])
        assert echoed not in frame["error"][0] and "storage.example" in frame["error"][0]


@pytest.mark.parametrize("provider", sorted(CREDENTIALS))
def test_an_error_code_echoing_the_credentials_is_redacted(provider: str) -> None:
    # Only a code sent as text was redacted: one sent as an object kept the echoed
    # Authorization header and the token in the error's .code.
    credentials = CREDENTIALS[provider]
    secrets = credentials.secrets()
    echoed = {"echo": [f"Basic {s}" for s in secrets], "token": secrets}
    transport = httpx.MockTransport(
        lambda r: httpx.Response(401, json={"message": "denied", "code": echoed})
    )
    load = getattr(ra, f"load_{provider}_recordings")
    span = {"since": "2026-01-01", "until": "2026-01-20"}
    with pytest.raises(ra.AuthError) as info:
        load(**span, credentials=credentials, transport=transport, retry=FAST_RETRY)
    shown = f"{info.value.code} {info.value} {info.value.message}"
    assert all(secret not in shown for secret in secrets), shown
    assert "REDACTED" in str(info.value.code)


@pytest.mark.parametrize(
    ("token", "echo", "hidden"),
    [
        # A credential as short as redact.MIN_SECRET_LENGTH allows, and one character longer.
        ("s3cr", "auth token s3cr refused", "s3cr"),
        ("s3cr3", "auth token s3cr3 refused", "s3cr3"),
        # Another header's short token (not this load's): the pattern takes 8 characters on.
        ("plivo-secret", "saw Authorization: Bearer abc123de", "abc123de"),
    ],
    ids=["4-characters", "5-characters", "bearer-8-characters"],
)
def test_a_short_credential_or_bearer_token_echoed_in_an_error_is_redacted(
    token: str, echo: str, hidden: str
) -> None:
    credentials = {"auth_id": "MA" + "B" * 18, "auth_token": token}
    transport = httpx.MockTransport(lambda r: httpx.Response(401, json={"error": echo}))
    with pytest.raises(ra.AuthError) as info:
        ra.load_plivo_recordings(
            since="2026-01-01", until="2026-01-02", credentials=credentials, transport=transport
        )
    shown = f"{info.value} {info.value.message}"
    assert hidden not in shown and "REDACTED" in shown, shown


def test_a_secret_quoted_keeping_its_slashes_is_redacted() -> None:
    # urllib.parse.quote keeps "/" by default: that form of a secret was left in text.
    from urllib.parse import quote

    secret = "SeCrEt/tw1l10+XYZ="
    assert quote(secret) not in ra_redact_text(f"token={quote(secret)} echoed", [secret])


def test_a_secret_echoed_in_html_or_quoted_twice_is_redacted() -> None:
    import html
    from urllib.parse import quote

    secret = "s3cr3t/+=&?#Tok<x>"
    for echoed in (html.escape(secret), quote(quote(secret, safe=""), safe="")):
        assert echoed not in ra_redact_text(f"page said [{echoed}]", [secret]), echoed


@pytest.mark.parametrize(
    "text",
    [
        "https://auth.example/t?client_secret=abc123def",
        "https://auth.example/t?refresh_token=abc123def",
        "https://zoom.us/j/123?pwd=abc123def",
        "https://zoom.us/s/123?zak=abc123def",
        "https://api.example/v1?api_key=abc123def",
        'the server said access_token="abc123def" was wrong',
        "the server said access_token='abc123def' was wrong",
    ],
)
def test_more_secret_query_names_and_quoted_values_are_redacted(text: str) -> None:
    # Left as they were: names outside the list, and a value written in quotes.
    assert "abc123def" not in ra_redact_text(text, [])
    frame = redact_frame(pl.DataFrame({"url": [text]}), [])
    assert "abc123def" not in frame["url"][0] or "?" not in text


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("see //user:pw123@host/x", "see //host/x"),
        ("go https%3A%2F%2Fuser%3Apw123%40host%2Fpath now", "go https%3A%2F%2Fhost%2Fpath now"),
        ("next=https%3a%2f%2fu%3apw123%40h%2f", "next=https%3a%2f%2fh%2f"),
        # An encoded @ in the nested link's own query is no userinfo: left as it was.
        ("https%3A%2F%2Fhost%2Fp%3Fe%3Dme%40x.com", "https%3A%2F%2Fhost%2Fp%3Fe%3Dme%40x.com"),
    ],
)
def test_userinfo_of_scheme_relative_and_nested_links_is_removed(text: str, kept: str) -> None:
    # Left as they were: "//user:pw@host" and a link percent-encoded inside another.
    assert ra_redact_text(text, []) == kept
    assert redact_frame(pl.DataFrame({"url": [text]}), [])["url"][0] == kept


def chain_of(error: BaseException) -> list[BaseException]:
    """The error and everything reachable from it through __cause__ and __context__."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo:
        item = todo.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        todo += [item.__cause__, item.__context__]
    return seen


def failing(kind: str) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if kind == "connect":
            raise httpx.ConnectError("connection refused", request=request)
        if kind == "read":
            raise httpx.ReadError("connection reset", request=request)
        if kind == "decode":
            raise httpx.DecodingError("gzip broken", request=request)
        return httpx.Response(200, content=b'{"cut": ', request=request)

    return httpx.MockTransport(handle)


@pytest.mark.parametrize("kind", ["connect", "read", "decode", "truncated"])
@pytest.mark.parametrize("provider", sorted(CREDENTIALS))
async def test_no_exception_in_a_failed_load_holds_the_request(provider: str, kind: str) -> None:
    # An async load (and a sync one in Jupyter's running loop) raised a TransportError whose
    # hidden __context__ chain held httpx's exception, and with it the request and its
    # Authorization header: `from None` hides a context from tracebacks but keeps it.
    credentials = CREDENTIALS[provider]
    load = getattr(ra, f"aload_{provider}_recordings")
    span = {"since": "2026-01-01", "until": "2026-01-20"}
    with pytest.raises(ra.TransportError) as info:
        await load(**span, credentials=credentials, transport=failing(kind), retry=FAST_RETRY)
    chain = chain_of(info.value)
    assert not [e for e in chain if isinstance(e, httpx.HTTPError)], chain
    shown = " ".join(repr(vars(e)) + repr(e.args) for e in chain)
    assert all(secret not in shown for secret in credentials.secrets())


def _echoes(secret: str) -> list[str]:
    import html as html_module
    import json
    from urllib.parse import quote, quote_plus

    return [
        quote(secret, safe="-_.!~*'()"),  # JavaScript's encodeURIComponent
        quote_plus(secret, safe="*"),  # Java's URLEncoder
        json.dumps(secret)[1:-1].replace("/", "\\/"),  # PHP's json_encode
        html_module.escape(secret).replace("&#x27;", "&#39;").replace("&quot;", "&#34;"),
        secret.replace("+", "&#43;"),  # Go's html/template
        repr(secret)[1:-1],  # a message that is not a string, shown as Python shows it
        repr(secret.encode())[2:-1],  # httpcore's debug log of a header's bytes
        quote_plus(secret.replace("+", " ")),  # a "+" read as a space, written again
        secret.encode().hex(),
    ]


@pytest.mark.parametrize("secret", ["a.b*c+(d)", "tw+secret/value==", "o'brien\"s\\ecret"])
def test_a_secret_echoed_by_other_encoders_is_redacted(secret: str) -> None:
    # Each of these forms came back whole in an error, a log line, a frame or media.csv.
    for echoed in _echoes(secret):
        assert echoed not in ra_redact_text(f"said [{echoed}]", [secret]), echoed
        frame = redact_frame(pl.DataFrame({"error": [f"said [{echoed}]"]}), [secret])
        assert echoed not in frame["error"][0], echoed


def test_a_non_ascii_secret_is_redacted_however_its_text_was_mangled() -> None:
    import unicodedata

    secret = "pässwörd-ßecret-22"
    for echoed in (
        unicodedata.normalize("NFD", secret),
        secret.encode("ascii", "ignore").decode(),  # a reason phrase read as ASCII
        secret.encode("latin-1").decode("utf-8", "replace"),  # a Latin-1 body read as UTF-8
        repr(secret.encode())[2:-1],
    ):
        assert echoed not in ra_redact_text(f"said {echoed}", [secret]), echoed


def test_a_base64url_signature_in_the_standard_alphabet_is_redacted() -> None:
    signature = "R4b1iBA_JD9-xQ2lmN8pO5"
    standard = signature.replace("-", "+").replace("_", "/")
    assert standard not in ra_redact_text(f"sig {standard}", [signature])


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example/f?accessToken=abc123def",
        "https://cdn.example/f?access_token[]=abc123def",
        "https://cdn.example/f?download_access_token=abc123def",
        "https://cdn.example/f?secret=abc123def",
        "https://cdn.example/f?key=abc123def",
        "https://cdn.example/f?x=1&amp;access_token=abc123def",
        "https://cdn.example/f#access_token=abc123def",
        "https://cdn.example/f?token%3Dabc123def",
    ],
)
def test_more_secret_parameters_are_redacted_in_urls_text_and_frames(url: str) -> None:
    from recanalytics.redact import redact_url

    assert "abc123def" not in (redact_url(url) or "")
    assert "abc123def" not in ra_redact_text(f"GET {url} failed", [])
    if "?" in url:
        assert "abc123def" not in redact_frame(pl.DataFrame({"u": [url]}), [])["u"][0]


def test_a_password_holding_an_unencoded_at_sign_is_removed_whole() -> None:
    assert ra_redact_text("https://user:p@ss@host/x", []) == "https://host/x"
    frame = redact_frame(pl.DataFrame({"u": ["https://user:p@ss@host/x"]}), [])
    assert frame["u"][0] == "https://host/x"


def test_a_secret_echoed_in_a_next_link_is_redacted_after_the_link_is_rebuilt() -> None:
    # The engine rebuilt the link's query before redacting: "tw+secret/value==" echoed in a
    # next link came back as "tw+secret%2Fvalue%3D%3D", a form nobody looked for.
    secret = "tw+secret/value=="
    credentials = ra.TwilioCredentials(account_sid="AC" + "1" * 32, auth_token=secret)

    def handle(request: httpx.Request) -> httpx.Response:
        if "Echo" in str(request.url):
            return httpx.Response(503, json={"message": "busy"})
        nxt = f"{request.url.copy_with(query=None)}?PageSize=1&Page=1&Echo={secret}"
        return httpx.Response(
            200,
            json={"recordings": [twilio_track(1)], "meta": {"next_page_url": nxt, "page_size": 1}},
        )

    with pytest.raises(ra.ProviderError) as info:
        ra.load_twilio_recordings(
            status="completed",  # a filter the next link leaves out: the link is rebuilt
            page_size=1,
            credentials=credentials,
            transport=httpx.MockTransport(handle),
            retry=FAST_RETRY,
        )
    shown = f"{info.value} {info.value.url}"
    assert "Echo=" in shown and "secret" not in shown.replace("REDACTED", ""), shown


@pytest.mark.parametrize("rows", [3, 25_000], ids=["stacked", "column-by-column"])
@pytest.mark.parametrize("where", ["first", "last"])
def test_a_secret_in_one_cell_is_found_in_a_small_or_a_large_frame(rows: int, where: str) -> None:
    # A small frame is searched as its text columns stacked into one (polars builds a matcher
    # per column, which cost a three-row load most of its time); a large one column by column.
    secret = "hunter2222"
    jwt = make_jwt("key", "secret-value", issued_at=1_700_000_000, lifetime=3600)
    held = {"first": f"note {jwt}", "last": f"https://h.example/f?x={secret}"}[where]
    shown = {"first": "note REDACTED", "last": "https://h.example/f?x=REDACTED"}[where]
    columns: dict[str, list[str | None]] = {"first": ["plain"] * rows}
    columns |= {f"c{i}": [f"value {i}"] * rows for i in range(8)}
    columns["last"] = [None] * rows
    clean = pl.DataFrame(columns)
    assert (clean.height * clean.width > redact.STACKED_CHECK_CELLS) == (rows > 3)
    assert redact_frame(clean, [secret]) is clean
    frame = clean.with_columns(
        pl.when(pl.int_range(pl.len()) == rows // 2)
        .then(pl.lit(held))
        .otherwise(pl.col(where))
        .alias(where)
    )
    out = redact_frame(frame, [secret])
    assert out[where][rows // 2] == shown
    assert out.drop(where).equals(clean.drop(where))


def test_a_small_frame_is_redacted_as_a_large_one_is(monkeypatch: pytest.MonkeyPatch) -> None:
    # The stacked search of a small frame must flag the columns the per-column one flags:
    # which hold a secret or a marker, and which of those a pattern then runs on.
    secret = "hunter2222"
    texts = [
        None, "", "plain", f"x{secret}y", secret.upper(), "https://u:pw@h.example/f",
        "//tok@cdn.example/f", "see a@b", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        "https://h/f?X-Amz-Signature=abc123def", "https%3A%2F%2Fu%3Ap%40h%2F", "token=v2 review",
    ]  # fmt: skip
    frame = pl.DataFrame(
        {f"c{i}": [texts[(i * 7 + row) % len(texts)] for row in range(5)] for i in range(12)}
        | {"id": [f"rec @{secret}", "a", "b", "c", "d"], "n": [1, 2, 3, 4, 5]}
    )
    stacked = redact_frame(frame, [secret], ids=["id"])
    monkeypatch.setattr(redact, "STACKED_CHECK_CELLS", -1)
    assert stacked.equals(redact_frame(frame, [secret], ids=["id"]))
    assert stacked["id"][0] == "rec @REDACTED" and not stacked.equals(frame)
