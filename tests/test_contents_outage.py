"""The store going away under a running contents manager, and a store that cannot be used at start-up."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import urlsplit

import pytest
from nbformat import writes
from nbformat.v4 import new_code_cell, new_notebook
from tornado.web import HTTPError

from storage_hub.contents import StorageContentsManager

from .conftest import TEST_BUCKET, S3Server, fresh_prefix
from .tcp_proxy import TcpProxy


def notebook(source: str) -> dict[str, Any]:
    return json.loads(writes(new_notebook(cells=[new_code_cell(source)]), version=4))


def test_store_stopped_mid_session_loses_nothing(s3_server: S3Server) -> None:
    upstream = urlsplit(s3_server.endpoint)
    with TcpProxy((upstream.hostname or "127.0.0.1", upstream.port or 80)) as proxy:
        options = {**s3_server.options(), "endpoint_url": proxy.endpoint, "max_attempts": 2, "connect_timeout": 2}
        cm = StorageContentsManager(store_url=f"s3://{TEST_BUCKET}/{fresh_prefix()}/", store_options=options)

        async def scenario() -> None:
            await cm.save({"type": "notebook", "content": notebook("v1")}, "work.ipynb")
            proxy.stop()
            with pytest.raises(HTTPError) as info:
                await cm.save({"type": "notebook", "content": notebook("v2")}, "work.ipynb")
            assert info.value.status_code == 503
            assert "cannot reach" in str(info.value.log_message)
            with pytest.raises(HTTPError) as info:
                await cm.get("work.ipynb")
            assert info.value.status_code == 503
            proxy.start()
            assert (await cm.get("work.ipynb"))["content"]["cells"][0]["source"] == "v1"
            await cm.save({"type": "notebook", "content": notebook("v2")}, "work.ipynb")
            assert (await cm.get("work.ipynb"))["content"]["cells"][0]["source"] == "v2"

        asyncio.run(scenario())


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"bucket": "no-such-bucket-77"}, "bucket 'no-such-bucket-77' does not exist"),
        ({"secret": "wrong-secret-0000"}, "check the secret key"),
        ({"endpoint_url": "http://127.0.0.1:9"}, "cannot connect to 127.0.0.1:9"),
    ],
)
def test_unusable_store_stops_the_server_with_one_line(
    s3_server: S3Server, caplog: pytest.LogCaptureFixture, options: dict[str, str], expected: str
) -> None:
    options = dict(options)  # the parameter is shared by the runs on each server: don't change it
    bucket = options.pop("bucket", TEST_BUCKET)
    store_options = {**s3_server.options(), **options}
    with pytest.raises(SystemExit) as info:
        StorageContentsManager(store_url=f"s3://{bucket}/x/", store_options=store_options)
    assert info.value.code == 1
    critical = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(critical) == 1 and expected in critical[0]
    assert "wrong-secret-0000" not in caplog.text and "Traceback" not in caplog.text
