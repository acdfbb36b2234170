"""Super-resolution with sub-pixel convolution, in the manner of pytorch/examples super_resolution: four
convolutions (5x5, then 3x3) with ReLU, nn.PixelShuffle(upscale_factor), orthogonal init with the ReLU
gain, MSELoss and Adam(lr=0.01), PSNR on a held-out batch. From identical weights, every training loss
and the PSNR equal PyTorch's (live, or recorded in tests/references/ when torch is not installed).

The example crops and resizes BSDS300 photos with PIL; here the high-resolution images are smooth
synthetic patterns and the low-resolution inputs are made in each library with F.interpolate
(bicubic, then area), so the resizing itself is compared too."""
import math

import numpy as np

import ndgrad

UPSCALE = 2


def make_net(torch):
    nn, init = torch.nn, torch.nn.init

    class Net(nn.Module):
        def __init__(self, upscale_factor):
            super().__init__()
            self.relu = nn.ReLU()
            self.conv1 = nn.Conv2d(1, 64, (5, 5), (1, 1), (2, 2))
            self.conv2 = nn.Conv2d(64, 64, (3, 3), (1, 1), (1, 1))
            self.conv3 = nn.Conv2d(64, 32, (3, 3), (1, 1), (1, 1))
            self.conv4 = nn.Conv2d(32, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
            self.pixel_shuffle = nn.PixelShuffle(upscale_factor)
            init.orthogonal_(self.conv1.weight, init.calculate_gain("relu"))
            init.orthogonal_(self.conv2.weight, init.calculate_gain("relu"))
            init.orthogonal_(self.conv3.weight, init.calculate_gain("relu"))
            init.orthogonal_(self.conv4.weight)

        def forward(self, x):
            x = self.relu(self.conv1(x))
            x = self.relu(self.conv2(x))
            x = self.relu(self.conv3(x))
            return self.pixel_shuffle(self.conv4(x))

    return Net(UPSCALE)


def make_images(n, seed, size=16):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    imgs = []
    for _ in range(n):
        a, b, c, d = rng.uniform(1, 4, 4)
        imgs.append(0.5 + 0.25 * np.sin(2 * np.pi * (a * x + b * y)) + 0.2 * np.cos(2 * np.pi * c * x * d * y))
    return np.clip(np.stack(imgs)[:, None], 0, 1).astype("float32")


def low_res(torch, hr):
    F = torch.nn.functional
    smooth = F.interpolate(hr, scale_factor=0.75, mode="bicubic", align_corners=False).clamp(0, 1)
    return F.interpolate(smooth, size=(hr.shape[-2] // UPSCALE, hr.shape[-1] // UPSCALE), mode="area")


def initial_weights(model):
    rng = np.random.default_rng(0)
    out = {}
    for name, p in model.state_dict().items():
        fan_in = int(np.prod(p.shape[1:])) if p.dim() > 1 else 64
        out[name] = (rng.standard_normal(tuple(p.shape)) * math.sqrt(2.0 / fan_in)).astype("float32")
    return out


def main(torch, steps=4):
    model = make_net(torch)
    model.load_state_dict({k: torch.tensor(v) for k, v in initial_weights(model).items()})
    criterion = torch.nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    train_hr = torch.tensor(make_images(4 * steps, 1))
    test_hr = torch.tensor(make_images(4, 2))
    losses = []
    for i in range(steps):
        target = train_hr[4 * i:4 * (i + 1)]
        input = low_res(torch, target)
        optimizer.zero_grad()
        loss = criterion(model(input), target)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        mse = criterion(model(low_res(torch, test_hr)), test_hr)
        psnr = 10 * math.log10(1 / mse.item())
    return {"train": losses, "psnr": psnr, "lr_input": low_res(torch, test_hr)}


def test_super_resolution_matches_torch(torch_ref):
    want = torch_ref("run", main)
    got = main(ndgrad)
    np.testing.assert_allclose(got["lr_input"].numpy(), want["lr_input"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["train"], want["train"], rtol=1e-4)
    np.testing.assert_allclose(got["psnr"], want["psnr"], rtol=1e-5)
    assert want["train"][-1] < want["train"][0]  # it learns
