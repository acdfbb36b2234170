"""ndgrad.nn.modules.utils: loading a DistributedDataParallel checkpoint into a plain model."""
import numpy as np

import ndgrad
from ndgrad.nn.modules.utils import consume_prefix_in_state_dict_if_present


def test_consume_prefix_in_state_dict_if_present(torch_ref):
    def keys(M):
        wrapped = M.nn.DataParallel(M.nn.Sequential(M.nn.Linear(2, 3), M.nn.BatchNorm1d(3)))
        state = wrapped.state_dict()
        before = list(state)
        M.nn.modules.utils.consume_prefix_in_state_dict_if_present(state, "module.")
        return [before, list(state), sorted(state._metadata)]
    want = torch_ref("keys", keys)
    assert keys(ndgrad) == [list(w) for w in want]
    model = ndgrad.nn.Linear(2, 3)
    state = {"module." + k: v for k, v in model.state_dict().items()}
    state["other"] = ndgrad.zeros(1)
    consume_prefix_in_state_dict_if_present(state, "module.")
    assert list(state) == ["other", "weight", "bias"]
    np.testing.assert_array_equal(state["weight"].numpy(), model.weight.detach().numpy())
