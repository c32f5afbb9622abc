"""Benchmark storage_hub's S3 backend against raw boto3 and raw s3fs on one S3 server, in one run.

What it measures (all against the same server, same bucket, same process):

* listing one folder of ``--objects`` small objects: ``store.ls`` vs ``s3fs.ls(detail=True)`` vs one boto3
  ``list_objects_v2`` paginator with ``Delimiter="/"``;
* writing one ``--size-mib`` object of random bytes: ``store.write_bytes`` vs boto3 ``put_object`` (one PUT),
  boto3 ``upload_fileobj`` (TransferManager, default settings) and s3fs ``pipe_file``;
* reading it back: ``store.read_bytes`` vs boto3 ``get_object()["Body"].read()``, boto3 ``download_fileobj``
  (TransferManager) and s3fs ``cat_file``.

Each operation runs once untimed (warm-up: connections, and a content check), then ``--repeat`` times with the
clients interleaved in every repetition (the order rotates) so that they share the server's noise. Medians are
reported, with the number of S3 requests of one operation (counted through botocore's ``before-call.s3`` event for
boto3 and s3fs, and through ``store.aio.backend.requests`` for storage_hub). Every raw client uses path-style
addressing, region ``us-east-1`` and ``request_checksum_calculation`` / ``response_checksum_validation`` =
``when_required``, exactly as storage_hub does. Everything written lives under a fresh prefix that is deleted at
the end.

Run it with ``bash scripts/bench.sh [options]``, which starts SeaweedFS on 127.0.0.1 and exports
STORAGE_HUB_TEST_SEAWEEDFS, ..._KEY and ..._SECRET; or set those yourself and run::

    python benchmarks/store_bench.py                       # defaults: 2000 objects, 256 MiB, 5 repetitions
    python benchmarks/store_bench.py --size-mib 64 --repeat 3 --json bench.json

Options: ``--endpoint-url``, ``--key``, ``--secret`` (default: the environment variables above), ``--bucket``
(default ``storage-hub-bench``, created if missing), ``--repeat``, ``--size-mib``, ``--objects``, ``--json FILE``.
The exit status is 0 whether or not the targets are met (they are reported as PASS/MISS); 2 on bad usage.

Memory: the script itself holds one copy of the object (the source bytes while writing, one result while
reading); the clients add their own buffers (s3fs ``pipe_file``/``cat_file`` up to ~2-3 more), so the peak RSS,
printed at the end, is about 4-5x ``--size-mib``. With the defaults the run takes about 1.5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import gc
import hashlib
import io
import os
import platform
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from typing import Any

import s3fs
from _common import (
    REGION,
    boto3_readers,
    delete_prefix,
    ensure_bucket,
    phase,
    print_table,
    raw_client,
    same_bytes,
    server_arguments,
    write_json,
)
from boto3.s3.transfer import TransferConfig

from storage_hub import DataStore, Store, open_store
from storage_hub.backends.s3 import S3Backend

MiB = 2**20
MB = 10**6
FOLDER = "many"
SOURCE = "big/storage_hub.bin"
LIST_TARGET = 1.2
TRANSFER_TARGET = 1.1
FILL_THREADS = 16
CHECKSUMS: dict[str, str] = {
    "request_checksum_calculation": "when_required",
    "response_checksum_validation": "when_required",
}

SH = "storage_hub"


# -- request counting ---------------------------------------------------------------------------------------------
class RequestCounter:
    """Counts S3 API calls of botocore / aiobotocore clients (thread-safe: TransferManager uses threads)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call.s3", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.counts[model.name] += 1

    def clear(self) -> None:
        with self._lock:
            self.counts.clear()

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self.counts)


@dataclass
class Client:
    """One contender: how to run the operation once, and where its request counts are."""

    name: str
    run: Callable[[], object]
    counts: Callable[[], Counter[str]]
    clear: Callable[[], None]
    check: Callable[[object], None] = lambda _: None


@dataclass
class Result:
    """The timings of one client on one operation."""

    operation: str
    client: str
    seconds: list[float]
    requests: dict[str, int]
    requests_vary: bool = False
    size_bytes: int | None = None
    ratio: float | None = None
    ratio_to: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def mb_per_s(self) -> float | None:
        return self.size_bytes / self.median / MB if self.size_bytes else None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(median_s=self.median, mb_per_s=self.mb_per_s)
        return data


@dataclass
class Target:
    name: str
    ratio: float
    limit: float
    against: str

    @property
    def ok(self) -> bool:
        return self.ratio <= self.limit


# -- setup ----------------------------------------------------------------------------------------------------------
def make_s3fs(args: argparse.Namespace) -> s3fs.S3FileSystem:
    return s3fs.S3FileSystem(
        endpoint_url=args.endpoint_url,
        key=args.key,
        secret=args.secret,
        use_listings_cache=False,
        skip_instance_cache=True,
        client_kwargs={"region_name": REGION},
        config_kwargs={"s3": {"addressing_style": "path"}, **CHECKSUMS},
    )


def fill_folder(client: Any, bucket: str, prefix: str, count: int) -> float:
    """Put ``count`` small objects in ``prefix/FOLDER/`` with a thread pool; returns the seconds taken."""
    started = time.perf_counter()

    def put(i: int) -> None:
        client.put_object(Bucket=bucket, Key=f"{prefix}{FOLDER}/obj-{i:06d}.txt", Body=b"%d\n" % i)

    with ThreadPoolExecutor(FILL_THREADS) as pool:
        for _ in pool.map(put, range(count)):
            pass
    return time.perf_counter() - started


def _malloc_trim() -> Callable[[], object]:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return lambda: None
    return lambda: trim(0)


MALLOC_TRIM = _malloc_trim()


def release_memory() -> None:
    """Between (untimed) operations: free the last result and hand freed heap back to the OS.

    Clients that read in many chunks from threads (TransferManager, aiohttp) leave glibc arenas full of freed
    8-50 MiB buffers; without a trim the process's RSS creeps up by hundreds of MiB over a run.
    """
    gc.collect()
    MALLOC_TRIM()


def peak_rss_mib() -> float | None:
    try:
        import resource
    except ImportError:  # not Unix
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# -- measuring ------------------------------------------------------------------------------------------------------
def measure(operation: str, clients: Sequence[Client], repeat: int, size: int | None = None) -> list[Result]:
    """Warm each client up once (checking its result), then time ``repeat`` interleaved rounds."""
    seconds: dict[str, list[float]] = {c.name: [] for c in clients}
    requests: dict[str, list[Counter[str]]] = {c.name: [] for c in clients}
    for client in clients:
        release_memory()
        client.check(client.run())
    for rnd in range(repeat):
        order = [clients[(i + rnd) % len(clients)] for i in range(len(clients))]
        for client in order:
            release_memory()
            client.clear()
            started = time.perf_counter()
            out = client.run()
            seconds[client.name].append(time.perf_counter() - started)
            requests[client.name].append(client.counts())
            del out
    results = []
    for client in clients:
        counts = requests[client.name]
        results.append(
            Result(
                operation,
                client.name,
                seconds[client.name],
                dict(sorted(counts[-1].items())),
                requests_vary=any(c != counts[-1] for c in counts),
                size_bytes=size,
            )
        )
    return results


def store_counter(store: Store) -> Counter[str]:
    backend = store.aio.backend
    if not isinstance(backend, S3Backend):
        raise TypeError(f"expected an S3 store, got {backend!r}")
    return backend.requests


@dataclass
class Bench:
    """The clients of one run, all on the same server, and where their requests are counted."""

    args: argparse.Namespace
    prefix: str
    store: Store
    boto: Any
    boto_counter: RequestCounter
    fs: s3fs.S3FileSystem
    fs_counter: RequestCounter

    def storage_hub(self, run: Callable[[], object], check: Callable[[object], None] = lambda _: None) -> Client:
        counts = store_counter(self.store)
        return Client(SH, run, lambda: Counter(counts), counts.clear, check)

    def raw_boto3(
        self, name: str, run: Callable[[], object], check: Callable[[object], None] = lambda _: None
    ) -> Client:
        return Client(name, run, self.boto_counter.snapshot, self.boto_counter.clear, check)

    def raw_s3fs(
        self, name: str, run: Callable[[], object], check: Callable[[object], None] = lambda _: None
    ) -> Client:
        return Client(name, run, self.fs_counter.snapshot, self.fs_counter.clear, check)

    def key(self, name: str) -> str:
        """The full key (without bucket) of store-relative ``name``."""
        return f"{self.prefix}{name}"

    def fs_path(self, name: str) -> str:
        return f"{self.args.bucket}/{self.prefix}{name}"


def bench_listing(b: Bench) -> list[Result]:
    args = b.args
    folder_key = b.key(FOLDER) + "/"

    def boto_list() -> int:
        found = 0
        for page in b.boto.get_paginator("list_objects_v2").paginate(
            Bucket=args.bucket, Prefix=folder_key, Delimiter="/"
        ):
            found += len(page.get("Contents", [])) + len(page.get("CommonPrefixes", []))
        return found

    def check_count(out: object) -> None:
        n = out if isinstance(out, int) else len(out) if isinstance(out, list) else -1
        if n != args.objects:
            raise RuntimeError(f"listing returned {n} entries, expected {args.objects}")

    clients = [
        b.storage_hub(lambda: b.store.ls(FOLDER), check_count),
        b.raw_s3fs("s3fs ls", lambda: b.fs.ls(b.fs_path(FOLDER), detail=True, refresh=True), check_count),
        b.raw_boto3("boto3 paginator", boto_list, check_count),
    ]
    results = measure(f"ls {args.objects} objects", clients, args.repeat)
    base = {r.client: r.median for r in results}
    results[0].ratio, results[0].ratio_to = results[0].median / base["boto3 paginator"], "boto3 paginator"
    results[0].notes.append(f"{results[0].median / base['s3fs ls']:.2f}x s3fs ls")
    return results


TRANSFER = TransferConfig()  # boto3's defaults: 8 MiB threshold and parts, 10 threads


def bench_write(b: Bench, data: bytes) -> list[Result]:
    bucket = b.args.bucket
    writers = [
        b.storage_hub(lambda: b.store.write_bytes(SOURCE, data)),
        b.raw_boto3("boto3 put_object", lambda: b.boto.put_object(Bucket=bucket, Key=b.key("big/put.bin"), Body=data)),
        b.raw_boto3(
            "boto3 upload_fileobj",
            lambda: b.boto.upload_fileobj(io.BytesIO(data), bucket, b.key("big/upload.bin"), Config=TRANSFER),
        ),
        b.raw_s3fs("s3fs pipe_file", lambda: b.fs.pipe_file(b.fs_path("big/pipe.bin"), data)),
    ]
    return measure(f"write {b.args.size_mib} MiB", writers, b.args.repeat, len(data))


def bench_read(b: Bench, size: int, digest: bytes) -> list[Result]:
    """Read back what storage_hub wrote; each client's first (untimed) read is checked against ``digest``."""
    boto_get, boto_download = boto3_readers(b.boto, b.args.bucket, b.key(SOURCE))
    check_bytes = same_bytes(size, digest)
    readers = [
        b.storage_hub(lambda: b.store.read_bytes(SOURCE), check_bytes),
        b.raw_boto3("boto3 get_object", boto_get, check_bytes),
        b.raw_boto3("boto3 download_fileobj", boto_download, check_bytes),
        b.raw_s3fs("s3fs cat_file", lambda: b.fs.cat_file(b.fs_path(SOURCE)), check_bytes),
    ]
    return measure(f"read {b.args.size_mib} MiB", readers, b.args.repeat, size)


def bench_transfer(b: Bench) -> list[Result]:
    size = b.args.size_mib * MiB
    data = os.urandom(size)
    digest = hashlib.sha256(data).digest()
    results = bench_write(b, data)
    del data  # from here on at most a read result and a client's own buffers are held
    results += bench_read(b, size, digest)
    for operation in {r.operation for r in results}:
        group = [r for r in results if r.operation == operation]
        fastest = min((r for r in group if r.client != SH), key=lambda r: r.median)
        for r in group:
            r.ratio, r.ratio_to = r.median / fastest.median, fastest.client
    return results


# -- reporting ------------------------------------------------------------------------------------------------------
def format_requests(result: Result) -> str:
    text = " ".join(f"{name}:{n}" for name, n in result.requests.items())
    return text + (" (varies)" if result.requests_vary else "")


def print_report(results: Sequence[Result], targets: Sequence[Target]) -> None:
    header = ("operation", "client", "median", "throughput", "requests (one op)", "ratio")
    rows: list[tuple[str, ...]] = []
    for r in results:
        median = f"{r.median * 1000:.1f} ms" if r.size_bytes is None else f"{r.median:.3f} s"
        throughput = f"{r.mb_per_s:.0f} MB/s" if r.mb_per_s is not None else ""
        ratio = f"{r.ratio:.2f}x {r.ratio_to}" if r.ratio is not None and r.client == SH else ""
        if r.ratio is not None and r.client != SH:
            ratio = "fastest raw" if r.ratio_to == r.client else f"{r.ratio:.2f}x"
        if r.notes:
            ratio = "; ".join([ratio, *r.notes])
        rows.append((r.operation, r.client, median, throughput, format_requests(r), ratio))
    print_table(header, rows)
    print("targets")
    for t in targets:
        verdict = "PASS" if t.ok else "MISS"
        print(f"  {verdict}  {t.name}: {t.ratio:.2f}x {t.against} (target <= {t.limit}x)")


def contenders(
    args: argparse.Namespace, prefix: str
) -> tuple[DataStore, Any, RequestCounter, s3fs.S3FileSystem, RequestCounter]:
    """The clients compared, on the same server and prefix: storage_hub's store, boto3 and s3fs (their requests
    counted)."""
    boto_counter, fs_counter = RequestCounter(), RequestCounter()
    boto = raw_client(args.endpoint_url, args.key, args.secret)
    boto_counter.attach(boto)
    fs = make_s3fs(args)
    fs.connect()
    fs_counter.attach(fs.s3)
    store = open_store(
        f"s3://{args.bucket}/{prefix}",
        endpoint_url=args.endpoint_url,
        key=args.key,
        secret=args.secret,
        region=REGION,
        addressing_style="path",
    )
    return store, boto, boto_counter, fs, fs_counter


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    server_arguments(parser)
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions per client (default 5)")
    parser.add_argument("--size-mib", type=int, default=256, help="size of the transferred object (default 256)")
    parser.add_argument("--objects", type=int, default=2000, help="objects in the listed folder (default 2000)")
    parser.add_argument("--json", metavar="FILE", help="also write the results to FILE as JSON")
    args = parser.parse_args(argv)
    for name in ("endpoint_url", "key", "secret"):
        if not getattr(args, name):
            parser.error(f"--{name.replace('_', '-')} is required (or set the STORAGE_HUB_TEST_SEAWEEDFS* variables)")
    if args.repeat < 1 or args.size_mib < 1 or args.objects < 1:
        parser.error("--repeat, --size-mib and --objects must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    prefix = f"bench-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}/"
    versions = {p: version(p) for p in ("storage-hub", "boto3", "botocore", "aiobotocore", "s3fs")}
    print(f"storage_hub benchmark: {args.endpoint_url} bucket {args.bucket!r}, prefix {prefix!r}")
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs; "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
    )
    print(
        f"{args.objects} objects listed, {args.size_mib} MiB transferred, {args.repeat} timed repetitions "
        "(medians; MB = 10^6 bytes; clients interleaved)"
    )
    print(
        "all clients: path-style addressing, region us-east-1, request_checksum_calculation and "
        "response_checksum_validation = when_required (storage_hub's own settings)"
    )
    print()

    admin = raw_client(args.endpoint_url, args.key, args.secret, pool=FILL_THREADS)
    bench = Bench(args, prefix, *contenders(args, prefix))
    results: list[Result] = []
    try:
        ensure_bucket(admin, args.bucket)
        with phase(f"putting {args.objects} objects in {prefix}{FOLDER}/ ({FILL_THREADS} threads)"):
            fill_seconds = fill_folder(admin, args.bucket, prefix, args.objects)
        with phase(f"listing, {args.repeat} rounds"):
            results += bench_listing(bench)
        with phase(f"writing and reading {args.size_mib} MiB, {args.repeat} rounds"):
            results += bench_transfer(bench)
    finally:
        bench.store.close()
        with phase(f"deleting {prefix}"):
            deleted = delete_prefix(admin, args.bucket, prefix)
    peak = peak_rss_mib()
    peak_text = f"; peak RSS of this process {peak:.0f} MiB" if peak is not None else ""
    print(f"(filled the folder in {fill_seconds:.1f} s; deleted {deleted} objects afterwards{peak_text})")
    print()

    sh = {r.operation: r for r in results if r.client == SH}
    targets = []
    for operation, r in sh.items():
        if r.ratio is None or r.ratio_to is None:
            continue
        limit = LIST_TARGET if r.operation.startswith("ls") else TRANSFER_TARGET
        against = "one raw ListObjectsV2 pagination" if limit == LIST_TARGET else f"fastest raw ({r.ratio_to})"
        targets.append(Target(f"storage_hub {operation}", r.ratio, limit, against))
    print_report(results, targets)

    if args.json:
        payload = {
            "endpoint_url": args.endpoint_url,
            "bucket": args.bucket,
            "prefix": prefix,
            "objects": args.objects,
            "size_bytes": args.size_mib * MiB,
            "repeat": args.repeat,
            "versions": versions,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "peak_rss_mib": peak,
            "results": [r.as_json() for r in results],
            "targets": [{**asdict(t), "ok": t.ok} for t in targets],
        }
        write_json(args.json, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
