"""The user's notebook (d2l's linear-algebra and autograd cells), told again in our own
words as runnable cells. `ndgrad notebook` runs them one by one and prints each result
the way a notebook shows it; `results_only=True` prints just the results, which must
equal what PyTorch prints (the seed's expected output)."""
from __future__ import annotations

import sys
from typing import Any, TextIO

# Each cell: (title, code). The value of a cell's last line is displayed, as in Jupyter.
CELLS: list[tuple[str, str]] = [
    ("A 5x4 matrix of the integers 0..19", "A = torch.arange(20).reshape(5, 4)\nA"),
    ("Its transpose", "A.T"),
    ("Elementwise ops keep the shape", "A = torch.arange(20, dtype=torch.float).reshape(5, 4)\n"
                                       "B = A.clone()\nA, A + B"),
    ("Sum along axis 0", "A_sum_axis0 = A.sum(axis=0)\nA_sum_axis0, A_sum_axis0.shape"),
    ("Sum along axis 1", "A_sum_axis1 = A.sum(axis=1)\nA_sum_axis1, A_sum_axis1.shape"),
    ("Sum along both axes", "A.sum(axis=[0, 1])"),
    ("Keep the reduced axis", "sum_A = A.sum(axis=1, keepdims=True)\nsum_A"),
    ("Broadcasting divides each row by its sum", "A / sum_A"),
    ("Cumulative sum down the rows", "A.cumsum(axis=0)"),
    ("Matrix-vector product", "x = torch.ones(4, dtype=torch.float32)\nA.shape, x.shape, torch.mv(A, x)"),
    ("Matrix-matrix product", "B = torch.ones(4, 3)\ntorch.mm(A, B)"),
    ("L2 norm of a vector", "u = torch.tensor([3.0, -4.0])\ntorch.norm(u)"),
    ("L1 norm: the sum of absolute values", "torch.abs(u).sum()"),
    ("Frobenius norm of a matrix", "torch.norm(torch.ones((4, 9)))"),
    ("Automatic differentiation: a vector x", "x = torch.arange(4.0)\nx"),
    ("y = 2 x.x records how it was computed", "x.requires_grad_(True)\ny = 2 * torch.dot(x, x)\ny"),
    ("Backpropagate: dy/dx = 4x", "y.backward()\nx.grad"),
    ("Check against 4x", "x.grad == 4 * x"),
    ("Gradients accumulate, so zero them first", "x.grad.zero_()\ny = x.sum()\ny"),
    ("The gradient of a sum is all ones", "y.backward()\nx.grad"),
    ("Backward of a non-scalar: sum first", "x.grad.zero_()\ny = x * x\ny.sum().backward()\nx.grad"),
    ("Detach cuts the graph: u is a constant",
     "x.grad.zero_()\ny = x * x\nu = y.detach()\nz = u * x\nz.sum().backward()\nx.grad == u"),
]


def run(module: Any = None, results_only: bool = False, out: TextIO = sys.stdout) -> None:
    """Run every cell with `module` as `torch` (ndgrad by default) and print the results."""
    if module is None:
        import ndgrad as module
    env: dict = {"torch": module}
    for title, code in CELLS:
        lines = code.split("\n")
        *body, last = lines
        if not results_only:
            out.write(f"# {title}\n")
            for line in lines:
                out.write(f">>> {line}\n")
        if body:
            exec("\n".join(body), env)  # noqa: S102 - our own cells above
        value = eval(last, env)  # noqa: S307 - our own cells above
        if results_only:
            out.write(repr(value) + "\n-----\n")
        else:
            out.write(repr(value) + "\n\n")
