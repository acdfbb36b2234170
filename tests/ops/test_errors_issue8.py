"""Bad calls of the functions added for issue 8 raise PyTorch's exception type and message
(recorded from PyTorch, so the comparison also runs without it)."""
from __future__ import annotations

from typing import Any, Callable

import pytest

import ndgrad
from _refs import outcome



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
    "cholesky_not_pd": lambda M: M.linalg.cholesky(M.tensor([[1.0, 0.0], [0.0, -1.0]])),
    # no error from cholesky_ex: its info (the failing order) is carried out in a ValueError's message
    "cholesky_ex_info": lambda M: int("info " + str(M.linalg.cholesky_ex(M.tensor([[1.0, 0.0], [0.0, -1.0]])).info
                                                   .item())),
    "eigh_not_square": lambda M: M.linalg.eigh(M.ones(2, 3)),
    "eig_not_square": lambda M: M.linalg.eig(M.ones(2, 3)),
    "eigh_uplo": lambda M: M.linalg.eigh(M.eye(2), UPLO="X"),
    "qr_mode": lambda M: M.linalg.qr(M.ones(2, 3), mode="x"),
    "qr_r_backward": lambda M: M.linalg.qr(M.eye(2, requires_grad=True), mode="r")[1].sum().backward(),
    "qr_complete_backward": lambda M: M.linalg.qr(M.ones(3, 2, requires_grad=True), mode="complete")[0].sum()
    .backward(),
    "svd_1d": lambda M: M.linalg.svd(M.ones(3)),
    "pinv_1d": lambda M: M.linalg.pinv(M.ones(3)),
    "lstsq_rows": lambda M: M.linalg.lstsq(M.ones(3, 2), M.ones(2, 2)),
    "lstsq_0d": lambda M: M.linalg.lstsq(M.ones(5, 3), M.ones(())),
    "lstsq_dims": lambda M: M.linalg.lstsq(M.ones(5, 3), M.ones(2, 2, 5, 1)),
    "lstsq_dtypes": lambda M: M.linalg.lstsq(M.ones(5, 3), M.ones(5, 2, dtype=M.float64)),
    "matrix_exp_not_square": lambda M: M.linalg.matrix_exp(M.ones(2, 3)),
    "solve_triangular_shapes": lambda M: M.linalg.solve_triangular(M.eye(3), M.ones(2, 2), upper=True),
    "slogdet_int": lambda M: M.linalg.slogdet(M.ones(2, 2, dtype=M.int64)),
    "zeta_grad": lambda M: M.special.zeta(M.ones(2, requires_grad=True), 2.0).sum().backward(),
}


@pytest.mark.parametrize("key", sorted(CASES))
def test_error_matches_torch(torch_ref: Any, key: str) -> None:
    want = torch_ref(key, lambda torch: outcome(lambda: CASES[key](torch)))
    got = outcome(lambda: CASES[key](ndgrad))
    assert got[0] == want[0], (got, want)
    assert got[1].replace("ndgrad", "torch") == want[1], (got, want)
