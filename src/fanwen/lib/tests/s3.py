"""A real S3 API on a local port (moto's server) and "nodes" that share its bucket.

A node is what one machine of a multi-node install has of its own: a VAR_DIR. Everything
the nodes must share goes through STORAGES, here a bucket of the moto server. Tests switch
nodes in one process; `node_env` gives the environment of a node in another process.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from django.core.cache import cache

__all__ = ["S3", "free_port", "node", "s3", "s3_endpoint"]

REGION = "us-east-1"
KEY_ID, SECRET = "testing", "testing-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class S3:
    endpoint: str
    bucket: str
    prefix: str

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=KEY_ID,
            aws_secret_access_key=SECRET,
        )

    def keys(self, under: str = "") -> list[str]:
        """The object keys under the prefix (+ `under`), without the prefix."""
        pages = self.client().get_paginator("list_objects_v2")
        start = f"{self.prefix}/{under}"
        return sorted(
            item["Key"].removeprefix(f"{self.prefix}/")
            for page in pages.paginate(Bucket=self.bucket, Prefix=start)
            for item in page.get("Contents", [])
        )

    def read(self, key: str) -> bytes:
        return (
            self.client().get_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")["Body"].read()
        )

    def storages(self) -> dict:
        """STORAGES as settings.py builds them for FANWEN_STORAGE=s3."""

        def storage(folder: str, overwrite: bool) -> dict:
            return {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": self.bucket,
                    "endpoint_url": self.endpoint,
                    "region_name": REGION,
                    "access_key": KEY_ID,
                    "secret_key": SECRET,
                    "location": f"{self.prefix}/{folder}",
                    "default_acl": None,
                    "file_overwrite": overwrite,
                },
            }

        return {
            "default": storage("media", overwrite=False),
            "fonts": storage("fonts", overwrite=True),
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }

    def env(self) -> dict[str, str]:
        """The environment that gives a process these storages (settings.py's variables)."""
        return {
            "FANWEN_STORAGE": "s3",
            "FANWEN_S3_BUCKET": self.bucket,
            "FANWEN_S3_ENDPOINT_URL": self.endpoint,
            "FANWEN_S3_REGION": REGION,
            "FANWEN_S3_PREFIX": self.prefix,
            "FANWEN_S3_ACCESS_KEY": KEY_ID,
            "FANWEN_S3_SECRET_KEY": SECRET,
        }


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_endpoint) -> S3:
    """A fresh bucket (and a prefix inside it, as FANWEN_S3_PREFIX gives) for one test."""
    bucket = S3(s3_endpoint, f"fanwen-{uuid.uuid4().hex[:12]}", "site")
    bucket.client().create_bucket(Bucket=bucket.bucket)
    return bucket


@pytest.fixture
def node(settings, s3, tmp_path):
    """node("a") makes this process node a: its own VAR_DIR, the shared bucket."""

    def switch(name: str) -> Path:
        var_dir = tmp_path / f"node-{name}"
        var_dir.mkdir(exist_ok=True)
        settings.VAR_DIR = var_dir
        # What a node keeps in a local folder follows VAR_DIR; nothing shared may live there.
        settings.FANWEN_FONT_DIR = str(var_dir / "fonts")
        settings.MEDIA_ROOT = var_dir / "media"
        settings.STORAGES = s3.storages()
        # Each machine has its own processes: nothing remembered in memory crosses over.
        cache.clear()
        return var_dir

    return switch
