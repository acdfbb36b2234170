"""Helpers of torch.nn.modules.utils that user code calls."""
from __future__ import annotations

from typing import Any

__all__ = ["consume_prefix_in_state_dict_if_present"]


def consume_prefix_in_state_dict_if_present(state_dict: dict, prefix: str) -> None:
    """Remove `prefix` (e.g. "module." from a DistributedDataParallel or DataParallel checkpoint)
    from the keys that start with it, in place, so a plain model can load the state dict."""
    for key in [k for k in state_dict if k.startswith(prefix)]:
        state_dict[key[len(prefix):]] = state_dict.pop(key)
    meta: Any = getattr(state_dict, "_metadata", None)
    if meta is not None:
        bare = prefix.rstrip(".")
        for key in [k for k in meta if k and (k == bare or k.startswith(prefix))]:
            meta[key[len(prefix):]] = meta.pop(key)
