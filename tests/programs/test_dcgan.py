"""A DCGAN in the manner of pytorch/examples dcgan: a generator of ConvTranspose2d + BatchNorm2d + ReLU(True)
ending in Tanh, a discriminator of strided Conv2d + BatchNorm2d + LeakyReLU(0.2, inplace=True) ending in
Sigmoid, weights_init applied with Module.apply, BCELoss, two Adam optimizers (lr=2e-4, beta1=0.5), the
discriminator trained on real and on detached fake batches, the generator through the discriminator with
flipped labels, and state_dict checkpoints saved with torch.save and loaded back. From identical weights
and noise, every Loss_D, Loss_G, D(x), D(G(z)) the example prints, the BatchNorm running statistics and
the images made from the fixed noise equal PyTorch's (live, or recorded in tests/references/ when torch is
not installed).

The example trains 64x64 images from LSUN/CIFAR/ImageNet; here 16x16 synthetic blobs, three layers each
side, and NumPy-drawn noise (the libraries' randn streams differ)."""
import io

import numpy as np

import ndgrad

NZ, NGF, NDF, NC, BATCH, STEPS = 8, 8, 8, 1, 8, 4


def make_images(n, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:16, 0:16]
    cy, cx, r = rng.uniform(4, 12, n), rng.uniform(4, 12, n), rng.uniform(2, 5, n)
    blobs = np.exp(-((y - cy[:, None, None]) ** 2 + (x - cx[:, None, None]) ** 2) / (2 * r[:, None, None] ** 2))
    return (2 * blobs - 1)[:, None].astype("float32")  # in Tanh's range, like normalised images


def make_nets(torch):
    nn = torch.nn

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.Sequential(
                nn.ConvTranspose2d(NZ, NGF * 4, 4, 1, 0, bias=False),       # 4 x 4
                nn.BatchNorm2d(NGF * 4),
                nn.ReLU(True),
                nn.ConvTranspose2d(NGF * 4, NGF * 2, 4, 2, 1, bias=False),  # 8 x 8
                nn.BatchNorm2d(NGF * 2),
                nn.ReLU(True),
                nn.ConvTranspose2d(NGF * 2, NC, 4, 2, 1, bias=False),       # 16 x 16
                nn.Tanh(),
            )

        def forward(self, input):
            return self.main(input)

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.Sequential(
                nn.Conv2d(NC, NDF, 4, 2, 1, bias=False),                    # 8 x 8
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False),               # 4 x 4
                nn.BatchNorm2d(NDF * 2),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(NDF * 2, 1, 4, 1, 0, bias=False),                 # 1 x 1
                nn.Sigmoid(),
            )

        def forward(self, input):
            return self.main(input).view(-1, 1).squeeze(1)

    return Generator, Discriminator


def weights_init(torch):
    def init(m):
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            torch.nn.init.normal_(m.weight, 0.0, 0.02)
        elif classname.find("BatchNorm") != -1:
            torch.nn.init.normal_(m.weight, 1.0, 0.02)
            torch.nn.init.zeros_(m.bias)
    return init


def numpy_weights(net, seed):
    """weights_init's distributions, drawn with NumPy so both libraries start from the same values."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, p in net.named_parameters():
        mean = 1.0 if p.dim() == 1 and name.endswith("weight") else 0.0
        scale = 0.0 if name.endswith("bias") else 0.02
        out[name] = rng.normal(mean, scale, tuple(p.shape)).astype("float32")
    return out


def main(torch, steps=STEPS):
    nn, optim = torch.nn, torch.optim
    Generator, Discriminator = make_nets(torch)
    netG, netD = Generator(), Discriminator()
    netG.apply(weights_init(torch))
    netD.apply(weights_init(torch))
    netG.load_state_dict({k: torch.tensor(v) for k, v in numpy_weights(netG, 0).items()}, strict=False)
    netD.load_state_dict({k: torch.tensor(v) for k, v in numpy_weights(netD, 1).items()}, strict=False)

    dataset = torch.utils.data.TensorDataset(torch.from_numpy(make_images(steps * BATCH, 2)))
    dataloader = torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=False)
    rng = np.random.default_rng(3)
    noises = rng.standard_normal((steps, BATCH, NZ, 1, 1)).astype("float32")
    fixed_noise = torch.from_numpy(rng.standard_normal((4, NZ, 1, 1)).astype("float32"))

    criterion = nn.BCELoss()
    real_label, fake_label = 1, 0
    optimizerD = optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))

    log = []
    for i, data in enumerate(dataloader, 0):
        # (1) update D: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        real_cpu = data[0]
        batch_size = real_cpu.size(0)
        label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype)
        output = netD(real_cpu)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()

        noise = torch.from_numpy(noises[i])
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()

        # (2) update G: maximize log(D(G(z)))
        netG.zero_grad()
        label.fill_(real_label)  # fake labels are real for the generator's cost
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()
        log.append([errD.item(), errG.item(), D_x, D_G_z1, D_G_z2])

    # checkpoint and reload the generator, then sample from the fixed noise in eval mode
    buffer = io.BytesIO()
    torch.save(netG.state_dict(), buffer)
    buffer.seek(0)
    reloaded = Generator()
    reloaded.load_state_dict(torch.load(buffer))
    reloaded.eval()
    with torch.no_grad():
        samples = reloaded(fixed_noise)
    bn = netG.main[1]
    return {"log": log, "running_mean": bn.running_mean, "running_var": bn.running_var,
            "batches": int(bn.num_batches_tracked), "samples": samples}


def test_dcgan_matches_torch(torch_ref):
    want = torch_ref("run", main)
    got = main(ndgrad)
    np.testing.assert_allclose(got["log"], want["log"], rtol=1e-5)
    np.testing.assert_allclose(got["running_mean"].numpy(), want["running_mean"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got["running_var"].numpy(), want["running_var"], rtol=1e-5)
    assert got["batches"] == want["batches"] == STEPS
    np.testing.assert_allclose(got["samples"].numpy(), want["samples"], rtol=1e-5, atol=1e-8)
    assert tuple(got["samples"].shape) == (4, NC, 16, 16)
    log = np.array(want["log"])
    assert log[-1, 0] < log[0, 0]  # the discriminator's loss falls in the first steps
