"""Shared fixtures: stores in memory and on disk, the path of ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from worklife.config import Config
from worklife.store import Store, connect

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session", autouse=True)
def kept_sql_folder(tmp_path_factory) -> Path:
    """Kept box SQL (``worklife.metrics.sqlcache``) goes to this run's folder, not ~/.cache."""
    folder = tmp_path_factory.mktemp("worklife-cache")
    os.environ["WORKLIFE_CACHE_DIR"] = str(folder)
    return folder


@pytest.fixture
def config() -> Config:
    return Config()


@pytest.fixture
def store() -> Store:
    """An empty in-memory store."""
    s = connect(":memory:")
    yield s
    s.close()


@pytest.fixture
def file_store(tmp_path: Path) -> Store:
    """An empty store in a temporary file."""
    s = connect(tmp_path / "worklife.duckdb")
    yield s
    s.close()


def shared_path(*parts: str) -> Path:
    """A path under ../shared, skipping the test when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} is absent (real public data lives in ../shared)")
    return p


@pytest.fixture(scope="session")
def spark():
    """One local Spark session (2 cores) for every Spark test of the run; skips without Java/pyspark."""
    import shutil

    if shutil.which("java") is None:
        pytest.skip("Spark needs Java (no `java` on PATH)")
    pytest.importorskip("pyspark", reason="pyspark is not installed: pip install 'worklife[spark]'")
    from worklife.metrics.spark import spark_session

    session = spark_session("local[2]", "worklife-tests")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
