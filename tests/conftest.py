"""Shared fixtures: synthetic directories shaped like the seed policies, made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from spotcheck import pipeline
from spotcheck.paths import POLICIES

SHUOZHOU = POLICIES / "shanxi/shuozhou/2021.yaml"
QINGDAO = POLICIES / "shandong/qingdao/2020.yaml"
LONGWAN = POLICIES / "zhejiang/wenzhou/longwan/2023.yaml"


@pytest.fixture(scope="session")
def shuozhou_dirs(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("shuozhou")
    pipeline.synthesize(SHUOZHOU, 6000, 400, "fixture", out)
    return out


@pytest.fixture(scope="session")
def longwan_dirs(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("longwan")
    pipeline.synthesize(LONGWAN, 3000, 300, "fixture", out)
    return out
