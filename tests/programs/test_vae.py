"""A variational auto-encoder in the manner of pytorch/examples vae: fully connected encoder to (mu, logvar),
the reparameterisation trick z = mu + eps * exp(0.5 * logvar), a sigmoid decoder, the loss
binary_cross_entropy(reduction='sum') + KL divergence, Adam(lr=1e-3), a test pass under no_grad that
builds the reconstruction comparison grid, and samples decoded from random latents. From identical weights
and identical eps, every training loss, the epoch averages, the test losses and the reconstructions equal
PyTorch's (live, or recorded in tests/references/ when torch is not installed).

The example trains on MNIST with eps = torch.randn_like(std); the libraries' random streams differ, so
here the model draws eps through a `noise` hook that the test points at NumPy (its default is randn_like,
used for the samples, checked by shape, range and seeded repeatability). Images are 8x8 synthetic strokes."""
import numpy as np

import ndgrad

PIX, HIDDEN, LATENT, BATCH = 64, 32, 4, 8


def make_images(n, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:8, 0:8]
    a, b, c = rng.uniform(-1, 1, (3, n, 1, 1))
    strokes = 1 / (1 + np.exp(-4 * (a * (x - 3.5) + b * (y - 3.5) + c)))  # soft half-planes in [0, 1]
    return strokes[:, None].astype("float32"), rng.integers(0, 10, n)


def make_vae(torch):
    nn, F = torch.nn, torch.nn.functional

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(PIX, HIDDEN)
            self.fc21 = nn.Linear(HIDDEN, LATENT)
            self.fc22 = nn.Linear(HIDDEN, LATENT)
            self.fc3 = nn.Linear(LATENT, HIDDEN)
            self.fc4 = nn.Linear(HIDDEN, PIX)
            self.noise = torch.randn_like

        def encode(self, x):
            h1 = F.relu(self.fc1(x))
            return self.fc21(h1), self.fc22(h1)

        def reparameterize(self, mu, logvar):
            std = torch.exp(0.5 * logvar)
            eps = self.noise(std)
            return mu + eps * std

        def decode(self, z):
            h3 = F.relu(self.fc3(z))
            return torch.sigmoid(self.fc4(h3))

        def forward(self, x):
            mu, logvar = self.encode(x.view(-1, PIX))
            z = self.reparameterize(mu, logvar)
            return self.decode(z), mu, logvar

    return VAE()


def loss_function(torch, recon_x, x, mu, logvar):
    BCE = torch.nn.functional.binary_cross_entropy(recon_x, x.view(-1, PIX), reduction="sum")
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def numpy_noise(torch, seed):
    rng = np.random.default_rng(seed)
    return lambda std: torch.from_numpy(rng.standard_normal(tuple(std.shape)).astype("float32"))


def initial_weights(model):
    rng = np.random.default_rng(0)
    return {name: (rng.uniform(-1, 1, tuple(p.shape)) / np.sqrt(p.shape[-1])).astype("float32")
            for name, p in model.named_parameters()}


def main(torch, epochs=4):
    data = torch.utils.data
    images, labels = make_images(4 * BATCH, 1)
    test_images, test_labels = make_images(2 * BATCH, 2)
    train_loader = data.DataLoader(data.TensorDataset(torch.from_numpy(images), torch.from_numpy(labels)),
                                   batch_size=BATCH, shuffle=False)
    test_loader = data.DataLoader(data.TensorDataset(torch.from_numpy(test_images), torch.from_numpy(test_labels)),
                                  batch_size=BATCH, shuffle=False)
    model = make_vae(torch)
    model.load_state_dict({k: torch.tensor(v) for k, v in initial_weights(model).items()})
    model.noise = numpy_noise(torch, 3)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-2)  # the example uses 1e-3; larger so a few steps learn
    losses, averages, test_losses = [], [], []
    for _ in range(epochs):
        model.train()
        train_loss = 0
        for data_, _ in train_loader:
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data_)
            loss = loss_function(torch, recon_batch, data_, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
            losses.append(loss.item() / len(data_))
        averages.append(train_loss / len(train_loader.dataset))

        model.eval()
        test_loss = 0
        with torch.no_grad():
            for i, (data_, _) in enumerate(test_loader):
                recon_batch, mu, logvar = model(data_)
                test_loss += loss_function(torch, recon_batch, data_, mu, logvar).item()
                if i == 0:
                    n = min(data_.size(0), 4)
                    comparison = torch.cat([data_[:n], recon_batch.view(BATCH, 1, 8, 8)[:n]])
        test_losses.append(test_loss / len(test_loader.dataset))

    return {"losses": losses, "averages": averages, "test": test_losses, "comparison": comparison}


def sample(torch, model):
    """The example's samples from the prior, eps drawn with the library's own randn_like."""
    with torch.no_grad():
        sample = model.decode(torch.randn(16, LATENT)).view(16, 1, 8, 8)
        z = model.reparameterize(torch.zeros(3, LATENT), torch.zeros(3, LATENT))
    return sample, z


def test_vae_matches_torch(torch_ref):
    want = torch_ref("run", main)
    got = main(ndgrad)
    np.testing.assert_allclose(got["losses"], want["losses"], rtol=1e-5)
    np.testing.assert_allclose(got["averages"], want["averages"], rtol=1e-5)
    np.testing.assert_allclose(got["test"], want["test"], rtol=1e-5)
    np.testing.assert_allclose(got["comparison"].numpy(), want["comparison"], rtol=1e-5, atol=1e-7)
    assert want["test"][-1] < want["test"][0] and want["losses"][-1] < want["losses"][0]  # it learns


def test_vae_samples_from_the_prior():
    model = make_vae(ndgrad)
    ndgrad.manual_seed(7)
    images, z = sample(ndgrad, model)
    assert tuple(images.shape) == (16, 1, 8, 8) and tuple(z.shape) == (3, LATENT)
    assert 0 < float(images.min()) <= float(images.max()) < 1  # sigmoid outputs
    assert 0.3 < float(z.std()) < 2  # mu + randn * exp(0)
    ndgrad.manual_seed(7)
    again, z_again = sample(ndgrad, model)
    assert ndgrad.equal(images, again) and ndgrad.equal(z, z_again)


def test_reparameterisation_gradients():
    """d z / d mu = 1 and d z / d logvar = 0.5 * eps * exp(0.5 * logvar), with eps held fixed."""
    model = make_vae(ndgrad)
    eps = np.random.default_rng(5).standard_normal((2, LATENT))
    model.noise = lambda std: ndgrad.tensor(eps, dtype=std.dtype)
    mu = ndgrad.zeros(2, LATENT, dtype=ndgrad.float64, requires_grad=True)
    logvar = ndgrad.full((2, LATENT), 0.3, dtype=ndgrad.float64, requires_grad=True)
    model.reparameterize(mu, logvar).sum().backward()
    np.testing.assert_allclose(mu.grad.numpy(), np.ones((2, LATENT)))
    np.testing.assert_allclose(logvar.grad.numpy(), 0.5 * eps * np.exp(0.15), rtol=1e-12)
    assert ndgrad.autograd.gradcheck(lambda m, lv: model.reparameterize(m, lv), (mu, logvar))
