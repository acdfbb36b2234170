"""ndgrad.func's reverse and forward transforms against torch.func: values, structures, errors, and
their compositions (Hessians, forward over reverse, reverse over forward, second derivatives that
train a network)."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ndgrad
from _trees import assert_tree, error_text, to_np, tree_np
from ndgrad import func as nfunc

RNG = np.random.default_rng(1)
X = RNG.standard_normal((3, 4))
Y = RNG.standard_normal(4)
V = RNG.standard_normal((3, 4))
W1 = RNG.standard_normal((6, 4)) * 0.5
W2 = RNG.standard_normal((2, 6)) * 0.5


def _f(M: Any, x: Any, y: Any) -> Any:
    return ((x * y).sin() @ y + x.exp().sum(1)).pow(2).sum() / 10


def _net(M: Any, x: Any) -> Any:
    """A small MLP on one input vector (4,) -> (2,)."""
    return M.tanh(M.tensor(W2) @ M.tanh(M.tensor(W1) @ x))


def _grads(M: Any) -> dict:
    F = M.func
    x, y = M.tensor(X), M.tensor(Y)
    out = {"g0": F.grad(lambda a, b: _f(M, a, b))(x, y),
           "g01": F.grad(lambda a, b: _f(M, a, b), argnums=(0, 1))(x, y),
           "g_neg": F.grad(lambda a, b: _f(M, a, b), argnums=-1)(x, y)}
    g, (v, aux) = F.grad_and_value(lambda a, b: (_f(M, a, b), {"s": a.sum()}), argnums=1, has_aux=True)(x, y)
    out["gv"] = (g, v, aux["s"])
    out["dict"] = F.grad(lambda p: (p["w"] * p["b"][0]).sin().sum())({"w": x, "b": (y,)})
    return out


def test_grad_and_value_match_torch(torch_ref: Any) -> None:
    want = torch_ref("grads", lambda torch: tree_np(_grads(torch)))
    got = tree_np(_grads(ndgrad))
    assert_tree(got, want)


def _errors(M: Any) -> dict:
    F = M.func
    x = M.tensor(X)
    return {
        "nonscalar": error_text(lambda: F.grad(lambda a: a)(x)),
        "tuple_out": error_text(lambda: F.grad(lambda a: (a, 1))(x)),
        "argnum": error_text(lambda: F.grad(lambda a: a.sum(), argnums=2)(x)),
        "aux": error_text(lambda: F.grad(lambda a: a.sum(), has_aux=True)(x)),
        "dup": error_text(lambda: F.grad(lambda a: a.sum(), argnums=(0, 0))(x)),
        "int": error_text(lambda: F.grad(lambda a: a.sum())(M.arange(3))),
        "float": error_text(lambda: F.grad(lambda a: a.sum())(3.0)),
        "jvp_tuple": error_text(lambda: F.jvp(lambda a: a, x, x)),
        "jvp_size": error_text(lambda: F.jvp(lambda a: a, (x,), (M.ones(4),))),
        "jvp_struct": error_text(lambda: F.jvp(lambda a: a, (x,), (x, x))),
        "jvp_out": error_text(lambda: F.jvp(lambda a: 3, (x,), (x,))),
        "vjp_shape": error_text(lambda: F.vjp(lambda a: a, x)[1](M.ones(4))),
        "vjp_struct": error_text(lambda: F.vjp(lambda a: a, x)[1]((M.ones(3, 4),))),
    }


def test_errors_match_torch(torch_ref: Any) -> None:
    want = torch_ref("errors", _errors)
    got = _errors(ndgrad)
    for k, v in want.items():
        if k in ("jvp_struct", "vjp_struct"):  # the structure is spelled differently: same error, same text
            assert got[k].split("structure")[0] == v.split("structure")[0], (k, got[k], v)
            continue
        assert got[k].replace("ndgrad.", "torch.") == v, (k, got[k], v)


def _vjp_jvp(M: Any) -> dict:
    F = M.func
    x, y, v = M.tensor(X), M.tensor(Y), M.tensor(V)
    out_v, fn = F.vjp(lambda a, b: (a * b, (a @ b).exp()), x, y)
    cts = (M.ones(3, 4), M.tensor([1.0, -2.0, 0.5], dtype=M.float64))
    p, t = F.jvp(lambda a, b: {"s": (a * b).sin(), "m": a @ b}, (x, y), (v, M.tensor(Y[::-1].copy())))
    lin_out, lin = F.linearize(lambda a: (a * a).cos(), x)
    return {"vjp_out": out_v, "vjp": fn(cts), "jvp_p": p, "jvp_t": t, "lin_out": lin_out, "lin": lin(v),
            "lin2": lin(v * 2)}


def test_vjp_jvp_linearize_match_torch(torch_ref: Any) -> None:
    want = torch_ref("vjp_jvp", lambda torch: tree_np(_vjp_jvp(torch)))
    assert_tree(tree_np(_vjp_jvp(ndgrad)), want)


def _jacobians(M: Any) -> dict:
    F = M.func
    x = M.tensor(X[0])
    return {
        "rev": F.jacrev(lambda a: _net(M, a))(x),
        "fwd": F.jacfwd(lambda a: _net(M, a))(x),
        "rev_args": F.jacrev(lambda a, b: (a * b).sum(0) + b, argnums=(0, 1))(M.tensor(X), M.tensor(Y)),
        "fwd_args": F.jacfwd(lambda a, b: (a * b).sum(0) + b, argnums=(0, 1))(M.tensor(X), M.tensor(Y)),
        "rev_tree": F.jacrev(lambda a: {"u": a.sin(), "v": (a * a).sum()})(x),
        "hess": F.hessian(lambda a: _net(M, a).pow(2).sum())(x),
        "hess_rr": F.jacrev(F.jacrev(lambda a: _net(M, a).pow(2).sum()))(x),
        "hess_ff": F.jacfwd(F.jacfwd(lambda a: _net(M, a).pow(2).sum()))(x),
        "grad_grad": F.grad(lambda a: F.grad(lambda b: (b.sin() * b).sum())(a).pow(2).sum())(x),
        "hvp": F.jvp(F.grad(lambda a: _net(M, a).pow(2).sum()), (x,), (M.tensor(V[0]),))[1],
    }


def test_jacobians_and_hessians_match_torch(torch_ref: Any) -> None:
    want = torch_ref("jac", lambda torch: tree_np(_jacobians(torch)))
    got = tree_np(_jacobians(ndgrad))
    assert_tree(got, want)
    np.testing.assert_allclose(got["rev"], got["fwd"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got["hess"], got["hess_rr"], rtol=1e-10)
    # the Hessian of a small loss equals autograd.functional.hessian
    ref = ndgrad.autograd.functional.hessian(lambda a: _net(ndgrad, a).pow(2).sum(), ndgrad.tensor(X[0]))
    np.testing.assert_allclose(got["hess"], ref.numpy(), rtol=1e-10)
    np.testing.assert_allclose(got["hvp"], got["hess"] @ V[0], rtol=1e-10)


def test_transforms_see_the_callers_graph() -> None:
    """A transform's result stays differentiable with respect to tensors the function closed over
    (a gradient penalty, a physics-informed loss), and inputs that require grad are left alone."""
    w = ndgrad.tensor(W1, requires_grad=True)
    x = ndgrad.tensor(X[0])
    g = nfunc.grad(lambda a: ndgrad.tanh(w @ a).pow(2).sum())(x)
    assert g.requires_grad
    (gw,) = ndgrad.autograd.grad(g.sum(), w)
    eps = 1e-6
    w2 = W1.copy()
    w2[1, 2] += eps
    g2 = nfunc.grad(lambda a: ndgrad.tanh(ndgrad.tensor(w2) @ a).pow(2).sum())(x)
    np.testing.assert_allclose((g2.sum() - g.sum()).item() / eps, gw[1, 2].item(), rtol=1e-4)
    # nothing outside to differentiate: the result is plain (recorded without create_graph)
    assert not nfunc.grad(lambda a: a.sin().sum())(x).requires_grad
    xr = ndgrad.tensor(X[0], requires_grad=True)
    hx = nfunc.grad(lambda a: (a ** 3).sum())(xr)
    (hh,) = ndgrad.autograd.grad(hx.sum(), xr)
    np.testing.assert_allclose(hh.numpy(), 6 * X[0], rtol=1e-12)
    assert xr.grad is None and xr.is_leaf


def test_physics_informed_fit_trains() -> None:
    """u(x) fits u'' = -sin(x) on [0, pi] with u(0) = u(pi) = 0 (solution sin x): the loss uses the
    network's second derivative at each point (vmap of grad of grad) and trains its parameters."""
    ndgrad.manual_seed(0)
    net = ndgrad.nn.Sequential(ndgrad.nn.Linear(1, 16), ndgrad.nn.Tanh(), ndgrad.nn.Linear(16, 1)).double()
    opt = ndgrad.optim.Adam(net.parameters(), lr=0.01)
    xs = ndgrad.linspace(0, np.pi, 16, dtype=ndgrad.float64)

    def u(x: Any) -> Any:
        return net(x.reshape(1, 1)).reshape(())

    uxx = nfunc.vmap(nfunc.grad(nfunc.grad(u)))
    losses = []
    for _ in range(60):
        residual = uxx(xs) + xs.sin()
        ends = ndgrad.stack([u(x) for x in ndgrad.tensor([0.0, np.pi], dtype=ndgrad.float64)])
        loss = (residual ** 2).mean() + (ends ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0], losses[::10]
    # the second derivative it trains on is the true one
    x0 = ndgrad.tensor(0.7, dtype=ndgrad.float64)
    eps = 1e-3
    with ndgrad.no_grad():
        fd = (u(x0 + eps) - 2 * u(x0) + u(x0 - eps)) / eps ** 2
    np.testing.assert_allclose(nfunc.grad(nfunc.grad(u))(x0).item(), fd.item(), rtol=1e-5, atol=1e-6)


def _modules(M: Any) -> dict:
    F = M.func
    M.manual_seed(0)
    lin = M.nn.Linear(4, 3).double()
    x = M.tensor(X)
    w, b = M.tensor(W1[:3]), M.tensor(W2[:, :3].sum(0))
    out = {"call": F.functional_call(lin, {"weight": w, "bias": b}, (x,)),
           "call2": F.functional_call(lin, ({"weight": w}, {"bias": M.zeros(3, dtype=M.float64)}), x),
           "restored": lin.weight.shape,
           "strict": error_text(lambda: F.functional_call(lin, {"weight": w}, (x,), strict=True)),
           "dup": error_text(lambda: F.functional_call(lin, ({"weight": w}, {"weight": w}), (x,))),
           "empty": error_text(lambda: F.stack_module_state([]))}
    models = [M.nn.Linear(2, 2) for _ in range(3)]
    ps, bs = F.stack_module_state(models)
    out["stack"] = {k: (tuple(v.shape), v.requires_grad, v.is_leaf) for k, v in ps.items()}
    out["classes"] = error_text(lambda: F.stack_module_state([M.nn.Linear(2, 2), M.nn.Conv1d(2, 2, 1)]))
    return out


def test_functional_call_and_stack_module_state(torch_ref: Any) -> None:
    want = torch_ref("modules", lambda torch: {k: (to_np(v) if hasattr(v, "detach") else v)
                                               for k, v in _modules(torch).items()})
    got = _modules(ndgrad)
    for k, v in want.items():
        g = got[k]
        if isinstance(v, np.ndarray):
            np.testing.assert_allclose(to_np(g), v, rtol=1e-12)
        elif k == "restored":
            assert tuple(g) == tuple(v)
        elif k == "stack":
            assert {kk: tuple(tuple(x) if isinstance(x, list) else x for x in vv) for kk, vv in g.items()} == \
                {kk: tuple(tuple(x) if isinstance(x, list) else x for x in vv) for kk, vv in v.items()}
        else:
            assert g == v, (k, g, v)


def test_functional_call_ties_weights() -> None:
    class Tied(ndgrad.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = ndgrad.nn.Linear(2, 2, bias=False)
            self.b = ndgrad.nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x: Any) -> Any:
            return self.b(self.a(x))

    m = Tied()
    w = ndgrad.eye(2) * 2
    x = ndgrad.ones(2)
    np.testing.assert_allclose(nfunc.functional_call(m, {"a.weight": w}, (x,)).detach().numpy(), [4.0, 4.0])
    untied = nfunc.functional_call(m, {"a.weight": w}, (x,), tie_weights=False)
    np.testing.assert_allclose(untied.detach().numpy(), (m.b.weight @ (w @ x)).detach().numpy())
    assert m.a.weight is m.b.weight and isinstance(m.a.weight, ndgrad.nn.Parameter)


@pytest.mark.parametrize("n", [1, 3])
def test_top_level_names(n: int) -> None:
    assert ndgrad.vmap is nfunc.vmap
    assert set(nfunc.__all__) >= {"grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "linearize",
                                  "vmap", "functional_call", "stack_module_state"}
    assert nfunc.vmap(lambda a: a * n)(ndgrad.ones(2, 2)).sum().item() == 4 * n
