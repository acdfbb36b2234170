"""d2l chapter 11: attention -- masked softmax, additive and scaled dot-product attention,
multi-head attention, positional encoding and a Transformer encoder, written from scratch
and again with nn.MultiheadAttention / nn.TransformerEncoderLayer -- and an RNN encoder-decoder
with Bahdanau attention (d2l 10.7, 11.4), with `import ndgrad as torch`.

    python examples/d2l_attention.py             # runs under ndgrad
    python examples/d2l_attention.py --lib torch # the same program under PyTorch

Tasks (synthetic, NumPy-drawn): read a padded token sequence and name the most frequent of
the tokens 1, 2, 3 among its valid positions (ties go to the smaller token); and, for the
encoder-decoder, reverse a token sequence.
"""
from __future__ import annotations

import collections
import importlib
import math
import os
import sys
from typing import Any

import numpy as np

import ndgrad as torch
from ndgrad import nn
from ndgrad.nn import functional as F
from ndgrad.utils import data

_LIB = globals().get("_LIB")  # set when `under(lib)` re-runs this file under another library
if _LIB is not None:
    torch, nn, F = _LIB, _LIB.nn, _LIB.nn.functional
    data = importlib.import_module(_LIB.__name__ + ".utils.data")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import d2l_common  # noqa: E402  (d2l's helper package, beside this file)
from d2l_common import SeededOrder, state  # noqa: E402


def under(lib: Any) -> Any:
    """This program re-run with `torch` bound to `lib`."""
    return d2l_common.under(__file__, lib)


def sequence_mask(X: Any, valid_len: Any, value: float = 0) -> Any:
    """Mask irrelevant entries in sequences."""
    maxlen = X.size(1)
    mask = torch.arange((maxlen), dtype=torch.float32, device=X.device)[None, :] < valid_len[:, None]
    X[~mask] = value
    return X


def masked_softmax(X: Any, valid_lens: Any) -> Any:
    """Perform softmax operation by masking elements on the last axis."""
    # X: 3D tensor, valid_lens: 1D or 2D tensor
    if valid_lens is None:
        return nn.functional.softmax(X, dim=-1)
    shape = X.shape
    if valid_lens.dim() == 1:
        valid_lens = torch.repeat_interleave(valid_lens, shape[1])
    else:
        valid_lens = valid_lens.reshape(-1)
    # on the last axis, replace masked elements with a very large negative value, whose
    # exponentiation outputs 0
    X = sequence_mask(X.reshape(-1, shape[-1]), valid_lens, value=-1e6)
    return nn.functional.softmax(X.reshape(shape), dim=-1)


class AdditiveAttention(nn.Module):
    """Additive attention."""

    def __init__(self, num_hiddens: int, dropout: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.W_k = nn.LazyLinear(num_hiddens, bias=False)
        self.W_q = nn.LazyLinear(num_hiddens, bias=False)
        self.w_v = nn.LazyLinear(1, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries: Any, keys: Any, values: Any, valid_lens: Any) -> Any:
        queries, keys = self.W_q(queries), self.W_k(keys)
        # after dimension expansion, shape of queries: (batch_size, no. of queries, 1, num_hiddens)
        # and shape of keys: (batch_size, 1, no. of key-value pairs, num_hiddens); sum them up
        # with broadcasting
        features = queries.unsqueeze(2) + keys.unsqueeze(1)
        features = torch.tanh(features)
        # there is only one output of self.w_v, so we remove the last one-dimensional entry
        scores = self.w_v(features).squeeze(-1)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)


class DotProductAttention(nn.Module):
    """Scaled dot product attention."""

    def __init__(self, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries: Any, keys: Any, values: Any, valid_lens: Any = None) -> Any:
        d = queries.shape[-1]
        # swap the last two dimensions of keys with keys.transpose(1, 2)
        scores = torch.bmm(queries, keys.transpose(1, 2)) / math.sqrt(d)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)


class MultiHeadAttention(nn.Module):
    """Multi-head attention."""

    def __init__(self, num_hiddens: int, num_heads: int, dropout: float, bias: bool = False) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.attention = DotProductAttention(dropout)
        self.W_q = nn.LazyLinear(num_hiddens, bias=bias)
        self.W_k = nn.LazyLinear(num_hiddens, bias=bias)
        self.W_v = nn.LazyLinear(num_hiddens, bias=bias)
        self.W_o = nn.LazyLinear(num_hiddens, bias=bias)

    def forward(self, queries: Any, keys: Any, values: Any, valid_lens: Any) -> Any:
        queries = self.transpose_qkv(self.W_q(queries))
        keys = self.transpose_qkv(self.W_k(keys))
        values = self.transpose_qkv(self.W_v(values))
        if valid_lens is not None:
            # on axis 0, copy the first item (scalar or vector) for num_heads times, then copy
            # the next item, and so on
            valid_lens = torch.repeat_interleave(valid_lens, repeats=self.num_heads, dim=0)
        output = self.attention(queries, keys, values, valid_lens)
        output_concat = self.transpose_output(output)
        return self.W_o(output_concat)

    def transpose_qkv(self, X: Any) -> Any:
        """Transposition for parallel computation of multiple attention heads."""
        X = X.reshape(X.shape[0], X.shape[1], self.num_heads, -1)
        X = X.permute(0, 2, 1, 3)
        return X.reshape(-1, X.shape[2], X.shape[3])

    def transpose_output(self, X: Any) -> Any:
        """Reverse the operation of transpose_qkv."""
        X = X.reshape(-1, self.num_heads, X.shape[1], X.shape[2])
        X = X.permute(0, 2, 1, 3)
        return X.reshape(X.shape[0], X.shape[1], -1)


class PositionalEncoding(nn.Module):
    """Positional encoding."""

    def __init__(self, num_hiddens: int, dropout: float, max_len: int = 1000) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        # create a long enough P
        self.P = torch.zeros((1, max_len, num_hiddens))
        X = torch.arange(max_len, dtype=torch.float32).reshape(-1, 1) / torch.pow(
            10000, torch.arange(0, num_hiddens, 2, dtype=torch.float32) / num_hiddens)
        self.P[:, :, 0::2] = torch.sin(X)
        self.P[:, :, 1::2] = torch.cos(X)

    def forward(self, X: Any) -> Any:
        X = X + self.P[:, :X.shape[1], :].to(X.device)
        return self.dropout(X)


class PositionWiseFFN(nn.Module):
    """The positionwise feed-forward network."""

    def __init__(self, ffn_num_hiddens: int, ffn_num_outputs: int) -> None:
        super().__init__()
        self.dense1 = nn.LazyLinear(ffn_num_hiddens)
        self.relu = nn.ReLU()
        self.dense2 = nn.LazyLinear(ffn_num_outputs)

    def forward(self, X: Any) -> Any:
        return self.dense2(self.relu(self.dense1(X)))


class AddNorm(nn.Module):
    """The residual connection followed by layer normalization."""

    def __init__(self, norm_shape: Any, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.ln = nn.LayerNorm(norm_shape)

    def forward(self, X: Any, Y: Any) -> Any:
        return self.ln(self.dropout(Y) + X)


class TransformerEncoderBlock(nn.Module):
    """The Transformer encoder block."""

    def __init__(self, num_hiddens: int, ffn_num_hiddens: int, num_heads: int, dropout: float,
                 use_bias: bool = False) -> None:
        super().__init__()
        self.attention = MultiHeadAttention(num_hiddens, num_heads, dropout, use_bias)
        self.addnorm1 = AddNorm(num_hiddens, dropout)
        self.ffn = PositionWiseFFN(ffn_num_hiddens, num_hiddens)
        self.addnorm2 = AddNorm(num_hiddens, dropout)

    def forward(self, X: Any, valid_lens: Any) -> Any:
        Y = self.addnorm1(X, self.attention(X, X, X, valid_lens))
        return self.addnorm2(Y, self.ffn(Y))


class TransformerEncoder(nn.Module):
    """The Transformer encoder."""

    def __init__(self, vocab_size: int, num_hiddens: int, ffn_num_hiddens: int, num_heads: int, num_blks: int,
                 dropout: float, use_bias: bool = False) -> None:
        super().__init__()
        self.num_hiddens = num_hiddens
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.pos_encoding = PositionalEncoding(num_hiddens, dropout)
        self.blks = nn.Sequential()
        for i in range(num_blks):
            self.blks.add_module("block" + str(i), TransformerEncoderBlock(
                num_hiddens, ffn_num_hiddens, num_heads, dropout, use_bias))

    def forward(self, X: Any, valid_lens: Any) -> Any:
        # since positional encoding values are between -1 and 1, the embedding values are
        # multiplied by the square root of the embedding dimension to rescale before they are summed up
        X = self.pos_encoding(self.embedding(X) * math.sqrt(self.num_hiddens))
        self.attention_weights = [None] * len(self.blks)
        for i, blk in enumerate(self.blks):
            X = blk(X, valid_lens)
            self.attention_weights[i] = blk.attention.attention.attention_weights
        return X


class ScratchClassifier(nn.Module):
    """d2l's encoder, then additive attention pooling with a learned query."""

    def __init__(self, vocab_size: int, num_hiddens: int, num_classes: int, dropout: float) -> None:
        super().__init__()
        self.encoder = TransformerEncoder(vocab_size, num_hiddens, 2 * num_hiddens, 4, 2, dropout)
        self.query = nn.Parameter(torch.randn(1, 1, num_hiddens) * 0.1)
        self.pool = AdditiveAttention(num_hiddens, dropout)
        self.head = nn.LazyLinear(num_classes)

    def forward(self, X: Any, valid_lens: Any) -> Any:
        H = self.encoder(X, valid_lens)
        q = self.query.expand(X.shape[0], -1, -1)
        return self.head(self.pool(q, H, H, valid_lens).squeeze(1))


class BuiltinClassifier(nn.Module):
    """The same with nn.TransformerEncoderLayer and nn.MultiheadAttention (padding masks)."""

    def __init__(self, vocab_size: int, num_hiddens: int, num_classes: int, dropout: float) -> None:
        super().__init__()
        self.num_hiddens = num_hiddens
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.pos_encoding = PositionalEncoding(num_hiddens, dropout)
        layer = nn.TransformerEncoderLayer(num_hiddens, nhead=4, dim_feedforward=2 * num_hiddens, dropout=dropout,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.query = nn.Parameter(torch.randn(1, 1, num_hiddens) * 0.1)
        self.pool = nn.MultiheadAttention(num_hiddens, num_heads=2, dropout=dropout, batch_first=True)
        self.head = nn.Linear(num_hiddens, num_classes)

    def forward(self, X: Any, valid_lens: Any) -> Any:
        padding = torch.arange(X.shape[1])[None, :] >= valid_lens[:, None]  # True = ignore
        H = self.pos_encoding(self.embedding(X) * math.sqrt(self.num_hiddens))
        H = self.encoder(H, src_key_padding_mask=padding)
        q = self.query.expand(X.shape[0], -1, -1)
        pooled, self.attention_weights = self.pool(q, H, H, key_padding_mask=padding)
        return self.head(pooled.squeeze(1))


def make_data(n: int, seq_len: int, vocab_size: int, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    valid = rng.integers(3, seq_len + 1, n)
    X = rng.integers(1, vocab_size, (n, seq_len))
    X[np.arange(seq_len)[None, :] >= valid[:, None]] = 0  # padding
    counts = np.stack([((X == t) & (X > 0)).sum(1) for t in (1, 2, 3)], 1)
    y = counts.argmax(1)
    return X, valid, y


def accuracy(y_hat: Any, y: Any) -> float:
    return float((y_hat.argmax(axis=1).type(y.dtype) == y).type(y.dtype).sum())


def attention_demo(init: dict | None) -> dict:
    """d2l's small checks: masked softmax, additive / dot-product / multi-head shapes and values."""
    rng = np.random.default_rng(1)
    dtype = torch.get_default_dtype()
    w = masked_softmax(torch.tensor(rng.random((2, 2, 4)), dtype=dtype), torch.tensor([2, 3]))
    assert (w[0, :, 2:] == 0).all() and (w[1, :, 3:] == 0).all()
    assert torch.allclose(w.sum(-1), torch.ones(2, 2))
    w2 = masked_softmax(torch.tensor(rng.random((2, 2, 4)), dtype=dtype),
                        torch.tensor([[1, 3], [2, 4]]))
    assert (w2[0, 0, 1:] == 0).all() and (w2[1, 1] > 0).all()
    queries = torch.tensor(rng.normal(0, 1, (2, 1, 20)), dtype=dtype)
    keys = torch.tensor(rng.normal(0, 1, (2, 10, 2)), dtype=dtype)
    values = torch.arange(40, dtype=dtype).reshape(1, 10, 4).repeat(2, 1, 1)
    valid_lens = torch.tensor([2, 6])
    additive = AdditiveAttention(num_hiddens=8, dropout=0.1)
    additive.eval()
    additive(queries, keys, values, valid_lens)
    if init is not None:
        additive.load_state_dict({k: torch.tensor(v) for k, v in init["additive"].items()})
    a_out = additive(queries, keys, values, valid_lens)
    assert a_out.shape == (2, 1, 4)
    dot = DotProductAttention(dropout=0.5)
    dot.eval()
    d_out = dot(torch.tensor(rng.normal(0, 1, (2, 1, 2)), dtype=dtype), keys, values, valid_lens)
    mha = MultiHeadAttention(100, 5, 0.5)
    mha.eval()
    X = torch.ones((2, 4, 100))
    Y = torch.ones((2, 6, 100))
    assert mha(X, Y, Y, torch.tensor([3, 2])).shape == (2, 4, 100)
    pe = PositionalEncoding(32, 0)
    P = pe(torch.zeros((1, 60, 32)))
    return {"additive": a_out.detach().numpy().copy(), "additive_weights": additive.attention_weights.detach().numpy(),
            "dot": d_out.numpy().copy(), "P": P.numpy().copy(), "init": {"additive": state(additive)}}


def train(net: Any, arrays: tuple, num_epochs: int, lr: float, seeded_order: bool, seed: int, name: str,
          verbose: bool) -> dict:
    X, valid, y = (torch.tensor(a) for a in arrays)
    n_train = int(0.8 * len(X))
    train_set = data.TensorDataset(X[:n_train], valid[:n_train], y[:n_train])
    if seeded_order:
        train_iter = data.DataLoader(train_set, 32, sampler=SeededOrder(n_train, seed))
    else:
        train_iter = data.DataLoader(train_set, 32, shuffle=True)
    loss = nn.CrossEntropyLoss()
    trainer = torch.optim.Adam(net.parameters(), lr=lr)
    steps, epochs = [], []
    for epoch in range(num_epochs):
        net.train()
        for Xb, vb, yb in train_iter:
            lo = loss(net(Xb, vb), yb)
            trainer.zero_grad()
            lo.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            trainer.step()
            steps.append(lo.item())
        net.eval()
        with torch.no_grad():
            test_acc = accuracy(net(X[n_train:], valid[n_train:]), y[n_train:]) / (len(X) - n_train)
        epochs.append(test_acc)
        if verbose:
            print(f'{name} epoch {epoch + 1}: loss {steps[-1]:.4f}, test acc {test_acc:.3f}')
    return {"steps": steps, "test_acc": epochs}


# ---- sequence to sequence learning with Bahdanau attention (d2l 10.7, 11.4)

PAD, BOS, EOS = 0, 1, 2


def init_seq2seq(module: Any) -> None:
    """Initialize weights for sequence-to-sequence learning."""
    if type(module) == nn.Linear:  # noqa: E721 (d2l's test)
        nn.init.xavier_uniform_(module.weight)
    if type(module) == nn.GRU:  # noqa: E721
        for param in module._flat_weights_names:
            if "weight" in param:
                nn.init.xavier_uniform_(module._parameters[param])


class Seq2SeqEncoder(nn.Module):
    """The RNN encoder for sequence to sequence learning."""

    def __init__(self, vocab_size: int, embed_size: int, num_hiddens: int, num_layers: int,
                 dropout: float = 0) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size, num_hiddens, num_layers, dropout=dropout)
        self.apply(init_seq2seq)

    def forward(self, X: Any, *args: Any) -> tuple:
        # X shape: (batch_size, num_steps); embs shape: (num_steps, batch_size, embed_size)
        embs = self.embedding(X.t().type(torch.int64))
        outputs, state = self.rnn(embs)
        # outputs shape: (num_steps, batch_size, num_hiddens); state: (num_layers, batch_size, num_hiddens)
        return outputs, state


class Seq2SeqAttentionDecoder(nn.Module):
    def __init__(self, vocab_size: int, embed_size: int, num_hiddens: int, num_layers: int,
                 dropout: float = 0) -> None:
        super().__init__()
        self.attention = AdditiveAttention(num_hiddens, dropout)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)
        self.dense = nn.LazyLinear(vocab_size)
        self.apply(init_seq2seq)

    def init_state(self, enc_outputs: tuple, enc_valid_lens: Any) -> tuple:
        # shape of outputs: (num_steps, batch_size, num_hiddens)
        outputs, hidden_state = enc_outputs
        return (outputs.permute(1, 0, 2), hidden_state, enc_valid_lens)

    def forward(self, X: Any, state: tuple) -> tuple:
        # shape of enc_outputs: (batch_size, num_steps, num_hiddens)
        enc_outputs, hidden_state, enc_valid_lens = state
        # shape of the output X: (num_steps, batch_size, embed_size)
        X = self.embedding(X).permute(1, 0, 2)
        outputs, self._attention_weights = [], []
        for x in X:
            # shape of query: (batch_size, 1, num_hiddens)
            query = torch.unsqueeze(hidden_state[-1], dim=1)
            # shape of context: (batch_size, 1, num_hiddens)
            context = self.attention(query, enc_outputs, enc_outputs, enc_valid_lens)
            # concatenate on the feature dimension
            x = torch.cat((context, torch.unsqueeze(x, dim=1)), dim=-1)
            # reshape x as (1, batch_size, embed_size + num_hiddens)
            out, hidden_state = self.rnn(x.permute(1, 0, 2), hidden_state)
            outputs.append(out)
            self._attention_weights.append(self.attention.attention_weights)
        # after fully connected layer transformation, shape of outputs: (num_steps, batch_size, vocab_size)
        outputs = self.dense(torch.cat(outputs, dim=0))
        return outputs.permute(1, 0, 2), [enc_outputs, hidden_state, enc_valid_lens]

    @property
    def attention_weights(self) -> list:
        return self._attention_weights


class EncoderDecoder(nn.Module):
    """The base class for the encoder-decoder architecture."""

    def __init__(self, encoder: Any, decoder: Any) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, enc_X: Any, dec_X: Any, *args: Any) -> tuple:
        enc_outputs = self.encoder(enc_X, *args)
        dec_state = self.decoder.init_state(enc_outputs, *args)
        return self.decoder(dec_X, dec_state)


class MaskedSoftmaxCELoss(nn.CrossEntropyLoss):
    """The softmax cross-entropy loss with masks."""

    # pred shape: (batch_size, num_steps, vocab_size); label shape: (batch_size, num_steps);
    # valid_len shape: (batch_size,)
    def forward(self, pred: Any, label: Any, valid_len: Any) -> Any:
        weights = torch.ones_like(label)
        weights = sequence_mask(weights, valid_len)
        self.reduction = 'none'
        unweighted_loss = super().forward(pred.permute(0, 2, 1), label)
        weighted_loss = (unweighted_loss * weights).mean(dim=1)
        return weighted_loss


def grad_clipping(net: Any, theta: float) -> None:
    """Clip the gradient."""
    params = [p for p in net.parameters() if p.requires_grad]
    norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm


def make_reverse_data(n: int, num_steps: int, vocab_size: int, seed: int) -> tuple:
    """Source: random tokens + <eos> + padding; target: the tokens reversed + <eos> + padding."""
    rng = np.random.default_rng(seed)
    X = np.full((n, num_steps), PAD)
    Y = np.full((n, num_steps), PAD)
    lens = rng.integers(2, num_steps - 1, n)
    for i, length in enumerate(lens):
        tokens = rng.integers(3, vocab_size, length)
        X[i, :length + 1] = list(tokens) + [EOS]
        Y[i, :length + 1] = list(tokens[::-1]) + [EOS]
    return X, lens + 1, Y, lens + 1


def train_seq2seq(net: Any, arrays: tuple, lr: float, num_epochs: int, seeded_order: bool, seed: int,
                  verbose: bool) -> dict:
    """Train a model for sequence to sequence."""
    dataset = data.TensorDataset(*(torch.tensor(a) for a in arrays))
    if seeded_order:
        data_iter = data.DataLoader(dataset, 32, sampler=SeededOrder(len(dataset), seed))
    else:
        data_iter = data.DataLoader(dataset, 32, shuffle=True)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    loss = MaskedSoftmaxCELoss()
    net.train()
    steps, epochs = [], []
    for epoch in range(num_epochs):
        total = [0.0, 0.0]  # sum of training loss, no. of tokens
        for batch in data_iter:
            optimizer.zero_grad()
            X, X_valid_len, Y, Y_valid_len = [x for x in batch]
            bos = torch.tensor([BOS] * Y.shape[0]).reshape(-1, 1)
            dec_input = torch.cat([bos, Y[:, :-1]], 1)  # teacher forcing
            Y_hat, _ = net(X, dec_input, X_valid_len)
            lo = loss(Y_hat, Y, Y_valid_len)
            lo.sum().backward()  # make the loss scalar for `backward`
            grad_clipping(net, 1)
            num_tokens = Y_valid_len.sum()
            optimizer.step()
            with torch.no_grad():
                total[0] += float(lo.sum())
                total[1] += float(num_tokens)
            steps.append(lo.sum().item())
        epochs.append(total[0] / total[1])
        if verbose:
            print(f'seq2seq epoch {epoch + 1}: loss per token {epochs[-1]:.3f}')
    return {"steps": steps, "epochs": epochs}


def predict_seq2seq(net: Any, src_tokens: list, num_steps: int, save_attention_weights: bool = False) -> tuple:
    """Predict for sequence to sequence (greedy decoding)."""
    net.eval()
    src_tokens = src_tokens + [EOS]
    enc_valid_len = torch.tensor([len(src_tokens)])
    src_tokens = src_tokens + [PAD] * (num_steps - len(src_tokens))  # d2l's truncate_pad
    # add the batch axis
    enc_X = torch.unsqueeze(torch.tensor(src_tokens, dtype=torch.long), dim=0)
    enc_outputs = net.encoder(enc_X, enc_valid_len)
    dec_state = net.decoder.init_state(enc_outputs, enc_valid_len)
    # add the batch axis
    dec_X = torch.unsqueeze(torch.tensor([BOS], dtype=torch.long), dim=0)
    output_seq, attention_weight_seq = [], []
    for _ in range(num_steps):
        Y, dec_state = net.decoder(dec_X, dec_state)
        # we use the token with the highest prediction likelihood as input of the decoder at the next time step
        dec_X = Y.argmax(dim=2)
        pred = dec_X.squeeze(dim=0).type(torch.int32).item()
        if save_attention_weights:
            attention_weight_seq.append(net.decoder.attention_weights)
        # once the end-of-sequence token is predicted, the generation of the output sequence is complete
        if pred == EOS:
            break
        output_seq.append(pred)
    return output_seq, attention_weight_seq


def bleu(pred_seq: list, label_seq: list, k: int) -> float:
    """Compute the BLEU."""
    len_pred, len_label = len(pred_seq), len(label_seq)
    score = math.exp(min(0, 1 - len_label / max(len_pred, 1)))
    for n in range(1, min(k, len_pred) + 1):
        num_matches, label_subs = 0, collections.defaultdict(int)
        for i in range(len_label - n + 1):
            label_subs[tuple(label_seq[i: i + n])] += 1
        for i in range(len_pred - n + 1):
            if label_subs[tuple(pred_seq[i: i + n])] > 0:
                num_matches += 1
                label_subs[tuple(pred_seq[i: i + n])] -= 1
        score *= math.pow(num_matches / (len_pred - n + 1), math.pow(0.5, n))
    return score


def seq2seq(init: dict | None, seed: int, seeded_order: bool, num_epochs: int, dropout: float,
            verbose: bool) -> dict:
    vocab_size, num_steps, embed_size, num_hiddens, num_layers = 10, 8, 16, 32, 2
    arrays = make_reverse_data(512, num_steps, vocab_size, seed)
    encoder = Seq2SeqEncoder(vocab_size, embed_size, num_hiddens, num_layers, dropout)
    decoder = Seq2SeqAttentionDecoder(vocab_size, embed_size, num_hiddens, num_layers, dropout)
    net = EncoderDecoder(encoder, decoder)
    X = torch.zeros((4, 7), dtype=torch.long)  # d2l's shape check; also materialises the LazyLinear layers
    state = decoder.init_state(encoder(X), None)
    output, state = decoder(X, state)
    assert output.shape == (4, 7, vocab_size) and state[1].shape == (num_layers, 4, num_hiddens)
    if init is not None:
        net.load_state_dict({k: torch.tensor(v) for k, v in init.items()})
    start = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    run = train_seq2seq(net, arrays, 5e-3, num_epochs, seeded_order, seed, verbose)
    rng = np.random.default_rng(seed + 1)
    run["translations"], scores = [], []
    for _ in range(8):
        src = [int(t) for t in rng.integers(3, vocab_size, int(rng.integers(2, 6)))]
        pred, attention = predict_seq2seq(net, src, num_steps, save_attention_weights=True)
        run["translations"].append(pred)
        scores.append(bleu(pred, src[::-1], k=2))
        if verbose:
            print(f'{src} => {pred}, bleu {scores[-1]:.3f}')
    run["bleu"] = sum(scores) / len(scores)
    run["init"] = start
    return run


def main(lib: Any = None, *, init: dict | None = None, seed: int = 0, seeded_order: bool = False,
         num_epochs: int = 4, dropout: float = 0.1, verbose: bool = True) -> dict:
    """Run the attention checks, then train both classifiers; `init` = a previous run's "init".
    `dropout` = 0 makes the runs deterministic (no random masks)."""
    if lib is not None and lib is not torch:
        return under(lib).main(init=init, seed=seed, seeded_order=seeded_order, num_epochs=num_epochs,
                               dropout=dropout, verbose=verbose)
    init = init or {}
    demo = attention_demo(init.get("demo"))
    vocab_size, seq_len, num_hiddens = 6, 10, 32
    arrays = make_data(640, seq_len, vocab_size, seed)
    out: dict = {"demo": demo, "init": {"demo": demo["init"]}}
    for name, cls in (("scratch", ScratchClassifier), ("builtin", BuiltinClassifier)):
        net = cls(vocab_size, num_hiddens, 3, dropout)
        net(torch.tensor(arrays[0][:2]), torch.tensor(arrays[1][:2]))  # materialise the lazy layers
        if name in init:
            net.load_state_dict({k: torch.tensor(v) for k, v in init[name].items()})
        out["init"][name] = state(net)
        out[name] = train(net, arrays, num_epochs, 3e-3, seeded_order, seed, name, verbose)
        if name == "scratch":  # the last forward ran on the 128 test sequences, 4 heads each
            assert net.encoder.attention_weights[0].shape == (128 * 4, seq_len, seq_len)
    out["seq2seq"] = seq2seq(init.get("seq2seq"), seed, seeded_order, num_epochs, dropout, verbose)
    out["init"]["seq2seq"] = out["seq2seq"]["init"]
    return out


if __name__ == '__main__':
    main(importlib.import_module(sys.argv[sys.argv.index("--lib") + 1]) if "--lib" in sys.argv else torch)
