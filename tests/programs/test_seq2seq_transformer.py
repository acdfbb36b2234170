"""A seq2seq translator with nn.Transformer, in the manner of pytorch/examples language_translation: token
embeddings plus a sinusoidal positional-encoding buffer, nn.Transformer over (time, batch) tensors, masks
built as that example builds them (a float causal mask, an all-False bool source mask, bool padding masks
from pad_sequence batches), CrossEntropyLoss(ignore_index=PAD) and Adam. From identical weights, every
training loss, the validation loss and a greedy decoding equal PyTorch's (live, or recorded in
tests/references/ when torch is not installed).

The example trains on Multi30k with torchtext; here the "language pair" is synthetic (the target is the
source reversed through a fixed token map), the model is small and dropout is 0 so both runs are exact."""
import math

import numpy as np

import ndgrad

PAD, BOS, EOS = 0, 1, 2
SRC_VOCAB, TGT_VOCAB = 14, 14
EMB, HEADS, FF = 16, 2, 32


def make_pairs(n, seed):
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(n):
        src = rng.integers(3, SRC_VOCAB, rng.integers(3, 8))
        tgt = (src[::-1] - 3 + 5) % (TGT_VOCAB - 3) + 3  # reverse, then shift every token
        pairs.append(([BOS, *src, EOS], [BOS, *tgt, EOS]))
    return pairs


def make_model(torch):
    nn = torch.nn

    class PositionalEncoding(nn.Module):
        def __init__(self, emb_size, dropout, maxlen=64):
            super().__init__()
            den = torch.exp(-torch.arange(0, emb_size, 2) * math.log(10000) / emb_size)
            pos = torch.arange(0, maxlen).reshape(maxlen, 1)
            pe = torch.zeros((maxlen, emb_size))
            pe[:, 0::2] = torch.sin(pos * den)
            pe[:, 1::2] = torch.cos(pos * den)
            self.dropout = nn.Dropout(dropout)
            self.register_buffer("pos_embedding", pe.unsqueeze(-2))

        def forward(self, token_embedding):
            return self.dropout(token_embedding + self.pos_embedding[:token_embedding.size(0), :])

    class Translator(nn.Module):
        def __init__(self):
            super().__init__()
            self.src_embedding = nn.Embedding(SRC_VOCAB, EMB)
            self.tgt_embedding = nn.Embedding(TGT_VOCAB, EMB)
            self.pos_enc = PositionalEncoding(EMB, 0.0)
            self.transformer = nn.Transformer(d_model=EMB, nhead=HEADS, num_encoder_layers=2, num_decoder_layers=2,
                                              dim_feedforward=FF, dropout=0.0)
            self.ff = nn.Linear(EMB, TGT_VOCAB)
            for p in self.parameters():
                if p.dim() > 1:
                    nn.init.xavier_uniform_(p)

        def forward(self, src, tgt, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask, memory_key_padding_mask):
            src_emb = self.pos_enc(self.src_embedding(src))
            tgt_emb = self.pos_enc(self.tgt_embedding(tgt))
            outs = self.transformer(src_emb, tgt_emb, src_mask, tgt_mask, None, src_padding_mask, tgt_padding_mask,
                                    memory_key_padding_mask)
            return self.ff(outs)

        def encode(self, src, src_mask):
            return self.transformer.encoder(self.pos_enc(self.src_embedding(src)), src_mask)

        def decode(self, tgt, memory, tgt_mask):
            return self.transformer.decoder(self.pos_enc(self.tgt_embedding(tgt)), memory, tgt_mask)

    return Translator()


def square_subsequent_mask(torch, size):
    mask = (torch.triu(torch.ones((size, size))) == 1).transpose(0, 1)
    return mask.float().masked_fill(mask == 0, float("-inf")).masked_fill(mask == 1, float(0.0))


def create_mask(torch, src, tgt):
    tgt_mask = square_subsequent_mask(torch, tgt.shape[0])
    src_mask = torch.zeros((src.shape[0], src.shape[0])).type(torch.bool)
    return src_mask, tgt_mask, (src == PAD).transpose(0, 1), (tgt == PAD).transpose(0, 1)


def collate(torch, batch):
    from_list = [torch.tensor(s) for s, _ in batch]
    to_list = [torch.tensor(t) for _, t in batch]
    pad = torch.nn.utils.rnn.pad_sequence
    return pad(from_list, padding_value=PAD), pad(to_list, padding_value=PAD)


def greedy_decode(torch, model, src, src_mask, max_len):
    memory = model.encode(src, src_mask)
    ys = torch.ones(1, 1).fill_(BOS).type(torch.long)
    for _ in range(max_len - 1):
        tgt_mask = square_subsequent_mask(torch, ys.size(0)).type(torch.bool)
        out = model.decode(ys, memory, tgt_mask).transpose(0, 1)
        prob = model.ff(out[:, -1])
        _, next_word = torch.max(prob, dim=1)
        next_word = next_word.item()
        ys = torch.cat([ys, torch.ones(1, 1).type_as(src.data).fill_(next_word)], dim=0)
        if next_word == EOS:
            break
    return ys.flatten().tolist()


def initial_weights(model):
    rng = np.random.default_rng(0)
    out = {}
    for name, p in model.named_parameters():
        bound = math.sqrt(6 / sum(p.shape[-2:])) if p.dim() > 1 else 0.1
        out[name] = rng.uniform(-bound, bound, tuple(p.shape)).astype("float32")
    return out


def main(torch, steps=8, batch=8):
    model = make_model(torch)
    model.load_state_dict({k: torch.tensor(v) for k, v in initial_weights(model).items()}, strict=False)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=PAD)
    optim = torch.optim.Adam(model.parameters(), lr=1e-2, betas=(0.9, 0.98), eps=1e-9)
    train, valid = make_pairs(steps * batch, 1), make_pairs(batch, 2)
    losses = []
    model.train()
    for i in range(steps):
        src, tgt = collate(torch, train[i * batch:(i + 1) * batch])
        tgt_input = tgt[:-1, :]
        src_mask, tgt_mask, src_pad, tgt_pad = create_mask(torch, src, tgt_input)
        logits = model(src, tgt_input, src_mask, tgt_mask, src_pad, tgt_pad, src_pad)
        optim.zero_grad()
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt[1:, :].reshape(-1))
        loss.backward()
        optim.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        src, tgt = collate(torch, valid)
        tgt_input = tgt[:-1, :]
        src_mask, tgt_mask, src_pad, tgt_pad = create_mask(torch, src, tgt_input)
        logits = model(src, tgt_input, src_mask, tgt_mask, src_pad, tgt_pad, src_pad)
        valid_loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt[1:, :].reshape(-1)).item()
        sentence = torch.tensor(valid[0][0]).view(-1, 1)
        n = sentence.shape[0]
        tokens = greedy_decode(torch, model, sentence, torch.zeros(n, n).type(torch.bool), n + 5)
    return {"train": losses, "valid": valid_loss, "tokens": tokens}


def test_seq2seq_transformer_matches_torch(torch_ref):
    want = torch_ref("run", main)
    got = main(ndgrad)
    np.testing.assert_allclose(got["train"], want["train"], rtol=2e-5)
    np.testing.assert_allclose(got["valid"], want["valid"], rtol=2e-5)
    assert got["tokens"] == want["tokens"]
    assert want["train"][-1] < want["train"][0]  # it learns
