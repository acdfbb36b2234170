"""nn.utils.rnn (PackedSequence, pack/pad/unpad helpers) and RNN/LSTM/GRU on packed input against
PyTorch (live or recorded): packed layouts, padded values, lengths, gradients through packing,
outputs and final states per sequence from identical weights; errors; gradcheck in float64."""
from __future__ import annotations

import numpy as np
import pytest
from _nncheck import check_fn, check_module, err_of, lib_of, rand, seeded_params

import ndgrad
import ndgrad.nn as nn
from ndgrad.autograd import gradcheck
from ndgrad.nn.utils import rnn as R

LENS = [2, 5, 1, 3]
X = rand(5, 4, 3, seed=1)


def _u(lib):
    return lib.nn.utils.rnn


def _fields(p):
    return [p.data, p.batch_sizes, p.sorted_indices, p.unsorted_indices]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths", [[5, 3, 2, 1], LENS, [3, 3, 1, 3]])
def test_pack_padded_sequence_matches_torch(torch_ref, batch_first: bool, lengths: list) -> None:
    x = X.transpose(1, 0, 2).copy() if batch_first else X
    sort = lengths == sorted(lengths, reverse=True)

    def fn(lib, x):
        return _fields(_u(lib).pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=sort))
    check_fn(torch_ref, "pack", fn, [x])
    check_fn(torch_ref, "tensor_lengths", lambda lib, x: _fields(_u(lib).pack_padded_sequence(
        x, lib.tensor(lengths), batch_first=batch_first, enforce_sorted=False)), [x])


@pytest.mark.parametrize("kw", [{}, {"batch_first": True}, {"padding_value": -1.5, "total_length": 7}])
def test_pad_packed_sequence_matches_torch(torch_ref, kw: dict) -> None:
    def fn(lib, x):
        u = _u(lib)
        return u.pad_packed_sequence(u.pack_padded_sequence(x, LENS, enforce_sorted=False), **kw)
    check_fn(torch_ref, "pad", fn, [X])


@pytest.mark.parametrize("kw", [{}, {"batch_first": True, "padding_value": 2.0}, {"padding_side": "left"},
                                {"batch_first": True, "padding_side": "left"}])
def test_pad_sequence_matches_torch(torch_ref, kw: dict) -> None:
    seqs = [rand(3, 2, seed=1), rand(5, 2, seed=2), rand(1, 2, seed=3)]
    check_fn(torch_ref, "pad", lambda lib, a, b, c: _u(lib).pad_sequence([a, b, c], **kw), seqs)


def test_pack_unpack_unpad_sequence_match_torch(torch_ref) -> None:
    seqs = [rand(3, 2, seed=1), rand(5, 2, seed=2), rand(1, 2, seed=3)]
    check_fn(torch_ref, "pack", lambda lib, a, b, c: _fields(_u(lib).pack_sequence([b, a, c])), seqs)
    check_fn(torch_ref, "unsorted", lambda lib, a, b, c: _fields(_u(lib).pack_sequence([a, b, c],
                                                                                       enforce_sorted=False)), seqs)
    check_fn(torch_ref, "unpack", lambda lib, a, b, c: _u(lib).unpack_sequence(
        _u(lib).pack_sequence([a, b, c], enforce_sorted=False)), seqs)
    # PyTorch's unpad_sequence transposes its input in place; pass it a copy
    check_fn(torch_ref, "unpad", lambda lib, x: _u(lib).unpad_sequence(x * 1, lib.tensor(LENS)), [X])
    check_fn(torch_ref, "unpad_bf", lambda lib, x: _u(lib).unpad_sequence(x, lib.tensor(LENS), batch_first=True),
             [X.transpose(1, 0, 2).copy()])


def test_packed_sequence_object_matches_torch(torch_ref) -> None:
    def describe(lib):
        u = _u(lib)
        p = u.pack_padded_sequence(lib.tensor(X[:, :, 0]), LENS, enforce_sorted=False)
        q = u.PackedSequence(lib.zeros(3), lib.tensor([2, 1]))
        return [repr(q).replace("ndgrad", "torch"), u.PackedSequence._fields, isinstance(p, tuple), p.is_cuda,
                str(p.double().data.dtype).replace("ndgrad", "torch"), p.to(lib.float32) is p,
                _fields(u.PackedSequence(p.data, p.batch_sizes, p.sorted_indices))]
    got, want = describe(ndgrad), torch_ref("describe", describe)
    assert got[:6] == want[:6]
    for g, w in zip(got[6], want[6]):
        np.testing.assert_array_equal(g.numpy(), w)


_RNN_KW = [{}, {"num_layers": 2, "bidirectional": True}, {"batch_first": True, "bidirectional": True},
           {"bias": False}]


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("i", range(len(_RNN_KW)))
def test_recurrent_layers_on_packed_input_match_torch(torch_ref, kind: str, i: int) -> None:
    kw = _RNN_KW[i]
    bf = kw.get("batch_first", False)
    D = 2 if kw.get("bidirectional") else 1
    x = X.transpose(1, 0, 2).copy() if bf else X
    h0 = rand(kw.get("num_layers", 1) * D, 4, 4, seed=7)

    def call(m, x):
        lib = lib_of(x)
        u = _u(lib)
        packed = u.pack_padded_sequence(x, LENS, batch_first=bf, enforce_sorted=False)
        hx = (lib.tensor(h0), lib.tensor(h0 * 0.5)) if kind == "LSTM" else lib.tensor(h0)
        out, hn = m(packed, hx)
        padded, lengths = u.pad_packed_sequence(out, batch_first=bf, padding_value=0.5)
        hs = list(hn) if kind == "LSTM" else [hn]
        return [padded + sum(h.sum() for h in hs), *hs, out.data, lengths]

    check_module(torch_ref, "packed", lambda lib: getattr(lib.nn, kind)(3, 4, **kw), [x], call=call, tol=1e-5)


def test_packed_sorted_input_without_hx_matches_torch(torch_ref) -> None:
    def call(m, a, b, c):
        u = _u(lib_of(a))
        out, (h, c_) = m(u.pack_sequence([b, a, c]))
        return [out.data, h, c_]
    seqs = [rand(3, 2, seed=1), rand(5, 2, seed=2), rand(1, 2, seed=3)]
    check_module(torch_ref, "lstm", lambda lib: lib.nn.LSTM(2, 3, num_layers=2), seqs, call=call)


def test_final_state_is_each_sequences_own_last_step() -> None:
    """Without torch: h_n of a packed batch equals running each sequence alone."""
    m = seeded_params(nn.GRU(3, 4, bidirectional=True))
    packed = R.pack_padded_sequence(ndgrad.tensor(X), LENS, enforce_sorted=False)
    out, hn = m(packed)
    padded, _ = R.pad_packed_sequence(out)
    for b, n in enumerate(LENS):
        o1, h1 = m(ndgrad.tensor(X[:n, b:b + 1]))
        np.testing.assert_allclose(hn[:, b].detach().numpy(), h1[:, 0].detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(padded[:n, b].detach().numpy(), o1[:, 0].detach().numpy(), rtol=1e-5, atol=1e-6)
        assert np.all(padded[n:, b].detach().numpy() == 0)


def test_packed_sequence_errors_match_torch(torch_ref) -> None:
    def cases(lib):
        u = _u(lib)
        x = lib.zeros(4, 3, 2)
        p = u.pack_padded_sequence(x, [3, 2, 1])
        return [err_of(f) for f in [
            lambda: u.pack_padded_sequence(x, [2, 4, 3]), lambda: u.pack_padded_sequence(x, [4, 2, 0],
                                                                                          enforce_sorted=False),
            lambda: u.pack_padded_sequence(x, [4, 2]), lambda: u.pack_padded_sequence(x, [[4, 2, 1]]),
            lambda: u.pad_packed_sequence(p, total_length=2), lambda: u.pad_sequence([x], padding_side="up"),
            lambda: u.pad_sequence([]), lambda: u.pack_sequence([lib.zeros(2), lib.zeros(3)]),
            lambda: lib.nn.GRU(2, 3)(p, lib.zeros(1, 2, 3)),
            lambda: lib.nn.GRU(3, 3)(p),
        ]]
    assert cases(ndgrad) == torch_ref("errors", cases)


def test_gradcheck_packed_lstm_float64() -> None:
    m = seeded_params(nn.LSTM(2, 3, bidirectional=True, dtype=ndgrad.float64))
    x = ndgrad.tensor(rand(4, 3, 2, seed=2, dtype=np.float64), requires_grad=True)

    def f(x):
        out, (h, c) = m(R.pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False))
        return R.pad_packed_sequence(out)[0].sum(-1) + h.sum() + c.sum()
    assert gradcheck(f, (x,))
