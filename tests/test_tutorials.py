"""PyTorch's beginner tutorials ("Learn the Basics" and the "60 minute blitz"), run as written
with `import ndgrad as torch`.

Each tutorial is a function of the library module; what it prints is captured. With PyTorch
installed, the same code runs under torch and the printed text must agree (module names
normalised, numbers to float32 rounding); without PyTorch the text PyTorch printed is the recording
in tests/references/. Further tests check lines and numbers recorded from PyTorch 2.13.
Randomness: weights and data come from NumPy, so both libraries start from identical values.
FashionMNIST downloads are replaced by small in-memory data; torch.save of a whole model is out
of scope (ndgrad.load is weights_only).
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile

import numpy as np
import pytest

import ndgrad

# ruff: noqa: E701, E702

def init_weights(torch, model, seed=0):
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for _name, p in model.named_parameters():
            p.copy_(torch.tensor(rng.uniform(-0.3, 0.3, tuple(p.shape)).astype(np.float32)))


def tensors(torch):
    data = [[1, 2],[3, 4]]
    x_data = torch.tensor(data)
    print(x_data)
    np_array = np.array(data)
    x_np = torch.from_numpy(np_array)
    print(x_np)
    x_ones = torch.ones_like(x_data)
    print(f"Ones Tensor: \n {x_ones} \n")
    torch.manual_seed(0)
    x_rand = torch.rand_like(x_data, dtype=torch.float)
    print(x_rand.shape, x_rand.dtype)
    shape = (2,3,)
    print(torch.ones(shape)); print(torch.zeros(shape))
    tensor = torch.rand(3,4)
    print(f"Shape of tensor: {tensor.shape}")
    print(f"Datatype of tensor: {tensor.dtype}")
    print(f"Device tensor is stored on: {tensor.device}")
    print(torch.cuda.is_available(), torch.accelerator.is_available())
    tensor = torch.ones(4, 4)
    print(f"First row: {tensor[0]}")
    print(f"First column: {tensor[:, 0]}")
    print(f"Last column: {tensor[..., -1]}")
    tensor[:,1] = 0
    print(tensor)
    t1 = torch.cat([tensor, tensor, tensor], dim=1)
    print(t1)
    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = torch.rand_like(y1)
    torch.matmul(tensor, tensor.T, out=y3)
    print(y3, torch.equal(y1, y2), torch.equal(y1, y3))
    z1 = tensor * tensor
    z2 = tensor.mul(tensor)
    z3 = torch.rand_like(tensor)
    torch.mul(tensor, tensor, out=z3)
    print(z3, torch.equal(z1, z2), torch.equal(z1, z3))
    agg = tensor.sum()
    agg_item = agg.item()
    print(agg_item, type(agg_item))
    print(f"{tensor} \n")
    tensor.add_(5)
    print(tensor)
    t = torch.ones(5)
    print(f"t: {t}")
    n = t.numpy()
    print(f"n: {n}")
    t.add_(1)
    print(f"t: {t}"); print(f"n: {n}")
    n = np.ones(5)
    t = torch.from_numpy(n)
    np.add(n, 1, out=n)
    print(f"t: {t}"); print(f"n: {n}")
    # blitz extras
    x = torch.empty(5, 3); print(x.shape)
    x = torch.zeros(5, 3, dtype=torch.long); print(x)
    x = torch.tensor([5.5, 3]); print(x)
    x = x.new_ones(5, 3, dtype=torch.double); print(x)
    x = torch.randn_like(x, dtype=torch.float); print(x.size())
    y = torch.rand(5, 3)
    print((x+y).shape); print(torch.add(x, y).shape)
    result = torch.empty(5, 3); torch.add(x, y, out=result); print(result.shape)
    y.add_(x)
    print(x[:, 1].shape)
    x = torch.randn(4, 4); y = x.view(16); z = x.view(-1, 8)
    print(x.size(), y.size(), z.size())
    x = torch.randn(1); print(x.item().__class__)
    a = torch.ones(5); b = a.numpy(); a.add_(1); print(a); print(b)
    a = np.ones(5); b = torch.from_numpy(a); np.add(a, 1, out=a); print(a); print(b)
    print(torch.is_tensor(a), torch.is_tensor(b), torch.numel(b))
    t = torch.arange(6).reshape(2,3); print(t.T, t.t(), t.size(1))
    print(torch.tensor([[1.,2.],[3.,4.]]).copy_(torch.ones(2,2)))
    print(tensor.sum(), tensor.mean(), tensor.max(), tensor.std())
    print(torch.stack([torch.ones(2), torch.zeros(2)]))
    t = torch.ones(4,4); t.t_(); t.mul_(3); t.zero_(); print(t)
    print(torch.ones(2,3).to("cpu").device, torch.ones(2, device='cpu'))


def data(torch):
    Dataset, DataLoader = torch.utils.data.Dataset, torch.utils.data.DataLoader
    TensorDataset = torch.utils.data.TensorDataset
    class CustomImageDataset(Dataset):
        def __init__(self, n, transform=None, target_transform=None):
            rng = np.random.default_rng(1)
            self.imgs = rng.random((n, 1, 28, 28), dtype=np.float32)
            self.labels = rng.integers(0, 10, n)
            self.transform = transform; self.target_transform = target_transform
        def __len__(self): return len(self.labels)
        def __getitem__(self, idx):
            image = torch.tensor(self.imgs[idx]); label = int(self.labels[idx])
            if self.transform: image = self.transform(image)
            if self.target_transform: label = self.target_transform(label)
            return image, label
    ds = CustomImageDataset(100, target_transform=lambda y: torch.zeros(10, dtype=torch.float)
                            .scatter_(0, torch.tensor(y), value=1))
    img, label = ds[0]; print(img.shape, label)
    print(len(ds))
    loader = DataLoader(ds, batch_size=64, shuffle=False)
    train_features, train_labels = next(iter(loader))
    print(f"Feature batch shape: {train_features.size()}")
    print(f"Labels batch shape: {train_labels.size()}")
    img = train_features[0].squeeze(); print(img.shape)
    ds2 = CustomImageDataset(100)
    loader = DataLoader(ds2, batch_size=64, shuffle=True)
    xb, yb = next(iter(loader)); print(xb.shape, yb.shape, yb.dtype, len(loader), len(loader.dataset))
    for b, (X, y) in enumerate(DataLoader(ds2, batch_size=30)): print(b, X.shape, y[:3])
    td = TensorDataset(torch.arange(10.).reshape(5, 2), torch.arange(5))
    print(td[1], len(td))
    print(list(DataLoader(td, batch_size=2, drop_last=True)))
    random_split = torch.utils.data.random_split
    g = torch.Generator().manual_seed(42)
    a, b = random_split(td, [3, 2], generator=g); print(len(a), len(b))


def model(torch):
    nn = torch.nn
    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
    print(f"Using {device} device")
    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(28*28, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
        def forward(self, x):
            x = self.flatten(x)
            logits = self.linear_relu_stack(x)
            return logits
    model = NeuralNetwork().to(device)
    print(model)
    init_weights(torch, model)
    X = torch.tensor(np.random.default_rng(2).random((1, 28, 28), dtype=np.float32), device=device)
    logits = model(X)
    pred_probab = nn.Softmax(dim=1)(logits)
    y_pred = pred_probab.argmax(1)
    print(f"Predicted class: {y_pred}")
    print(logits); print(pred_probab)
    input_image = torch.tensor(np.random.default_rng(3).random((3, 28, 28), dtype=np.float32))
    print(input_image.size())
    flatten = nn.Flatten()
    flat_image = flatten(input_image)
    print(flat_image.size())
    layer1 = nn.Linear(in_features=28*28, out_features=20)
    init_weights(torch, layer1)
    hidden1 = layer1(flat_image)
    print(hidden1.size())
    print(f"Before ReLU: {hidden1}\n\n")
    hidden1 = nn.ReLU()(hidden1)
    print(f"After ReLU: {hidden1}")
    seq_modules = nn.Sequential(flatten, layer1, nn.ReLU(), nn.Linear(20, 10))
    init_weights(torch, seq_modules)
    logits = seq_modules(input_image)
    softmax = nn.Softmax(dim=1)
    pred_probab = softmax(logits)
    print(pred_probab)
    print(f"Model structure: {model}\n\n")
    for name, param in model.named_parameters():
        print(f"Layer: {name} | Size: {param.size()} | Values : {param[:2]} \n")
    print(seq_modules, seq_modules[1], len(seq_modules))
    print(list(dict(model.named_modules()).keys()))
    print(sum(p.numel() for p in model.parameters()))


def autograd(torch):
    x = torch.ones(5)  # input tensor
    y = torch.zeros(3)  # expected output
    w = torch.tensor(np.random.default_rng(4).standard_normal((5, 3)).astype(np.float32), requires_grad=True)
    b = torch.tensor(np.random.default_rng(5).standard_normal(3).astype(np.float32), requires_grad=True)
    z = torch.matmul(x, w)+b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    print(f"Gradient function for z = {z.grad_fn}".split(" object")[0])
    print(f"Gradient function for loss = {loss.grad_fn}".split(" object")[0])
    print(type(z.grad_fn).__name__, type(loss.grad_fn).__name__, loss)
    loss.backward()
    print(w.grad); print(b.grad)
    z = torch.matmul(x, w)+b
    print(z.requires_grad)
    with torch.no_grad():
        z = torch.matmul(x, w)+b
    print(z.requires_grad)
    z = torch.matmul(x, w)+b
    z_det = z.detach()
    print(z_det.requires_grad)
    inp = torch.eye(4, 5, requires_grad=True)
    out = (inp+1).pow(2).t()
    out.backward(torch.ones_like(out), retain_graph=True)
    print(f"First call\n{inp.grad}")
    out.backward(torch.ones_like(out), retain_graph=True)
    print(f"\nSecond call\n{inp.grad}")
    inp.grad.zero_()
    out.backward(torch.ones_like(out), retain_graph=True)
    print(f"\nCall after zeroing gradients\n{inp.grad}")
    # blitz autograd
    a = torch.tensor([2., 3.], requires_grad=True)
    b = torch.tensor([6., 4.], requires_grad=True)
    Q = 3*a**3 - b**2
    external_grad = torch.tensor([1., 1.])
    Q.backward(gradient=external_grad)
    print(9*a**2 == a.grad); print(-2*b == b.grad)
    print(Q, Q.grad_fn.next_functions.__len__())
    x = torch.ones(2, 2, requires_grad=True); print(x)
    y = x + 2; print(y); print(type(y.grad_fn).__name__)
    z = y * y * 3; out = z.mean(); print(z, out)
    a = torch.randn(2, 2); a = ((a * 3) / (a - 1)); print(a.requires_grad)
    a.requires_grad_(True); print(a.requires_grad)
    b = (a * a).sum(); print(type(b.grad_fn).__name__)
    out.backward(); print(x.grad)
    x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = x * 2
    while y.data.norm() < 1000: y = y * 2
    print(y)
    v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
    y.backward(v); print(x.grad)
    print(x.requires_grad); print((x ** 2).requires_grad)
    with torch.no_grad(): print((x ** 2).requires_grad)
    y = x.detach(); print(y.requires_grad); print(x.eq(y).all())
    try:
        z = torch.ones(3, requires_grad=True) * 2; z.backward()
    except Exception as e: print(type(e).__name__, e)
    try:
        z = torch.ones(3, requires_grad=True) * 2; s = z.sum(); s.backward(); s.backward()
    except Exception as e: print(type(e).__name__, str(e)[:80])
    print(torch.ones(2, requires_grad=True).sum().grad_fn.name())
    print(torch.ones(2).requires_grad, torch.ones(2, requires_grad=True).is_leaf,
          (torch.ones(2, requires_grad=True) * 2).is_leaf)
    lin = torch.nn.Linear(3, 2)
    for param in lin.parameters(): param.requires_grad = False
    lin.fc = torch.nn.Linear(2, 1); print([p.requires_grad for p in lin.parameters()])


def make_data(torch, n, seed):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, n)
    return torch.utils.data.TensorDataset(torch.tensor(X), torch.tensor(y))


def optimization(torch):
    nn = torch.nn
    DataLoader = torch.utils.data.DataLoader
    training_data = make_data(torch, 256, 0); test_data = make_data(torch, 128, 1)
    train_dataloader = DataLoader(training_data, batch_size=64)
    test_dataloader = DataLoader(test_data, batch_size=64)
    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(28*28, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
        def forward(self, x):
            return self.linear_relu_stack(self.flatten(x))
    model = NeuralNetwork()
    init_weights(torch, model)
    learning_rate = 1e-3; batch_size = 64; epochs = 3
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    print(optimizer)
    def train_loop(dataloader, model, loss_fn, optimizer):
        size = len(dataloader.dataset)
        model.train()
        for batch, (X, y) in enumerate(dataloader):
            pred = model(X)
            loss = loss_fn(pred, y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            if batch % 2 == 0:
                loss, current = loss.item(), batch * batch_size + len(X)
                print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")
    def test_loop(dataloader, model, loss_fn):
        model.eval()
        size = len(dataloader.dataset)
        num_batches = len(dataloader)
        test_loss, correct = 0, 0
        with torch.no_grad():
            for X, y in dataloader:
                pred = model(X)
                test_loss += loss_fn(pred, y).item()
                correct += (pred.argmax(1) == y).type(torch.float).sum().item()
        test_loss /= num_batches
        correct /= size
        print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
    for t in range(epochs):
        print(f"Epoch {t+1}\n-------------------------------")
        train_loop(train_dataloader, model, loss_fn, optimizer)
        test_loop(test_dataloader, model, loss_fn)
    print("Done!")
    print(optimizer.state_dict()['param_groups'])
    # save and load
    d = tempfile.mkdtemp()
    path = os.path.join(d, 'model_weights.pth')
    torch.save(model.state_dict(), path)
    model2 = NeuralNetwork()
    print(model2.load_state_dict(torch.load(path, weights_only=True)))
    model2.eval()
    print(model2.training, model2.linear_relu_stack[0].training)
    X = training_data[0][0].unsqueeze(0)
    print(torch.equal(model(X), model2(X)))
    print(list(model2.state_dict().keys()))
    torch.save(optimizer.state_dict(), os.path.join(d, 'opt.pt'))
    opt2 = torch.optim.SGD(model2.parameters(), lr=0.5)
    opt2.load_state_dict(torch.load(os.path.join(d, 'opt.pt'), weights_only=True)); print(opt2)
    torch.save({'epoch': 3, 'model_state_dict': model.state_dict(),
                'optimizer_state_dict': optimizer.state_dict(), 'loss': 0.5}, os.path.join(d, 'ckpt.tar'))
    ck = torch.load(os.path.join(d, 'ckpt.tar'), weights_only=True); print(ck['epoch'], ck['loss'], sorted(ck))
    try: print(model2.load_state_dict({'foo': torch.ones(1)}))
    except Exception as e: print(type(e).__name__, e)
    print(model2.load_state_dict({}, strict=False))


def blitz_nn(torch):
    nn = torch.nn; F = torch.nn.functional; optim = torch.optim
    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)
        def forward(self, input):
            c1 = F.relu(self.conv1(input))
            s2 = F.max_pool2d(c1, (2, 2))
            c3 = F.relu(self.conv2(s2))
            s4 = F.max_pool2d(c3, 2)
            s4 = torch.flatten(s4, 1)
            f5 = F.relu(self.fc1(s4))
            f6 = F.relu(self.fc2(f5))
            output = self.fc3(f6)
            return output
    net = Net()
    print(net)
    init_weights(torch, net)
    params = list(net.parameters())
    print(len(params)); print(params[0].size())
    input = torch.tensor(np.random.default_rng(7).standard_normal((1, 1, 32, 32)).astype(np.float32))
    out = net(input); print(out)
    net.zero_grad()
    out.backward(torch.tensor(np.random.default_rng(8).standard_normal((1, 10)).astype(np.float32)))
    print(net.conv1.bias.grad)
    output = net(input)
    target = torch.tensor(np.random.default_rng(9).standard_normal(10).astype(np.float32))
    target = target.view(1, -1)
    criterion = nn.MSELoss()
    loss = criterion(output, target); print(loss)
    print(type(loss.grad_fn).__name__)  # MSELoss
    print(type(loss.grad_fn.next_functions[0][0]).__name__)
    print(type(loss.grad_fn.next_functions[0][0].next_functions[0][0]).__name__)
    net.zero_grad()
    print('conv1.bias.grad before backward'); print(net.conv1.bias.grad)
    loss.backward()
    print('conv1.bias.grad after backward'); print(net.conv1.bias.grad)
    learning_rate = 0.01
    for f in net.parameters():
        f.data.sub_(f.grad.data * learning_rate)
    optimizer = optim.SGD(net.parameters(), lr=0.01)
    optimizer.zero_grad()
    output = net(input)
    loss = criterion(output, target)
    loss.backward()
    optimizer.step()
    print(f"{loss.item():.1f}", net(input).shape)
    # older blitz version with num_flat_features and view
    class Net2(Net):
        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.view(-1, self.num_flat_features(x))
            x = F.relu(self.fc1(x)); x = F.relu(self.fc2(x)); return self.fc3(x)
        def num_flat_features(self, x):
            size = x.size()[1:]
            num_features = 1
            for s in size: num_features *= s
            return num_features
    n2 = Net2(); n2.load_state_dict(net.state_dict()); print(torch.allclose(n2(input), net(input)))
    try: net(torch.ones(1, 1, 28, 28))
    except Exception as e: print(type(e).__name__, e)
    try: net(torch.ones(1, 32, 32))
    except Exception as e: print(type(e).__name__, e)


def cifar(torch):
    nn = torch.nn; F = torch.nn.functional; optim = torch.optim
    rng = np.random.default_rng(11)
    X = torch.tensor(rng.standard_normal((64, 3, 32, 32)).astype(np.float32))
    Y = torch.tensor(rng.integers(0, 10, 64))
    trainset = torch.utils.data.TensorDataset(X, Y)
    trainloader = torch.utils.data.DataLoader(trainset, batch_size=4, shuffle=False, num_workers=0)
    classes = ('plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck')
    dataiter = iter(trainloader)
    images, labels = next(dataiter)
    print(' '.join(f'{classes[labels[j]]:5s}' for j in range(4)))
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)
        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = torch.flatten(x, 1)
            x = F.relu(self.fc1(x)); x = F.relu(self.fc2(x)); x = self.fc3(x)
            return x
    net = Net(); init_weights(torch, net, 3)
    with torch.no_grad():
        for p in net.parameters(): p.mul_(0.3)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    for epoch in range(2):
        running_loss = 0.0
        for i, data in enumerate(trainloader, 0):
            inputs, labels = data
            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
            if i % 8 == 7:
                print(f'[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 8:.3f}')
                running_loss = 0.0
    print('Finished Training')
    outputs = net(images)
    _, predicted = torch.max(outputs, 1)
    print('Predicted: ', ' '.join(f'{classes[predicted[j]]:5s}' for j in range(4)))
    correct = 0; total = 0
    with torch.no_grad():
        for data in trainloader:
            images, labels = data
            outputs = net(images)
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    print(f'Accuracy: {100 * correct // total} %')
    correct_pred = {classname: 0 for classname in classes}
    total_pred = {classname: 0 for classname in classes}
    with torch.no_grad():
        for data in trainloader:
            images, labels = data
            outputs = net(images)
            _, predictions = torch.max(outputs, 1)
            for label, prediction in zip(labels, predictions):
                if label == prediction:
                    correct_pred[classes[label]] += 1
                total_pred[classes[label]] += 1
    print(correct_pred, total_pred)
    device = torch.device('cuda:0' if torch.cuda.is_available() else 'cpu'); print(device)
    net.to(device); inputs, labels = data[0].to(device), data[1].to(device)


def misc(torch):
    """Smaller snippets met across both tutorials (reprs, conversions, error messages)."""
    nn = torch.nn
    # (random streams are not PyTorch's: ndgrad draws with NumPy, see ndgrad/_random.py)
    print(nn.Softmax(dim=1), nn.ReLU(), nn.Flatten(), nn.MaxPool2d(2, 2), nn.CrossEntropyLoss(), nn.MSELoss())
    l = nn.Linear(2, 3)
    print(list(l.state_dict().keys()), l.weight.shape, l.weight.requires_grad, type(l.weight).__name__)
    print(repr(l.weight)[:20])
    x = torch.tensor([[1., 2.], [3., 4.]])
    print(x.new_tensor([1, 2]), x.new_zeros(2), x.new_full((2,), 3.))
    print(torch.zeros(2, 3).fill_(2), x.clone(), x.T.contiguous().is_contiguous())
    print(x.numpy().dtype, x.tolist(), x.dtype == torch.float32, x.type(torch.int32))
    print(torch.argmax(x), x.argmax(1), x.max(1), torch.max(x, 1).values)
    print(x.unsqueeze(0).shape, x.squeeze().shape, x[None].shape, x.flatten(), x.reshape(-1))
    y = x.to(torch.float64); print(y.dtype, y.double().dtype, y.float().dtype, y.long(), y.int())
    print(torch.from_numpy(np.arange(3)).dtype, torch.tensor(np.arange(3.)).dtype)
    print(torch.ones(3, 3).diag(), torch.ones(3).sum(dim=0, keepdim=True))
    p = nn.Parameter(torch.ones(2)); print(p)
    print(torch.nn.functional.softmax(torch.tensor([1., 2., 3.]), dim=0))
    a = torch.ones(2, 2, requires_grad=True); b = a * 2; print(b.grad_fn.next_functions[0][0].__class__.__name__)
    with torch.set_grad_enabled(False): print((a * 2).requires_grad)
    print(torch.is_grad_enabled())
    with torch.inference_mode(): print((a * 2).requires_grad)
    try: a.numpy()
    except Exception as e: print(type(e).__name__, e)
    try: torch.ones(2, 3) @ torch.ones(2, 3)
    except Exception as e: print(type(e).__name__, e)
    try: torch.ones(2) + torch.ones(3)
    except Exception as e: print(type(e).__name__, e)
    try: torch.ones(4).view(3, -1)
    except Exception as e: print(type(e).__name__, e)
    try: a.add_(1)
    except Exception as e: print(type(e).__name__, e)
    print(a.detach().numpy(), a.grad)
    t = torch.ones(4, 4)
    print(t[1:3, ::2], t[t > 0].shape, torch.where(t > 0, t, 0.), t.mean(0))
    print(torch.rand(2, 2).dtype, torch.randint(0, 10, (3,)).dtype, torch.randn(2, 2, dtype=torch.float64).dtype)
    print(f"{torch.tensor(3.14159):.2f}")
    print(torch.tensor([1, 2]).float().mean())
    print(torch.ones(2, 3).size(), torch.ones(2,3).size(-1), torch.ones(2,3).ndim, torch.ones(2,3).dim())
    print(torch.tensor(1.5).item(), torch.tensor([True, False]), torch.tensor([1, 2], dtype=torch.uint8))
    opt = torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1, momentum=0.9)
    print(opt.param_groups[0]['lr'], len(opt.param_groups[0]['params']))
    print(torch.optim.Adam(nn.Linear(2, 2).parameters(), lr=1e-3))
    m = nn.Sequential(nn.Linear(2, 2), nn.ReLU()); print(m.state_dict().keys(), m[0].weight.dtype)
    print(torch.cat([torch.ones(1, 2), torch.zeros(1, 2)]).shape,
          torch.tensor([[1, 2], [3, 4]]) * torch.tensor([[1, 2], [3, 4]]))

TUTORIALS = {"tensors": tensors, "data": data, "model": model, "autograd": autograd,
             "optimization": optimization, "blitz_nn": blitz_nn, "cifar": cifar, "misc": misc}
_NUM = re.compile(r"-?\d+\.\d*(?:e[+-]\d+)?|-?\d+(?:e[+-]\d+)?")


def capture(fn, lib) -> str:
    """What tutorial `fn` prints under `lib`, with the module name normalised to `torch.`."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        fn(lib)
    return buf.getvalue().replace("ndgrad.", "torch.")


def assert_prints_match(ref: str, got: str, rtol: float = 2e-4, atol: float = 2e-4) -> None:
    """Same text apart from numbers, and the numbers equal to float32 rounding of their last digit."""
    assert _NUM.sub("#", ref) == _NUM.sub("#", got), (ref, got)
    a = np.array([float(x) for x in _NUM.findall(ref)])
    b = np.array([float(x) for x in _NUM.findall(got)])
    np.testing.assert_allclose(b, a, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", list(TUTORIALS))
def test_tutorial_prints_like_torch(name: str, torch_ref) -> None:
    def under_torch(torch):
        with torch.random.fork_rng():
            return capture(TUTORIALS[name], torch)
    ref = torch_ref("printed", under_torch)
    got = capture(TUTORIALS[name], ndgrad)
    if name in ("tensors", "data", "autograd", "cifar", "misc"):
        assert got == ref  # no float arithmetic that could round differently: the same text
    else:
        assert_prints_match(ref, got)


def _floats(text: str) -> list:
    return [float(x) for x in _NUM.findall(text)]


def test_tensors_recorded() -> None:
    out = capture(tensors, ndgrad)
    for line in ("torch.Size([2, 2]) torch.float32", "Shape of tensor: torch.Size([3, 4])",
                 "Datatype of tensor: torch.float32", "Device tensor is stored on: cpu", "False False",
                 "First row: tensor([1., 1., 1., 1.])", "12.0 <class 'float'>", "t: tensor([2., 2., 2., 2., 2.])",
                 "n: [2. 2. 2. 2. 2.]", "t: tensor([2., 2., 2., 2., 2.], dtype=torch.float64)",
                 "tensor([5.5000, 3.0000])", "torch.Size([4, 4]) torch.Size([16]) torch.Size([2, 8])",
                 "False True 5", "tensor(92.) tensor(5.7500) tensor(6.) tensor(0.4472)", "cpu tensor([1., 1.])"):
        assert line in out.splitlines(), line
    assert "tensor([[3., 3., 3., 3.],\n        [3., 3., 3., 3.]," in out  # matmul(..., out=y3)
    assert "tensor([[6., 5., 6., 6.]," in out


def test_data_recorded() -> None:
    out = capture(data, ndgrad).splitlines()
    assert out[0] == "torch.Size([1, 28, 28]) tensor([1., 0., 0., 0., 0., 0., 0., 0., 0., 0.])"
    assert out[2:8] == ["Feature batch shape: torch.Size([64, 1, 28, 28])", "Labels batch shape: torch.Size([64, 10])",
                        "torch.Size([28, 28])", "torch.Size([64, 1, 28, 28]) torch.Size([64]) torch.int64 2 100",
                        "0 torch.Size([30, 1, 28, 28]) tensor([0, 1, 0])",
                        "1 torch.Size([30, 1, 28, 28]) tensor([6, 7, 8])"]
    assert out[-1] == "3 2"


def test_model_recorded() -> None:
    out = capture(model, ndgrad)
    assert "Using cpu device" in out and "Predicted class: tensor([9])" in out
    i = out.index("Predicted class")
    np.testing.assert_allclose(_floats(out[i:])[1:11], [16.7795, -8.8162, -28.1829, 7.7963, -3.9400, -16.2702,
                                                        5.9033, -7.6876, 9.3056, 20.6775], atol=2e-4)
    assert "20.6775]], grad_fn=<AddmmBackward0>)" in out
    assert "(4): Linear(in_features=512, out_features=10, bias=True)" in out
    assert ("Layer: linear_relu_stack.0.bias | Size: torch.Size([512]) | Values : tensor([ 0.2662, -0.1112], "
            "grad_fn=<SliceBackward0>)") in out
    assert out.rstrip().endswith("669706")


def test_autograd_recorded() -> None:
    out = capture(autograd, ndgrad).splitlines()
    assert out[0] == "Gradient function for z = <AddBackward0"
    assert out[1] == "Gradient function for loss = <BinaryCrossEntropyWithLogitsBackward0"
    assert out[2].endswith("tensor(0.3635, grad_fn=<BinaryCrossEntropyWithLogitsBackward0>)")
    assert out[3] == "tensor([[0.0991, 0.0319, 0.1571],"
    assert out[8:12] == ["tensor([0.0991, 0.0319, 0.1571])", "True", "False", "False"]
    assert "tensor([5.1200e+01, 5.1200e+02, 5.1200e-02])" in out
    assert "RuntimeError grad can be implicitly created only for scalar outputs" in out
    assert out[-1] == "[False, False, True, True]"


def test_optimization_recorded() -> None:
    out = capture(optimization, ndgrad)
    losses = [float(x) for x in re.findall(r"^loss: ([\d.]+)", out, re.M)]
    np.testing.assert_allclose(losses, [4.270081, 3.732058, 3.825771, 3.377669, 3.526281, 3.144942], atol=3e-6)
    avg = [float(x) for x in re.findall(r"Avg loss: ([\d.]+)", out)]
    np.testing.assert_allclose(avg, [3.731299, 3.460670, 3.283679], atol=3e-6)
    assert re.findall(r"Accuracy: ([\d.]+)%", out) == ["10.2", "8.6", "7.0"]
    assert "<All keys matched successfully>" in out and "3 0.5 ['epoch', 'loss', 'model_state_dict', " \
        "'optimizer_state_dict']" in out
    assert 'Unexpected key(s) in state_dict: "foo".' in out


def test_blitz_nn_recorded() -> None:
    out = capture(blitz_nn, ndgrad)
    lines = out.splitlines()
    assert lines[8] == "torch.Size([6, 1, 5, 5])"
    np.testing.assert_allclose(_floats("\n".join(lines[9:11]))[:4], [3.6745, 0.7213, 0.7645, 5.0136], atol=2e-4)
    assert "MseLossBackward0\nAddmmBackward0\nAccumulateGrad\n" in out
    i = out.index("after backward")
    np.testing.assert_allclose(_floats(out[i:])[:6], [-12.6096, 35.8444, -2.3166, -19.9366, 53.5681, 34.1630],
                               atol=3e-4)
    assert "RuntimeError mat1 and mat2 shapes cannot be multiplied (1x256 and 400x120)" in out


def test_cifar_recorded() -> None:
    out = capture(cifar, ndgrad)
    assert out.splitlines()[0] == "truck truck car   horse"
    assert re.findall(r"loss: ([\d.]+)", out) == ["2.319", "2.302", "2.315", "2.296"]
    assert "Predicted:  frog  frog  bird  frog " in out and "Accuracy: 4 %" in out



def test_misc_recorded() -> None:
    out = capture(misc, ndgrad).splitlines()
    for line in ("tensor([0.0900, 0.2447, 0.6652])", "tensor([1., 1.], requires_grad=True)",
                 "RuntimeError Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.",
                 "RuntimeError mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)",
                 "RuntimeError The size of tensor a (2) must match the size of tensor b (3) at non-singleton "
                 "dimension 0",
                 "RuntimeError shape '[3, -1]' is invalid for input of size 4",
                 "RuntimeError a leaf Variable that requires grad is being used in an in-place operation.",
                 "torch.float32 torch.int64 torch.float64", "3.14", "tensor(1.5000)"):
        assert line in out, line

# --- regressions: what the tutorials needed --------------------------------------------------
def test_matmul_out() -> None:
    a = ndgrad.ones(4, 4)
    y = ndgrad.zeros(4, 4)
    assert ndgrad.matmul(a, a.T, out=y) is y
    assert y.tolist() == [[4.0] * 4] * 4
    z = ndgrad.zeros(1)
    with pytest.warns(UserWarning, match="was resized"):  # resized, as PyTorch resizes `out` (and warns)
        ndgrad.matmul(ndgrad.ones(2, 3), ndgrad.ones(3, 5), out=z)
    assert z.shape == (2, 5)


def test_accelerator_cpu_only() -> None:
    assert ndgrad.accelerator.is_available() is False
    assert ndgrad.accelerator.current_accelerator() is None
    assert ndgrad.accelerator.device_count() == 0


def test_scatter_gather_zero_dim_index() -> None:
    # one-hot target_transform of the datasets tutorial: zeros(10).scatter_(0, tensor(y), value=1)
    assert ndgrad.zeros(5).scatter_(0, ndgrad.tensor(3), value=1).tolist() == [0, 0, 0, 1, 0]
    assert ndgrad.zeros(5).scatter(0, ndgrad.tensor(1), ndgrad.tensor(2.0)).tolist() == [0, 2, 0, 0, 0]
    x = ndgrad.arange(5.0, requires_grad=True)
    g = x.gather(0, ndgrad.tensor(2))
    assert g.shape == () and g.item() == 2.0
    g.backward()
    assert x.grad.tolist() == [0, 0, 1, 0, 0]


def test_linear_records_addmm() -> None:
    from ndgrad.autograd import gradcheck, gradgradcheck
    lin = ndgrad.nn.Linear(3, 2).double()
    x = ndgrad.randn(4, 3, dtype=ndgrad.float64, requires_grad=True)
    y = lin(x)
    assert type(y.grad_fn).__name__ == "AddmmBackward0"
    nf = [type(f).__name__ for f, _ in y.grad_fn.next_functions]
    assert nf == ["AccumulateGrad", "AccumulateGrad", "TBackward0"]  # PyTorch's order: (bias, input, weight.t())
    assert y.grad_fn.next_functions[0][0].variable is lin.bias
    F = ndgrad.nn.functional
    w, b = lin.weight.detach().requires_grad_(), lin.bias.detach().requires_grad_()
    assert gradcheck(F.linear, (x, w, b)) and gradgradcheck(F.linear, (x, w, b))
    assert gradcheck(lambda m, a, c: ndgrad.addmm(c, m, a), (x, w.detach().t().requires_grad_(), b))
    p = ndgrad.addmm(ndgrad.ones(2), ndgrad.ones(4, 3), ndgrad.ones(3, 2))
    assert p.tolist() == [[4.0, 4.0]] * 4
    with pytest.raises(RuntimeError):
        ndgrad.addmm(ndgrad.ones(3), ndgrad.ones(4, 3), ndgrad.ones(3, 2))


def test_mse_loss_single_node() -> None:
    from ndgrad.autograd import gradcheck, gradgradcheck
    F = ndgrad.nn.functional
    a = ndgrad.randn(3, 4, dtype=ndgrad.float64, requires_grad=True)
    b = ndgrad.randn(3, 4, dtype=ndgrad.float64, requires_grad=True)
    for red in ("mean", "sum", "none"):
        loss = F.mse_loss(a, b, reduction=red)
        assert type(loss.grad_fn).__name__ == "MseLossBackward0"
        assert gradcheck(lambda x, y, r=red: F.mse_loss(x, y, reduction=r), (a, b))
        assert gradgradcheck(lambda x, y, r=red: F.mse_loss(x, y, reduction=r), (a, b))
    x = ndgrad.tensor([1.0, 2.0, 4.0], requires_grad=True)
    F.mse_loss(x, ndgrad.zeros(3)).backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 / 3, 4 / 3, 8 / 3], rtol=1e-6)
