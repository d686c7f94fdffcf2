"""The fault catalogue (fixtures/faults/*.toml): one realistic bug per entry, loaded strictly."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from conformance.datafile import load_toml, reject_unknown_keys, wrong_type
from conformance.errors import SuiteUsageError
from conformance.paths import fixtures_dir

AREAS = {
    "SEL": "rule selection", "MAT": "origin, method and header matching", "PRE": "preflight headers",
    "ACT": "actual-request headers", "REF": "refusal answers", "CFG": "configuration API",
    "VAL": "validation limits", "EBO": "ExpectedBucketOwner", "URL": "URL shapes and presigned URLs",
    "ERR": "CORS headers on error answers", "PRIV": "privileged origins", "5XX": "server errors",
}
_KEYS = {"id": str, "area": str, "description": str, "seen": str, "link": str, "reasoning": str,
         "expected_bucket_owner": str}
_REQUIRED = ("id", "area", "description", "seen")
_ID = re.compile(r"FLT-([0-9A-Z]+)-\d{3}")


@dataclass(frozen=True)
class Fault:
    """One catalogued bug."""

    id: str
    area: str
    description: str
    seen: str                         # "SERVER VERSION" or "plausible"
    link: str | None = None           # upstream issue or code where it was seen
    reasoning: str | None = None      # why it is plausible (seen = "plausible")
    expected_bucket_owner: str = "enforced"  # the EBO dialect the fault shows in
    file: str = ""


def faults_dir() -> Path:
    """fixtures/faults."""
    return fixtures_dir() / "faults"


def load_catalogue(directory: Path | None = None) -> dict[str, Fault]:
    """Every fault, by ID; any problem is one SuiteUsageError naming the file and the entry."""
    from conformance.reference.behaviour import FAULT_SWITCHES

    directory = directory or faults_dir()
    faults: dict[str, Fault] = {}
    for path in sorted(directory.glob("*.toml")):
        data = load_toml(path)
        reject_unknown_keys(str(path), data, {"fault"}, what="top-level key")
        entries = data.get("fault", [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise SuiteUsageError(f"{path}: faults are [[fault]] tables")
        for n, entry in enumerate(entries, 1):
            where = f"{path}: fault #{n} ({entry.get('id', 'no id')})"
            reject_unknown_keys(where, entry, _KEYS)
            for key, value in entry.items():
                if not isinstance(value, _KEYS[key]) or not value.strip():
                    raise wrong_type(where, key, "a non-empty string", value)
            missing = [k for k in _REQUIRED if k not in entry]
            if missing:
                raise SuiteUsageError(f"{where}: missing {', '.join(missing)}")
            found = _ID.fullmatch(entry["id"])
            if not found or found.group(1) != entry["area"] or entry["area"] not in AREAS:
                raise SuiteUsageError(f"{where}: id must be FLT-AREA-NNN with AREA = its 'area', one of "
                                      f"{', '.join(AREAS)}")
            if entry["seen"] == "plausible" and "reasoning" not in entry:
                raise SuiteUsageError(f"{where}: seen = \"plausible\" needs 'reasoning'")
            if entry["seen"] != "plausible" and "link" not in entry:
                raise SuiteUsageError(f"{where}: a fault seen on a server needs 'link' (its upstream issue or code)")
            if entry.get("expected_bucket_owner", "enforced") not in ("enforced", "ignored"):
                raise SuiteUsageError(f"{where}: 'expected_bucket_owner' must be enforced or ignored")
            if entry["id"] in faults:
                raise SuiteUsageError(f"{where}: duplicate id (also in {faults[entry['id']].file})")
            if entry["id"] not in FAULT_SWITCHES:
                raise SuiteUsageError(f"{where}: no switch for it in conformance/reference/behaviour.py")
            faults[entry["id"]] = Fault(file=path.name, **entry)
    orphans = sorted(set(FAULT_SWITCHES) - set(faults))
    if orphans:
        raise SuiteUsageError(f"{directory}: switches without a catalogue entry: {', '.join(orphans)}")
    return faults
