"""torch.profiler on the CPU: where a program's time goes, op by op and in the ranges it labels.

While a `profile` records, every call a program makes to an ndgrad op (``ndgrad.<op>``, ``Tensor.<op>``
and its operators, ``nn.functional.<fn>``) is timed as an event named as PyTorch names it
(``aten::matmul``), nested inside the enclosing `record_function` ranges and ops; calls an op makes
internally are part of its time. `key_averages().table()` prints PyTorch's table (self and total CPU
time per name), `export_chrome_trace` writes a trace for chrome://tracing or Perfetto, and a `schedule`
with `step()` records chosen steps and hands each finished cycle to `on_trace_ready`
(`tensorboard_trace_handler` writes it to a folder). Device activities are accepted and record nothing:
ndgrad computes on the CPU.
"""
from __future__ import annotations

import enum
import json
import os
import socket
import threading
import time
from typing import Any, Callable, Iterable

__all__ = ["DeviceType", "ProfilerAction", "ProfilerActivity", "profile", "record_function", "schedule",
           "supported_activities", "tensorboard_trace_handler", "kineto_available"]


class ProfilerActivity(enum.Enum):
    """What a profile records: CPU (ndgrad's only activity); the device kinds are accepted and empty."""
    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


class DeviceType(enum.Enum):
    CPU = 0
    CUDA = 1


class ProfilerAction(enum.Enum):
    """What a `schedule` asks of the profiler at a step."""
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities() -> set:
    """The activities that record something here: the CPU."""
    return {ProfilerActivity.CPU}


def kineto_available() -> bool:
    return False


# ---------------------------------------------------------------------------------------------------------
# events
# ---------------------------------------------------------------------------------------------------------
class FunctionEvent:
    """One timed range: an op call or a `record_function` block (times in microseconds)."""

    def __init__(self, id: int, name: str, start_us: float, thread: int, input_shapes: list | None = None,
                 user: bool = False) -> None:
        self.id, self.name, self.thread = id, name, thread
        self.start_us, self.end_us = start_us, start_us
        self.input_shapes = input_shapes or []
        self.cpu_children: list[FunctionEvent] = []
        self.cpu_parent: FunctionEvent | None = None
        self.is_user_annotation = user
        self.device_type = DeviceType.CPU

    @property
    def key(self) -> str:
        return self.name

    @property
    def cpu_time_total(self) -> float:
        return self.end_us - self.start_us

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    cpu_time = cpu_time_total
    device_time_total = self_device_time_total = cuda_time = 0.0
    count = 1

    def __repr__(self) -> str:
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time={_fmt(self.cpu_time_total)} "
                f"start_us={self.start_us:.3f} end_us={self.end_us:.3f} cpu_children="
                f"{[c.id for c in self.cpu_children]} thread={self.thread} input_shapes={self.input_shapes}>")


class FunctionEventAvg:
    """The events of one name (and, grouped by shape, one input shape) summed: count and times."""

    def __init__(self, key: str, input_shapes: list | None = None) -> None:
        self.key, self.input_shapes = key, input_shapes or []
        self.count = 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0
        self.device_time_total = self.self_device_time_total = self.cuda_time = 0.0
        self.is_user_annotation = False

    def add(self, ev: Any) -> "FunctionEventAvg":
        self.count += ev.count
        self.cpu_time_total += ev.cpu_time_total
        self.self_cpu_time_total += ev.self_cpu_time_total
        self.is_user_annotation = ev.is_user_annotation
        return self

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count if self.count else 0.0

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={_fmt(self.self_cpu_time_total)} "
                f"cpu_time={_fmt(self.cpu_time)} input_shapes={self.input_shapes}>")


def _fmt(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


_SORT_KEYS = {"cpu_time", "cpu_time_total", "self_cpu_time_total", "count", "cuda_time", "cuda_time_total",
              "self_cuda_time_total", "device_time", "device_time_total", "self_device_time_total",
              "cpu_memory_usage", "self_cpu_memory_usage"}


class EventList(list):
    """A list of events (or of their averages) that prints as PyTorch's table."""

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0) -> "EventList":
        groups: dict = {}
        for ev in self:
            k = (ev.key, str(ev.input_shapes) if group_by_input_shape else None)
            if k not in groups:
                groups[k] = FunctionEventAvg(ev.key, ev.input_shapes if group_by_input_shape else None)
            groups[k].add(ev)
        return EventList(groups.values())

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg("Total")
        for ev in self:
            total.add(ev)
        return total

    @property
    def self_cpu_time_total(self) -> float:
        return sum(ev.self_cpu_time_total for ev in self)

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False, time_unit: str | None = None) -> str:
        """PyTorch's text table: name, self CPU (% and time), CPU total (% and time), average, calls."""
        rows = list(self)
        if top_level_events_only:
            rows = [e for e in rows if getattr(e, "cpu_parent", None) is None]
        if sort_by is not None:
            if sort_by not in _SORT_KEYS:
                raise AttributeError(f"'FunctionEventAvg' object has no attribute '{sort_by}'")
            rows.sort(key=lambda e: getattr(e, sort_by.replace("cuda", "device"), 0.0), reverse=True)
        if row_limit > 0:
            rows = rows[:row_limit]
        total = self.self_cpu_time_total or 1.0
        shapes = any(e.input_shapes for e in rows)
        width = max([len("Name")] + [len(e.key) for e in rows])
        width = min(width, max_name_column_width)
        cols = ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]
        if shapes:
            cols.append("Input Shapes")
        widths = [width] + [12] * 6 + ([max_shapes_column_width] if shapes else [])
        line = "".join("-" * w + "  " for w in widths)
        head = "".join(f"{c:>{w}}  " for c, w in zip(["Name"] + cols, widths))
        out = ([header] if header else []) + [line, head, line]
        for e in rows:
            name = e.key if len(e.key) <= width else e.key[:width - 3] + "..."
            cells = [name, f"{100 * e.self_cpu_time_total / total:.2f}%", _fmt(e.self_cpu_time_total),
                     f"{100 * e.cpu_time_total / total:.2f}%", _fmt(e.cpu_time_total), _fmt(e.cpu_time),
                     str(e.count)]
            if shapes:
                cells.append(str(e.input_shapes)[:max_shapes_column_width])
            out.append("".join(f"{c:>{w}}  " for c, w in zip(cells, widths)))
        out += [line, f"Self CPU time total: {_fmt(self.self_cpu_time_total)}", ""]
        return "\n".join(out)

    def export_chrome_trace(self, path: str) -> None:
        _write_trace(self, path)

    def __str__(self) -> str:
        return self.table()


def _write_trace(events: Iterable, path: str) -> None:
    trace = [{"name": e.name, "ph": "X", "ts": e.start_us, "dur": e.cpu_time_total, "pid": os.getpid(),
              "tid": e.thread, "cat": "user_annotation" if e.is_user_annotation else "cpu_op",
              "args": {"Input Dims": e.input_shapes} if e.input_shapes else {}} for e in events]
    with open(path, "w") as f:
        json.dump({"traceEvents": trace, "displayTimeUnit": "ms"}, f)


# ---------------------------------------------------------------------------------------------------------
# the recorder: one active collection at a time; each thread keeps its stack of open ranges
# ---------------------------------------------------------------------------------------------------------
class _Recorder:
    def __init__(self, record_shapes: bool) -> None:
        self.events: list[FunctionEvent] = []
        self.record_shapes = record_shapes
        self.local = threading.local()
        self.origin = time.perf_counter_ns()
        self.lock = threading.Lock()

    def begin(self, name: str, args: tuple = (), user: bool = False) -> FunctionEvent:
        stack = getattr(self.local, "stack", None)
        if stack is None:
            stack = self.local.stack = []
        shapes = [list(a.shape) if hasattr(a, "shape") and hasattr(a, "_data") else [] for a in args] \
            if self.record_shapes else None
        with self.lock:
            ev = FunctionEvent(len(self.events), name, (time.perf_counter_ns() - self.origin) / 1e3,
                               threading.get_ident(), shapes, user)
            self.events.append(ev)
        if stack:
            ev.cpu_parent = stack[-1]
            stack[-1].cpu_children.append(ev)
        stack.append(ev)
        return ev

    def end(self, ev: FunctionEvent) -> None:
        ev.end_us = (time.perf_counter_ns() - self.origin) / 1e3
        stack = self.local.stack
        while stack:
            if stack.pop() is ev:
                break


_current: _Recorder | None = None
_hooks: list = []  # (owner, name, original) while ops are wrapped


def _timed(fn: Callable, event_name: str) -> Callable:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        rec = _current
        if rec is None:
            return fn(*args, **kwargs)
        ev = rec.begin(event_name, args)
        try:
            return fn(*args, **kwargs)
        finally:
            rec.end(ev)
    wrapper.__name__ = getattr(fn, "__name__", event_name)
    wrapper.__doc__ = fn.__doc__
    wrapper.__wrapped__ = fn
    return wrapper


_DUNDERS = {"__add__": "add", "__radd__": "add", "__sub__": "sub", "__rsub__": "rsub", "__mul__": "mul",
            "__rmul__": "mul", "__truediv__": "div", "__rtruediv__": "div", "__matmul__": "matmul",
            "__rmatmul__": "matmul", "__pow__": "pow", "__rpow__": "pow", "__neg__": "neg",
            "__getitem__": "index", "__setitem__": "index_put_", "__iadd__": "add_", "__isub__": "sub_",
            "__imul__": "mul_", "__itruediv__": "div_", "__eq__": "eq", "__lt__": "lt", "__gt__": "gt",
            "__le__": "le", "__ge__": "ge", "__ne__": "ne"}


_INPLACE_EXTRA = {"fill_", "zero_", "copy_", "uniform_", "normal_", "bernoulli_", "exponential_", "random_",
                  "geometric_", "log_normal_", "cauchy_", "index_put_", "masked_fill_", "fill_diagonal_"}


def _install_hooks() -> None:
    import ndgrad
    from ndgrad import Tensor
    from ndgrad.nn import functional as F
    from ndgrad.ops._core import REGISTRY

    def wrap(owner: Any, name: str, event: str) -> None:
        original = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name, None)
        if original is None or not callable(original) or isinstance(original, (type, property)):
            return
        _hooks.append((owner, name, original))
        setattr(owner, name, _timed(original, f"aten::{event}"))

    for name, (fn, is_method, is_function) in REGISTRY.items():
        if is_function and ndgrad.__dict__.get(name) is fn:
            wrap(ndgrad, name, name)
        if is_method and Tensor.__dict__.get(name) is fn:
            wrap(Tensor, name, name)
    for name in list(Tensor.__dict__):  # in-place forms of ops, fills and random fills
        if name.endswith("_") and not name.startswith("_") and (name[:-1] in REGISTRY or name in _INPLACE_EXTRA):
            wrap(Tensor, name, name)
    for dunder, event in _DUNDERS.items():
        wrap(Tensor, dunder, event)
    for name, obj in list(F.__dict__.items()):  # nn.functional's own functions and the kernels it re-exports
        if not name.startswith("_") and callable(obj) and not isinstance(obj, type) \
                and getattr(obj, "__module__", "") in ("ndgrad.nn.functional", "ndgrad.ops.nn"):
            wrap(F, name, name)


def _remove_hooks() -> None:
    while _hooks:
        owner, name, original = _hooks.pop()
        setattr(owner, name, original)


# ---------------------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------------------
class record_function:  # noqa: N801 - PyTorch's name
    """Label a range of code (`with record_function("name"):` or as a decorator); while a profile records,
    it appears as an event of that name holding the ops run inside it."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name, self.args = name, args
        self._event: FunctionEvent | None = None
        self._rec: _Recorder | None = None

    def __enter__(self) -> "record_function":
        self._rec = _current
        if self._rec is not None:
            self._event = self._rec.begin(self.name, user=True)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._rec is not None and self._event is not None:
            self._rec.end(self._event)
        self._event = self._rec = None

    def __call__(self, fn: Callable) -> Callable:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)
        wrapper.__name__ = getattr(fn, "__name__", self.name)
        wrapper.__doc__ = fn.__doc__
        return wrapper


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:
    """The action at each step: skip `skip_first` steps, then cycles of `wait` idle, `warmup` and `active`
    recorded steps (the last one saves), `repeat` times (0: forever)."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError("Invalid profiler schedule arguments")
    if warmup == 0:
        import warnings
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", stacklevel=2)

    def action(step: int) -> ProfilerAction:
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        num = wait + warmup + active
        if repeat > 0 and step // num >= repeat:
            return ProfilerAction.NONE
        mod = step % num
        if mod < wait:
            return ProfilerAction.NONE
        if mod < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if mod < num - 1 else ProfilerAction.RECORD_AND_SAVE
    return action


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False) -> Callable[["profile"], None]:
    """An `on_trace_ready` that writes each finished trace into `dir_name` as
    `<worker>.<time>.pt.trace.json` (gzip-compressed with `use_gzip`)."""
    def handler(prof: "profile") -> None:
        os.makedirs(dir_name, exist_ok=True)
        name = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        path = os.path.join(dir_name, f"{name}.{time.time_ns() // 1_000_000}.pt.trace.json")
        prof.export_chrome_trace(path)
        if use_gzip:
            import gzip
            import shutil
            with open(path, "rb") as src, gzip.open(path + ".gz", "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.remove(path)
    return handler


class _ProfileBase:
    """Start/stop and the views of the recorded events, shared by the two `profile` classes."""

    def __init__(self, record_shapes: bool) -> None:
        self.record_shapes = record_shapes
        self._rec: _Recorder | None = None
        self._saved: EventList | None = None
        self._outer: _Recorder | None = None

    def _start(self) -> None:
        global _current
        if self._rec is not None:
            return
        self._outer = _current
        self._rec = _current = _Recorder(self.record_shapes)
        if not _hooks:
            _install_hooks()

    def _stop(self) -> None:
        global _current
        if self._rec is None:
            return
        self._saved = EventList(self._rec.events)
        _current = self._outer
        self._rec = self._outer = None
        if _current is None:
            _remove_hooks()

    def events(self) -> EventList:
        if self._saved is None:
            raise RuntimeError("Profiler didn't finish running")
        return self._saved

    @property
    def function_events(self) -> EventList:
        return self.events()

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        return self.events().key_averages(group_by_input_shape, group_by_stack_n)

    def total_average(self) -> FunctionEventAvg:
        return self.events().total_average()

    @property
    def self_cpu_time_total(self) -> float:
        return self.events().self_cpu_time_total

    def table(self, **kwargs: Any) -> str:
        return self.events().table(**kwargs)

    def export_chrome_trace(self, path: str) -> None:
        _write_trace(self.events(), path)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        with open(path, "w") as f:
            for ev in self.events():
                names = []
                e = ev
                while e is not None:
                    names.append(e.name)
                    e = e.cpu_parent
                f.write(f"{';'.join(reversed(names))} {int(getattr(ev, metric))}\n")


class profile(_ProfileBase):  # noqa: N801 - PyTorch's name
    """Record where time goes in a block (see the module docstring); with a `schedule`, call `step()` once
    per iteration and receive each finished cycle in `on_trace_ready`."""

    def __init__(self, *, activities: Iterable | None = None, schedule: Callable | None = None,
                 on_trace_ready: Callable | None = None, record_shapes: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_flops: bool = False, with_modules: bool = False,
                 experimental_config: Any = None, execution_trace_observer: Any = None, acc_events: bool = False,
                 use_cuda: bool | None = None, custom_trace_id_callback: Any = None) -> None:
        super().__init__(record_shapes)
        self.activities = set(activities) if activities is not None else supported_activities()
        self.schedule = schedule or (lambda step: ProfilerAction.RECORD)
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self._action = ProfilerAction.NONE
        self._scheduled = schedule is not None

    def start(self) -> None:
        self._action = self.schedule(self.step_num)
        if self._action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE) \
                and ProfilerActivity.CPU in self.activities:
            self._start()

    def stop(self) -> None:
        recording = self._rec is not None
        self._stop()
        if recording and self.on_trace_ready is not None and (
                not self._scheduled or self._action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)):
            self.on_trace_ready(self)

    def step(self) -> None:
        """Mark the end of an iteration: the schedule decides whether the next one records."""
        prev = self._action
        self.step_num += 1
        self._action = self.schedule(self.step_num)
        if prev == ProfilerAction.RECORD_AND_SAVE or (
                prev == ProfilerAction.RECORD and self._action not in (ProfilerAction.RECORD,
                                                                       ProfilerAction.RECORD_AND_SAVE)):
            self._stop()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)
        if self._action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE) and self._rec is None \
                and ProfilerActivity.CPU in self.activities:
            self._start()

    def __enter__(self) -> "profile":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

