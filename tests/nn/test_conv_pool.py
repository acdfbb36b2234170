"""Convolution, pooling, padding, interpolation, unfold/fold: forward values and
gradients (input, weight, bias) against PyTorch with identical weights; finite
differences in float64 (torch-free) including double backward of convolution;
NumPy references; module reprs; PyTorch's error messages; and an end-to-end
LeNet-5 trained 30 SGD steps beside PyTorch from identical weights and batches."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ndgrad
import ndgrad.nn as nn
import ndgrad.nn.functional as F
from ndgrad.autograd import gradcheck, gradgradcheck

from _nncheck import load_arrays, state_arrays

RNG = np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _fresh_rng() -> None:
    """Each test draws its inputs from the same seeded stream, whatever ran before it (so the
    PyTorch recordings match the inputs in any selection or order of tests)."""
    global RNG
    RNG = np.random.default_rng(1234)


def _r(*shape: int, dtype: type = np.float32) -> np.ndarray:
    return RNG.standard_normal(shape).astype(dtype)


def _nd(a: np.ndarray, rg: bool = True) -> ndgrad.Tensor:
    return ndgrad.tensor(np.array(a), requires_grad=rg)


def _run(L, fn, arrays: list, go: np.ndarray | None) -> list:
    """fn(L, *tensors): [output, indices or None, input gradients for upstream gradient go
    (None: shapes only)]."""
    ts = [L.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = fn(L, *ts)
    out, idx = out if isinstance(out, tuple) else (out, None)
    if go is None:
        return [out, idx, []]
    out.backward(L.tensor(go))
    return [out.detach(), idx, [t.grad for t in ts]]


def _compare(torch_ref, key: str, fn, arrays: list, tol: float = 1e-4, multi: bool = False) -> None:
    """Forward (with the indices, multi) and every input's gradient of fn(L, *tensors) on ndgrad
    agree with PyTorch's."""
    shape = tuple(_run(ndgrad, fn, arrays, None)[0].shape)
    go = RNG.standard_normal(shape).astype(arrays[0].dtype)
    no, ni, ngrads = _run(ndgrad, fn, arrays, go)
    to, ti, tgrads = torch_ref(key, lambda torch: _run(torch, fn, arrays, go))
    if multi:
        np.testing.assert_array_equal(ni.numpy(), ti)
        assert ni.dtype is ndgrad.int64
    assert tuple(no.shape) == to.shape
    np.testing.assert_allclose(no.numpy(), to, rtol=tol, atol=tol)
    for n, t in zip(ngrads, tgrads, strict=True):
        if t is not None:
            np.testing.assert_allclose(n.numpy(), t, rtol=tol, atol=tol)


# ---------------------------------------------------------------------------
# convolution against PyTorch
# ---------------------------------------------------------------------------
CONV2D_CASES = [
    {}, {"stride": 2}, {"padding": 1}, {"padding": (2, 1), "stride": (2, 3), "dilation": (2, 1)},
    {"padding": "same"}, {"padding": "same", "dilation": 2}, {"padding": "valid"}, {"stride": 3, "padding": 2},
]


@pytest.mark.parametrize("kw", CONV2D_CASES)
def test_conv2d_matches_torch(kw: dict, torch_ref) -> None:
    x, w, b = _r(2, 3, 9, 8), _r(6, 3, 3, 3), _r(6)
    _compare(torch_ref, "0", lambda L, x, w, b: L.nn.functional.conv2d(x, w, b, **kw),
             [x, w, b])


@pytest.mark.parametrize("shape,groups,kw", [((6, 1, 3, 2), 3, {"stride": 2, "padding": 1}),
                                             ((6, 1, 4, 4), 3, {"padding": "same"}),
                                             ((4, 3, 1, 1), 1, {}),
                                             ((6, 3, 1, 1), 1, {"stride": 2})])
def test_conv2d_groups_even_kernels_pointwise(shape: tuple, groups: int, kw: dict, torch_ref) -> None:
    x, w = _r(2, 3, 9, 8), _r(*shape)
    warnings.filterwarnings("ignore", "Using padding='same'")
    _compare(torch_ref, "0", lambda L, x, w: L.nn.functional.conv2d(x, w, groups=groups, **kw), [x, w])


def test_conv1d_and_unbatched_match_torch(torch_ref) -> None:
    x, w, b = _r(2, 4, 11), _r(6, 2, 3), _r(6)
    kw = {"groups": 2, "stride": 2, "padding": 2, "dilation": 2}
    _compare(torch_ref, "0", lambda L, x, w, b: L.nn.functional.conv1d(x, w, b, **kw),
             [x, w, b])
    x3, w3 = _r(3, 7, 6), _r(5, 3, 3, 3)
    _compare(torch_ref, "1", lambda L, x, w: L.nn.functional.conv2d(x, w, padding=1),
             [x3, w3])


@pytest.mark.parametrize("kw", [{}, {"stride": 2}, {"stride": 2, "padding": 1, "output_padding": 1},
                                {"stride": (2, 3), "padding": (1, 0), "dilation": (1, 2)},
                                {"stride": 2, "dilation": 3, "output_padding": 2},
                                {"stride": 1, "dilation": 2, "output_padding": 1}])
def test_conv_transpose2d_matches_torch(kw: dict, torch_ref) -> None:
    x, w, b = _r(2, 3, 5, 4), _r(3, 4, 3, 3), _r(4)
    _compare(torch_ref, "0", lambda L, x, w, b: L.nn.functional.conv_transpose2d(x, w, b, **kw), [x, w, b])


def test_conv_transpose_groups_and_1d(torch_ref) -> None:
    x, w = _r(2, 4, 5, 4), _r(4, 3, 3, 2)
    _compare(torch_ref, "0", lambda L, x, w: L.nn.functional.conv_transpose2d(x, w, groups=2, stride=2), [x, w])
    x1, w1 = _r(2, 3, 6), _r(3, 2, 4)
    _compare(torch_ref, "1", lambda L, x, w: L.nn.functional.conv_transpose1d(x, w, stride=3, padding=1), [x1, w1])


def test_conv2d_float64_and_double_backward_match_torch(torch_ref) -> None:
    x, w = _r(1, 2, 5, 5, dtype=np.float64), _r(3, 2, 3, 3, dtype=np.float64)

    def run(L):
        tx, tw = L.tensor(x, requires_grad=True), L.tensor(w, requires_grad=True)
        y = L.nn.functional.conv2d(tx, tw, stride=2, padding=1)
        gx, gw = L.autograd.grad((y ** 2).sum(), (tx, tw), create_graph=True)
        return [y.dtype, gx.detach(), list(L.autograd.grad((gx ** 2).sum() + gw.sum(), (tx, tw)))]

    (dt, gx, g2), (tdt, tgx, tg2) = run(ndgrad), torch_ref("grads", run)
    assert dt is ndgrad.float64 and tdt == "torch.float64"
    np.testing.assert_allclose(gx.numpy(), tgx, rtol=1e-10)
    for a, b in zip(g2, tg2, strict=True):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-9, atol=1e-10)


# ---------------------------------------------------------------------------
# pooling against PyTorch
# ---------------------------------------------------------------------------
MAXPOOL_CASES = [
    {"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "ceil_mode": True},
    {"kernel_size": (3, 2), "stride": (1, 2), "dilation": (2, 1), "padding": (1, 1)},
    {"kernel_size": 2, "return_indices": True},
    {"kernel_size": 3, "stride": 1, "padding": 1, "return_indices": True},
]


@pytest.mark.parametrize("kw", MAXPOOL_CASES)
def test_max_pool2d_matches_torch(kw: dict, torch_ref) -> None:
    x = _r(2, 3, 9, 8)
    _compare(torch_ref, "0", lambda L, x: L.nn.functional.max_pool2d(x, **kw), [x],
             multi=kw.get("return_indices", False))


def test_max_pool_ties_go_to_first_max_like_torch(torch_ref) -> None:
    x = np.round(_r(2, 2, 7, 7) * 1.5).astype(np.float32)  # many ties
    _compare(torch_ref, "0", lambda L, x: L.nn.functional.max_pool2d(x, 3, 1, return_indices=True), [x], multi=True)
    _compare(torch_ref, "1", lambda L, x: L.nn.functional.max_pool1d(x, 3, 2, 1, ceil_mode=True, return_indices=True),
             [x[0, 0]], multi=True)


AVGPOOL_CASES = [
    {"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
    {"kernel_size": 3, "stride": 2, "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": (3, 2), "divisor_override": 5},
]


@pytest.mark.parametrize("kw", AVGPOOL_CASES)
def test_avg_pool2d_matches_torch(kw: dict, torch_ref) -> None:
    x = _r(2, 3, 9, 8)
    _compare(torch_ref, "0", lambda L, x: L.nn.functional.avg_pool2d(x, **kw), [x])


def test_pool1d_and_unbatched_match_torch(torch_ref) -> None:
    x = _r(2, 4, 11)
    _compare(torch_ref, "0", lambda L, x: L.nn.functional.avg_pool1d(x, 3, 2, 1, ceil_mode=True), [x])
    _compare(torch_ref, "1", lambda L, x: L.nn.functional.max_pool1d(x, 2), [x])
    _compare(torch_ref, "2", lambda L, x: L.nn.functional.max_pool2d(x, 2), [x])  # (C, H, W)


@pytest.mark.parametrize("size", [1, (3, 3), (4, 5), (2, None), (7, 6), 9])
def test_adaptive_pools_match_torch(size: object, torch_ref) -> None:
    x = _r(2, 3, 9, 8)
    _compare(torch_ref, "0", lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, size), [x])
    _compare(torch_ref, "1", lambda L, x: L.nn.functional.adaptive_max_pool2d(x, size, return_indices=True), [x],
             multi=True)


def test_adaptive_1d_lp_pool_pixel_shuffle_unpool_match_torch(torch_ref) -> None:
    x = _r(2, 3, 10)
    _compare(torch_ref, "0", lambda L, x: L.nn.functional.adaptive_avg_pool1d(x, 4), [x])
    _compare(torch_ref, "1", lambda L, x: L.nn.functional.adaptive_max_pool1d(x, 4), [x])
    xp = np.abs(_r(2, 3, 6, 6)) + 0.1
    _compare(torch_ref, "2", lambda L, x: L.nn.functional.lp_pool2d(x, 2, 2), [xp])
    xs = _r(2, 8, 3, 3)
    _compare(torch_ref, "3", lambda L, x: L.nn.functional.pixel_shuffle(x, 2), [xs])
    _compare(torch_ref, "4", lambda L, x: L.nn.functional.pixel_unshuffle(x, 3), [_r(1, 2, 6, 3)])

    def unpool(L):
        v, i = L.nn.functional.max_pool2d(L.tensor(xp), 2, return_indices=True)
        return L.nn.functional.max_unpool2d(v, i, 2)
    np.testing.assert_array_equal(unpool(ndgrad).numpy(), torch_ref("unpool", unpool))


# ---------------------------------------------------------------------------
# pad / interpolate / unfold / fold against PyTorch
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("pad,mode", [((1, 2), "constant"), ((1, 2, 3, 0), "constant"), ((-1, 2, 1, -2), "constant"),
                                      ((1, 1, 1, 1, 1, 1), "constant"), ((2, 1, 1, 2), "reflect"),
                                      ((2, 3, 3, 1), "replicate"), ((2, 3, 3, 1), "circular"),
                                      ((2, -1, 1, 1), "circular"), ((3, 3), "reflect")])
def test_pad_matches_torch(pad: tuple, mode: str, torch_ref) -> None:
    x = _r(2, 3, 5, 4)
    if len(pad) == 2 and mode != "constant":
        x = x[0]
    _compare(torch_ref, "0", lambda L, x: L.nn.functional.pad(x, pad, mode), [x])


def test_pad_constant_value() -> None:
    y = F.pad(ndgrad.ones(1, 2), (1, 1), value=-3.5)
    np.testing.assert_array_equal(y.numpy(), [[-3.5, 1, 1, -3.5]])


INTERP_CASES = [
    {"scale_factor": 2}, {"size": (5, 13)}, {"scale_factor": 1.7}, {"size": (5, 13), "mode": "bilinear"},
    {"size": (17, 13), "mode": "bilinear", "align_corners": True}, {"scale_factor": 2.3, "mode": "bilinear"},
    {"size": (5, 3), "mode": "bilinear"}, {"size": (5, 13), "mode": "nearest-exact"},
    {"size": (4, 3), "mode": "area"}, {"scale_factor": 0.5, "mode": "bilinear", "align_corners": True},
    {"scale_factor": (2, 3), "mode": "bilinear", "recompute_scale_factor": True},
]


@pytest.mark.parametrize("kw", INTERP_CASES)
def test_interpolate_matches_torch(kw: dict, torch_ref) -> None:
    x = _r(2, 3, 9, 8)
    _compare(torch_ref, "0", lambda L, x: L.nn.functional.interpolate(x, **kw), [x])


def test_interpolate_linear_1d_matches_torch(torch_ref) -> None:
    x = _r(2, 3, 7)
    for kw in ({"size": 17, "mode": "linear"}, {"scale_factor": 3, "mode": "linear", "align_corners": True},
               {"scale_factor": 2}):
        _compare(torch_ref, str(kw), lambda L, x, kw=kw: L.nn.functional.interpolate(x, **kw), [x])


def test_unfold_fold_match_torch(torch_ref) -> None:
    x = _r(2, 3, 9, 8)
    _compare(torch_ref, "0", lambda L, x: L.nn.functional.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=2), [x])
    c = _r(2, 12, 20)
    _compare(torch_ref, "1", lambda L, c: L.nn.functional.fold(c, (9, 8), (2, 3), padding=1, stride=2), [c])


# ---------------------------------------------------------------------------
# finite differences in float64 (no torch needed)
# ---------------------------------------------------------------------------
def _d(*shape: int) -> ndgrad.Tensor:
    return _nd(_r(*shape, dtype=np.float64))


def test_gradcheck_conv2d_and_double_backward() -> None:
    x, w, b = _d(1, 2, 5, 4), _d(3, 2, 3, 2), _d(3)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2)), (x, w, b))
    wg = _d(4, 1, 2, 2)
    assert gradcheck(lambda x, w: F.conv2d(x, w, groups=2, padding="same"), (x, wg))
    assert gradgradcheck(lambda x, w: F.conv2d(x, w, stride=2, padding=1), (x, w))


def test_gradcheck_conv1d_and_transpose() -> None:
    x, w = _d(2, 2, 5), _d(3, 2, 3)
    assert gradcheck(lambda x, w: F.conv1d(x, w, stride=2, padding=2), (x, w))
    xt, wt, bt = _d(1, 2, 3, 3), _d(2, 3, 3, 2), _d(3)
    assert gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
                     (xt, wt, bt))
    assert gradgradcheck(lambda x, w: F.conv_transpose2d(x, w, stride=2), (xt, wt))


def test_gradcheck_pools() -> None:
    x = _d(1, 2, 6, 5)
    assert gradcheck(lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), (x,))
    assert gradcheck(lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), (x,))
    assert gradcheck(lambda x: F.adaptive_avg_pool2d(x, (4, 3)), (x,))
    assert gradcheck(lambda x: F.adaptive_max_pool2d(x, (4, 3)), (x,))
    assert gradgradcheck(lambda x: F.avg_pool2d(x, 2), (x,))
    assert gradgradcheck(lambda x: F.max_pool2d(x, 2, 1), (x,))


def test_gradcheck_pad_interpolate_unfold() -> None:
    x = _d(1, 2, 4, 3)
    for mode in ("constant", "reflect", "replicate", "circular"):
        assert gradcheck(lambda x, mode=mode: F.pad(x, (2, 1, 1, 2), mode=mode), (x,))
    assert gradcheck(lambda x: F.interpolate(x, size=(7, 5), mode="bilinear"), (x,))
    assert gradcheck(lambda x: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True), (x,))
    assert gradcheck(lambda x: F.interpolate(x, size=(5, 7)), (x,))
    assert gradcheck(lambda x: F.unfold(x, 2, padding=1), (x,))
    assert gradgradcheck(lambda x: F.fold(F.unfold(x, 2, stride=1), (4, 3), 2), (x,))
    assert gradgradcheck(lambda x: F.pad(x, (1, 2, 2, 1), mode="reflect"), (x,))
    assert gradgradcheck(lambda x: F.interpolate(x, size=(7, 6), mode="bilinear"), (x,))
    assert gradgradcheck(lambda x: F.adaptive_max_pool2d(x, (3, 2)), (x,))


# ---------------------------------------------------------------------------
# NumPy references and literal values (no torch needed)
# ---------------------------------------------------------------------------
def test_conv2d_matches_naive_numpy_loop() -> None:
    x, w, b = _r(2, 4, 7, 6), _r(6, 2, 3, 2), _r(6)
    s, p, d, g = (2, 1), (1, 2), (1, 2), 2
    y = F.conv2d(ndgrad.tensor(x), ndgrad.tensor(w), ndgrad.tensor(b), s, p, d, g).numpy()
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    Ho = (xp.shape[2] - d[0] * (w.shape[2] - 1) - 1) // s[0] + 1
    Wo = (xp.shape[3] - d[1] * (w.shape[3] - 1) - 1) // s[1] + 1
    ref = np.zeros((2, 6, Ho, Wo))
    for n in range(2):
        for o in range(6):
            grp = o // 3
            for i in range(Ho):
                for j in range(Wo):
                    patch = xp[n, grp * 2:(grp + 1) * 2, i * s[0]:i * s[0] + d[0] * 2 + 1:d[0],
                               j * s[1]:j * s[1] + d[1] * 1 + 1:d[1]]
                    ref[n, o, i, j] = (patch * w[o]).sum() + b[o]
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def test_conv_batch_chunking_gives_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    # big layers run im2col on batch chunks and recompute columns in backward
    import ndgrad.ops.nn as K
    x, w, b = _r(5, 4, 7, 6), _r(6, 2, 3, 3), _r(6)

    def run() -> list:
        nx, nw, nb = _nd(x), _nd(w), _nd(b)
        y = F.conv2d(nx, nw, nb, stride=(1, 2), padding=1, groups=2)
        (y * y).sum().backward()
        z = F.conv_transpose2d(nx, _nd(_r(4, 3, 3, 3)), stride=2)
        return [y.detach().numpy(), nx.grad.numpy(), nw.grad.numpy(), nb.grad.numpy(), z.shape]

    ref = run()
    monkeypatch.setattr(K, "_CHUNK_ELEMS", 300)
    monkeypatch.setattr(K, "_CACHE_ELEMS", 10)
    for a, c in zip(ref[:4], run()[:4]):
        np.testing.assert_allclose(c, a, rtol=1e-5, atol=1e-5)


def test_max_pool_first_max_tie_rule_literal() -> None:
    x = _nd(np.array([[[[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, 0.0, 3.0]]]], dtype=np.float32))
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), [[[[1, 2]]]])  # recorded from PyTorch
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0, 1, 1, 0], [0, 0, 0, 0]]]])


def test_max_pool_nan_propagates_literal() -> None:
    # recorded from PyTorch: NaN wins its window and the LAST NaN's index is reported
    nan = float("nan")
    x = ndgrad.tensor([[[[1.0, nan, 3.0, nan], [2.0, 5.0, nan, 1.0], [0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]]]])
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    assert np.isnan(y.numpy()[0, 0, 0]).all() and y.numpy()[0, 0, 1].tolist() == [1.0, 1.0]
    np.testing.assert_array_equal(idx.numpy().ravel(), [1, 6, 12, 14])
    _, idx3 = F.max_pool2d(x, 3, 1, 1, return_indices=True)
    np.testing.assert_array_equal(idx3.numpy().ravel(), [1, 6, 6, 6, 1, 6, 6, 6, 5, 6, 6, 6, 12, 12, 13, 14])


def test_conv_keeps_float32_and_contiguity() -> None:
    x = _nd(_r(2, 3, 8, 8))
    y = nn.Conv2d(3, 4, 3, padding=1)(x)
    assert y.dtype is ndgrad.float32 and y.shape == (2, 4, 8, 8)
    assert y.detach().numpy().flags.c_contiguous
    y.sum().backward()
    assert x.grad.dtype is ndgrad.float32 and x.grad.shape == x.shape


# ---------------------------------------------------------------------------
# modules: repr, attributes, padding modes, lazy
# ---------------------------------------------------------------------------
def test_module_reprs() -> None:
    assert repr(nn.Conv2d(1, 6, 5, padding=2)) == "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))"
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.AvgPool1d(3)) == "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))"
    assert repr(nn.AdaptiveAvgPool2d((5, None))) == "AdaptiveAvgPool2d(output_size=(5, None))"
    assert repr(nn.AdaptiveMaxPool2d(3)) == "AdaptiveMaxPool2d(output_size=3)"
    assert repr(nn.Conv1d(2, 4, 3, padding="same", padding_mode="reflect", bias=False)) == \
        "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=same, bias=False, padding_mode=reflect)"
    assert repr(nn.ConvTranspose2d(2, 3, 3, 2, 1, 1)) == \
        "ConvTranspose2d(2, 3, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))"
    assert repr(nn.Conv2d(4, 8, 3, dilation=2, groups=2)) == \
        "Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), dilation=(2, 2), groups=2)"
    assert repr(nn.LazyConv2d(6, 5)) == "LazyConv2d(0, 6, kernel_size=(5, 5), stride=(1, 1))"


def test_conv_default_init_bounds_and_shapes() -> None:
    ndgrad.manual_seed(0)
    c = nn.Conv2d(6, 16, 5)
    assert c.weight.shape == (16, 6, 5, 5) and c.bias.shape == (16,)
    bound = 1 / np.sqrt(6 * 25)
    assert np.abs(c.weight.detach().numpy()).max() <= bound
    assert np.abs(c.bias.detach().numpy()).max() <= bound
    assert np.abs(c.weight.detach().numpy()).max() > 0.8 * bound  # uniform over the whole range
    assert [n for n, _ in c.named_parameters()] == ["weight", "bias"]
    t = nn.ConvTranspose2d(4, 6, 3, groups=2)
    assert t.weight.shape == (4, 3, 3, 3)


def test_lazy_conv2d_infers_in_channels() -> None:
    m = nn.LazyConv2d(6, 5, padding=2)
    y = m(ndgrad.randn(2, 3, 10, 10))
    assert type(m) is nn.Conv2d and m.in_channels == 3 and m.weight.shape == (6, 3, 5, 5)
    assert y.shape == (2, 6, 10, 10)
    assert repr(m) == "Conv2d(3, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))"


def _seeded(m, seed: int = 0):
    """Module m with seeded uniform weights in its default init's range (+-1/sqrt(fan_in)); the
    same arrays are loaded into the PyTorch twin."""
    rng = np.random.default_rng(seed)
    with ndgrad.no_grad():
        for _, p in sorted(m.named_parameters()):
            fan_in = int(np.prod(p.shape[1:])) if p.dim() > 1 else p.shape[0]
            p.copy_(ndgrad.tensor(rng.uniform(-1, 1, tuple(p.shape)) / np.sqrt(fan_in)))
    return m


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv_module_padding_modes_match_torch(mode: str, torch_ref) -> None:
    nm = _seeded(nn.Conv2d(3, 4, 3, padding=(2, 1), padding_mode=mode, stride=2))
    weights = state_arrays(nm)
    build = lambda L: load_arrays(L, L.nn.Conv2d(3, 4, 3, padding=(2, 1), padding_mode=mode, stride=2), weights)  # noqa: E731
    x = _r(2, 3, 7, 6)
    _compare(torch_ref, "module", lambda L, x: build(L)(x), [x])

    def param_grads(L):
        m = build(L)
        m(L.tensor(x)).sum().backward()
        return [m.weight.grad, m.bias.grad]
    for n, t in zip(param_grads(ndgrad), torch_ref("param_grads", param_grads), strict=True):
        np.testing.assert_allclose(n.numpy(), t, rtol=1e-4, atol=1e-4)


def test_conv_transpose_module_output_size(torch_ref) -> None:
    weights = state_arrays(_seeded(nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)))
    x = _r(1, 2, 4, 4)

    def run(L):
        m = load_arrays(L, L.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1), weights)
        return m(L.tensor(x), output_size=[8, 8]).detach()
    ny = run(ndgrad)
    assert ny.shape == (1, 3, 8, 8)
    np.testing.assert_allclose(ny.numpy(), torch_ref("out", run), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------
# errors: PyTorch's exception types and words
# ---------------------------------------------------------------------------
def test_conv_errors() -> None:
    with pytest.raises(RuntimeError, match=r"Given groups=1, weight of size \[6, 1, 5, 5\], expected "
                                           r"input\[1, 3, 28, 28\] to have 1 channels, but got 3 channels instead"):
        F.conv2d(ndgrad.zeros(1, 3, 28, 28), ndgrad.zeros(6, 1, 5, 5))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        F.conv2d(ndgrad.zeros(1, 1, 3, 3), ndgrad.zeros(6, 1, 5, 5))
    with pytest.raises(RuntimeError, match="padding='same' is not supported for strided convolutions"):
        F.conv2d(ndgrad.zeros(1, 1, 8, 8), ndgrad.zeros(6, 1, 3, 3), stride=2, padding="same")
    with pytest.raises(RuntimeError, match="expected bias to be 1-dimensional with 6 elements"):
        F.conv2d(ndgrad.zeros(1, 4, 8, 8), ndgrad.zeros(6, 4, 3, 3), bias=ndgrad.zeros(5))
    with pytest.raises(RuntimeError, match="expected scalar type Double but found Float"):
        F.conv2d(ndgrad.zeros(1, 1, 8, 8, dtype=ndgrad.float64), ndgrad.zeros(6, 1, 3, 3))
    with pytest.raises(RuntimeError, match="non-positive stride is not supported"):
        F.conv2d(ndgrad.zeros(1, 1, 8, 8), ndgrad.zeros(6, 1, 3, 3), stride=0)
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride or dilation"):
        F.conv_transpose2d(ndgrad.zeros(1, 2, 4, 4), ndgrad.zeros(2, 2, 3, 3), stride=2, output_padding=2)
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(3, 6, 3, padding_mode="mirror")


def test_pool_pad_interpolate_errors() -> None:
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size"):
        F.max_pool2d(ndgrad.zeros(1, 1, 8, 8), 3, padding=2)
    with pytest.raises(RuntimeError, match=r"Given input size: \(1x2x2\). Calculated output size: \(1x0x0\). "
                                           "Output size is too small"):
        F.max_pool2d(ndgrad.zeros(1, 1, 2, 2), 3)
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        F.pad(ndgrad.zeros(1, 1, 3, 3), (1, 1, 1))
    with pytest.raises(RuntimeError, match="Padding size should be less than the corresponding input dimension"):
        F.pad(ndgrad.zeros(1, 3, 3), (3, 3), mode="reflect")
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 4D input tensor"):
        F.pad(ndgrad.zeros(1, 1, 3, 3), (1, 1), mode="reflect")
    with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
        F.interpolate(ndgrad.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        F.interpolate(ndgrad.zeros(1, 1, 3, 3), size=4, scale_factor=2)
    with pytest.raises(ValueError, match="align_corners option can only be set with the interpolating modes"):
        F.interpolate(ndgrad.zeros(1, 1, 3, 3), size=4, align_corners=True)


# ---------------------------------------------------------------------------
# end to end: d2l's LeNet-5, 30 SGD steps beside PyTorch
# ---------------------------------------------------------------------------
def _lenet(fw):
    m = fw.nn
    return m.Sequential(
        m.Conv2d(1, 6, kernel_size=5, padding=2), m.Sigmoid(), m.AvgPool2d(kernel_size=2, stride=2),
        m.Conv2d(6, 16, kernel_size=5), m.Sigmoid(), m.AvgPool2d(kernel_size=2, stride=2),
        m.Flatten(), m.Linear(16 * 5 * 5, 120), m.Sigmoid(), m.Linear(120, 84), m.Sigmoid(), m.Linear(84, 10))


def _train(fw, model, X: np.ndarray, Y: np.ndarray, lr: float) -> list:
    losses = []
    loss_fn = fw.nn.CrossEntropyLoss()
    for x, y in zip(X, Y):
        for p in model.parameters():
            p.grad = None
        loss = loss_fn(model(fw.tensor(x)), fw.tensor(y))
        loss.backward()
        with fw.no_grad():
            for p in model.parameters():
                p -= lr * p.grad  # hand-written SGD step, identical in both frameworks
        losses.append(float(loss.detach().numpy()))
    return losses


def test_lenet_trains_like_torch(torch_ref) -> None:
    weights = state_arrays(_seeded(_lenet(ndgrad)))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 16, 1, 28, 28)).astype(np.float32)
    Y = rng.integers(0, 10, (30, 16)).astype(np.int64)

    def run(L):
        m = load_arrays(L, _lenet(L), weights)
        losses = _train(L, m, X, Y, lr=0.9)
        # the trained weights, summarised: per tensor its sum, sum of squares and first values
        return [losses, {k: [float(v.double().sum()), float((v.double() ** 2).sum()), v.flatten()[:6].clone()]
                         for k, v in m.state_dict().items()}]

    (ln, nsd), (lt, tsd) = run(ndgrad), torch_ref("train", run)
    np.testing.assert_allclose(ln, lt, rtol=1e-4)
    assert lt[-1] != lt[0]  # the weights really moved
    assert list(nsd) == list(tsd)
    for k in nsd:
        np.testing.assert_allclose(nsd[k][:2], tsd[k][:2], rtol=1e-3, atol=1e-3, err_msg=k)
        np.testing.assert_allclose(nsd[k][2].numpy(), tsd[k][2], rtol=1e-3, atol=1e-4, err_msg=k)
