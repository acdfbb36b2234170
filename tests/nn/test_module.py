"""nn.Module and nn.Parameter: registration, traversal, state_dict round trips and
PyTorch's errors, modes, dtype conversion, hooks, and printed reprs of 18 models
(recorded from PyTorch as literals, and compared with PyTorch: live when torch is installed,
else its recording in tests/references)."""
from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import ndgrad
import ndgrad.nn as nn
import ndgrad.nn.functional as F

from _nncheck import load_arrays, seeded_params, state_arrays




def build_models(nn):
    """name -> zero-argument factory, each building the same model with `nn` (torch.nn or ndgrad.nn)."""

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.LazyLinear(256)
            self.output = nn.LazyLinear(10)

        def forward(self, X):
            return self.output(nn.functional.relu(self.hidden(X)))

    class FixedHiddenMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(20, 20)
            self.register_buffer("rand_weight", nn.init.uniform_(nn.Parameter(nn.Linear(20, 20).weight.data)).data)
            self.register_buffer("scratch", nn.Linear(2, 2).weight.data, persistent=False)

        def forward(self, X):
            return self.linear(X)

    class ListNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)] + [nn.Linear(4, 2)])
            self.act = nn.Tanh()

    class DictNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.choices = nn.ModuleDict({"conv": nn.Linear(3, 3), "pool": nn.Identity()})
            self.activations = nn.ModuleDict([["lrelu", nn.LeakyReLU()], ["prelu", nn.PReLU()]])

    class ParamNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.plist = nn.ParameterList([nn.Parameter(nn.Linear(2, 3).weight.data) for _ in range(2)])
            self.pdict = nn.ParameterDict(OrderedDict([("left", nn.Parameter(nn.Linear(5, 1).bias.data)),
                                                       ("right", nn.Parameter(nn.Linear(2, 2).weight.data))]))
            self.scale = nn.Parameter(nn.Linear(1, 1).weight.data)

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            shared = nn.Linear(8, 8)
            self.net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), shared, nn.ReLU(), shared, nn.Linear(8, 1))

    class WithLoss(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(3, 3), nn.Softmax(dim=1))
            self.loss = nn.CrossEntropyLoss(label_smoothing=0.1)
            self.aux = nn.MSELoss(reduction="sum")

    def block():
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 4), nn.ReLU())

    return OrderedDict([
        ("linreg", lambda: nn.Sequential(nn.Linear(2, 1))),
        ("softmax_reg", lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 10))),
        ("mlp", lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))),
        ("mlp_dropout", lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.5),
                                              nn.Linear(256, 256), nn.ReLU(), nn.Dropout(0.2),
                                              nn.Linear(256, 10))),
        ("lazy_mlp_class", MLP),
        ("fixed_hidden", FixedHiddenMLP),
        ("nested", lambda: nn.Sequential(block(), nn.Sequential(block(), block()), nn.Linear(4, 1))),
        ("module_list", ListNet),
        ("module_dict", DictNet),
        ("batchnorm_mlp", lambda: nn.Sequential(nn.Linear(10, 6), nn.BatchNorm1d(6), nn.Sigmoid(),
                                                nn.Linear(6, 4), nn.BatchNorm1d(4, momentum=None, affine=False),
                                                nn.Sigmoid(), nn.Linear(4, 2))),
        ("ffn", lambda: nn.Sequential(nn.LayerNorm(16), nn.Linear(16, 64), nn.GELU(), nn.Dropout(0.1),
                                      nn.Linear(64, 16), nn.LayerNorm([4, 16], eps=1e-6), nn.GroupNorm(2, 4))),
        ("embedding", lambda: nn.Sequential(nn.Embedding(100, 8, padding_idx=0), nn.Flatten(),
                                            nn.Unflatten(1, (4, 2)), nn.Bilinear(2, 2, 3))),
        ("params", ParamNet),
        ("activations", lambda: nn.Sequential(nn.ReLU(inplace=True), nn.ReLU6(), nn.LeakyReLU(0.2, inplace=True),
                                              nn.ELU(alpha=0.5), nn.SELU(), nn.CELU(), nn.GELU(approximate="tanh"),
                                              nn.SiLU(), nn.Mish(), nn.Hardtanh(-2.0, 2.0), nn.Hardsigmoid(),
                                              nn.Hardswish(), nn.Softplus(beta=2.0, threshold=10.0),
                                              nn.Softsign(), nn.Tanhshrink(), nn.LogSoftmax(dim=1),
                                              nn.Softmin(dim=-1), nn.Threshold(0.1, 20.0), nn.PReLU(3))),
        ("named", lambda: nn.Sequential(OrderedDict([("fc1", nn.Linear(3, 4)), ("act", nn.ReLU()),
                                                     ("drop", nn.Dropout1d(0.25)), ("fc2", nn.Linear(4, 2, False))]))),
        ("tied", Tied),
        ("with_loss", WithLoss),
        ("lazy_bn", lambda: nn.Sequential(nn.LazyLinear(5), nn.LazyBatchNorm1d(), nn.ReLU(), nn.LazyLinear(1))),
    ])


# recorded from PyTorch 2.13: repr, state_dict keys, named_parameters names
EXPECTED = {
    'linreg': (
        'Sequential(\n'
        '  (0): Linear(in_features=2, out_features=1, bias=True)\n'
        ')',
        ['0.weight', '0.bias'],
        ['0.weight', '0.bias']),
    'softmax_reg': (
        'Sequential(\n'
        '  (0): Flatten(start_dim=1, end_dim=-1)\n'
        '  (1): Linear(in_features=784, out_features=10, bias=True)\n'
        ')',
        ['1.weight', '1.bias'],
        ['1.weight', '1.bias']),
    'mlp': (
        'Sequential(\n'
        '  (0): Flatten(start_dim=1, end_dim=-1)\n'
        '  (1): Linear(in_features=784, out_features=256, bias=True)\n'
        '  (2): ReLU()\n'
        '  (3): Linear(in_features=256, out_features=10, bias=True)\n'
        ')',
        ['1.weight', '1.bias', '3.weight', '3.bias'],
        ['1.weight', '1.bias', '3.weight', '3.bias']),
    'mlp_dropout': (
        'Sequential(\n'
        '  (0): Flatten(start_dim=1, end_dim=-1)\n'
        '  (1): Linear(in_features=784, out_features=256, bias=True)\n'
        '  (2): ReLU()\n'
        '  (3): Dropout(p=0.5, inplace=False)\n'
        '  (4): Linear(in_features=256, out_features=256, bias=True)\n'
        '  (5): ReLU()\n'
        '  (6): Dropout(p=0.2, inplace=False)\n'
        '  (7): Linear(in_features=256, out_features=10, bias=True)\n'
        ')',
        ['1.weight', '1.bias', '4.weight', '4.bias', '7.weight', '7.bias'],
        ['1.weight', '1.bias', '4.weight', '4.bias', '7.weight', '7.bias']),
    'lazy_mlp_class': (
        'MLP(\n'
        '  (hidden): LazyLinear(in_features=0, out_features=256, bias=True)\n'
        '  (output): LazyLinear(in_features=0, out_features=10, bias=True)\n'
        ')',
        ['hidden.weight', 'hidden.bias', 'output.weight', 'output.bias'],
        ['hidden.weight', 'hidden.bias', 'output.weight', 'output.bias']),
    'fixed_hidden': (
        'FixedHiddenMLP(\n'
        '  (linear): Linear(in_features=20, out_features=20, bias=True)\n'
        ')',
        ['rand_weight', 'linear.weight', 'linear.bias'],
        ['linear.weight', 'linear.bias']),
    'nested': (
        'Sequential(\n'
        '  (0): Sequential(\n'
        '    (0): Linear(in_features=4, out_features=8, bias=True)\n'
        '    (1): ReLU()\n'
        '    (2): Linear(in_features=8, out_features=4, bias=True)\n'
        '    (3): ReLU()\n'
        '  )\n'
        '  (1): Sequential(\n'
        '    (0): Sequential(\n'
        '      (0): Linear(in_features=4, out_features=8, bias=True)\n'
        '      (1): ReLU()\n'
        '      (2): Linear(in_features=8, out_features=4, bias=True)\n'
        '      (3): ReLU()\n'
        '    )\n'
        '    (1): Sequential(\n'
        '      (0): Linear(in_features=4, out_features=8, bias=True)\n'
        '      (1): ReLU()\n'
        '      (2): Linear(in_features=8, out_features=4, bias=True)\n'
        '      (3): ReLU()\n'
        '    )\n'
        '  )\n'
        '  (2): Linear(in_features=4, out_features=1, bias=True)\n'
        ')',
        ['0.0.weight', '0.0.bias', '0.2.weight', '0.2.bias', '1.0.0.weight', '1.0.0.bias', '1.0.2.weight',
         '1.0.2.bias', '1.1.0.weight', '1.1.0.bias', '1.1.2.weight', '1.1.2.bias', '2.weight', '2.bias'],
        ['0.0.weight', '0.0.bias', '0.2.weight', '0.2.bias', '1.0.0.weight', '1.0.0.bias', '1.0.2.weight',
         '1.0.2.bias', '1.1.0.weight', '1.1.0.bias', '1.1.2.weight', '1.1.2.bias', '2.weight', '2.bias']),
    'module_list': (
        'ListNet(\n'
        '  (layers): ModuleList(\n'
        '    (0-2): 3 x Linear(in_features=4, out_features=4, bias=True)\n'
        '    (3): Linear(in_features=4, out_features=2, bias=True)\n'
        '  )\n'
        '  (act): Tanh()\n'
        ')',
        ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias', 'layers.2.weight', 'layers.2.bias',
         'layers.3.weight', 'layers.3.bias'],
        ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias', 'layers.2.weight', 'layers.2.bias',
         'layers.3.weight', 'layers.3.bias']),
    'module_dict': (
        'DictNet(\n'
        '  (choices): ModuleDict(\n'
        '    (conv): Linear(in_features=3, out_features=3, bias=True)\n'
        '    (pool): Identity()\n'
        '  )\n'
        '  (activations): ModuleDict(\n'
        '    (lrelu): LeakyReLU(negative_slope=0.01)\n'
        '    (prelu): PReLU(num_parameters=1)\n'
        '  )\n'
        ')',
        ['choices.conv.weight', 'choices.conv.bias', 'activations.prelu.weight'],
        ['choices.conv.weight', 'choices.conv.bias', 'activations.prelu.weight']),
    'batchnorm_mlp': (
        'Sequential(\n'
        '  (0): Linear(in_features=10, out_features=6, bias=True)\n'
        '  (1): BatchNorm1d(6, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)\n'
        '  (2): Sigmoid()\n'
        '  (3): Linear(in_features=6, out_features=4, bias=True)\n'
        '  (4): BatchNorm1d(4, eps=1e-05, momentum=None, affine=False, bias=False, track_running_stats=True)\n'
        '  (5): Sigmoid()\n'
        '  (6): Linear(in_features=4, out_features=2, bias=True)\n'
        ')',
        ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked',
         '3.weight', '3.bias', '4.running_mean', '4.running_var', '4.num_batches_tracked', '6.weight', '6.bias'],
        ['0.weight', '0.bias', '1.weight', '1.bias', '3.weight', '3.bias', '6.weight', '6.bias']),
    'ffn': (
        'Sequential(\n'
        '  (0): LayerNorm((16,), eps=1e-05, elementwise_affine=True, bias=True)\n'
        '  (1): Linear(in_features=16, out_features=64, bias=True)\n'
        "  (2): GELU(approximate='none')\n"
        '  (3): Dropout(p=0.1, inplace=False)\n'
        '  (4): Linear(in_features=64, out_features=16, bias=True)\n'
        '  (5): LayerNorm((4, 16), eps=1e-06, elementwise_affine=True, bias=True)\n'
        '  (6): GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)\n'
        ')',
        ['0.weight', '0.bias', '1.weight', '1.bias', '4.weight', '4.bias', '5.weight', '5.bias', '6.weight', '6.bias'],
        ['0.weight', '0.bias', '1.weight', '1.bias', '4.weight', '4.bias', '5.weight', '5.bias', '6.weight', '6.bias']),
    'embedding': (
        'Sequential(\n'
        '  (0): Embedding(100, 8, padding_idx=0)\n'
        '  (1): Flatten(start_dim=1, end_dim=-1)\n'
        '  (2): Unflatten(dim=1, unflattened_size=(4, 2))\n'
        '  (3): Bilinear(in1_features=2, in2_features=2, out_features=3, bias=True)\n'
        ')',
        ['0.weight', '3.weight', '3.bias'],
        ['0.weight', '3.weight', '3.bias']),
    'params': (
        'ParamNet(\n'
        '  (plist): ParameterList(\n'
        '      (0): Parameter containing: [torch.float32 of size 3x2]\n'
        '      (1): Parameter containing: [torch.float32 of size 3x2]\n'
        '  )\n'
        '  (pdict): ParameterDict(\n'
        '      (left): Parameter containing: [torch.FloatTensor of size 1]\n'
        '      (right): Parameter containing: [torch.FloatTensor of size 2x2]\n'
        '  )\n'
        ')',
        ['scale', 'plist.0', 'plist.1', 'pdict.left', 'pdict.right'],
        ['scale', 'plist.0', 'plist.1', 'pdict.left', 'pdict.right']),
    'activations': (
        'Sequential(\n'
        '  (0): ReLU(inplace=True)\n'
        '  (1): ReLU6()\n'
        '  (2): LeakyReLU(negative_slope=0.2, inplace=True)\n'
        '  (3): ELU(alpha=0.5)\n'
        '  (4): SELU()\n'
        '  (5): CELU(alpha=1.0)\n'
        "  (6): GELU(approximate='tanh')\n"
        '  (7): SiLU()\n'
        '  (8): Mish()\n'
        '  (9): Hardtanh(min_val=-2.0, max_val=2.0)\n'
        '  (10): Hardsigmoid()\n'
        '  (11): Hardswish()\n'
        '  (12): Softplus(beta=2.0, threshold=10.0)\n'
        '  (13): Softsign()\n'
        '  (14): Tanhshrink()\n'
        '  (15): LogSoftmax(dim=1)\n'
        '  (16): Softmin(dim=-1)\n'
        '  (17): Threshold(threshold=0.1, value=20.0)\n'
        '  (18): PReLU(num_parameters=3)\n'
        ')',
        ['18.weight'],
        ['18.weight']),
    'named': (
        'Sequential(\n'
        '  (fc1): Linear(in_features=3, out_features=4, bias=True)\n'
        '  (act): ReLU()\n'
        '  (drop): Dropout1d(p=0.25, inplace=False)\n'
        '  (fc2): Linear(in_features=4, out_features=2, bias=False)\n'
        ')',
        ['fc1.weight', 'fc1.bias', 'fc2.weight'],
        ['fc1.weight', 'fc1.bias', 'fc2.weight']),
    'tied': (
        'Tied(\n'
        '  (net): Sequential(\n'
        '    (0): Linear(in_features=4, out_features=8, bias=True)\n'
        '    (1): ReLU()\n'
        '    (2): Linear(in_features=8, out_features=8, bias=True)\n'
        '    (3): ReLU()\n'
        '    (4): Linear(in_features=8, out_features=8, bias=True)\n'
        '    (5): Linear(in_features=8, out_features=1, bias=True)\n'
        '  )\n'
        ')',
        ['net.0.weight', 'net.0.bias', 'net.2.weight', 'net.2.bias', 'net.4.weight', 'net.4.bias', 'net.5.weight',
         'net.5.bias'],
        ['net.0.weight', 'net.0.bias', 'net.2.weight', 'net.2.bias', 'net.5.weight', 'net.5.bias']),
    'with_loss': (
        'WithLoss(\n'
        '  (body): Sequential(\n'
        '    (0): Linear(in_features=3, out_features=3, bias=True)\n'
        '    (1): Softmax(dim=1)\n'
        '  )\n'
        '  (loss): CrossEntropyLoss()\n'
        '  (aux): MSELoss()\n'
        ')',
        ['body.0.weight', 'body.0.bias'],
        ['body.0.weight', 'body.0.bias']),
    'lazy_bn': (
        'Sequential(\n'
        '  (0): LazyLinear(in_features=0, out_features=5, bias=True)\n'
        '  (1): LazyBatchNorm1d(0, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)\n'
        '  (2): ReLU()\n'
        '  (3): LazyLinear(in_features=0, out_features=1, bias=True)\n'
        ')',
        ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked',
         '3.weight', '3.bias'],
        ['0.weight', '0.bias', '1.weight', '1.bias', '3.weight', '3.bias']),
}


# ---------------------------------------------------------------------------
# reprs and key names
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(EXPECTED))
def test_model_repr_and_keys(name):
    ndgrad.manual_seed(0)
    m = build_models(nn)[name]()
    rep, keys, pnames = EXPECTED[name]
    assert repr(m) == rep
    assert str(m) == rep
    assert list(m.state_dict()) == keys
    assert [n for n, _ in m.named_parameters()] == pnames


def _structure(m) -> dict:
    """What a model looks like from outside: repr, state_dict entries (name, shape, dtype; None
    for a lazy module's uninitialised parameter), buffers, modules, parameters."""
    def entry(k, v):
        lazy = type(v).__name__.startswith("Uninitialized")
        return [k, None if lazy else list(v.shape), None if lazy else str(v.dtype).replace("ndgrad.", "torch.")]
    return {"repr": repr(m), "state": [entry(k, v) for k, v in m.state_dict().items()],
            "buffers": [k for k, _ in m.named_buffers()], "modules": [k for k, _ in m.named_modules()],
            "params": [k for k, _ in m.named_parameters(remove_duplicate=False)]}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_model_repr_and_keys_live_torch(name, torch_ref):
    n = build_models(nn)[name]()
    got, want = _structure(n), torch_ref("structure", lambda torch: _structure(build_models(torch.nn)[name]()))
    lazy = {k for k, shape, _ in want["state"] if shape is None}  # (ndgrad's placeholders have shape (0,))
    got["state"] = [[k, None, None] if k in lazy else [k, shape, dt] for k, shape, dt in got["state"]]
    assert got == want
    if all(shape is not None for _, shape, _ in want["state"]):  # a state_dict loads back unchanged
        arrays = state_arrays(seeded_params(build_models(nn)[name]()))
        n.load_state_dict({k: ndgrad.tensor(v) for k, v in arrays.items()})
        for (k, a), b in zip(n.state_dict().items(), arrays.values()):
            np.testing.assert_array_equal(a.numpy(), b, err_msg=k)


def test_parameter_list_and_dict_repr():
    pl = nn.ParameterList([nn.Parameter(ndgrad.zeros(2, 3)), nn.Parameter(ndgrad.zeros(2, dtype=ndgrad.float64))])
    assert repr(pl) == ("ParameterList(\n    (0): Parameter containing: [torch.float32 of size 2x3]\n"
                        "    (1): Parameter containing: [torch.float64 of size 2]\n)")
    assert repr(nn.ParameterList([nn.Parameter(ndgrad.zeros(2))])) == \
        "ParameterList(  (0): Parameter containing: [torch.float32 of size 2])"
    pd = nn.ParameterDict({"a": nn.Parameter(ndgrad.zeros(2, 3))})
    assert repr(pd) == "ParameterDict(  (a): Parameter containing: [torch.FloatTensor of size 2x3])"
    assert repr(nn.ModuleList()) == "ModuleList()" and repr(nn.Sequential()) == "Sequential()"


# ---------------------------------------------------------------------------
# Parameter
# ---------------------------------------------------------------------------
def test_parameter_basics():
    t = ndgrad.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert isinstance(p, ndgrad.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert repr(nn.Parameter(t, requires_grad=False)) == "Parameter containing:\ntensor([1., 2.])"
    p.data[0] = 5.0
    assert t[0].item() == 5.0  # shares memory with the tensor it wraps
    y = p * 2
    assert type(y) is ndgrad.Tensor and y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), [2.0, 2.0])
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.requires_grad and q is not p
    np.testing.assert_array_equal(q.detach().numpy(), p.detach().numpy())
    np.testing.assert_array_equal(q.grad.numpy(), [2.0, 2.0])
    r = pickle.loads(pickle.dumps(p))
    assert type(r) is nn.Parameter and r.requires_grad
    assert nn.Parameter().shape == (0,)
    with pytest.raises(RuntimeError, match="(?i)only tensors of floating point"):
        nn.Parameter(ndgrad.tensor([1, 2]))
    assert not nn.Parameter(ndgrad.tensor([1, 2]), requires_grad=False).requires_grad


# ---------------------------------------------------------------------------
# registration
# ---------------------------------------------------------------------------
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.scale = nn.Parameter(ndgrad.ones(1))
        self.register_buffer("steps", ndgrad.zeros(1))
        self.register_buffer("cache", ndgrad.zeros(2), persistent=False)
        self.sub = nn.Sequential(nn.ReLU(), nn.Linear(2, 2))

    def forward(self, x):
        return self.sub(self.fc(x)) * self.scale


def test_registration_and_traversal():
    n = Net()
    assert list(n._parameters) == ["scale"] and list(n._modules) == ["fc", "sub"]
    assert list(n._buffers) == ["steps", "cache"]
    assert [k for k, _ in n.named_parameters()] == ["scale", "fc.weight", "fc.bias", "sub.1.weight", "sub.1.bias"]
    assert [k for k, _ in n.named_parameters(prefix="m", recurse=False)] == ["m.scale"]
    assert [k for k, _ in n.named_buffers()] == ["steps", "cache"]
    assert [k for k, _ in n.named_children()] == ["fc", "sub"]
    assert [k for k, _ in n.named_modules()] == ["", "fc", "sub", "sub.0", "sub.1"]
    assert [k for k, _ in n.named_modules(prefix="net")] == ["net", "net.fc", "net.sub", "net.sub.0", "net.sub.1"]
    assert len(list(n.modules())) == 5 and len(list(n.parameters())) == 5
    assert list(n.state_dict()) == ["scale", "steps", "fc.weight", "fc.bias", "sub.1.weight", "sub.1.bias"]
    # reassigning / deleting
    n.scale = None
    assert n.scale is None and "scale" in n._parameters and len(list(n.parameters())) == 4
    n.fc = nn.Linear(3, 2, bias=False)
    assert [k for k, _ in n.fc.named_parameters()] == ["weight"]
    n.steps = ndgrad.ones(1)
    assert n._buffers["steps"].item() == 1.0
    del n.sub
    assert "sub" not in n._modules
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'sub'"):
        _ = n.sub
    n.plain = 3
    assert n.plain == 3 and "plain" in n.__dict__
    assert "fc" in dir(n) and "steps" in dir(n)


def test_registration_errors():
    n = Net()
    with pytest.raises(TypeError, match=r"cannot assign 'torch.FloatTensor' as parameter 'scale' "
                                        r"\(torch.nn.Parameter or None expected\)"):
        n.scale = ndgrad.ones(1)
    with pytest.raises(TypeError, match=r"cannot assign 'int' as child module 'fc' \(torch.nn.Module or None"):
        n.fc = 3
    with pytest.raises(TypeError, match=r"cannot assign 'int' as buffer 'steps' \(torch.Tensor or None expected\)"):
        n.steps = 3
    with pytest.raises(KeyError, match="attribute 'fc' already exists"):
        n.register_buffer("fc", ndgrad.zeros(1))
    with pytest.raises(KeyError, match="buffer name can"):
        n.register_buffer("a.b", ndgrad.zeros(1))
    with pytest.raises(KeyError, match="parameter name can"):
        n.register_parameter("", None)
    with pytest.raises(TypeError, match="cannot assign 'torch.FloatTensor' object to parameter 'q'"):
        n.register_parameter("q", ndgrad.zeros(1))
    with pytest.raises(TypeError, match="buffer name should be a string"):
        n.register_buffer(1, None)

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ndgrad.ones(1))
            super().__init__()
    with pytest.raises(AttributeError, match=r"cannot assign parameters before Module.__init__\(\) call"):
        Early()
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        nn.Module()(1)


def test_get_submodule_and_parameter():
    n = Net()
    assert n.get_submodule("sub.1") is n.sub[1]
    assert n.get_submodule("") is n
    assert n.get_parameter("sub.1.weight") is n.sub[1].weight
    assert n.get_buffer("steps") is n.steps
    with pytest.raises(AttributeError, match="Sequential has no attribute `7`"):
        n.get_submodule("sub.7")
    with pytest.raises(AttributeError, match="`steps` is not an nn.Parameter"):
        n.get_parameter("steps")
    n.add_module("extra", nn.Tanh())
    n.register_module("extra2", None)
    assert [k for k, _ in n.named_children()] == ["fc", "sub", "extra"]
    with pytest.raises(TypeError, match="is not a Module subclass"):
        n.add_module("bad", 3)


# ---------------------------------------------------------------------------
# state_dict
# ---------------------------------------------------------------------------
def test_state_dict_contents():
    n = Net()
    sd = n.state_dict()
    assert isinstance(sd, OrderedDict)
    assert not sd["fc.weight"].requires_grad and sd["fc.weight"].grad_fn is None
    assert sd["fc.weight"].data_ptr() == n.fc.weight.data_ptr()  # detached, not copied
    kv = n.state_dict(keep_vars=True)
    assert kv["fc.weight"] is n.fc.weight
    assert list(n.state_dict(prefix="model.")) == ["model." + k for k in sd]
    assert sd._metadata[""] == {"version": 1} and "sub.1" in sd._metadata
    assert nn.BatchNorm1d(2).state_dict()._metadata[""] == {"version": 2}


def test_load_state_dict_roundtrip_and_errors():
    a, b = Net(), Net()
    res = b.load_state_dict(a.state_dict())
    assert repr(res) == "<All keys matched successfully>"
    assert res.missing_keys == [] and res.unexpected_keys == []
    np.testing.assert_array_equal(b.fc.weight.detach().numpy(), a.fc.weight.detach().numpy())
    assert b.fc.weight is not a.fc.weight  # copied in place, parameter objects unchanged
    lin = nn.Linear(2, 3)
    bad = {"weight": ndgrad.zeros(2, 3), "foo": ndgrad.zeros(1)}
    with pytest.raises(RuntimeError) as ei:
        lin.load_state_dict(bad)
    assert str(ei.value) == (
        'Error(s) in loading state_dict for Linear:\n\tMissing key(s) in state_dict: "bias". \n\t'
        'Unexpected key(s) in state_dict: "foo". \n\tsize mismatch for weight: copying a param with shape '
        'torch.Size([2, 3]) from checkpoint, the shape in current model is torch.Size([3, 2]).')
    res = lin.load_state_dict({"weight": ndgrad.ones(3, 2), "foo": ndgrad.zeros(1)}, strict=False)
    assert res.missing_keys == ["bias"] and res.unexpected_keys == ["foo"]
    assert repr(res) == "_IncompatibleKeys(missing_keys=['bias'], unexpected_keys=['foo'])"
    assert np.all(lin.weight.detach().numpy() == 1)
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        lin.load_state_dict({"weight": ndgrad.ones(2, 2)}, strict=False)
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        lin.load_state_dict([1, 2])
    # nested prefixes
    seq = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "0.weight", "0.bias"'):
        seq.load_state_dict({})
    # assign=True takes the given tensors as the new parameters
    w = ndgrad.full((3, 2), 7.0)
    lin.load_state_dict({"weight": w, "bias": ndgrad.zeros(3)}, assign=True)
    assert isinstance(lin.weight, nn.Parameter) and lin.weight.requires_grad
    assert lin.weight.data_ptr() == w.data_ptr()
    # non-persistent buffers are neither saved nor expected
    n = Net()
    assert "cache" not in n.state_dict()
    n.load_state_dict(Net().state_dict())


def test_batchnorm_state_dict_without_counter_loads():
    bn = nn.BatchNorm1d(3)
    sd = bn.state_dict()
    del sd["num_batches_tracked"]
    sd._metadata[""] = {"version": 1}
    bn.load_state_dict(sd)  # old checkpoints lack the counter
    sd._metadata[""] = {"version": 2}
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "num_batches_tracked"'):
        bn.load_state_dict(sd)


# ---------------------------------------------------------------------------
# modes, grads, apply, dtype
# ---------------------------------------------------------------------------
def test_train_eval_requires_grad_zero_grad_apply():
    n = Net()
    assert n.training and n.sub[0].training
    assert n.eval() is n
    assert not n.training and not n.sub[1].training
    n.train()
    assert n.sub[1].training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        n.train("yes")
    n.requires_grad_(False)
    assert not any(p.requires_grad for p in n.parameters())
    n.requires_grad_()
    n(ndgrad.randn(4, 3)).sum().backward()
    assert all(p.grad is not None for p in n.parameters())
    n.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in n.parameters())
    n.zero_grad()
    assert all(p.grad is None for p in n.parameters())
    seen = []

    def init_weights(m):
        seen.append(type(m).__name__)
        if type(m) is nn.Linear:
            nn.init.constant_(m.weight, 0.5)
    n.apply(init_weights)
    assert seen == ["Linear", "ReLU", "Linear", "Sequential", "Net"]
    assert np.all(n.sub[1].weight.detach().numpy() == 0.5)


def test_to_dtype():
    n = Net()
    w = n.fc.weight
    n(ndgrad.randn(2, 3)).sum().backward()
    assert n.double() is n
    assert n.fc.weight is w and w.dtype == ndgrad.float64 and w.grad.dtype == ndgrad.float64
    assert n.steps.dtype == ndgrad.float64
    assert n(ndgrad.randn(2, 3, dtype=ndgrad.float64)).dtype == ndgrad.float64
    n.float()
    assert w.dtype == ndgrad.float32
    n.to(ndgrad.float64)
    assert w.dtype == ndgrad.float64
    n.to(device="cpu", dtype=ndgrad.float32)
    assert w.dtype == ndgrad.float32
    assert n.to("cpu") is n and n.cpu() is n
    bn = nn.BatchNorm1d(2).half()
    assert bn.weight.dtype == ndgrad.float16 and bn.num_batches_tracked.dtype == ndgrad.int64
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point or complex dtypes"):
        n.to(ndgrad.int64)


def test_deepcopy_and_pickle_module():
    n = Net()
    m = copy.deepcopy(n)
    assert m.fc.weight is not n.fc.weight and isinstance(m.fc.weight, nn.Parameter)
    np.testing.assert_array_equal(m.fc.weight.detach().numpy(), n.fc.weight.detach().numpy())
    x = ndgrad.randn(2, 3)
    np.testing.assert_allclose(m(x).detach().numpy(), n(x).detach().numpy())
    tied = build_models(nn)["tied"]()
    t2 = copy.deepcopy(tied)
    assert t2.net[2] is t2.net[4]
    p = pickle.loads(pickle.dumps(n))
    np.testing.assert_allclose(p(x).detach().numpy(), n(x).detach().numpy())


# ---------------------------------------------------------------------------
# hooks
# ---------------------------------------------------------------------------
def test_forward_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    out = lin(ndgrad.randn(3, 2))
    np.testing.assert_allclose(out.detach().numpy(), np.broadcast_to(lin.bias.detach().numpy() + 1, (3, 2)),
                               rtol=1e-6)
    assert calls == [(3, 2)]
    h1.remove()
    h2.remove()
    x = ndgrad.randn(3, 2)
    np.testing.assert_allclose(lin(x).detach().numpy(), F.linear(x, lin.weight, lin.bias).detach().numpy())
    assert calls == [(3, 2)]
    order = []
    lin.register_forward_hook(lambda m, a, o: order.append("b"))
    lin.register_forward_hook(lambda m, a, o: order.append("a"), prepend=True)
    lin.register_forward_pre_hook(lambda m, a, k: (a, {**k}), with_kwargs=True)
    lin.register_forward_hook(lambda m, a, k, o: order.append(("kw", sorted(k))), with_kwargs=True)
    lin(x)
    assert order == ["a", "b", ("kw", [])]
    with lin.register_forward_hook(lambda m, a, o: order.append("ctx")):
        lin(x)
    lin(x)
    assert order.count("ctx") == 1
    # a global hook applies to every module
    from ndgrad.nn.modules.module import register_module_forward_hook
    seen = []
    h = register_module_forward_hook(lambda m, a, o: seen.append(type(m).__name__))
    nn.Sequential(nn.ReLU())(x)
    h.remove()
    nn.ReLU()(x)
    assert seen == ["ReLU", "Sequential"]


def test_full_backward_hook():
    lin = nn.Linear(3, 2)
    got = {}

    def hook(m, grad_input, grad_output):
        got["in"] = [g.clone() if g is not None else None for g in grad_input]
        got["out"] = [g.clone() for g in grad_output]
    lin.register_full_backward_hook(hook)
    x = ndgrad.randn(4, 3, requires_grad=True)
    out = lin(x)
    g = ndgrad.randn(4, 2)
    out.backward(g)
    np.testing.assert_allclose(got["out"][0].numpy(), g.numpy())
    np.testing.assert_allclose(got["in"][0].numpy(), (g.numpy() @ lin.weight.detach().numpy()), rtol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), got["in"][0].numpy())
    # input without grad: grad_input is (None,)
    got.clear()
    lin(ndgrad.randn(4, 3)).sum().backward()
    assert got["in"] == [None] and got["out"][0].shape == (4, 2)
    # a hook returning a value replaces grad_input
    lin2 = nn.Linear(3, 2)
    lin2.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    x2 = ndgrad.randn(2, 3, requires_grad=True)
    lin2(x2).sum().backward()
    assert np.all(x2.grad.numpy() == 0)
    assert lin2.weight.grad is not None


def test_full_backward_hook_matches_torch(torch_ref):
    weights = state_arrays(seeded_params(nn.Sequential(nn.Linear(3, 4), nn.Tanh())))
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)

    def run(L):
        m = load_arrays(L, L.nn.Sequential(L.nn.Linear(3, 4), L.nn.Tanh()), weights)
        rec = []
        m[1].register_full_backward_hook(lambda m, gi, go: rec.extend([gi[0].clone(), go[0].clone()]))
        (m(L.tensor(x, requires_grad=True)) ** 2).sum().backward()
        return rec
    for a, b in zip(run(ndgrad), torch_ref("hook", run), strict=True):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------
# d2l-style training gives PyTorch's numbers
# ---------------------------------------------------------------------------
def _train(lib, net, loss_fn, X, y, steps, lr):
    for _ in range(steps):
        loss = loss_fn(net(X), y)
        net.zero_grad()
        loss.backward()
        with lib.no_grad():
            for p in net.parameters():
                p -= lr * p.grad
    return loss


@pytest.mark.parametrize("kind", ["linreg", "softmax", "mlp"])
def test_training_matches_torch(kind, torch_ref):
    rng = np.random.default_rng(0)
    if kind == "linreg":
        X = rng.standard_normal((64, 2)).astype(np.float32)
        y = (X @ np.array([[2.0], [-3.4]], np.float32) + 4.2).astype(np.float32)
        build = lambda m: m.Sequential(m.Linear(2, 1))  # noqa: E731
        loss = "MSELoss"
    else:
        X = rng.standard_normal((64, 1, 4, 4)).astype(np.float32)
        y = rng.integers(0, 10, 64)
        if kind == "softmax":
            build = lambda m: m.Sequential(m.Flatten(), m.Linear(16, 10))  # noqa: E731
        else:
            build = lambda m: m.Sequential(m.Flatten(), m.Linear(16, 32), m.ReLU(), m.Linear(32, 10))  # noqa: E731
        loss = "CrossEntropyLoss"
    weights = state_arrays(seeded_params(build(nn), 0.3))

    def run(L):
        net = load_arrays(L, build(L.nn), weights)
        final = _train(L, net, getattr(L.nn, loss)(), L.tensor(X), L.tensor(y), 20, 0.1)
        return [final.item(), dict(net.state_dict())]
    (nl, nsd), (tl, tsd) = run(ndgrad), torch_ref("train", run)
    np.testing.assert_allclose(nl, tl, rtol=1e-4)
    assert list(nsd) == list(tsd)
    for k, a in nsd.items():
        np.testing.assert_allclose(a.numpy(), tsd[k], rtol=1e-4, atol=1e-5, err_msg=k)


# ---------------------------------------------------------------------------
# nn.utils
# ---------------------------------------------------------------------------
def _with_grads(seed=0):
    ndgrad.manual_seed(seed)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    (net(ndgrad.randn(5, 3)) ** 2).sum().backward()
    return net


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
def test_clip_grad_norm(norm_type):
    net = _with_grads()
    grads = [p.grad.numpy().copy() for p in net.parameters()]
    flat = np.concatenate([g.ravel() for g in grads]).astype(np.float64)
    expected = np.abs(flat).max() if norm_type == float("inf") else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    max_norm = expected / 3
    total = nn.utils.clip_grad_norm_(net.parameters(), max_norm, norm_type=norm_type)
    assert isinstance(total, ndgrad.Tensor) and total.dim() == 0
    np.testing.assert_allclose(total.item(), expected, rtol=1e-5)
    scale = max_norm / (expected + 1e-6)
    for p, g in zip(net.parameters(), grads):
        np.testing.assert_allclose(p.grad.numpy(), g * scale, rtol=1e-5)
    # already small enough: unchanged
    before = [p.grad.numpy().copy() for p in net.parameters()]
    nn.utils.clip_grad_norm_(net.parameters(), 1e6, norm_type=norm_type)
    for p, g in zip(net.parameters(), before):
        np.testing.assert_array_equal(p.grad.numpy(), g)


def test_clip_grad_norm_edge_cases():
    p = nn.Parameter(ndgrad.ones(3))
    assert nn.utils.clip_grad_norm_([p], 1.0).item() == 0.0  # no gradients
    p.grad = ndgrad.tensor([3.0, 4.0, 0.0])
    total = nn.utils.clip_grad_norm_(p, 1.0)  # a single tensor is accepted
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8, 0.0], rtol=1e-5)
    p.grad = ndgrad.tensor([float("nan"), 1.0, 0.0])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_and_vector_conversion():
    p = nn.Parameter(ndgrad.ones(2, 2))
    q = nn.Parameter(ndgrad.ones(3))
    p.grad = ndgrad.tensor([[-5.0, 0.2], [3.0, -0.1]])
    q.grad = ndgrad.tensor([0.5, -0.7, 9.0])
    assert nn.utils.clip_grad_value_([p, q], 0.5) is None
    np.testing.assert_allclose(p.grad.numpy(), [[-0.5, 0.2], [0.5, -0.1]])
    np.testing.assert_allclose(q.grad.numpy(), [0.5, -0.5, 0.5])
    vec = nn.utils.parameters_to_vector([p, q])
    assert vec.shape == (7,) and vec.requires_grad
    vec.sum().backward()
    nn.utils.vector_to_parameters(ndgrad.arange(7.0), [p, q])
    np.testing.assert_array_equal(p.detach().numpy(), [[0, 1], [2, 3]])
    np.testing.assert_array_equal(q.detach().numpy(), [4, 5, 6])
    with pytest.raises(TypeError, match="expected torch.Tensor, but got"):
        nn.utils.vector_to_parameters([1.0], [p])


def test_clip_grad_norm_matches_torch(torch_ref):
    build = lambda L: L.nn.Sequential(L.nn.Linear(3, 4), L.nn.Tanh(), L.nn.Linear(4, 2))  # noqa: E731
    weights = state_arrays(seeded_params(build(ndgrad)))
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)

    def run(L):
        net = load_arrays(L, build(L), weights)
        (net(L.tensor(x)) ** 2).sum().backward()
        out = []
        for nt in (2.0, float("inf"), 1.5):
            total = L.nn.utils.clip_grad_norm_(net.parameters(), 0.3, norm_type=nt)
            out.append([total.item(), [p.grad.clone() for p in net.parameters()]])
        return out
    for (n_total, n_grads), (t_total, t_grads) in zip(run(ndgrad), torch_ref("clip", run), strict=True):
        np.testing.assert_allclose(n_total, t_total, rtol=1e-5)
        for a, b in zip(n_grads, t_grads, strict=True):
            np.testing.assert_allclose(a.numpy(), b, rtol=1e-5, atol=1e-7)


def test_device_arguments():
    lin = nn.Linear(2, 2)
    assert lin.to("cpu") is lin and lin.to(ndgrad.device("cpu")) is lin
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        lin.to("cuda")
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        lin.cuda()
