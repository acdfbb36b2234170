"""Regenerate the torch.save fixtures used by tests/test_serialization.py (needs PyTorch).

    python tests/data/make_serialization_fixtures.py

The tests hold the expected values as literals, so they run without PyTorch.
"""
import collections
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def state_dict() -> collections.OrderedDict:
    weight = torch.tensor([[0.5, -1.25, 2.0], [3.5, -0.125, 1e-3]], dtype=torch.float32)
    sd = collections.OrderedDict()
    sd["weight"] = weight
    sd["weight_t"] = weight.t()           # a view: shares the weight's storage
    sd["bias"] = torch.tensor([0.25, -0.75, 1.5], dtype=torch.float32)
    sd["num_batches_tracked"] = torch.tensor(7, dtype=torch.int64)
    sd["mask"] = torch.tensor([True, False, False, True])
    sd["double"] = torch.tensor([1.0 / 3.0, -2.5], dtype=torch.float64)
    sd["half"] = torch.tensor([0.5, 65504.0], dtype=torch.float16)
    sd["int32"] = torch.tensor([[-2147483648, 2147483647]], dtype=torch.int32)
    sd["cplx"] = torch.tensor([1 + 2j, -0.5j], dtype=torch.complex64)
    sd._metadata = collections.OrderedDict([("", {"version": 1})])
    return sd


def optimizer_state() -> dict:
    return {
        "state": {
            0: {"step": torch.tensor(3.0), "exp_avg": torch.tensor([0.1, -0.2], dtype=torch.float32),
                "exp_avg_sq": torch.tensor([0.01, 0.04], dtype=torch.float32)},
            1: {"step": torch.tensor(3.0), "exp_avg": torch.tensor([[0.5]]), "exp_avg_sq": torch.tensor([[0.25]])},
        },
        "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-08, "weight_decay": 0,
                          "amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
                          "differentiable": False, "fused": None, "params": [0, 1]}],
    }


def misc() -> dict:
    base = torch.arange(12, dtype=torch.int64).reshape(3, 4)
    return {
        "param": torch.nn.Parameter(torch.tensor([1.0, -2.0])),
        "bf16": torch.tensor([1.5, -2.25, 3.0], dtype=torch.bfloat16),
        "strided": base[:, ::2],               # non-contiguous view with an offset-free storage
        "row": base[2],                        # storage offset 8
        "expanded": torch.tensor([4.0]).expand(3),
        "empty": torch.zeros(0, 3),
        "uint8": torch.tensor([0, 255], dtype=torch.uint8),
        "int8": torch.tensor([-128, 127], dtype=torch.int8),
        "int16": torch.tensor([-32768, 32767], dtype=torch.int16),
        "c128": torch.tensor([1e300 + 1j], dtype=torch.complex128),
        "size": torch.Size([2, 3]),
        "dtype": torch.float16,
        "meta": ("text", 1.5, None, True, -(2 ** 40), b"\x00\xff", {1, 2}, 2 + 3j),
    }


if __name__ == "__main__":
    torch.save(state_dict(), os.path.join(HERE, "torch_state_dict.pt"))
    torch.save(optimizer_state(), os.path.join(HERE, "torch_optimizer.pt"))
    torch.save(misc(), os.path.join(HERE, "torch_misc.pt"))
    torch.save({"w": torch.tensor([[1.0, 2.0], [3.0, 4.0]]), "n": torch.tensor([5, 6])},
               os.path.join(HERE, "torch_legacy.pt"), _use_new_zipfile_serialization=False)
