"""python -m conformance cleanup: list (and with --delete remove) buckets the suite left behind on a target.

A run removes its own buckets, even when interrupted; what can still be left is the work of a run that was
killed hard (SIGKILL, a lost machine) or of --keep-buckets. This command lists the target's buckets and
picks only names the suite itself makes (``s3cors-<yymmddhhmmss>-<6 hex>-<worker>-<nnnn>``, see
Buckets.next_name and new_run_id) whose run started more than --older-than minutes ago, so a run in
progress is never touched. It is a dry run unless --delete is given.

Exit status: 0 done (or nothing to do); 1 some bucket could not be removed; 2 bad input, or a target that
cannot be cleaned (one the suite starts itself); 6 the target is unusable (unreachable, TLS, credentials
refused), as for a run of the suite."""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from conformance.target.buckets import PREFIX, Buckets
from conformance.errors import EXIT_TARGET_UNUSABLE, InfraError, ServerError, SuiteUsageError, Unsupported
from conformance.target.http import S3, TLSProblem
from conformance.target.recorder import Recorder
from conformance.target.redact import Redactor
from conformance.target.options import TARGET_OPTIONS, dest, resolve, target_settings
from conformance.target.profiles import Settings, resolve_credentials, resolve_target, strip_userinfo

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNUSABLE = 0, 1, 2, EXIT_TARGET_UNUSABLE
DEFAULT_OLDER_THAN = 60.0  # minutes
REQUEST_TIMEOUT = 30.0
# A bucket that still has objects after one pass (more than one listing page) gets a few more passes.
REMOVE_PASSES = 5

# Exactly what Buckets.next_name makes: PREFIX, new_run_id() (UTC yymmddhhmmss, '-', token_hex(3)), the
# worker (worker_id(): 'main' or xdist's 'gw<n>'; 'probe' for the start-up probe), a number of at least 4 digits.
_NAME = re.compile(rf"{re.escape(PREFIX)}-(?P<stamp>\d{{12}})-(?P<token>[0-9a-f]{{6}})-(?P<worker>main|probe|gw\d+)"
                   r"-(?P<n>\d{4,})")

# Answers to ListBuckets that mean the credentials (or the region) are wrong, and what to do about it.
_HINTS = {
    "InvalidAccessKeyId": "the access key is not known to the server: check the credentials",
    "SignatureDoesNotMatch": "the secret key is wrong: check the credentials",
    "AccessDenied": "the credentials may not list buckets",
    "InvalidToken": "the session token is wrong or expired",
    "ExpiredToken": "the session token has expired",
    "AuthorizationHeaderMalformed": "the region is wrong: set --region",
}


def suite_bucket_time(name: str) -> datetime | None:
    """The UTC start time of the run that made a bucket, if the name is exactly one the suite makes; else None."""
    match = _NAME.fullmatch(name)
    if match is None:
        return None
    s = match["stamp"]
    try:  # %y is ambiguous before 1969; the suite only ever wrote 20yy
        return datetime(2000 + int(s[0:2]), int(s[2:4]), int(s[4:6]), int(s[6:8]), int(s[8:10]), int(s[10:12]),
                        tzinfo=timezone.utc)
    except ValueError:  # month 13, second 61, ...
        return None


@dataclass
class BucketDecision:
    """What cleanup makes of one bucket name."""

    name: str
    leftover: bool
    reason: str = ""  # why it is not a leftover (only said for names starting with the prefix)
    age: timedelta | None = None


def classify(name: str, now: datetime, older_than: timedelta, region: str | None = None,
             bucket_region: str | None = None) -> BucketDecision:
    """Decide whether a bucket is a leftover of the suite that is old enough to remove."""
    if not name.startswith(PREFIX):
        return BucketDecision(name, False, "not a bucket of the suite")
    started = suite_bucket_time(name)
    if started is None:
        why = ("not a bucket name the suite makes (s3cors-<yymmddhhmmss>-<6 hex>-<worker>-<nnnn>)"
               if not _NAME.fullmatch(name) else "its run timestamp is not a valid date")
        return BucketDecision(name, False, why)
    age = now - started
    if age < timedelta(0):
        return BucketDecision(name, False, f"its run timestamp is {format_age(-age)} in the future", age)
    if age <= older_than:
        return BucketDecision(name, False, f"its run started {format_age(age)} ago, not more than "
                                    f"{format_minutes(older_than)} (it may still be running)", age)
    if bucket_region and region and bucket_region != region:
        return BucketDecision(name, False, f"it is in region {bucket_region}, not {region} (give --region {bucket_region})",
                       age)
    return BucketDecision(name, True, "", age)


def format_age(age: timedelta) -> str:
    """A short age: 42s, 17m, 2h 05m, 3d 04h."""
    seconds = int(age.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if days:
        return f"{days}d {hours % 24:02d}h"
    if hours:
        return f"{hours}h {minutes % 60:02d}m"
    return f"{minutes}m"


def format_minutes(delta: timedelta) -> str:
    minutes = delta.total_seconds() / 60
    return f"{minutes:g} min"


def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of minutes") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of minutes of 0 or more")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The command's arguments: the suite's target options, --older-than and --delete."""
    p.description = ("List the buckets the suite left behind on a target (names s3cors-<yymmddhhmmss>-<6 hex>-"
                     "<worker>-<nnnn> whose run started more than --older-than minutes ago), and with --delete "
                     "remove them with their objects and open multipart uploads. Nothing else is ever touched.")
    p.epilog = ("Each target option has the suite's environment twin (" +
                ", ".join(f"{flag}: {env}" for flag, env, _ in TARGET_OPTIONS) +
                "). Credentials as for a run: the variables the profile names, else AWS_ACCESS_KEY_ID / "
                "AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else AWS_PROFILE. Exit status: 0 done, 1 a bucket "
                "could not be removed, 2 bad input or a target the suite starts itself, 6 target unusable.")
    for flag, _env, kwargs in TARGET_OPTIONS:  # the suite's own target options
        p.add_argument(flag, dest=dest(flag), **kwargs)
    p.add_argument("--older-than", metavar="MINUTES", type=_minutes, default=DEFAULT_OLDER_THAN,
                   help=f"only buckets whose run started more than this long ago (default {DEFAULT_OLDER_THAN:g})")
    p.add_argument("--delete", action="store_true",
                   help="remove the leftovers (default: dry run, only list them)")


def _settings(args: argparse.Namespace, environ=os.environ) -> Settings:
    """Options, else their S3CORS_* environment twins (as the pytest plugin reads them)."""
    return target_settings(lambda flag: resolve(TARGET_OPTIONS, flag, getattr(args, dest(flag)), environ),
                           expectations="none")


def _err(message: str) -> None:
    print(f"python -m conformance cleanup: {message}", file=sys.stderr)


def main(argv: list[str]) -> int:
    """python -m conformance cleanup [options]; return the exit status."""
    from conformance.__main__ import command

    return command("cleanup", argv)


def run(args: argparse.Namespace) -> int:
    """Run the cleanup command; return the exit status (bad input raises SuiteUsageError: exit 2)."""
    target, profile = resolve_target(_settings(args))
    if target.launch:
        if target.launch == "server":
            why = (f"its profile starts a fresh local server for each run (launch = \"server\") and its "
                   f"buckets go away with it")
        else:
            why = ("it is the embedded default (moto, started in-process for each run), whose buckets go "
                   "away with it")
        raise SuiteUsageError(f"target {target.name} cannot be cleaned: {why}, so nothing persists. To clean a "
                              f"server you run yourself, give its --endpoint-url.")
    credentials = resolve_credentials(target, profile)

    redactor = Redactor(credentials.secrets())
    if target.verify is False:
        import urllib3

        warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
    s3 = S3(target, credentials, Recorder(redactor), request_timeout=REQUEST_TIMEOUT)
    where = f"target {target.name} at {strip_userinfo(target.endpoint_url)}"

    try:
        listed = _list_buckets(s3)
    except TLSProblem as exc:
        _err(redactor.text(f"{where} is unusable: {exc.meaning}"))
        return EXIT_UNUSABLE
    except (InfraError, ServerError, Unsupported) as exc:
        _err(redactor.text(f"{where} is unusable: cannot list its buckets ({exc}). "
                           f"Is the server running, and is the URL right?"))
        return EXIT_UNUSABLE
    if isinstance(listed, str):
        _err(redactor.text(f"{where} refused to list its buckets: {listed} "
                           f"(credentials from {credentials.origin})"))
        return EXIT_UNUSABLE

    now = datetime.now(timezone.utc)
    older_than = timedelta(minutes=args.older_than)
    verdicts = [classify(name, now, older_than, target.region, bucket_region) for name, bucket_region in listed]
    leftovers = sorted((v for v in verdicts if v.leftover), key=lambda v: v.name)
    skipped = sorted((v for v in verdicts if not v.leftover and v.name.startswith(PREFIX)), key=lambda v: v.name)
    others = len(verdicts) - len(leftovers) - len(skipped)

    print(f"{where} (region {target.region}): {len(verdicts)} bucket(s); leftovers of the suite are "
          f"{PREFIX}-* buckets whose run started more than {format_minutes(older_than)} ago"
          + (f"; {others} other bucket(s) ignored" if others else ""))
    for v in skipped:
        print(f"skipped   {v.name}: {v.reason}")
    if not args.delete:
        for v in leftovers:
            print(f"leftover  {v.name}  age {format_age(v.age)}")
        print(f"{len(leftovers)} leftover bucket(s); run again with --delete to remove them")
        return EXIT_OK

    remover = Buckets(s3, "cleanup", "cleanup")  # no journal; remove() only touches the name it is given
    failed = 0
    for v in leftovers:
        problem = _remove(remover, v.name)
        if problem is None:
            print(f"removed   {v.name}  age {format_age(v.age)}")
        else:
            failed += 1
            print(redactor.text(f"FAILED    {v.name}: {problem}"))
    print(f"{len(leftovers) - failed} of {len(leftovers)} leftover bucket(s) removed"
          + (f"; {failed} could not be removed" if failed else ""))
    return EXIT_FAILED if failed else EXIT_OK


def _list_buckets(s3: S3) -> list[tuple[str, str | None]] | str:
    """Every bucket as (name, region if the server says); a string describing the refusal if ListBuckets fails."""
    out: list[tuple[str, str | None]] = []
    params: dict = {}
    while True:
        result = s3.api("list_buckets", **params)
        if not result.ok:
            hint = _HINTS.get(result.code or "", "see the server's answer")
            return f"{result.status} {result.code or ''} {result.message or ''}".strip() + f" ({hint})"
        out += [(b["Name"], b.get("BucketRegion")) for b in result.data.get("Buckets", [])]
        token = result.data.get("ContinuationToken")
        if not token:
            return out
        params = {"ContinuationToken": token}


def _remove(remover: Buckets, name: str) -> str | None:
    """Remove one bucket with its objects and open uploads; a bucket with many objects gets a few passes."""
    problem = remover.remove(name)
    for _ in range(REMOVE_PASSES - 1):
        if problem is None or "BucketNotEmpty" not in problem:
            break
        problem = remover.remove(name)
    return problem
