"""torch.hub's checkpoint cache: download a state_dict once, load it from the cache after.

Files live in ``<hub dir>/checkpoints/`` where the hub dir is ``$TORCH_HOME/hub`` (default
``$XDG_CACHE_HOME/torch/hub``, else ``~/.cache/torch/hub``), the directory PyTorch uses, so
checkpoints PyTorch already downloaded are found as they are.  Checkpoints are read with
:func:`ndgrad.load` (PyTorch's format, never executing code from the file).  Only the checkpoint
functions are provided; ``hub.load`` of repositories (which runs their code) is not.
"""
from __future__ import annotations

import hashlib
import os
import re
from typing import Any
from urllib.parse import urlparse

__all__ = ["download_url_to_file", "get_dir", "load_state_dict_from_url", "set_dir"]

_hub_dir: str | None = None
_HASH_IN_NAME = re.compile(r"-([a-f0-9]*)\.")


def get_dir() -> str:
    """The hub directory (see the module docstring); :func:`set_dir` overrides it."""
    if _hub_dir is not None:
        return _hub_dir
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.join("~", ".cache")), "torch")
    return os.path.join(os.path.expanduser(torch_home), "hub")


def set_dir(d: str | os.PathLike[str]) -> None:
    """Use ``d`` as the hub directory."""
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))


def download_url_to_file(url: str, dst: str, hash_prefix: str | None = None,
                         progress: bool = True) -> None:
    """Download ``url`` to ``dst`` (resumable, retried); with ``hash_prefix`` the file's
    SHA-256 must start with it, else it is deleted and RuntimeError is raised."""
    from .datasets.utils import download_url
    download_url([url], dst, verbose=progress)
    if hash_prefix:
        digest = hashlib.sha256(open(dst, "rb").read()).hexdigest()
        if not digest.startswith(hash_prefix):
            os.remove(dst)
            raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{digest}")')


def load_state_dict_from_url(url: str, model_dir: str | None = None, map_location: Any = None,
                             progress: bool = True, check_hash: bool = False,
                             file_name: str | None = None, weights_only: bool = False) -> Any:
    """The object saved at ``url`` (a state_dict), downloaded into ``model_dir`` (default
    ``<hub dir>/checkpoints``) unless already there.  ``check_hash``: the file name's
    ``-<hex>.`` part must prefix the file's SHA-256.  The file is always read as weights only
    (``weights_only`` is accepted for PyTorch's signature)."""
    from .serialization import load
    model_dir = model_dir or os.path.join(get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name or os.path.basename(urlparse(url).path)
    cached = os.path.join(model_dir, filename)
    if not os.path.exists(cached):
        match = _HASH_IN_NAME.search(filename) if check_hash else None
        download_url_to_file(url, cached, match.group(1) if match else None, progress=progress)
    return load(cached, map_location=map_location)
