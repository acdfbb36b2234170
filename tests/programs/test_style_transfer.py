"""Fast neural style transfer in the manner of pytorch/examples fast_neural_style: a TransformerNet of
reflection-padded convolutions (ReflectionPad2d + Conv2d), InstanceNorm2d(affine=True), residual blocks and
nearest-neighbour upsampling (F.interpolate) before convolution; a frozen VGG-like feature network
(requires_grad=False) returning a namedtuple of relu features; normalize_batch (new_tensor, in-place div_)
and Gram matrices (view + bmm); content loss on relu2_2 plus weighted style loss over every feature's Gram
matrix with MSELoss, and Adam. After training, stylize() loads the saved state_dict under no_grad. From
identical weights, every content, style and total loss and the stylized image equal PyTorch's (live, or
recorded in tests/references/ when torch is not installed).

The example uses a pretrained VGG16 and COCO images; here a tiny VGG-shaped network with random frozen
weights and 16x16 synthetic images, channels shrunk to a few per layer."""
import io
from collections import namedtuple

import numpy as np

import ndgrad

CONTENT_WEIGHT, STYLE_WEIGHT, BATCH = 1e5, 1e10, 2


def make_transformer_net(torch):
    nn = torch.nn

    class ConvLayer(nn.Module):
        def __init__(self, in_channels, out_channels, kernel_size, stride):
            super().__init__()
            self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
            self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

        def forward(self, x):
            return self.conv2d(self.reflection_pad(x))

    class ResidualBlock(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.conv1 = ConvLayer(channels, channels, kernel_size=3, stride=1)
            self.in1 = nn.InstanceNorm2d(channels, affine=True)
            self.conv2 = ConvLayer(channels, channels, kernel_size=3, stride=1)
            self.in2 = nn.InstanceNorm2d(channels, affine=True)
            self.relu = nn.ReLU()

        def forward(self, x):
            residual = x
            out = self.relu(self.in1(self.conv1(x)))
            out = self.in2(self.conv2(out))
            return out + residual

    class UpsampleConvLayer(nn.Module):
        def __init__(self, in_channels, out_channels, kernel_size, stride, upsample=None):
            super().__init__()
            self.upsample = upsample
            self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
            self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

        def forward(self, x):
            x_in = x
            if self.upsample:
                x_in = nn.functional.interpolate(x_in, mode="nearest", scale_factor=self.upsample)
            return self.conv2d(self.reflection_pad(x_in))

    class TransformerNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = ConvLayer(3, 4, kernel_size=9, stride=1)
            self.in1 = nn.InstanceNorm2d(4, affine=True)
            self.conv2 = ConvLayer(4, 8, kernel_size=3, stride=2)
            self.in2 = nn.InstanceNorm2d(8, affine=True)
            self.conv3 = ConvLayer(8, 16, kernel_size=3, stride=2)
            self.in3 = nn.InstanceNorm2d(16, affine=True)
            self.res1 = ResidualBlock(16)
            self.res2 = ResidualBlock(16)
            self.deconv1 = UpsampleConvLayer(16, 8, kernel_size=3, stride=1, upsample=2)
            self.in4 = nn.InstanceNorm2d(8, affine=True)
            self.deconv2 = UpsampleConvLayer(8, 4, kernel_size=3, stride=1, upsample=2)
            self.in5 = nn.InstanceNorm2d(4, affine=True)
            self.deconv3 = ConvLayer(4, 3, kernel_size=9, stride=1)
            self.relu = nn.ReLU()

        def forward(self, X):
            y = self.relu(self.in1(self.conv1(X)))
            y = self.relu(self.in2(self.conv2(y)))
            y = self.relu(self.in3(self.conv3(y)))
            y = self.res1(y)
            y = self.res2(y)
            y = self.relu(self.in4(self.deconv1(y)))
            y = self.relu(self.in5(self.deconv2(y)))
            return self.deconv3(y)

    return TransformerNet()


def make_vgg(torch, requires_grad=False):
    """VGG16's features cut into slices at relu1_2, relu2_2 and relu3_3, with a few channels per layer."""
    nn = torch.nn

    def features():
        return [nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(4, 4, 3, padding=1),
                nn.ReLU(inplace=True), nn.MaxPool2d(2, 2), nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(inplace=True),
                nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2, 2),
                nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(inplace=True)]

    class Vgg(nn.Module):
        def __init__(self):
            super().__init__()
            vgg_features = features()
            self.slice1, self.slice2, self.slice3 = nn.Sequential(), nn.Sequential(), nn.Sequential()
            for x in range(4):
                self.slice1.add_module(str(x), vgg_features[x])
            for x in range(4, 9):
                self.slice2.add_module(str(x), vgg_features[x])
            for x in range(9, 12):
                self.slice3.add_module(str(x), vgg_features[x])
            if not requires_grad:
                for param in self.parameters():
                    param.requires_grad = False

        def forward(self, X):
            h_relu1_2 = self.slice1(X)
            h_relu2_2 = self.slice2(h_relu1_2)
            h_relu3_3 = self.slice3(h_relu2_2)
            vgg_outputs = namedtuple("VggOutputs", ["relu1_2", "relu2_2", "relu3_3"])
            return vgg_outputs(h_relu1_2, h_relu2_2, h_relu3_3)

    return Vgg()


def gram_matrix(y):
    (b, ch, h, w) = y.size()
    features = y.view(b, ch, w * h)
    features_t = features.transpose(1, 2)
    return features.bmm(features_t) / (ch * h * w)


def normalize_batch(batch):
    mean = batch.new_tensor([0.485, 0.456, 0.406]).view(-1, 1, 1)
    std = batch.new_tensor([0.229, 0.224, 0.225]).view(-1, 1, 1)
    batch = batch.div_(255.0)
    return (batch - mean) / std


def numpy_weights(model, seed):
    rng = np.random.default_rng(seed)
    out = {}
    for name, p in model.named_parameters():
        fan_in = int(np.prod(p.shape[1:])) if p.dim() > 1 else 1
        if p.dim() > 1:
            out[name] = rng.normal(0, np.sqrt(2 / fan_in), tuple(p.shape))
        elif ".in" in name or name.startswith("in"):  # instance-norm affine
            out[name] = (1.0 if name.endswith("weight") else 0.0) + rng.normal(0, 0.1, tuple(p.shape))
        else:
            out[name] = rng.normal(0, 0.05, tuple(p.shape))
    return {k: v.astype("float32") for k, v in out.items()}


def make_images(n, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:16, 0:16] / 16
    f = rng.uniform(1, 3, (n, 3, 2))
    imgs = 127.5 * (1 + np.sin(2 * np.pi * (f[..., 0, None, None] * x + f[..., 1, None, None] * y)))
    return imgs.astype("float32")  # 0..255, as the example's ToTensor() then mul(255)


def train(torch, epochs=2, lr=1e-2):
    data = torch.utils.data
    train_dataset = data.TensorDataset(torch.from_numpy(make_images(4, 1)), torch.zeros(4))
    train_loader = data.DataLoader(train_dataset, batch_size=BATCH)
    transformer = make_transformer_net(torch)
    transformer.load_state_dict({k: torch.tensor(v) for k, v in numpy_weights(transformer, 0).items()})
    optimizer = torch.optim.Adam(transformer.parameters(), lr)
    mse_loss = torch.nn.MSELoss()
    vgg = make_vgg(torch, requires_grad=False)
    vgg.load_state_dict({k: torch.tensor(v) for k, v in numpy_weights(vgg, 1).items()})
    assert not any(p.requires_grad for p in vgg.parameters())

    style = torch.from_numpy(make_images(1, 2)).repeat(BATCH, 1, 1, 1)
    features_style = vgg(normalize_batch(style))
    gram_style = [gram_matrix(y) for y in features_style]

    log = []
    for _ in range(epochs):
        transformer.train()
        agg_content_loss = agg_style_loss = 0.0
        for batch_id, (x, _) in enumerate(train_loader):
            n_batch = len(x)
            optimizer.zero_grad()
            y = transformer(x)
            y = normalize_batch(y)
            x = normalize_batch(x)
            features_y = vgg(y)
            features_x = vgg(x)
            content_loss = CONTENT_WEIGHT * mse_loss(features_y.relu2_2, features_x.relu2_2)
            style_loss = 0.0
            for ft_y, gm_s in zip(features_y, gram_style):
                gm_y = gram_matrix(ft_y)
                style_loss += mse_loss(gm_y, gm_s[:n_batch, :, :])
            style_loss *= STYLE_WEIGHT
            total_loss = content_loss + style_loss
            total_loss.backward()
            optimizer.step()
            agg_content_loss += content_loss.item()
            agg_style_loss += style_loss.item()
            log.append([agg_content_loss / (batch_id + 1), agg_style_loss / (batch_id + 1), total_loss.item()])

    transformer.eval()
    buffer = io.BytesIO()
    torch.save(transformer.state_dict(), buffer)
    return log, buffer.getvalue()


def stylize(torch, saved):
    content_image = torch.from_numpy(make_images(1, 3))
    with torch.no_grad():
        style_model = make_transformer_net(torch)
        state_dict = torch.load(io.BytesIO(saved))
        style_model.load_state_dict(state_dict)
        output = style_model(content_image)
    return output[0].clone().clamp(0, 255)


def main(torch):
    log, saved = train(torch)
    return {"log": log, "stylized": stylize(torch, saved)}


def test_fast_neural_style_matches_torch(torch_ref):
    want = torch_ref("run", main)
    got = main(ndgrad)
    np.testing.assert_allclose(got["log"], want["log"], rtol=1e-5)
    np.testing.assert_allclose(got["stylized"].numpy(), want["stylized"], rtol=1e-5, atol=1e-4)
    assert tuple(got["stylized"].shape) == (3, 16, 16)
    log = np.array(want["log"])
    assert log[-1, 2] < log[0, 2]  # the total loss falls


def test_gram_matrix_and_normalize_batch():
    y = ndgrad.arange(24.0).view(1, 2, 3, 4)
    feats = y.numpy().reshape(1, 2, 12)
    np.testing.assert_allclose(gram_matrix(y).numpy(), feats @ feats.transpose(0, 2, 1) / 24)
    batch = ndgrad.full((1, 3, 2, 2), 255.0)
    out = normalize_batch(batch)
    assert float(batch.max()) == 1.0  # divided in place, as the example relies on
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(out.numpy()[0, :, 0, 0], (1 - mean) / std, rtol=1e-6)
