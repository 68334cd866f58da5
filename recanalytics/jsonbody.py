"""Decoding a response body into JSON values, tolerating what a hostile or broken server sends.

A body in UTF-8, UTF-16 or UTF-32 (told apart by its first bytes, as :func:`json.loads` does)
is read. One that is not valid in its encoding, holds lone surrogates (an escape such as
``"\\ud800"``, UTF-8's three-byte form of one as CESU-8 and Java's modified UTF-8 write it, or a
lone UTF-16 code unit: no Arrow string can hold one) or nests deeper than any record should is
still read: bad bytes and lone surrogates become U+FFFD, a surrogate pair in UTF-8's three-byte
forms becomes its character, and a value nested deeper than :data:`MAX_DEPTH` is kept as (at
most :data:`TEXT_LIMIT` characters of) its JSON text. :class:`Body` says how many of each were
repaired, so the caller can warn. An integer of more digits than Python converts (4,300, see
:func:`sys.get_int_max_str_digits`) is kept as its digits, a string, which no number column
reads. Only a body that is not JSON at all (for example a truncated transfer) raises, as a
``ValueError``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 64
"""Containers nested deeper than this (counted from the body's top) are kept as text."""
TEXT_LIMIT = 1000
"""Characters of a too-deep value's JSON text that are kept."""
REPLACEMENT = "\ufffd"

_UTF8_REPLACEMENT = REPLACEMENT.encode()
# A JSON string, or one structural character; strings are matched whole so that brackets inside
# them are not counted.
_TOKEN_RE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
# An escaped backslash (kept), a valid surrogate pair (kept), or a lone surrogate escape.
_SURROGATE_RE = re.compile(
    r"(\\\\)|(\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})|\\u[dD][89a-fA-F][0-9a-fA-F]{2}"
)
_MAYBE_SURROGATE_RE = re.compile(rb"\\u[dD][89a-fA-F]")
# A run of surrogates in UTF-8's three-byte form (CESU-8, Java's modified UTF-8). Led by a
# literal byte, which the regex engine scans for fast: the clean path searches every page.
_ENCODED_SURROGATES_RE = re.compile(rb"\xed[\xa0-\xbf][\x80-\xbf](?:\xed[\xa0-\xbf][\x80-\xbf])*")


@dataclass(frozen=True)
class Body:
    """A decoded body and what had to be repaired to decode it.

    Attributes
    ----------
    value : Any
        The JSON value.
    replaced : int
        Undecodable byte sequences and lone surrogates replaced with U+FFFD.
    flattened : int
        Values nested deeper than :data:`MAX_DEPTH`, kept as truncated JSON text.
    long_ints : int
        Integers of more digits than Python converts, kept as strings of their digits.
    """

    value: Any
    replaced: int = 0
    flattened: int = 0
    long_ints: int = 0


def loads(content: bytes) -> Body:
    """Decode ``content`` as JSON, repairing rather than failing where the data allows.

    Raises
    ------
    ValueError
        When the body is not JSON even after repair (a truncated or garbled transfer).

    Examples
    --------
    >>> loads(b'{"name": "caf\\xe9"}')
    Body(value={'name': 'caf�'}, replaced=1, flattened=0, long_ints=0)
    >>> loads(b'["a\\xed\\xa0\\x80", "\\\\ud800"]')  # lone surrogates, raw (CESU-8) and escaped
    Body(value=['a�', '�'], replaced=2, flattened=0, long_ints=0)
    >>> loads(b"[" * 5000 + b"]" * 5000).flattened  # deeper than Python's recursion limit
    1
    """
    # json.loads would decode a UTF-16 or UTF-32 body (and UTF-8's encoded surrogates) with
    # "surrogatepass": lone surrogates no frame can hold. Those bodies take the repairing path.
    encoding = json.detect_encoding(content)
    utf8 = encoding.startswith("utf-8")
    # Cut where MAX_DEPTH says on every Python: a RecursionError comes at a depth that differs
    # between versions (about 1,000 on 3.11, far deeper on 3.13), so it is no cut of its own.
    deep = deeper_than(content, MAX_DEPTH) if utf8 else None
    if (
        utf8
        and not deep
        and not _MAYBE_SURROGATE_RE.search(content)
        and not (b"\xed" in content and _ENCODED_SURROGATES_RE.search(content))
    ):
        try:
            value, long_ints = _json(content)
            return Body(value, long_ints=long_ints)
        except UnicodeDecodeError:
            pass
    text, replaced = _decode(content, encoding)
    text, lone = _replace_lone_surrogates(text)
    replaced += lone
    if deep is None:
        deep = deeper_than(text, MAX_DEPTH)
    flattened = 0
    if deep:
        text, flattened = flatten_deep(text, MAX_DEPTH)
    try:
        value, long_ints = _json(text)
    except RecursionError:
        # flatten_deep leaves containers that never close: a body cut off deep inside one.
        raise ValueError("the body is not complete JSON: it ends inside nested values") from None
    return Body(value, replaced, flattened, long_ints)


def _decode(content: bytes, encoding: str) -> tuple[str, int]:
    """``content`` as text in ``encoding`` (one of :func:`json.detect_encoding`'s, a BOM
    dropped), every undecodable sequence and raw lone surrogate one U+FFFD; the text and how
    many were replaced (escapes are left as they are).

    Examples
    --------
    >>> _decode(b'"a\\xed\\xa0\\x80 \\xed\\xa0\\xbd\\xed\\xb8\\x80 \\xff"', "utf-8")
    ('"a\ufffd \U0001f600 \ufffd"', 2)
    >>> _decode(b'"\\x00a\\x00\\x00\\xd8"\\x00', "utf-16-le")  # a lone unit 0xD800
    ('"a\ufffd"', 1)
    """
    encoded = 0
    if encoding.startswith("utf-8") and b"\xed" in content:
        content, encoded = _repair_encoded_surrogates(content)
    # The UTF-16 and UTF-32 codecs replace a lone surrogate unit themselves.
    text = content.decode(encoding, errors="replace")
    if REPLACEMENT not in text:
        return text, encoded
    # Each replaced sequence is one character more than the same text without it.
    return text, encoded + len(text) - len(content.decode(encoding, errors="ignore"))


def _repair_encoded_surrogates(content: bytes) -> tuple[bytes, int]:
    """UTF-8 bytes with each surrogate pair in three-byte forms made the UTF-8 of its character
    and every other encoded surrogate U+FFFD's; the bytes and how many were replaced."""
    replaced = 0

    def repl(match: re.Match[bytes]) -> bytes:
        nonlocal replaced
        units = match.group().decode("utf-8", "surrogatepass").encode("utf-16-le", "surrogatepass")
        text = units.decode("utf-16-le", errors="replace")  # a pair is read, a lone unit replaced
        replaced += text.count(REPLACEMENT)
        return text.encode()

    return _ENCODED_SURROGATES_RE.sub(repl, content), replaced


# The bytes that shape JSON (brackets and quotes), braces read as brackets: what deeper_than
# keeps of a body, in one C-speed pass.
_AS_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_SHAPE = bytes(sorted(set(range(256)) - set(b'"[]{}')))


def deeper_than(content: bytes | str, depth: int) -> bool:
    """Whether JSON text may nest containers deeper than ``depth`` levels.

    Exact for valid JSON, brackets inside strings included; True for text that is not
    (then :func:`flatten_deep`, which tokenizes, decides). Runs at C speed (a few passes of
    ``bytes`` methods, no Python loop per value), but each pass reads the whole text: on a
    page of records it costs about a fifth of :func:`json.loads` of the page, and where its
    strings hold escaped quotes or backslashes (two more passes take those out) nearly as
    much as :func:`json.loads`. So the typed page path, which needs not, does not run it over
    a whole page.

    Examples
    --------
    >>> deeper_than(b'{"a": [[1]], "b": "[[[["}', 2)  # the object is a level too
    True
    >>> deeper_than(b'{"a": [1], "topic": "[Team] {standup}"}', 2)
    False
    >>> deeper_than(b'{"a": [[1]], "b": "x"}', 3)
    False
    """
    data = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
    shape = data.translate(_AS_BRACKETS, _NOT_SHAPE)
    if shape.count(b"[") <= depth:
        return False
    # Escapes live in strings only: escaped backslashes, then escaped quotes, removed left to
    # right as the decoder reads them, leave every quote a string's bound.
    if b"\\" in data and (b"\\\\" in data or b'\\"' in data):
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
        shape = data.translate(_AS_BRACKETS, _NOT_SHAPE)
    # Each string is now a pair of adjacent quotes, unless it holds a bracket. (Dropping the
    # closing quote of one string with the opening one of the next merges two strings with
    # no bracket between them: each bracket stays inside or outside strings as it was.)
    shape = shape.replace(b'""', b"")
    if b'"' in shape:
        # A bracket in a string (a topic "[Team] standup"): quotes still alternate, opening
        # and closing, so the pieces between them are by turns outside and inside a string.
        pieces = shape.split(b'"')
        if len(pieces) % 2 == 0:
            return True  # an odd number of quotes, not valid JSON: the tokenizer decides
        shape = b"".join(pieces[::2])
    for _ in range(depth):
        if not shape:
            return False
        shape = shape.replace(b"[]", b"")  # one level off every innermost container
    return bool(shape)


def _replace_lone_surrogates(text: str) -> tuple[str, int]:
    count = 0

    def repl(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(1) or match.group(2):
            return match.group(0)
        count += 1
        return "\\ufffd"

    return _SURROGATE_RE.sub(repl, text), count


def flatten_deep(text: str, max_depth: int) -> tuple[str, int]:
    """Replace every container opened below ``max_depth`` levels with a JSON string of its text.

    The scan does not recurse, so any depth is handled. Returns the new text and how many
    values were replaced. Text that is not JSON is left for the decoder to reject.

    Examples
    --------
    >>> flatten_deep('{"a": [[1]], "b": 2}', 2)
    ('{"a": ["[1]"], "b": 2}', 1)
    """
    parts: list[str] = []
    depth = 0
    start = -1  # where the container being replaced opened
    done = 0  # text before this index is already in parts
    count = 0
    for match in _TOKEN_RE.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth == max_depth + 1:
                start = match.start()
        elif token in "]}":
            if depth == max_depth + 1 and start >= 0:
                deep = text[start : match.end()]
                if len(deep) > TEXT_LIMIT:
                    deep = deep[:TEXT_LIMIT] + "…"
                parts.append(text[done:start])
                parts.append(json.dumps(deep))
                done = match.end()
                start = -1
                count += 1
            depth -= 1
    parts.append(text[done:])
    return "".join(parts), count


def _json(text: str | bytes) -> tuple[Any, int]:
    """``json.loads``, keeping an integer too long for ``int()`` as its digits; the value and
    how many integers were kept so.

    Examples
    --------
    >>> value, kept = _json(b'{"n": ' + b"9" * 5000 + b"}")
    >>> value["n"][:5], kept
    ('99999', 1)
    """
    try:
        return json.loads(text), 0
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise
    except ValueError:
        pass
    # Valid JSON holding an integer of more digits than the interpreter converts; the limit is
    # not raised for the process (it guards every int() against such text).
    kept = 0

    def int_or_digits(digits: str) -> int | str:
        nonlocal kept
        try:
            return int(digits)
        except ValueError:
            kept += 1
            return digits

    return json.loads(text, parse_int=int_or_digits), kept
