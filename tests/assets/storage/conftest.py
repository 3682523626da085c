"""A place to publish under, on local disk and on an S3 server (moto's, in this process, for the session)."""

import uuid

import pytest
import services
from upath import UPath

from engine_assets.storage.objects import object_root


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path, monkeypatch) -> "UPath":
    """An empty directory: `tmp_path`, or a fresh prefix of the test bucket with the environment set to reach it."""
    if request.param == "local":
        return tmp_path
    endpoint = request.getfixturevalue("s3_endpoint")
    for name, value in {**services.AWS_ENV, "AWS_ENDPOINT_URL": endpoint}.items():
        monkeypatch.setenv(name, value)
    return object_root(f"s3://{services.BUCKET}/{uuid.uuid4().hex}")
