"""Record PyTorch's values for the `torch_ref` fixture (tests/_refs.py) into tests/references/.

Run with the pinned torch installed:  python tools/record_references.py [pytest args, e.g. tests/nn]
Without arguments it records for the whole suite. Commit the changed JSON files.
The `tv_ref` values (tests/vision) are recorded only where torchvision imports too: a venv with
torch==2.13.0, `pip install --no-deps torchvision==0.28.0` and `python tools/torchvision_cuda_stub.py`.
"""
from __future__ import annotations

import os
import subprocess
import sys


def main(argv: list[str]) -> int:
    try:
        import torch
    except ImportError:
        print("record_references: torch is not installed (pip install torch==2.13.0)", file=sys.stderr)
        return 2
    print(f"recording with torch {torch.__version__}")
    env = dict(os.environ, NDGRAD_RECORD="1")
    return subprocess.call([sys.executable, "-m", "pytest", "-q", *(argv or ["tests"])], env=env)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
