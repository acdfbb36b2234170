"""TorchVersion: a version string that compares as a version (`torch.__version__ >= "2.0"`).

Programs gate features on the PyTorch release (`if torch.__version__ >= "2.0"`,
`version.parse(torch.__version__)`). The string stays a plain `str` for printing, splitting and
`packaging.version.parse`; comparisons parse both sides as release numbers with PEP 440's ordering of
pre-releases (dev < a < b < rc < final < post), without needing the `packaging` package.
"""
from __future__ import annotations

import operator
import re
from typing import Any

__all__ = ["TorchVersion"]

_PATTERN_TEXT = r"""v?(?:(\d+)!)?(\d+(?:\.\d+)*)              # epoch, release
                          (?:[-_.]?(a|alpha|b|beta|c|rc|pre|preview)[-_.]?(\d*))?   # pre-release
                          (?:[-_.]?(post|rev|r)[-_.]?(\d*)|-(\d+))?  # post-release
                          (?:[-_.]?(dev)[-_.]?(\d*))?                # development release
                          (?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$     # local label
                  """
_PATTERN: list = []  # compiled on first use (keeps `import ndgrad` from paying for it)
_PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}


def _key(text: str) -> tuple:
    if not _PATTERN:
        _PATTERN.append(re.compile(_PATTERN_TEXT, re.VERBOSE | re.IGNORECASE))
    m = _PATTERN[0].match(text.strip())
    if m is None:
        raise ValueError(f"Invalid version: '{text}'")
    epoch, release, pre, pre_n, post, post_n, post_implicit, dev, dev_n, local = m.groups()
    nums = [int(p) for p in release.split(".")]
    while len(nums) > 1 and nums[-1] == 0:  # 2.0 == 2.0.0
        nums.pop()
    if pre:
        pre_key: tuple = (_PRE_RANK[pre.lower()], int(pre_n or 0))
    elif dev and not post and not post_implicit:
        pre_key = (-1, 0)  # 2.0.dev1 sorts before 2.0a1
    else:
        pre_key = (3, 0)   # a final release sorts after its pre-releases
    post_key = int(post_n or 0) if post else int(post_implicit) if post_implicit else -1
    dev_key = int(dev_n or 0) if dev else float("inf")
    # a local label ('+cpu') sorts after the bare release; numeric parts after alphabetic ones
    local_key = tuple((1, int(p), "") if p.isdigit() else (0, 0, p.lower())
                      for p in re.split(r"[-_.]", local)) if local else ()
    return (int(epoch or 0), tuple(nums), pre_key, post_key, dev_key, local_key)


def _other_key(other: Any) -> tuple:
    if isinstance(other, (tuple, list)):
        return _key(".".join(str(p) for p in other))
    if isinstance(other, str):
        return _key(other)
    release = getattr(other, "release", None)  # packaging.version.Version
    if release is not None:
        return _key(str(other))
    return None


class TorchVersion(str):
    """A `str` holding a version number that compares with strings, tuples and Version objects as versions.

    A string that is not a version is compared as a plain string; other types are not comparable.
    """

    def _compare(self, other: Any, op: Any) -> Any:
        try:
            b = _other_key(other)
        except ValueError:  # not a version: plain string order
            return op(str(self), str(other))
        if b is None:
            return NotImplemented
        return op(_key(self), b)

    def __lt__(self, other: Any) -> Any:
        return self._compare(other, operator.lt)

    def __le__(self, other: Any) -> Any:
        return self._compare(other, operator.le)

    def __gt__(self, other: Any) -> Any:
        return self._compare(other, operator.gt)

    def __ge__(self, other: Any) -> Any:
        return self._compare(other, operator.ge)

    def __eq__(self, other: Any) -> Any:
        return self._compare(other, operator.eq)

    __hash__ = str.__hash__
