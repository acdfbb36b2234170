"""Names real code uses that ndgrad lacked (docs/api-coverage.md): torch.<fn> forms of nn.functional with
ATen's argument orders, in-place functions, window functions, buffers and DLPack, and Tensor methods
(new, resize_, unfold, fill_diagonal_, values/indices on dense tensors, ...), each against PyTorch
(live, or recorded in tests/references/ without torch). The differentiable ones are also in the op table
and tests/autograd/test_gradcheck_ops.py."""
import warnings

import numpy as np
import pytest

import ndgrad

RNG = np.random.default_rng(0)
X4 = RNG.standard_normal((2, 3, 5, 5)).astype(np.float32)
W4 = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)
X3 = RNG.standard_normal((2, 3, 8)).astype(np.float32)
W3 = RNG.standard_normal((4, 3, 3)).astype(np.float32)
V = RNG.standard_normal((6,)).astype(np.float32)
E = RNG.standard_normal((10, 4)).astype(np.float32)


def outcome(torch, fn):
    """The value fn computes (as plain data), or its exception's type and message."""
    try:
        res = fn(torch)
    except Exception as e:  # noqa: BLE001 - the type and message are what is compared
        return f"{type(e).__name__}: {e}".replace("ndgrad.", "torch.")
    if isinstance(res, (tuple, list)):
        return [r.detach().numpy() if hasattr(r, "detach") else r for r in res]
    return res.detach().numpy() if hasattr(res, "detach") else res


# torch.<name> forms that take ATen's arguments (weight before running stats, integer reductions, ...)
TORCH_FUNCTIONS = {
    "conv1d": lambda t: t.conv1d(t.tensor(X3), t.tensor(W3), None, 1, 1),
    "conv2d": lambda t: t.conv2d(t.tensor(X4), t.tensor(W4), t.ones(4), 2, 1, 1, 1),
    "conv_transpose2d": lambda t: t.conv_transpose2d(t.tensor(X4), t.tensor(W4).transpose(0, 1), None, 2, 1, 1),
    "max_pool1d": lambda t: t.max_pool1d(t.tensor(X3), 2),
    "max_pool2d": lambda t: t.max_pool2d(t.tensor(X4), 3, 2, 1),
    "max_pool2d_empty_stride": lambda t: t.max_pool2d(t.tensor(X4), (2, 2), []),
    "avg_pool1d": lambda t: t.avg_pool1d(t.tensor(X3), 3, 2, 1, False, False),
    "adaptive_avg_pool1d": lambda t: t.adaptive_avg_pool1d(t.tensor(X3), 3),
    "adaptive_max_pool1d": lambda t: t.adaptive_max_pool1d(t.tensor(X3), 3),
    "pixel_shuffle": lambda t: t.pixel_shuffle(t.tensor(X4[:, :, :4, :4]).repeat(1, 3, 1, 1), 3),
    "pixel_unshuffle": lambda t: t.pixel_unshuffle(t.tensor(X4[:, :, :4, :4]), 2),
    "channel_shuffle": lambda t: t.channel_shuffle(t.tensor(X4).repeat(1, 2, 1, 1), 3),
    "batch_norm": lambda t: t.batch_norm(t.tensor(X3), t.full((3,), 2.0), t.ones(3), t.zeros(3), t.ones(3), True, 0.1,
                                         1e-5, False),
    "batch_norm_eval": lambda t: t.batch_norm(t.tensor(X3), None, None, t.full((3,), 0.5), t.full((3,), 4.0), False,
                                              0.1, 1e-5, False),
    "instance_norm": lambda t: t.instance_norm(t.tensor(X3), t.full((3,), 2.0), t.zeros(3), None, None, True, 0.1,
                                               1e-5, False),
    "layer_norm": lambda t: t.layer_norm(t.tensor(X3), (8,)),
    "group_norm": lambda t: t.group_norm(t.tensor(X4), 3),
    "rms_norm": lambda t: t.rms_norm(t.tensor(X3), (8,), None, 1e-6),
    "embedding": lambda t: t.embedding(t.tensor(E), t.tensor([[1, 2], [0, 9]])),
    "embedding_padding": lambda t: t.embedding(t.tensor(E), t.tensor([1, 2]), 2),
    "embedding_wrong_order": lambda t: t.embedding(t.tensor([1, 2]), t.tensor(E)),
    "hardshrink": lambda t: t.hardshrink(t.tensor(V), 0.7),
    "threshold": lambda t: t.threshold(t.tensor(V), 0.1, 20.0),
    "threshold_": lambda t: t.threshold_(t.tensor(V), 0.1, 20.0),
    "rrelu_eval": lambda t: t.rrelu(t.tensor(V)),
    "selu_": lambda t: t.selu_(t.tensor(V)),
    "celu_": lambda t: t.celu_(t.tensor(V), 0.5),
    "relu_": lambda t: t.relu_(t.tensor(V)),
    "pdist": lambda t: t.pdist(t.tensor(X3[0]), 1.5),
    "constant_pad_nd": lambda t: t.constant_pad_nd(t.tensor(X3), (1, 2), 3.5),
    "bce_logits_sum": lambda t: t.binary_cross_entropy_with_logits(t.tensor(V), t.tensor((V > 0).astype(np.float32)),
                                                                   None, t.full((6,), 2.0), 2),
    "bce_logits_none": lambda t: t.binary_cross_entropy_with_logits(t.tensor(V), t.ones(6), None, None, 0),
    "kl_div": lambda t: t.kl_div(t.tensor(V).log_softmax(0), t.tensor(V).softmax(0), 1),
    "margin_ranking_loss": lambda t: t.margin_ranking_loss(t.tensor(V), t.tensor(V[::-1].copy()),
                                                           t.tensor([1.0, -1.0] * 3), 0.2, 2),
    "cosine_embedding_loss": lambda t: t.cosine_embedding_loss(t.tensor(X3[0]), t.tensor(X3[1]),
                                                               t.tensor([1.0, -1.0, 1.0]), 0.1, 1),
    "hinge_embedding_loss": lambda t: t.hinge_embedding_loss(t.tensor(V), t.tensor([1.0, -1.0] * 3), 1.0, 0),
    "triplet_margin_loss": lambda t: t.triplet_margin_loss(t.tensor(X3[0]), t.tensor(X3[1]), t.tensor(X3[0] * 2),
                                                           1.0, 2, 1e-6, False, 1),
    "poisson_nll_loss": lambda t: t.poisson_nll_loss(t.tensor(V), t.tensor(np.abs(V)), True, False, 1e-8, 1),
    "softmax": lambda t: t.softmax(t.tensor(X3), 1),
    "dropout_eval": lambda t: t.dropout(t.tensor(V), 0.5, False),
    "feature_dropout_eval": lambda t: t.feature_dropout(t.tensor(X4), 0.5, False),
    "alpha_dropout_eval": lambda t: t.alpha_dropout(t.tensor(V), 0.5, False),
    "dropout_p0": lambda t: t.dropout_(t.tensor(V), 0.0, True),
    "fill": lambda t: t.fill(t.tensor(V), 2.5),
    "fill_tensor": lambda t: t.fill(t.tensor(V), t.tensor(1.5)),
    "sigmoid_": lambda t: t.sigmoid_(t.tensor(V)),
    "abs_": lambda t: t.abs_(t.tensor(V)),
    "clamp_": lambda t: t.clamp_(t.tensor(V), -0.5, 0.5),
    "exp_": lambda t: t.exp_(t.tensor(V)),
    "zero_": lambda t: t.zero_(t.tensor(V)),
    "fill_": lambda t: t.fill_(t.tensor(V), 3),
    "nan_to_num_": lambda t: t.nan_to_num_(t.tensor([np.nan, np.inf, 1.0]), 0.0, 9.0, -9.0),
    "detach": lambda t: t.detach(t.tensor(V, requires_grad=True)),
    "is_same_size": lambda t: [t.is_same_size(t.ones(2, 3), t.zeros(2, 3)), t.is_same_size(t.ones(3), t.ones(1, 3))],
    "is_signed": lambda t: [t.is_signed(t.ones(2, dtype=dt)) for dt in (t.uint8, t.int8, t.float32, t.bool)],
    "is_inference": lambda t: t.is_inference(t.ones(2)),
    "chain_matmul": lambda t: t.chain_matmul(t.tensor(E[:3]), t.tensor(E[:4].T), t.tensor(E[:3].T)),
    "chain_matmul_one": lambda t: t.chain_matmul(t.tensor(E[:3])),
}


@pytest.mark.parametrize("name", sorted(TORCH_FUNCTIONS))
def test_torch_functions_match_torch(torch_ref, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch_ref(name, lambda torch: outcome(torch, TORCH_FUNCTIONS[name]))
        got = outcome(ndgrad, TORCH_FUNCTIONS[name])
    if isinstance(want, str):
        assert got == want
    elif isinstance(want, list):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_inplace_functions_write_into_their_input():
    x = ndgrad.tensor([-1.0, 2.0])
    assert ndgrad.relu_(x) is x and x.tolist() == [0.0, 2.0]
    assert ndgrad.sigmoid_(x) is x and x._version[0] == 2
    y = ndgrad.ones(3, requires_grad=True) * 2
    ndgrad.exp_(y)
    assert y.grad_fn.name() == "ExpBackward0"


def test_feature_dropout_drops_whole_channels():
    ndgrad.manual_seed(0)
    out = ndgrad.feature_dropout(ndgrad.ones(64, 8, 3, 3), 0.5, True)
    per_channel = out.reshape(64, 8, 9)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert 0.3 < float((per_channel[..., 0] == 0).float().mean()) < 0.7


def test_chain_matmul_warns_as_deprecated():
    with pytest.warns(UserWarning, match="chain_matmul is deprecated"):
        ndgrad.chain_matmul(ndgrad.ones(2, 3), ndgrad.ones(3, 2))


WINDOWS = {
    "hann": lambda t: t.hann_window(7),
    "hann_symmetric64": lambda t: t.hann_window(6, periodic=False, dtype=t.float64),
    "hann_1": lambda t: t.hann_window(1),
    "hann_0": lambda t: t.hann_window(0),
    "hamming": lambda t: t.hamming_window(8),
    "hamming_params": lambda t: t.hamming_window(5, False, alpha=0.5, beta=0.5),
    "blackman": lambda t: t.blackman_window(9),
    "bartlett": lambda t: t.bartlett_window(6),
    "bartlett_symmetric": lambda t: t.bartlett_window(5, False),
    "kaiser": lambda t: t.kaiser_window(8),
    "kaiser_beta": lambda t: t.kaiser_window(7, False, 5.0, dtype=t.float64),
    "negative": lambda t: t.hann_window(-1),
}


@pytest.mark.parametrize("name", sorted(WINDOWS))
def test_window_functions_match_torch(torch_ref, name):
    want = torch_ref(name, lambda torch: outcome(torch, WINDOWS[name]))
    got = outcome(ndgrad, WINDOWS[name])
    if isinstance(want, str):
        assert got == want
    else:
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_window_rejects_integer_dtype():
    with pytest.raises(RuntimeError, match="hann_window expects floating point dtypes"):
        ndgrad.hann_window(4, dtype=ndgrad.int64)
    assert ndgrad.hann_window(3, requires_grad=True).requires_grad


UNRAVEL = {
    "vector": lambda t: t.unravel_index(t.tensor([4, 1, 7]), (3, 3)),
    "scalar": lambda t: t.unravel_index(t.tensor(5), (2, 3)),
    "int_shape": lambda t: t.unravel_index(t.tensor([3, 9]), 4),
    "wraps": lambda t: t.unravel_index(t.tensor([9, -1]), (3, 3)),
    "float": lambda t: t.unravel_index(t.tensor([1.0]), (3, 3)),
}


@pytest.mark.parametrize("name", sorted(UNRAVEL))
def test_unravel_index_matches_torch(torch_ref, name):
    want = torch_ref(name, lambda torch: outcome(torch, UNRAVEL[name]))
    got = outcome(ndgrad, UNRAVEL[name])
    if isinstance(want, str):
        assert got == want
    else:
        assert [g.tolist() for g in got] == [w.tolist() for w in want]


FROMBUFFER = {
    "all": lambda t: t.frombuffer(bytearray(np.arange(4, dtype=np.float32).tobytes()), dtype=t.float32),
    "count_offset": lambda t: t.frombuffer(bytearray(np.arange(4, dtype=np.float32).tobytes()), dtype=t.float32,
                                           count=2, offset=4),
    "int16": lambda t: t.frombuffer(bytearray(b"\x01\x00\x02\x00"), dtype=t.int16),
    "too_many": lambda t: t.frombuffer(bytearray(16), dtype=t.float64, count=3),
    "bad_offset": lambda t: t.frombuffer(bytearray(16), dtype=t.float32, offset=20),
    "ragged": lambda t: t.frombuffer(bytearray(7), dtype=t.float32, offset=1),
}


@pytest.mark.parametrize("name", sorted(FROMBUFFER))
def test_frombuffer_matches_torch(torch_ref, name):
    want = torch_ref(name, lambda torch: outcome(torch, FROMBUFFER[name]))
    got = outcome(ndgrad, FROMBUFFER[name])
    if isinstance(want, str):
        assert got == want
    else:
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype


def test_frombuffer_shares_memory():
    buf = bytearray(np.arange(3, dtype=np.int32).tobytes())
    t = ndgrad.frombuffer(buf, dtype=ndgrad.int32)
    t[0] = 7
    assert np.frombuffer(buf, np.int32).tolist() == [7, 1, 2]
    with pytest.warns(UserWarning, match="not writable"):
        ndgrad.frombuffer(bytes(8), dtype=ndgrad.int32)


def test_dlpack_round_trips_share_memory():
    from ndgrad.utils.dlpack import from_dlpack, to_dlpack
    x = ndgrad.arange(4.0)
    y = from_dlpack(to_dlpack(x))
    y[0] = 9.0
    assert x.tolist() == [9.0, 1.0, 2.0, 3.0]
    a = np.from_dlpack(x)  # ndgrad tensors speak DLPack
    a[1] = 7.0
    assert x.tolist() == [9.0, 7.0, 2.0, 3.0]
    z = ndgrad.from_dlpack(np.arange(3, dtype=np.int16))
    assert z.dtype == ndgrad.int16 and z.tolist() == [0, 1, 2]
    assert ndgrad.from_dlpack(x) is x
    with pytest.raises(RuntimeError, match="require gradient"):
        ndgrad.ones(2, requires_grad=True).__dlpack__()


def test_dlpack_with_torch(torch_ref):
    try:
        import torch
    except ImportError:
        pytest.skip("exchange with a live PyTorch needs torch")
    x = ndgrad.arange(3.0)
    t = torch.from_dlpack(x)
    t[0] = 5.0
    assert x.tolist() == [5.0, 1.0, 2.0]
    assert ndgrad.from_dlpack(torch.arange(3)).tolist() == [0, 1, 2]
    assert ndgrad.from_dlpack(torch.utils.dlpack.to_dlpack(torch.ones(2))).tolist() == [1.0, 1.0]


def test_empty_strided(torch_ref):
    want = torch_ref("strides", lambda torch: [torch.empty_strided((2, 3), (1, 2)).stride(),
                                               torch.empty_strided((2, 3), (3, 1), dtype=torch.float64).stride(),
                                               tuple(torch.empty_strided((0, 4), (4, 1)).shape)])
    got = [ndgrad.empty_strided((2, 3), (1, 2)).stride(),
           ndgrad.empty_strided((2, 3), (3, 1), dtype=ndgrad.float64).stride(),
           tuple(ndgrad.empty_strided((0, 4), (4, 1)).shape)]
    assert [list(g) for g in got] == [list(w) for w in want]


# Tensor methods
A = np.arange(6, dtype=np.float32)
TENSOR_METHODS = {
    "resize_shrink": lambda t: t.tensor(A).resize_(2, 2),
    "resize_same": lambda t: t.tensor(A).resize_((3, 2)),
    "resize_size": lambda t: t.tensor(A).resize_(t.Size([3])),
    "resize_grad": lambda t: t.zeros(3, requires_grad=True).resize_(2),
    "resize_as_": lambda t: t.tensor(A).resize_as_(t.zeros(2, 2)),
    "resize": lambda t: t.tensor(A).resize(2, 3),
    "resize_wrong_numel": lambda t: t.tensor(A).resize(2, 2),
    "resize_as": lambda t: t.tensor(A).resize_as(t.zeros(3, 2)),
    "new_shape": lambda t: [tuple(t.tensor(A).new(2, 3).shape), t.tensor(A).new(2, 3).dtype],
    "new_empty": lambda t: t.tensor(A).new(),
    "new_data": lambda t: t.arange(3).new([1.5, 2.0]),
    "new_tuple_is_data": lambda t: t.tensor(A).new((1, 2)),
    "new_size_is_shape": lambda t: t.tensor(A).new(t.Size([4])).shape,
    "new_float_scalar": lambda t: t.tensor(A).new(2.5),
    "values_dense": lambda t: t.tensor(A).values(),
    "indices_dense": lambda t: t.tensor(A).indices(),
    "values_sparse": lambda t: t.eye(3).to_sparse().values(),
    "positive": lambda t: t.tensor(A).positive(),
    "positive_bool": lambda t: t.tensor([True]).positive(),
    "sum_to_size": lambda t: t.ones(2, 3).sum_to_size(2, 1),
    "sum_to_size_bad": lambda t: t.ones(2, 3).sum_to_size(3, 3),
    "fill_diagonal_": lambda t: t.ones(3, 4).fill_diagonal_(5),
    "fill_diagonal_wrap": lambda t: t.ones(7, 3).fill_diagonal_(5, wrap=True),
    "fill_diagonal_tall": lambda t: t.ones(7, 3).fill_diagonal_(5),
    "fill_diagonal_cube": lambda t: t.ones(2, 2, 2).fill_diagonal_(5),
    "fill_diagonal_unequal": lambda t: t.ones(2, 3, 4).fill_diagonal_(5),
    "fill_diagonal_1d": lambda t: t.ones(3).fill_diagonal_(5),
    "swapaxes_": lambda t: t.tensor(A).view(2, 3).swapaxes_(0, 1),
    "swapdims_": lambda t: t.tensor(A).view(1, 2, 3).swapdims_(2, 0).shape,
    "addmm_": lambda t: t.ones(2, 2).addmm_(t.tensor(E[:2, :3]), t.tensor(E[:3, :2]), beta=0.5),
    "addbmm_": lambda t: t.ones(2, 2).addbmm_(t.tensor(E[:4].reshape(2, 2, 2)), t.tensor(E[4:8].reshape(2, 2, 2))),
    "baddbmm_": lambda t: t.ones(2, 2, 2).baddbmm_(t.tensor(E[:4].reshape(2, 2, 2)), t.tensor(E[4:8].reshape(2, 2, 2))),
    "addmv_": lambda t: t.ones(2).addmv_(t.tensor(E[:2, :3]), t.tensor(E[5, :3]), alpha=2),
    "addr_": lambda t: t.ones(2, 3).addr_(t.tensor(V[:2]), t.tensor(V[:3])),
    "cumsum_": lambda t: t.tensor(A).cumsum_(0),
    "cumprod_": lambda t: (t.tensor(A) + 1).cumprod_(0),
    "greater_": lambda t: t.tensor(A).greater_(2.0),
    "less_equal_": lambda t: t.tensor(A).less_equal_(t.tensor(A[::-1].copy())),
    "not_equal_": lambda t: t.tensor(A).not_equal_(3),
    "unfold": lambda t: t.arange(7.0).unfold(0, 3, 2),
    "unfold_too_big": lambda t: t.arange(7.0).unfold(0, 8, 1),
    "unfold_step0": lambda t: t.arange(7.0).unfold(0, 2, 0),
    "unfold_negative": lambda t: t.arange(7.0).unfold(0, -1, 1),
    "unfold_bad_dim": lambda t: t.arange(7.0).unfold(1, 2, 1),
    "unfold_0d": lambda t: t.tensor(3.0).unfold(0, 1, 1),
    "mode": lambda t: t.tensor([[1.0, 2, 2, 3, 3], [5, 5, 1, 1, 0]]).mode(1),
    "mode_keepdim": lambda t: t.mode(t.tensor([[1, 2, 2], [5, 5, 1]]), 0, True),
    "mode_0d": lambda t: t.tensor(5.0).mode(),
    "mode_empty": lambda t: t.tensor([]).mode(),
    "as_strided": lambda t: t.arange(9.0).as_strided((2, 2), (1, 2), 1),
    "as_strided_view": lambda t: t.arange(9.0)[2:].as_strided((2,), (1,)),
    "as_strided_oob": lambda t: t.arange(9.0).as_strided((3, 3), (3, 3)),
    "as_strided_": lambda t: t.arange(9.0).as_strided_((3,), (3,)),
    "select_scatter_bad": lambda t: t.select_scatter(t.zeros(2, 3), t.ones(2), 0, 1),
    "slice_scatter_bad": lambda t: t.slice_scatter(t.zeros(4, 3), t.ones(3, 3), 0, 1, 4, 2),
    "diagonal_scatter_bad": lambda t: t.diagonal_scatter(t.zeros(3, 3), t.ones(3), 1),
    "trapezoid_x_mismatch": lambda t: t.trapezoid(t.ones(2, 4), t.tensor([0.0, 1.0, 3.0])),
    "trapezoid_scalar_x": lambda t: t.trapezoid(t.ones(3), 2.0),
    "trapezoid_0d": lambda t: t.trapezoid(t.tensor(3.0)),
    "trapezoid_broadcast_x": lambda t: t.trapezoid(t.ones(2, 3, 4), t.ones(3, 4).cumsum(0), dim=1),
    "cumulative_trapezoid_1": lambda t: t.cumulative_trapezoid(t.tensor([3.0])),
}


@pytest.mark.parametrize("name", sorted(TENSOR_METHODS))
def test_tensor_methods_match_torch(torch_ref, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch_ref(name, lambda torch: outcome(torch, TENSOR_METHODS[name]))
        got = outcome(ndgrad, TENSOR_METHODS[name])
    if isinstance(want, str):
        assert got == want
    elif isinstance(want, list):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            if isinstance(w, np.ndarray):
                np.testing.assert_allclose(g, w, rtol=1e-6)
                assert g.dtype == w.dtype
            else:
                assert str(g).replace("ndgrad.", "torch.") == str(w).replace("ndgrad.", "torch.")
    elif isinstance(want, np.ndarray):
        np.testing.assert_allclose(got, want, rtol=1e-6)
        assert got.dtype == want.dtype
    else:
        assert tuple(got) == tuple(want)


def test_new_returns_same_tensor_and_checks_dtype():
    x = ndgrad.ones(2)
    same = ndgrad.zeros(3)
    assert x.new(same) is same
    with pytest.raises(TypeError):
        x.new(ndgrad.tensor([1, 2]))
    with pytest.raises(TypeError, match="new\\(\\) received an invalid combination"):
        x.new(2, dtype=ndgrad.int64)


def test_resize_keeps_memory_when_shrinking_and_warns_when_out_of_place():
    a = ndgrad.arange(6.0)
    b = a.view(2, 3)
    a.resize_(2)
    assert a.tolist() == [0.0, 1.0] and b.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    a[0] = 9.0
    assert b[0, 0].item() == 9.0  # still the same memory, as PyTorch's storage
    grown = ndgrad.arange(3.0).resize_(2, 2)
    assert grown.shape == (2, 2) and grown.reshape(-1)[:3].tolist() == [0.0, 1.0, 2.0]
    with pytest.warns(UserWarning, match="non-inplace resize is deprecated"):
        ndgrad.ones(4).resize(2, 2)


def test_unfold_is_a_writable_view():
    x = ndgrad.arange(6.0)
    w = x.unfold(0, 2, 2)
    assert w._base is x and not x.unfold(0, 3, 1).is_contiguous()
    w[1, 0] = 100.0
    assert x[2].item() == 100.0
    y = ndgrad.arange(8.0, requires_grad=True)
    g = y.unfold(0, 3, 1)
    assert g.grad_fn.name() == "UnfoldBackward0"
    g.sum().backward()
    assert y.grad.tolist() == [1.0, 2.0, 3.0, 3.0, 3.0, 3.0, 2.0, 1.0]


def test_mode_prints_as_return_type():
    assert repr(ndgrad.tensor([1, 2, 2]).mode()).startswith("ndgrad.return_types.mode(\nvalues=tensor(2)")


def test_layout_constants():
    assert repr(ndgrad.strided) == "ndgrad.strided" and ndgrad.ones(2).layout is ndgrad.strided
    assert isinstance(ndgrad.sparse_coo, ndgrad.layout) and ndgrad.eye(2).to_sparse().layout == ndgrad.sparse_coo
