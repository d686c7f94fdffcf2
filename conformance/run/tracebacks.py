"""Tracebacks that pytest can format: Python 3.11 can give a frame no line number, which pytest cannot print."""

from __future__ import annotations


def drop_lineless_frames(exc: BaseException) -> None:
    """Unlink the traceback entries of exc (and of its causes and contexts) that have no line number.

    A Ctrl-C that lands on a jump back at the end of a loop body can leave an entry whose tb_lineno is None
    (seen on CPython 3.11); pytest's report of the interrupt then fails with a TypeError and
    the run ends with exit code 1 instead of 2 ("interrupted"). The frame's caller stays in the traceback."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        exc = todo.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        tb = exc.__traceback__
        while tb is not None and tb.tb_lineno is None and tb.tb_next is not None:
            tb = tb.tb_next  # a lineless first entry: start the traceback after it
        if tb is not exc.__traceback__:
            exc.__traceback__ = tb
        while tb is not None and tb.tb_next is not None:
            if tb.tb_next.tb_lineno is None:
                tb.tb_next = tb.tb_next.tb_next
            else:
                tb = tb.tb_next
        todo += [exc.__cause__, exc.__context__]
