"""Chapter 6 of d2l: LeNet on Fashion-MNIST trained for one epoch by d2l.train_ch6 (the data through
d2l.load_data_fashion_mnist, with its four loader workers), from fixed weights and data order."""
import re
import sys

from _common import d2l_offline, finish, fixed_shuffle, init_params

import torch
from torch import nn
from d2l import torch as d2l

d2l_offline.write_fashion_mnist("../data", n_train=1024, n_test=256)
net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(),
    nn.MaxPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(),
    nn.MaxPool2d(kernel_size=2, stride=2),
    nn.Flatten(),
    nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
    nn.Linear(120, 84), nn.ReLU(),
    nn.Linear(84, 10))
init_params(net, seed=0)
# train_ch6 re-draws every weight with Xavier's rule: answer with the weights set above, in order
weights = iter([p.detach().clone() for name, p in net.named_parameters() if name.endswith("weight")])


def xavier_uniform_(w, gain=1.0):
    with torch.no_grad():
        return w.copy_(next(weights))


nn.init.xavier_uniform_ = xavier_uniform_
fixed_shuffle(seed=1)
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size=32)


class Capture:
    def __init__(self, out):
        self.out, self.text = out, ""

    def write(self, s):
        self.text += s
        return self.out.write(s)

    def flush(self):
        self.out.flush()


sys.stdout = cap = Capture(sys.stdout)
d2l.train_ch6(net, train_iter, test_iter, 1, 0.1, d2l.try_gpu())
sys.stdout = cap.out
loss, train_acc, test_acc = map(float, re.search(r"loss ([\d.]+), train acc ([\d.]+), test acc ([\d.]+)",
                                                 cap.text).groups())
finish({"loss": loss, "train_acc": train_acc, "test_acc": test_acc,
        "eval_acc": d2l.evaluate_accuracy_gpu(net, test_iter),
        "workers": [train_iter.num_workers, test_iter.num_workers],
        "batches": [len(train_iter), len(test_iter)],
        "animator_lines": len(d2l.plt.gcf().axes[0].lines)})
