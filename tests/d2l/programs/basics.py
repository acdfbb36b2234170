"""d2l's utilities and its class-based API (chapters 2-4): timers, accumulators, plots, devices, the
Fashion-MNIST loaders, and training through d2l.Module / d2l.DataModule / d2l.Trainer."""
import time

import numpy as np
from _common import d2l_offline, finish, fixed_shuffle, init_params

import torch
from d2l import torch as d2l

d2l_offline.write_fashion_mnist("../data", n_train=256, n_test=128)
out = {}

# devices: no GPU here, so the CPU answers
out["devices"] = [str(d2l.try_gpu()), str(d2l.try_gpu(3)), [str(d) for d in d2l.try_all_gpus()], d2l.num_gpus(),
                  str(d2l.cpu()), str(d2l.gpu(1))]

# Timer, Accumulator, Animator
timer = d2l.Timer()
time.sleep(0.01)
timer.stop()
timer.start()
timer.stop()
out["timer"] = [len(timer.times), timer.times[0] >= 0.01, abs(timer.sum() - sum(timer.times)) < 1e-12,
                len(timer.cumsum())]
acc = d2l.Accumulator(3)
acc.add(1, torch.tensor(2.5), np.float32(0.5))
acc.add(torch.tensor(1), 2, 3)
out["accumulator"] = acc.data
animator = d2l.Animator(xlabel="epoch", xlim=[1, 3], legend=["a", "b"])
for epoch in range(1, 4):
    animator.add(epoch, (epoch / 2, None if epoch == 2 else torch.tensor(float(epoch))))
animator.fig.savefig("animator.png")
out["animator"] = [animator.X, animator.Y, [len(line.get_xdata()) for line in animator.axes[0].lines]]

# Fashion-MNIST through load_data_fashion_mnist: plain and resized, with its worker processes
train_iter, test_iter = d2l.load_data_fashion_mnist(32)
X, y = next(iter(test_iter))
out["fashion"] = [list(X.shape), str(X.dtype), list(y.shape), str(y.dtype), float(X.sum()), y.tolist()[:8],
                  len(train_iter), train_iter.num_workers]
train_iter, test_iter = d2l.load_data_fashion_mnist(16, resize=40)
X, y = next(iter(test_iter))
out["resized"] = [list(X.shape), float(X.mean()), float(X[0, 0, 20].sum())]
out["labels"] = d2l.get_fashion_mnist_labels(y[:4])
d2l.show_images(X[:4].reshape(4, 40, 40), 1, 4, titles=out["labels"])

# the class-based API: synthetic regression, trained from scratch with d2l.SGD
data = d2l.SyntheticRegressionData(w=d2l.tensor([2, -3.4]), b=4.2, num_train=256, num_val=64, batch_size=32)
rng = np.random.default_rng(0)
data.X = torch.tensor(rng.normal(size=(320, 2)).astype(np.float32))  # the same data in both libraries
data.y = data.X @ torch.tensor([[2.0], [-3.4]]) + 4.2 + torch.tensor(rng.normal(0, 0.01, (320, 1)).astype(np.float32))
fixed_shuffle(seed=2)
model = d2l.LinearRegressionScratch(2, lr=0.03)
with torch.no_grad():
    model.w.copy_(torch.tensor(rng.normal(0, 0.01, (2, 1)).astype(np.float32)))
trainer = d2l.Trainer(max_epochs=3)
trainer.fit(model, data)
out["linreg_scratch"] = [model.w.detach().reshape(-1), model.b.detach(), trainer.train_batch_idx,
                         trainer.val_batch_idx, sorted(model.board.data)]
out["board_points"] = [[p.y for p in line] for line in model.board.data.values()]

# the concise version: nn.LazyLinear and torch.optim.SGD inside d2l.LinearRegression
model = d2l.LinearRegression(lr=0.03)
model(data.X[:1])
init_params(model, seed=3)
d2l.Trainer(max_epochs=2).fit(model, data)
w, b = model.get_w_b()
out["linreg_concise"] = [w, b]

# HyperParameters and ProgressBoard on their own
class Params(d2l.HyperParameters):
    def __init__(self, a, b=2, _hidden=3):
        self.save_hyperparameters(ignore=["b"])


p = Params(1)
out["hparams"] = [p.hparams, p.a, hasattr(p, "b"), hasattr(p, "_hidden")]
board = d2l.ProgressBoard("x", display=False)
for x in range(6):
    board.draw(x, torch.tensor(float(x * x)), "sq", every_n=2)
out["board"] = [[p.x, p.y] for p in board.data["sq"]]

# Fashion-MNIST through d2l.FashionMNIST and softmax regression (d2l.Classifier) on d2l.Trainer
data = d2l.FashionMNIST(batch_size=64, resize=(28, 28))
out["fashion_module"] = [len(data.train), len(data.val), data.text_labels([0, 9]), data.num_workers]
model = d2l.SoftmaxRegression(num_outputs=10, lr=0.1)
model(next(iter(data.val_dataloader()))[0])
init_params(model, seed=4)
trainer = d2l.Trainer(max_epochs=2)
trainer.fit(model, data)
X, y = next(iter(data.val_dataloader()))
out["softmax"] = [float(model.accuracy(model(X), y)), float(model.loss(model(X), y)),
                  {k: [round(float(p.y), 6) for p in v] for k, v in model.board.data.items()}]
data.visualize((X[:4], y[:4]))
d2l.plt.savefig("fashion.png")
finish(out)
