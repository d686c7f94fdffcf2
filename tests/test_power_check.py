"""python -m conformance power --check: a page that is not current is shown by its difference (CI keeps only the
log), and a current page passes."""

from __future__ import annotations

import argparse

from conformance.commands import power
from conformance.reference.catalogue import Fault

FAULT = Fault(id="FLT-SEL-001", area="SEL", description="a fault", seen="plausible", reasoning="why")


def _args(tmp_path, check) -> argparse.Namespace:
    return argparse.Namespace(check=str(check), output=str(tmp_path / "out.md"), jobs=1, fuzz_examples=5,
                              fault=None, full=False, work_dir=str(tmp_path / "work"), resume=False)


def _measured(monkeypatch, caught) -> dict:
    data = {"faults": {FAULT.id: {"ran": 3, "caught": caught, "errors": []}}, "cases": {"enforced": 3},
            "seconds": 1, "fuzz": 5, "full": False}
    monkeypatch.setattr(power, "load_catalogue", lambda: {FAULT.id: FAULT})
    monkeypatch.setattr(power, "measure", lambda *a, **k: data)
    return data


def test_a_page_that_is_not_current_is_shown_by_its_difference(tmp_path, monkeypatch, capsys):
    data = _measured(monkeypatch, [["PRE-SEL-001", "MUST", "MUST"]])
    page = tmp_path / "power.md"
    page.write_text(power.render({FAULT.id: FAULT}, data).replace("PRE-SEL-001 (MUST)", "PRE-SEL-002 (MUST)"))
    assert power.run(_args(tmp_path, page)) == 1
    err = capsys.readouterr().err
    assert "is not current" in err
    assert any(line.startswith("-") and "PRE-SEL-002 (MUST)" in line for line in err.splitlines())
    assert any(line.startswith("+") and "PRE-SEL-001 (MUST)" in line for line in err.splitlines())


def test_a_current_page_passes(tmp_path, monkeypatch, capsys):
    data = _measured(monkeypatch, [["PRE-SEL-001", "MUST", "MUST"]])
    page = tmp_path / "power.md"
    page.write_text(power.render({FAULT.id: FAULT}, data))
    assert power.run(_args(tmp_path, page)) == 0
    assert "not current" not in capsys.readouterr().err
