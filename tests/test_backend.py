"""The array-library seam: devices and the allocator tuning done at import."""
import subprocess
import sys

import pytest

import ndgrad
from ndgrad import _backend


def _tuned(env_extra: dict) -> str:
    import os
    env = dict(os.environ, **env_extra)
    code = "import ndgrad._backend as b; print(b.MALLOC_TUNED)"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True).stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc allocator tuning is Linux-only")
def test_malloc_tuning_can_be_turned_off_and_respects_user_thresholds():
    assert _tuned({"NDGRAD_MALLOC_TUNING": "0"}) == "False"
    assert _tuned({"MALLOC_TRIM_THRESHOLD_": "1000000"}) == "False"


def test_cpu_device_and_cuda_refused():
    assert ndgrad.device("cpu") == "cpu"
    assert repr(ndgrad.device("cpu")) == "device(type='cpu')"
    assert _backend.check_device(None) is _backend.CPU
    with pytest.raises(AssertionError, match="not compiled with CUDA"):
        ndgrad.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        ndgrad.device("tpu")
