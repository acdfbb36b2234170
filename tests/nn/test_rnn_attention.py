"""Recurrent layers, attention and the Transformer encoder: outputs and gradients
(inputs and every parameter) against PyTorch with identical weights; parameter
names, gate order, reprs and errors; finite differences in float64 (torch-free);
and a small LSTM language model trained 30 SGD steps beside PyTorch."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ndgrad
import ndgrad.nn as nn
import ndgrad.nn.functional as F
from ndgrad.autograd import gradcheck, gradgradcheck

from _nncheck import load_arrays, seeded_params, state_arrays

RNG = np.random.default_rng(4321)


@pytest.fixture(autouse=True)
def _fresh_rng() -> None:
    """Each test draws from the same seeded stream whatever ran before it (recordings match)."""
    global RNG
    RNG = np.random.default_rng(4321)


def _r(*shape: int, dtype: type = np.float32) -> np.ndarray:
    return RNG.standard_normal(shape).astype(dtype)


def _twin(build, L, weights: dict):
    """build(L) with the given weights (a state_dict of arrays)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (PyTorch's nested-tensor notice)
        return load_arrays(L, build(L), weights)


def _flat(o) -> list:
    if isinstance(o, (tuple, list)):
        return [y for x in o for y in _flat(x)]
    return [] if o is None else [o]


def _to(a, fw):
    if isinstance(a, tuple):
        return tuple(_to(x, fw) for x in a)
    if isinstance(a, np.ndarray):
        return fw.tensor(a, requires_grad=a.dtype.kind == "f")
    return a


def _run_module(m, L, inputs: list, gs: list | None, kwargs: dict) -> list:
    """m(*inputs): [outputs, parameter gradients (name, grad), input gradients] for upstream
    gradients gs (None: outputs only)."""
    ins = [_to(a, L) for a in inputs]
    outs = _flat(m(*ins, **kwargs))
    if gs is None:
        return [outs, [], []]
    L.autograd.backward(outs, [L.tensor(g) for g in gs])
    return [[o.detach() for o in outs], [[k, p.grad] for k, p in m.named_parameters()],
            [t.grad for t in _flat(ins) if isinstance(t, L.Tensor) and t.requires_grad]]


def _compare_module(torch_ref, key: str, build, inputs: list, tol: float = 1e-4, **kwargs) -> None:
    """build(L) in both libraries with the same seeded weights: outputs, input gradients and
    parameter gradients agree (PyTorch's live or recorded)."""
    nm = seeded_params(build(ndgrad))
    weights = state_arrays(nm)
    shapes = [tuple(o.shape) for o in _run_module(nm, ndgrad, inputs, None, kwargs)[0]]
    gs = [RNG.standard_normal(s).astype(np.float32) for s in shapes]
    no, npg, nig = _run_module(nm, ndgrad, inputs, gs, kwargs)
    to, tpg, tig = torch_ref(key, lambda torch: _run_module(_twin(build, torch, weights), torch, inputs, gs, kwargs))
    assert len(to) == len(no)
    for a, b in zip(to, no):
        assert a.shape == tuple(b.shape)
        np.testing.assert_allclose(b.numpy(), a, rtol=tol, atol=tol)
    assert [k for k, _ in tpg] == [k for k, _ in npg]
    for (k, a), (_, b) in zip(tpg, npg):
        np.testing.assert_allclose(b.numpy(), a, rtol=tol, atol=tol, err_msg=k)
    for a, b in zip(tig, nig, strict=True):
        if a is not None:
            np.testing.assert_allclose(b.numpy(), a, rtol=tol, atol=tol)


RNN_OPTS = [{}, {"num_layers": 2}, {"num_layers": 2, "bidirectional": True}, {"bias": False},
            {"batch_first": True, "bidirectional": True}]


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("kw", RNN_OPTS)
def test_recurrent_layers_match_torch(kind: str, kw: dict, torch_ref) -> None:
    want = torch_ref("repr", lambda torch: repr(getattr(torch.nn, kind)(5, 6, **kw)))
    assert repr(getattr(nn, kind)(5, 6, **kw)) == want
    _compare_module(torch_ref, "run", lambda L: getattr(L.nn, kind)(5, 6, **kw), [_r(7, 4, 5)])


def test_rnn_relu_unbatched_and_initial_state_match_torch(torch_ref) -> None:
    _compare_module(torch_ref, "rnn_relu", lambda L: L.nn.RNN(5, 6, nonlinearity="relu"), [_r(7, 4, 5)])
    _compare_module(torch_ref, "gru_unbatched", lambda L: L.nn.GRU(5, 6, 2), [_r(7, 5)])
    _compare_module(torch_ref, "lstm_unbatched", lambda L: L.nn.LSTM(5, 6), [_r(7, 5)])
    h0, c0 = _r(4, 3, 6), _r(4, 3, 6)
    _compare_module(torch_ref, "lstm_h0_c0", lambda L: L.nn.LSTM(5, 6, 2, bidirectional=True),
                    [_r(7, 3, 5), (h0, c0)])
    _compare_module(torch_ref, "gru_h0", lambda L: L.nn.GRU(5, 6, batch_first=True), [_r(3, 7, 5), _r(1, 3, 6)])


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_torch(kind: str, torch_ref) -> None:
    _compare_module(torch_ref, "batched", lambda L: getattr(L.nn, kind)(5, 6), [_r(4, 5)])
    _compare_module(torch_ref, "unbatched_nobias", lambda L: getattr(L.nn, kind)(5, 6, bias=False), [_r(5)])
    h = _r(4, 6)
    hx = (h, _r(4, 6)) if kind == "LSTMCell" else h
    _compare_module(torch_ref, "hx", lambda L: getattr(L.nn, kind)(5, 6), [_r(4, 5), hx])


def test_parameter_names_shapes_and_init() -> None:
    m = nn.LSTM(3, 4, 2, bidirectional=True)
    names = [n for n, _ in m.named_parameters()]
    assert names[:8] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l0_reverse",
                         "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse"]
    assert m.weight_ih_l0.shape == (16, 3) and m.weight_ih_l1.shape == (16, 8) and m.weight_hh_l1.shape == (16, 4)
    assert nn.GRU(3, 5).weight_hh_l0.shape == (15, 5) and nn.RNN(3, 5).bias_ih_l0.shape == (5,)
    bound = 1 / math.sqrt(4)
    assert all(np.abs(p.detach().numpy()).max() <= bound for p in m.parameters())
    assert repr(nn.LSTM(3, 4, 2, bias=False, batch_first=True, dropout=0.5, bidirectional=True)) == \
        "LSTM(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True)"
    assert repr(nn.LSTMCell(3, 4, bias=False)) == "LSTMCell(3, 4, bias=False)"
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu")) == "RNNCell(3, 4, nonlinearity=relu)"


def test_lstm_gate_order_literal() -> None:
    # weights picking one gate each: i=+inf-ish, f=0, g=x, o=+inf-ish  ->  c = x-ish, h = tanh(c)
    cell = nn.LSTMCell(1, 1, bias=True)
    with ndgrad.no_grad():
        cell.weight_ih.copy_(ndgrad.tensor([[0.0], [0.0], [1.0], [0.0]]))
        cell.weight_hh.zero_()
        cell.bias_ih.copy_(ndgrad.tensor([20.0, -20.0, 0.0, 20.0]))
        cell.bias_hh.zero_()
    h, c = cell(ndgrad.tensor([[0.5]]), (ndgrad.zeros(1, 1), ndgrad.ones(1, 1)))
    np.testing.assert_allclose(c.detach().numpy(), [[math.tanh(0.5)]], rtol=1e-6)
    np.testing.assert_allclose(h.detach().numpy(), [[math.tanh(math.tanh(0.5))]], rtol=1e-6)


def test_gru_reset_gate_multiplies_hidden_bias_literal() -> None:
    # PyTorch's GRU: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); with r = sigmoid(0) = 0.5,
    # z = 0 (sigmoid(-inf)), x = 0, h = 0: n = tanh(0.5 * b_hn), h' = n
    cell = nn.GRUCell(1, 1)
    with ndgrad.no_grad():
        for p in cell.parameters():
            p.zero_()
        cell.bias_ih.copy_(ndgrad.tensor([0.0, -50.0, 0.0]))
        cell.bias_hh.copy_(ndgrad.tensor([0.0, 0.0, 0.8]))
    h = cell(ndgrad.zeros(1, 1), ndgrad.zeros(1, 1))
    np.testing.assert_allclose(h.detach().numpy(), [[math.tanh(0.4)]], rtol=1e-6)


def test_recurrent_errors() -> None:
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 7"):
        nn.LSTM(3, 4)(ndgrad.zeros(5, 2, 7))
    with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 4D instead"):
        nn.LSTM(3, 4)(ndgrad.zeros(5, 2, 3, 1))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 2, 4\), got \[2, 2, 4\]"):
        nn.GRU(3, 4)(ndgrad.zeros(5, 2, 3), ndgrad.zeros(2, 2, 4))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(2, 2, 4\), got \[1, 2, 4\]"):
        nn.LSTM(3, 4, 2)(ndgrad.zeros(5, 2, 3), (ndgrad.zeros(1, 2, 4), ndgrad.zeros(2, 2, 4)))
    with pytest.raises(ValueError, match="Unknown nonlinearity 'foo'"):
        nn.RNN(3, 4, nonlinearity="foo")
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.RNN(3, 4, dropout=2)
    with pytest.raises(RuntimeError, match="Input batch size 2 doesn't match hidden0 batch size 3"):
        nn.RNNCell(3, 4)(ndgrad.zeros(2, 3), ndgrad.zeros(3, 4))
    with pytest.raises(ValueError, match="RNN input dtype .*float64.* does not match weight dtype .*float32"):
        nn.LSTM(3, 4)(ndgrad.zeros(2, 1, 3, dtype=ndgrad.float64))
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.5)


def test_rnn_dropout_between_layers_only_in_training() -> None:
    ndgrad.manual_seed(0)
    m = nn.LSTM(3, 4, 2, dropout=0.5)
    x = ndgrad.randn(6, 2, 3)
    m.eval()
    a, b = m(x)[0], m(x)[0]
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    m.train()
    c = m(x)[0]
    assert not np.allclose(c.detach().numpy(), a.detach().numpy())


def test_gradcheck_lstm_gru_float64() -> None:
    x = ndgrad.tensor(_r(3, 2, 2, dtype=np.float64), requires_grad=True)
    for cls in (nn.LSTM, nn.GRU, nn.RNN):
        m = cls(2, 3, bidirectional=True).double()
        w = m.weight_hh_l0_reverse
        assert gradcheck(lambda x, w, m=m: m(x)[0], (x, w))


# ---------------------------------------------------------------------------
# attention
# ---------------------------------------------------------------------------
def test_scaled_dot_product_attention_matches_torch(torch_ref) -> None:
    q, k, v = _r(2, 2, 5, 4), _r(2, 2, 6, 4), _r(2, 2, 6, 3)
    bmask = RNG.random((5, 6)) > 0.3
    bmask[:, 0] = True
    fmask = _r(5, 6)
    cases = [{}, {"attn_mask": bmask}, {"attn_mask": fmask, "scale": 0.3}, {"is_causal": True}]
    for i, kw in enumerate(cases):
        g = _r(2, 2, 5, 3)

        def run(L, kw=kw, g=g):
            ts = [L.tensor(a, requires_grad=True) for a in (q, k, v)]
            out = L.nn.functional.scaled_dot_product_attention(
                *ts, **{n: L.tensor(a) if isinstance(a, np.ndarray) else a for n, a in kw.items()})
            out.backward(L.tensor(g))
            return [out.detach(), [t.grad for t in ts]]
        (no, ngrads), (to, tgrads) = run(ndgrad), torch_ref(str(i), run)
        np.testing.assert_allclose(no.numpy(), to, rtol=1e-5, atol=1e-6)
        for a, b in zip(tgrads, ngrads, strict=True):
            np.testing.assert_allclose(b.numpy(), a, rtol=1e-4, atol=1e-5)


def test_gradcheck_sdpa_and_double_backward() -> None:
    q, k, v = (ndgrad.tensor(_r(1, 3, 2, dtype=np.float64), requires_grad=True) for _ in range(3))
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), (q, k, v))
    assert gradgradcheck(lambda q: F.scaled_dot_product_attention(q, q, q), (q,))
    m = nn.GRU(2, 3).double()
    s = ndgrad.tensor(_r(3, 1, 2, dtype=np.float64), requires_grad=True)
    assert gradgradcheck(lambda s: m(s)[0], (s,))


def test_multihead_attention_matches_torch(torch_ref) -> None:
    q, k, v = _r(5, 3, 8), _r(6, 3, 8), _r(6, 3, 8)
    _compare_module(torch_ref, "batched", lambda L: L.nn.MultiheadAttention(8, 2), [q, k, v])
    _compare_module(torch_ref, "unbatched", lambda L: L.nn.MultiheadAttention(8, 2), [q[:, 0], k[:, 0], v[:, 0]])
    _compare_module(torch_ref, "bias_kv_zero_attn",
                    lambda L: L.nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True), [q, k, v])
    _compare_module(torch_ref, "kdim_vdim",
                    lambda L: L.nn.MultiheadAttention(8, 4, kdim=5, vdim=3, batch_first=True, bias=False),
                    [_r(3, 5, 8), _r(3, 6, 5), _r(3, 6, 3)])


def test_multihead_attention_masks_and_weights_match_torch(torch_ref) -> None:
    q, k, v = _r(5, 3, 8), _r(6, 3, 8), _r(6, 3, 8)
    kpm = RNG.random((3, 6)) > 0.7
    kpm[:, 0] = False
    am = RNG.random((5, 6)) > 0.8
    am[:, 0] = False
    weights = state_arrays(seeded_params(nn.MultiheadAttention(8, 2)))
    for avg in (True, False):
        for j, masks in enumerate(({"key_padding_mask": kpm, "attn_mask": am}, {"attn_mask": _r(6, 5, 6)})):
            def run(L, avg=avg, masks=masks):
                m = _twin(lambda L: L.nn.MultiheadAttention(8, 2), L, weights)
                return list(m(L.tensor(q), L.tensor(k), L.tensor(v), average_attn_weights=avg,
                              **{n: L.tensor(a) for n, a in masks.items()}))
            for a, b in zip(torch_ref(f"{avg}_{j}", run), run(ndgrad), strict=True):
                np.testing.assert_allclose(b.detach().numpy(), a, rtol=1e-5, atol=1e-6)
    _, w = nn.MultiheadAttention(8, 2)(ndgrad.tensor(q), ndgrad.tensor(k), ndgrad.tensor(v), need_weights=False)
    assert w is None


def test_multihead_attention_parameters_and_errors() -> None:
    m = nn.MultiheadAttention(8, 2)
    assert [n for n, _ in m.named_parameters()] == ["in_proj_weight", "in_proj_bias", "out_proj.weight",
                                                    "out_proj.bias"]
    assert m.in_proj_weight.shape == (24, 8)
    assert np.all(m.in_proj_bias.detach().numpy() == 0)
    m2 = nn.MultiheadAttention(8, 2, kdim=3, vdim=5)
    assert [n for n, _ in m2.named_parameters()][:3] == ["q_proj_weight", "k_proj_weight", "v_proj_weight"]
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(8, 3)
    with pytest.raises(RuntimeError, match="The shape of the 2D attn_mask is"):
        m(ndgrad.zeros(5, 1, 8), ndgrad.zeros(6, 1, 8), ndgrad.zeros(6, 1, 8), attn_mask=ndgrad.zeros(5, 5))


@pytest.mark.parametrize("kw", [{}, {"norm_first": True, "activation": "gelu"}, {"batch_first": True}])
def test_transformer_encoder_layer_matches_torch(kw: dict, torch_ref) -> None:
    build = lambda L: L.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kw)  # noqa: E731
    assert [n for n, _ in build(ndgrad).named_parameters()] == torch_ref(
        "names", lambda torch: [n for n, _ in build(torch).named_parameters()])
    _compare_module(torch_ref, "run", build, [_r(5, 3, 8)])
    kpm = np.zeros((3, 5), bool)
    kpm[:, -1] = True
    x = _r(3, 5, 8) if kw.get("batch_first") else _r(5, 3, 8)
    weights = state_arrays(seeded_params(build(ndgrad)))

    def run(L):
        return _twin(build, L, weights)(L.tensor(x), src_key_padding_mask=L.tensor(kpm)).detach()
    np.testing.assert_allclose(run(ndgrad).numpy(), torch_ref("padding_mask", run), rtol=1e-4, atol=1e-5)


def test_transformer_encoder_deep_copies_and_matches_torch(torch_ref) -> None:
    def build(L):
        return L.nn.TransformerEncoder(L.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), 2,
                                       norm=L.nn.LayerNorm(8), enable_nested_tensor=False)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    ne = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8))
    assert ne.layers[0] is not layer and ne.layers[0].linear1.weight is not ne.layers[1].linear1.weight
    np.testing.assert_array_equal(ne.layers[0].linear1.weight.detach().numpy(),
                                  ne.layers[1].linear1.weight.detach().numpy())
    mask = np.triu(np.full((5, 5), -np.inf, np.float32), 1)
    _compare_module(torch_ref, "run", build, [_r(5, 3, 8)])
    weights = state_arrays(seeded_params(build(ndgrad)))
    x = _r(5, 3, 8)

    def run(L):
        return _twin(build, L, weights)(L.tensor(x), mask=L.tensor(mask)).detach()
    np.testing.assert_allclose(run(ndgrad).numpy(), torch_ref("mask", run), rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------
# end to end: a small LSTM model, 30 SGD steps beside PyTorch
# ---------------------------------------------------------------------------
def _model(fw):
    class Net(fw.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = fw.nn.Embedding(12, 8)
            self.rnn = fw.nn.LSTM(8, 16, num_layers=2)
            self.out = fw.nn.Linear(16, 12)

        def forward(self, x):
            y, _ = self.rnn(self.emb(x))
            return self.out(y.reshape(-1, 16))
    return Net()


def test_lstm_model_trains_like_torch(torch_ref) -> None:
    weights = state_arrays(seeded_params(_model(ndgrad), 0.3))
    rng = np.random.default_rng(0)
    X = rng.integers(0, 12, (30, 10, 4)).astype(np.int64)  # (steps, time, batch)
    Y = rng.integers(0, 12, (30, 40)).astype(np.int64)

    def train(fw):
        m = load_arrays(fw, _model(fw), weights)
        ls = []
        for x, y in zip(X, Y):
            for p in m.parameters():
                p.grad = None
            loss = fw.nn.functional.cross_entropy(m(fw.tensor(x)), fw.tensor(y))
            loss.backward()
            with fw.no_grad():
                for p in m.parameters():
                    p -= 0.5 * p.grad
            ls.append(float(loss.detach().numpy()))
        return ls
    want = torch_ref("losses", train)
    np.testing.assert_allclose(train(ndgrad), want, rtol=1e-4)
    assert want[-1] < want[0]


def test_multi_head_attention_forward_out_proj_changes_width(torch_ref):
    # out_proj_weight of shape (out, embed): the output takes the projection's width (regression: it was
    # reshaped to the embedding width)
    rng = np.random.default_rng(0)
    L, N, E, H, O = 3, 2, 4, 2, 6
    arrs = dict(q=rng.standard_normal((L, N, E)), w=rng.standard_normal((3 * E, E)), b=rng.standard_normal(3 * E),
                ow=rng.standard_normal((O, E)), ob=rng.standard_normal(O))

    def run(lib):
        t = {k: lib.tensor(v, requires_grad=True) for k, v in arrs.items()}
        out, w = lib.nn.functional.multi_head_attention_forward(
            t["q"], t["q"], t["q"], E, H, t["w"], t["b"], None, None, False, 0.0, t["ow"], t["ob"], training=False)
        out.sum().backward()
        return out, w, t["ow"].grad, t["w"].grad
    want = torch_ref("mha", run)
    for got, exp in zip(run(ndgrad), want):
        np.testing.assert_allclose(got.detach().numpy(), exp, rtol=1e-12, atol=1e-12)
