"""The classic MNIST example (pytorch/examples mnist/main.py) in small: a CNN trained with Adadelta + StepLR
from identical weights under ndgrad and PyTorch gives equal losses (PyTorch's live, or recorded in
tests/references/ without torch).

Synthetic 14x14 "digits" stand in for MNIST; dropout has p=0 because the two libraries draw different masks."""
import numpy as np

import ndgrad

RNG = np.random.default_rng(11)
TEMPLATES = RNG.random((10, 1, 14, 14)).astype(np.float32)   # one stroke pattern per class, plus noise
LABELS = RNG.integers(0, 10, 64)
IMAGES = (TEMPLATES[LABELS] + 0.5 * RNG.standard_normal((64, 1, 14, 14))).astype(np.float32)
TEST_IMAGES, TEST_LABELS = IMAGES[:32], LABELS[:32]


def make_net(torch):
    nn, F = torch.nn, torch.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 8, 3, 1)
            self.conv2 = nn.Conv2d(8, 16, 3, 1)
            self.dropout1 = nn.Dropout(0.0)
            self.dropout2 = nn.Dropout(0.0)
            self.fc1 = nn.Linear(400, 32)
            self.fc2 = nn.Linear(32, 10)

        def forward(self, x):
            x = self.conv1(x)
            x = F.relu(x)
            x = self.conv2(x)
            x = F.relu(x)
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = torch.flatten(x, 1)
            x = self.fc1(x)
            x = F.relu(x)
            x = self.dropout2(x)
            x = self.fc2(x)
            return F.log_softmax(x, dim=1)
    return Net()


def initial_weights():
    """PyTorch-style uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) weights, drawn once with NumPy."""
    rng = np.random.default_rng(0)
    shapes = {"conv1.weight": (8, 1, 3, 3), "conv1.bias": (8,), "conv2.weight": (16, 8, 3, 3), "conv2.bias": (16,),
              "fc1.weight": (32, 400), "fc1.bias": (32,), "fc2.weight": (10, 32), "fc2.bias": (10,)}
    fan_in = {"conv1": 9, "conv2": 72, "fc1": 400, "fc2": 32}
    return {k: rng.uniform(-1, 1, s).astype(np.float32) / np.sqrt(fan_in[k.split(".")[0]]) for k, s in shapes.items()}


def train(model, train_loader, optimizer, F, log):
    model.train()
    for data, target in train_loader:
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        log.append(loss.item())


def test(torch, model, test_loader):
    model.eval()
    test_loss, correct = 0.0, 0
    with torch.no_grad():
        for data, target in test_loader:
            output = model(data)
            test_loss += torch.nn.functional.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    return test_loss / len(test_loader.dataset), correct


test.__test__ = False  # the example's name for evaluation, not a pytest test


def main(torch, epochs=3):
    from_numpy = torch.from_numpy
    data = torch.utils.data
    train_loader = data.DataLoader(data.TensorDataset(from_numpy(IMAGES), from_numpy(LABELS)), batch_size=16)
    test_loader = data.DataLoader(data.TensorDataset(from_numpy(TEST_IMAGES), from_numpy(TEST_LABELS)),
                                  batch_size=16)
    model = make_net(torch)
    model.load_state_dict({k: torch.tensor(v) for k, v in initial_weights().items()})
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    losses, tests, lrs = [], [], []
    for _ in range(epochs):
        train(model, train_loader, optimizer, torch.nn.functional, losses)
        tests.append(test(torch, model, test_loader))
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    return {"losses": losses, "test_loss": [t[0] for t in tests], "correct": [t[1] for t in tests], "lrs": lrs}


def test_mnist_adadelta_steplr_matches_torch(torch_ref):
    want = torch_ref("run", main)
    got = main(ndgrad)
    np.testing.assert_allclose(got["losses"], want["losses"], rtol=1e-5)
    np.testing.assert_allclose(got["test_loss"], want["test_loss"], rtol=1e-5)
    assert got["correct"] == want["correct"]
    np.testing.assert_allclose(got["lrs"], want["lrs"], rtol=1e-15)
    assert want["test_loss"][-1] < want["test_loss"][0] - 0.05  # it learns
