"""Progress bars (tqdm.auto) that show counts only: pages, records, retries; never a URL."""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO


def in_notebook() -> bool:
    """Whether code runs inside a Jupyter kernel (where progress defaults to on)."""
    # A kernel has imported IPython already; importing it here (~0.1-0.3 s) would delay the
    # first request of every load in a plain script.
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def tqdm_disabled() -> bool:
    """Whether ``TQDM_DISABLE`` turns every tqdm bar off: set to any non-empty text, as tqdm
    reads it (even ``0``).

    tqdm's console bars obey it by themselves, but its notebook bars pass ``disable=False``
    to tqdm explicitly, which overrides the variable: ours showed where the user's did not.

    Examples
    --------
    >>> import os
    >>> tqdm_disabled() == bool(os.environ.get("TQDM_DISABLE"))
    True
    """
    return bool(os.environ.get("TQDM_DISABLE"))


def resolve_progress(progress: bool | None) -> bool:
    """None means: on in a notebook, off elsewhere."""
    return in_notebook() if progress is None else bool(progress)


def stderr_is_terminal() -> bool:
    """Whether standard error is a terminal (where the command line shows bars by default): a
    log file or a pipe would collect every redraw's carriage return and escape codes.

    Examples
    --------
    >>> import contextlib, io
    >>> with contextlib.redirect_stderr(io.StringIO()):
    ...     stderr_is_terminal()
    False
    """
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (OSError, ValueError):  # ValueError: a closed file
        return False


class QuietOnFailure:
    """A stream for a bar that stops writing, silently, once a write fails.

    A progress bar must never fail a load: standard error may be closed (``2>&-``), a full
    disk (``2>/dev/full``) or a pipe whose reader went away.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.failed = False

    def write(self, text: str) -> int:
        if not self.failed:
            try:
                return self._stream.write(text)
            except (OSError, ValueError):  # ValueError: a closed file
                self.failed = True
        return len(text)

    def flush(self) -> None:
        if not self.failed:
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self.failed = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class Progress:
    """A records bar with pages and retries in its postfix; a no-op when disabled.

    ``label`` names what is loaded (``"twilio tracks"``, ``"plivo"``); the total is unknown
    (``?``) until a provider reports one through :meth:`expect`, or given as ``total``.
    ``unit`` names what is counted; ``paged=False`` leaves the pages and retries out (a bar
    of media files).

    Without a standard error to write to (``pythonw``, a daemon, ``2>&-``) there is no bar; one
    whose writes fail (a full disk, a closed pipe) goes quiet. Nor is there one where the user
    turned tqdm off: ``TQDM_DISABLE`` set (:func:`tqdm_disabled`), or tqdm's ``__init__``
    given ``disable=True``.

    Examples
    --------
    >>> bar = Progress("twilio", enabled=False)
    >>> bar.update(pages=1, records=50)
    >>> bar.close()
    """

    def __init__(
        self,
        label: str,
        *,
        enabled: bool,
        unit: str = " rec",
        total: int | None = None,
        paged: bool = True,
    ) -> None:
        self._bar: Any = None
        self._shown: Any = None  # the notebook output the widget bar is in
        self._postfix: dict[str, int] | None = {"pages": 0, "retries": 0} if paged else None
        if enabled and not tqdm_disabled():
            from tqdm.auto import tqdm

            if any(kind.__module__ == "tqdm.notebook" for kind in tqdm.__mro__):
                from IPython.display import display

                # Shown through a handle, so that closing it can leave a line of text where
                # the widget was: a saved notebook reopened without its kernel showed
                # "Error displaying widget: model not found" for every finished bar.
                bar = tqdm(desc=label, unit=unit, total=total, leave=True, display=False)
                container = getattr(bar, "container", None)
                if bar.disable or container is None:
                    # Bars silenced the common way (tqdm.__init__ = partialmethod(...,
                    # disable=True)) have no widget: every load raised AttributeError here.
                    bar.close()
                else:
                    self._bar = bar
                    self._shown = display(container, display_id=True)  # type: ignore[no-untyped-call]
            elif sys.stderr is not None:
                stream = QuietOnFailure(sys.stderr)
                self._bar = tqdm(
                    desc=label,
                    unit=unit,
                    total=total,
                    leave=True,
                    dynamic_ncols=True,
                    file=stream,
                )

    def expect(self, records: int | None) -> None:
        """Add ``records`` to the bar's total (a provider said how many a query will return)."""
        if self._bar is None or records is None:
            return
        self._bar.total = (self._bar.total or 0) + records
        self._bar.refresh()

    def update(
        self, *, pages: int | None = None, records: int = 0, retries: int | None = None
    ) -> None:
        if self._bar is None:
            return
        if self._postfix is not None:
            if pages is not None:
                self._postfix["pages"] = pages
            if retries is not None:
                self._postfix["retries"] = retries
            self._bar.set_postfix(self._postfix, refresh=False)
        self._bar.update(records)

    def settle(self, count: int) -> None:
        """End on ``count``, what the load returned (it counted what arrived, some of it twice
        or trimmed); a total the provider reported becomes that count too."""
        if self._bar is None:
            return
        self._bar.n = count
        if self._bar.total is not None:
            self._bar.total = count
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is None:
            return
        bar, self._bar = self._bar, None
        bar.close()
        if self._shown is not None:
            text = bar.format_meter(**(bar.format_dict | {"ncols": 0}))
            self._shown.update({"text/plain": text}, raw=True)
            bar.container.close()
            self._shown = None
