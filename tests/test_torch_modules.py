"""The small torch namespaces programs touch at import time, compared with PyTorch's CPU build:
torch.backends, torch.jit, torch.compile / torch.compiler / torch._dynamo, torch.nn.attention,
torch.multiprocessing, torch.cuda and torch.cpu, and the process-wide settings (threads, matmul precision,
determinism, default device)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import ndgrad

ROOT = Path(__file__).resolve().parents[1]


def _outcomes(torch, exprs: list[str], env: dict | None = None) -> list:
    """What each expression gives (its repr, or the exception type), evaluated in order."""
    out = []
    ns = {"torch": torch, **(env or {})}
    for e in exprs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                if e.startswith("exec:"):
                    exec(e[5:], ns)
                    out.append(None)
                else:
                    out.append(repr(eval(e, ns)))
            except Exception as x:  # noqa: BLE001 - the exception type is the outcome
                out.append(type(x).__name__)
    return out


def _as_torch(values: list) -> list:
    """ndgrad's outcomes spelled as PyTorch's (plain `import ndgrad` prints ndgrad.float64, <class 'ndgrad.X'>)."""
    return [v.replace("ndgrad.", "torch.") if isinstance(v, str) else v for v in values]


BACKENDS = [
    "torch.backends.cudnn.enabled", "torch.backends.cudnn.benchmark", "torch.backends.cudnn.deterministic",
    "torch.backends.cudnn.allow_tf32", "torch.backends.cudnn.is_available()", "torch.backends.cudnn.version()",
    "exec:torch.backends.cudnn.benchmark = True", "torch.backends.cudnn.benchmark",
    "exec:torch.backends.cudnn.deterministic = True", "torch.backends.cudnn.deterministic",
    "exec:import contextlib; cm = torch.backends.cudnn.flags(enabled=False); cm.__enter__()",
    "torch.backends.cudnn.enabled", "exec:cm.__exit__(None, None, None)", "torch.backends.cudnn.enabled",
    "exec:torch.backends.cudnn.benchmark = False; torch.backends.cudnn.deterministic = False",
    "torch.backends.mps.is_available()", "torch.backends.mps.is_built()", "torch.backends.cuda.is_built()",
    "torch.backends.cuda.matmul.allow_tf32", "torch.get_float32_matmul_precision()",
    "exec:torch.backends.cuda.matmul.allow_tf32 = True", "torch.get_float32_matmul_precision()",
    "torch.backends.cuda.matmul.allow_tf32", "exec:torch.set_float32_matmul_precision('highest')",
    "torch.backends.cuda.matmul.allow_tf32", "exec:torch.set_float32_matmul_precision('medium')",
    "torch.backends.cuda.matmul.allow_tf32", "exec:torch.set_float32_matmul_precision('bogus')",
    "torch.get_float32_matmul_precision()", "exec:torch.set_float32_matmul_precision('highest')",
    "torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction",
    "torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction", "torch.backends.cuda.matmul.no_such_flag",
    "exec:torch.backends.cuda.matmul.no_such_flag = 1", "torch.backends.cuda.flash_sdp_enabled()",
    "torch.backends.cuda.math_sdp_enabled()", "torch.backends.cuda.mem_efficient_sdp_enabled()",
    "exec:torch.backends.cuda.enable_flash_sdp(False)", "torch.backends.cuda.flash_sdp_enabled()",
    "exec:torch.backends.cuda.enable_flash_sdp(True)", "torch.backends.mha.get_fastpath_enabled()",
    "torch.backends.mkldnn.enabled", "torch.backends.nnpack.is_available() in (True, False)",
    "torch.backends.opt_einsum.enabled", "torch.backends.opt_einsum.strategy",
]


def test_backends_flags_as_pytorch(torch_ref):
    assert _outcomes(ndgrad, BACKENDS) == torch_ref("backends", lambda torch: _outcomes(torch, BACKENDS))
    # what ndgrad honestly answers differently from PyTorch's CPU build: it links none of these libraries
    assert not ndgrad.backends.mkldnn.is_available() and not ndgrad.backends.openmp.is_available()
    assert not ndgrad.backends.mkl.is_available()
    assert ndgrad.backends.cpu.get_cpu_capability() in ("AVX512", "AVX2", "DEFAULT")


ATTENTION = [
    "list(torch.nn.attention.SDPBackend.__members__)",
    "[b.value for b in torch.nn.attention.SDPBackend.__members__.values()]",
    "torch.nn.attention.SDPBackend.MATH", "str(torch.nn.attention.SDPBackend.FLASH_ATTENTION)",
    "torch.nn.attention.SDPBackend.MATH.name", "str(type(torch.nn.attention.SDPBackend.MATH))",
    "exec:cm = torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH); cm.__enter__()",
    "[torch.backends.cuda.flash_sdp_enabled(), torch.backends.cuda.math_sdp_enabled(), "
    "torch.backends.cuda.mem_efficient_sdp_enabled(), torch.backends.cuda.cudnn_sdp_enabled()]",
    "torch.nn.functional.scaled_dot_product_attention(q, q, q).shape", "exec:cm.__exit__(None, None, None)",
    "torch.backends.cuda.flash_sdp_enabled()",
    "exec:cm = torch.nn.attention.sdpa_kernel([torch.nn.attention.SDPBackend.FLASH_ATTENTION, "
    "torch.nn.attention.SDPBackend.EFFICIENT_ATTENTION]); cm.__enter__()",
    "[torch.backends.cuda.flash_sdp_enabled(), torch.backends.cuda.math_sdp_enabled()]",
    "exec:cm.__exit__(None, None, None)", "exec:torch.nn.attention.sdpa_kernel('math').__enter__()",
    "exec:cm = torch.backends.cuda.sdp_kernel(enable_flash=False); cm.__enter__()",
    "torch.backends.cuda.flash_sdp_enabled()", "exec:cm.__exit__(None, None, None)",
    "torch.backends.cuda.flash_sdp_enabled()",
]


def test_nn_attention(torch_ref):
    want = torch_ref("attention", lambda torch: _outcomes(torch, ATTENTION, {"q": torch.ones(1, 1, 2, 4)}))
    got = _outcomes(ndgrad, ATTENTION, {"q": ndgrad.ones(1, 1, 2, 4)})
    assert _as_torch(got) == want
    with ndgrad.nn.attention.sdpa_kernel(ndgrad.nn.attention.SDPBackend.EFFICIENT_ATTENTION):
        assert not ndgrad.backends.cuda.math_sdp_enabled()
    assert ndgrad.backends.cuda.math_sdp_enabled()


SETTINGS = [
    "torch.are_deterministic_algorithms_enabled()", "exec:torch.use_deterministic_algorithms(True)",
    "torch.are_deterministic_algorithms_enabled()", "torch.is_deterministic_algorithms_warn_only_enabled()",
    "torch.get_deterministic_debug_mode()", "exec:torch.use_deterministic_algorithms(True, warn_only=True)",
    "torch.get_deterministic_debug_mode()", "exec:torch.set_deterministic_debug_mode('default')",
    "torch.are_deterministic_algorithms_enabled()", "exec:torch.set_deterministic_debug_mode(5)",
    "torch.is_warn_always_enabled()", "torch.get_default_device()", "exec:torch.set_default_device('cpu')",
    "torch.typename(torch.ones(1))", "torch.typename(torch.ones(1, dtype=torch.int64))", "torch.typename(1.5)",
    "torch.typename(torch.nn.Linear(1, 1))", "torch.is_storage(torch.ones(1))", "torch.device('cuda')",
    "torch.device('cuda:1')", "torch.device('cuda' if torch.cuda.is_available() else 'cpu')",
    "torch.ones(2, device='cuda')", "torch.ones(2).to('cuda')", "torch.ones(2).cuda()",
    "torch.ones(2).to(torch.device('cuda:0'))", "torch.ones(2).pin_memory()", "torch.ones(2).is_pinned()",
    "torch.get_num_threads() >= 1", "torch.get_num_interop_threads() >= 1",
    "exec:torch.set_default_tensor_type(torch.DoubleTensor)", "torch.get_default_dtype()",
    "exec:torch.set_default_tensor_type('torch.FloatTensor')", "torch.get_default_dtype()",
]


def test_process_settings(torch_ref):
    want = torch_ref("settings", lambda torch: _outcomes(torch, SETTINGS))
    try:
        got = _outcomes(ndgrad, SETTINGS)
    finally:
        ndgrad.use_deterministic_algorithms(False)
        ndgrad.set_default_dtype(ndgrad.float32)
    assert _as_torch(got) == want
    # restore PyTorch's state too when it ran live
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "use_deterministic_algorithms"):
        torch.use_deterministic_algorithms(False)


def test_set_num_threads_reaches_blas():
    before = ndgrad.get_num_threads()
    try:
        ndgrad.set_num_threads(1)
        assert ndgrad.get_num_threads() == 1
        a = ndgrad.randn(64, 64, dtype=ndgrad.float64)
        np.testing.assert_allclose((a @ a).numpy(), a.numpy() @ a.numpy())
    finally:
        ndgrad.set_num_threads(before)
    with pytest.raises(RuntimeError):
        ndgrad.set_num_threads(0)
    assert ndgrad.set_flush_denormal(True) is False  # NumPy cannot flush denormals: reported as unsupported


CUDA = [
    "torch.cuda.is_available()", "torch.cuda.device_count()", "torch.cuda.is_initialized()", "torch.cuda.synchronize()",
    "torch.cuda.max_memory_allocated()", "torch.cuda.memory_allocated()", "torch.cuda.memory_reserved()",
    "torch.cuda.max_memory_reserved()", "torch.cuda.memory_stats()", "torch.cuda.manual_seed(1)",
    "torch.cuda.manual_seed_all(1)", "torch.cuda.empty_cache()", "torch.cuda.current_device()",
    "torch.cuda.is_bf16_supported()", "torch.cuda.get_device_name()", "torch.cuda.current_stream()",
    "torch.cuda.Stream()", "torch.cuda.Event(enable_timing=True)", "torch.cuda.get_device_capability()",
    "torch.cuda.get_device_properties(0)", "str(torch.cuda.FloatTensor)", "torch.cuda.FloatTensor([1])",
    "torch.cuda.LongTensor(2)", "isinstance(torch.ones(1), torch.cuda.FloatTensor)", "torch.cuda.init()",
    "torch.cuda.get_rng_state()", "torch.cuda.get_arch_list()", "torch.cuda.initial_seed()",
    "torch.cuda.mem_get_info()",
    "torch.cuda.seed()", "torch.cuda.default_stream()", "torch.cuda.get_rng_state_all()",
    "exec:cm = torch.cuda.stream(None); cm.__enter__(); cm.__exit__(None, None, None)",
    "torch.cpu.is_available()", "torch.cpu.device_count()", "torch.cpu.current_device()", "torch.cpu.synchronize()",
    "torch.cpu.current_stream().query() if hasattr(torch.cpu.current_stream(), 'query') else True",
]


def test_cuda_and_cpu_modules_answer_as_a_cpu_build(torch_ref):
    want = torch_ref("cuda", lambda torch: _outcomes(torch, CUDA))
    got = _outcomes(ndgrad, CUDA)
    assert _as_torch(got) == want


def test_jit_is_an_eager_pass_through(torch_ref):
    def run(torch):
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = torch.nn.Linear(3, 2)

            @torch.jit.ignore
            def helper(self, x):
                return x * 2

            @torch.jit.export
            def double(self, x):
                return x * 2

            def forward(self, x):
                return torch.relu(self.fc(x))

        torch.manual_seed(0)
        net = Net()
        with torch.no_grad():
            net.fc.weight.copy_(torch.tensor([[1.0, -2.0, 0.5], [0.25, 1.0, -1.0]]))
            net.fc.bias.copy_(torch.tensor([0.1, -0.2]))
        x = torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
        scripted = torch.jit.script(net)

        def f(a, b):
            return a * b + 1

        traced = torch.jit.trace(f, (x, x))

        @torch.jit.unused
        def g(a):
            return a - 1

        @torch.jit.ignore(drop=True)
        def h(a):
            return a + 1
        return [scripted(x), traced(x, x + 1), torch.jit.trace(net, x)(x), g(x), h(x), scripted.double(x),
                torch.jit.is_scripting(), torch.jit.is_tracing(), torch.jit.annotate(int, 3),
                torch.jit.fork(f, x, x).wait(), torch.jit.wait(torch.jit.fork(f, x, 2.0))]
    got, want = run(ndgrad), torch_ref("jit", run)
    for a, b in zip(got, want):
        if isinstance(a, ndgrad.Tensor):
            np.testing.assert_allclose(a.detach().numpy(), b, rtol=1e-6)
        else:
            assert a == b
    net = ndgrad.nn.Linear(2, 2)
    assert ndgrad.jit.script(net) is net
    with pytest.raises(RuntimeError, match="ndgrad does not implement torch.jit.save"):
        ndgrad.jit.save(net, "x.pt")
    assert issubclass(ndgrad.jit.ScriptModule, ndgrad.nn.Module) and not isinstance(net, ndgrad.jit.ScriptModule)
    assert ndgrad.jit.isinstance([1, 2], list[int]) and not ndgrad.jit.isinstance([1, "a"], list[int])


def test_compile_returns_what_computes_the_same(torch_ref):
    def shape(torch):
        m = torch.nn.Linear(2, 3)
        cm = torch.compile(m)
        cm.foo = 1
        out = [repr(cm), str(type(cm)), list(cm.state_dict()), [n for n, _ in cm.named_parameters()],
               cm.weight is m.weight, cm._orig_mod is m, cm.in_features, getattr(m, "foo", None),
               torch.compile(m, disable=True) is m, callable(torch.compile(mode="max-autotune"))]
        for bad in ("torch.compile(m, mode='bogus')", "torch.compile(m, mode='default', options={})"):
            try:
                eval(bad, {"torch": torch, "m": m})
            except Exception as e:  # noqa: BLE001
                out.append(f"{type(e).__name__}: {e}")
        cm.eval()
        out.append(m.training)
        f = lambda x: x + 1  # noqa: E731
        cf = torch.compile(f)
        out += [cf is f, getattr(cf, "_torchdynamo_orig_callable", None) is f, torch.compiler.is_compiling(),
                torch._dynamo.config.suppress_errors]
        return out
    want = torch_ref("shape", shape)
    got = shape(ndgrad)
    assert _as_torch(got) == want
    # and it computes the same thing: as a decorator too, bare or with options
    m = ndgrad.nn.Linear(2, 3)
    x = ndgrad.randn(4, 2)
    np.testing.assert_array_equal(ndgrad.compile(m)(x).detach().numpy(), m(x).detach().numpy())

    @ndgrad.compile
    def f(a):
        return a.sin() * 2

    @ndgrad.compile(mode="reduce-overhead", fullgraph=True)
    def g(a):
        return a.cos()
    np.testing.assert_array_equal(f(x).numpy(), (x.sin() * 2).numpy())
    np.testing.assert_array_equal(g(x).numpy(), x.cos().numpy())
    ndgrad._dynamo.config.suppress_errors = True
    with pytest.raises(AttributeError, match="torch._dynamo.config.no_such_flag does not exist"):
        ndgrad._dynamo.config.no_such_flag  # noqa: B018


def _fails_on_one(i: int, path: str) -> None:
    with open(os.path.join(path, f"rank{i}"), "w") as f:
        f.write(str(i))
    if i == 1:
        raise ValueError("rank one fails")


def test_multiprocessing_api(tmp_path, torch_ref):
    want = torch_ref("names", lambda torch: sorted(n for n in dir(torch.multiprocessing) if not n.startswith("_")
                                                   and n not in ("torch", "sys", "multiprocessing", "reductions",
                                                                 "init_reductions", "ENV_VAR_PARALLEL_START")))
    assert [n for n in want if not hasattr(ndgrad.multiprocessing, n)] == []
    mp = ndgrad.multiprocessing
    assert mp.get_sharing_strategy() in mp.get_all_sharing_strategies() and mp.cpu_count() >= 1
    with pytest.raises(mp.ProcessRaisedException, match="rank one fails"):
        mp.start_processes(_fails_on_one, args=(str(tmp_path),), nprocs=2, start_method="fork")
    assert (tmp_path / "rank0").read_text() == "0"


def test_spawn_under_ndgrad_run(tmp_path):
    (tmp_path / "prog.py").write_text(textwrap.dedent("""
        import sys
        import torch
        import torch.multiprocessing as mp

        def work(rank, scale, out):
            out.put((rank, float(torch.tensor([1.0, 2.0]).sum()) * scale))

        if __name__ == "__main__":
            q = mp.get_context("spawn").SimpleQueue()
            mp.spawn(work, args=(10, q), nprocs=2)
            print(sorted(q.get() for _ in range(2)))
        """))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "ndgrad", "run", "prog.py"], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120, env=env)
    assert (r.returncode, r.stdout) == (0, "[(0, 30.0), (1, 30.0)]\n"), r.stderr


def test_onnx_is_importable_and_says_export_is_missing(torch_ref):
    # word_language_model imports torch.onnx at the top; models ask is_in_onnx_export() in forward
    assert ndgrad.onnx.is_in_onnx_export() is torch_ref("in_export", lambda torch: torch.onnx.is_in_onnx_export())
    with pytest.raises(RuntimeError, match="ndgrad does not implement torch.onnx.export yet"):
        ndgrad.onnx.export(ndgrad.nn.Linear(1, 1), (ndgrad.ones(1),), "m.onnx")


def test_dataloader_pin_memory_warns_without_accelerator():
    # PyTorch's CPU build warns (when iteration starts); the batches are unchanged
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator is found"):
        loader = ndgrad.utils.data.DataLoader(list(range(4)), batch_size=2, pin_memory=True)
        batches = [b.tolist() for b in loader]
    assert batches == [[0, 1], [2, 3]]
