"""torch.backends.opt_einsum: contraction-order optimisation for einsum (uses the opt_einsum package when
installed, as PyTorch does; ndgrad's einsum picks its own order either way)."""
from __future__ import annotations

from typing import Any



def is_available() -> bool:
    """Whether the opt_einsum package can be imported."""
    import importlib.util
    return importlib.util.find_spec("opt_einsum") is not None


enabled = is_available()  # as PyTorch: on when the package is there
strategy: str | None = "auto" if enabled else None


def get_opt_einsum() -> Any:
    """The opt_einsum module, or None when it is not installed."""
    if not is_available():
        return None
    import opt_einsum
    return opt_einsum
