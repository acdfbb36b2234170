"""Bad calls of the functions added for issue 8 raise PyTorch's exception type and message
(recorded from PyTorch, so the comparison also runs without it)."""
from __future__ import annotations

from typing import Any, Callable

import pytest

import ndgrad


def _outcome(fn: Callable[[], Any]) -> tuple:
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        return type(e).__name__, str(e).splitlines()[0]
    return "no error", ""


CASES: dict[str, Callable[[Any], Any]] = {
    "searchsorted_shape": lambda M: M.searchsorted(M.tensor([[1, 2], [3, 4]]), M.tensor([1, 2, 3])),
    "searchsorted_side": lambda M: M.searchsorted(M.tensor([1, 2]), M.tensor([1]), side="mid"),
    "searchsorted_opposite": lambda M: M.searchsorted(M.tensor([1, 2]), M.tensor([1]), side="left", right=True),
    "bucketize_2d": lambda M: M.bucketize(M.tensor([1]), M.tensor([[1, 2]])),
    "histogram_int": lambda M: M.histogram(M.tensor([1, 2]), 3),
    "histogram_bins": lambda M: M.histogram(M.tensor([1.0, 2.0]), 0),
    "combinations_2d": lambda M: M.combinations(M.ones(2, 2)),
    "cartesian_2d": lambda M: M.cartesian_prod(M.ones(2, 2)),
    "tril_indices_neg": lambda M: M.tril_indices(-1, 3),
    "vander_2d": lambda M: M.vander(M.ones(2, 2)),
    "hsplit_uneven": lambda M: M.hsplit(M.ones(3, 4), 3),
    "hsplit_0d": lambda M: M.hsplit(M.ones(()), 3),
    "vsplit_1d": lambda M: M.vsplit(M.ones(3), 3),
    "gcd_float": lambda M: M.gcd(M.tensor([1.0]), M.tensor([2.0])),
    "heaviside_dtypes": lambda M: M.heaviside(M.tensor([1.0]), M.tensor([1])),
    "frexp_int": lambda M: M.frexp(M.tensor([1])),
    "nextafter_int": lambda M: M.nextafter(M.tensor([1]), M.tensor([2])),
    "renorm_p": lambda M: M.renorm(M.ones(2, 2), -1, 0, 1),
    "cov_3d": lambda M: M.cov(M.ones(2, 2, 2)),
    "block_diag_3d": lambda M: M.block_diag(M.ones(2, 2, 2)),
    "polygamma_neg": lambda M: M.polygamma(-1, M.ones(2)),
    "zeta_grad": lambda M: M.special.zeta(M.ones(2, requires_grad=True), 2.0).sum().backward(),
}


@pytest.mark.parametrize("key", sorted(CASES))
def test_error_matches_torch(torch_ref: Any, key: str) -> None:
    want = torch_ref(key, lambda torch: _outcome(lambda: CASES[key](torch)))
    got = _outcome(lambda: CASES[key](ndgrad))
    assert got[0] == want[0], (got, want)
    assert got[1].replace("ndgrad", "torch") == want[1], (got, want)
