"""Tiny policy-gradient programs in the manner of pytorch/examples' reinforcement_learning (REINFORCE and
actor-critic with a Categorical policy): from identical weights, states and (fixed) actions, ndgrad gives
PyTorch's losses, gradients and updated weights."""
from __future__ import annotations

from typing import Any

import numpy as np

import ndgrad
from _dist_cases import isolated

_R = np.random.default_rng(7)
STATES = _R.standard_normal((2, 6, 4)).astype(np.float32)       # 2 episodes x 6 steps x 4 features
ACTIONS = _R.integers(0, 3, (2, 6))
REWARDS = _R.uniform(0, 1, (2, 6)).astype(np.float32)
W = {"affine1.weight": _R.standard_normal((16, 4)) * 0.4, "affine1.bias": _R.standard_normal(16) * 0.1,
     "action_head.weight": _R.standard_normal((3, 16)) * 0.4, "action_head.bias": _R.standard_normal(3) * 0.1,
     "value_head.weight": _R.standard_normal((1, 16)) * 0.4, "value_head.bias": _R.standard_normal(1) * 0.1}
GAMMA = 0.99
EPS = float(np.finfo(np.float32).eps)


def _policy(lib: Any, critic: bool) -> Any:
    nn, F = lib.nn, lib.nn.functional

    class Policy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.affine1 = nn.Linear(4, 16)
            self.action_head = nn.Linear(16, 3)
            if critic:
                self.value_head = nn.Linear(16, 1)

        def forward(self, x: Any) -> Any:
            x = F.relu(self.affine1(x))
            if critic:
                return F.softmax(self.action_head(x), dim=-1), self.value_head(x)
            return self.action_head(x)

    model = Policy()
    model.load_state_dict({k: lib.tensor(v, dtype=lib.float32) for k, v in W.items() if critic or "value" not in k})
    return model


def _returns(lib: Any, rewards: np.ndarray) -> Any:
    R, out = 0.0, []
    for r in rewards[::-1]:
        R = float(r) + GAMMA * R
        out.insert(0, R)
    ret = lib.tensor(out)
    return (ret - ret.mean()) / (ret.std() + EPS)


def _update(model: Any, opt: Any, loss: Any, losses: list, grads: list) -> None:
    opt.zero_grad()
    loss.backward()
    grads.append([p.grad.clone() for p in model.parameters()])
    opt.step()
    losses.append(loss.detach())


def reinforce(lib: Any) -> dict:
    """Categorical(logits=...) policy with an entropy bonus; Adam over two episodes."""
    model = _policy(lib, critic=False)
    opt = lib.optim.Adam(model.parameters(), lr=1e-2)
    losses, grads = [], []
    for ep in range(2):
        log_probs, entropies = [], []
        for t in range(6):
            m = lib.distributions.Categorical(logits=model(lib.tensor(STATES[ep, t])))
            action = lib.tensor(ACTIONS[ep, t])
            log_probs.append(m.log_prob(action))
            entropies.append(m.entropy())
        ret = _returns(lib, REWARDS[ep])
        loss = (-lib.stack(log_probs) * ret).sum() - 0.01 * lib.stack(entropies).sum()
        _update(model, opt, loss, losses, grads)
    return {"losses": losses, "grads": grads, "weights": [p.detach() for p in model.parameters()]}


def actor_critic(lib: Any) -> dict:
    """Softmax probs -> Categorical(probs), advantage = R - V(s), smooth-L1 critic loss (as the example)."""
    F = lib.nn.functional
    model = _policy(lib, critic=True)
    opt = lib.optim.Adam(model.parameters(), lr=3e-2)
    losses, grads = [], []
    for ep in range(2):
        saved = []
        for t in range(6):
            probs, value = model(lib.tensor(STATES[ep, t]))
            m = lib.distributions.Categorical(probs)
            saved.append((m.log_prob(lib.tensor(ACTIONS[ep, t])), value))
        ret = _returns(lib, REWARDS[ep])
        policy_losses, value_losses = [], []
        for (log_prob, value), R in zip(saved, ret):
            advantage = R - value.item()
            policy_losses.append(-log_prob * advantage)
            value_losses.append(F.smooth_l1_loss(value, lib.tensor([R.item()])))
        loss = lib.stack(policy_losses).sum() + lib.stack(value_losses).sum()
        _update(model, opt, loss, losses, grads)
    return {"losses": losses, "grads": grads, "weights": [p.detach() for p in model.parameters()]}


def _compare(got: dict, want: dict) -> None:
    np.testing.assert_allclose([float(x) for x in got["losses"]], [float(x) for x in want["losses"]], rtol=1e-5)
    for gs, ws in zip(got["grads"], want["grads"]):
        for g, w in zip(gs, ws):
            np.testing.assert_allclose(g.numpy(), w, rtol=1e-4, atol=1e-6)
    for g, w in zip(got["weights"], want["weights"]):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-4, atol=1e-6)


def test_reinforce_matches_pytorch(torch_ref: Any) -> None:
    _compare(reinforce(ndgrad), torch_ref("reinforce", isolated(reinforce)))


def test_actor_critic_matches_pytorch(torch_ref: Any) -> None:
    _compare(actor_critic(ndgrad), torch_ref("actor_critic", isolated(actor_critic)))


def test_policy_sampling_runs_an_episode() -> None:
    # the sampling path of the same programs: actions drawn by the policy, seeded
    ndgrad.manual_seed(0)
    model = _policy(ndgrad, critic=True)
    actions = []
    for t in range(6):
        probs, _ = model(ndgrad.tensor(STATES[0, t]))
        a = ndgrad.distributions.Categorical(probs).sample()
        assert a.dtype == ndgrad.int64 and a.shape == ()
        actions.append(a.item())
    assert all(0 <= a < 3 for a in actions)


def bivariate_mdn(lib: Any) -> list:
    """A sketch-rnn style mixture-density loss: per step and component a bivariate Normal built from
    (mu, sigma, rho) with a full covariance matrix, mixed by Categorical(logits) weights."""
    r = np.random.default_rng(11)
    raw = lib.tensor(r.standard_normal((4, 2, 3, 6)), requires_grad=True)  # seq 4, batch 2, 3 components
    target = lib.tensor(r.standard_normal((4, 2, 2)))
    pi_logits, mu_x, mu_y, log_sx, log_sy, rho_raw = raw.unbind(-1)
    sx, sy, rho = log_sx.exp(), log_sy.exp(), rho_raw.tanh()
    cov = lib.stack([lib.stack([sx ** 2, rho * sx * sy], -1), lib.stack([rho * sx * sy, sy ** 2], -1)], -2)
    mix = lib.distributions.MultivariateNormal(lib.stack([mu_x, mu_y], -1), covariance_matrix=cov)
    pi = lib.distributions.Categorical(logits=pi_logits)
    xy = target.unsqueeze(-2).expand(-1, -1, 3, -1)
    probs = (pi.probs * mix.log_prob(xy).exp()).sum(2)
    loss = -(probs + 1e-5).log().mean()
    loss.backward()
    return [loss.detach(), raw.grad, tuple(mix.batch_shape), tuple(mix.event_shape)]


def test_bivariate_mixture_density_loss_matches_pytorch(torch_ref: Any) -> None:
    want = torch_ref("mdn", bivariate_mdn)
    got = bivariate_mdn(ndgrad)
    np.testing.assert_allclose(float(got[0]), float(want[0]), rtol=1e-10)
    np.testing.assert_allclose(got[1].numpy(), want[1], rtol=1e-8, atol=1e-10)
    assert got[2:] == want[2:]
