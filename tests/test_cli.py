"""The `storage-hub` command: doctor and ls, against a real server and a dead endpoint."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from click.testing import CliRunner

from storage_hub import open_store
from storage_hub.cli import main

from .conftest import S3Server
from .processes import storage_hub_command


def _env(server: S3Server) -> dict[str, str]:
    return {"AWS_ACCESS_KEY_ID": server.key, "AWS_SECRET_ACCESS_KEY": server.secret}


def test_doctor_passes_on_a_working_store(s3_server: S3Server, s3_url: str) -> None:
    result = CliRunner().invoke(
        main, ["doctor", f"cortx://{s3_url}/", "--endpoint-url", s3_server.endpoint], env=_env(s3_server)
    )
    assert result.exit_code == 0, result.output
    for name in ("reachable", "credentials", "clock", "bucket", "list", "capabilities"):
        assert name in result.output
    assert "conditional_writes=False" in result.output  # the CORTX profile
    assert "all checks passed" in result.output


def test_doctor_says_what_to_fix() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = CliRunner().invoke(main, ["doctor", "s3://bucket/", "--endpoint-url", f"http://127.0.0.1:{port}"])
    assert result.exit_code == 1
    assert "FAIL" in result.output and "fix: check endpoint_url" in result.output
    assert "Traceback" not in result.output


def test_doctor_wrong_secret(s3_server: S3Server, s3_url: str) -> None:
    env = {"AWS_ACCESS_KEY_ID": s3_server.key, "AWS_SECRET_ACCESS_KEY": "wrong-secret-value"}
    result = CliRunner().invoke(main, ["doctor", f"s3://{s3_url}/", "--endpoint-url", s3_server.endpoint], env=env)
    assert result.exit_code == 1
    assert "fix: check the secret key" in result.output
    assert "wrong-secret-value" not in result.output


def test_doctor_missing_bucket(s3_server: S3Server) -> None:
    result = CliRunner().invoke(
        main, ["doctor", "s3://absent-bucket-9/", "--endpoint-url", s3_server.endpoint], env=_env(s3_server)
    )
    assert result.exit_code == 1
    assert "absent-bucket-9" in result.output


def test_ls(s3_server: S3Server, s3_url: str) -> None:
    with open_store(f"s3://{s3_url}/", **s3_server.options()) as store:
        store.write_bytes("a b/é.txt", b"12345")
        store.mkdir("empty")
    runner = CliRunner()
    args = [f"s3://{s3_url}/", "--endpoint-url", s3_server.endpoint]
    result = runner.invoke(main, ["ls", *args], env=_env(s3_server))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith("  a b/") and lines[1].endswith("  empty/") and len(lines) == 2
    result = runner.invoke(main, ["ls", *args, "-r"], env=_env(s3_server))
    assert "a b/é.txt" in result.output and "5" in result.output.split()
    result = runner.invoke(main, ["ls", *args, "missing"], env=_env(s3_server))
    assert result.exit_code == 1 and result.output.startswith("error:") and "Traceback" not in result.output


def test_help_and_bad_option() -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["--help"]).exit_code == 0
    assert runner.invoke(main, ["doctor", "--help"]).exit_code == 0
    result = runner.invoke(main, ["ls", "memory://x", "-o", "novalue"])
    assert result.exit_code == 2


def command(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command, as the console script runs it (its quick exit included)."""
    return subprocess.run(storage_hub_command(*args), capture_output=True, text=True, check=False)


def test_the_command_exits_with_its_status_and_all_its_output(tmp_path: Path) -> None:
    listed = tmp_path / "listed"
    listed.mkdir()
    for i in range(3000):  # more than a pipe's buffer: what is still buffered at the exit must come out
        (listed / f"f{i:04d}.txt").write_bytes(b"")
    done = command("ls", str(listed))
    assert done.returncode == 0 and done.stderr == ""
    assert [line.rsplit(" ", 1)[-1] for line in done.stdout.splitlines()] == [f"f{i:04d}.txt" for i in range(3000)]
    done = command("ls", str(tmp_path / "missing"))
    assert done.returncode == 1 and done.stderr.startswith("error:") and "Traceback" not in done.stderr
    assert command("ls", "memory://x", "-o", "novalue").returncode == 2
    (tmp_path / "src").mkdir()
    (tmp_path / "dst").mkdir()
    (tmp_path / "src" / "a.txt").write_bytes(b"new")
    (tmp_path / "dst" / "a.txt").write_bytes(b"old")
    done = command("migrate", str(tmp_path / "src"), str(tmp_path / "dst"))
    assert done.returncode == 3 and "conflicts 1" in done.stdout, done.stdout + done.stderr
