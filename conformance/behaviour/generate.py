"""Generated examples for the GEN properties: hypothesis strategies for CORS configurations and for requests
aimed at them, and the hypothesis settings of a property run (seeded, budgeted). Reproducers of a failing
example: reproducers.py.

Everything here is pure (no I/O); conformance/run/properties.py runs the examples against a target, with the
property bodies of conformance/cases/test_generated.py.
"""

from __future__ import annotations

import re
import threading
import zlib
import warnings
from dataclasses import dataclass, replace
from typing import Any, Callable, Hashable, Iterable, Mapping, Sequence

from hypothesis import HealthCheck, Phase, Verbosity, example, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisDeprecationWarning, Unsatisfiable, UnsatisfiedAssumption

from conformance.behaviour import model
from conformance.behaviour.cors import PROBE_KEY

# ---- vocabularies ----------------------------------------------------------------------------------------
# Small on purpose: generated origins and header names collide with the configured ones often enough that
# matches, near misses and misses all occur within a few dozen examples.

METHOD_ORDER = ("GET", "PUT", "HEAD", "POST", "DELETE")
SCHEMES = ("https", "http")
HOSTS = ("a.example", "b.example", "localhost")
PORTS = ("", ":8080")
ODD_ORIGINS = ("null", "whatever", "localhost:4566")
# Characters a wildcard is filled with: no '/' or ':' (whether '*' spans them is open, Q2), no upper case.
FILL = "abz09.-"
HEADER_NAMES = ("x-amz-date", "content-type", "x-amz-meta-color", "authorization", "x-custom-id",
                "cache-control", "x-amz-content-sha256", "range")
HEADER_PATTERNS = HEADER_NAMES + ("*", "x-amz-*", "x-*-id", "*-type", "x-amz-meta-*")
EXPOSE_EXTRA = ("ETag", "x-amz-request-id", "x-amz-version-id", "Content-Length", "x-amz-meta-color", "Date")
ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-_."
CASE_STYLES = ("keep", "lower", "upper", "title", "alternate")
SEPARATORS = (", ", ",", " , ", ",,")
DEFECTS = ("method-lower", "method-patch", "method-options", "origin-two-stars", "header-two-stars",
           "expose-star", "expose-space")
PUT_KEY = "gen/put.txt"
DELETE_KEY = "gen/delete.txt"
BODY = b"conformance object\n"


def restyle(name: str, style: str) -> str:
    """A header name in another case (header names match case-insensitively, §5)."""
    if style == "lower":
        return name.lower()
    if style == "upper":
        return name.upper()
    if style == "title":
        return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))
    if style == "alternate":
        return "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(name))
    return name


# Strategies are built once: hypothesis spends most of a run validating strategies a composite makes afresh.
_STYLES = st.sampled_from(CASE_STYLES)
_BOOL = st.booleans()
_FILLS = st.text(FILL, max_size=5)
_HEADER_FILLS = st.text("abc-", max_size=4)
_HEADER_NAME = st.sampled_from(HEADER_NAMES)
_HEADER_PATTERN = st.sampled_from(HEADER_PATTERNS)
_METHOD = st.sampled_from(METHOD_ORDER)
_SEPARATOR = st.sampled_from(SEPARATORS)
_RESOURCE = st.sampled_from(("object", "bucket"))


@st.composite
def odd_case(draw, names: st.SearchStrategy[str]) -> str:
    """A name drawn from names, as written or in another case (shrinks to as written)."""
    return restyle(draw(names), draw(_STYLES))


# ---- configurations --------------------------------------------------------------------------------------

exact_origins = st.builds(lambda s, h, p: f"{s}://{h}{p}", st.sampled_from(SCHEMES), st.sampled_from(HOSTS),
                          st.sampled_from(PORTS))


@st.composite
def origin_patterns(draw) -> str:
    """An AllowedOrigin other than '*': an exact origin, or one with one '*' in any position (replacing any
    span, so also a leading or trailing '*')."""
    base = draw(exact_origins)
    if not draw(_BOOL):
        return base
    start = draw(st.integers(0, len(base)))
    end = draw(st.integers(start, len(base)))
    return base[:start] + "*" + base[end:]


_ORIGIN_LISTS = st.lists(origin_patterns(), min_size=1, max_size=3, unique=True)


@st.composite
def allowed_origins(draw) -> list[str]:
    """AllowedOrigins: patterns, or '*' alone, or (less often) '*' among patterns (where Q3 may decide ACAO)."""
    kind = draw(st.sampled_from(("patterns", "star", "patterns", "mixed")))
    if kind == "star":
        return ["*"]
    patterns = draw(_ORIGIN_LISTS)
    if kind == "mixed":
        at = draw(st.integers(0, len(patterns)))
        patterns = patterns[:at] + ["*"] + patterns[at:]
    return patterns


header_patterns = odd_case(_HEADER_PATTERN)  # an AllowedHeader: a name or a pattern with one '*', odd case
_HEADER_LISTS = st.lists(header_patterns, max_size=3, unique_by=str.lower)
_METHOD_LISTS = st.lists(_METHOD, min_size=1, max_size=5, unique=True)
_EXPOSE_LISTS = st.lists(st.sampled_from(EXPOSE_EXTRA), max_size=2, unique=True)
_MAX_AGES = st.one_of(st.none(), st.integers(1, 86400), st.none(), st.sampled_from((0, -1)))
_IDS = st.one_of(st.none(), st.text(ID_ALPHABET, min_size=1, max_size=16))


@st.composite
def rules(draw, index: int, marker: bool = True, ids: bool = False) -> dict:
    """One valid CORSRule (boto3 form). With marker, ExposeHeaders starts with x-rule-N (N = index + 1), so the
    rule that answered a request is visible in Access-Control-Expose-Headers, as in the hand-written tables."""
    rule: dict[str, Any] = {"AllowedOrigins": draw(allowed_origins()), "AllowedMethods": draw(_METHOD_LISTS)}
    headers = draw(_HEADER_LISTS)
    if headers:
        rule["AllowedHeaders"] = headers
    expose = ([f"x-rule-{index + 1}"] if marker else []) + draw(_EXPOSE_LISTS)
    if expose:
        rule["ExposeHeaders"] = expose
    max_age = draw(_MAX_AGES)
    if max_age is not None:
        rule["MaxAgeSeconds"] = max_age
    rule_id = draw(_IDS) if ids else None
    if rule_id is not None:
        rule["ID"] = rule_id
    return rule


@st.composite
def configurations(draw, min_rules: int = 1, max_rules: int = 4, marker: bool = True, ids: bool = False) -> list[dict]:
    """A valid CORS configuration (a list of boto3 CORSRule dicts) of min_rules..max_rules rules."""
    count = draw(st.integers(min_rules, max_rules))
    config = [draw(rules(i, marker, ids)) for i in range(count)]
    for i in range(1, count):
        # Often a rule repeats the previous rule's origins and methods and differs in the rest: first-match
        # selection (and servers that select on origin and method only) is only tested by overlapping rules.
        if draw(_BOOL):
            config[i]["AllowedOrigins"] = list(config[i - 1]["AllowedOrigins"])
            config[i]["AllowedMethods"] = list(config[i - 1]["AllowedMethods"])
    return config


def _apply_defect(rule: dict, defect: str) -> None:
    """Make one rule invalid in one of the ways §2.1 lists (rows 8-14)."""
    methods = rule["AllowedMethods"]
    if defect == "method-lower":
        methods[0] = methods[0].lower()
    elif defect == "method-patch":
        methods.append("PATCH")
    elif defect == "method-options":
        methods.append("OPTIONS")
    elif defect == "origin-two-stars":
        rule["AllowedOrigins"].append("*.example*")
    elif defect == "header-two-stars":
        rule.setdefault("AllowedHeaders", []).append("*-amz-*")
    elif defect == "expose-star":
        rule.setdefault("ExposeHeaders", []).append("*")
    elif defect == "expose-space":
        rule.setdefault("ExposeHeaders", []).append("test header")


@st.composite
def any_configurations(draw, max_rules: int = 5) -> list[dict]:
    """A configuration that is valid, or made invalid by up to two defects (for GEN-CFG-001)."""
    config = draw(configurations(1, max_rules, marker=False, ids=True))
    defects = draw(st.lists(st.tuples(st.sampled_from(DEFECTS), st.integers(0, len(config) - 1)), max_size=2))
    for defect, index in defects:
        _apply_defect(config[index], defect)
    return config


# ---- requests --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GenRequest:
    """One generated request: a preflight (OPTIONS, unsigned) or an actual cross-origin request."""

    kind: str                           # "preflight" or "actual"
    method: str                         # HTTP verb ("OPTIONS" for a preflight)
    origin: str | None
    request_method: str | None = None   # Access-Control-Request-Method
    request_headers: str | None = None  # Access-Control-Request-Headers (raw value)
    resource: str = "object"            # "object" or "bucket"
    signed: bool = False

    @property
    def key(self) -> str | None:
        """The object key the request names (None for the bucket URL)."""
        if self.resource == "bucket":
            return None
        return {"PUT": PUT_KEY, "DELETE": DELETE_KEY}.get(self.method, PROBE_KEY)

    def headers(self) -> dict[str, str]:
        """The CORS request headers (and Content-Type for a PUT); signing headers are added by the sender."""
        out: dict[str, str] = {}
        if self.origin is not None:
            out["Origin"] = self.origin
        if self.request_method is not None:
            out["Access-Control-Request-Method"] = self.request_method
        if self.request_headers is not None:
            out["Access-Control-Request-Headers"] = self.request_headers
        if self.method == "PUT":
            out["Content-Type"] = "text/plain"
        return out

    def body(self) -> bytes | None:
        """The request body (a PUT stores a small object)."""
        return BODY if self.method == "PUT" else None

    def model_request(self) -> model.Request:
        """The request as conformance.behaviour.model sees it."""
        return model.Request(method=self.method, origin=self.origin, request_method=self.request_method,
                             request_headers=self.request_headers, resource=self.resource)

    def expected(self, config: Sequence[Mapping] | None) -> model.Answer:
        """The model's answer for this request on a bucket holding `config` (None = no configuration)."""
        rules = None if config is None else [model.Rule.from_boto(r) for r in config]
        if self.kind == "preflight":
            return model.evaluate_preflight(rules, self.model_request())
        return model.evaluate_actual(rules, self.model_request())

    def public(self) -> dict[str, Any]:
        """For reports."""
        return {"kind": self.kind, "method": self.method, "resource": self.resource, "key": self.key,
                "signed": self.signed, "headers": self.headers()}

    def describe(self) -> str:
        """One line: 'OPTIONS object Origin=... ACRM=... ACRH=...'."""
        parts = [self.method, self.resource + ("" if self.kind == "preflight" else
                                                (" signed" if self.signed else " anonymous"))]
        for label, value in (("Origin", self.origin), ("ACRM", self.request_method),
                             ("ACRH", self.request_headers)):
            if value is not None:
                parts.append(f"{label}={value!r}")
        return " ".join(parts)


def _fill(pattern: str, filler: str) -> str:
    return pattern.replace("*", filler, 1)


@st.composite
def origins_for(draw, config: Sequence[Mapping]) -> str:
    """An Origin that matches one of the configuration's patterns, nearly matches one, or is unrelated."""
    mode = draw(st.sampled_from(("match", "near", "other")))
    if mode == "other":
        return draw(st.one_of(exact_origins, st.sampled_from(ODD_ORIGINS)))
    rule = config[draw(st.integers(0, len(config) - 1))]
    pattern = draw(st.sampled_from(rule["AllowedOrigins"]))
    origin = _instantiate_origin(draw, pattern)
    if mode == "match":
        return origin
    change = draw(st.sampled_from(("append-slash", "append-char", "drop-last", "drop-first", "swap-scheme",
                                   "add-port", "prefix-char")))
    if change == "append-slash":
        return origin + "/"
    if change == "append-char":
        return origin + draw(st.sampled_from("x.0"))
    if change == "drop-last":
        return origin[:-1]
    if change == "drop-first":
        return origin[1:]
    if change == "swap-scheme":
        if origin.startswith("https://"):
            return "http://" + origin[len("https://"):]
        if origin.startswith("http://"):
            return "https://" + origin[len("http://"):]
        return "https://" + origin
    if change == "add-port":
        return origin + draw(st.sampled_from((":80", ":8443", ":1")))
    return draw(st.sampled_from("xw.")) + origin


@st.composite
def header_names_for(draw, config: Sequence[Mapping]) -> str:
    """A requested header name: one a rule allows (its pattern filled in), or any known name; odd case."""
    patterns = [p for rule in config for p in rule.get("AllowedHeaders", ())]
    if patterns and draw(_BOOL):
        pattern = draw(st.sampled_from(patterns)).lower()
        name = draw(_HEADER_NAME) if pattern == "*" else _fill(pattern, draw(_HEADER_FILLS))
    else:
        name = draw(_HEADER_NAME)
    return restyle(name, draw(_STYLES))


@st.composite
def request_header_lists(draw, config: Sequence[Mapping]) -> str | None:
    """An Access-Control-Request-Headers value (None = absent), with the separators browsers and clients use."""
    if not draw(_BOOL):
        return None
    names = [draw(header_names_for(config)) for _ in range(draw(st.integers(1, 3)))]
    return draw(_SEPARATOR).join(names)


@st.composite
def methods_for(draw, config: Sequence[Mapping]) -> str:
    """One of the five methods, often one the configuration lists."""
    listed = [m for rule in config for m in rule["AllowedMethods"] if m in METHOD_ORDER]
    if listed and draw(_BOOL):
        return draw(st.sampled_from(listed))
    return draw(_METHOD)


def _instantiate_origin(draw, pattern: str) -> str:
    """An Origin the pattern matches ('*' filled from FILL; '*' alone: any exact origin)."""
    return draw(exact_origins) if pattern == "*" else _fill(pattern, draw(_FILLS))


@st.composite
def preflights_for(draw, config: Sequence[Mapping], aim: bool | None = False) -> GenRequest:
    """A preflight aimed at the configuration: Origin, Access-Control-Request-Method (one of the five methods,
    as a browser sends), maybe Access-Control-Request-Headers, on the bucket or an object URL.

    Without aim, origin, method and header names are drawn independently (matches, near misses, misses);
    with aim, all three are drawn from one rule, so the request fully matches it (or an earlier rule); with
    aim None, either way (drawn per request)."""
    if aim is None:
        aim = draw(_BOOL)
    if not aim:
        return GenRequest("preflight", "OPTIONS", draw(origins_for(config)), draw(methods_for(config)),
                          draw(request_header_lists(config)), draw(_RESOURCE))
    rule = config[draw(st.integers(0, len(config) - 1))]
    origin = _instantiate_origin(draw, draw(st.sampled_from(rule["AllowedOrigins"])))
    method = draw(st.sampled_from(rule["AllowedMethods"]))
    patterns = rule.get("AllowedHeaders", [])
    headers = None
    if patterns and draw(_BOOL):
        names = []
        for _ in range(draw(st.integers(1, 3))):
            pattern = draw(st.sampled_from(patterns)).lower()
            name = draw(_HEADER_NAME) if pattern == "*" else _fill(pattern, draw(_HEADER_FILLS))
            names.append(restyle(name, draw(_STYLES)))
        headers = draw(_SEPARATOR).join(names)
    return GenRequest("preflight", "OPTIONS", origin, method, headers, draw(_RESOURCE))


_ORIGIN_CHANGES: tuple[Callable[[str], str], ...] = (
    lambda o: o + "/",                                   # a trailing slash
    lambda o: o + ".x",                                  # a longer host: the pattern must end where it ends
    lambda o: o[:-1],                                    # a shorter one
    lambda o: ("http://" + o[8:] if o.startswith("https://") else "https://" + o.split("://", 1)[-1]),  # scheme
    lambda o: o + ":8443",                               # a port
    lambda o: "x" + o,                                   # a prefix
)
_MISS_HEADER = "x-near-miss"


def near_miss(config: Sequence[Mapping], request: GenRequest) -> GenRequest | None:
    """A preflight one step away from an aimed one: its origin, its method or its header list changed (which one
    follows from the request, so that an example always yields the same), the first such step the model refuses
    when one does. GEN-PRE-STATUS-001 asks both on the configuration the aimed properties put, so its refusals
    cost no configuration of their own. None when no step applies (a preflight without Origin)."""
    if request.kind != "preflight" or request.origin is None:
        return None
    answer = request.expected(config)
    rule = config[answer.matched_rule] if answer.matched_rule is not None else None
    allowed = set(rule["AllowedMethods"]) if rule is not None else set()
    other = next((m for m in ("PUT", "DELETE", "POST", "GET", "HEAD") if m not in allowed), None)
    steps = [lambda change=change: replace(request, origin=change(request.origin)) for change in _ORIGIN_CHANGES]
    steps.append(lambda: replace(request, request_method=other) if other else None)
    steps.append(lambda: replace(request, request_headers=", ".join(filter(None, (request.request_headers,
                                                                                   _MISS_HEADER)))))
    first = zlib.crc32(repr(request).encode()) % len(steps)
    misses = [m for m in (step() for step in steps[first:] + steps[:first]) if m is not None and m != request]
    # The first step the model refuses, if any: a refusal next to an allowed preflight is where matching slips.
    return next((m for m in misses if m.expected(config).status != 200), misses[0] if misses else None)


@st.composite
def actual_requests_for(draw, config: Sequence[Mapping]) -> GenRequest:
    """An actual cross-origin request: GET/HEAD (object or bucket URL), PUT/DELETE of an object; signed or
    anonymous; sometimes with Access-Control-Request-Method/-Headers (matched instead of the verb, §5)."""
    verb = draw(st.sampled_from(("GET", "HEAD", "PUT", "DELETE")))
    resource = draw(_RESOURCE) if verb in ("GET", "HEAD") else "object"
    acrm = draw(methods_for(config)) if draw(_BOOL) else None
    acrh = draw(request_header_lists(config)) if draw(_BOOL) else None
    return GenRequest("actual", verb, draw(origins_for(config)), acrm, acrh, resource, draw(_BOOL))


@st.composite
def scenarios(draw, kind: str, aim: bool | None = False, max_rules: int = 4,
              max_requests: int = 3) -> tuple[list[dict], list[GenRequest]]:
    """A configuration and 1..max_requests requests aimed at it (several requests share one PutBucketCors).
    kind: "preflight" or "actual"; aim: preflights that fully match a rule, or not, or None: both (see
    preflights_for)."""
    config = draw(configurations(1, max_rules))
    if kind == "preflight":
        make = preflights_for(config, aim)
    else:
        make = actual_requests_for(config)
    requests = [draw(make) for _ in range(draw(st.integers(1, max_requests)))]
    return config, requests


def is_valid(config: Sequence[Mapping]) -> bool:
    """Whether the model accepts the configuration with no open question about it."""
    verdict = model.validate_rules(config)
    return verdict.accepted and not verdict.open_questions


# ---- running a property ----------------------------------------------------------------------------------

EXPLORE_PHASES = (Phase.explicit, Phase.reuse, Phase.generate)  # the whole budget, whatever fails
SHRINK_PHASES = EXPLORE_PHASES + (Phase.shrink,)                 # no explain: it only re-asks the server


def pin_local_constants() -> bool:
    """Keep hypothesis from mixing constants of locally loaded modules into examples; True when pinned.

    Hypothesis (6.131 and later) draws now and then a string or number literal found in the *local* modules
    loaded at the time (not site-packages). Which modules those are differs between a checkout and an installed
    wheel, between a user's working directories, and with every edit of the suite, so one seed would draw
    different examples in each. A run's examples must depend on its seed and budget alone; the pool is private
    API, so a project test (tests/test_generate.py) notices when it moves."""
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
    except ImportError:  # an older or newer hypothesis without the pool: nothing to pin
        return False
    if not hasattr(providers, "_get_local_constants"):
        return False
    empty = Constants()
    providers._get_local_constants = lambda: empty
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if cache is not None:  # pools computed before the pin are dropped
        providers.CONSTANTS_CACHE = type(cache)(cache.max_size)
    return True


LOCAL_CONSTANTS_PINNED = pin_local_constants()


def fuzz_settings(max_examples: int, shrink: bool = False) -> settings:
    """Hypothesis settings of a property run: no example database (the seed alone decides), no deadline (a
    server's latency is not the property), every health check that network I/O trips off; shrinking on request."""
    return settings(
        max_examples=max_examples, database=None, deadline=None, derandomize=False, print_blob=False,
        report_multiple_bugs=False, verbosity=Verbosity.quiet,
        phases=SHRINK_PHASES if shrink else EXPLORE_PHASES,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                               HealthCheck.large_base_example, HealthCheck.differing_executors,
                               HealthCheck.function_scoped_fixture],
    )


def seeded(strategy: st.SearchStrategy, fuzz_seed: int, max_examples: int, shrink: bool = False,
           explicit: Sequence[Any] = ()) -> Callable:
    """Decorator: a hypothesis test drawing from strategy, seeded and budgeted as a property run is; the explicit
    examples (known counterexamples) run first, whatever the budget and the seed."""
    def wrap(fn: Callable) -> Callable:
        test = given(strategy)(fn)
        for value in reversed(explicit):
            test = example(value)(test)
        return seed(fuzz_seed)(fuzz_settings(max_examples, shrink)(test))
    return wrap


def round_seed(fuzz_seed: int, number: int) -> int:
    """The seed of a property run's later round (examples that make up for ones the server left without a
    check): derived from the run's, so the same seed draws the same rounds."""
    return (fuzz_seed * 1_000_003 + number) % 2**32


_DRAWN: dict[tuple, list] = {}  # (memo, seed, count) -> what sample() kept of hypothesis's draws
_DRAWN_CHANGED = threading.Condition()  # a draw came from draw_ahead(), or all did
_drawing: "_DrawingAhead | None" = None  # draw_ahead()'s thread, until sample() has waited for it


@dataclass(frozen=True)
class Draw:
    """What a property draws (strategy) and what each example will ask (plan(example) -> (group, item), pure:
    the model alone decides, rejecting an example as the property would), under a name (memo) that equal draws
    share."""

    strategy: st.SearchStrategy
    plan: Callable[[Any], tuple[str, Any]]
    memo: Hashable
    explicit_plan: Callable[[Any], tuple[str, Any]] | None = None  # for the property's explicit examples (known
    # counterexamples), which the memo does not share: it may reject fewer than plan does

    def keep(self, example: Any) -> tuple[Any, tuple[str, Any]]:
        """What sample() keeps of an example: the example and its plan."""
        return example, self.plan(example)

    def keep_explicit(self, example: Any) -> tuple[Any, tuple[str, Any]]:
        """What sample() keeps of an explicit example."""
        return example, (self.explicit_plan or self.plan)(example)


def planned(draw: Draw, fuzz_seed: int, count: int, explicit: Sequence[Any] = ()) -> list[tuple[Any, Any]]:
    """sample() of a Draw: (example, plan) for each example a property run with this seed and budget explores."""
    return sample(draw.strategy, fuzz_seed, count, explicit=explicit, keep=draw.keep, memo=draw.memo,
                  keep_explicit=draw.keep_explicit)


def draw_ahead(fetch: Callable[[], Iterable[tuple[Hashable, list]]], fuzz_seed: int, count: int) -> None:
    """Take the first round of the run's draws as another process draws them (fetch yields (memo, what planned()
    keeps of that memo's draw), one draw at a time), in a thread, while the run's other cases wait for their
    answers. A property whose draw has come goes on at once; sample() of any other draw waits until fetch is
    done, so that hypothesis draws here in one thread at a time, and draws itself what did not come (a failed
    draw: the property then reports the problem)."""
    global _drawing
    _wait_for_draws()
    # Hypothesis takes another thread's use of the global `random` during a draw for the strategy's (a warning).
    warnings.filterwarnings("ignore", message="Do not use the `random` module inside strategies",
                            category=HypothesisDeprecationWarning)
    drawing = _DrawingAhead(fetch, fuzz_seed, count)
    _drawing = drawing
    drawing.start()


class _DrawingAhead(threading.Thread):
    """draw_ahead()'s thread: puts each draw that comes into _DRAWN and tells those waiting for it."""

    def __init__(self, fetch: Callable[[], Iterable[tuple[Hashable, list]]], fuzz_seed: int, count: int) -> None:
        super().__init__(name="s3cors-draw-ahead", daemon=True)
        self.fetch, self.fuzz_seed, self.count = fetch, fuzz_seed, count
        self.finished = False

    def run(self) -> None:
        try:
            for memo, kept in self.fetch():
                with _DRAWN_CHANGED:
                    _DRAWN[(memo, self.fuzz_seed, self.count)] = kept
                    _DRAWN_CHANGED.notify_all()
        except Exception:  # noqa: BLE001 - what did not come, the property that asks draws itself
            pass
        finally:
            with _DRAWN_CHANGED:
                self.finished = True
                _DRAWN_CHANGED.notify_all()


def _wait_for_draws(key: tuple | None = None) -> None:
    """Wait until the draw `key` names has come from draw_ahead() (key None: until all that will come has)."""
    global _drawing
    drawing = _drawing
    if drawing is None or drawing is threading.current_thread():
        return
    with _DRAWN_CHANGED:
        _DRAWN_CHANGED.wait_for(lambda: drawing.finished or (key is not None and key in _DRAWN))
    if drawing.finished:
        drawing.join()
        _drawing = None


def sample(strategy: st.SearchStrategy, fuzz_seed: int, count: int, explicit: Sequence[Any] = (),
           keep: Callable[[Any], Any] | None = None, memo: Hashable | None = None,
           keep_explicit: Callable[[Any], Any] | None = None) -> list:
    """The examples a property run with this seed and budget explores, in order (explicit ones first); with keep,
    what keep(example) returns for each, where keep may reject an example as the property would (raising
    hypothesis.errors.UnsatisfiedAssumption).

    memo names strategy and keep together (equal memos: equal strategies, keeps that return and reject alike): a
    process draws each memo's examples of a seed and budget once, as several properties draw the same. Hypothesis's
    draws do not depend on the explicit examples, which run first, so only the draws are kept. keep_explicit
    (default keep) is what is kept of an explicit example."""
    _wait_for_draws(None if memo is None else (memo, fuzz_seed, count))
    kept = []
    keep_one = keep_explicit or keep
    for value in explicit:
        try:  # an explicit example the property rejects is skipped, as hypothesis skips it
            kept.append(value if keep_one is None else keep_one(value))
        except UnsatisfiedAssumption:
            continue
    if memo is not None and (memo, fuzz_seed, count) in _DRAWN:
        return kept + _DRAWN[(memo, fuzz_seed, count)]
    out: list = []

    @seeded(strategy, fuzz_seed, count)
    def collect(example):
        out.append(example if keep is None else keep(example))

    try:
        collect()
    except Unsatisfiable:  # every example rejected: nothing to explore
        out = []
    if memo is not None:
        _DRAWN[(memo, fuzz_seed, count)] = out
    return kept + list(out)
