"""Which of PyTorch's public names real code uses, ranked by use, and which ndgrad has.

    python tools/api_coverage.py CLIENTS_DIR [-o docs/api-coverage.md]

CLIENTS_DIR holds checkouts of public repositories (one folder each; fetched copies, never
committed). Every .py file, every code cell of every .ipynb and every Python code block of
Markdown files (the d2l book keeps its code there) is parsed with `ast`; names are resolved
through the file's imports (`import torch.nn as nn`, `from torch.nn import functional as F`,
`from torch.optim import Adam`, ...), so `F.relu` counts as torch.nn.functional.relu.

Tensor methods cannot be resolved statically: a call `x.name(...)` or attribute `x.name` on
something that is not a known module counts for torch.Tensor.name when torch.Tensor has that
attribute and the file imports torch. It over-counts names shared with NumPy (`sum`, `reshape`),
which is fine for ranking.

The public names of each namespace come from the installed torch (required to list names that
no client uses); ndgrad's coverage is `hasattr` on the matching ndgrad object.
"""
from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Iterator

NAMESPACES = ["torch", "torch.Tensor", "torch.nn", "torch.nn.functional", "torch.optim",
              "torch.optim.lr_scheduler", "torch.linalg", "torch.distributions", "torch.utils.data",
              "torch.nn.init", "torch.nn.utils", "torch.autograd", "torch.fft", "torch.special",
              "torch.distributed", "torch.func", "torch.amp", "torch.backends", "torch.cuda",
              "torch.jit", "torch.utils.checkpoint", "torch.sparse"]
# Names left out on purpose, with the reason shown in the table: GPU-only APIs (a CPU program cannot
# reach them: ndgrad keeps PyTorch's errors where it has the module), and names whose count is mostly
# other objects' attributes (a Tensor attribute cannot be told apart statically).
NOT_PLANNED = {
    "torch.Tensor.record_stream": "GPU only (CUDA stream bookkeeping)",
    "torch.cuda.nccl": "GPU only (NVIDIA collectives)",
    "torch.Tensor.q_scale": "quantized tensors (not in ndgrad); the count is a model's attribute of that name",
    "torch.Tensor.name": "internal attribute; the count is other objects' `.name`",
    "torch.Tensor.index": "functorch first-class dims; the count is lists' `.index`",
    "torch.classes": "TorchScript C++ classes (needs compiled extensions)",
    "torch.distributed.rpc": "RPC framework: beyond ndgrad.distributed's collectives",
    "torch.distributed.autograd": "distributed autograd of the RPC framework",
    "torch.distributed.algorithms": "DDP communication hooks and join (GPU/NCCL oriented)",
}
_MD_BLOCK = re.compile(r"```(?:\{\.python[^}]*\}|python)\s*\n(.*?)```", re.S)


# ---------------------------------------------------------------------------
# sources
# ---------------------------------------------------------------------------
def sources(root: Path) -> Iterator[tuple[Path, str]]:
    """(path, Python source) for every .py file, notebook code cell and Markdown Python block."""
    for p in sorted(root.rglob("*")):
        if not p.is_file() or any(part.startswith(".") for part in p.relative_to(root).parts):
            continue
        try:
            if p.suffix == ".py":
                yield p, p.read_text(errors="replace")
            elif p.suffix == ".ipynb":
                nb = json.loads(p.read_text(errors="replace"))
                cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
                yield p, "\n".join(_strip_magics("".join(c.get("source", ""))) for c in cells)
            elif p.suffix == ".md":
                blocks = [b for b in _MD_BLOCK.findall(p.read_text(errors="replace"))
                          if "tab mxnet" not in b and "tab tensorflow" not in b and "tab jax" not in b]
                if blocks:
                    yield p, "\n".join(_strip_magics(b) for b in blocks)
        except (OSError, ValueError):
            continue


def _strip_magics(src: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in src.splitlines())


def parse(src: str) -> ast.AST | None:
    try:
        return ast.parse(src)
    except SyntaxError:
        # notebooks and book chapters: parse cell by cell (blank-line separated chunks) instead
        body: list[ast.stmt] = []
        for chunk in re.split(r"\n\s*\n(?=\S)", src):
            try:
                body.extend(ast.parse(chunk).body)
            except SyntaxError:
                continue
        return ast.Module(body=body, type_ignores=[]) if body else None


# ---------------------------------------------------------------------------
# name resolution
# ---------------------------------------------------------------------------
def aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> dotted torch path, from the file's imports (d2l's `torch` tab counts too)."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "torch" or a.name.startswith("torch."):
                    if a.asname:
                        out[a.asname] = a.name
                    else:
                        out["torch"] = "torch"
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "torch" or node.module.startswith("torch."):
                for a in node.names:
                    if a.name != "*":
                        out[a.asname or a.name] = f"{node.module}.{a.name}"
    return out


def dotted(node: ast.AST) -> list[str] | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    return None


def count_uses(tree: ast.AST, tensor_attrs: set[str]) -> Counter:
    """Uses of dotted torch names (module functions/classes) and of Tensor attributes."""
    al = aliases(tree)
    uses: Counter = Counter()
    if not al:
        return uses
    inner: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and id(node) not in inner:
            # mark the inner parts of a chain so `torch.nn.Linear` counts once, as a whole
            v = node.value
            while isinstance(v, ast.Attribute):
                inner.add(id(v))
                v = v.value
            inner.add(id(v))
            parts = dotted(node)
            if parts and parts[0] in al:
                uses[".".join([al[parts[0]]] + parts[1:])] += 1
            elif node.attr in tensor_attrs and not node.attr.startswith("_"):
                uses["torch.Tensor." + node.attr] += 1
        elif isinstance(node, ast.Name) and id(node) not in inner and node.id in al and "." in al[node.id] \
                and isinstance(node.ctx, ast.Load):
            uses[al[node.id]] += 1  # names imported with `from torch.x import Name`
    return uses


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------
def namespace_of(name: str) -> tuple[str, str] | None:
    """('torch.nn', 'Linear') for 'torch.nn.Linear', choosing the longest known namespace."""
    best = None
    for ns in NAMESPACES:
        if name.startswith(ns + ".") and (best is None or len(ns) > len(best)):
            best = ns
    if best is None:
        return None
    attr = name[len(best) + 1:].split(".")[0]
    return best, attr


def resolve(obj_path: str, root_obj: object, root_name: str) -> object | None:
    obj = root_obj
    for part in obj_path.split(".")[1:]:
        try:
            obj = getattr(obj, part)
        except Exception:
            import importlib
            try:
                obj = importlib.import_module(f"{root_name}.{obj_path.split('.', 1)[1]}")
            except Exception:
                return None
    return obj


def has(ns_obj: object | None, attr: str) -> bool:
    if ns_obj is None:
        return False
    try:
        return hasattr(ns_obj, attr)
    except Exception:
        return False


def public_names(obj: object | None) -> set[str]:
    if obj is None:
        return set()
    return {n for n in dir(obj) if not n.startswith("_")}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("clients", type=Path, help="folder of fetched repository checkouts")
    ap.add_argument("-o", "--output", type=Path, default=None, help="write Markdown here (default: stdout)")
    ap.add_argument("--top", type=int, default=60, help="rows per namespace")
    args = ap.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("api_coverage: needs torch installed (pip install torch==2.13.0) for the namespaces' names",
              file=sys.stderr)
        return 2
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the ndgrad of this checkout
    import ndgrad

    tensor_attrs = public_names(torch.Tensor)
    total: Counter = Counter()
    repos_by_name: dict[tuple[str, str], set[str]] = {}
    repos = sorted(p for p in args.clients.iterdir() if p.is_dir())
    corpus = []
    for repo in repos:
        n_files = 0
        for _path, src in sources(repo):
            tree = parse(src)
            if tree is None:
                continue
            uses = count_uses(tree, tensor_attrs)
            if uses:
                n_files += 1
            total.update(uses)
            for k in uses:  # by (namespace, name): `torch.fx.symbolic_trace` is a use of torch.fx
                hit = namespace_of(k)
                if hit:
                    repos_by_name.setdefault(hit, set()).add(repo.name)
        rev = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        corpus.append((repo.name.replace("+", "/"), rev, n_files))

    lines = ["# API coverage: the PyTorch names real code uses, and which ndgrad has", "",
             f"Generated by `python tools/api_coverage.py CLIENTS_DIR -o docs/api-coverage.md` with torch "
             f"{torch.__version__} and ndgrad {ndgrad.__version__}. A use is one occurrence of the name in a "
             "file that imports torch (calls, attribute reads, `from ... import`); Tensor methods are counted "
             "by attribute name (see the tool's docstring). \"repos\" is how many of the scanned repositories "
             "use the name.", "", "Scanned (public repositories, fetched copies, not part of ndgrad):", ""]
    lines += [f"- {name} @ {rev}: {n} files that use torch" for name, rev, n in corpus]
    summary = ["", "## Summary", "", "| namespace | names used | ndgrad has | uses covered |", "|---|---|---|---|"]
    body = []
    for ns in NAMESPACES:
        t_obj = resolve(ns, torch, "torch")
        n_obj = resolve(ns.replace("torch", "ndgrad", 1), ndgrad, "ndgrad") if ns != "torch.Tensor" else ndgrad.Tensor
        if ns == "torch":
            n_obj = ndgrad
        known = public_names(t_obj)
        counts: Counter = Counter()
        for name, c in total.items():
            hit = namespace_of(name)
            if hit and hit[0] == ns and hit[1] in known:
                counts[hit[1]] += c
        if not counts:
            continue
        covered = {a for a in counts if has(n_obj, a)}
        uses_cov = sum(counts[a] for a in covered) / sum(counts.values())
        summary.append(f"| `{ns}` | {len(counts)} | {len(covered)} | {uses_cov:.1%} |")
        missing = [a for a, _ in counts.most_common() if a not in covered]
        body += ["", f"## `{ns}`", "",
                 f"{len(covered)} of the {len(counts)} names used are in ndgrad ({uses_cov:.1%} of uses); "
                 f"{len(known)} public names in torch. Most used:", "",
                 "| name | uses | repos | ndgrad |", "|---|---|---|---|"]
        for a, c in counts.most_common(args.top):
            nrepo = len(repos_by_name.get((ns, a), ()))
            state = "yes" if a in covered else "**missing**"
            if a not in covered and f"{ns}.{a}" in NOT_PLANNED:
                state = f"not planned: {NOT_PLANNED[f'{ns}.{a}']}"
            body.append(f"| `{a}` | {c} | {nrepo} | {state} |")
        if missing:
            body += ["", "Missing, by use: " + ", ".join(f"`{a}` ({counts[a]})" for a in missing[:80])]
    text = "\n".join(lines + summary + body) + "\n"
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
