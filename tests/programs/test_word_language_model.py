"""A word-level recurrent language model in the manner of pytorch/examples word_language_model: a
Dictionary/Corpus that tokenises lines (with <eos>) into one int64 stream, batchify into (time, batch)
columns, bptt slices, an RNNModel (embedding, 2-layer LSTM or GRU, linear decoder, optionally tied to the
embedding), NLLLoss on log_softmax, hidden states detached between batches (repackage_hidden),
clip_grad_norm_ and the example's hand-written SGD (`p.data.add_(p.grad, alpha=-lr)`), then evaluation
under no_grad and greedy generation. From identical weights, every training loss, the gradient norms
clip_grad_norm_ returns, the validation loss and the generated words equal PyTorch's (live, or recorded
in tests/references/ when torch is not installed).

The example reads WikiText-2 files; here a small synthetic corpus is generated from a tiny grammar.
Dropout is 0 so both runs are exact (the libraries draw different masks)."""
import numpy as np
import pytest

import ndgrad

BPTT, BATCH, EVAL_BATCH = 6, 4, 2
HID = 12


def make_lines(n, seed):
    rng = np.random.default_rng(seed)
    subjects, verbs, objects = ["the cat", "a dog", "my friend", "she"], ["sees", "likes", "takes"], \
        ["the ball", "a fish", "it", "the red box"]
    return [" ".join([subjects[rng.integers(4)], verbs[rng.integers(3)], objects[rng.integers(4)]])
            for _ in range(n)]


class Dictionary:
    def __init__(self):
        self.word2idx, self.idx2word = {}, []

    def add_word(self, word):
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]

    def __len__(self):
        return len(self.idx2word)


class Corpus:
    def __init__(self, torch):
        self.torch = torch
        self.dictionary = Dictionary()
        self.train = self.tokenize(make_lines(40, 1))
        self.valid = self.tokenize(make_lines(8, 2))

    def tokenize(self, lines):
        for line in lines:
            for word in line.split() + ["<eos>"]:
                self.dictionary.add_word(word)
        idss = []
        for line in lines:
            ids = [self.dictionary.word2idx[w] for w in line.split() + ["<eos>"]]
            idss.append(self.torch.tensor(ids).type(self.torch.int64))
        return self.torch.cat(idss)


def make_model(torch, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.0, tie_weights=False):
    nn, F = torch.nn, torch.nn.functional

    class RNNModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.ntoken = ntoken
            self.drop = nn.Dropout(dropout)
            self.encoder = nn.Embedding(ntoken, ninp)
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
            self.decoder = nn.Linear(nhid, ntoken)
            if tie_weights:
                if nhid != ninp:
                    raise ValueError("When using the tied flag, nhid must be equal to emsize")
                self.decoder.weight = self.encoder.weight
            self.init_weights()
            self.rnn_type, self.nhid, self.nlayers = rnn_type, nhid, nlayers

        def init_weights(self):
            initrange = 0.1
            nn.init.uniform_(self.encoder.weight, -initrange, initrange)
            nn.init.zeros_(self.decoder.bias)
            nn.init.uniform_(self.decoder.weight, -initrange, initrange)

        def forward(self, input, hidden):
            emb = self.drop(self.encoder(input))
            output, hidden = self.rnn(emb, hidden)
            output = self.drop(output)
            decoded = self.decoder(output)
            decoded = decoded.view(-1, self.ntoken)
            return F.log_softmax(decoded, dim=1), hidden

        def init_hidden(self, bsz):
            weight = next(self.parameters())
            if self.rnn_type == "LSTM":
                return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                        weight.new_zeros(self.nlayers, bsz, self.nhid))
            return weight.new_zeros(self.nlayers, bsz, self.nhid)

    return RNNModel()


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    return data.view(bsz, -1).t().contiguous()


def get_batch(source, i):
    seq_len = min(BPTT, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].view(-1)
    return data, target


def repackage_hidden(torch, h):
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(torch, v) for v in h)


def initial_weights(model):
    """Every state_dict entry drawn once with NumPy (tied weights share one entry's values)."""
    rng = np.random.default_rng(0)
    out = {}
    for name, p in model.state_dict().items():
        if name == "decoder.weight" and "encoder.weight" in out and tuple(p.shape) == out["encoder.weight"].shape:
            out[name] = out["encoder.weight"]
            continue
        out[name] = rng.uniform(-0.3, 0.3, tuple(p.shape)).astype("float32")
    return out


def evaluate(torch, model, criterion, data_source):
    model.eval()
    total_loss = 0.0
    hidden = model.init_hidden(EVAL_BATCH)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, BPTT):
            data, targets = get_batch(data_source, i)
            output, hidden = model(data, hidden)
            hidden = repackage_hidden(torch, hidden)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(data_source) - 1)


def train(torch, model, criterion, train_data, lr, clip, losses, norms):
    model.train()
    hidden = model.init_hidden(BATCH)
    for i in range(0, train_data.size(0) - 1, BPTT):
        data, targets = get_batch(train_data, i)
        model.zero_grad()
        hidden = repackage_hidden(torch, hidden)
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), clip).item())
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        losses.append(loss.item())


def generate(torch, model, dictionary, first_word, n):
    """generate.py feeds one word at a time; greedy picks (argmax) so both libraries agree exactly."""
    model.eval()
    hidden = model.init_hidden(1)
    input = torch.full((1, 1), dictionary.word2idx[first_word], dtype=torch.long)
    words = []
    with torch.no_grad():
        for _ in range(n):
            output, hidden = model(input, hidden)
            word_idx = output.squeeze().argmax().item()
            input.fill_(word_idx)
            words.append(dictionary.idx2word[word_idx])
    return words


def main(torch, rnn_type="LSTM", tied=True, epochs=2, lr=5.0, clip=0.2):
    corpus = Corpus(torch)
    train_data = batchify(corpus.train, BATCH)
    val_data = batchify(corpus.valid, EVAL_BATCH)
    ntokens = len(corpus.dictionary)
    model = make_model(torch, rnn_type, ntokens, HID, HID, 2, 0.0, tied)
    model.load_state_dict({k: torch.tensor(v) for k, v in initial_weights(model).items()})
    if tied:
        assert model.decoder.weight is model.encoder.weight
    criterion = torch.nn.NLLLoss()
    losses, norms, valid, lrs = [], [], [], []
    best_val_loss = None
    for _ in range(epochs):
        train(torch, model, criterion, train_data, lr, clip, losses, norms)
        val_loss = evaluate(torch, model, criterion, val_data)
        if not best_val_loss or val_loss < best_val_loss:
            best_val_loss = val_loss
        else:
            lr /= 4.0  # the example anneals the learning rate when validation stops improving
        valid.append(val_loss)
        lrs.append(lr)
    words = generate(torch, model, corpus.dictionary, "the", 8)
    return {"ntokens": ntokens, "losses": losses, "norms": norms, "valid": valid, "lrs": lrs, "words": words}


@pytest.mark.parametrize("rnn_type,tied", [("LSTM", True), ("GRU", False)])
def test_word_language_model_matches_torch(torch_ref, rnn_type, tied):
    want = torch_ref("run", lambda torch: main(torch, rnn_type, tied))
    got = main(ndgrad, rnn_type, tied)
    np.testing.assert_allclose(got["losses"], want["losses"], rtol=1e-5)
    np.testing.assert_allclose(got["norms"], want["norms"], rtol=1e-5)
    np.testing.assert_allclose(got["valid"], want["valid"], rtol=1e-5)
    assert got["lrs"] == want["lrs"]
    assert got["words"] == want["words"]
    assert got["ntokens"] == want["ntokens"]
    assert want["valid"][-1] < np.log(want["ntokens"])  # better than a uniform guess
    assert max(want["norms"]) > 0.2  # clipping did act


def test_tied_weights_need_equal_sizes():
    with pytest.raises(ValueError, match="tied flag"):
        make_model(ndgrad, "LSTM", 10, 8, 12, 2, tie_weights=True)
