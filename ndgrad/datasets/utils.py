"""Downloading dataset files: mirrors in order, resumable `.part` files, retries, checksums.

Only the standard library (urllib) is used.  The invariant: the final file name only ever holds
a complete file whose checksum matched; partial data lives in ``<name>.part`` (kept on network
errors so the next attempt resumes it with an HTTP Range request, deleted on a checksum mismatch).
"""
from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence

__all__ = [
    "DownloadError",
    "calculate_md5",
    "calculate_sha256",
    "check_integrity",
    "download_url",
]

_CHUNK = 1 << 16
_USER_AGENT = "ndgrad-datasets/1.0 (+urllib)"
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_CONTENT_RANGE_TOTAL = re.compile(r"/(\d+)")


class DownloadError(Exception):
    """One failed attempt; retryable unless ``retry`` is False."""

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


def _file_digest(path: str, algorithm: str) -> str:
    digest = hashlib.new(algorithm, usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def calculate_md5(path: str | os.PathLike[str]) -> str:
    return _file_digest(os.fspath(path), "md5")


def calculate_sha256(path: str | os.PathLike[str]) -> str:
    return _file_digest(os.fspath(path), "sha256")


def _mismatch(path: str, md5: str | None, sha256: str | None) -> str | None:
    """None when ``path`` matches the given checksums, else a description of the mismatch."""
    for algorithm, expected in (("md5", md5), ("sha256", sha256)):
        if expected:
            actual = _file_digest(path, algorithm)
            if actual.lower() != expected.lower():
                return f"expected {algorithm} {expected}, got {actual}"
    return None


def check_integrity(path: str | os.PathLike[str], md5: str | None = None,
                    sha256: str | None = None) -> bool:
    """True when ``path`` is a file matching the given checksums (no checksum: exists)."""
    path = os.fspath(path)
    return os.path.isfile(path) and _mismatch(path, md5, sha256) is None


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


def _fetch(url: str, part: str, timeout: float) -> None:
    """One HTTP request appending to (resuming) or rewriting ``part``; raises DownloadError."""
    offset = os.path.getsize(part) if os.path.exists(part) else 0
    headers = {"User-Agent": _USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:
            # Nothing left to send: the part is complete (the checksum will tell) or is
            # longer than the file, in which case it is useless.
            total = _CONTENT_RANGE_TOTAL.search(exc.headers.get("Content-Range", "") or "")
            if total is None or int(total.group(1)) != offset:
                _remove(part)
                raise DownloadError(f"HTTP 416 resuming at byte {offset}; restarting") from exc
            return
        retry = exc.code >= 500 or exc.code in (408, 429)
        raise DownloadError(f"HTTP {exc.code} {exc.reason}", retry=retry) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(f"{type(reason).__name__}: {reason}") from exc

    with response:
        status = getattr(response, "status", None) or 200  # file:// URLs have no status
        length_header = response.headers.get("Content-Length")
        expected = int(length_header) if length_header and length_header.isdigit() else None
        mode = "wb"
        if status == 206:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", "") or "")
            if match is not None and int(match.group(1)) == offset:
                mode = "ab"
            else:  # the server sent some other range: start over on the next attempt
                _remove(part)
                raise DownloadError(f"unexpected Content-Range resuming at byte {offset}")
        elif status != 200:
            raise DownloadError(f"unexpected HTTP status {status}")
        received = 0
        try:
            with open(part, mode) as fh:
                while block := response.read(_CHUNK):
                    fh.write(block)
                    received += len(block)
        except (OSError, http.client.HTTPException) as exc:
            raise DownloadError(f"connection lost after {received} bytes: {exc!r}") from exc
    if expected is not None and received < expected:
        raise DownloadError(f"connection closed after {received} of {expected} bytes")


def download_url(urls: str | Sequence[str], path: str | os.PathLike[str], *,
                 md5: str | None = None, sha256: str | None = None, retries: int = 3,
                 backoff: float = 1.0, timeout: float = 30.0, verbose: bool = True) -> str:
    """Download the first of ``urls`` (mirrors, tried in order) that works into ``path``.

    Each mirror gets ``retries`` further attempts after the first, sleeping
    ``backoff * 2**k`` seconds before retry k, and every attempt resumes what earlier ones
    left in ``path + '.part'``.  A file already at ``path`` that matches the checksums is
    kept (no download).  The result is verified against ``md5`` / ``sha256`` before it is
    renamed into place.  Raises RuntimeError, saying what went wrong per mirror and how to
    fetch the file by hand, when no mirror delivers a valid file.
    """
    path = os.fspath(path)
    urls = [urls] if isinstance(urls, str) else list(urls)
    if check_integrity(path, md5, sha256):
        return path
    if os.path.exists(path):
        if verbose:
            print(f"{path} is corrupt (checksum mismatch); downloading it again", file=sys.stderr)
        _remove(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    part = path + ".part"
    failures: list[str] = []
    for url in urls:
        error = _download_from(url, path, part, md5, sha256, retries, backoff, timeout, verbose)
        if error is None:
            return path
        failures.append(f"  {url}: {error}")
    checksum = f" (md5 {md5})" if md5 else f" (sha256 {sha256})" if sha256 else ""
    raise RuntimeError(
        f"Could not download {os.path.basename(path)}; every mirror failed:\n"
        + "\n".join(failures)
        + f"\nCheck your network connection and try again (a partial download is resumed), or "
        f"download the file yourself from one of the URLs above and save it as {path}"
        f"{checksum}.")


def _download_from(url: str, path: str, part: str, md5: str | None, sha256: str | None,
                   retries: int, backoff: float, timeout: float, verbose: bool) -> str | None:
    """Try one mirror; None on success (the file is in place), else the last error."""
    last = "no attempt made"
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        resumed = os.path.exists(part) and os.path.getsize(part) > 0
        if verbose:
            verb = "Resuming" if resumed else "Downloading"
            print(f"{verb} {url} to {path}", file=sys.stderr)
        try:
            _fetch(url, part, timeout)
        except DownloadError as exc:
            last = str(exc)
            if not exc.retry:
                return last
            continue
        problem = _mismatch(part, md5, sha256)
        if problem is None:
            os.replace(part, path)
            return None
        _remove(part)  # never keep bytes that failed the checksum
        last = f"checksum mismatch ({problem}); the bad download was deleted"
        if not resumed:
            return last  # a fresh, complete download is wrong: this mirror serves bad data
    return last
