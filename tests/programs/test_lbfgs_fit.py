"""An LBFGS fit in the manner of pytorch/examples time_sequence_prediction: two stacked LSTM cells learn sine
waves with LBFGS(lr=0.8) in float64, then predict the future; from identical weights, every loss the closure
prints and the test losses equal PyTorch's (live, or recorded in tests/references/ without torch).

The example generates its sine data with NumPy and saves it with torch.save; here it is generated in place,
smaller (6 waves of 24 points, 8 hidden units) so the test stays quick."""
import numpy as np
import pytest

import ndgrad

HIDDEN = 8


def make_data():
    rng = np.random.default_rng(2)
    x = np.arange(24)[None, :] + rng.integers(-16, 16, (6, 1))
    return np.sin(x / 4.0).astype("float64")


def make_sequence(torch):
    nn = torch.nn

    class Sequence(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm1 = nn.LSTMCell(1, HIDDEN)
            self.lstm2 = nn.LSTMCell(HIDDEN, HIDDEN)
            self.linear = nn.Linear(HIDDEN, 1)

        def forward(self, input, future=0):
            outputs = []
            h_t = torch.zeros(input.size(0), HIDDEN, dtype=torch.double)
            c_t = torch.zeros(input.size(0), HIDDEN, dtype=torch.double)
            h_t2 = torch.zeros(input.size(0), HIDDEN, dtype=torch.double)
            c_t2 = torch.zeros(input.size(0), HIDDEN, dtype=torch.double)
            for input_t in input.split(1, dim=1):
                h_t, c_t = self.lstm1(input_t, (h_t, c_t))
                h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
                output = self.linear(h_t2)
                outputs += [output]
            for _ in range(future):  # feed predictions back in
                h_t, c_t = self.lstm1(output, (h_t, c_t))
                h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
                output = self.linear(h_t2)
                outputs += [output]
            return torch.cat(outputs, dim=1)
    return Sequence()


def initial_weights(seq_state):
    rng = np.random.default_rng(0)
    bound = 1 / np.sqrt(HIDDEN)
    return {k: rng.uniform(-bound, bound, shape) for k, shape in seq_state.items()}


def main(torch, steps=2, line_search_fn=None):
    data = make_data()
    input = torch.from_numpy(data[3:, :-1])
    target = torch.from_numpy(data[3:, 1:])
    test_input = torch.from_numpy(data[:3, :-1])
    test_target = torch.from_numpy(data[:3, 1:])
    seq = make_sequence(torch)
    seq.double()
    shapes = {k: tuple(v.shape) for k, v in seq.state_dict().items()}
    seq.load_state_dict({k: torch.tensor(v) for k, v in initial_weights(shapes).items()})
    criterion = torch.nn.MSELoss()
    optimizer = torch.optim.LBFGS(seq.parameters(), lr=0.8, max_iter=10, line_search_fn=line_search_fn)
    closure_losses, test_losses = [], []
    for _ in range(steps):
        def closure():
            optimizer.zero_grad()
            out = seq(input)
            loss = criterion(out, target)
            closure_losses.append(loss.item())
            loss.backward()
            return loss
        optimizer.step(closure)
        with torch.no_grad():
            future = 10
            pred = seq(test_input, future=future)
            loss = criterion(pred[:, :-future], test_target)
            test_losses.append(loss.item())
    return {"closure": closure_losses, "test": test_losses, "pred": pred.detach().numpy()[:, -future:]}


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_time_sequence_lbfgs_matches_torch(line_search_fn, torch_ref):
    want = torch_ref("run", lambda torch: main(torch, line_search_fn=line_search_fn))
    got = main(ndgrad, line_search_fn=line_search_fn)
    assert len(got["closure"]) == len(want["closure"])  # the same number of evaluations
    np.testing.assert_allclose(got["closure"], want["closure"], rtol=1e-7)
    np.testing.assert_allclose(got["test"], want["test"], rtol=1e-7)
    np.testing.assert_allclose(got["pred"], want["pred"], rtol=1e-6, atol=1e-9)
    assert want["closure"][-1] < 0.5 * want["closure"][0]  # it fits
