"""Removing secrets from URLs and text before they are shown, logged, raised or stored."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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
        "signature",
        "sig",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
        "se",
        "sv",
        "sp",
    }
)

_QUERY_SECRET_RE = re.compile(
    r"(?i)\b(access_token|token|jwt|password|auth_token|api_secret|signature|x-amz-signature|"
    r"x-amz-credential|x-amz-security-token)=([^&\s\"'#]+)"
)
_BEARER_RE = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")


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
        if any(key.lower() in SECRET_PARAMS for key, _ in pairs):
            query = urlencode(
                [(k, REDACTED if k.lower() in SECRET_PARAMS else v) for k, v in pairs],
                safe="/:",
            )
        else:
            query = parts.query
    else:
        query = ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace known secret values, auth headers and secret query values in free text."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    text = _QUERY_SECRET_RE.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    return _BEARER_RE.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
