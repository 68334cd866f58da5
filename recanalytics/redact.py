"""Removing secrets from URLs and text before they are shown, logged, raised or stored.

:func:`redact_text` is the one function every sink goes through (exception messages, warnings,
log lines, status errors, result files). Each secret it is given is removed in every form a
server could echo it in: as is, URL-encoded, base64 (standard or URL-safe, padded or not) and,
for a Basic auth token, the decoded ``user:secret``. JWTs are removed wherever they appear.
:func:`visible` then writes what could act on a terminal or a log (ESC sequences, CR/LF, bidi
controls) as visible escapes, so a provider's text shown is one line of what it says.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import logging
import re
import threading
import unicodedata
import weakref
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

import polars as pl

REDACTED = "REDACTED"

# Query parameters that authorise a request on their own: Zoom's access_token, pre-signed
# storage URLs' signatures and credentials, generic token/password names.
SECRET_PARAMS = frozenset(
    {
        "access_token",
        "token",
        "jwt",
        "password",
        "auth_token",
        "api_secret",
        "client_secret",
        "refresh_token",
        "id_token",
        "api_key",
        "api-key",
        "apikey",
        "key",  # an API key (Google's ?key=)
        "auth",
        "secret",
        "accesstoken",  # accessToken, camel-cased
        "access-token",
        "download_access_token",
        "session_token",
        "pwd",  # a Zoom join link's passcode
        "zak",  # a Zoom user's access key
        "signature",
        "sig",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
        # STS session tokens beside a pre-signed link's signature (Alibaba OSS, S3-compatible)
        "security-token",
        "x-oss-security-token",
        "x-oss-signature",
        "x-oss-credential",
        "se",
        "sv",
        "sp",
    }
)

# The patterns below use ASCII constructs only (no \b, \s or (?i)), so Python's re and polars'
# Rust regex read them alike, and polars' ASCII-case-insensitive prefilter finds every match.
_SPACE = " \\t\\r\\n\\f\\v"


def _spelled(name: str) -> str:
    """``name`` in any ASCII case, with ``_`` and ``-`` also percent-encoded."""
    parts = {"_": "(?:_|%5[Ff])", "-": "(?:-|%2[Dd])"}
    return "".join(parts.get(c, f"[{c.upper()}{c.lower()}]" if c.isalpha() else c) for c in name)


# Secret query values. Expiry, version and permissions (Azure's se/sv/sp) are no secrets; the
# short names only ever follow ? or &.
_PATTERN_PARAMS = sorted(SECRET_PARAMS - {"se", "sv", "sp"}, key=len, reverse=True)
_NAMES = "|".join(_spelled(p) for p in _PATTERN_PARAMS)
# The value, and the quote it may be written in (access_token="..." in a message).
_VALUE = rf"(=|%3[Dd])[\"']?[^&{_SPACE}\"'#<>\\]+"
# In text (messages, logs) a name counts where a word starts; in frames (provider data) only as
# a URL's parameter, so "Design token=v2 review" in a session name is left as it was.
# A name may carry the "[]" of a list parameter (access_token[]=...).
_NAME = rf"((?:{_NAMES})(?:\[\]|%5[Bb]%5[Dd])?)"
QUERY_SECRET_PATTERN = rf"(^|[^A-Za-z0-9_]|%3[Ff]|%26){_NAME}{_VALUE}"
URL_QUERY_SECRET_PATTERN = rf"([?&;#]|%3[Ff]|%26|%3[Bb]){_NAME}{_VALUE}"
_QUERY_SECRET_RE = re.compile(QUERY_SECRET_PATTERN)
# user:password@ (or a lone token@) between a URL's scheme and its host.
# Scheme-relative links (//user:pw@host) too.
USERINFO_PATTERN = (
    rf"(^|[^A-Za-z0-9+.-])((?:[A-Za-z][A-Za-z0-9+.-]*:)?//)[^/?#{_SPACE}\"'<>\\,;|]*@"
)
_USERINFO_RE = re.compile(USERINFO_PATTERN)
# In frames (provider data), only a URL's: after a scheme, or a scheme-relative link's when it
# holds a password or goes on to a dotted host (//token@media.example.com/f). A session named
# "Standup //alice@acme" or an id "rec //bob@x" is no URL, and two ids cut to one would be one
# recording in a store.
_USERINFO_CHARS = rf"[^/?#{_SPACE}\"'<>\\,;|]"
_USERINFO_END = rf"{_USERINFO_CHARS}*@"
SCHEME_USERINFO_PATTERN = rf"(^|[^A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*://){_USERINFO_END}"
RELATIVE_PASSWORD_PATTERN = rf"(^|[^A-Za-z0-9+.-])(//)[^/?#{_SPACE}\"'<>\\,;|:@]*:{_USERINFO_END}"
# The host's first label and dot are matched, so put back (no look-ahead in polars' regex).
RELATIVE_HOST_PATTERN = rf"(^|[^A-Za-z0-9+.-])(//){_USERINFO_END}([A-Za-z0-9-]+\.[A-Za-z0-9])"
# The same in a link percent-encoded inside another (a redirect's ?next=https%3A%2F%2Fu%3Ap%40h):
# up to the last %40 before the nested link's path, query or fragment (%2F, %3F, %23).
_ENCODED_CHAR = (
    r"(?:[A-Za-z0-9._~!$'()*+,;=-]|%(?:[014-9A-Fa-f][0-9A-Fa-f]|2[0-24-9A-Ea-e]|3[0-9A-Ea-e]))"
)
ENCODED_USERINFO_PATTERN = (
    rf"(^|[^A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*%3[Aa]%2[Ff]%2[Ff]){_ENCODED_CHAR}*%40"
)
_ENCODED_USERINFO_RE = re.compile(ENCODED_USERINFO_PATTERN)
_BEARER_RE = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
# header.payload.signature, each base64url; the header of every JWT starts '{"' = 'eyJ'.
JWT_PATTERN = r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{8,}"
_JWT_RE = re.compile(JWT_PATTERN)
# Literal pieces that every match of the patterns above holds (ASCII case aside): every secret
# parameter's name ends in one of these words, then "=" or its encoding.
_ENDINGS = (
    "token",
    "jwt",
    "password",
    "secret",
    "signature",
    "credential",
    "sig",
    "key",
    "pwd",
    "zak",
    "auth",
)
_SECRET_MARKERS = [
    "eyJ",
    "@",
    "%40",
    "[]=",
    "%5d=",
    "%5d%3d",
    *(f"{w}{eq}" for w in _ENDINGS for eq in ("=", "%3d")),
]
# One search for any marker (redact_url runs per record: ~35 substring scans cost 2.5 µs).
_MARKER_RE = re.compile("|".join(map(re.escape, _SECRET_MARKERS)), re.IGNORECASE)
MIN_SECRET_LENGTH = 4
# Frames of at most this many text cells are searched for secrets as one stacked column (see
# redact_frame): the copy is small where the per-column matchers would cost most.
STACKED_CHECK_CELLS = 200_000
MIN_PIECE_LENGTH = 8  # a secret's piece between URL delimiters, redacted on its own


# What a provider's text may hold that acts on a terminal or a log rather than being read:
# C0 and C1 controls and DEL (ESC sequences retitle a terminal, clear it, or hide a link; CR
# and LF forge lines), the Unicode line and paragraph separators, and the bidi controls that
# reorder what is shown (U+202E shows "room\u202egpj.exe" as "roomexe.jpg").
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_INVISIBLE = [
    *range(0x00, 0x20),
    *range(0x7F, 0xA0),
    0x061C,
    0x200E,
    0x200F,
    0x2028,
    0x2029,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
]
_VISIBLE = {
    code: _NAMED.get(chr(code), f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    for code in _INVISIBLE
}


def visible(text: str) -> str:
    r"""``text`` on one line, with every character that could act on a terminal or a log written
    as a visible escape: C0 and C1 controls, DEL, U+2028/U+2029 and the bidi controls
    (U+061C, U+200E/F, U+202A-E, U+2066-9).

    Applied where a provider's text enters a message (an error body's ``message`` and
    ``code``, a redirect's ``Location``, a media download's error), after secrets are removed.

    Examples
    --------
    >>> visible("Bad request\x1b]0;title\x07\nrecanalytics: twilio: completed, 1000 rows")
    'Bad request\\x1b]0;title\\x07\\nrecanalytics: twilio: completed, 1000 rows'
    >>> print(visible("room\u202egpj.exe"), visible("café ☕"))
    room\u202egpj.exe café ☕
    """
    return text.translate(_VISIBLE)


def redact_url(url: str | None) -> str | None:
    """Return ``url`` without user info and with secret query values replaced.

    Examples
    --------
    >>> redact_url("https://u:p@zoom.us/rec/download/x?access_token=abc&type=1")
    'https://zoom.us/rec/download/x?access_token=REDACTED&type=1'
    """
    if url is None:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if any(_secret_name(key) for key, _ in pairs):
            query = urlencode(
                [(k, REDACTED if _secret_name(k) else v) for k, v in pairs],
                safe="/:",
            )
        else:
            query = parts.query
    else:
        query = ""
    clean = urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    if _MARKER_RE.search(clean):
        # What parse_qsl does not see as a parameter: one in the fragment, after "&amp;",
        # or with its "=" percent-encoded.
        clean = redact_text(clean)
    return clean


def shown_url(url: str, secrets: Iterable[str] = ()) -> str:
    """``url`` as an error or a log shows it: the secrets' every form removed first (redact_url
    rewrites the query, and a rewritten secret is another form), then as :func:`redact_url`,
    and :func:`visible` (a link a provider sent may hold ESC or CR/LF).

    Examples
    --------
    >>> shown_url("https://h/p?Echo=tw+s3cr3t/v==&x=1", ["tw+s3cr3t/v=="])
    'https://h/p?Echo=REDACTED&x=1'
    """
    return visible(redact_url(redact_text(url, secrets)) or "")


def _secret_name(key: str) -> bool:
    key = key.lower()
    return key.removesuffix("[]") in SECRET_PARAMS


def _base64_forms(data: bytes) -> set[str]:
    standard = base64.b64encode(data).decode()
    urlsafe = base64.urlsafe_b64encode(data).decode()
    return {standard, urlsafe, standard.rstrip("="), urlsafe.rstrip("=")}


# Go's html/template (and html.EscapeString without the "+"): numeric references for quotes.
_GO_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&#39;", '"': "&#34;"})
_GO_TEMPLATE = str.maketrans({"+": "&#43;"})


def _encoded_forms(value: str) -> set[str]:
    upper = quote(value, safe="")
    lower = re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), upper)
    # quote()'s own default keeps "/": the form most URL builders write. JavaScript's
    # encodeURIComponent keeps -_.!~*'(), Java's URLEncoder *-._ (and writes spaces as +).
    path_safe = quote(value)
    url_forms = {
        path_safe,
        quote_plus(value),
        quote(value, safe="-_.!~*'()"),
        quote_plus(value, safe="*"),
        lower,
    }
    if "+" in value:
        # A "+" read as a space in a query string, then written again (a rebuilt link).
        spaced = value.replace("+", " ")
        url_forms |= {spaced, quote_plus(spaced), quote_plus(spaced, safe="/:")}
    # As a JSON string holds it (a server echoing the value in an error body): quotes and
    # backslashes escaped, and non-ASCII as \u escapes where the server writes ASCII only;
    # PHP also escapes "/".
    as_json = {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    as_json |= {form.replace("/", "\\/") for form in as_json}
    # As Python shows it in a repr (a message that is not a string, httpcore's debug log of a
    # header's bytes), and as bytes written in hex.
    shown = {repr(value)[1:-1], repr(value.encode())[2:-1], value.encode().hex()}
    # Echoed into an HTML error page (& < > " ' escaped), or a link quoted once more inside
    # another (a login page's ?next=).
    go_html = value.translate(_GO_HTML)
    echoed = {
        html.escape(value),
        go_html,
        go_html.translate(_GO_TEMPLATE),
        quote(upper, safe=""),
        quote(path_safe, safe=""),
    }
    return {value, upper, *url_forms, *as_json, *shown, *echoed}


def _text_forms(secret: str) -> set[str]:
    """The secret as text that went through another encoding or normalisation on its way: its
    Unicode composed or decomposed, its non-ASCII dropped (a reason phrase read as ASCII) or
    replaced (a Latin-1 body read as UTF-8), a base64url value in the standard alphabet."""
    forms = {unicodedata.normalize(form, secret) for form in ("NFC", "NFD")}
    if not secret.isascii():
        forms.add(secret.encode("ascii", "ignore").decode())
        forms.add(secret.encode("latin-1", "replace").decode("utf-8", "replace"))
    if re.fullmatch(r"[A-Za-z0-9_-]+", secret) and re.search(r"[_-]", secret):
        forms.add(secret.translate(str.maketrans("-_", "+/")))
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


@functools.lru_cache(maxsize=1024)
def secret_forms(secret: str) -> frozenset[str]:
    """Every form of ``secret`` a server might echo back (longest first when iterated sorted).

    Examples
    --------
    >>> import base64
    >>> token = base64.b64encode(b"AC1:hunter22").decode()
    >>> "AC1:hunter22" in secret_forms(token) and "hunter22" not in secret_forms(token)
    True
    """
    forms = {form for text in {secret, *_text_forms(secret)} for form in _encoded_forms(text)}
    # A URL parser quotes a secret cut at a URL's delimiters ("Invalid port: 's3cr3t-Tok_en'"
    # of a Location header's https://AC…:s3cr3t-Tok_en/x@host): pieces long enough to be
    # nobody's word are forms too.
    for piece in re.split(r"[/?#@:]", secret):
        if len(piece) >= MIN_PIECE_LENGTH and piece != secret:
            forms |= _encoded_forms(piece)
    for encoded in _base64_forms(secret.encode()):
        forms |= _encoded_forms(encoded)
    try:
        raw = base64.b64decode(secret + "=" * (-len(secret) % 4), validate=True)
    except ValueError:
        raw = b""
    if len(raw) >= 6:
        # The secret is itself base64 (a Basic token): its other spellings too.
        for encoded in _base64_forms(raw):
            forms |= _encoded_forms(encoded)
        decoded = raw.decode("utf-8", "replace")
        if ":" in decoded and decoded.isprintable():
            # A Basic auth token's decoded user:secret is as secret as the token itself.
            forms |= _encoded_forms(decoded)
    return frozenset(f for f in forms if len(f) >= MIN_SECRET_LENGTH)


@functools.lru_cache(maxsize=64)
def _forms_pattern(forms: frozenset[str]) -> re.Pattern[str]:
    """Any of ``forms``, longest first, in any ASCII case: a host name echoing a token is
    lower-cased on its way (httpx, DNS), and lower-cased base64 is guessed back in 16 tries per
    4 characters."""
    ordered = sorted(forms, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered)), re.IGNORECASE | re.ASCII)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace known secret values (in every form), JWTs, auth headers and secret query values.

    Examples
    --------
    >>> redact_text("echo: aHVudGVyMjI= and hunter22", ["hunter22"])
    'echo: REDACTED and REDACTED'
    """
    forms = frozenset(form for secret in secrets if secret for form in secret_forms(secret))
    if forms:
        text = _forms_pattern(forms).sub(REDACTED, text)
    text = _JWT_RE.sub(REDACTED, text)
    text = _USERINFO_RE.sub(r"\1\2", text)
    text = _ENCODED_USERINFO_RE.sub(r"\1\2", text)
    text = _QUERY_SECRET_RE.sub(lambda m: f"{m[1]}{m[2]}{m[3]}{REDACTED}", text)
    return _BEARER_RE.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


_LIVE: weakref.WeakSet[Secrets] = weakref.WeakSet()


class Secrets:
    """The secret strings of one load or download; grows as credentials are issued (a JWT).

    Iterating gives the values; pass the object itself to :func:`redact_text`. While it is
    alive, log records of ``recanalytics`` and of ``httpx`` (which logs each response's status
    line, a reason phrase a server chooses) are scrubbed of its values too.

    Examples
    --------
    >>> secrets = Secrets(["hunter22"])
    >>> secrets.add("eyJ.token.value")
    >>> redact_text("hunter22 eyJ.token.value", secrets)
    'REDACTED REDACTED'
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: dict[str, None] = {}
        self._lock = threading.Lock()
        for value in values:
            self.add(value)
        _LIVE.add(self)
        _install_log_filter()

    def add(self, value: str) -> None:
        if value and len(value) >= MIN_SECRET_LENGTH:
            with self._lock:
                self._values[value] = None

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self._values))

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Secrets({len(self)} values)"

    def redact(self, text: str) -> str:
        """``redact_text(text, self)``."""
        return redact_text(text, self)


def redact_frame(
    frame: pl.DataFrame, secrets: Iterable[str], *, ids: Iterable[str] = ()
) -> pl.DataFrame:
    """``frame`` with every form of ``secrets`` replaced in its text columns, and, as
    :func:`redact_text` does, JWTs, user info in URLs and secret query values (a pre-signed
    link's signature, a Zoom ``access_token``) wherever a field or ``extra`` holds them.

    A hostile or broken server can echo a credential into any field; one Aho-Corasick pass
    per text column finds the secrets and the patterns' markers, and only a column that holds
    one is rewritten.

    Examples
    --------
    >>> frame = pl.DataFrame({"url": ["https://u:pw@h/f?access_token=abc&type=1", "plain"]})
    >>> redact_frame(frame, ["hunter22"])["url"].to_list()
    ['https://h/f?access_token=REDACTED&type=1', 'plain']

    ``ids`` names id columns: only the secrets are replaced there, never a pattern's match
    (two ids rewritten alike would be one recording to a store).
    """
    forms = sorted(
        {form for secret in secrets if secret for form in secret_forms(secret)},
        key=len,
        reverse=True,
    )
    ids = set(ids)
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not text or frame.height == 0:
        return frame
    # One pass for both; secrets in any ASCII case, as redact_text matches them.
    markers = [*_SECRET_MARKERS, *forms]
    dirty = _holding(frame, text, markers)
    if not dirty:
        return frame
    # The patterns run only where their markers are: a column flagged for a secret alone (a
    # short secret that is also a host name's word) is not scanned by three regexes.
    marked = set(_holding(frame, dirty, _SECRET_MARKERS))
    rewritten = []
    for name in dirty:
        column = pl.col(name)
        if forms:
            column = column.str.replace_many(
                forms, [REDACTED] * len(forms), ascii_case_insensitive=True
            )
        if name in marked and name not in ids:
            column = (
                column.str.replace_all(JWT_PATTERN, REDACTED)
                .str.replace_all(SCHEME_USERINFO_PATTERN, "${1}${2}")
                .str.replace_all(RELATIVE_PASSWORD_PATTERN, "${1}${2}")
                .str.replace_all(RELATIVE_HOST_PATTERN, "${1}${2}${3}")
                .str.replace_all(ENCODED_USERINFO_PATTERN, "${1}${2}")
                .str.replace_all(URL_QUERY_SECRET_PATTERN, f"${{1}}${{2}}${{3}}{REDACTED}")
            )
        rewritten.append(column)
    return frame.with_columns(rewritten)


def _holding(frame: pl.DataFrame, names: list[str], markers: list[str]) -> list[str]:
    """The columns of ``names`` that hold any of ``markers`` in any ASCII case."""
    if frame.height * len(names) > STACKED_CHECK_CELLS:
        found = frame.select(
            pl.col(names).str.contains_any(markers, ascii_case_insensitive=True).any()
        )
        return [name for name in names if found[name][0]]
    # polars builds a matcher per column, which costs a small frame more than its scan (17 of
    # a Twilio page's columns: most of a three-row load's time). The columns stacked into one
    # are searched by one, and each column's share of the answer says whether it holds one.
    cells = pl.concat([frame.get_column(name).alias("cell") for name in names])
    hits = cells.str.contains_any(markers, ascii_case_insensitive=True).fill_null(False)
    held = hits.reshape((len(names), frame.height)).arr.any()
    return [name for name, hit in zip(names, held, strict=True) if hit]


class _ScrubLogRecords(logging.Filter):
    """Rewrites a record's message without the values of every live :class:`Secrets`, and on
    one line (:func:`visible`: httpx logs a reason phrase the server chose)."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = [value for live in list(_LIVE) for value in live]
        message = record.getMessage()
        clean = visible(redact_text(message, secrets))
        if clean != message:
            record.msg, record.args = clean, None
        return True


_LOG_FILTER = _ScrubLogRecords()
LOGGERS = ("recanalytics", "httpx", "httpcore")
_LOGGER_PREFIXES = tuple(f"{name}." for name in LOGGERS)
_installed = threading.Lock()
_our_factory: Callable[..., logging.LogRecord] | None = None


def _install_log_filter() -> None:
    """Scrub every record of :data:`LOGGERS` and of their children (``httpcore.http11`` logs
    response headers at DEBUG): a logger's filters never see its children's records, so the
    scrubbing is done where records are made, by wrapping the record factory. Asked at every
    load, as an application may set a factory of its own later (one that does not call ours
    would end the scrubbing); each logger of theirs that exists gets the filter as well, which
    holds whatever factory is set."""
    global _our_factory
    # httpx imports httpcore when it builds a network transport, after this: its loggers
    # (httpcore.http11 logs response headers) exist from its import on, to carry the filter.
    import httpcore  # noqa: F401

    with _installed:
        for name, logger in list(logging.Logger.manager.loggerDict.items()):
            if isinstance(logger, logging.Logger) and (
                name in LOGGERS or name.startswith(_LOGGER_PREFIXES)
            ):
                logger.addFilter(_LOG_FILTER)  # once: addFilter skips a filter it holds
        made = logging.getLogRecordFactory()
        if made is _our_factory:
            return

        def scrubbed(*args: object, **kwargs: object) -> logging.LogRecord:
            record = made(*args, **kwargs)
            if record.name in LOGGERS or record.name.startswith(_LOGGER_PREFIXES):
                _LOG_FILTER.filter(record)
            return record

        logging.setLogRecordFactory(scrubbed)
        _our_factory = scrubbed
