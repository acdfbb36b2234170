"""nn.Transformer, TransformerDecoder(Layer) and TransformerEncoder against PyTorch from identical
weights (live or recorded): outputs, input and parameter gradients with every kind of mask, pre-
and post-norm, str and callable activations, batch_first, unbatched input, PyTorch's inference
fast path (padded positions come out as zeros), reprs, state_dict keys, errors; gradcheck in float64."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from _nncheck import check_module, err_of, lib_of, load_arrays, rand, seeded_params, state_arrays

import ndgrad
import ndgrad.nn as nn
from ndgrad.autograd import gradcheck

E, H, FF = 8, 2, 16
KPM = np.array([[False, False, False, True, True], [False, False, False, False, False],
                [False, False, False, False, True]])
MEM_MASK = np.triu(np.ones((4, 5), bool), 3)  # True = may not attend


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


def _decoder_call(m, tgt, mem, float_masks=False):
    lib = lib_of(tgt)
    kpm = lib.tensor(KPM)
    tgt_kpm = lib.tensor(KPM[:, :4])
    if float_masks:
        kpm = lib.zeros(KPM.shape).masked_fill(kpm, float("-inf"))
        tgt_kpm = lib.zeros((3, 4)).masked_fill(tgt_kpm, float("-inf"))
    return m(tgt, mem, tgt_mask=lib.nn.Transformer.generate_square_subsequent_mask(4),
             memory_mask=lib.tensor(MEM_MASK), tgt_key_padding_mask=tgt_kpm, memory_key_padding_mask=kpm)


_LAYER_KW = [{}, {"norm_first": True, "activation": "gelu"}, {"batch_first": True, "bias": False},
             {"activation": "silu-fn", "layer_norm_eps": 1e-3}]


def _act(lib, kw):
    if kw.get("activation") == "silu-fn":
        return dict(kw, activation=lib.nn.functional.silu)
    return kw


@pytest.mark.parametrize("i", range(len(_LAYER_KW)))
def test_decoder_layer_matches_torch(torch_ref, i: int) -> None:
    kw = _LAYER_KW[i]
    bf = kw.get("batch_first", False)
    tgt, mem = (rand(3, 4, E, seed=1), rand(3, 5, E, seed=2)) if bf else (rand(4, 3, E, seed=1), rand(5, 3, E, seed=2))
    build = lambda lib: lib.nn.TransformerDecoderLayer(E, H, FF, dropout=0.0, **_act(lib, kw))  # noqa: E731
    check_module(torch_ref, "masks", build, [tgt, mem], call=_decoder_call, tol=1e-4)
    check_module(torch_ref, "float_masks", build, [tgt, mem],
                 call=lambda m, t, s: _decoder_call(m, t, s, float_masks=True), tol=1e-4)
    check_module(torch_ref, "plain", build, [tgt, mem], tol=1e-4)


def test_decoder_stack_unbatched_and_causal_hint_match_torch(torch_ref) -> None:
    build = lambda lib: lib.nn.TransformerDecoder(  # noqa: E731
        lib.nn.TransformerDecoderLayer(E, H, FF, dropout=0.0), 2, norm=lib.nn.LayerNorm(E))
    check_module(torch_ref, "stack", build, [rand(4, 3, E, seed=1), rand(5, 3, E, seed=2)], call=_decoder_call,
                 tol=1e-4)
    check_module(torch_ref, "unbatched", build, [rand(4, E, seed=1), rand(5, E, seed=2)],
                 call=lambda m, t, s: m(t, s, tgt_mask=lib_of(t).nn.Transformer.generate_square_subsequent_mask(4)),
                 tol=1e-4)
    # tgt_is_causal=True with a non-causal mask: PyTorch trusts the hint and masks causally
    check_module(torch_ref, "hint", build, [rand(4, 3, E, seed=1), rand(5, 3, E, seed=2)],
                 call=lambda m, t, s: m(t, s, tgt_mask=lib_of(t).zeros(4, 4), tgt_is_causal=True), tol=1e-4)


@pytest.mark.parametrize("kw", [{}, {"batch_first": True, "norm_first": True}])
def test_transformer_matches_torch(torch_ref, kw: dict) -> None:
    bf = kw.get("batch_first", False)
    src, tgt = rand(5, 3, E, seed=3), rand(4, 3, E, seed=4)
    if bf:
        src, tgt = src.transpose(1, 0, 2).copy(), tgt.transpose(1, 0, 2).copy()

    def call(m, s, t):
        lib = lib_of(s)
        kpm = lib.tensor(KPM)
        return m(s, t, tgt_mask=m.generate_square_subsequent_mask(4), src_key_padding_mask=kpm,
                 memory_key_padding_mask=kpm, tgt_key_padding_mask=lib.tensor(KPM[:, 1:]))

    build = lambda lib: _quiet(lambda: lib.nn.Transformer(E, H, 2, 1, FF, dropout=0.0, **kw))  # noqa: E731
    check_module(torch_ref, "fwd", build, [src, tgt], call=call, tol=1e-4)


def test_encoder_inference_fast_path_zeros_padding_like_torch(torch_ref) -> None:
    """PyTorch's eval-mode, grad-free encoder runs on nested tensors: padded positions are zeros
    before the final norm. Training mode and grad mode keep the ordinary values."""
    x = rand(3, 5, E, seed=5)
    weights = state_arrays(seeded_params(_quiet(lambda: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(E, H, FF, batch_first=True), 2, norm=nn.LayerNorm(E)))))

    def run(lib):
        m = _quiet(lambda: lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(E, H, FF, batch_first=True),
                                                     2, norm=lib.nn.LayerNorm(E)))
        load_arrays(lib, m, weights).eval()
        kpm = lib.tensor(KPM)
        with lib.no_grad():
            fast = m(lib.tensor(x), src_key_padding_mask=kpm)
            left_pad = m(lib.tensor(x), src_key_padding_mask=lib.tensor(KPM[:, ::-1].copy()))
        slow = m(lib.tensor(x), src_key_padding_mask=kpm)
        return [fast, left_pad, slow.detach()]

    got = [t.numpy() for t in run(ndgrad)]
    want = torch_ref("fast", run)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
    assert not np.allclose(got[0], got[2])  # the fast path really changed the padded rows


def test_generate_square_subsequent_mask_and_reprs_match_torch(torch_ref) -> None:
    def describe(lib):
        layer = lib.nn.TransformerDecoderLayer(E, H, FF, activation=lib.nn.GELU())
        enc_layer = lib.nn.TransformerEncoderLayer(E, H, FF, activation="gelu")
        t = _quiet(lambda: lib.nn.Transformer(E, H, 1, 1, FF, batch_first=True))
        mods = [layer, lib.nn.TransformerDecoder(layer, 2), t, enc_layer,
                _quiet(lambda: lib.nn.TransformerEncoder(enc_layer, 1, enable_nested_tensor=False))]
        out = []
        for m in mods:
            attrs = sorted((k, v) for k, v in vars(m).items()
                           if not k.startswith("_") and k not in ("training", "activation") and k != "layers")
            out.append([repr(m), repr(attrs), [(k, tuple(v.shape)) for k, v in m.state_dict().items()]])
        out.append(lib.nn.Transformer.generate_square_subsequent_mask(3))
        out.append(lib.nn.Transformer.generate_square_subsequent_mask(2, dtype=lib.float64))
        return out

    got = describe(ndgrad)
    want = torch_ref("describe", describe)
    assert got[:-2] == want[:-2]
    np.testing.assert_array_equal(got[-2].numpy(), want[-2])
    assert got[-1].dtype == ndgrad.float64 and want[-1].dtype == np.float64


def test_nested_tensor_warning_like_torch(torch_ref) -> None:
    def warned(lib):
        out = []
        for kw in [{}, {"batch_first": True, "norm_first": True}, {"batch_first": True}]:
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(E, H, FF, **kw), 1)
            out.append([str(x.message) for x in w if "nested" in str(x.message)])
        return out
    assert warned(ndgrad) == torch_ref("warnings", warned)


def test_transformer_errors_match_torch(torch_ref) -> None:
    def cases(lib):
        t = _quiet(lambda: lib.nn.Transformer(E, H, 1, 1, FF))
        layer = lib.nn.TransformerDecoderLayer(E, H, FF)
        z = lib.zeros
        return [err_of(f) for f in [
            lambda: t(z(5, 3, E), z(4, 2, E)), lambda: t(z(5, 3, E), z(4, 3, 6)),
            lambda: layer(z(4, 3, E), z(5, 3, E), tgt_is_causal=True),
            lambda: lib.nn.TransformerDecoderLayer(E, H, FF, activation="tanh"),
            lambda: layer(z(4, 3, E), z(5, 3, E), memory_mask=z(4, 4)),
            lambda: layer(z(4, 3, E), z(5, 3, E), memory_key_padding_mask=z(3, 4)),
            lambda: lib.nn.TransformerDecoderLayer(E, 3),
        ]]
    assert cases(ndgrad) == torch_ref("errors", cases)


def test_gradcheck_decoder_layer_float64() -> None:
    layer = seeded_params(nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, dtype=ndgrad.float64))
    tgt = ndgrad.tensor(rand(3, 2, 4, seed=7, dtype=np.float64), requires_grad=True)
    mem = ndgrad.tensor(rand(2, 2, 4, seed=8, dtype=np.float64), requires_grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=ndgrad.float64)
    assert gradcheck(lambda t, m: layer(t, m, tgt_mask=mask), (tgt, mem))
