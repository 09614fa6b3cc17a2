"""The alphabet of the ids spotcheck makes paths, file names and template lookups from.

A policy id names its file (`policies/<id>.yaml`) and its templates' folder, and a draw folder's
transcript carries it to every later stage; task, campaign, cap, item-list and document ids reach
file names and pages. Letters, digits, Chinese characters, `-` and `_` only (and `/` between the
parts of a policy or item-list id), so no id, however tampered, leaves a folder or becomes a glob.
The same pattern is in the exported JSON Schemas, so an editor refuses what the loader refuses.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

_PART = r"[0-9A-Za-z_\u4e00-\u9fff-]+"
ID_PATTERN = rf"^{_PART}$"
PATH_ID_PATTERN = rf"^{_PART}(?:/{_PART})*$"
PATTERNS = (ID_PATTERN, PATH_ID_PATTERN)
HINT = "标识只能由字母、数字、汉字、- 和 _ 组成（策略和事项清单的标识可用 / 分段，如 hebei/qinhuangdao/2023）"

Id = Annotated[str, StringConstraints(strict=True, pattern=ID_PATTERN, max_length=100)]
PathId = Annotated[str, StringConstraints(strict=True, pattern=PATH_ID_PATTERN, max_length=200)]


def is_path_id(text: str) -> bool:
    return len(text) <= 200 and re.fullmatch(PATH_ID_PATTERN, text) is not None
