"""Recurrent layers: RNN (tanh/relu), LSTM, GRU and their single-step cells.

A layer over a whole sequence runs in ndgrad.ops.rnn: LSTM and GRU as one node per layer and
direction (with a reference built step by step from differentiable ops), RNN step by step. Packed
sequences and the cells run step by step here, from the same differentiable ops; the input
projection of all time steps is one matmul, and the per-step / per-gate views come from one split
node (`split_views`) whose gradient is a single concatenation.

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
from ...ops._core import autocast_op
from ...ops.rnn import project, run_direction as _run_direction, step
from ...ops.shape import stack
from ..parameter import Parameter
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _run_packed(mode: str, data: Tensor, batch_sizes: list, h: Tensor, c: Tensor | None, w_ih: Tensor,
                w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None, reverse: bool) -> tuple:
    """One layer, one direction over packed rows (sum(batch_sizes), Din), sequences sorted longest first.
    Step t updates only its batch_sizes[t] running sequences; each sequence's final state is taken at its
    own last step (forward) or after step 0 (reverse). Returns (output rows, h_n, c_n)."""
    from ...ops.shape import cat
    whh_t = w_hh.t()
    steps = K.split_views(project(mode, data, w_ih, b_ih, b_hh), 0, batch_sizes)
    T = len(batch_sizes)
    outs: list = [None] * T
    if not reverse:
        done_h: list = []  # final states of finished sequences, last-finishing first
        done_c: list = []
        for t in range(T):
            n = batch_sizes[t]
            if h.shape[0] > n:  # sequences n.. ended at step t-1: keep their states
                done_h.append(h[n:])
                h = h[:n]
                if c is not None:
                    done_c.append(c[n:])
                    c = c[:n]
            h, c = step(mode, steps[t], h, c, whh_t, b_hh)
            outs[t] = h
        h_n = cat([h] + done_h[::-1], 0)
        c_n = cat([c] + done_c[::-1], 0) if c is not None else None
    else:
        h0, c0 = h, c
        h = h0[:0]
        c = c0[:0] if c0 is not None else None
        for t in range(T - 1, -1, -1):
            n = batch_sizes[t]
            if h.shape[0] < n:  # sequences that start (in reverse) at their last step join with h0
                h = cat([h, h0[h.shape[0]:n]], 0)
                if c is not None:
                    c = cat([c, c0[c.shape[0]:n]], 0)
            h, c = step(mode, steps[t], h, c, whh_t, b_hh)
            outs[t] = h
        h_n, c_n = h, c
    return cat(outs, 0), h_n, c_n


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

    def _check_dtype(self, x: Tensor) -> None:
        wdt = self.weight_ih_l0.dtype
        if x.dtype is not wdt:
            raise ValueError(f"RNN input dtype ({x.dtype!r}) does not match weight dtype ({wdt!r}). Convert input: "
                             f"input.to({wdt!r}), or convert model: model.to({x.dtype!r})")

    def _check_size(self, x: Tensor) -> None:
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{x.shape[-1]}")

    def _layers(self, x: Tensor, h0: Tensor, c0: Tensor | None, batch_sizes: list | None = None) -> tuple:
        """Every layer and direction over x: time-major (L, N, Din), or packed rows when batch_sizes is given."""
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
                c = None if c0 is None else c0[k]
                low = self.mode != "GRU"  # under CPU autocast LSTM/RNN layers run in the low dtype, GRU does not
                if batch_sizes is None:
                    run = _run_direction_low if low else _run_direction
                    out, h, c = run(self.mode, layer_in, h0[k], c, w_ih, w_hh, b_ih, b_hh, d == 1)
                else:
                    run = _run_packed_low if low else _run_packed
                    out, h, c = run(self.mode, layer_in, batch_sizes, h0[k], c, w_ih, w_hh, b_ih, b_hh, d == 1)
                dir_outs.append(out)
                hs.append(h)
                cs.append(c)
            layer_out = dir_outs[0] if D == 1 else _cat_last(dir_outs[0], dir_outs[1])
            if self.dropout and self.training and layer < self.num_layers - 1:
                from .. import functional as F
                layer_out = F.dropout(layer_out, self.dropout, training=True)
            layer_in = layer_out
        return layer_in, stack(hs, 0), (stack(cs, 0) if c0 is not None else None)

    def _hidden_in(self, hx: Any, batched: bool, shape: tuple, dtype: Any, lstm: bool) -> tuple:
        """(h0, c0) of shape `shape`, zeros when hx is None, checked as PyTorch checks them."""
        if hx is None:
            return _creation.zeros(shape, dtype=dtype), (_creation.zeros(shape, dtype=dtype) if lstm else None)
        if lstm:
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
            return h0, c0
        if not batched and hx.dim() != 2:
            raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor")
        if batched and hx.dim() != 3:
            raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
        h0 = hx if batched else hx.unsqueeze(1)
        self._check_hidden(h0, shape)
        return h0, None

    def _forward(self, input: Any, hx: Any) -> tuple:
        from ..utils.rnn import PackedSequence
        lstm = self.mode == "LSTM"
        D = 2 if self.bidirectional else 1
        if isinstance(input, PackedSequence):
            data, sizes = input.data, [int(n) for n in input.batch_sizes._data]
            if data.dim() != 2:
                raise RuntimeError(f"input must have 2 dimensions, got {data.dim()}")
            self._check_size(data)
            self._check_dtype(data)
            sorted_idx, unsorted_idx = input.sorted_indices, input.unsorted_indices
            if hx is not None and sorted_idx is not None:  # hx comes in the caller's batch order
                hx = tuple(h.index_select(1, sorted_idx) for h in hx) if lstm else hx.index_select(1, sorted_idx)
            shape = (self.num_layers * D, sizes[0] if sizes else 0, self.hidden_size)
            h0, c0 = self._hidden_in(hx, True, shape, data.dtype, lstm)
            out, hn, cn = self._layers(data, h0, c0, sizes)
            if unsorted_idx is not None:
                hn = hn.index_select(1, unsorted_idx)
                cn = cn.index_select(1, unsorted_idx) if cn is not None else None
            packed = PackedSequence(out, input.batch_sizes, sorted_idx, unsorted_idx)
            return packed, ((hn, cn) if lstm else hn)
        if not isinstance(input, Tensor):
            raise TypeError(f"{self._name()}.forward(): expected a Tensor or PackedSequence input, got "
                            f"{type(input).__name__}")
        if input.dim() not in (2, 3):
            raise ValueError(f"{self._name()}: Expected input to be 2D or 3D, got {input.dim()}D "
                             + ("tensor instead" if self.mode.startswith("RNN") else "instead"))
        batched = input.dim() == 3
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        self._check_size(x)
        self._check_dtype(x)
        h0, c0 = self._hidden_in(hx, batched, (self.num_layers * D, x.shape[1], self.hidden_size), x.dtype, lstm)
        out, hn, cn = self._layers(x, h0, c0)
        if not batched:
            out, hn = out.squeeze(1), hn.squeeze(1)
            cn = cn.squeeze(1) if cn is not None else None
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, ((hn, cn) if lstm else hn)


# (PyTorch's CPU autocast lists its LSTM/RNN layer kernel among the lower-precision ops)
_run_direction_low = autocast_op("lower")(_run_direction)
_run_packed_low = autocast_op("lower")(_run_packed)


def _cat_last(a: Tensor, b: Tensor) -> Tensor:
    from ...ops.shape import cat
    return cat([a, b], -1)


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

    def forward(self, input: Any, hx: Tensor | None = None) -> tuple:
        """(output, h_n); a PackedSequence input gives a PackedSequence output."""
        return self._forward(input, hx)


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o; returns (output, (h_n, c_n))."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input: Any, hx: tuple | None = None) -> tuple:
        """(output, (h_n, c_n)); a PackedSequence input gives a PackedSequence output."""
        return self._forward(input, hx)


class GRU(RNNBase):
    """Gated recurrent unit: gates r, z, n with n = tanh(W_in x + b_in + r * (W_hn h + b_hn))."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input: Any, hx: Tensor | None = None) -> tuple:
        """(output, h_n); a PackedSequence input gives a PackedSequence output."""
        return self._forward(input, hx)


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
