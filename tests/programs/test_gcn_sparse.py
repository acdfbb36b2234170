"""A graph convolutional network (Kipf & Welling) in the manner of pytorch/examples gcn: the adjacency is
built as a sparse COO tensor, renormalised D^-1/2 (A + I) D^-1/2 with sparse diagonal matrices, and
both the node features and the adjacency go into the model sparse (torch.mm(sparse, dense) in the first
layer, torch.spmm(adj, support) in each). From identical weights, every training loss equals PyTorch's
(live, or recorded in tests/references/ without torch), and the forward pass equals the same network
computed with dense matrices.

The example downloads Cora; here a small random graph with planted classes stands in for it."""
import numpy as np
import pytest

import ndgrad

# PyTorch warns once that it does not check sparse invariants by default (ndgrad always checks them)
pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")

NODES, FEATURES, CLASSES, HIDDEN = 60, 12, 3, 8


def make_graph():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, CLASSES, NODES)
    features = (rng.random((NODES, FEATURES)) < 0.2).astype(np.int32)
    features[np.arange(NODES), labels] = 1  # a feature that hints at the class
    src, dst = [], []
    for i in range(NODES):  # mostly edges within a class, some across
        for j in rng.choice(NODES, 3, replace=False):
            if j != i and (labels[i] == labels[j] or rng.random() < 0.2):
                src.append(i)
                dst.append(j)
    edges = np.array([src, dst], dtype=np.int32).T
    return features, labels, edges


def load_graph(torch):
    features_np, labels_np, edges = make_graph()
    features = torch.FloatTensor(features_np)
    scale_vector = torch.sum(features, dim=1)
    scale_vector = 1 / scale_vector
    scale_vector[scale_vector == float("inf")] = 0
    scale_vector = torch.diag(scale_vector).to_sparse()
    features = scale_vector @ features  # rows scaled by a sparse diagonal matrix
    labels = torch.LongTensor(labels_np)
    V, E = NODES, edges.shape[0]
    adj_mat = torch.sparse_coo_tensor(edges.T, torch.ones(E), (V, V), dtype=torch.int64)
    adj_mat = torch.eye(V) + adj_mat  # self-loops: dense + sparse is dense
    degree_mat = torch.sum(adj_mat, dim=1)
    degree_mat = torch.sqrt(1 / degree_mat)
    degree_mat[degree_mat == float("inf")] = 0
    degree_mat = torch.diag(degree_mat).to_sparse()
    adj_mat = degree_mat @ adj_mat @ degree_mat  # the renormalisation trick
    return features.to_sparse(), labels, adj_mat.to_sparse()


def make_model(torch):
    nn = torch.nn

    class GraphConv(nn.Module):
        def __init__(self, input_dim, output_dim):
            super().__init__()
            self.kernel = nn.Parameter(torch.Tensor(input_dim, output_dim))
            self.bias = nn.Parameter(torch.Tensor(output_dim))

        def forward(self, input_tensor, adj_mat):
            support = torch.mm(input_tensor, self.kernel)
            return torch.spmm(adj_mat, support) + self.bias

    class GCN(nn.Module):
        def __init__(self):
            super().__init__()
            self.gc1 = GraphConv(FEATURES, HIDDEN)
            self.gc2 = GraphConv(HIDDEN, CLASSES)

        def forward(self, x, adj):
            x = torch.nn.functional.relu(self.gc1(x, adj))
            return torch.nn.functional.log_softmax(self.gc2(x, adj), dim=1)

    model = GCN()
    rng = np.random.default_rng(0)
    model.load_state_dict({k: torch.tensor(rng.normal(0, 0.5, tuple(v.shape)), dtype=torch.float32)
                           for k, v in model.state_dict().items()})
    return model


def train(torch, steps=5):
    features, labels, adj = load_graph(torch)
    model = make_model(torch)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05, weight_decay=5e-4)
    criterion = torch.nn.NLLLoss()
    idx_train = torch.arange(0, 40)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        output = model(features, adj)
        loss = criterion(output[idx_train], labels[idx_train])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        acc = (model(features, adj).argmax(1) == labels).float().mean().item()
    return losses, acc


def test_gcn_losses_match_pytorch(torch_ref):
    want = torch_ref("losses", lambda torch: train(torch))
    losses, acc = train(ndgrad)
    np.testing.assert_allclose(losses, want[0], rtol=2e-5)
    np.testing.assert_allclose(acc, want[1])
    assert losses[-1] < losses[0]


def test_sparse_forward_equals_dense_computation():
    features, labels, adj = load_graph(ndgrad)
    assert adj.is_sparse and features.is_sparse and adj._nnz() < NODES * NODES / 4
    model = make_model(ndgrad)
    out = model(features, adj)
    dense_model = make_model(ndgrad)  # the same weights, fed dense matrices
    ref = dense_model(features.to_dense(), adj.to_dense())
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.sum().backward()
    ref.sum().backward()
    for p, q in zip(model.parameters(), dense_model.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)
