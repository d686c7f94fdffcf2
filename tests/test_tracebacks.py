"""A traceback entry without a line number (a Ctrl-C on a loop's jump back, Python 3.11) must not break the
report of an interrupted run."""

import dis
import sys
import types

import pytest

from conformance.run.tracebacks import drop_lineless_frames


def _looping():
    frame = sys._getframe()
    for i in range(3):
        if not i % 2:
            pass
    return frame


def _interrupted_in_loop() -> KeyboardInterrupt:
    """A KeyboardInterrupt whose innermost traceback entry sits on an instruction that has no line."""
    lineless = [i.offset for i in dis.get_instructions(_looping) if i.positions.lineno is None]
    if not lineless:
        pytest.skip("this Python gives every instruction of the loop a line number")
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as exc:
        interrupted = exc
    inner = types.TracebackType(None, _looping(), lineless[0], -1)
    assert inner.tb_lineno is None
    interrupted.__traceback__.tb_next = inner
    return interrupted


def _entries(exc: BaseException) -> list:
    tb, entries = exc.__traceback__, []
    while tb is not None:
        entries.append((tb.tb_frame.f_code.co_name, tb.tb_lineno))
        tb = tb.tb_next
    return entries


def test_lineless_entry_is_dropped_and_the_rest_kept():
    exc = _interrupted_in_loop()
    assert _entries(exc)[-1] == ("_looping", None)
    drop_lineless_frames(exc)
    assert _entries(exc) == [("_interrupted_in_loop", _entries(exc)[0][1])]
    assert _entries(exc)[0][1] is not None


def test_pytest_formats_the_repaired_interrupt():
    exc = _interrupted_in_loop()
    context = ValueError("while handling")
    context.__traceback__ = _interrupted_in_loop().__traceback__
    exc.__context__ = context
    drop_lineless_frames(exc)
    text = str(pytest.ExceptionInfo.from_exception(exc).getrepr(funcargs=True))
    assert "KeyboardInterrupt" in text and "while handling" in text
    assert all(line is not None for line in [n for _, n in _entries(exc) + _entries(context)])


def test_plugin_repairs_the_interrupt_before_the_terminal_reports_it(pytester):
    pytester.makepyfile(test_loop="""
        import signal

        def test_spins():
            # SIGALRM raises KeyboardInterrupt as Ctrl-C does, while the loop below runs: its jump back has no
            # line number on Python 3.11.
            signal.signal(signal.SIGALRM, signal.default_int_handler)
            signal.setitimer(signal.ITIMER_REAL, 0.05)
            for i in range(10 ** 12):
                if not i % 1000:
                    pass
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=60)
    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str()
