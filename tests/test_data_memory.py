"""A 1 GiB streamed write_data and read_data(stream=True) keep the process's peak memory within 100 MiB of where it
started: measured in a child process (its peak RSS, ``VmHWM``), so nothing else in the test run counts. Not
``ru_maxrss``: Linux carries that over from the forking parent across exec, so a large test runner would count."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import TEST_BUCKET, S3Server, fresh_prefix

GIB = 2**30
LIMIT = 100 * 2**20

CHILD = r"""
import hashlib, json, os, sys

from storage_hub import open_store

url, options, size = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])


class Source:
    # A binary file object of `size` pseudo-random bytes, made as they are read.
    def __init__(self):
        self.left, self.hash, self.block = size, hashlib.sha256(), os.urandom(2**20)

    def read(self, n=-1):
        n = self.left if n < 0 else min(n, self.left)
        out = (self.block * (n // len(self.block) + 1))[:n]
        self.left -= n
        self.hash.update(out)
        return out


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


store = open_store(url, **options)
store.write_data("warm-up.bin", b"x" * 2**20)  # imports, connection pools, threads
store.read_data("warm-up.bin", stream=True).read()
base = rss()
source = Source()
entry = store.write_data("big/one gib.bin", source)
read_hash = hashlib.sha256()
with store.read_data("big/one gib.bin", stream=True) as f:
    while chunk := f.read(8 * 2**20):
        read_hash.update(chunk)
with open("/proc/self/status") as f:
    peak = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
print(json.dumps({
    "size": entry.size, "same": read_hash.hexdigest() == source.hash.hexdigest(), "base": base, "peak": peak,
}))
store.delete("big", recursive=True)
"""


@pytest.mark.parametrize("backend", ["local", "seaweedfs"])
def test_one_gib_streamed_write_and_read_in_bounded_memory(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = dict(os.environ)
    if backend == "local":
        url, options = str(tmp_path / "store"), {}
    else:
        server: S3Server = request.getfixturevalue(backend)
        url, options = f"s3://{TEST_BUCKET}/{fresh_prefix()}/", {"endpoint_url": server.endpoint}
        env.update(AWS_ACCESS_KEY_ID=server.key, AWS_SECRET_ACCESS_KEY=server.secret)
    result = subprocess.run(
        [sys.executable, "-c", CHILD, url, json.dumps(options), str(GIB)],
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["size"] == GIB
    assert report["same"], "the bytes read back differ from those written"
    growth = report["peak"] - report["base"]
    assert growth < LIMIT, f"peak RSS grew by {growth / 2**20:.0f} MiB"
