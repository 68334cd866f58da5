"""Running the async loaders from synchronous code, including inside a running event loop."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import re
import sys
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from typing import Any, ParamSpec, TypeVar

from recanalytics.engine import release_transports
from recanalytics.errors import UnknownOptionError

P = ParamSpec("P")
T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion and return its result.

    In a plain script this is ``asyncio.run``. Inside an already running loop (a Jupyter cell,
    an async test) nest-asyncio2 is applied on first use, and only then, so importing
    recanalytics never changes asyncio's behaviour. Applied, it patches asyncio for the whole
    process (as every Jupyter kernel whose ipykernel uses it already has), with loops that
    its ``asyncio.run`` makes closed after each call. A call interrupted there (Ctrl-C, an
    error) cancels the load and waits for it to stop, so no request goes on in the background.
    Inside a loop nest-asyncio2 cannot patch (uvloop's), ``coro`` runs in a worker thread with
    an event loop of its own, and the call waits for it, as a sync call does.

    Examples
    --------
    >>> async def answer() -> int:
    ...     return 42
    >>> run_sync(answer())
    42
    """
    try:
        return run_awaited(lambda: coro)
    finally:
        if inspect.iscoroutine(coro) and inspect.getcoroutinestate(coro) == "CORO_CREATED":
            coro.close()  # never run (the call failed first): not "never awaited" as well


def run_awaited(make: Callable[[], Awaitable[T]]) -> T:
    """:func:`run_sync` of the awaitable ``make()`` returns, made only where it is awaited
    (one made and never awaited warns "coroutine ... was never awaited")."""
    loop = _running_loop()
    if loop is None:
        # Not asyncio.run: once nest-asyncio2 is applied it replaces asyncio.run with a version
        # that leaves a new loop open after every call (ResourceWarning: unclosed event loop).
        with asyncio.Runner() as runner:
            return runner.run(_released(make))
    if not isinstance(loop, asyncio.BaseEventLoop):
        # nest-asyncio2 patches asyncio's own loops only: it refused uvloop's with a bare
        # ValueError, after patching asyncio itself.
        return _in_a_thread(make)
    if not hasattr(loop, "_nest_patched"):
        _apply_nest_asyncio(loop)
    _close_nested_runs()  # also where another (a kernel) applied nest-asyncio2 first
    task = loop.create_task(_awaiting(make))
    try:
        return loop.run_until_complete(task)
    except BaseException:
        # A KeyboardInterrupt raised in one of the load's tasks leaves run_until_complete while
        # the others run on in the outer loop (requests spending the account's rate): cancel
        # the load, and let it finish cancelling, before the interrupt goes on.
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(task)
        raise


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop, or None. Asked outside any ``except`` block by the callers: a
    load run inside ``except RuntimeError`` gave every error it raised the context "no
    running event loop" (``During handling of the above exception...`` in each traceback)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def _awaiting(make: Callable[[], Awaitable[T]]) -> T:
    return await make()


async def _released(make: Callable[[], Awaitable[T]]) -> T:
    """``make()`` awaited, then the connections its loop opened closed. In the same task: run
    after it in the runner, an interrupted load's task, cancelled as the runner closed, stopped
    the loop under them ("Event loop stopped before Future completed", for a Ctrl-C)."""
    try:
        return await make()
    finally:
        await release_transports()


def _apply_nest_asyncio(loop: asyncio.AbstractEventLoop) -> None:
    import nest_asyncio2

    # Without run_close_loop, its asyncio.run leaves every loop it makes open (a later
    # asyncio.run in the process: "ResourceWarning: unclosed event loop").
    nest_asyncio2.apply(loop, run_close_loop=True)


def _close_nested_runs() -> None:
    """Make nest-asyncio2's ``asyncio.run`` close the loops it makes, whoever applied it.

    ``run_close_loop`` does not hold everywhere: before 3.12 its ``asyncio.run`` ignores it
    (it runs on ``get_event_loop()``, which makes a loop in each new thread and never closes
    it), and from 3.12 the first ``apply`` decides for the process, so after a kernel (or
    another library) applied it without the option, ours asked in vain. Either way one loop
    per thread that called ``asyncio.run`` after the first nested call was left open, with its
    selector's descriptors. Wrapped once asyncio is patched, by this package or before it.
    """
    patched = getattr(asyncio, "_nest_patched", False)
    if patched and not getattr(asyncio.run, "_closes_its_loop", False):
        asyncio.run = _closing_run(asyncio.run)


def _closing_run(nested: Callable[..., Any]) -> Callable[..., Any]:
    """``asyncio.run`` that, outside a running loop, runs ``main`` in a loop of its own and
    closes it, as unpatched asyncio does; inside one, it is nest-asyncio2's (``nested``)."""

    @functools.wraps(nested)
    def run(
        main: Coroutine[Any, Any, T],
        *,
        debug: bool | None = None,
        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
    ) -> T:
        if _running_loop() is None:
            with asyncio.Runner(debug=debug, loop_factory=loop_factory) as runner:
                return runner.run(main)
        # loop_factory is asyncio.run's from 3.12 (nest-asyncio2's there takes it too)
        extra = {} if loop_factory is None else {"loop_factory": loop_factory}
        return nested(main, debug=bool(debug), **extra)  # type: ignore[no-any-return]

    run._closes_its_loop = True  # type: ignore[attr-defined]
    return run


def _in_a_thread(make: Callable[[], Awaitable[T]]) -> T:
    """Run ``make()`` to completion in a worker thread's own event loop, blocking this one.

    Interrupted here (Ctrl-C), the load is cancelled in its loop, and waited for.
    """
    state: dict[str, Any] = {}
    started = threading.Event()

    async def main() -> T:
        state["loop"], state["task"] = asyncio.get_running_loop(), asyncio.current_task()
        started.set()
        return await make()

    def work() -> None:
        try:
            with asyncio.Runner() as runner:
                try:
                    state["result"] = runner.run(main())
                finally:
                    runner.run(release_transports())
        except BaseException as exc:  # raised in the caller's thread
            state["error"] = exc

    worker = threading.Thread(target=work, name="recanalytics-sync", daemon=True)
    worker.start()
    try:
        worker.join()
    except BaseException:
        while worker.is_alive() and not started.wait(0.05):
            pass
        if "task" in state:
            state["loop"].call_soon_threadsafe(state["task"].cancel)
        worker.join()
        raise
    if "error" in state:
        error = state.pop("error")
        raise error
    return state["result"]  # type: ignore[no-any-return]


def syncify(func: Callable[P, Awaitable[T]], name: str) -> Callable[P, T]:
    """The synchronous twin of an ``a``-prefixed async loader: same signature and docs."""

    parameters = inspect.signature(func).parameters.values()
    # Where the function takes no **options, a keyword it does not know is a typo: named as
    # the loaders name one (UnknownOptionError, a ValueError and a TypeError), not Python's
    # bare TypeError.
    named = {p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    open_ended = any(p.kind is p.VAR_KEYWORD for p in parameters)

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        unknown = [] if open_ended else sorted(set(kwargs) - named)
        if unknown:
            raise UnknownOptionError(
                ", ".join(unknown),
                "a keyword among " + ", ".join(sorted(named)),
                hint=f"unexpected keyword argument(s) {unknown}",
            )

        return run_awaited(lambda: func(*args, **kwargs))

    wrapper.__name__ = wrapper.__qualname__ = name
    if func.__doc__:
        # The async examples read `asyncio.run(ra.aname(...))`; the twin's read `ra.name(...)`.
        doc = re.sub(
            rf"asyncio\.run\(ra\.{func.__name__}\((.*)\)\)$",
            rf"ra.{name}(\1)",
            func.__doc__,
            flags=re.M,
        )
        wrapper.__doc__ = re.sub(r"^[ \t]*>>> import asyncio\n", "", doc, flags=re.M)
    return placed(wrapper)


W = TypeVar("W", bound=Callable[..., Any])


def placed(wrapper: W) -> W:
    """``wrapper`` with the module of the code that called its maker (``syncify``'s caller,
    which binds it to a name there), as ``collections.namedtuple`` finds its module.

    Pickle finds a function by its module and name; ``functools.wraps`` left the wrapped
    function's module (a provider module, whose ``load_*`` is the store-free loader), so a
    process pool refused ``ex.submit(ra.load_twilio_recordings, ...)``: "not the same object".
    """
    wrapper.__module__ = sys._getframe(2).f_globals.get("__name__", wrapper.__module__)
    return wrapper


async def all_or_none(jobs: Iterable[Awaitable[T]]) -> list[T]:
    """Every job's result, the jobs run concurrently; the first to raise stops the others.

    ``asyncio.gather`` raises the first exception and leaves the other jobs running: a
    provider's bug (any exception but a provider's error) ended ``aload`` while the other
    providers went on loading in the background (and a download's, the other downloads).
    Here they are cancelled and have stopped before the exception goes on, as when this is
    cancelled itself.
    """
    tasks = [asyncio.ensure_future(job) for job in jobs]
    if not tasks:
        return []  # asyncio.wait refuses an empty set (every provider skipped)
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    except BaseException:
        await _stop(tasks)
        raise
    for task in tasks:
        error = task.exception() if task.done() and not task.cancelled() else None
        if error is not None:
            await _stop(tasks)
            raise error
    return [task.result() for task in tasks]


async def _stop(tasks: Sequence[asyncio.Future[Any]]) -> None:
    """Cancel ``tasks`` and wait until they have stopped (their exceptions retrieved)."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
