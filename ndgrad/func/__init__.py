"""ndgrad.func: composable function transforms, as torch.func (after JAX).

grad, grad_and_value, vjp, jacrev (reverse mode), jvp, linearize, jacfwd (forward mode: dual numbers,
autograd.forward_ad), hessian, vmap (batching: a function written for one example runs on a batch as
batched NumPy calls), functional_call and stack_module_state (modules as functions of their
parameters). Every transform takes and returns ordinary functions, so they nest in any order:
vmap(grad(f)) gives per-example gradients, jacfwd(jacrev(f)) a Hessian, vmap(vmap(f)) two batch dims.
"""
from ._eager import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, linearize, vjp
from ._module import functional_call, stack_module_state
from ._vmap import vmap

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "linearize",
           "stack_module_state", "vjp", "vmap"]
