"""Benchmark storage_hub's ``write_data`` / ``read_data`` on one S3 server beside the raw clients, in one run.

What it measures (all against the same server, same bucket, same process):

* writing one ``--size-mib`` object of random bytes: ``store.write_data(path, data)`` vs boto3 ``put_object``
  (one PUT), boto3 ``upload_fileobj`` (TransferManager, default settings), s3fs ``pipe`` and obstore ``put``
  (its defaults: multipart, 5 MiB parts, 12 in flight);
* reading it back (every client reads the object storage_hub wrote): ``store.read_data(path).read()`` and
  ``store.read_data(path, as_="bytes")`` vs boto3 ``get_object()["Body"].read()``, boto3 ``download_fileobj``
  into a ``BytesIO`` (TransferManager), s3fs ``cat`` and obstore ``get(...).bytes()``;
* reading a ``--parquet-mb`` Parquet table (random numbers, so it barely compresses) into pandas:
  ``store.read_data(path, as_="dataframe")`` vs ``pd.read_parquet(store.url(path),
  storage_options=store.storage_options)`` vs ``pd.read_parquet("s3://...", storage_options={key, secret,
  endpoint_url})``, plain s3fs options as a user would type them.

Each operation runs once untimed per client (warm-up, and a check of the result: the bytes' SHA-256, the frame's
equality), then ``--repeat`` rounds with the clients interleaved and the order rotated every round, so that they
share the server's noise. Medians are reported (MB = 10^6 bytes), with the slowest and fastest round, the S3
requests of one operation (storage_hub: ``store.aio.backend.requests``; boto3 and s3fs: botocore's
``before-call.s3`` event; obstore has no hook), and the ratio of storage_hub's throughput to the fastest raw
client's in the same run. The target is 0.9x or better for both directions.

boto3 and the s3fs writer / readers use storage_hub's botocore settings (path-style addressing, region
``us-east-1``, ``request_checksum_calculation`` / ``response_checksum_validation`` = ``when_required``);
obstore gets path-style addressing, region ``us-east-1`` and ``allow_http``. Everything written lives under a
fresh ``data-bench-*/`` prefix of the bucket, deleted at the end.

Run it with ``bash scripts/bench.sh data [options]`` (starts SeaweedFS on 127.0.0.1 and stops it after), or with
STORAGE_HUB_TEST_SEAWEEDFS, ..._KEY and ..._SECRET set::

    python benchmarks/data_bench.py                            # 512 MiB object, 200 MB table, 5 rounds
    python benchmarks/data_bench.py --size-mib 128 --repeat 3  # quicker
    python benchmarks/data_bench.py --skip parquet --json data.json

Memory: the script holds the source bytes and one read result; TransferManager's ``BytesIO`` and s3fs add their
own copies, so the peak RSS (printed) is about 3-4x ``--size-mib``. With the defaults a run takes 5-8 minutes
on 2 cores. The exit status is 0 whether or not the targets are met; 2 on bad usage.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import platform
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from _common import (
    REGION,
    boto3_readers,
    delete_prefix,
    ensure_bucket,
    load_average,
    phase,
    print_table,
    raw_client,
    same_bytes,
    server_arguments,
    write_json,
)
from store_bench import (
    MB,
    Client,
    RequestCounter,
    Result,
    contenders,
    peak_rss_mib,
    release_memory,
    store_counter,
)

from storage_hub import DataStore

MiB = 2**20
TARGET = 0.9
BIG = "big/storage_hub.bin"
TABLE = "table/t.parquet"
SH = "storage_hub"
PARQUET_COLUMNS = 5  # 4 float64 and 1 int64 column: 8 bytes a cell
PIECES = ("write", "read", "parquet")


@dataclass
class Timed(Result):
    """A result with the CPU time this process spent per round (all its threads: obstore's too)."""

    cpu_seconds: list[float] = field(default_factory=list)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_seconds)

    def as_json(self) -> dict[str, Any]:
        return {**super().as_json(), "cpu_median_s": self.cpu_median}


def cpu_time() -> float:
    return time.process_time()


def measure(operation: str, clients: Sequence[Client], repeat: int, size: int) -> list[Timed]:
    """Warm each client up once (checking its result), then time ``repeat`` rounds, the order rotated each round."""
    seconds: dict[str, list[float]] = {c.name: [] for c in clients}
    cpu: dict[str, list[float]] = {c.name: [] for c in clients}
    requests: dict[str, list[Counter[str]]] = {c.name: [] for c in clients}
    for client in clients:
        release_memory()
        client.check(client.run())
    for rnd in range(repeat):
        for client in [clients[(i + rnd) % len(clients)] for i in range(len(clients))]:
            release_memory()
            client.clear()
            started, started_cpu = time.perf_counter(), cpu_time()
            out = client.run()
            seconds[client.name].append(time.perf_counter() - started)
            cpu[client.name].append(cpu_time() - started_cpu)
            requests[client.name].append(client.counts())
            del out
    return [
        Timed(
            operation,
            c.name,
            seconds[c.name],
            dict(sorted(requests[c.name][-1].items())),
            requests_vary=any(r != requests[c.name][-1] for r in requests[c.name]),
            size_bytes=size,
            cpu_seconds=cpu[c.name],
        )
        for c in clients
    ]


@dataclass
class Target:
    """storage_hub's throughput over the fastest raw client's, for one operation."""

    name: str
    ratio: float
    against: str

    @property
    def ok(self) -> bool:
        return self.ratio >= TARGET


@dataclass
class Bench:
    """The clients of one run, all on the same server."""

    args: argparse.Namespace
    prefix: str
    store: DataStore
    boto: Any
    boto_counter: RequestCounter
    fs: Any
    fs_counter: RequestCounter
    obstore: Any  # an obstore S3Store, or None when obstore is not installed

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def fs_path(self, name: str) -> str:
        return f"{self.args.bucket}/{self.prefix}{name}"

    def sh(self, name: str, run: Callable[[], object], check: Callable[[object], None] = lambda _: None) -> Client:
        counts = store_counter(self.store)
        return Client(name, run, lambda: Counter(counts), counts.clear, check)

    def boto3(self, name: str, run: Callable[[], object], check: Callable[[object], None] = lambda _: None) -> Client:
        return Client(name, run, self.boto_counter.snapshot, self.boto_counter.clear, check)

    def s3fs(self, name: str, run: Callable[[], object], check: Callable[[object], None] = lambda _: None) -> Client:
        return Client(name, run, self.fs_counter.snapshot, self.fs_counter.clear, check)

    @staticmethod
    def uncounted(name: str, run: Callable[[], object], check: Callable[[object], None] = lambda _: None) -> Client:
        return Client(name, run, Counter, lambda: None, check)


def make_obstore(args: argparse.Namespace) -> Any:
    try:
        from obstore.store import S3Store
    except ImportError:
        return None
    return S3Store(
        args.bucket,
        endpoint=args.endpoint_url,
        access_key_id=args.key,
        secret_access_key=args.secret,
        region=REGION,
        virtual_hosted_style_request=False,
        client_options={"allow_http": True},
    )


def is_sh(result: Timed) -> bool:
    return result.client.startswith(SH)


def set_ratios(results: list[Timed]) -> list[Target]:
    """Throughput ratio of each storage_hub row to the fastest raw client of its operation (1.0 = as fast)."""
    targets = []
    for operation in dict.fromkeys(r.operation for r in results):
        group = [r for r in results if r.operation == operation]
        raw = [r for r in group if not is_sh(r)]
        if not raw:
            continue
        fastest = min(raw, key=lambda r: r.median)
        for r in group:
            r.ratio, r.ratio_to = fastest.median / r.median, fastest.client
            if is_sh(r) and not operation.startswith("parquet"):
                targets.append(Target(f"{r.client} ({operation})", r.ratio, fastest.client))
    return targets


# -- the operations -------------------------------------------------------------------------------------------------
def bench_write(b: Bench, data: bytes) -> list[Timed]:
    bucket = b.args.bucket
    writers = [
        b.sh(f"{SH} write_data", lambda: b.store.write_data(BIG, data)),
        b.boto3("boto3 put_object", lambda: b.boto.put_object(Bucket=bucket, Key=b.key("big/put.bin"), Body=data)),
        b.boto3(
            "boto3 upload_fileobj",
            lambda: b.boto.upload_fileobj(io.BytesIO(data), bucket, b.key("big/upload.bin")),
        ),
        b.s3fs("s3fs pipe", lambda: b.fs.pipe(b.fs_path("big/pipe.bin"), data)),
    ]
    if b.obstore is not None:
        import obstore

        writers.append(b.uncounted("obstore put", lambda: obstore.put(b.obstore, b.key("big/obstore.bin"), data)))
    return measure(f"write {b.args.size_mib} MiB", writers, b.args.repeat, len(data))


def bench_read(b: Bench, size: int, digest: bytes) -> list[Timed]:
    source = b.key(BIG)
    boto_get, boto_download = boto3_readers(b.boto, b.args.bucket, source)
    check = same_bytes(size, digest)
    readers = [
        b.sh(f"{SH} read_data().read()", lambda: b.store.read_data(BIG).read(), check),
        b.sh(f"{SH} read_data(as_='bytes')", lambda: b.store.read_data(BIG, as_="bytes"), check),
        b.boto3("boto3 get_object", boto_get, check),
        b.boto3("boto3 download_fileobj", boto_download, check),
        b.s3fs("s3fs cat", lambda: b.fs.cat(b.fs_path(BIG)), check),
    ]
    if b.obstore is not None:
        import obstore

        readers.append(b.uncounted("obstore get().bytes()", lambda: obstore.get(b.obstore, source).bytes(), check))
    return measure(f"read {b.args.size_mib} MiB", readers, b.args.repeat, size)


def parquet_frame(megabytes: int) -> Any:
    import numpy as np
    import pandas as pd

    rows = megabytes * MB // (8 * PARQUET_COLUMNS)
    rng = np.random.default_rng(0)
    columns: dict[str, Any] = {f"x{i}": rng.random(rows) for i in range(PARQUET_COLUMNS - 1)}
    columns["n"] = rng.integers(0, 2**62, rows)
    return pd.DataFrame(columns)


def bench_parquet(b: Bench) -> list[Timed]:
    import fsspec
    import pandas as pd

    frame = parquet_frame(b.args.parquet_mb)
    b.store.write_data(TABLE, frame)
    size = b.store.info(TABLE).size or 0
    url = b.store.url(TABLE)
    plain = {"key": b.args.key, "secret": b.args.secret, "endpoint_url": b.args.endpoint_url}

    # pandas finds these same cached s3fs instances from the URL and options, so their requests can be counted.
    counters = {}
    for name, options in (("store", b.store.storage_options), ("plain", plain)):
        fs = fsspec.filesystem("s3", **options)
        fs.connect()
        counters[name] = RequestCounter()
        counters[name].attach(fs.s3)

    def check(out: object) -> None:
        if not isinstance(out, pd.DataFrame) or not out.equals(frame):
            raise RuntimeError("read a different table than was written")

    def counted(name: str, options: str, run: Callable[[], object]) -> Client:
        counter = counters[options]
        return Client(name, run, counter.snapshot, counter.clear, check)

    readers = [
        b.sh(f"{SH} read_data(as_='dataframe')", lambda: b.store.read_data(TABLE, as_="dataframe"), check),
        counted(
            "pandas + store.url/storage_options",
            "store",
            lambda: pd.read_parquet(url, storage_options=b.store.storage_options),
        ),
        counted("pandas + plain s3fs options", "plain", lambda: pd.read_parquet(url, storage_options=plain)),
    ]
    return measure(f"parquet {size / MB:.0f} MB", readers, b.args.repeat, size)


# -- reporting ------------------------------------------------------------------------------------------------------
def format_requests(result: Timed) -> str:
    if not result.requests and result.client.startswith("obstore"):
        return "n/a"
    text = " ".join(f"{name}:{n}" for name, n in result.requests.items())
    return text + (" (varies)" if result.requests_vary else "")


def print_report(results: Sequence[Timed], targets: Sequence[Target]) -> None:
    header = ("operation", "client", "median", "MB/s", "slowest-fastest", "CPU", "requests (one op)", "vs fastest raw")
    rows: list[tuple[str, ...]] = []
    for r in results:
        size = r.size_bytes or 0
        spread = f"{size / max(r.seconds) / MB:.0f}-{size / min(r.seconds) / MB:.0f}"
        ratio = ""
        if r.ratio is not None:
            ratio = "fastest raw" if r.ratio_to == r.client else f"{r.ratio:.2f}x"
        cpu = f"{r.cpu_median:.2f} s"
        rows.append(
            (
                r.operation,
                r.client,
                f"{r.median:.3f} s",
                f"{r.mb_per_s or 0:.0f}",
                spread,
                cpu,
                format_requests(r),
                ratio,
            )
        )
    print_table(header, rows)
    print(f"targets (storage_hub's throughput / the fastest raw client's, >= {TARGET}x)")
    for t in targets:
        print(f"  {'PASS' if t.ok else 'MISS'}  {t.name}: {t.ratio:.2f}x {t.against}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    server_arguments(parser)
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds per client (default 5)")
    parser.add_argument("--size-mib", type=int, default=512, help="size of the transferred object (default 512)")
    parser.add_argument("--parquet-mb", type=int, default=200, help="size of the Parquet table (default 200)")
    parser.add_argument("--skip", default="", help=f"comma-separated parts to leave out: {', '.join(PIECES)}")
    parser.add_argument("--json", metavar="FILE", help="also write the results to FILE as JSON")
    args = parser.parse_args(argv)
    for name in ("endpoint_url", "key", "secret"):
        if not getattr(args, name):
            parser.error(f"--{name.replace('_', '-')} is required (or set the STORAGE_HUB_TEST_SEAWEEDFS* variables)")
    if args.repeat < 1 or args.size_mib < 1 or args.parquet_mb < 1:
        parser.error("--repeat, --size-mib and --parquet-mb must be positive")
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if args.skip - set(PIECES):
        parser.error(f"--skip takes {', '.join(PIECES)}, not {', '.join(sorted(args.skip - set(PIECES)))}")
    return args


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def run(bench: Bench, admin: Any) -> tuple[list[Timed], int]:
    """Run the parts not skipped; returns their results and how many objects were deleted afterwards."""
    args, store, prefix = bench.args, bench.store, bench.prefix
    results: list[Timed] = []
    try:
        ensure_bucket(admin, args.bucket)
        size = args.size_mib * MiB
        data = os.urandom(size)
        digest = hashlib.sha256(data).digest()
        if "write" not in args.skip:
            with phase(f"writing {args.size_mib} MiB, {args.repeat} rounds"):
                results += bench_write(bench, data)
        elif "read" not in args.skip:
            store.write_data(BIG, data)
        del data  # from here on the script holds at most one read result
        if "read" not in args.skip:
            with phase(f"reading {args.size_mib} MiB, {args.repeat} rounds"):
                results += bench_read(bench, size, digest)
        if "parquet" not in args.skip:
            with phase(f"reading a {args.parquet_mb} MB Parquet table into pandas, {args.repeat} rounds"):
                results += bench_parquet(bench)
    finally:
        store.close()
        with phase(f"deleting {prefix}"):
            deleted = delete_prefix(admin, args.bucket, prefix)
    return results, deleted


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    prefix = f"data-bench-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}/"
    packages = ("storage-hub", "boto3", "botocore", "s3fs", "obstore", "pandas", "pyarrow")
    versions = {p: package_version(p) for p in packages}
    print(f"storage_hub data benchmark: {args.endpoint_url} bucket {args.bucket!r}, prefix {prefix!r}")
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs; "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
    )
    print(
        f"{args.size_mib} MiB written and read, {args.parquet_mb} MB Parquet table, {args.repeat} timed rounds "
        "(medians; MB = 10^6 bytes; clients interleaved, order rotated each round)"
    )
    load_before = load_average()
    print()

    admin = raw_client(args.endpoint_url, args.key, args.secret)
    bench = Bench(args, prefix, *contenders(args, prefix), make_obstore(args))
    if bench.obstore is None:
        print("obstore: UNAVAILABLE (not installed: pip install obstore); its rows are left out\n")
    results, deleted = run(bench, admin)
    peak = peak_rss_mib()
    print(f"(deleted {deleted} objects afterwards" + (f"; peak RSS of this process {peak:.0f} MiB)" if peak else ")"))
    # Other work on the machine shifts every client's figures; the load average says how much there was.
    print(f"load average (1 min) at the start {load_before}, at the end {load_average()}; {os.cpu_count()} CPUs")
    print()
    targets = set_ratios(results)
    print_report(results, targets)

    if args.json:
        payload = {
            "endpoint_url": args.endpoint_url,
            "bucket": args.bucket,
            "prefix": prefix,
            "size_bytes": args.size_mib * MiB,
            "parquet_mb": args.parquet_mb,
            "repeat": args.repeat,
            "versions": versions,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "peak_rss_mib": peak,
            "load_average": [load_before, load_average()],
            "results": [r.as_json() for r in results],
            "targets": [{**asdict(t), "ok": t.ok} for t in targets],
        }
        write_json(args.json, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
