"""Buckets the run creates: unique names per run and worker, a registry, and removal at the end."""

from __future__ import annotations

import os
import secrets
import threading
import time
from pathlib import Path

from conformance.errors import Inconclusive, InfraError, ServerError, Unsupported
from conformance.target import inflight
from conformance.target.http import S3, ApiResult
from conformance.target.inflight import gather

PREFIX = "s3cors"


def new_run_id() -> str:
    """A run ID that sorts by time and is unique: UTC timestamp plus random letters."""
    return time.strftime("%y%m%d%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


class Buckets:
    """Creates buckets named s3cors-<run>-<worker>-<n>, remembers them and removes exactly those."""

    def __init__(self, s3: S3, run_id: str, worker: str, *, keep: bool = False, journal: Journal | None = None) -> None:
        self.s3 = s3
        self.prefix = f"{PREFIX}-{run_id}-{worker}".lower()
        self.keep = keep
        self.journal = journal or Journal(None)
        self.created: list[str] = []
        self._done: list[str] = []  # created, no longer used, waiting for discard() to remove them together
        self._n = 0
        self._n_lock = threading.Lock()  # names may be drawn from the calls of a gather
        self._discard_lock = threading.Lock()
        self._reserved: list[tuple[str, list[dict]]] = []  # created ahead (reserve), with their evidence

    def reserve(self, count: int) -> None:
        """Create count new buckets ahead, together; take() hands them out, each with the evidence of its
        creation (a bucket that was not created is not kept)."""
        def make() -> str | None:
            name = self.next_name()
            return name if self.try_create(name).ok else None
        for name, exchanges in self.s3.recorder.gather_apart([make] * count):
            if name is not None:
                self._reserved.append((name, exchanges))

    def next_name(self) -> str:
        """A fresh name of this run and worker (also for buckets that must not exist)."""
        with self._n_lock:
            self._n += 1
            return f"{self.prefix}-{self._n:04d}"

    def take(self) -> str:
        """A new bucket: one reserve() created, its creation joining the running case's evidence, or else one
        created now."""
        if self._reserved:
            name, exchanges = self._reserved.pop(0)
            self.s3.recorder.restore(exchanges, "created ahead", counted=True)
            return name
        return self.create()

    def create(self) -> str:
        """Create a new bucket and register it for removal."""
        name = self.next_name()
        try:
            result = self.try_create(name)
        except ServerError as exc:  # the bucket is a precondition of the case, not what it tests
            raise Inconclusive(f"cannot create bucket {name}: {exc}") from None
        if not result.ok:
            raise InfraError(f"cannot create bucket {name}: {result.status} {result.code} {result.message or ''}".strip())
        return name

    def try_create(self, name: str) -> ApiResult:
        """Send CreateBucket for a fresh name and register the bucket when it was created; the answer.
        No answer (InfraError, ServerError, Unsupported) propagates; the name stays in the journal."""
        self.journal.created(name)  # before the request: a crash right after it still leaves the name
        result = self.send_create(name)
        if result.ok:
            self.created.append(name)
        return result

    def send_create(self, name: str) -> ApiResult:
        """Send CreateBucket for name with the target's bucket location (none when the target says none)."""
        params: dict = {"Bucket": name}
        if self.s3.target.location_constraint:
            params["CreateBucketConfiguration"] = {"LocationConstraint": self.s3.target.location_constraint}
        return self.s3.api("create_bucket", **params)

    def remove(self, name: str) -> str | None:
        """Delete one of our buckets with its objects; return a problem description or None.

        The objects the run wrote are deleted first (together), then the bucket; only when that is refused
        (409 BucketNotEmpty, or anything else but success) are its contents listed and removed. The two
        listings, then the deletions and aborts, are each sent together (inflight.gather)."""
        try:
            written = sorted(self.s3.written.pop(name, ()))
            gather([lambda key=key: self.s3.api("delete_object", Bucket=name, Key=key) for key in written])
            first = self.s3.api("delete_bucket", Bucket=name)
        except ServerError:  # a 5xx for a bucket that is not empty: the long way below decides
            first = None
        except (InfraError, Unsupported) as exc:
            return str(exc)
        if first is not None and (first.ok or first.status == 404):
            return None
        try:
            listing, uploads = gather([lambda: self._list(name, "list_objects_v2"),
                                       lambda: self._list(name, "list_multipart_uploads")])
            if listing is not None and listing.status == 404:
                return None
            objects = listing.data.get("Contents", []) if listing is not None else []
            open_uploads = uploads.data.get("Uploads", []) if uploads is not None and uploads.ok else []
            # Aborts of multipart uploads a case left open: they would keep the bucket from being deleted.
            gather([*(lambda key=obj["Key"]: self.s3.api("delete_object", Bucket=name, Key=key) for obj in objects),
                    *(lambda u=u: self.s3.api("abort_multipart_upload", Bucket=name, Key=u["Key"],
                                              UploadId=u["UploadId"]) for u in open_uploads)])
            result = self.s3.api("delete_bucket", Bucket=name)
        except (InfraError, ServerError, Unsupported) as exc:
            return str(exc)
        if result.ok or result.status == 404:
            return None
        return f"{result.status} {result.code}"

    def _list(self, name: str, operation: str) -> ApiResult | None:
        """A listing of the bucket; None when the target cannot list that (then the bucket is tried alone)."""
        try:
            return self.s3.api(operation, Bucket=name)
        except Unsupported:
            return None

    def discard(self, name: str) -> None:
        """Remove one bucket (unless buckets are kept); on trouble it stays registered for cleanup().

        Removals wait until as many buckets as requests may be in flight are done with, then go together
        (with --concurrency 1 each bucket goes at once); cleanup() removes what is still waiting."""
        with self._discard_lock:  # cases running ahead discard theirs from other threads
            if self.keep or name not in self.created or name in self._done:
                return
            self._done.append(name)
            if len(self._done) >= inflight.limit():
                self._remove_all(self._done)

    def _remove_all(self, names: list[str]) -> list[str]:
        """Remove the buckets together; the ones that could not be removed, with the problem."""
        names = list(names)
        with self.s3.recorder.unrecorded():  # the buckets of several cases: evidence of none of them
            problems = gather([lambda name=name: self.remove(name) for name in names])
        left = []
        for name, problem in zip(names, problems):
            if name in self._done:
                self._done.remove(name)
            if problem is None:
                self.created.remove(name)
                self.journal.removed(name)
            else:
                left.append(f"{name} ({problem})")
        return left

    def cleanup(self) -> list[str]:
        """Remove every bucket this registry created; return the names that could not be removed."""
        if self.keep:
            return []
        return self._remove_all(self.created)


class Journal:
    """An append-only file of the bucket names a run created and removed, shared by its xdist workers.

    The controller reads it at the end and removes what no worker removed, so an interrupted worker
    leaves nothing behind, without ever listing buckets."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def _append(self, line: str) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:  # one short write per line: safe across processes
            f.write(line + "\n")

    def created(self, name: str) -> None:
        """Note a bucket about to be created."""
        self._append(f"+{name}")

    def removed(self, name: str) -> None:
        """Note a bucket removed."""
        self._append(f"-{name}")

    def pending(self) -> list[str]:
        """Names created and not removed, in creation order."""
        if self.path is None or not self.path.is_file():
            return []
        alive: dict[str, None] = {}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if line.startswith("+"):
                alive[line[1:]] = None
            elif line.startswith("-"):
                alive.pop(line[1:], None)
        return list(alive)

    def discard(self) -> None:
        """Delete the journal if nothing in it is pending."""
        if self.path is not None and not self.pending():
            self.path.unlink(missing_ok=True)
            try:
                self.path.parent.rmdir()
            except OSError:
                pass


def worker_id() -> str:
    """The xdist worker name (gw0, gw1, ...) or 'main' without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")
