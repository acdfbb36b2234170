"""Padding, upsampling, pixel shuffle, fold/unfold, 3-d and fractional pooling, unpooling and
transposed convolutions in 1-3 d: forward values and gradients against PyTorch (live or
recorded), module reprs and errors against PyTorch's, gradcheck + gradgradcheck in float64."""
from __future__ import annotations

import numpy as np
import pytest
from _nncheck import check_fn, check_module, err_of, lib_of, rand

import ndgrad
import ndgrad.nn.functional as F
from ndgrad.autograd import gradcheck, gradgradcheck

X = {1: rand(2, 2, 7), 2: rand(2, 1, 5, 4), 3: rand(1, 2, 4, 5, 4)}


# ---------------------------------------------------------------------------
# F.pad in every mode, 1-3 d, batched and not, negative pads
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "constant"])
def test_pad_modes_match_torch(torch_ref, nd: int, mode: str) -> None:
    for i, pads in enumerate([(1, 2), (0, 3), (-1, 2)]):
        pad = pads * nd
        check_fn(torch_ref, f"b{i}", lambda lib, x, pad=pad: lib.nn.functional.pad(x, pad, mode=mode), [X[nd]])
        check_fn(torch_ref, f"u{i}", lambda lib, x, pad=pad: lib.nn.functional.pad(x, pad, mode=mode), [X[nd][0]])


def test_pad_node_names_match_torch(torch_ref) -> None:
    x = ndgrad.tensor(X[2], requires_grad=True)
    got = [type(F.pad(x, (1, 1, 1, 1), mode=m).grad_fn).__name__ for m in ("reflect", "replicate")]
    want = torch_ref("names", lambda torch: [type(torch.nn.functional.pad(torch.tensor(X[2], requires_grad=True),
                                                                           (1, 1, 1, 1), mode=m).grad_fn).__name__
                                             for m in ("reflect", "replicate")])
    assert got == want


# ---------------------------------------------------------------------------
# interpolate: every mode, size / scale_factor / recompute / align_corners
# ---------------------------------------------------------------------------
_MODES = {1: ["nearest", "nearest-exact", "area", "linear"], 2: ["nearest", "bilinear", "bicubic", "area"],
          3: ["nearest-exact", "trilinear"]}
_SIZES = [{"size": 7}, {"size": 3}, {"scale_factor": 1.7}, {"scale_factor": 0.6},
          {"scale_factor": 1.7, "recompute_scale_factor": True}]


@pytest.mark.parametrize("nd,mode", [(nd, m) for nd, ms in _MODES.items() for m in ms])
def test_interpolate_matches_torch(torch_ref, nd: int, mode: str) -> None:
    corners = [None] if mode in ("nearest", "nearest-exact", "area") else [False, True]
    for i, kw in enumerate(_SIZES):
        for ac in corners:
            k = dict(kw, mode=mode) if ac is None else dict(kw, mode=mode, align_corners=ac)
            check_fn(torch_ref, f"{i}-{ac}", lambda lib, x, k=k: lib.nn.functional.interpolate(x, **k), [X[nd]])


def test_bicubic_literal_values() -> None:
    # PyTorch 2.13: F.interpolate(arange(4.).reshape(1, 1, 2, 2), size=3, mode="bicubic") in float64
    x = ndgrad.arange(4.0, dtype=ndgrad.float64).reshape(1, 1, 2, 2)
    want = [[-0.26041666666666613, 0.3263888888888894, 0.9131944444444454],
            [0.9131944444444449, 1.5, 2.0868055555555562], [2.086805555555557, 2.673611111111112, 3.2604166666666683]]
    got = F.interpolate(x, size=3, mode="bicubic").numpy()[0, 0]
    np.testing.assert_allclose(got, want, rtol=1e-13)


@pytest.mark.parametrize("name,kw", [
    ("Upsample", {"scale_factor": 2}), ("Upsample", {"size": (5, 4), "mode": "bilinear"}),
    ("Upsample", {"scale_factor": (2, 1.5), "mode": "bicubic", "align_corners": True}),
    ("UpsamplingNearest2d", {"scale_factor": 2}), ("UpsamplingBilinear2d", {"size": 5}),
])
def test_upsample_modules_match_torch(torch_ref, name: str, kw: dict) -> None:
    check_module(torch_ref, "fwd", lambda lib: getattr(lib.nn, name)(**kw), [X[2]])


# ---------------------------------------------------------------------------
# 3-d pools, adaptive pools, LP pools, unpooling, fractional max pooling
# ---------------------------------------------------------------------------
_POOL_KW = [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1},
            {"kernel_size": 2, "ceil_mode": True}, {"kernel_size": (2, 3, 2), "stride": (1, 2, 1)}]


@pytest.mark.parametrize("i", range(len(_POOL_KW)))
def test_pool3d_matches_torch(torch_ref, i: int) -> None:
    kw = _POOL_KW[i]
    check_fn(torch_ref, "max", lambda lib, x: lib.nn.functional.max_pool3d(x, return_indices=True, **kw), [X[3]])
    check_fn(torch_ref, "max_dil", lambda lib, x: lib.nn.functional.max_pool3d(x, dilation=2, **kw), [X[3]])
    check_fn(torch_ref, "avg", lambda lib, x: lib.nn.functional.avg_pool3d(x, **kw), [X[3]])
    check_fn(torch_ref, "avg_nopad", lambda lib, x: lib.nn.functional.avg_pool3d(x, count_include_pad=False, **kw),
             [X[3]])
    check_fn(torch_ref, "avg_div", lambda lib, x: lib.nn.functional.avg_pool3d(x, divisor_override=3, **kw),
             [X[3][0]])


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_adaptive_pools_match_torch(torch_ref, nd: int) -> None:
    for size in [1, 3, (4, 2, 3)[:nd]]:
        check_fn(torch_ref, f"avg{size}", lambda lib, x, size=size: getattr(
            lib.nn.functional, f"adaptive_avg_pool{nd}d")(x, size), [X[nd]])
        check_fn(torch_ref, f"max{size}", lambda lib, x, size=size: getattr(
            lib.nn.functional, f"adaptive_max_pool{nd}d")(x, size, return_indices=True), [X[nd]])


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_unpool_and_lp_pool_match_torch(torch_ref, nd: int) -> None:
    def roundtrip(lib, x, kw):
        F_ = lib.nn.functional
        y, idx = getattr(F_, f"max_pool{nd}d")(x, return_indices=True, **kw)
        return getattr(F_, f"max_unpool{nd}d")(y, idx, output_size=x.shape[-nd:], **kw), idx

    for i, kw in enumerate([{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1}]):
        check_fn(torch_ref, f"unpool{i}", lambda lib, x, kw=kw: roundtrip(lib, x, kw), [X[nd]])
        check_fn(torch_ref, f"unpool_u{i}", lambda lib, x, kw=kw: roundtrip(lib, x, kw), [X[nd][0]])
    check_fn(torch_ref, "lp", lambda lib, x: getattr(lib.nn.functional, f"lp_pool{nd}d")(x.abs() + 0.1, 3, 2),
             [X[nd]])


@pytest.mark.parametrize("nd", [2, 3])
def test_fractional_max_pool_matches_torch(torch_ref, nd: int) -> None:
    x = rand(2, 1, *(7,) * nd, seed=3)
    u = np.random.default_rng(4).random((2, 1, nd)).astype(np.float32)
    fn = f"fractional_max_pool{nd}d"
    for i, kw in enumerate([{"kernel_size": 2, "output_size": 4}, {"kernel_size": 3, "output_ratio": (0.5,) * nd},
                            {"kernel_size": 2, "output_size": 5}]):
        check_fn(torch_ref, f"k{i}", lambda lib, x, kw=kw: getattr(lib.nn.functional, fn)(
            x, return_indices=True, _random_samples=lib.tensor(u), **kw), [x])
    # module form with random samples: shape only, indices point at the window maxima
    m = getattr(ndgrad.nn, f"FractionalMaxPool{nd}d")(2, output_size=4, return_indices=True)
    y, idx = m(ndgrad.tensor(x))
    flat = x.reshape(2, 1, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, idx.numpy().reshape(2, 1, -1), 2),
                                  y.numpy().reshape(2, 1, -1))


# ---------------------------------------------------------------------------
# transposed convolutions 1-3 d and conv3d, as modules from identical weights
# ---------------------------------------------------------------------------
_CT_KW = [{}, {"stride": 2}, {"stride": 2, "padding": 1, "output_padding": 1},
          {"stride": 3, "dilation": 2, "output_padding": 1, "groups": 2, "bias": False}]


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("i", range(len(_CT_KW)))
def test_conv_transpose_modules_match_torch(torch_ref, nd: int, i: int) -> None:
    kw = _CT_KW[i]
    x = rand(1, 2, *(3, 2, 2)[:nd], seed=nd)
    check_module(torch_ref, "fwd", lambda lib: getattr(lib.nn, f"ConvTranspose{nd}d")(2, 4, 2, **kw), [x],
                 tol=1e-4)


def test_conv_transpose_output_size_and_conv3d_match_torch(torch_ref) -> None:
    x = rand(1, 2, 3, 4, 3)
    check_module(torch_ref, "ct3", lambda lib: lib.nn.ConvTranspose3d(2, 3, 3, stride=2, padding=1), [x],
                 call=lambda m, x: m(x, output_size=[6, 8, 6]), tol=1e-4)
    check_module(torch_ref, "c3", lambda lib: lib.nn.Conv3d(2, 4, (2, 3, 2), stride=(1, 2, 1), padding=1,
                                                            padding_mode="reflect"), [x], tol=1e-4)


# ---------------------------------------------------------------------------
# modules without parameters, each against PyTorch
# ---------------------------------------------------------------------------
_PLAIN = [
    ("ReflectionPad1d", (2,), 1), ("ReflectionPad2d", ((1, 2, 0, 3),), 2), ("ReflectionPad3d", (1,), 3),
    ("ReplicationPad1d", ((1, 2),), 1), ("ReplicationPad2d", (2,), 2), ("ReplicationPad3d", ((1, 0, 2, 1, 0, 1),), 3),
    ("ZeroPad1d", (1,), 1), ("ZeroPad2d", ((1, 2, 3, 0),), 2), ("ZeroPad3d", (1,), 3),
    ("ConstantPad1d", (2, 1.5), 1), ("ConstantPad2d", ((1, 0, 2, 1), -1.0), 2), ("ConstantPad3d", (1, 2.0), 3),
    ("CircularPad1d", (2,), 1), ("CircularPad2d", ((1, 2, 0, 1),), 2), ("CircularPad3d", (1,), 3),
    ("MaxPool3d", (2,), 3), ("AvgPool3d", (3, 2, 1, True, False), 3), ("AdaptiveAvgPool3d", ((2, None, 3),), 3),
    ("AdaptiveMaxPool3d", (3,), 3), ("LPPool3d", (2, 2), 3), ("LPPool1d", (1.5, 3, 2), 1),
    ("PixelUnshuffle", (2,), 2), ("Unfold", (2, 1, 1, 2), 2),
]


@pytest.mark.parametrize("name,args,nd", _PLAIN, ids=[p[0] for p in _PLAIN])
def test_parameter_free_modules_match_torch(torch_ref, name: str, args: tuple, nd: int) -> None:
    x = X[nd] if nd != 2 else rand(1, 2, 6, 4)
    if name.startswith("LPPool"):
        x = np.abs(x) + 0.1
    check_module(torch_ref, "fwd", lambda lib: getattr(lib.nn, name)(*args), [x])


def test_pixel_shuffle_and_fold_modules_match_torch(torch_ref) -> None:
    check_module(torch_ref, "ps", lambda lib: lib.nn.PixelShuffle(2), [rand(2, 8, 3, 2)])
    check_module(torch_ref, "ps_lead", lambda lib: lib.nn.PixelShuffle(3), [rand(2, 1, 9, 2, 2)])
    check_module(torch_ref, "fold", lambda lib: lib.nn.Fold((4, 5), (2, 3), padding=1, stride=(1, 2)),
                 [rand(2, 12, 15)])
    check_module(torch_ref, "unpool", lambda lib: lib.nn.MaxUnpool2d(2),
                 [rand(1, 2, 2, 2)], call=lambda m, y: m(y, lib_of(y).tensor([[[[0, 3], [8, 15]], [[1, 2],
                                                                                 [12, 14]]]])))


_REPRS = [
    ("ReflectionPad1d", (2,)), ("ReflectionPad2d", ((1, 2, 3, 4),)), ("ReplicationPad3d", (2,)),
    ("ZeroPad2d", ((1, 2, 3, 4),)), ("ZeroPad1d", (1,)), ("CircularPad3d", (1,)), ("ConstantPad1d", (2, 3.5)),
    ("ConstantPad2d", (1, 0)), ("Upsample", ()), ("Upsample", (None, 2)), ("Upsample", ((3, 4), None, "bilinear")),
    ("Upsample", (None, (2, 3))), ("UpsamplingNearest2d", (None, 2)), ("UpsamplingBilinear2d", (5,)),
    ("PixelShuffle", (2,)), ("PixelUnshuffle", (3,)), ("Fold", ((4, 5), 2)), ("Unfold", (2, 2, 1, (1, 2))),
    ("MaxPool3d", ((2, 3, 1), 1, 1, 2, True, True)), ("AvgPool3d", (3, 2, 1, True, False, 2)),
    ("AvgPool1d", (3,)), ("AdaptiveAvgPool3d", ((1, None, 2),)), ("AdaptiveMaxPool3d", (2, True)),
    ("LPPool3d", (2, 2)), ("MaxUnpool1d", (2,)), ("MaxUnpool2d", (2, 1, 1)), ("MaxUnpool3d", ((2, 2, 2),)),
    ("FractionalMaxPool2d", (3, None, 0.5)), ("FractionalMaxPool3d", (2, 3)),
    ("ConvTranspose3d", (2, 4, 3, 2, 1, 1)), ("ConvTranspose1d", (2, 4, 3, 1, 0, 0, 2, False, 2)),
]


def test_reprs_and_attributes_match_torch(torch_ref) -> None:
    def describe(lib):
        out = []
        for name, args in _REPRS:
            m = getattr(lib.nn, name)(*args)
            attrs = {k: v for k, v in vars(m).items() if not k.startswith("_") and k != "training"}
            out.append([repr(m), repr(sorted(attrs.items())), sorted(m.state_dict())])
        return out
    assert describe(ndgrad) == torch_ref("reprs", describe)


def test_errors_match_torch(torch_ref) -> None:
    def cases(lib):
        nn, F_ = lib.nn, lib.nn.functional
        x3, x2 = lib.zeros(1, 2, 4, 4, 4), lib.zeros(1, 2, 4, 4)
        y, idx = F_.max_pool2d(lib.zeros(1, 2, 4, 4), 2, return_indices=True)
        return [err_of(f) for f in [
            lambda: F_.max_pool3d(x3, 3, padding=2), lambda: F_.avg_pool3d(x3, 5), lambda: F_.max_pool3d(x3, 5),
            lambda: F_.max_pool3d(lib.zeros(2, 3), 2), lambda: F_.max_pool3d(x3, (2, 2)),
            lambda: F_.adaptive_avg_pool3d(lib.zeros(2, 3), 2),
            lambda: F_.conv_transpose3d(x3, lib.zeros(2, 3, 2, 2, 2), stride=2, output_padding=2),
            lambda: F_.max_unpool2d(y, idx, 2, output_size=(1, 2, 3)),
            lambda: F_.max_unpool2d(y, idx, 2, output_size=(9, 9)), lambda: F_.max_unpool2d(y, idx * 9, 2),
            lambda: F_.max_unpool2d(y, idx.float(), 2), lambda: F_.max_unpool2d(y, idx[:, :1], 2),
            lambda: F_.fractional_max_pool2d(x2, 2, output_size=4, _random_samples=lib.zeros(1, 2, 2)),
            lambda: F_.fractional_max_pool3d(x3, 2, output_size=4, _random_samples=lib.zeros(1, 2, 3)),
            lambda: nn.FractionalMaxPool2d(2), lambda: nn.FractionalMaxPool2d(2, 2, 0.5),
            lambda: nn.FractionalMaxPool2d(2, output_ratio=1.5),
            lambda: nn.ReflectionPad2d(3)(x2), lambda: nn.ReflectionPad2d(1)(lib.zeros(2, 2)),
            lambda: nn.ReplicationPad1d(1)(x2), lambda: nn.CircularPad2d(1)(lib.zeros(2, 2)),
            lambda: nn.CircularPad2d(5)(x2), lambda: nn.ZeroPad2d(1)(lib.zeros(2)),
            lambda: F_.interpolate(x2, scale_factor=2, mode="trilinear"),
            lambda: F_.interpolate(x2, size=3, mode="nearest", align_corners=True),
            lambda: F_.interpolate(x2, size=3, scale_factor=2), lambda: F_.interpolate(x2),
            lambda: F_.pixel_shuffle(lib.zeros(1, 3, 2, 2), 2), lambda: F_.pixel_unshuffle(lib.zeros(1, 1, 3, 2), 2),
            lambda: F_.fold(lib.zeros(1, 12, 5), (4, 5), (2, 3)),
        ]]
    assert cases(ndgrad) == torch_ref("errors", cases)


# ---------------------------------------------------------------------------
# gradcheck / gradgradcheck in float64 (no torch needed)
# ---------------------------------------------------------------------------
def _d(*shape: int, seed: int = 5) -> ndgrad.Tensor:
    return ndgrad.tensor(rand(*shape, seed=seed, dtype=np.float64), requires_grad=True)


def test_gradcheck_3d_pools_and_unpool() -> None:
    x = _d(1, 2, 4, 5, 3)
    for fn in [lambda x: F.max_pool3d(x, 2, 1, ceil_mode=True), lambda x: F.avg_pool3d(x, 3, 2, 1),
               lambda x: F.adaptive_max_pool3d(x, (3, 2, 2)), lambda x: F.adaptive_avg_pool3d(x, (3, 2, 2)),
               lambda x: F.lp_pool3d(x.abs() + 0.5, 2, 2)]:
        assert gradcheck(fn, (x,))
        assert gradgradcheck(fn, (x,))
    idx = F.max_pool3d(x.detach(), 2, return_indices=True)[1]
    y = _d(1, 2, 2, 2, 1)
    assert gradcheck(lambda y: F.max_unpool3d(y, idx, 2, output_size=(4, 5, 3)), (y,))
    assert gradgradcheck(lambda y: F.max_unpool3d(y, idx, 2, output_size=(4, 5, 3)), (y,))


def test_gradcheck_fractional_and_adaptive_max() -> None:
    x = _d(1, 2, 7, 6)
    u = ndgrad.tensor(np.array([[[0.3, 0.7], [0.1, 0.9]]]))
    assert gradcheck(lambda x: F.fractional_max_pool2d(x, 2, output_size=(4, 3), _random_samples=u), (x,))
    assert gradgradcheck(lambda x: F.fractional_max_pool2d(x, 2, output_size=(4, 3), _random_samples=u), (x,))
    assert gradcheck(lambda x: F.adaptive_max_pool1d(x[0], 4), (x,))


def test_gradcheck_bicubic_and_3d_pads() -> None:
    x = _d(1, 2, 4, 3)
    for kw in [{"size": (6, 5)}, {"scale_factor": 0.7, "align_corners": True}]:
        fn = lambda x, kw=kw: F.interpolate(x, mode="bicubic", **kw)  # noqa: E731
        assert gradcheck(fn, (x,))
        assert gradgradcheck(fn, (x,))
    x3 = _d(1, 1, 3, 3, 2)
    for mode in ("reflect", "replicate", "circular"):
        fn = lambda x, mode=mode: F.pad(x, (1, 1, 2, 0, -1, 1), mode=mode)  # noqa: E731
        assert gradcheck(fn, (x3,))
        assert gradgradcheck(fn, (x3,))
    assert gradcheck(lambda x: F.interpolate(x, scale_factor=1.5, mode="trilinear"), (x3,))


def test_gradcheck_conv_transpose3d() -> None:
    x, w, b = _d(1, 2, 2, 3, 2), _d(2, 3, 2, 2, 2, seed=6), _d(3, seed=7)
    fn = lambda x, w, b: F.conv_transpose3d(x, w, b, stride=2, padding=1, output_padding=1)  # noqa: E731
    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(lambda x, w: F.conv_transpose3d(x, w, stride=(1, 2, 1)), (x, w))


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "lanczos"])
def test_antialiased_interpolate_matches_torch(torch_ref, mode: str) -> None:
    x = rand(1, 2, 11, 9, seed=40)
    corners = [False] if mode == "lanczos" else [False, True]
    for i, kw in enumerate([{"size": (4, 3)}, {"scale_factor": 0.45}, {"size": (13, 5)}]):
        for ac in corners:
            check_fn(torch_ref, f"{i}{ac}", lambda lib, x, kw=kw, ac=ac: lib.nn.functional.interpolate(
                x, mode=mode, antialias=True, align_corners=ac, **kw), [x], tol=2e-5)


def test_interpolate_mode_errors_match_torch(torch_ref) -> None:
    def cases(lib):
        f, z = lib.nn.functional.interpolate, lib.zeros
        return [err_of(c) for c in [
            lambda: f(z(1, 1, 4), size=2, mode="linear", antialias=True), lambda: f(z(1, 1, 4, 4), size=2,
                                                                                    mode="lanczos"),
            lambda: f(z(1, 1, 4, 4), size=2, mode="lanczos", antialias=True, align_corners=True),
            lambda: f(z(1, 1, 4), size=2, mode="bicubic"), lambda: f(z(1, 1, 4, 4, 4), size=2, mode="bilinear"),
            lambda: f(z(1, 1, 4, 4, 4, 4), size=2, mode="bilinear"), lambda: f(z(1, 1, 4, 4), size=2, mode="cubic")]]
    assert cases(ndgrad) == torch_ref("errors", cases)


def test_gradcheck_antialiased_interpolate() -> None:
    x = _d(1, 1, 7, 5)
    for mode in ("bilinear", "bicubic", "lanczos"):
        fn = lambda x, mode=mode: F.interpolate(x, size=(3, 2), mode=mode, antialias=True)  # noqa: E731
        assert gradcheck(fn, (x,))
        assert gradgradcheck(fn, (x,))
