"""Transformer language models on the word corpus of test_word_language_model, in two classic shapes:

- pytorch/examples word_language_model's TransformerModel: a subclass of nn.Transformer whose encoder
  reads (time, batch) tokens with a log(tril(ones)) causal mask, a sinusoidal PositionalEncoding buffer,
  NLLLoss on log_softmax and AdamW.
- the "language modeling with nn.Transformer" tutorial: nn.TransformerEncoder over TransformerEncoderLayer
  (here batch-first, pre-norm, GELU), nn.Transformer.generate_square_subsequent_mask passed with
  is_causal=True, CrossEntropyLoss, SGD with StepLR and clip_grad_norm_.

From identical weights, every training loss, the validation losses and a greedy continuation equal
PyTorch's (live, or recorded in tests/references/ when torch is not installed). Dropout is 0 so both runs
are exact; the example also builds nn.Transformer's (unused) decoder, here one layer of it."""
import math

import numpy as np
import pytest

import ndgrad
from test_word_language_model import BPTT, Corpus, batchify, get_batch

BATCH, EVAL_BATCH, EMB, HEADS, HID, LAYERS = 4, 2, 16, 2, 32, 2


def positional_encoding(torch):
    nn = torch.nn

    class PositionalEncoding(nn.Module):
        def __init__(self, d_model, dropout=0.1, max_len=64, batch_first=False):
            super().__init__()
            self.dropout = nn.Dropout(p=dropout)
            self.batch_first = batch_first
            pe = torch.zeros(max_len, d_model)
            position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
            div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
            pe[:, 0::2] = torch.sin(position * div_term)
            pe[:, 1::2] = torch.cos(position * div_term)
            pe = pe.unsqueeze(0).transpose(0, 1)
            self.register_buffer("pe", pe)

        def forward(self, x):
            if self.batch_first:
                x = x + self.pe[:x.size(1)].transpose(0, 1)
            else:
                x = x + self.pe[:x.size(0), :]
            return self.dropout(x)

    return PositionalEncoding


def example_model(torch, ntoken):
    """word_language_model's TransformerModel (an nn.Transformer subclass using only its encoder)."""
    nn, F = torch.nn, torch.nn.functional
    PositionalEncoding = positional_encoding(torch)

    class TransformerModel(nn.Transformer):
        def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
            super().__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid, num_encoder_layers=nlayers,
                             num_decoder_layers=1, dropout=dropout)
            self.model_type = "Transformer"
            self.src_mask = None
            self.pos_encoder = PositionalEncoding(ninp, dropout)
            self.input_emb = nn.Embedding(ntoken, ninp)
            self.ninp = ninp
            self.decoder = nn.Linear(ninp, ntoken)
            self.init_weights()

        def _generate_square_subsequent_mask(self, sz):
            return torch.log(torch.tril(torch.ones(sz, sz)))

        def init_weights(self):
            initrange = 0.1
            nn.init.uniform_(self.input_emb.weight, -initrange, initrange)
            nn.init.zeros_(self.decoder.bias)
            nn.init.uniform_(self.decoder.weight, -initrange, initrange)

        def forward(self, src, has_mask=True):
            if has_mask:
                if self.src_mask is None or self.src_mask.size(0) != len(src):
                    self.src_mask = self._generate_square_subsequent_mask(len(src)).to(src.device)
            else:
                self.src_mask = None
            src = self.input_emb(src) * math.sqrt(self.ninp)
            src = self.pos_encoder(src)
            output = self.encoder(src, mask=self.src_mask)
            output = self.decoder(output)
            return F.log_softmax(output, dim=-1)

    return TransformerModel(ntoken, EMB, HEADS, HID, LAYERS, dropout=0.0)


def tutorial_model(torch, ntoken):
    """The nn.Transformer language-modeling tutorial's model, batch-first with pre-norm GELU layers."""
    nn = torch.nn
    PositionalEncoding = positional_encoding(torch)

    class TransformerModel(nn.Module):
        def __init__(self, ntoken, d_model, nhead, d_hid, nlayers, dropout=0.5):
            super().__init__()
            self.model_type = "Transformer"
            self.pos_encoder = PositionalEncoding(d_model, dropout, batch_first=True)
            encoder_layers = nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout, activation="gelu",
                                                        batch_first=True, norm_first=True)
            self.transformer_encoder = nn.TransformerEncoder(encoder_layers, nlayers, enable_nested_tensor=False)
            self.embedding = nn.Embedding(ntoken, d_model)
            self.d_model = d_model
            self.linear = nn.Linear(d_model, ntoken)

        def forward(self, src, src_mask=None):
            src = self.embedding(src) * math.sqrt(self.d_model)
            src = self.pos_encoder(src)
            if src_mask is None:
                src_mask = nn.Transformer.generate_square_subsequent_mask(src.size(1))
            output = self.transformer_encoder(src, src_mask, is_causal=True)
            return self.linear(output)

    return TransformerModel(ntoken, EMB, HEADS, HID, LAYERS, dropout=0.0)


def initial_weights(model):
    rng = np.random.default_rng(0)
    out = {}
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            out[name] = rng.uniform(-0.05, 0.05, tuple(p.shape)).astype("float32")
        elif "norm" in name:
            out[name] = (1 + rng.uniform(-0.1, 0.1, tuple(p.shape))).astype("float32")
        else:
            bound = math.sqrt(6 / sum(p.shape[-2:])) if p.dim() > 1 else 0.1
            out[name] = rng.uniform(-bound, bound, tuple(p.shape)).astype("float32")
    return out


def greedy(torch, model, first, n, batch_first):
    tokens = [first]
    with torch.no_grad():
        for _ in range(n):
            input = torch.tensor(tokens).view(1, -1) if batch_first else torch.tensor(tokens).view(-1, 1)
            output = model(input)
            last = output[0, -1] if batch_first else output[-1, 0]
            tokens.append(int(last.argmax()))
    return tokens[1:]


def run_example(torch, epochs=2):
    corpus = Corpus(torch)
    train_data, val_data = batchify(corpus.train, BATCH), batchify(corpus.valid, EVAL_BATCH)
    ntokens = len(corpus.dictionary)
    model = example_model(torch, ntokens)
    model.load_state_dict({k: torch.tensor(v) for k, v in initial_weights(model).items()}, strict=False)
    criterion = torch.nn.NLLLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses, valid = [], []
    for _ in range(epochs):
        model.train()
        for i in range(0, train_data.size(0) - 1, BPTT):
            data, targets = get_batch(train_data, i)
            optimizer.zero_grad()
            output = model(data).view(-1, ntokens)
            loss = criterion(output, targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        total_loss = 0.0
        with torch.no_grad():
            for i in range(0, val_data.size(0) - 1, BPTT):
                data, targets = get_batch(val_data, i)
                output = model(data).view(-1, ntokens)
                total_loss += len(data) * criterion(output, targets).item()
        valid.append(total_loss / (len(val_data) - 1))
    words = greedy(torch, model, corpus.dictionary.word2idx["she"], 6, batch_first=False)
    return {"losses": losses, "valid": valid, "words": words, "uniform": math.log(ntokens)}


def run_tutorial(torch, epochs=2):
    corpus = Corpus(torch)
    train_data, val_data = batchify(corpus.train, BATCH), batchify(corpus.valid, EVAL_BATCH)
    ntokens = len(corpus.dictionary)
    model = tutorial_model(torch, ntokens)
    model.load_state_dict({k: torch.tensor(v) for k, v in initial_weights(model).items()}, strict=False)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.5)
    losses, valid, lrs = [], [], []
    for _ in range(epochs):
        model.train()
        for i in range(0, train_data.size(0) - 1, BPTT):
            data, targets = get_batch(train_data, i)
            output = model(data.t())  # the model is batch-first
            loss = criterion(output.transpose(0, 1).reshape(-1, ntokens), targets)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        total_loss = 0.0
        with torch.no_grad():
            for i in range(0, val_data.size(0) - 1, BPTT):
                data, targets = get_batch(val_data, i)
                output = model(data.t())
                total_loss += data.size(0) * criterion(output.transpose(0, 1).reshape(-1, ntokens), targets).item()
        valid.append(total_loss / (val_data.size(0) - 1))
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    words = greedy(torch, model, corpus.dictionary.word2idx["she"], 6, batch_first=True)
    return {"losses": losses, "valid": valid, "lrs": lrs, "words": words, "uniform": math.log(ntokens)}


def check(got, want):
    np.testing.assert_allclose(got["losses"], want["losses"], rtol=1e-5)
    np.testing.assert_allclose(got["valid"], want["valid"], rtol=1e-5)
    assert got["words"] == want["words"]
    assert want["valid"][-1] < want["uniform"]  # better than a uniform guess


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # both libraries warn about (time, batch) input
def test_example_transformer_lm_matches_torch(torch_ref):
    check(run_example(ndgrad), torch_ref("run", run_example))


def test_tutorial_transformer_encoder_lm_matches_torch(torch_ref):
    want = torch_ref("run", run_tutorial)
    got = run_tutorial(ndgrad)
    check(got, want)
    np.testing.assert_allclose(got["lrs"], want["lrs"], rtol=1e-15)
