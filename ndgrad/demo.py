"""The main job: `python -m ndgrad` (or the `ndgrad` console script).

    ndgrad notebook   run the user's notebook cell by cell, printing what PyTorch prints
    ndgrad train      train a model on a dataset, with progress, a table and a plot
    ndgrad bench      quick side-by-side benchmarks against PyTorch (when installed)
    ndgrad run        run a PyTorch program with `import torch` resolved to ndgrad (see ndgrad._run)

With no subcommand: `notebook`, then `train` with the defaults.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence


# learning rates that reach >= 95% (LeNet) and >= 93% (MLP) test accuracy on digits in 3 epochs
DEFAULT_LR = {("adam", "lenet"): 0.01, ("adam", "softmax"): 0.01, ("adam", "mlp"): 0.001,
              ("sgd", "lenet"): 0.01, ("sgd", "softmax"): 0.1, ("sgd", "mlp"): 0.01}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ndgrad", description="ndgrad: PyTorch's API over NumPy.")
    sub = p.add_subparsers(dest="command")
    nb = sub.add_parser("notebook", help="run the seed notebook cell by cell")
    nb.add_argument("--results-only", action="store_true", help="print only each cell's result")
    tr = sub.add_parser("train", help="train a model and report it")
    tr.add_argument("--model", choices=["mlp", "lenet", "softmax"], default="lenet")
    tr.add_argument("--dataset", choices=["digits", "mnist", "fashion-mnist"], default="digits")
    tr.add_argument("--data-dir", default="data", help="where MNIST-style datasets are cached")
    tr.add_argument("--epochs", type=int, default=5)
    tr.add_argument("--batch-size", type=int, default=32)
    tr.add_argument("--lr", type=float, default=None,
                    help="default: adam 0.01 (lenet, softmax) or 0.001 (mlp); sgd 0.1")
    tr.add_argument("--optimizer", choices=["sgd", "adam"], default="adam")
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--save", default=None, metavar="PATH", help="save the trained state dict here")
    tr.add_argument("--plot", default="ndgrad-train.png", metavar="PATH",
                    help="PNG of the loss and accuracy curves ('' to skip)")
    tr.add_argument("--no-progress", action="store_true", help="no progress bar")
    tr.add_argument("--nproc", type=int, default=1,
                    help="train data-parallel on N processes (MPI, the `mpi` extra); --batch-size stays the "
                         "global batch")
    tr.add_argument("--hosts", default=None, help="with --nproc: the machines to run on (mpiexec's host list)")
    bn = sub.add_parser("bench", help="quick benchmarks against PyTorch")
    bn.add_argument("--quick", action="store_true", help="fewer repetitions")
    # `run` is parsed by ndgrad._run (its program's arguments must reach the program untouched);
    # listed here for --help only
    sub.add_parser("run", help="run a PyTorch program (script, -m module or notebook) on ndgrad",
                   usage="ndgrad run [-h] [--nproc N [--hosts H1,H2,...]] (-m MODULE | PATH) [ARGS ...]")
    return p


def cmd_notebook(args: argparse.Namespace) -> int:
    from ._notebook import run
    run(results_only=args.results_only)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    import ndgrad
    from . import training
    from .distributed import launch
    if args.nproc > 1 and not launch.in_mpi_job():  # start the processes; each trains its share
        return launch.launch(args.nproc, ["train", *args.argv], args.hosts)
    dist = _join_job(args) if launch.in_mpi_job() else None
    if isinstance(dist, int):
        return dist
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist else (0, 1)
    lead = rank == 0  # the process that reports
    try:
        if not args.no_progress and lead:
            training.require("tqdm")
        if args.plot and lead:
            training.require("matplotlib")
        if args.dataset == "digits":
            training.require("sklearn")
    except ImportError as e:
        print(f"ndgrad train: {e}", file=sys.stderr)
        return 2
    ndgrad.manual_seed(args.seed)
    if dist and not lead:
        dist.barrier()  # rank 0 downloads and caches the dataset first
    try:
        X_train, y_train, X_test, y_test = training.load_arrays(args.dataset, args.data_dir)
    except RuntimeError as e:
        print(f"ndgrad train: {e}", file=sys.stderr)
        return 1
    if dist and lead:
        dist.barrier()
    model = training.make_model(args.model, tuple(X_train.shape[1:]))
    training.init_weights(model)
    net = ndgrad.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer, args.model]
    opt = (ndgrad.optim.Adam(net.parameters(), lr=lr) if args.optimizer == "adam"
           else ndgrad.optim.SGD(net.parameters(), lr=lr, momentum=0.9))
    train_iter, test_iter = training.loaders(X_train, y_train, X_test, y_test, args.batch_size, args.seed,
                                             rank, world)
    say = print if lead else _quiet
    say(f"training {args.model} on {args.dataset} ({len(y_train)} train / {len(y_test)} test images, "
        f"{tuple(X_train.shape[1:])}), {args.optimizer} lr={lr}, batch {args.batch_size}, seed {args.seed}"
        + (f", data-parallel on {world} processes" if world > 1 else ""))
    header = f"{'epoch':>5} {'train loss':>11} {'train acc':>10} {'test acc':>9} {'samples/s':>10}"
    say(header)

    def row(r: dict) -> None:
        say(f"{r['epoch']:>5} {r['train_loss']:>11.4f} {r['train_acc']:>10.4f} {r['test_acc']:>9.4f} "
            f"{r['samples_per_s']:>10.0f}", flush=True)

    history = training.fit(net, train_iter, test_iter, ndgrad.nn.CrossEntropyLoss(), opt, args.epochs,
                           callbacks=[row], progress=not args.no_progress and lead)
    if args.plot and lead:
        training.plot_history(history, args.plot)
        say(f"plot: {args.plot}")
    if args.save and lead:
        ndgrad.save(model.state_dict(), args.save)
        say(f"state dict: {args.save}")
    say(f"final test accuracy: {history[-1]['test_acc']:.4f}")
    if dist:
        dist.destroy_process_group()
    return 0


def _quiet(*args: object, **kwargs: object) -> None:
    pass


def _join_job(args: argparse.Namespace) -> object:
    """In a process an MPI launcher started: join the job (ndgrad.distributed), or an exit status."""
    import ndgrad.distributed as dist
    dist.init_process_group("mpi")
    if args.batch_size % dist.get_world_size():
        if dist.get_rank() == 0:
            print(f"ndgrad train: --batch-size {args.batch_size} (the global batch) must be a multiple of the "
                  f"{dist.get_world_size()} processes", file=sys.stderr)
        dist.destroy_process_group()
        return 2
    return dist


def cmd_bench(args: argparse.Namespace) -> int:
    from ._bench import main as bench_main
    bench_main(quick=args.quick)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m ndgrad` and the `ndgrad` script; returns the exit status."""
    try:
        status = _main(argv)
        if status and "ndgrad.distributed" in sys.modules:  # a failing process of a running job ends it
            from .distributed.launch import abort_on_failure
            abort_on_failure(status)
        return status
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["run"]:
        from ._run import main as run_main
        return run_main(argv[1:])
    args = _parser().parse_args(argv)
    args.argv = argv[1:]  # the subcommand's own arguments, for a launch on several processes
    if args.command == "notebook":
        return cmd_notebook(args)
    if args.command == "train":
        return cmd_train(args)
    if args.command == "bench":
        return cmd_bench(args)
    cmd_notebook(_parser().parse_args(["notebook"]))
    print("=" * 72)
    return cmd_train(_parser().parse_args(["train"]))


if __name__ == "__main__":
    sys.exit(main())
