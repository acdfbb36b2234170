"""A PyTorch data-parallel training script, written for torchrun and run unchanged by ndgrad:

    torchrun --nproc-per-node 2 examples/ddp_train.py      # PyTorch
    ndgrad run --nproc 2 examples/ddp_train.py             # ndgrad, on MPI

Each process trains a replica on its DistributedSampler share of a synthetic classification
problem; DistributedDataParallel averages the gradients; rank 0 reports and saves a checkpoint
that loads in a single process.
"""
import argparse
import os

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


def make_data(n=1024, features=20, classes=4):
    g = torch.Generator().manual_seed(1234)  # the same data on every rank
    x = torch.randn(n, features, generator=g)
    w = torch.randn(features, classes, generator=g)
    return TensorDataset(x, (x @ w).argmax(dim=1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32, help="per process")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--checkpoint", default="ddp_checkpoint.pt")
    args = parser.parse_args()

    dist.init_process_group(backend="gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ["LOCAL_RANK"])
    torch.manual_seed(0)

    data = make_data()
    sampler = DistributedSampler(data, shuffle=True, seed=0)
    loader = DataLoader(data, batch_size=args.batch_size, sampler=sampler)
    model = DDP(nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 4)))
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    if rank == 0:
        print(f"{world} processes, local rank {local_rank} on this node, {len(sampler)} samples each")

    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        totals = torch.zeros(3)  # loss sum, correct, samples
        for x, y in loader:
            opt.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            opt.step()
            totals += torch.tensor([loss.item() * len(y), (out.argmax(1) == y).sum().item(), len(y)])
        dist.all_reduce(totals, op=dist.ReduceOp.SUM)
        if rank == 0:
            print(f"epoch {epoch}: loss {totals[0] / totals[2]:.4f}, accuracy {totals[1] / totals[2]:.4f}")

    if rank == 0:
        torch.save(model.module.state_dict(), args.checkpoint)
        print(f"saved {args.checkpoint}")
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
