"""``storage-hub migrate`` and ``cp`` between local disk, SeaweedFS and Ceph RGW: complete, verified, safe with
conflicts, resumable after a kill or a server that goes away, and deleting from the source only what is verified."""

from __future__ import annotations

import asyncio
import filecmp
import hashlib
import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from storage_hub import open_store
from storage_hub.cli import main
from storage_hub.migrate import transfer

from .conftest import TEST_BUCKET, S3Server, fresh_prefix
from .processes import storage_hub_command
from .tcp_proxy import TcpProxy

MiB = 2**20


def make_tree(root: Path, *, small: int = 1000, big: int = 300 * MiB) -> None:
    """Small files in folders, unicode names, a 0-byte file, checkpoints, empty folders and one big file."""
    for i in range(small):
        path = root / "notebooks" / f"nb {i // 100}" / f"file {i} é.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"line {i}\n" * (i % 7))  # every 7th is empty
    (root / "zero.bin").write_bytes(b"")
    odd = root / "données" / "日本語 ✓" / "naïve 😀+&;$@%.csv"
    odd.parent.mkdir(parents=True)
    odd.write_text("a,b\n1,2\n")
    checkpoints = root / "notebooks" / ".ipynb_checkpoints" / "analysis.ipynb"
    checkpoints.mkdir(parents=True)
    for stamp in ("20261126T101500-aa", "20261126T101700-bb"):
        (checkpoints / stamp).write_text(json.dumps({"cells": [], "stamp": stamp}))
    (root / "empty one").mkdir()
    (root / "deep" / "empty two").mkdir(parents=True)
    if big:
        (root / "big").mkdir()
        with (root / "big" / "model weights.bin").open("wb") as f:
            for _ in range(big // (16 * MiB)):
                f.write(os.urandom(16 * MiB))


def tree(root: Path) -> tuple[set[str], set[str]]:
    """(files, folders) below ``root``, as relative paths."""
    files, folders = set(), set()
    for folder, dirs, names in os.walk(root):
        rel = Path(folder).relative_to(root)
        folders.update(str(rel / d) for d in dirs)
        files.update(str(rel / n) for n in names)
    return files, folders


def assert_same_tree(a: Path, b: Path) -> None:
    assert tree(a) == tree(b)
    for name in tree(a)[0]:
        assert filecmp.cmp(a / name, b / name, shallow=False), name


@pytest.fixture
def stores_file(tmp_path: Path, seaweedfs: S3Server, ceph: S3Server, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Named stores on both servers, each with its own credentials, as a user keeps them (nothing on a command
    line); returns the prefix of each."""
    prefixes = {"sw": fresh_prefix(), "ceph": fresh_prefix()}
    lines = []
    for name, server in (("sw", seaweedfs), ("ceph", ceph)):
        lines += [
            f"[stores.{name}]",
            f'url = "s3://{TEST_BUCKET}/{prefixes[name]}/"',
            f'endpoint_url = "{server.endpoint}"',
            f'key = "{server.key}"',
            f'secret = "{server.secret}"',
        ]
    path = tmp_path / "stores.toml"
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("STORAGE_HUB_STORES_FILE", str(path))
    return prefixes


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_round_trip_local_seaweedfs_ceph_local(tmp_path: Path, stores_file: dict[str, str]) -> None:
    source, back = tmp_path / "source", tmp_path / "back"
    make_tree(source)
    report = tmp_path / "report.json"
    for src, dst in ((str(source), "sw"), ("sw", "ceph"), ("ceph", str(back))):
        result = run("migrate", src, dst, "--report", str(report))
        assert result.exit_code == 0, result.output
        summary = json.loads(report.read_text())["summary"]
        assert summary["copied"]["objects"] == 1000 + 1 + 1 + 2 + 1
        assert summary["failed"] == 0 and summary["conflicts"]["objects"] == 0
        assert summary["empty_folders"] == 2
    assert_same_tree(source, back)
    # The same migration again copies nothing: everything is already there, verified.
    result = run("migrate", "sw", "ceph", "--report", str(report))
    assert result.exit_code == 0, result.output
    summary = json.loads(report.read_text())["summary"]
    assert summary["copied"]["objects"] == 0 and summary["identical"]["objects"] == 1005


def test_dry_run_changes_nothing_and_lists_the_plan(tmp_path: Path, stores_file: dict[str, str]) -> None:
    source = tmp_path / "source"
    make_tree(source, small=20, big=0)
    assert run("migrate", str(source), "sw").exit_code == 0
    (source / "notebooks" / "nb 0" / "file 1 é.txt").write_text("changed locally\n")
    (source / "new file.txt").write_text("new\n")
    with open_store("sw") as store:
        before = [(e.path, e.etag) for e in store.find("")]
        result = run("migrate", str(source), "sw", "--dry-run")
        assert result.exit_code == 3, result.output  # the conflict it would leave
        assert [(e.path, e.etag) for e in store.find("")] == before
    assert "copy                 4  new file.txt" in result.output
    assert "conflict            16  notebooks/nb 0/file 1 é.txt" in result.output
    assert "plan: copy 1 objects" in result.output and "identical 23" in result.output
    assert "conflicts 1" in result.output


def test_conflicts_are_reported_and_left_untouched_unless_overwrite(
    tmp_path: Path, stores_file: dict[str, str]
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "a.txt").write_text("new version\n")
    (source / "b.txt").write_text("same\n")
    (source / "c.txt").write_text("content\n")
    with open_store("sw") as store:
        store.write_text("a.txt", "their version\n")
        store.write_text("b.txt", "same\n")
        store.write_text("c.txt", "")  # what an upload cut off after its headers leaves on SeaweedFS
        report = tmp_path / "r.json"
        result = run("migrate", str(source), "sw", "--report", str(report))
        assert result.exit_code == 3, result.output
        assert "conflict: a.txt differs at the destination; left untouched" in result.output
        assert store.read_text("a.txt") == "their version\n"
        assert store.read_text("c.txt") == "content\n"  # an empty file has nothing to lose: no conflict
        assert json.loads(report.read_text())["conflicts"] == [
            {"path": "a.txt", "source_size": 12, "destination_size": 14}
        ]
        result = run("migrate", str(source), "sw", "--overwrite")
        assert result.exit_code == 0, result.output
        assert store.read_text("a.txt") == "new version\n"


def test_delete_source_removes_only_verified_objects(tmp_path: Path, stores_file: dict[str, str]) -> None:
    source = tmp_path / "source"
    make_tree(source, small=30, big=0)
    with open_store("sw") as store:
        store.write_text("zero.bin", "a different file already there")  # a conflict: must stay in the source
        result = run("migrate", str(source), "sw", "--delete-source")
        assert result.exit_code == 3, result.output
        files, folders = tree(source)
        assert files == {"zero.bin"}
        assert folders == set()  # every folder was emptied and removed
        assert len([e for e in store.find("") if not e.is_dir]) == 30 + 1 + 1 + 2


def test_same_server_copies_server_side_and_cortx_profile_works(
    tmp_path: Path, seaweedfs: S3Server, stores_file: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The 20 MiB file goes the streamed way (multipart upload, verified by reading it back), as a file over
    # WHOLE_LIMIT would: this keeps that path covered with a small file.
    monkeypatch.setattr(transfer, "WHOLE_LIMIT", 8 * MiB)
    source = tmp_path / "source"
    make_tree(source, small=10, big=20 * MiB)
    assert run("migrate", str(source), "sw").exit_code == 0
    prefix = fresh_prefix()
    # CORTX's profile on the same server: no conditional writes, no UploadPartCopy.
    target = f"cortx://{TEST_BUCKET}/{prefix}/"
    env = {"AWS_ACCESS_KEY_ID": seaweedfs.key, "AWS_SECRET_ACCESS_KEY": seaweedfs.secret}
    report = tmp_path / "r.json"
    result = run(
        "migrate",
        f"s3://{TEST_BUCKET}/{stores_file['sw']}/",
        target,
        "--src-endpoint-url",
        seaweedfs.endpoint,
        "--dest-endpoint-url",
        seaweedfs.endpoint,
        "--report",
        str(report),
        env=env,
    )
    assert result.exit_code == 0, result.output
    methods = {c["method"] for c in json.loads(report.read_text())["copied"]}
    assert methods == {"streamed", "whole"}  # s3 and cortx backends differ: copied through this process
    result = run(
        "migrate",
        target,
        f"cortx://{TEST_BUCKET}/{fresh_prefix()}/",
        "--src-endpoint-url",
        seaweedfs.endpoint,
        "--dest-endpoint-url",
        seaweedfs.endpoint,
        "--report",
        str(report),
        env=env,
    )
    assert result.exit_code == 0, result.output
    copied = json.loads(report.read_text())["copied"]
    assert {c["method"] for c in copied} == {"server-side"}
    assert all(c["checksum"].startswith(("md5:", "sha256:")) for c in copied)


def test_whole_copies_are_verified_without_head_or_read_back(tmp_path: Path, stores_file: dict[str, str]) -> None:
    """A whole copy is verified by the MD5 in the PUT's answer: one PUT per file at the destination, nothing else."""
    source = tmp_path / "source"
    make_tree(source, small=40, big=0)
    assert run("migrate", str(source), "sw").exit_code == 0
    report = tmp_path / "r.json"
    result = run("migrate", "sw", "ceph", "--report", str(report))
    assert result.exit_code == 0, result.output
    written = json.loads(report.read_text())
    files = 40 + 1 + 1 + 2
    assert {c["method"] for c in written["copied"]} == {"whole"}
    assert all(c["checksum"].startswith("md5:") for c in written["copied"])
    source_requests, destination_requests = written["requests"]["source"], written["requests"]["destination"]
    assert source_requests["GetObject"] >= files and "HeadObject" not in source_requests
    # The empty folders are made with a HEAD (is something there?) and a PUT of their marker each.
    folders = written["summary"]["empty_folders"]
    assert destination_requests["PutObject"] == files + folders
    assert destination_requests.get("HeadObject", 0) == folders
    assert "GetObject" not in destination_requests


def test_large_files_with_an_md5_are_piped_into_a_put_the_destination_checks(
    tmp_path: Path, stores_file: dict[str, str]
) -> None:
    """A file over PIPE_FROM whose source gives its MD5 streams from its GET into one PUT that Ceph RGW checks
    (Content-MD5) and answers with the MD5 it stored: no HEAD, no read back, nothing held whole in memory."""
    data = {f"big/{i} é.bin": os.urandom(transfer.PIPE_FROM + 1 + i * MiB) for i in range(3)}
    with open_store("sw") as store:
        for path, body in data.items():
            store.write_bytes(path, body)  # one PUT each: a plain MD5 ETag
    report = tmp_path / "r.json"
    result = run("migrate", "sw", "ceph", "--report", str(report))
    assert result.exit_code == 0, result.output
    written = json.loads(report.read_text())
    assert {c["path"]: (c["method"], c["checksum"]) for c in written["copied"]} == {
        path: ("piped", f"md5:{hashlib.md5(body).hexdigest()}") for path, body in data.items()
    }
    assert written["requests"]["destination"] == {"ListObjectsV2": 1, "PutObject": 3}
    with open_store("ceph") as store:
        assert {path: store.read_bytes(path) for path in data} == data


def test_memory_budget_bounds_the_bytes_in_flight() -> None:
    budget = transfer.MemoryBudget(100)
    held, peak = 0, 0

    async def copy(size: int) -> None:
        nonlocal held, peak
        async with budget.hold(size):
            held += min(size, 100)
            peak = max(peak, held)
            await asyncio.sleep(0.01)
            held -= min(size, 100)

    async def main() -> None:
        await asyncio.gather(*(copy(size) for size in (60, 30, 30, 500, 10, 90)))

    asyncio.run(main())
    assert peak <= 100  # a share larger than the budget (500) is cut to it and runs alone
    with pytest.raises(ValueError, match="positive"):
        transfer.MemoryBudget(0)


def test_the_echo_of_a_broken_connection_prints_no_traceback() -> None:
    """asyncio's "never retrieved" report of aiohttp's body writer, when a server goes away, is dropped."""
    from storage_hub.cli.transfer_commands import _BrokenConnectionEchoes

    def record(message: str, error: BaseException) -> logging.LogRecord:
        return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, message, None, (type(error), error, None))

    echo = _BrokenConnectionEchoes()
    assert not echo.filter(record("Task exception was never retrieved\nfuture: ...", ConnectionResetError("closing")))
    assert echo.filter(record("Task exception was never retrieved\nfuture: ...", ValueError("a real bug")))
    assert echo.filter(record("Unclosed client session", ConnectionResetError("closing")))


def test_cp_files_and_folders_and_ls(tmp_path: Path, stores_file: dict[str, str], seaweedfs: S3Server) -> None:
    source = tmp_path / "source"
    make_tree(source, small=5, big=0)
    env = {"AWS_ACCESS_KEY_ID": seaweedfs.key, "AWS_SECRET_ACCESS_KEY": seaweedfs.secret}
    url = f"s3://{TEST_BUCKET}/{stores_file['sw']}"
    common = ["--dest-endpoint-url", seaweedfs.endpoint]
    odd = source / "données" / "日本語 ✓" / "naïve 😀+&;$@%.csv"
    result = run("cp", str(odd), f"{url}/in/", *common, env=env)
    assert result.exit_code == 0, result.output
    result = run("cp", str(odd), f"{url}/renamed.csv", *common, env=env)
    assert result.exit_code == 0, result.output
    result = run("cp", str(source / "notebooks"), f"{url}/nb/", *common, env=env)
    assert result.exit_code == 0, result.output
    result = run("ls", f"{url}/", "--endpoint-url", seaweedfs.endpoint, "--recursive", env=env)
    assert result.exit_code == 0, result.output
    listed = {line.split(maxsplit=3)[-1] for line in result.output.splitlines()}
    assert {"in/naïve 😀+&;$@%.csv", "renamed.csv", "nb/nb 0/file 4 é.txt"} <= listed
    # A differing file is a conflict for cp too.
    result = run("cp", str(source / "zero.bin"), f"{url}/renamed.csv", *common, env=env)
    assert result.exit_code == 3
    with open_store("sw") as store:
        assert store.read_text("renamed.csv") == "a,b\n1,2\n"


# -- interruptions --------------------------------------------------------------------------------------------------
def migrate_process(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        storage_hub_command("migrate", *args),
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


@pytest.fixture
def interrupted_source(tmp_path: Path) -> Iterator[Path]:
    source = tmp_path / "source"
    make_tree(source, small=400, big=0)
    for i in range(6):
        (source / "big").mkdir(exist_ok=True)
        (source / "big" / f"part {i}.bin").write_bytes(os.urandom(24 * MiB))
    yield source


def objects(store_name: str) -> dict[str, int]:
    with open_store(store_name) as store:
        return {e.path: e.size for e in store.find("") if not e.is_dir}


def test_a_killed_migration_reruns_to_completion(
    interrupted_source: Path, tmp_path: Path, stores_file: dict[str, str]
) -> None:
    env = {"STORAGE_HUB_STORES_FILE": os.environ["STORAGE_HUB_STORES_FILE"]}
    process = migrate_process([str(interrupted_source), "sw", "--jobs", "2"], env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(objects("sw")) < 100:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
    partial = objects("sw")
    assert 100 <= len(partial) < 400 + 6 + 4, "the kill came too late to test anything"
    # Whatever is at the destination is whole: a killed upload leaves nothing at its path.
    for path, size in partial.items():
        assert size == (interrupted_source / path).stat().st_size, path
    result = run("migrate", str(interrupted_source), "sw")
    assert result.exit_code == 0, result.output
    back = tmp_path / "back"
    assert run("migrate", "sw", str(back)).exit_code == 0
    assert_same_tree(interrupted_source, back)


def test_a_destination_that_goes_away_then_rerun(interrupted_source: Path, tmp_path: Path, seaweedfs: S3Server) -> None:
    upstream = seaweedfs.endpoint.rsplit(":", 1)
    prefix = fresh_prefix()
    with TcpProxy((upstream[0].removeprefix("http://"), int(upstream[1]))) as proxy:
        env = {"AWS_ACCESS_KEY_ID": seaweedfs.key, "AWS_SECRET_ACCESS_KEY": seaweedfs.secret}
        dest = f"s3://{TEST_BUCKET}/{prefix}/"
        options = ["--dest-endpoint-url", proxy.endpoint, "--dest-option", "max_attempts=2"]
        options += ["--dest-option", "connect_timeout=2", "--jobs", "2"]
        process = migrate_process([str(interrupted_source), dest, *options], env)
        store: Any = open_store(dest, **seaweedfs.options())
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(store.find("")) < 100:
            time.sleep(0.2)
        proxy.stop()  # the server goes away mid-migration
        output, _ = process.communicate(timeout=240)
        assert process.returncode == 1, output
        assert "rerun the same command to finish" in output
        assert "Traceback" not in output
        proxy.start()
        result = run("migrate", str(interrupted_source), dest, *options, env=env)
        assert result.exit_code == 0, result.output
        back = tmp_path / "back"
        assert run("migrate", dest, str(back), "--src-endpoint-url", seaweedfs.endpoint, env=env).exit_code == 0
        assert_same_tree(interrupted_source, back)
        store.close()
