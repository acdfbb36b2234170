"""Public names as PyTorch reports them: classes name their public module (ndgrad.Tensor, not
ndgrad._tensor.Tensor; nn layers under ndgrad.nn.modules.<file> as PyTorch's), Tensor's is_* flags, and
`hasattr(ndgrad, name)` is False for names ndgrad lacks while every advertised submodule exists."""
from __future__ import annotations

import importlib
import inspect

import pytest

import ndgrad

SPACES = ["", ".nn", ".nn.init", ".nn.utils", ".optim", ".optim.lr_scheduler", ".utils.data", ".autograd", ".linalg",
          ".nn.parameter", ".nn.modules"]
KEY_CLASSES = ["Tensor", "Size", "dtype", "device", "Generator", "finfo", "iinfo", "FloatTensor", "LongTensor",
               "nn.Module", "nn.Linear", "nn.Parameter", "nn.BatchNorm2d", "nn.InstanceNorm1d", "nn.MultiheadAttention",
               "nn.PairwiseDistance", "nn.ChannelShuffle", "nn.LSTM", "nn.Conv2d", "nn.CrossEntropyLoss",
               "optim.SGD", "optim.Adam", "optim.lr_scheduler.StepLR", "utils.data.DataLoader",
               "utils.data.TensorDataset", "utils.data.RandomSampler", "autograd.Function", "autograd.detect_anomaly",
               "no_grad", "enable_grad", "linalg.LinAlgError"]


def _get(root, dotted: str):
    obj = root
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _home(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def test_key_classes_report_pytorchs_module(torch_ref):
    want = torch_ref("homes", lambda torch: [_home(_get(torch, n)) for n in KEY_CLASSES])
    for name, w in zip(KEY_CLASSES, want):
        assert _home(_get(ndgrad, name)) == "ndgrad" + w[len("torch"):], name


def _our_classes() -> dict:
    """namespace -> {public class name: its module} for ndgrad's own classes."""
    out = {}
    for sp in SPACES:
        ours = importlib.import_module("ndgrad" + sp)
        out[sp] = {}
        for name in dir(ours):
            obj = getattr(ours, name, None)
            if not name.startswith("_") and inspect.isclass(obj) and (obj.__module__ or "").startswith("ndgrad"):
                out[sp][name] = obj.__module__
    return out


def _torch_homes(torch, names: dict) -> dict:
    """namespace -> {name: the module of PyTorch's class of that name, or None}."""
    out = {}
    for sp, ours in names.items():
        theirs = importlib.import_module("torch" + sp)
        out[sp] = {}
        for name in ours:
            other = getattr(theirs, name, None)
            shared = inspect.isclass(other) and other.__module__.startswith("torch")
            out[sp][name] = other.__module__ if shared else None
    return out


def test_every_shared_public_class_reports_pytorchs_module(torch_ref):
    ours = _our_classes()
    theirs = torch_ref("homes", lambda torch: _torch_homes(torch, ours))
    wrong = []
    for sp, names in ours.items():
        for name, module in names.items():
            assert name in theirs[sp], f"ndgrad{sp}.{name} is not in the recording: run tools/record_references.py"
            if theirs[sp][name] is not None and module != "ndgrad" + theirs[sp][name][len("torch"):]:
                wrong.append(f"ndgrad{sp}.{name}: {module} (PyTorch: {theirs[sp][name]})")
    # torch.utils.data.distributed (DistributedSampler) belongs to the distributed work
    assert [w for w in wrong if "DistributedSampler" not in w] == []


def test_homes_hold_the_class():
    # pickling by reference needs `module.qualname` to find the same class
    for name in KEY_CLASSES:
        cls = _get(ndgrad, name)
        assert _get(importlib.import_module(cls.__module__), cls.__qualname__) is cls, name


FLAGS = ["is_cpu", "is_cuda", "is_ipu", "is_maia", "is_meta", "is_mkldnn", "is_mps", "is_mtia", "is_nested",
         "is_quantized", "is_sparse", "is_sparse_csr", "is_vulkan", "is_xla", "is_xpu", "is_leaf"]
METHODS = ["is_complex()", "is_conj()", "is_contiguous()", "is_distributed()", "is_floating_point()",
           "is_inference()", "is_neg()", "is_pinned()", "is_shared()", "is_signed()", "is_same_size(t[0])",
           "is_same_size(t)", "is_set_to(t)", "is_set_to(t[:1])"]


def test_tensor_is_flags(torch_ref):
    def probe(torch):
        out = []
        for dt in ("float32", "int64", "uint8", "bool"):
            t = torch.ones(2, dtype=getattr(torch, dt))
            out.append([getattr(t, f) for f in FLAGS] + [eval("t." + m, {"t": t}) for m in METHODS])
        return out
    assert probe(ndgrad) == torch_ref("flags", probe)


def test_hasattr_is_false_for_missing_names():
    for name in ("no_such_function", "xyz", "_inductor", "compiler_internal_thing"):
        assert not hasattr(ndgrad, name), name
    with pytest.raises(AttributeError, match="module 'ndgrad' has no attribute 'xyz'"):
        ndgrad.xyz  # noqa: B018
    for name in dir(ndgrad):  # everything advertised exists
        assert hasattr(ndgrad, name), name
    assert "nn" in dir(ndgrad) and "optim" in dir(ndgrad)
