"""read_data / write_data / read_model / write_model: every format round-trips on local disk, SeaweedFS and Ceph
RGW, as store methods and as functions on the default store; bad input is a typed error that writes nothing."""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import storage_hub
from storage_hub import (
    DataStore,
    MissingDependency,
    NotFound,
    UnsupportedFormat,
    UntrustedModel,
    open_store,
    read_data,
    read_model,
    write_data,
    write_model,
)

from .conftest import TEST_BUCKET, S3Server, fresh_prefix

#: Names as the file browser shows them: spaces, accents, emoji, punctuation.
ODD = "dir é/a b 😀+&;$@%"


@pytest.fixture(params=["local", "seaweedfs", "ceph"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DataStore]:
    if request.param == "local":
        opened = open_store(str(tmp_path / "store"))
    else:
        server: S3Server = request.getfixturevalue(request.param)
        opened = open_store(f"s3://{TEST_BUCKET}/{fresh_prefix()}/", **server.options())
    with opened:
        yield opened


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"id": np.arange(5, dtype="int64"), "name": ["a", "b é", "c 😀", "d", "e"], "score": np.linspace(0, 1, 5)}
    )


# -- raw content ------------------------------------------------------------------------------------------------
def test_bytes_text_and_file_objects_round_trip(store: DataStore) -> None:
    assert store.write_data(f"{ODD}.bin", b"\x00\x01 raw").size == 6
    assert store.read_data(f"{ODD}.bin", as_="bytes") == b"\x00\x01 raw"
    store.write_data("notes.txt", "héllo\n")
    assert store.read_data("notes.txt", as_="text") == "héllo\n"
    store.write_data("latin.txt", "héllo", encoding="latin-1")
    assert store.read_data("latin.txt", as_="bytes") == "héllo".encode("latin-1")
    assert store.read_data("latin.txt", as_="text", encoding="latin-1") == "héllo"

    # A binary file object is streamed in; read_data gives a seekable binary file object back.
    payload = os.urandom(3 * 2**20 + 17)
    entry = store.write_data("copied.bin", io.BytesIO(payload))
    assert entry.size == len(payload)
    for stream in (False, True):
        with store.read_data("copied.bin", stream=stream) as file:
            assert file.seekable()
            file.seek(-17, io.SEEK_END)
            assert file.read() == payload[-17:]
            file.seek(0)
            assert file.read(5) == payload[:5]


def test_read_data_is_what_pandas_and_numpy_take(store: DataStore) -> None:
    store.write_data("datasets/ionosphere.csv", "1,0,0.99539,g\n1,0,1,b\n")
    df = pd.read_csv(store.read_data("datasets/ionosphere.csv"), header=None)
    assert df.shape == (2, 4)
    store.write_data("arrays/x.npy", np.arange(6).reshape(2, 3))
    assert np.load(store.read_data("arrays/x.npy")).tolist() == [[0, 1, 2], [3, 4, 5]]
    assert json.load(store.write_data("j.json", {"k": 1}) and store.read_data("j.json")) == {"k": 1}


# -- formats ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ext", ["csv", "parquet", "feather", "json"])
def test_dataframes_round_trip(store: DataStore, ext: str) -> None:
    df = frame()
    entry = store.write_data(f"{ODD}/table.{ext}", df)
    assert entry.size > 0
    for stream in (False, True):
        back = store.read_data(f"{ODD}/table.{ext}", as_="dataframe", stream=stream)
        pd.testing.assert_frame_equal(back, df, check_dtype=ext != "json")
    # Options go to pandas.
    store.write_data("semi.csv", df, sep=";")
    assert store.read_data("semi.csv", as_="text").splitlines()[0] == "id;name;score"
    pd.testing.assert_frame_equal(store.read_data("semi.csv", as_="dataframe", sep=";"), df)


def test_arrays_and_json_round_trip(store: DataStore) -> None:
    array = np.random.default_rng(1).normal(size=(40, 3)).astype("float32")
    store.write_data("arrays/x é.npy", array)
    back = store.read_data("arrays/x é.npy", as_="array")
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, array)
    store.write_data("arrays/one.npz", array)
    np.testing.assert_array_equal(store.read_data("arrays/one.npz", as_="arrays")["arr_0"], array)
    store.write_data("arrays/many.npz", {"x": array, "y": np.arange(3)}, compressed=True)
    many = store.read_data("arrays/many.npz", as_="arrays")
    assert sorted(many) == ["x", "y"]
    np.testing.assert_array_equal(many["y"], np.arange(3))
    value = {"name": "é 😀", "values": [1, 2.5, None, True]}
    store.write_data("config.json", value)
    assert store.read_data("config.json", as_="json") == value
    assert "é 😀" in store.read_data("config.json", as_="text")  # UTF-8, not \\u escapes
    store.write_data("list.json", [1, 2])
    assert store.read_data("list.json", as_="json") == [1, 2]


def test_unsupported_combinations_are_typed_errors_that_write_nothing(store: DataStore) -> None:
    with pytest.raises(UnsupportedFormat) as error:
        store.write_data("table.xlsx", frame())
    message = str(error.value)
    assert "table.xlsx" in message
    assert "pandas.DataFrame as .csv" in message and "numpy.ndarray as .npy" in message
    with pytest.raises(UnsupportedFormat, match=r"a dict as \.csv"):
        store.write_data("x.csv", {"a": 1})
    with pytest.raises(UnsupportedFormat, match="a set"):
        store.write_data("x.json", {1, 2})
    with pytest.raises(UnsupportedFormat, match="binary file object"):
        store.write_data("from text.txt", io.StringIO("text mode"))
    assert isinstance(error.value, ValueError)
    assert store.ls("") == []

    store.write_data("x.csv", "a\n1\n")
    with pytest.raises(UnsupportedFormat, match=r"as_='array'\) reads .npy"):
        store.read_data("x.csv", as_="array")
    with pytest.raises(UnsupportedFormat, match="as_ must be one of"):
        store.read_data("x.csv", as_="table")  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        store.read_data("missing.csv", as_="dataframe")


def test_a_failed_write_leaves_the_previous_object(store: DataStore) -> None:
    store.write_data("table.parquet", frame())

    class Exploding:
        """A file object that fails after 9 MiB, past the first flushed part."""

        def __init__(self) -> None:
            self.sent = 0

        def read(self, size: int = -1) -> bytes:
            if self.sent >= 9 * 2**20:
                raise OSError("source disk failed")
            self.sent += 2**20
            return b"x" * 2**20

    with pytest.raises(OSError, match="source disk failed"):
        store.write_data("table.parquet", Exploding())
    pd.testing.assert_frame_equal(store.read_data("table.parquet", as_="dataframe"), frame())
    with pytest.raises(OSError, match="source disk failed"):
        store.write_data("new.bin", Exploding())
    assert not store.exists("new.bin")
    assert sorted(e.name for e in store.ls("")) == ["table.parquet"]


# -- models -----------------------------------------------------------------------------------------------------
def classifier() -> Any:
    from sklearn.linear_model import LogisticRegression

    x = np.random.default_rng(0).normal(size=(30, 4))
    return LogisticRegression().fit(x, (x[:, 0] > 0).astype(int)), x


def test_skops_models_load_without_trust(store: DataStore) -> None:
    clf, x = classifier()
    store.write_model(f"{ODD}/clf.skops", clf)
    back = store.read_model(f"{ODD}/clf.skops")
    np.testing.assert_array_equal(back.predict(x), clf.predict(x))
    # Types skops does not trust by default are refused until named (or trusted=True).
    from sklearn.tree import DecisionTreeClassifier

    tree = DecisionTreeClassifier(random_state=0).fit(x, clf.predict(x))
    store.write_model("tree.skops", tree)
    with pytest.raises(UntrustedModel, match=r"trusted=\['sklearn.tree._tree.Tree'\]"):
        store.read_model("tree.skops")
    named = store.read_model("tree.skops", trusted=["sklearn.tree._tree.Tree"])
    np.testing.assert_array_equal(named.predict(x), tree.predict(x))
    assert store.read_model("tree.skops", trusted=True).get_depth() == tree.get_depth()


@pytest.mark.parametrize("ext", ["joblib", "pkl"])
def test_pickle_models_are_refused_unless_trusted(store: DataStore, ext: str) -> None:
    clf, x = classifier()
    store.write_model(f"models/clf.{ext}", clf)
    with pytest.raises(UntrustedModel) as refused:
        store.read_model(f"models/clf.{ext}")
    message = str(refused.value)
    assert f"clf.{ext}" in message and "trusted=True" in message and ".skops" in message
    assert "run" in message and "code" in message
    assert isinstance(refused.value, PermissionError)
    back = store.read_model(f"models/clf.{ext}", trusted=True)
    np.testing.assert_array_equal(back.predict(x), clf.predict(x))


def test_torch_state_dicts(store: DataStore) -> None:
    import torch

    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    store.write_model("models/net é.pt", net)
    state = store.read_model("models/net é.pt")
    fresh = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    fresh.load_state_dict(state)
    sample = torch.ones(2, 4)
    assert torch.equal(fresh(sample), net(sample))
    # A whole pickled object is code, not weights: refused unless trusted.
    store.write_model("models/whole.pt", {"model": classifier()[0]})
    with pytest.raises(UntrustedModel, match="trusted=True"):
        store.read_model("models/whole.pt")
    assert "model" in store.read_model("models/whole.pt", trusted=True)


# Keras' torch backend converts variables with np.array(x), which numpy 2 warns about; not our code.
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
def test_keras_models(store: DataStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_BACKEND", "torch")  # the backend installed with the tests; read when keras is imported
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(1)])
    x = np.ones((2, 4), dtype="float32")
    store.write_model("models/k é.keras", model)
    back = store.read_model("models/k é.keras")
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0))


def test_unknown_model_formats_and_missing_libraries(store: DataStore, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UnsupportedFormat, match=r".skops, .pt/.pth, .keras"):
        store.write_model("model.h5", object())
    store.write_data("m.keras", b"not really")
    monkeypatch.setitem(sys.modules, "keras", None)  # as if keras were not installed
    with pytest.raises(MissingDependency, match="pip install keras") as missing:
        store.read_model("m.keras")
    assert isinstance(missing.value, ImportError)
    store.write_data("x.csv", "a\n1\n")
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingDependency, match=r"storage-hub\[data\]"):
        store.read_data("x.csv", as_="dataframe")


# -- the default store ------------------------------------------------------------------------------------------
def test_functions_use_the_default_store(seaweedfs: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = fresh_prefix()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", seaweedfs.key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", seaweedfs.secret)
    monkeypatch.setenv("STORAGE_HUB_STORE", f"s3://{TEST_BUCKET}/{prefix}/")
    monkeypatch.setenv("STORAGE_HUB_STORE_OPTIONS", json.dumps({"endpoint_url": seaweedfs.endpoint}))
    write_data("results/scores.parquet", frame())
    pd.testing.assert_frame_equal(pd.read_parquet(read_data("results/scores.parquet")), frame())
    clf, x = classifier()
    write_model("models/clf.skops", clf)
    np.testing.assert_array_equal(read_model("models/clf.skops").predict(x), clf.predict(x))
    assert storage_hub.default_store() is storage_hub.default_store()
    client = seaweedfs.client()
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=TEST_BUCKET, Prefix=prefix + "/")["Contents"]}
    assert keys == {f"{prefix}/results/scores.parquet", f"{prefix}/models/clf.skops"}
    client.close()

    # Another setting, another default store.
    monkeypatch.setenv("STORAGE_HUB_STORE", f"s3://{TEST_BUCKET}/{prefix}/results/")
    assert [e.name for e in storage_hub.default_store().ls("")] == ["scores.parquet"]
    monkeypatch.delenv("STORAGE_HUB_STORE")
    monkeypatch.setenv("STORAGE_HUB_STORES_FILE", "/nonexistent/stores.toml")
    with pytest.raises(storage_hub.ConfigurationError, match="STORAGE_HUB_STORE"):
        read_data("results/scores.parquet")


# -- other tools on the same objects ----------------------------------------------------------------------------
def test_url_and_storage_options_reach_the_same_objects(store: DataStore) -> None:
    store.write_data(f"{ODD}/t.parquet", frame())
    url = store.url(f"{ODD}/t.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(url, storage_options=store.storage_options or None), frame())
    frame().to_csv(store.url("by pandas.csv"), index=False, storage_options=store.storage_options or None)
    pd.testing.assert_frame_equal(store.read_data("by pandas.csv", as_="dataframe"), frame())
    assert "secret" not in url


# Dask itself still calls pandas APIs that pandas 3.1 deprecates; not our code.
@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
def test_dask_on_a_local_cluster_reads_and_writes_parquet(seaweedfs: S3Server) -> None:
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    with open_store(f"s3://{TEST_BUCKET}/{fresh_prefix()}/", **seaweedfs.options()) as store:
        for part in range(3):
            store.write_data(f"t/part-{part}.parquet", frame().assign(part=part))
        with (
            LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
            Client(cluster),
        ):
            table = dd.read_parquet(store.url("t/*.parquet"), storage_options=store.storage_options)
            assert int(table["part"].sum().compute()) == 5 * (0 + 1 + 2)
            table[table["score"] > 0.5].to_parquet(store.url("filtered/"), storage_options=store.storage_options)
        written = [e.name for e in store.ls("filtered")]
        assert written and all(name.endswith(".parquet") for name in written)
        back = pd.concat(store.read_data(f"filtered/{name}", as_="dataframe") for name in sorted(written))
        assert len(back) == 3 * 2
