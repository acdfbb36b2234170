"""d2l's sequence helpers (chapters 9-11): the Time Machine language models (from scratch and with
nn.GRU), gradient clipping, the attention layers and the Transformer encoder, and machine translation
with both the class-based API (d2l.MTFraEng, d2l.Seq2Seq) and the older functions (load_data_nmt,
train_seq2seq, predict_seq2seq), all from fixed weights and data orders."""
import numpy as np
from _common import finish, fixed_shuffle, init_params, offline

import torch
from torch import nn
from d2l import torch as d2l

offline(d2l)
out = {}
rng = np.random.default_rng(0)


def array(*shape):
    return torch.tensor(rng.normal(size=shape).astype(np.float32))


def xavier_from_numpy(w, gain=1.0):  # d2l's initialisers draw from the library's generator: use NumPy's
    fan_in, fan_out = w.shape[1], w.shape[0]
    a = gain * (6 / (fan_in + fan_out)) ** 0.5
    with torch.no_grad():
        return w.copy_(torch.tensor(rng.uniform(-a, a, size=tuple(w.shape)).astype(np.float32)))


nn.init.xavier_uniform_ = xavier_from_numpy

# --- language models on the Time Machine ---------------------------------------------------------------
data = d2l.TimeMachine(batch_size=32, num_steps=16, num_train=512, num_val=128)
vocab = data.vocab
out["vocab"] = [len(vocab), vocab.idx_to_token[:6], vocab["t"], vocab.to_tokens([3, 4, 5]), list(data.X.shape)]
fixed_shuffle(seed=1)
rnn = d2l.RNNScratch(num_inputs=len(vocab), num_hiddens=32)
model = d2l.RNNLMScratch(rnn, vocab_size=len(vocab), lr=1)
init_params(model, seed=2)
trainer = d2l.Trainer(max_epochs=1, gradient_clip_val=1)
trainer.fit(model, data)
out["rnn_scratch"] = [{k: [float(p.y) for p in v] for k, v in model.board.data.items()},
                      model.predict("it has", 10, vocab), model.W_hq.detach()[:3, :5]]
gru = d2l.GRU(num_inputs=len(vocab), num_hiddens=32, num_layers=2)
model = d2l.RNNLM(gru, vocab_size=len(vocab), lr=2)
model(data.X[:2])
init_params(model, seed=3)
trainer = d2l.Trainer(max_epochs=1, gradient_clip_val=1)
trainer.fit(model, data)
out["gru_lm"] = [{k: [float(p.y) for p in v] for k, v in model.board.data.items()},
                 model.predict("the time", 10, vocab), sorted(n for n, _ in model.named_parameters())]

net = nn.Linear(4, 3)
init_params(net, seed=4)
net(array(5, 4)).pow(2).sum().backward()
norm_before = float(torch.sqrt(sum((p.grad ** 2).sum() for p in net.parameters())))
d2l.grad_clipping(net, 0.5)
out["grad_clipping"] = [norm_before, net.weight.grad, net.bias.grad]

# --- attention -------------------------------------------------------------------------------------------
X = array(2, 3, 4)
out["masked_softmax"] = [d2l.masked_softmax(X.clone(), torch.tensor([2, 3])),
                         d2l.masked_softmax(X.clone(), torch.tensor([[1, 3, 2], [2, 4, 1]]))]
queries, keys, values = array(2, 1, 6), array(2, 5, 6), array(2, 5, 3)
valid = torch.tensor([2, 5])
attention = d2l.DotProductAttention(dropout=0.5)
attention.eval()
out["dot"] = [attention(queries, keys, values, valid), attention.attention_weights]
attention = d2l.AdditiveAttention(num_hiddens=8, dropout=0.1)
attention.eval()
attention(queries, keys, values, valid)
init_params(attention, seed=5)
out["additive"] = [attention(queries, keys, values, valid), attention.attention_weights]
attention = d2l.MultiHeadAttention(num_hiddens=12, num_heads=3, dropout=0.5)
attention.eval()
X, Y = array(2, 4, 12), array(2, 6, 12)
attention(X, Y, Y, valid)
init_params(attention, seed=6)
out["multihead"] = attention(X, Y, Y, torch.tensor([[1, 2, 3, 6], [6, 5, 4, 3]]))
pos = d2l.PositionalEncoding(num_hiddens=8, dropout=0)
pos.eval()
out["positional"] = [pos(torch.zeros((1, 5, 8)))[0], pos.P[0, 100:102]]
encoder = d2l.TransformerEncoder(vocab_size=30, num_hiddens=12, ffn_num_hiddens=24, num_heads=3, num_blks=2,
                                 dropout=0.1)
encoder.eval()
tokens = torch.tensor(rng.integers(0, 30, size=(2, 7)))
encoder(tokens, valid)
init_params(encoder, seed=7)
out["transformer"] = [encoder(tokens, valid), [w.shape for w in encoder.attention_weights]]
d2l.show_heatmaps(encoder.attention_weights[0].reshape(2, 3, 7, 7).detach(), xlabel="keys", ylabel="queries",
                  titles=["head 1", "head 2", "head 3"])
d2l.plt.savefig("heatmaps.png")

# --- machine translation, class-based ----------------------------------------------------------------------
data = d2l.MTFraEng(batch_size=32, num_steps=8, num_train=256, num_val=64)
src, tgt, src_valid_len, label = data.train_dataloader().__iter__().__next__()
out["mt_data"] = [len(data.src_vocab), len(data.tgt_vocab), list(src.shape), src_valid_len[:6], tgt[0], label[0]]


class GRUDecoder(d2l.Decoder):
    """A GRU decoder fed the encoder's last state as context at every step (our own, after the book)."""

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers)
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(self, enc_all_outputs, *args):
        return enc_all_outputs

    def forward(self, X, state):
        embs = self.embedding(X.t().long())
        enc_output, hidden_state = state
        context = enc_output[-1].unsqueeze(0).repeat(embs.shape[0], 1, 1)
        outputs, hidden_state = self.rnn(torch.cat((embs, context), -1), hidden_state)
        return self.dense(outputs).swapaxes(0, 1), [enc_output, hidden_state]


encoder = d2l.Seq2SeqEncoder(len(data.src_vocab), embed_size=16, num_hiddens=24, num_layers=2)
decoder = GRUDecoder(len(data.tgt_vocab), embed_size=16, num_hiddens=24, num_layers=2)
model = d2l.Seq2Seq(encoder, decoder, tgt_pad=data.tgt_vocab["<pad>"], lr=0.01)
init_params(model, seed=8)
d2l.Trainer(max_epochs=2, gradient_clip_val=1).fit(model, data)
engs, fras = ["i see the cat .", "we have the bread !"], ["je vois le chat .", "nous avons le pain !"]
preds, _ = model.predict_step(data.build(engs, fras), d2l.cpu(), data.num_steps)
translations = [" ".join(data.tgt_vocab.to_tokens(p.tolist())) for p in preds]
out["seq2seq"] = [{k: [float(p.y) for p in v] for k, v in model.board.data.items()}, translations,
                  [d2l.bleu(t, f, k=2) for t, f in zip(translations, fras)]]

# --- machine translation with the older functions ------------------------------------------------------------
train_iter, src_vocab, tgt_vocab = d2l.load_data_nmt(batch_size=16, num_steps=8, num_examples=300)
X, X_valid_len, Y, Y_valid_len = next(iter(train_iter))
out["nmt_data"] = [len(src_vocab), len(tgt_vocab), list(X.shape), X_valid_len[:6], Y[0], d2l.truncate_pad([1, 2], 4, 0)]
out["sequence_mask"] = d2l.sequence_mask(torch.ones(2, 3), torch.tensor([1, 2]), value=-1)
loss = d2l.MaskedSoftmaxCELoss()
out["masked_ce"] = loss(array(3, 4, 10), torch.tensor(rng.integers(0, 10, size=(3, 4))), torch.tensor([4, 2, 0]))


class OldEncoderDecoder(nn.Module):
    """The first edition's encoder-decoder: forward returns the decoder's (output, state)."""

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, enc_X, dec_X, *args):
        return self.decoder(dec_X, self.decoder.init_state(self.encoder(enc_X, *args), *args))


net = OldEncoderDecoder(d2l.Seq2SeqEncoder(len(src_vocab), 16, 24, 2),
                        GRUDecoder(len(tgt_vocab), 16, 24, 2))
init_params(net, seed=9)  # train_seq2seq then re-draws the Linear and GRU weights (xavier_from_numpy)
d2l.train_seq2seq(net, train_iter, 0.01, 2, tgt_vocab, d2l.try_gpu())
out["train_seq2seq"] = [p.detach()[:2, :4] for p in list(net.parameters())[:2]]
translation, _ = d2l.predict_seq2seq(net, "they like the dog .", src_vocab, tgt_vocab, 8, d2l.try_gpu())
out["predict_seq2seq"] = [translation, d2l.bleu(translation, "ils aiment le chien .", k=2)]
finish(out)
