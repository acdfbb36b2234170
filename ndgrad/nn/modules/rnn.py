"""Recurrent layers: RNN (tanh/relu), LSTM, GRU and their single-step cells.

Built from differentiable ops (matmul, sigmoid, tanh, stack), so autograd needs no
rule of its own. For speed the input projection of all time steps is one matmul per
layer and direction, and the per-step / per-gate views come from one split node
(`split_views`) whose gradient is a single concatenation.

Gate order and parameter names are PyTorch's: LSTM rows (i, f, g, o), GRU rows
(r, z, n) with n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); parameters
weight_ih_l{k}[_reverse], weight_hh_l{k}[_reverse], bias_ih_l{k}[_reverse], bias_hh_l{k}[_reverse].
"""
from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

from ... import _creation
from ..._tensor import Tensor
from ...ops import nn as K
from ...ops.shape import stack
from ..parameter import Parameter
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _act(mode: str) -> Any:
    return (lambda t: t.relu()) if mode == "RNN_RELU" else (lambda t: t.tanh())


def _run_direction(mode: str, x: Tensor, h: Tensor, c: Tensor | None, w_ih: Tensor, w_hh: Tensor,
                   b_ih: Tensor | None, b_hh: Tensor | None, reverse: bool) -> tuple:
    """One layer, one direction over x (L, N, Din). Returns (outputs (L, N, H), h_T, c_T)."""
    L, N, Din = x.shape
    H = w_hh.shape[1]
    G = w_ih.shape[0]
    # fused input projection for every time step; for RNN/LSTM b_hh is folded in as well
    xw = x.reshape(L * N, Din).matmul(w_ih.t())
    if b_ih is not None:
        xw = xw + (b_ih + b_hh if mode != "GRU" else b_ih)
    steps = K.split_views(xw.reshape(L, N, G), 0) if L else []
    whh_t = w_hh.t()
    order = range(L - 1, -1, -1) if reverse else range(L)
    outs: list = [None] * L
    if mode == "LSTM":
        for t in order:
            gates = steps[t] + h.matmul(whh_t)
            i, f, g, o = K.split_views(gates, 1, [H, H, H, H])
            c = f.sigmoid() * c + i.sigmoid() * g.tanh()
            h = o.sigmoid() * c.tanh()
            outs[t] = h
    elif mode == "GRU":
        for t in order:
            gh = h.matmul(whh_t)
            if b_hh is not None:
                gh = gh + b_hh
            ir, iz, in_ = K.split_views(steps[t], 1, [H, H, H])
            hr, hz, hn = K.split_views(gh, 1, [H, H, H])
            r = (ir + hr).sigmoid()
            z = (iz + hz).sigmoid()
            n = (in_ + r * hn).tanh()
            h = n + z * (h - n)
            outs[t] = h
    else:
        act = _act(mode)
        for t in order:
            h = act(steps[t] + h.matmul(whh_t))
            outs[t] = h
    out = stack(outs, 0) if L else _creation.zeros((0, N, H), dtype=x.dtype)
    return out, h, c


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size != 0:
            raise NotImplementedError("proj_size is not supported by ndgrad")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", stacklevel=2)
        gate_size = _GATES[mode] * hidden_size
        self._flat_weights_names: list = []
        self._all_weights: list = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_in = input_size if layer == 0 else hidden_size * num_directions
                suffix = "_reverse" if direction == 1 else ""
                params = [Parameter(_creation.empty((gate_size, layer_in), dtype=dtype)),
                          Parameter(_creation.empty((gate_size, hidden_size), dtype=dtype))]
                names = [f"weight_ih_l{layer}{suffix}", f"weight_hh_l{layer}{suffix}"]
                if bias:
                    params += [Parameter(_creation.empty(gate_size, dtype=dtype)),
                               Parameter(_creation.empty(gate_size, dtype=dtype))]
                    names += [f"bias_ih_l{layer}{suffix}", f"bias_hh_l{layer}{suffix}"]
                for name, p in zip(names, params):
                    setattr(self, name, p)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        from .. import init
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """No-op (PyTorch packs cuDNN weights here)."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n, None) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # -- forward ---------------------------------------------------------------
    def _name(self) -> str:
        return {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(self.mode, self.mode)

    def _check_hidden(self, hx: Tensor, expected: tuple, msg: str = "Expected hidden size {}, got {}") -> None:
        if tuple(hx.shape) != expected:
            raise RuntimeError(msg.format(expected, list(hx.shape)))

    def _prepare(self, input: Tensor) -> tuple:
        if not isinstance(input, Tensor):
            raise TypeError(f"{self._name()}.forward(): expected a Tensor input, got {type(input).__name__} "
                            "(PackedSequence is not supported by ndgrad)")
        if input.dim() not in (2, 3):
            raise ValueError(f"{self._name()}: Expected input to be 2D or 3D, got {input.dim()}D "
                             + ("tensor instead" if self.mode.startswith("RNN") else "instead"))
        batched = input.dim() == 3
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{x.shape[-1]}")
        wdt = self.weight_ih_l0.dtype
        if x.dtype is not wdt:
            raise ValueError(f"RNN input dtype ({x.dtype!r}) does not match weight dtype ({wdt!r}). Convert input: "
                             f"input.to({wdt!r}), or convert model: model.to({x.dtype!r})")
        return x, batched

    def _layers(self, x: Tensor, h0: Tensor, c0: Tensor | None) -> tuple:
        D = 2 if self.bidirectional else 1
        hs, cs = [], []
        layer_in = x
        for layer in range(self.num_layers):
            dir_outs = []
            for d in range(D):
                k = layer * D + d
                names = self._all_weights[k]
                w_ih, w_hh = getattr(self, names[0]), getattr(self, names[1])
                b_ih = getattr(self, names[2]) if self.bias else None
                b_hh = getattr(self, names[3]) if self.bias else None
                out, h, c = _run_direction(self.mode, layer_in, h0[k], None if c0 is None else c0[k], w_ih, w_hh,
                                           b_ih, b_hh, reverse=d == 1)
                dir_outs.append(out)
                hs.append(h)
                cs.append(c)
            layer_out = dir_outs[0] if D == 1 else _cat2(dir_outs[0], dir_outs[1])
            if self.dropout and self.training and layer < self.num_layers - 1:
                from .. import functional as F
                layer_out = F.dropout(layer_out, self.dropout, training=True)
            layer_in = layer_out
        return layer_in, stack(hs, 0), (stack(cs, 0) if c0 is not None else None)


def _cat2(a: Tensor, b: Tensor) -> Tensor:
    from ...ops.shape import cat
    return cat([a, b], 2)


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh or relu."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if len(args) > 3:
            args = list(args)
            nonlinearity = args.pop(3)
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(mode, *args, **kwargs)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple:
        x, batched = self._prepare(input)
        D = 2 if self.bidirectional else 1
        N = x.shape[1]
        if hx is None:
            h0 = _creation.zeros((self.num_layers * D, N, self.hidden_size), dtype=x.dtype)
        else:
            if not batched and hx.dim() != 2:
                raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor")
            if batched and hx.dim() != 3:
                raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
            h0 = hx if batched else hx.unsqueeze(1)
            self._check_hidden(h0, (self.num_layers * D, N, self.hidden_size))
        out, hn, _ = self._layers(x, h0, None)
        if not batched:
            return out.squeeze(1), hn.squeeze(1)
        if self.batch_first:
            out = out.transpose(0, 1)
        return out, hn


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o; returns (output, (h_n, c_n))."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple:
        x, batched = self._prepare(input)
        D = 2 if self.bidirectional else 1
        N = x.shape[1]
        shape = (self.num_layers * D, N, self.hidden_size)
        if hx is None:
            h0 = _creation.zeros(shape, dtype=x.dtype)
            c0 = _creation.zeros(shape, dtype=x.dtype)
        else:
            h0, c0 = hx
            if not batched:
                if h0.dim() != 2 or c0.dim() != 2:
                    raise RuntimeError(f"For unbatched 2-D input, hx and cx should also be 2-D but got "
                                       f"({h0.dim()}-D, {c0.dim()}-D) tensors")
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
            elif h0.dim() != 3 or c0.dim() != 3:
                raise RuntimeError(f"For batched 3-D input, hx and cx should also be 3-D but got "
                                   f"({h0.dim()}-D, {c0.dim()}-D) tensors")
            self._check_hidden(h0, shape, "Expected hidden[0] size {}, got {}")
            self._check_hidden(c0, shape, "Expected hidden[1] size {}, got {}")
        out, hn, cn = self._layers(x, h0, c0)
        if not batched:
            return out.squeeze(1), (hn.squeeze(1), cn.squeeze(1))
        if self.batch_first:
            out = out.transpose(0, 1)
        return out, (hn, cn)


class GRU(RNNBase):
    """Gated recurrent unit: gates r, z, n with n = tanh(W_in x + b_in + r * (W_hn h + b_hn))."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("GRU", *args, **kwargs)

    forward = RNN.forward


# ---------------------------------------------------------------------------
# cells
# ---------------------------------------------------------------------------
class RNNCellBase(Module):
    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(_creation.empty((num_chunks * hidden_size, input_size), dtype=dtype))
        self.weight_hh = Parameter(_creation.empty((num_chunks * hidden_size, hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(_creation.empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(_creation.empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        from .. import init
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prep(self, input: Tensor, hx: Any) -> tuple:
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} expected "
                               f"{self.input_size}")
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        return x, batched

    def _hidden(self, x: Tensor, h: Tensor | None, batched: bool, idx: str = "0") -> Tensor:
        if h is None:
            return _creation.zeros((x.shape[0], self.hidden_size), dtype=x.dtype)
        if h.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected hidden to be 1D or 2D, got {h.dim()}D instead")
        if not batched:
            h = h.unsqueeze(0)
        if h.shape[0] != x.shape[0]:
            raise RuntimeError(f"Input batch size {x.shape[0]} doesn't match hidden{idx} batch size {h.shape[0]}")
        if h.shape[1] != self.hidden_size:
            raise RuntimeError(f"hidden{idx} has inconsistent hidden_size: got {h.shape[1]}, expected "
                               f"{self.hidden_size}")
        return h

    def _proj(self, x: Tensor, h: Tensor) -> tuple:
        gi = x.matmul(self.weight_ih.t())
        gh = h.matmul(self.weight_hh.t())
        if self.bias:
            gi = gi + self.bias_ih
            gh = gh + self.bias_hh
        return gi, gh


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, batched = self._prep(input, hx)
        h = self._hidden(x, hx, batched)
        gi, gh = self._proj(x, h)
        out = (gi + gh).relu() if self.nonlinearity == "relu" else (gi + gh).tanh()
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step; returns (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple:
        x, batched = self._prep(input, hx)
        h0, c0 = (None, None) if hx is None else hx
        h = self._hidden(x, h0, batched, "0")
        c = self._hidden(x, c0, batched, "1")
        gi, gh = self._proj(x, h)
        H = self.hidden_size
        i, f, g, o = K.split_views(gi + gh, 1, [H, H, H, H])
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step; returns h'."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, batched = self._prep(input, hx)
        h = self._hidden(x, hx, batched)
        gi, gh = self._proj(x, h)
        H = self.hidden_size
        ir, iz, in_ = K.split_views(gi, 1, [H, H, H])
        hr, hz, hn = K.split_views(gh, 1, [H, H, H])
        r = (ir + hr).sigmoid()
        z = (iz + hz).sigmoid()
        n = (in_ + r * hn).tanh()
        h = n + z * (h - n)
        return h if batched else h.squeeze(0)
