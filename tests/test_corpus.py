"""Known counterexamples of the generated properties (conformance/behaviour/corpus.py, fixtures/corpus/generated.toml):
every recorded GEN deviation keeps the example that shows it, the corpus is validated like every data file,
new counterexamples come with the lines to add, and a verdict recorded at CI's budget holds at budget 1 and
under another seed."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from conformance.behaviour import corpus
from conformance.behaviour.tables import registry
from conformance.errors import SuiteUsageError
from conformance.behaviour.generate import GenRequest
from conformance.paths import fixtures_dir


GEN = {c.id: c.send["property"] for c in registry().cases.values() if c.area == "GEN"}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "corpus.toml"
    path.write_text(text)
    return path


def test_shipped_corpus_loads_and_names_only_generated_cases():
    shipped = corpus.shipped()
    assert shipped, "the corpus is empty"
    assert set(shipped) <= set(GEN)


def test_every_recorded_generated_deviation_keeps_its_counterexample():
    """A GEN entry in an expectation file rests on examples in the corpus, so the run finds the deviation again at
    any budget and seed. The example that shows it may have been found on another target (the label of the
    failure says 'a known counterexample'); the runs in CI, and test_recorded_verdicts_hold_at_budget_one...
    for the embedded target, show that the replayed examples find it."""
    cases = set(corpus.shipped())
    missing = []
    for path in sorted((fixtures_dir() / "expectations").glob("*.toml")):
        for case_id in tomllib.loads(path.read_text()):
            if case_id.startswith("GEN-") and case_id not in cases:
                missing.append(f"{path.name}: {case_id}")
    assert not missing, f"GEN expectations without a counterexample in the corpus: {missing}"


def test_entry_round_trips_through_the_loader(tmp_path):
    rules = [{"AllowedOrigins": ["*https://a.example"], "AllowedMethods": ["GET"], "ExposeHeaders": ["x-rule-1"],
              "MaxAgeSeconds": -1}]
    request = GenRequest("preflight", "OPTIONS", "https://a.example", "GET", "x-amz-date,,Range", "bucket")
    text = corpus.entry("GEN-PRE-STATUS-001", rules, [request], "localstack", note='a "quoted" note')
    loaded = corpus.load_corpus(_write(tmp_path, text), GEN)
    [example] = loaded["GEN-PRE-STATUS-001"]
    assert example.rules == rules and example.requests == (request,) and example.seen_on == "localstack"
    assert example.value(config_only=False) == (rules, [request])


def test_configuration_properties_take_configurations_only(tmp_path):
    text = corpus.entry("GEN-CFG-001", [{"AllowedOrigins": ["*a*"], "AllowedMethods": ["GET"]}], [], "moto")
    [example] = corpus.load_corpus(_write(tmp_path, text), GEN)["GEN-CFG-001"]
    assert example.value(config_only=True) == example.rules


@pytest.mark.parametrize("text, message", [
    ('[[example]]\ncase = "GEN-XYZ-001"\nseen_on = "moto"\nrules = [{ AllowedOrigins = ["*"], AllowedMethods = ["GET"] }]\n',
     "must name a generated case"),
    ('[[example]]\ncase = "GEN-PRE-STATUS-001"\nseen_on = "moto"\nrules = [{ AllowedOrigins = ["*"], AllowedMethods = ["GET"] }]\n',
     "needs 'requests'"),
    ('[[example]]\ncase = "GEN-CFG-001"\nseen_on = "moto"\nrules = [{ AllowedOrigins = ["*"], AllowedMethods = ["GET"] }]\n'
     'requests = [{ kind = "preflight", method = "OPTIONS" }]\n', "configurations only"),
    ('[[example]]\ncase = "GEN-CFG-001"\nrules = [{ AllowedOrigins = ["*"], AllowedMethods = ["GET"] }]\n', "'seen_on' is required"),
    ('[[example]]\ncase = "GEN-CFG-001"\nseen_on = "m"\nrules = [{ AllowedOrigin = ["*"] }]\n', "unknown rule key(s) AllowedOrigin"),
    ('[[example]]\ncase = "GEN-CFG-001"\nseen_on = "m"\nrule = []\n', "unknown key(s) rule"),
    ('[[example]]\ncase = "GEN-PRE-STATUS-001"\nseen_on = "m"\nrules = [{ AllowedOrigins = ["*"], AllowedMethods = ["GET"] }]\n'
     'requests = [{ kind = "preflight", method = "OPTIONS", orign = "x" }]\n', "unknown request key(s) orign"),
    ('[[example]]\ncase = "GEN-PRE-STATUS-001"\nseen_on = "m"\nrules = [{ AllowedOrigins = ["*"], AllowedMethods = ["GET"] }]\n'
     'requests = [{ kind = "preflight", method = "OPTIONS", signed = "yes" }]\n', "'signed' must be a bool"),
    ("[[example]\n", "not valid TOML"),
    ('title = "x"\n', "only [[example]] entries"),
])
def test_bad_corpus_is_one_clear_error(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(SuiteUsageError) as err:
        corpus.load_corpus(path, GEN)
    assert str(path) in str(err.value) and message in str(err.value)


def test_known_and_new_counterexamples():
    example = next(iter(corpus.shipped().values()))[0]
    assert corpus.known(example.case, example.rules, list(example.requests))
    assert not corpus.known(example.case, [{"AllowedOrigins": ["https://never.example"], "AllowedMethods": ["GET"]}],
                            list(example.requests))


def test_recorded_verdicts_hold_at_budget_one_and_another_seed(suite_run, tmp_path):
    """moto.toml's GEN entries were recorded at CI's budget (200) and the default seed; with the corpus replayed
    first, one generated example and another seed give the same verdicts (the run exits 0)."""
    run = suite_run(tmp_path / "reports", "--case", "GEN-*", "--fuzz-examples=1", "--fuzz-seed=7")
    assert run.returncode == 0, run.output[-3000:]
    outcomes = {c["id"]: c["outcome"] for c in run.results["cases"]}
    assert set(outcomes) == set(GEN)
    expected = tomllib.loads((fixtures_dir() / "expectations" / "moto.toml").read_text())
    for case_id in GEN:
        assert outcomes[case_id] == ("expected-fail" if case_id in expected else "pass"), case_id
    assert all(c["observations"].get("known_counterexamples", 0) >= (1 if c["id"] in expected else 0)
               for c in run.results["cases"])
