"""ndgrad.onnx (torch.onnx): importable, for the programs and models that import it at the top or ask
`is_in_onnx_export()` in forward. Exporting to ONNX is not implemented and says so."""
from __future__ import annotations

from typing import Any

__all__ = ["export", "is_in_onnx_export"]


def is_in_onnx_export() -> bool:
    """False: no ONNX export is ever running here."""
    return False


def export(model: Any, args: Any = (), f: Any = None, *rest: Any, **kwargs: Any) -> None:
    raise RuntimeError("ndgrad does not implement torch.onnx.export yet: there is no ONNX exporter. Save the "
                       "weights with torch.save(model.state_dict(), path) instead")
