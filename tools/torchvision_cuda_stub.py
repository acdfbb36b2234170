"""Let the registry's torchvision wheel import beside the CPU build of torch (tests only).

The torchvision==0.28.0 wheel on PyPI is a CUDA build: its extension ``torchvision/_C.so``
links libcudart.so.13, libc10_cuda.so and libtorch_cuda.so, which the CPU torch does not have,
so ``import torchvision`` fails.  Its CPU code never calls into CUDA; the loader only needs the
symbols to exist.  This script builds tiny stand-in libraries (with gcc) that define every
symbol _C.so takes from those three and that torch's own libraries do not provide: the
CUDA-runtime registration hooks that run when _C.so loads do nothing, ``device_count``
answers 0, and anything else aborts with a message if it is ever called.  It then writes a
``.pth`` file into the environment's site-packages that preloads the stand-ins (RTLD_GLOBAL),
so the loader finds them by their sonames when torchvision loads _C.so (and image.so, the
image decoders, which bring their own copy of the CUDA runtime).

Never part of ndgrad: it only makes the comparison library importable in a test environment.

    python tools/torchvision_cuda_stub.py          # in the venv that has torch + torchvision
    python tools/torchvision_cuda_stub.py --remove
"""
from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

CUDART = "libcudart.so.13"
STUB_LIBS = (CUDART, "libc10_cuda.so", "libtorch_cuda.so")
PTH_NAME = "ndgrad_torchvision_cuda_stub.pth"
# symbols that run while _C.so loads or that report "no GPU": they must answer, not abort
_QUIET = {
    "__cudaRegisterFatBinary": "static void *h[8]; return (long)h;",
    "_ZN3c104cuda12device_countEv": "return 0;",
    "cudaGetLastError": "return 0;",
    "cudaGetErrorString": 'return (long)"no CUDA (ndgrad test stub)";',
}
_QUIET_PREFIXES = ("__cudaRegister", "__cudaUnregister", "__cudaInitModule")
_DATA = ("_ZN3c104cuda20CUDACachingAllocator9allocatorE",)


def _site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def _defined(lib: Path) -> set[str]:
    out = subprocess.run(["nm", "-D", "--defined-only", str(lib)], capture_output=True, text=True,
                         check=True).stdout
    return {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}


def _missing_symbols(ext: Path, lib_dirs: list[Path]) -> tuple[list[str], list[str]]:
    """(CUDA-runtime symbols, other CUDA symbols) that ``ext`` needs and neither torch nor the
    libraries bundled with torchvision provide."""
    out = subprocess.run(["nm", "-D", "--undefined-only", str(ext)], capture_output=True, text=True,
                         check=True).stdout
    provided: set[str] = set()
    for folder in lib_dirs:
        for lib in folder.glob("lib*.so*"):
            provided |= _defined(lib)
    runtime, other = [], []
    for line in out.splitlines():
        kind, name = line.split()[-2:]
        if kind != "U":
            continue
        if name.endswith("@" + CUDART):
            runtime.append(name.split("@")[0])
        elif "@" not in name and name not in provided:
            other.append(name)
    return sorted(set(runtime)), sorted(set(other))


def _c_source(symbols: list[str]) -> str:
    lines = ["#include <stdio.h>", "#include <stdlib.h>"]
    for name in symbols:
        if name in _DATA:
            lines.append(f"void *{name} = 0;")
        elif name in _QUIET:
            lines.append(f"long {name}(void) {{ {_QUIET[name]} }}")
        elif name.startswith(_QUIET_PREFIXES):
            lines.append(f"long {name}(void) {{ return 0; }}")
        else:
            lines.append(f'long {name}(void) {{ fprintf(stderr, "ndgrad test stub: {name} called: '
                         f'this torchvision runs on CPU only\\n"); abort(); }}')
    return "\n".join(lines) + "\n"


def _build(source: str, soname: str, out: Path, version: str | None, work: Path) -> None:
    c_file = work / (soname + ".c")
    c_file.write_text(source)
    cmd = ["gcc", "-shared", "-fPIC", "-O1", f"-Wl,-soname,{soname}", "-o", str(out), str(c_file)]
    if version is not None:  # _C.so asks for the runtime's symbols at version "libcudart.so.13"
        script = work / (soname + ".map")
        script.write_text(f"{version} {{ global: *; }};\n")
        cmd.insert(-1, f"-Wl,--version-script={script}")
    subprocess.run(cmd, check=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--remove", action="store_true", help="delete the stubs and the .pth file")
    args = parser.parse_args(argv)
    site = _site_packages()
    stub_dir = site / "ndgrad_torchvision_cuda_stub"
    pth = site / PTH_NAME
    if args.remove:
        if stub_dir.exists():
            shutil.rmtree(stub_dir)
        pth.unlink(missing_ok=True)
        print(f"removed {stub_dir} and {pth}")
        return 0
    tv_spec = importlib.util.find_spec("torchvision")
    torch_spec = importlib.util.find_spec("torch")
    if tv_spec is None or torch_spec is None or tv_spec.origin is None or torch_spec.origin is None:
        print("torch and torchvision must be installed in this environment", file=sys.stderr)
        return 2
    torch_lib = Path(torch_spec.origin).parent / "lib"
    runtime_set: set[str] = set()
    other_set: set[str] = set()
    for ext_name in ("_C.so", "image.so"):  # the ops extension and the image decoders
        ext = Path(tv_spec.origin).parent / ext_name
        if ext.exists():
            found = _missing_symbols(ext, [torch_lib, Path(tv_spec.origin).parent.parent
                                           / "torchvision.libs"])
            runtime_set.update(found[0])
            other_set.update(found[1])
    runtime, other = sorted(runtime_set), sorted(other_set)
    stub_dir.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _build(_c_source(runtime), CUDART, stub_dir / CUDART, CUDART, work)
        _build(_c_source(other), "libc10_cuda.so", stub_dir / "libc10_cuda.so", None, work)
        _build("", "libtorch_cuda.so", stub_dir / "libtorch_cuda.so", None, work)
    (stub_dir / "__init__.py").write_text(
        '"""Preload the CUDA stand-ins so torchvision/_C.so finds them by soname."""\n'
        "import ctypes\nimport os\n\n"
        f"for _name in {STUB_LIBS!r}:\n"
        "    ctypes.CDLL(os.path.join(os.path.dirname(__file__), _name), mode=os.RTLD_GLOBAL)\n")
    pth.write_text(f"import {stub_dir.name}\n")
    print(f"built {len(runtime)} CUDA-runtime and {len(other)} c10/at CUDA stand-in symbols in "
          f"{stub_dir}; {pth} preloads them")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
