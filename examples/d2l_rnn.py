"""d2l chapters 9-10: a character-level language model -- an RNN, a GRU and an LSTM from
scratch, then nn.RNN, nn.GRU and nn.LSTM -- with gradient clipping and perplexity, with
`import ndgrad as torch`.

    python examples/d2l_rnn.py             # runs under ndgrad
    python examples/d2l_rnn.py --lib torch # the same program under PyTorch

The text is a few built-in sentences (no download); minibatches come from Python's `random`.
"""
from __future__ import annotations

import collections
import importlib
import math
import random
import re
import os
import sys
from typing import Any

import ndgrad as torch
from ndgrad import nn
from ndgrad.nn import functional as F
from ndgrad.utils import data  # noqa: F401 (d2l's usual imports)

_LIB = globals().get("_LIB")  # set when `under(lib)` re-runs this file under another library
if _LIB is not None:
    torch, nn, F = _LIB, _LIB.nn, _LIB.nn.functional
    data = importlib.import_module(_LIB.__name__ + ".utils.data")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import d2l_common  # noqa: E402  (d2l's helper package, beside this file)
from d2l_common import state  # noqa: E402


def under(lib: Any) -> Any:
    """This program re-run with `torch` bound to `lib`."""
    return d2l_common.under(__file__, lib)


TEXT = """The traveller sat by the fire and told us of the machine. It was a thing of brass and
ivory, small enough to carry, and he said that it would travel through time as a carriage
travels along a road. We laughed at him, of course. The medical man said that time was only a
kind of space, and the traveller agreed, and that was the whole of the trick. Then he showed
us the little model, and we watched the lever turn, and the machine was gone. It did not go
into the past or the future that we could see; it simply was not there, and the lamp burned on
the table as it had before. The time traveller smiled at our faces and poured the wine."""


def tokenize(lines: list, token: str = 'char') -> list:
    """Split text lines into word or character tokens."""
    if token == 'word':
        return [line.split() for line in lines]
    return [list(line) for line in lines]


class Vocab:
    """Vocabulary for text: tokens sorted by frequency, index 0 for the unknown token."""

    def __init__(self, tokens: list, min_freq: int = 0, reserved_tokens: list | None = None) -> None:
        if tokens and isinstance(tokens[0], list):
            tokens = [token for line in tokens for token in line]
        counter = collections.Counter(tokens)
        self.token_freqs = sorted(counter.items(), key=lambda x: x[1], reverse=True)
        self.idx_to_token = list(sorted(set(['<unk>'] + (reserved_tokens or []) + [
            token for token, freq in self.token_freqs if freq >= min_freq])))
        self.token_to_idx = {token: idx for idx, token in enumerate(self.idx_to_token)}

    def __len__(self) -> int:
        return len(self.idx_to_token)

    def __getitem__(self, tokens: Any) -> Any:
        if not isinstance(tokens, (list, tuple)):
            return self.token_to_idx.get(tokens, self.unk)
        return [self.__getitem__(token) for token in tokens]

    def to_tokens(self, indices: Any) -> Any:
        if hasattr(indices, '__len__') and len(indices) > 1:
            return [self.idx_to_token[int(index)] for index in indices]
        return self.idx_to_token[indices]

    @property
    def unk(self) -> int:
        return self.token_to_idx['<unk>']


def load_corpus() -> tuple:
    lines = [re.sub('[^A-Za-z]+', ' ', line).strip().lower() for line in TEXT.split('\n')]
    tokens = tokenize([' '.join(lines)])
    vocab = Vocab(tokens)
    corpus = [vocab[token] for line in tokens for token in line]
    return corpus, vocab


def seq_data_iter_random(corpus: list, batch_size: int, num_steps: int):
    """Generate a minibatch of subsequences using random sampling."""
    corpus = corpus[random.randint(0, num_steps - 1):]
    num_subseqs = (len(corpus) - 1) // num_steps
    initial_indices = list(range(0, num_subseqs * num_steps, num_steps))
    random.shuffle(initial_indices)

    def data(pos: int) -> list:
        return corpus[pos: pos + num_steps]

    num_batches = num_subseqs // batch_size
    for i in range(0, batch_size * num_batches, batch_size):
        initial_indices_per_batch = initial_indices[i: i + batch_size]
        X = [data(j) for j in initial_indices_per_batch]
        Y = [data(j + 1) for j in initial_indices_per_batch]
        yield torch.tensor(X), torch.tensor(Y)


def seq_data_iter_sequential(corpus: list, batch_size: int, num_steps: int):
    """Generate a minibatch of subsequences using sequential partitioning."""
    offset = random.randint(0, num_steps)
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = torch.tensor(corpus[offset: offset + num_tokens])
    Ys = torch.tensor(corpus[offset + 1: offset + 1 + num_tokens])
    Xs, Ys = Xs.reshape(batch_size, -1), Ys.reshape(batch_size, -1)
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_steps * num_batches, num_steps):
        X = Xs[:, i: i + num_steps]
        Y = Ys[:, i: i + num_steps]
        yield X, Y


class SeqDataLoader:
    """An iterator to load sequence data."""

    def __init__(self, corpus: list, batch_size: int, num_steps: int, use_random_iter: bool) -> None:
        self.data_iter_fn = seq_data_iter_random if use_random_iter else seq_data_iter_sequential
        self.corpus, self.batch_size, self.num_steps = corpus, batch_size, num_steps

    def __iter__(self):
        return self.data_iter_fn(self.corpus, self.batch_size, self.num_steps)


class Accumulator:
    """For accumulating sums over `n` variables."""

    def __init__(self, n: int) -> None:
        self.data = [0.0] * n

    def add(self, *args: Any) -> None:
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def __getitem__(self, idx: int) -> float:
        return self.data[idx]


# ---- an RNN from scratch

def get_params(vocab_size: int, num_hiddens: int, device: Any) -> list:
    num_inputs = num_outputs = vocab_size

    def normal(shape: tuple) -> Any:
        return torch.randn(size=shape, device=device) * 0.01

    W_xh = normal((num_inputs, num_hiddens))  # hidden layer parameters
    W_hh = normal((num_hiddens, num_hiddens))
    b_h = torch.zeros(num_hiddens, device=device)
    W_hq = normal((num_hiddens, num_outputs))  # output layer parameters
    b_q = torch.zeros(num_outputs, device=device)
    params = [W_xh, W_hh, b_h, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params


def init_rnn_state(batch_size: int, num_hiddens: int, device: Any) -> tuple:
    return (torch.zeros((batch_size, num_hiddens), device=device), )


def rnn(inputs: Any, state: tuple, params: list) -> tuple:
    # inputs: (num_steps, batch_size, vocab_size)
    W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        H = torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b_h)
        Y = torch.mm(H, W_hq) + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H,)


class RNNModelScratch:
    """A RNN model implemented from scratch."""

    def __init__(self, vocab_size: int, num_hiddens: int, device: Any, get_params: Any, init_state: Any,
                 forward_fn: Any) -> None:
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens, device)
        self.init_state, self.forward_fn = init_state, forward_fn

    def __call__(self, X: Any, state: tuple) -> tuple:
        X = F.one_hot(X.T, self.vocab_size).type(torch.float32)
        return self.forward_fn(X, state, self.params)

    def begin_state(self, batch_size: int, device: Any) -> tuple:
        return self.init_state(batch_size, self.num_hiddens, device)


# ---- GRU and LSTM from scratch

def get_gru_params(vocab_size: int, num_hiddens: int, device: Any) -> list:
    num_inputs = num_outputs = vocab_size

    def normal(shape: tuple) -> Any:
        return torch.randn(size=shape, device=device) * 0.01

    def three() -> tuple:
        return (normal((num_inputs, num_hiddens)), normal((num_hiddens, num_hiddens)),
                torch.zeros(num_hiddens, device=device))

    W_xz, W_hz, b_z = three()  # update gate parameters
    W_xr, W_hr, b_r = three()  # reset gate parameters
    W_xh, W_hh, b_h = three()  # candidate hidden state parameters
    W_hq = normal((num_hiddens, num_outputs))  # output layer parameters
    b_q = torch.zeros(num_outputs, device=device)
    params = [W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params


def init_gru_state(batch_size: int, num_hiddens: int, device: Any) -> tuple:
    return (torch.zeros((batch_size, num_hiddens), device=device), )


def gru(inputs: Any, state: tuple, params: list) -> tuple:
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        Z = torch.sigmoid((X @ W_xz) + (H @ W_hz) + b_z)
        R = torch.sigmoid((X @ W_xr) + (H @ W_hr) + b_r)
        H_tilda = torch.tanh((X @ W_xh) + ((R * H) @ W_hh) + b_h)
        H = Z * H + (1 - Z) * H_tilda
        Y = H @ W_hq + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H,)


def get_lstm_params(vocab_size: int, num_hiddens: int, device: Any) -> list:
    num_inputs = num_outputs = vocab_size

    def normal(shape: tuple) -> Any:
        return torch.randn(size=shape, device=device) * 0.01

    def three() -> tuple:
        return (normal((num_inputs, num_hiddens)), normal((num_hiddens, num_hiddens)),
                torch.zeros(num_hiddens, device=device))

    W_xi, W_hi, b_i = three()  # input gate parameters
    W_xf, W_hf, b_f = three()  # forget gate parameters
    W_xo, W_ho, b_o = three()  # output gate parameters
    W_xc, W_hc, b_c = three()  # candidate memory cell parameters
    W_hq = normal((num_hiddens, num_outputs))  # output layer parameters
    b_q = torch.zeros(num_outputs, device=device)
    params = [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params


def init_lstm_state(batch_size: int, num_hiddens: int, device: Any) -> tuple:
    return (torch.zeros((batch_size, num_hiddens), device=device),
            torch.zeros((batch_size, num_hiddens), device=device))


def lstm(inputs: Any, state: tuple, params: list) -> tuple:
    [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q] = params
    (H, C) = state
    outputs = []
    for X in inputs:
        I = torch.sigmoid((X @ W_xi) + (H @ W_hi) + b_i)  # noqa: E741 (d2l's name)
        F_ = torch.sigmoid((X @ W_xf) + (H @ W_hf) + b_f)
        O = torch.sigmoid((X @ W_xo) + (H @ W_ho) + b_o)
        C_tilda = torch.tanh((X @ W_xc) + (H @ W_hc) + b_c)
        C = F_ * C + I * C_tilda
        H = O * torch.tanh(C)
        Y = (H @ W_hq) + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H, C)


# ---- the same with the built-in layers

class RNNModel(nn.Module):
    """The RNN model."""

    def __init__(self, rnn_layer: Any, vocab_size: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        self.num_hiddens = self.rnn.hidden_size
        # if the RNN is bidirectional (to be introduced later), `num_directions` should be 2, else 1
        if not self.rnn.bidirectional:
            self.num_directions = 1
            self.linear = nn.Linear(self.num_hiddens, self.vocab_size)
        else:
            self.num_directions = 2
            self.linear = nn.Linear(self.num_hiddens * 2, self.vocab_size)

    def forward(self, inputs: Any, state: Any) -> tuple:
        X = F.one_hot(inputs.T.long(), self.vocab_size)
        X = X.to(torch.float32)
        Y, state = self.rnn(X, state)
        # the fully connected layer first changes the shape of `Y` to (num_steps * batch_size, num_hiddens)
        output = self.linear(Y.reshape((-1, Y.shape[-1])))
        return output, state

    def begin_state(self, device: Any, batch_size: int = 1) -> Any:
        if not isinstance(self.rnn, nn.LSTM):
            # nn.GRU and nn.RNN take a tensor as hidden state
            return torch.zeros((self.num_directions * self.rnn.num_layers, batch_size, self.num_hiddens),
                               device=device)
        # nn.LSTM takes a tuple of hidden states
        return (torch.zeros((self.num_directions * self.rnn.num_layers, batch_size, self.num_hiddens),
                            device=device),
                torch.zeros((self.num_directions * self.rnn.num_layers, batch_size, self.num_hiddens),
                            device=device))


def predict_ch8(prefix: str, num_preds: int, net: Any, vocab: Vocab, device: Any) -> str:
    """Generate new characters following the `prefix`."""
    state = net.begin_state(batch_size=1, device=device)
    outputs = [vocab[prefix[0]]]

    def get_input() -> Any:
        return torch.tensor([outputs[-1]], device=device).reshape((1, 1))

    for y in prefix[1:]:  # warm-up period
        _, state = net(get_input(), state)
        outputs.append(vocab[y])
    for _ in range(num_preds):  # predict `num_preds` steps
        y, state = net(get_input(), state)
        outputs.append(int(y.argmax(dim=1).reshape(1)))
    return ''.join([vocab.idx_to_token[i] for i in outputs])


def grad_clipping(net: Any, theta: float) -> None:
    """Clip the gradient."""
    if isinstance(net, nn.Module):
        params = [p for p in net.parameters() if p.requires_grad]
    else:
        params = net.params
    norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm


def sgd(params: list, lr: float, batch_size: int) -> None:
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def train_epoch_ch8(net: Any, train_iter: Any, loss: Any, updater: Any, device: Any, use_random_iter: bool,
                    steps: list) -> float:
    """Train a net within one epoch; returns the perplexity."""
    state = None
    metric = Accumulator(2)  # sum of training loss, no. of tokens
    for X, Y in train_iter:
        if state is None or use_random_iter:
            # initialize `state` when either it is the first iteration or using random sampling
            state = net.begin_state(batch_size=X.shape[0], device=device)
        else:
            if isinstance(net, nn.Module) and not isinstance(state, tuple):
                # `state` is a tensor for nn.GRU
                state.detach_()
            else:
                # `state` is a tuple of tensors for nn.LSTM and for our custom scratch implementation
                for s in state:
                    s.detach_()
        y = Y.T.reshape(-1)
        X, y = X.to(device), y.to(device)
        y_hat, state = net(X, state)
        lo = loss(y_hat, y.long()).mean()
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            lo.backward()
            grad_clipping(net, 1)
            updater.step()
        else:
            lo.backward()
            grad_clipping(net, 1)
            # since the `mean` function has been invoked
            updater(batch_size=1)
        steps.append(lo.item())
        metric.add(lo * y.numel(), y.numel())
    return math.exp(metric[0] / metric[1])


def train_ch8(net: Any, train_iter: Any, vocab: Vocab, lr: float, num_epochs: int, device: Any,
              use_random_iter: bool = False, optimizer: str = 'sgd', name: str = '', verbose: bool = True) -> dict:
    """Train a model; returns per-step losses and per-epoch perplexities."""
    loss = nn.CrossEntropyLoss()
    if isinstance(net, nn.Module):
        if optimizer == 'adam':
            updater = torch.optim.Adam(net.parameters(), lr)
        else:
            updater = torch.optim.SGD(net.parameters(), lr)
    else:
        def updater(batch_size: int) -> None:
            return sgd(net.params, lr, batch_size)
    steps: list = []
    ppls = []
    for _ in range(num_epochs):
        ppls.append(train_epoch_ch8(net, train_iter, loss, updater, device, use_random_iter, steps))
    text = predict_ch8('time traveller', 20, net, vocab, device)
    if verbose:
        print(f'{name}: perplexity {ppls[0]:.1f} -> {ppls[-1]:.1f}; {text!r}')
    return {"steps": steps, "ppl": ppls, "text": text}


def try_gpu(i: int = 0) -> Any:
    """Return gpu(i) if exists, otherwise return cpu()."""
    if torch.cuda.device_count() >= i + 1:
        return torch.device(f'cuda:{i}')
    return torch.device('cpu')


def main(lib: Any = None, *, init: dict | None = None, seed: int = 0, seeded_order: bool = True,
         num_epochs: int = 8, verbose: bool = True) -> dict:
    """Train the scratch RNN / GRU / LSTM and nn.RNN / nn.GRU / nn.LSTM; `init` = a previous run's "init".
    Minibatch order always comes from Python's `random` (seeded), as in d2l."""
    if lib is not None and lib is not torch:
        return under(lib).main(init=init, seed=seed, seeded_order=seeded_order, num_epochs=num_epochs,
                               verbose=verbose)
    init = init or {}
    device = try_gpu()
    random.seed(seed)
    corpus, vocab = load_corpus()
    batch_size, num_steps, num_hiddens = 16, 12, 64
    out: dict = {"init": {}}

    # from scratch, random sampling
    net = RNNModelScratch(len(vocab), num_hiddens, device, get_params, init_rnn_state, rnn)
    if "scratch" in init:
        with torch.no_grad():
            for p, v in zip(net.params, init["scratch"]):
                p.copy_(torch.tensor(v))
    X = torch.arange(10).reshape((2, 5))
    Y, new_state = net(X, net.begin_state(X.shape[0], device))
    assert Y.shape == (10, len(vocab)) and len(new_state) == 1 and new_state[0].shape == (2, num_hiddens)
    out["init"]["scratch"] = [p.detach().numpy().copy() for p in net.params]
    train_iter = SeqDataLoader(corpus, batch_size, num_steps, use_random_iter=True)
    out["scratch"] = train_ch8(net, train_iter, vocab, 1.0, num_epochs, device, use_random_iter=True,
                               name='scratch RNN', verbose=verbose)

    # GRU and LSTM from scratch: sequential partitioning, the state detached between minibatches
    train_iter = SeqDataLoader(corpus, batch_size, num_steps, use_random_iter=False)
    for name, get, init_state, fn in (('scratch_gru', get_gru_params, init_gru_state, gru),
                                      ('scratch_lstm', get_lstm_params, init_lstm_state, lstm)):
        net = RNNModelScratch(len(vocab), num_hiddens, device, get, init_state, fn)
        if name in init:
            with torch.no_grad():
                for p, v in zip(net.params, init[name]):
                    p.copy_(torch.tensor(v))
        out["init"][name] = [p.detach().numpy().copy() for p in net.params]
        out[name] = train_ch8(net, train_iter, vocab, 4.0, num_epochs, device, name=name, verbose=verbose)

    # concise: sequential partitioning, hidden state carried across minibatches (detached)
    train_iter = SeqDataLoader(corpus, batch_size, num_steps, use_random_iter=False)
    for name, layer in (('rnn', nn.RNN(len(vocab), num_hiddens)), ('gru', nn.GRU(len(vocab), num_hiddens)),
                        ('lstm', nn.LSTM(len(vocab), num_hiddens))):
        net = RNNModel(layer, vocab_size=len(vocab))
        net = net.to(device)
        if name in init:
            net.load_state_dict({k: torch.tensor(v) for k, v in init[name].items()})
        out["init"][name] = state(net)
        out[name] = train_ch8(net, train_iter, vocab, 0.01, num_epochs, device, optimizer='adam', name=f'nn.{name}',
                              verbose=verbose)
        out[name]["final"] = state(net)
    return out


if __name__ == '__main__':
    main(importlib.import_module(sys.argv[sys.argv.index("--lib") + 1]) if "--lib" in sys.argv else torch)
