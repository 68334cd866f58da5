"""The ``recanalytics`` command: a thin layer over the library.

Every subcommand has ``--help``; see ``recanalytics --help`` for the list.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import shutil
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import polars as pl

from recanalytics import __version__, validate
from recanalytics.errors import (
    ArchiveWarning,
    ConfigError,
    CredentialsError,
    LoadWarning,
    RecanalyticsError,
    reason,
)
from recanalytics.helpers._common import counted, values_checked
from recanalytics.helpers.shown import readable
from recanalytics.helpers.summary import known_counts, noted, provider_table, summary_ready
from recanalytics.localfile import read_file
from recanalytics.providers.registry import (
    ARCHIVABLE,
    credentials_class,
    loaders_of,
)
from recanalytics.redact import visible
from recanalytics.schema import PROVIDERS


def provider_summary(df: pl.DataFrame) -> pl.DataFrame:
    """Recordings, hours and size (listed, and held: not deleted) per provider, plus a total
    row (the report's summary table), as text: unknown reads ``n/a``, and a total that leaves
    out recordings of unknown duration or size says how many (``(3 without size)``)."""
    lazy = summary_ready(df)
    with values_checked():  # odd values said once, not again for the counts
        table, counts = provider_table(lazy), known_counts(lazy)
    shown = table.select(table.columns[:5])  # provider, recordings, hours, size, held
    # Written as the report writes them: a float cast to text read "2.78e-7" hours.
    text = shown.with_columns(
        (
            pl.col(c).map_elements(
                functools.partial(readable, decimals=1 if c == "hours" else 2),
                return_dtype=pl.String,
            )
            if dtype.is_float()
            else pl.col(c).cast(pl.String)
        ).fill_null("n/a")
        for c, dtype in shown.schema.items()
    )
    return noted(text, counts)


def archived_totals(part: str, totals: Mapping[str, Any]) -> str:
    """One archived list's recordings, hours and size as the archive command says them.

    Unknown hours or bytes (none known, or a byte total past Int64) read ``n/a``, as in the
    summary table, never 0 or a wrapped negative size; a small size is never ``0.00``.

    Examples
    --------
    >>> archived_totals("tracks", {"recordings": 2, "hours": None, "bytes": 3 * 2**29})
    'tracks: 2 recordings, n/a h, 1.50 GiB'
    >>> archived_totals("tracks", {"recordings": 1, "hours": 0.001, "bytes": 24_250})
    'tracks: 1 recording, 0.001 h, 0.0000226 GiB'
    """
    hours = "n/a" if totals["hours"] is None else f"{totals['hours']}"
    size = "n/a" if totals["bytes"] is None else readable(totals["bytes"] / 2**30, 2)
    return f"{part}: {counted(totals['recordings'])}, {hours} h, {size} GiB"


def shown_time(iso: str) -> str:
    """A time of an archive's manifest as the archive command says it: the date alone at
    midnight UTC (a period given as dates), else to the second, in UTC.

    Examples
    --------
    >>> shown_time("2025-06-01T00:00:00+00:00"), shown_time("2026-12-02T09:30:05+00:00")
    ('2025-06-01', '2026-12-02 09:30:05 UTC')
    """
    text = str(iso)
    date, _, time = text.partition("T")
    if time in ("00:00:00+00:00", "00:00:00"):
        return date
    return f"{date} {time.removesuffix('+00:00')} UTC" if time.endswith("+00:00") else text


def print_table(frame: pl.DataFrame) -> None:
    # A size no provider states reads "n/a", as in the report, rather than polars' "null".
    shown = frame.with_columns(
        pl.col(c).cast(pl.String).fill_null("n/a")
        for c, dtype in frame.schema.items()
        if dtype.is_numeric() and frame[c].null_count()
    )
    # polars wraps a table at 100 characters: "1,279.4 (62 without duration)" broke over two
    # lines in a terminal that had room for it.
    tty = getattr(sys.stdout, "isatty", lambda: False)()
    width = max(100, shutil.get_terminal_size().columns) if tty else 160  # a pipe has no edge
    # From polars' defaults, not the user's POLARS_FMT_* settings (two columns, no header).
    with pl.Config(
        restore_defaults=True,
        tbl_cols=-1,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        tbl_rows=50,
        tbl_width_chars=width,
        fmt_str_lengths=80,  # polars cuts text at 30: "12,345.6 (1,234 without dur…"
    ):
        text = str(shown)
        try:
            text.encode(getattr(sys.stdout, "encoding", None) or "ascii")
        except (UnicodeEncodeError, LookupError):
            # A terminal or pipe in another encoding (LC_ALL=C, PYTHONIOENCODING=latin-1)
            # cannot show the box-drawing borders.
            with pl.Config(tbl_formatting="ASCII_FULL_CONDENSED"):
                text = str(shown)
        print(text)


class ClosedPipeSafe:
    """Standard output whose reader may go away (``recanalytics load ... | head -1``) or that
    cannot be written (``> /dev/full``): from the first write that fails on, output goes to
    ``os.devnull``. A closed pipe is silent; any other failure is kept in ``error``, for
    :func:`main` to say in one line on standard error.

    Every command writes its files before it prints, so what is lost is only what was to be
    said about them; the command's exit status is unchanged.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.closed_pipe = False
        self.error: OSError | None = None

    def _gone(self) -> None:
        self.closed_pipe = True
        # Python's documented pattern: the interpreter flushes standard output at exit, which
        # would raise again on the closed pipe.
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)

    def write(self, text: str) -> int:
        if not self.closed_pipe:
            try:
                return self.stream.write(text)
            except OSError as exc:
                self._failed(exc)
        return len(text)

    def flush(self) -> None:
        if not self.closed_pipe:
            try:
                self.stream.flush()
            except OSError as exc:
                self._failed(exc)

    def _failed(self, exc: OSError) -> None:
        if not isinstance(exc, BrokenPipeError):
            self.error = exc
        self._gone()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def output_file(value: str, *, parquet: bool = False) -> Path:
    """``--out``: a file path that can be written, checked before any loading.

    A file is replaced whole through a temporary file beside it (what was there stays if the
    write fails), so its folder must take one; a path that is no file (``/dev/null``) is
    written in place. ``parquet``: the suffix must be ``.parquet``, or none.
    """
    out = validate.file_path(value, "out").resolve()
    if parquet and out.suffix.lower() not in ("", ".parquet"):
        # Parquet bytes in a file named .csv or .json open as garbage in whatever reads those.
        raise ConfigError("out", "a .parquet file path (or one without a suffix)", value)
    try:
        if out.exists() and not out.is_file():
            validate.writable_file(out, "out")
        else:
            validate.made_folder(out.parent, "out")
    except ConfigError as exc:
        # The folder was named, not the file: with the default --out in a read-only working
        # folder, the message did not say which option or file it was about.
        cause = exc.__cause__
        why = reason(cause) if isinstance(cause, OSError) else exc.expected
        raise ConfigError(
            "out",
            "a file path in a folder this process can make and write",
            value,
            hint=f"{out.parent}: {why}",
        ) from exc
    return out


def write_file(args: argparse.Namespace, path: Path, write: Callable[[Path], object]) -> Path:
    """Write ``path`` through ``write`` all or nothing (a temporary file beside it, user-only,
    renamed), and note it in ``args.written`` for :func:`main` to name if printing fails."""
    from recanalytics.store import private_write

    private_write(path, write)
    args.written = [*getattr(args, "written", []), path]
    return path


def partial_path(out: Path) -> Path:
    """Where ``load`` writes the rows of a load that was not whole: ``x.partial.parquet``
    beside ``x.parquet``, which is left as it was."""
    return out.with_name(out.name.removesuffix(out.suffix) + ".partial.parquet")


def progress_wanted(args: argparse.Namespace) -> bool:
    """Progress bars when asked (``--progress``), else when standard error is a terminal and
    ``--quiet`` was not given: carriage returns and escape codes in a log file are noise."""
    from recanalytics.progress import stderr_is_terminal

    if getattr(args, "progress", False):
        return True
    return not getattr(args, "quiet", False) and stderr_is_terminal()


def port(text: str) -> int:
    """``--port``: 0 to 65535 (argparse reports the error with the usage line)."""
    try:
        return validate.int_range(int(text), "port", 0, 65535)
    except ValueError as exc:  # ConfigError is a ValueError
        raise argparse.ArgumentTypeError("expected an integer from 0 to 65535") from exc


def seed(text: str) -> int:
    """``--seed``: 0 to 2**63 - 1 on every command, as :func:`recanalytics.demo` takes it."""
    try:
        return validate.int_range(int(text), "seed", 0, 2**63 - 1)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("expected an integer from 0 to 2**63 - 1") from exc


def provider_name(text: str) -> str:
    """``PROVIDER``: one of the provider names."""
    if text not in PROVIDERS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(PROVIDERS)}")
    return text


# The command-line spelling of a library parameter, for errors the library raises.
FLAGS = {
    "src_dir": "--src",
    "out_dir": "--out",
    "out": "--out",
    "path": "--out",  # the report's path: every file a command writes is its --out
    "since": "--since",
    "until": "--until",
    "since/until": "--since/--until",
    "base_url": "--base-url",
    "every": "--every",
    "size": "--size",
    "seed": "--seed",
    "timeout": "--timeout",
    "title": "--title",
    "names": "NOTEBOOK",
    "parquet": "PARQUET",
    "df": "PARQUET",  # report's frame: the only one a command takes from the user
    "providers": "PROVIDER",
    "latency": "--latency",
    "skew": "--skew",
    "error_rate": "--error-rate",
    "drop_rate": "--drop-rate",
    "truncate_rate": "--truncate-rate",
    "error_rate/drop_rate/truncate_rate": "--error-rate/--drop-rate/--truncate-rate",
    "port": "--port",
}


def error_line(exc: RecanalyticsError) -> str:
    """One line for standard error, naming options as they are typed on the command line."""
    if not isinstance(exc, ConfigError) or isinstance(exc, CredentialsError):
        return str(exc)
    flag = FLAGS.get(exc.parameter, exc.parameter)
    value = exc.value
    if isinstance(value, tuple | list):
        value = " ".join(str(v) for v in value)
    got = "" if value is None else f" (got {str(value)[:200]!r})"
    line = f"invalid {flag}{got}: expected {exc.expected}"
    return line + (f". {exc.hint}" if exc.hint else "")


def cmd_demo(args: argparse.Namespace) -> int:
    from recanalytics.demo import demo

    if Path(args.out).suffix.lower() == ".html":
        # The report goes beside the frame, as .html: it would overwrite the frame.
        form = "a parquet file path (the report is written beside it, as .html)"
        raise ConfigError("out", form, args.out)
    out = output_file(args.out, parquet=True)
    report_path = demo_report_path(out, args.out)
    df = demo(size=args.size, seed=args.seed, progress=args.progress)
    # Written before anything is printed: output that cannot be shown (a closed pipe, an
    # encoding without the table's borders) must not cost the files.
    write_file(args, out, df.write_parquet)
    # vl-convert is a core dependency, so the report is written wherever it has a place.
    written = None
    if report_path is not None:
        written = write_report(df, report_path, title="recanalytics demo report")
        args.written.append(written)
    print(f"Sandbox dataset (seed {args.seed}, size {args.size}) loaded through the real loaders:")
    print_table(provider_summary(df))
    print(f"frame written to {out}")
    if written is None:
        print(f"report not written: --out {out} is no file to write it beside")
    else:
        print(f"report written to {written}")
    return 0


def demo_report_path(out: Path, typed: str) -> Path | None:
    """Where ``demo`` writes its report: beside the frame ``out``, as ``.html``, checked as
    ``--out`` is, before anything is loaded (a report that could not be written failed after
    the load, naming no option). None beside a path that is no file (``/dev/null``): the frame
    is written in place and the report nowhere, as ``/dev/null.html`` is a new file in /dev.
    """
    if out.exists() and not out.is_file():
        return None
    path = out.with_suffix(".html")
    try:
        return output_file(str(path))
    except ConfigError as exc:
        raise ConfigError(
            "out",
            "a parquet file path whose report, written beside it as .html, can be written too",
            typed,
            hint=f"{path}: expected {exc.expected}" + (f". {exc.hint}" if exc.hint else ""),
        ) from exc


def write_report(df: pl.DataFrame, path: Path, *, title: str, every: str | None = None) -> Path:
    """Write the offline HTML report; returns where it is."""
    from recanalytics.report import report

    return report(df, path, title=title, every=every)


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (one resolved path, or a link to it)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return False


REPORT_DEMO_SIZE, REPORT_DEMO_SEED = 2000, 7
"""``report``'s demo data without PARQUET, unless ``--size``/``--seed`` say otherwise."""


def cmd_report(args: argparse.Namespace) -> int:
    if args.parquet is not None and (args.size is not None or args.seed is not None):
        # They were ignored: the report was of PARQUET, with exit 0 and not a word.
        print(
            "recanalytics: --size and --seed are for the demo data, without PARQUET",
            file=sys.stderr,
        )
        return 2
    out = output_file(args.out)
    if args.parquet is not None and same_file(Path(args.parquet), out):
        # It replaced the frame it read with the HTML, and exited 0.
        form = "a file other than PARQUET (the report would replace its input)"
        raise ConfigError("out", form, args.out)
    if args.parquet is None:
        from recanalytics.demo import demo

        df = demo(
            size=REPORT_DEMO_SIZE if args.size is None else args.size,
            seed=REPORT_DEMO_SEED if args.seed is None else args.seed,
        )
        title = args.title or "recanalytics demo report"
    else:
        try:
            df = read_file(pl.read_parquet, validate.file_path(args.parquet, "parquet"))
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise ConfigError("parquet", "a readable parquet file", args.parquet) from exc
        title = args.title or f"Recordings report: {Path(args.parquet).name}"
    written = write_report(df, out, title=title, every=args.every)
    args.written = [written]
    print(f"report written to {written}")
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from recanalytics.sandbox import Faults, Sandbox

    faults = Faults(
        error_rate=args.error_rate, drop_rate=args.drop_rate, truncate_rate=args.truncate_rate
    )
    box = Sandbox(
        seed=args.seed,
        size=args.size,
        latency=args.latency,
        rate_limits=args.rate_limits,
        faults=faults,
        skew=args.skew,
    )
    try:
        server = box.serve(args.port)
    except OSError as exc:
        raise ConfigError(
            "port", "a free port on 127.0.0.1, or 0 for any free one", args.port
        ) from exc
    print(f"recanalytics sandbox listening on {server.url}  (Ctrl-C stops it)")
    print("These are the sandbox's own made-up credentials; it accepts nothing else:")
    for name, emulator in box.emulators.items():
        creds = ", ".join(f"{k}={v}" for k, v in emulator.credentials.items())
        print(f"  {name:<11} {creds}")
    print("\nIn Python:")
    first = next(iter(box.emulators))
    print(f"  ra.load([{first!r}], base_url={server.url!r}, credentials={{{first!r}: {{...}}}})")
    print("With curl:")
    for line in curl_examples(box.emulators, server.url):
        print(f"  {line}")
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


def curl_examples(emulators: Mapping[str, Any], url: str) -> list[str]:
    """A curl command per emulator that names a listing to try and whose API takes Basic auth
    (the user and secret fields come from the provider's credentials class)."""
    lines = []
    for name, emulator in emulators.items():
        pairs = credentials_class(name).basic_pairs
        if emulator.example_path and pairs:
            user, secret = (emulator.credentials[field] for field in pairs[0])
            lines.append(f"curl -u {user}:{secret} '{url}{emulator.example_path}'")
    return lines


def cmd_load(args: argparse.Namespace) -> int:
    from recanalytics.incremental import load_with_status
    from recanalytics.schema import newest_first

    out = output_file(args.out, parquet=True)
    result = load_with_status(
        args.providers or None,
        since=args.since,
        until=args.until,
        base_url=args.base_url,
        progress=progress_wanted(args),
        warn=False,  # each provider's outcome is printed below
    )
    existed = out.exists()
    frame = result.frame
    target: Path | None = out
    if not result.ok:
        # A load that is not whole never replaces --out (a complete earlier one, say): what
        # it loaded, the failed providers' rows read before the failure too, goes beside it.
        partials = [s.partial for s in result.status.values() if s.partial is not None]
        frame = newest_first(pl.concat([frame, *partials])) if partials else frame
        # Beside a file only: "/dev/null.partial.parquet" would be a new file in /dev.
        beside = out.is_file() or not out.exists()
        target = partial_path(out) if frame.height and beside else None
    # Written before anything is printed: a summary that cannot be shown (a closed pipe, an
    # encoding without the table's borders) must not cost the load.
    if target is not None:
        write_file(args, target, frame.write_parquet)
    for status in result.status.values():
        detail = f" ({visible(status.error)})" if status.error else ""
        rows = f"{status.rows} rows"
        if status.state == "failed" and status.rows:
            rows = f"after {rows}"
        if status.rows and target is not None and target != out:
            rows += f", in {target.name}"
        sep = " " if status.state == "failed" and status.rows else ", "
        print(f"{status.provider}: {status.state}{sep}{rows}{detail}")
    if frame.height:
        print_table(provider_summary(frame))
    if target == out:
        print(f"frame written to {out}")
    else:
        kept = "left as it was" if existed else "not written"
        if target is not None:
            print(f"incomplete load: {out} {kept}; the {frame.height} rows loaded are in {target}")
        else:
            print(f"{'incomplete load' if frame.height else 'nothing loaded'}: {out} {kept}")
    return 0 if result.ok else 1


def _over_theirs(outside: int) -> str:
    """What to add to the advice for files when ``outside`` of them lie outside the run's
    period (the same command does not ask for those)."""
    return (
        f" ({outside:,} of them outside this run's period: run it over theirs)" if outside else ""
    )


def cmd_archive(args: argparse.Namespace) -> int:
    from recanalytics.archive import DOUBTED, archive

    options: dict[str, object] = {"progress": progress_wanted(args)}
    if args.sandbox and args.base_url is not None:
        print("recanalytics: --sandbox and --base-url cannot be used together", file=sys.stderr)
        return 2
    if not args.sandbox and (args.size is not None or args.seed is not None):
        # They were ignored, and the archive read the real account.
        print("recanalytics: --size and --seed need --sandbox", file=sys.stderr)
        return 2
    if args.sandbox:
        from recanalytics.sandbox import Sandbox

        # With media, the sandbox's metadata describes the small files it serves (and its
        # planted faults), so a verification has something true to find.
        box = Sandbox(
            seed=7 if args.seed is None else args.seed,
            size=500 if args.size is None else args.size,
            providers=[args.provider],
            small_media=args.media,
        )
        options |= box.options(args.provider)
    elif args.base_url is not None:
        # An empty one (an unset "$SANDBOX_URL") is an error, never the real host.
        options["base_url"] = args.base_url
    if args.verify and not args.media:
        print("recanalytics: --verify needs --media", file=sys.stderr)
        return 2
    with warnings.catch_warnings():
        # Said below, with the exit status, in the command's own words.
        warnings.simplefilter("ignore", ArchiveWarning)
        manifest = archive(
            args.provider,
            args.out,
            media=args.media,
            verify=args.verify,
            since=args.since,
            until=args.until,
            **options,
        )
    out = Path(args.out).resolve()
    args.written = [out]
    for loader in loaders_of(args.provider):
        totals = manifest[loader.part]
        # What this run's listing gave, beside what the archive holds from earlier runs: an
        # API that lists nothing (a retired one) must not read like an archive brought up to date.
        said = [f"{totals['listed_now']:,} listed by {args.provider} in this run"]
        if kept := totals["kept_from_earlier_runs"]:
            gone = totals["no_longer_listed"]
            said.append(
                f"{kept:,} kept from earlier runs"
                + (f", {gone:,} of them no longer listed" if gone else "")
                + (f", {kept - gone:,} outside this run's period" if kept > gone else "")
            )
        if filled := totals["kept_earlier_values"]:
            said.append(f"{filled:,} listed without the sizes/durations an earlier run kept")
        print(f"{archived_totals(loader.part, totals)} ({'; '.join(said)})")
    parts = [manifest[loader.part] for loader in loaders_of(args.provider)]
    nothing_listed = not any(p["listed_now"] for p in parts)
    # After its retirement a listing that came back empty, whole or in some query, may be an
    # API that lists nothing any more: the archive is not known to be whole (a new folder got
    # 0 rows, exit 0; a run across the moment lost a tenth of its rows without a word).
    doubted = manifest.get(DOUBTED)
    if isinstance(doubted, dict) and nothing_listed:
        print(
            f"recanalytics: {args.provider} listed no recordings in this run, and "
            f"{doubted.get('reason')}: its API may list nothing any more; the archive holds "
            "only what earlier runs archived",
            file=sys.stderr,
        )
    elif isinstance(doubted, dict):
        queries = doubted.get("queries")
        count = sum(len(q) for q in queries.values()) if isinstance(queries, dict) else 0
        print(
            f"recanalytics: {counted(count, 'query', 'queries')} of {args.provider}'s listing "
            f"came back empty in this run, and {doubted.get('reason')}: its API may list "
            "nothing any more, so the archive may lack their recordings (they are named "
            f"under {DOUBTED} in {out / 'manifest.json'}); no period is recorded as read by "
            "this run",
            file=sys.stderr,
        )
    elif nothing_listed and any(p["no_longer_listed"] for p in parts):
        print(
            f"recanalytics: {args.provider} listed no recordings in this run; the archive holds "
            "only what earlier runs archived",
            file=sys.stderr,
        )
    media = manifest.get("media", {})
    if "media" in manifest:
        # A run without --media keeps the media section of the last run that had it.
        made = media.get("created")
        of = (
            ""
            if args.media
            else f" (as the run of {made} left it)"
            if made
            else " (as an earlier run left it)"
        )
        print(f"media{of}: {media['files']}")
    periods = manifest.get("periods", [])
    covers = (
        "; periods read: " + ", ".join(f"{shown_time(a)} to {shown_time(b)}" for a, b in periods)
        if len(periods) > 1
        else ""
    )
    print(f"archive written to {out} (manifest: {out / 'manifest.json'}){covers}")
    whole = doubted is None
    # What to run to fetch what the media section lacks: rows outside this run's period are
    # not asked for by the same command.
    again = "run the same command again" if args.media else "run the command with --media"
    away = media.get("outside_period", {})
    if failed := media.get("files", {}).get("failed", 0):
        outside = away.get("failed", 0)
        print(
            f"recanalytics: {counted(failed, 'media file')} failed (see {out / 'media.csv'}); "
            f"{again} to fetch them{_over_theirs(outside)}",
            file=sys.stderr,
        )
        whole = False
    if pending := media.get("pending", 0):
        outside = away.get("pending", 0)
        print(
            f"recanalytics: {counted(pending)} {'is' if pending == 1 else 'are'} still being "
            f"processed, so {'its' if pending == 1 else 'their'} media is not in the archive "
            f"yet; {again} once {'it has' if pending == 1 else 'they have'} completed"
            f"{_over_theirs(outside)}",
            file=sys.stderr,
        )
        whole = False
    # Rows whose media no run asked for: the same command does not (outside its period, or
    # without --media); kept as media_unfinished in the manifest until a run fetches it.
    never = away.get("not_asked", 0) + manifest.get("media_not_asked", 0)
    if never:
        print(
            f"recanalytics: {counted(never)} with media to fetch "
            f"{'has' if never == 1 else 'have'} no media file in the archive (no run of the "
            f"archive asked for {'it' if never == 1 else 'them'}, see {out / 'media.csv'}): "
            "run the command with --media over their period (or without --since/--until) "
            "to fetch them",
            file=sys.stderr,
        )
        whole = False
    elif stopped := manifest.get("media_unfinished"):
        print(
            f"recanalytics: the media download of the run of {stopped} was stopped before it "
            f"finished; {again} to finish it",
            file=sys.stderr,
        )
        whole = False
    if lost := media.get("pending_not_listed", 0):
        print(
            f"recanalytics: {counted(lost)} {'was' if lost == 1 else 'were'} still being "
            f"processed when an earlier run archived {'it' if lost == 1 else 'them'} and "
            f"{'is' if lost == 1 else 'are'} no longer listed: "
            f"{'its' if lost == 1 else 'their'} media is not in the archive",
            file=sys.stderr,
        )
        whole = False
    if "verification" in manifest:
        check = manifest["verification"]
        print(f"verification: {check['verdict']}")
        whole = whole and check["ok"] == check["files"]
    return 0 if whole else 1


def cmd_notebooks(args: argparse.Namespace) -> int:
    from recanalytics.notebooks import cell_failure, render_notebooks

    try:
        pages = render_notebooks(args.src, args.out, names=args.names or None, timeout=args.timeout)
    except Exception as exc:
        # A cell that raised: one line (the cell's traceback is the notebook's, not ours).
        failure = cell_failure(exc)
        if failure is None:
            raise
        print(f"recanalytics: {visible(failure)}", file=sys.stderr)
        return 2
    for page in pages:
        print(f"rendered {page.resolve()}")
    print(f"open {(Path(args.out) / 'index.html').resolve()}")
    return 0


def quiet_or_progress(parser: argparse.ArgumentParser) -> None:
    """``--quiet`` and ``--progress``: bars by default only when standard error is a terminal."""
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--quiet", action="store_true", help="no progress bars")
    shown.add_argument(
        "--progress",
        action="store_true",
        help="progress bars even when standard error is not a terminal (default: only on one)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recanalytics",
        description="Recordings from Twilio Video, Plivo, Zoom Video SDK and SignalWire "
        "in one frame.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="load the built-in sandbox dataset (no credentials) and summarise it",
        description="Load the sandbox dataset through the real loaders, print recordings, hours "
        "and GiB per provider, and write the frame to a parquet file.",
    )
    demo.add_argument(
        "--out",
        default="recanalytics-demo.parquet",
        help="parquet file to write; the report goes beside it as .html (default: %(default)s)",
    )
    demo.add_argument(
        "--size",
        type=int,
        default=2000,
        help="Twilio track recordings in the dataset; others scale (default: %(default)s)",
    )
    demo.add_argument("--seed", type=seed, default=7, help="dataset seed (default: %(default)s)")
    demo.add_argument("--progress", action="store_true", help="show progress bars")
    demo.set_defaults(func=cmd_demo)

    box = sub.add_parser(
        "sandbox",
        help="serve the provider emulators over HTTP on 127.0.0.1",
        description="Serve the emulated provider APIs on 127.0.0.1 and print the base URL and "
        "the sandbox credentials, so any client (curl, an official SDK) can talk to it.",
    )
    box.add_argument(
        "--port",
        type=port,
        default=8765,
        help="port on 127.0.0.1, 0 for any free one (default: %(default)s)",
    )
    box.add_argument("--size", type=int, default=2000, help="dataset size (default: %(default)s)")
    box.add_argument("--seed", type=seed, default=7, help="dataset seed (default: %(default)s)")
    box.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    box.add_argument(
        "--rate-limits",
        action="store_true",
        help="enforce each provider's documented rate limit (429 above it)",
    )
    box.add_argument(
        "--error-rate", type=float, default=0.0, help="share of requests answered 429/5xx"
    )
    box.add_argument("--drop-rate", type=float, default=0.0, help="share of connections dropped")
    box.add_argument("--truncate-rate", type=float, default=0.0, help="share of bodies cut short")
    box.add_argument(
        "--skew",
        type=float,
        default=0.6,
        help="how creation times crowd towards the dataset's end; smaller is more crowded "
        "(0.03: about four in five rows in the last month; default: %(default)s)",
    )
    box.set_defaults(func=cmd_sandbox)

    load = sub.add_parser(
        "load",
        help="load real accounts (credentials from environment variables) to parquet",
        description="Load every configured provider (or those named) concurrently into one "
        "unified frame and write it to parquet. Credentials come from environment variables.",
    )
    load.add_argument(
        "providers",
        nargs="*",
        type=provider_name,
        metavar="PROVIDER",
        help=f"any of {', '.join(PROVIDERS)} (default: every configured one)",
    )
    load.add_argument("--since", help="inclusive start, ISO 8601 (naive is UTC)")
    load.add_argument("--until", help="exclusive end, ISO 8601 (naive is UTC)")
    load.add_argument("--base-url", help="another host for every provider (e.g. a served sandbox)")
    load.add_argument(
        "--out", default="recordings.parquet", help="parquet file to write (default: %(default)s)"
    )
    quiet_or_progress(load)
    load.set_defaults(func=cmd_load)

    rep = sub.add_parser(
        "report",
        help="write one self-contained HTML report (summary table and charts) that works offline",
        description="Write the summary table and every chart of a unified frame to one HTML "
        "file with the Vega scripts inlined, so it opens with no internet connection. Without "
        "PARQUET the sandbox demo dataset is used.",
    )
    rep.add_argument(
        "parquet",
        nargs="?",
        metavar="PARQUET",
        help="a unified frame saved as parquet (by `recanalytics load` or `demo`)",
    )
    rep.add_argument(
        "-o",
        "--out",
        default="recanalytics-report.html",
        help="HTML file to write (default: %(default)s)",
    )
    rep.add_argument("--title", help="page title (default: from the input)")
    rep.add_argument(
        "--every", help='period of the time charts: "1d", "1w", "1mo", "1q", "1y" (default: auto)'
    )
    # None when not given, so that given with PARQUET they are refused rather than ignored.
    rep.add_argument(
        "--size",
        type=int,
        help=f"demo dataset size, only without PARQUET (default: {REPORT_DEMO_SIZE})",
    )
    rep.add_argument(
        "--seed",
        type=seed,
        help=f"demo dataset seed, only without PARQUET (default: {REPORT_DEMO_SEED})",
    )
    rep.set_defaults(func=cmd_report)

    why = "; ".join(f"{name} ({plan.reason})" for name, plan in ARCHIVABLE.items())
    archive = sub.add_parser(
        "archive",
        help=f"archive every recording of a provider that retires: {why}",
        description="Write every recording of PROVIDER (each of its listings, e.g. Twilio's "
        "track recordings and compositions) to the folder --out: unified and raw parquet, CSV, a manifest "
        "with counts, totals and checksums, and optionally the media files. Credentials come "
        "from the provider's environment variables.",
    )
    archive.add_argument(
        "provider",
        choices=list(ARCHIVABLE),
        metavar="PROVIDER",
        help=f"one of: {why}",
    )
    archive.add_argument("--out", required=True, help="archive folder")
    archive.add_argument(
        "--media", action="store_true", help="also download the media files (resumable)"
    )
    archive.add_argument(
        "--verify",
        action="store_true",
        help="with --media: decode every file, compare it with its metadata, write "
        "verification.parquet and print a one-line verdict (exit 1 if anything is wrong); "
        "needs pip install 'recanalytics[media]'",
    )
    starts = ", ".join(f"{name} {plan.since.date()}" for name, plan in ARCHIVABLE.items())
    archive.add_argument("--since", help=f"inclusive start (default: {starts})")
    archive.add_argument("--until", help="exclusive end (default now)")
    archive.add_argument("--base-url", help="another API host (e.g. a served sandbox)")
    archive.add_argument(
        "--sandbox",
        action="store_true",
        help="archive the built-in sandbox's data of PROVIDER (no credentials)",
    )
    archive.add_argument("--size", type=int, help="with --sandbox: dataset size (default: 500)")
    archive.add_argument("--seed", type=seed, help="with --sandbox: dataset seed (default: 7)")
    quiet_or_progress(archive)
    archive.set_defaults(func=cmd_archive)

    nbs = sub.add_parser(
        "notebooks",
        help="run the bundled notebooks and render them to HTML pages that work offline",
        description="Execute every notebook in SRC (on the sandbox unless provider credentials "
        "are set) and write each as an HTML page, charts included, that loads nothing from the "
        "network, plus an index.html.",
    )
    nbs.add_argument("--out", required=True, help="folder for the HTML pages")
    nbs.add_argument(
        "--src",
        default="notebooks",
        help="folder with the .ipynb files (default: %(default)s; the notebooks come with the "
        "repository, not with the pip package)",
    )
    nbs.add_argument(
        "names", nargs="*", metavar="NOTEBOOK", help="only these notebooks (default: all)"
    )
    nbs.add_argument(
        "--timeout", type=int, default=600, help="seconds one cell may run (default: %(default)s)"
    )
    nbs.set_defaults(func=cmd_notebooks)
    return parser


def show_warning(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    """A warning of recanalytics as one line on standard error, without the source line
    Python adds."""
    print(f"recanalytics: warning: {visible(str(message))}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``recanalytics`` console script."""
    for stream in (sys.stdout, sys.stderr):
        # A character the terminal's encoding lacks (a non-ASCII path under LC_ALL=C) is
        # shown escaped rather than failing the command after its work is done.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    stdout = sys.stdout
    # No standard output at all (``>&-``): printing goes nowhere, as into a closed pipe.
    safe = ClosedPipeSafe(stdout if stdout is not None else io.StringIO())
    sys.stdout = safe
    try:
        with warnings.catch_warnings():
            # What a load warns about is part of the command's output: shown, one line each.
            # Another package's warnings (a dependency's DeprecationWarning) keep Python's
            # own filters and form: they are not recanalytics' to word.
            warnings.simplefilter("default", LoadWarning)
            shown_otherwise = warnings.showwarning

            def show(
                message: Warning | str,
                category: type[Warning],
                filename: str,
                lineno: int,
                file: TextIO | None = None,
                line: str | None = None,
            ) -> None:
                if issubclass(category, LoadWarning):
                    show_warning(message, category)
                else:
                    shown_otherwise(message, category, filename, lineno, file, line)

            warnings.showwarning = show
            code = int(args.func(args))
        sys.stdout.flush()
        if safe.error is not None:
            # A full disk under ``> summary.txt``: the command's files were written first.
            written = ", ".join(str(p) for p in getattr(args, "written", []))
            print(
                f"recanalytics: standard output could not be written ({reason(safe.error)})"
                + (f"; written: {written}" if written else ""),
                file=sys.stderr,
            )
        return code
    except RecanalyticsError as exc:
        print(f"recanalytics: {visible(error_line(exc))}", file=sys.stderr)
        return 2
    except ImportError as exc:
        # An optional extra that is not installed: the message names what to pip install.
        print(f"recanalytics: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        # A file a command writes itself (a full disk, a read-only folder): it could not do
        # it, said in one line; what the library writes is a StoreError above.
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"recanalytics: {where}{reason(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C: a line, not the traceback of every task it cancelled. Downloads keep their
        # .part files and a store its checkpoint, so the same command goes on from there.
        print(
            "recanalytics: interrupted; run the same command again to go on from where it stopped",
            file=sys.stderr,
        )
        return 130
    finally:
        sys.stdout = stdout


if __name__ == "__main__":
    raise SystemExit(main())
