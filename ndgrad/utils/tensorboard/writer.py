"""SummaryWriter: scalars, histograms, images, figures and text for TensorBoard, written as event
files by ndgrad itself (no TensorBoard or protobuf package needed to write them; TensorBoard
reads them as it reads torch.utils.tensorboard's)."""
from __future__ import annotations

import math
import os
import socket
import time
import warnings
from datetime import datetime
from typing import Any

import numpy as np

from . import _records as R

__all__ = ["FileWriter", "SummaryWriter"]

_file_counter = [0]  # the last part of an event file's name: one number per file in this process


def _numpy(x: Any) -> np.ndarray:
    from ..._tensor import Tensor
    if isinstance(x, Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def _step(global_step: Any) -> int:
    return 0 if global_step is None else int(global_step)


class FileWriter:
    """One event file in `log_dir`: a version record first, then one record per event."""

    def __init__(self, log_dir: str, max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = "") -> None:
        self._log_dir = str(log_dir)
        os.makedirs(self._log_dir, exist_ok=True)
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}."
                f"{_file_counter[0]}{filename_suffix}")
        _file_counter[0] += 1
        self._path = os.path.join(self._log_dir, name)
        self._file: Any = open(self._path, "wb")  # noqa: SIM115 - kept open until close()
        self._max_queue, self._flush_secs = max_queue, flush_secs
        self._pending, self._last_flush = 0, time.time()
        self.add_event(R.event(time.time(), file_version="brain.Event:2",
                               writer_name="tensorboard.summary.writer.event_file_writer"))

    def get_logdir(self) -> str:
        return self._log_dir

    def add_event(self, event: bytes) -> None:
        if self._file is None:
            raise RuntimeError("the SummaryWriter was closed; create a new one to write more events")
        self._file.write(R.record(event))
        self._pending += 1
        if self._pending >= self._max_queue or time.time() - self._last_flush >= self._flush_secs:
            self.flush()

    def add_summary(self, summary: bytes, global_step: Any = None, walltime: float | None = None) -> None:
        self.add_event(R.event(time.time() if walltime is None else walltime, _step(global_step),
                               summary=summary))

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()
        self._pending, self._last_flush = 0, time.time()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class SummaryWriter:
    """Log values for TensorBoard under `log_dir` (default ``runs/<date>_<host><comment>``).

    ``add_scalar``, ``add_scalars`` (one sub-folder per series), ``add_histogram``, ``add_image(s)``,
    ``add_figure`` and ``add_text`` write what torch.utils.tensorboard writes; ``purge_step`` marks
    a restart at that step. Events are buffered and written after `max_queue` events,
    `flush_secs` seconds, ``flush()`` or ``close()``."""

    def __init__(self, log_dir: str | None = None, comment: str = "", purge_step: int | None = None,
                 max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = "") -> None:
        if not log_dir:
            log_dir = os.path.join("runs", datetime.now().strftime("%b%d_%H-%M-%S") + "_" + socket.gethostname()
                                   + comment)
        self.log_dir = str(log_dir)
        self.purge_step = purge_step
        self.max_queue, self.flush_secs, self.filename_suffix = max_queue, flush_secs, filename_suffix
        self.file_writer: FileWriter | None = None
        self.all_writers: dict[str, FileWriter] = {}
        self._get_file_writer()
        self.default_bins = _tensorflow_edges()

    def _get_file_writer(self) -> FileWriter:
        if self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                now = time.time()
                self.file_writer.add_event(R.event(now, self.purge_step, file_version="brain.Event:2"))
                self.file_writer.add_event(R.event(now, self.purge_step, session_start=True))
                self.purge_step = None
        return self.file_writer

    def get_logdir(self) -> str:
        """The folder the event files go to."""
        return self.log_dir

    # -- values ---------------------------------------------------------------------------
    def add_scalar(self, tag: str, scalar_value: Any, global_step: Any = None, walltime: float | None = None,
                   new_style: bool = False, double_precision: bool = False) -> None:
        """One number (a Python or NumPy number, or a one-element tensor) at `global_step`."""
        value = _scalar(scalar_value)
        if new_style:
            tensor = (R.tensor_message(R.DT_DOUBLE, doubles=[value]) if double_precision else
                      R.tensor_message(R.DT_FLOAT, floats=[value]))
            summary = R.summary_value(tag, tensor=tensor, plugin="scalars")
        else:
            summary = R.summary_value(tag, simple_value=value)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict[str, Any], global_step: Any = None,
                    walltime: float | None = None) -> None:
        """Several series in one chart: each key gets its own run folder ``<log_dir>/<main_tag>_<key>``."""
        walltime = time.time() if walltime is None else walltime
        base = self._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            path = base + "/" + main_tag.replace("/", "_") + "_" + tag
            writer = self.all_writers.get(path)
            if writer is None:
                writer = self.all_writers[path] = FileWriter(path, self.max_queue, self.flush_secs,
                                                             self.filename_suffix)
            writer.add_summary(R.summary_value(main_tag, simple_value=_scalar(value)), global_step, walltime)

    def add_histogram(self, tag: str, values: Any, global_step: Any = None, bins: Any = "tensorflow",
                      walltime: float | None = None, max_bins: int | None = None) -> None:
        """The distribution of `values`: TensorFlow's exponential buckets by default, or any `bins`
        NumPy's histogram takes."""
        arr = _numpy(values).astype(np.float64).reshape(-1)
        edges = self.default_bins if isinstance(bins, str) and bins == "tensorflow" else bins
        self._get_file_writer().add_summary(
            R.summary_value(tag, histo=_histogram(arr, edges, max_bins)), global_step, walltime)

    def add_image(self, tag: str, img_tensor: Any, global_step: Any = None, walltime: float | None = None,
                  dataformats: str = "CHW") -> None:
        """One image: floats in [0, 1] (scaled by 255) or uint8, laid out as `dataformats` says
        (CHW, HWC or HW; one channel is shown grey, four as RGBA)."""
        self._get_file_writer().add_summary(
            R.summary_value(tag, image=_image(_to_hwc(_numpy(img_tensor), dataformats))), global_step, walltime)

    def add_images(self, tag: str, img_tensor: Any, global_step: Any = None, walltime: float | None = None,
                   dataformats: str = "NCHW") -> None:
        """A batch of images shown as one grid of up to 8 columns."""
        self._get_file_writer().add_summary(
            R.summary_value(tag, image=_image(_to_hwc(_numpy(img_tensor), dataformats))), global_step, walltime)

    def add_figure(self, tag: str, figure: Any, global_step: Any = None, close: bool = True,
                   walltime: float | None = None) -> None:
        """A matplotlib figure (or a list of them, shown as a grid) rendered to an image."""
        if isinstance(figure, list):
            self.add_images(tag, np.stack([_figure_pixels(f, close) for f in figure]), global_step, walltime,
                            dataformats="NHWC")
        else:
            self.add_image(tag, _figure_pixels(figure, close), global_step, walltime, dataformats="HWC")

    def add_text(self, tag: str, text_string: str, global_step: Any = None, walltime: float | None = None) -> None:
        """Text (rendered as Markdown by TensorBoard), under ``<tag>/text_summary``."""
        tensor = R.tensor_message(R.DT_STRING, shape=[1], strings=[text_string.encode("utf-8")])
        self._get_file_writer().add_summary(R.summary_value(tag + "/text_summary", tensor=tensor, plugin="text"),
                                            global_step, walltime)

    def add_graph(self, model: Any, input_to_model: Any = None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """Not recorded: ndgrad has no graph tracer to describe the model with (a warning says so)."""
        warnings.warn("ndgrad's SummaryWriter does not record model graphs; add_graph wrote nothing",
                      UserWarning, stacklevel=2)

    def _not_yet(self, what: str) -> None:
        raise NotImplementedError(f"ndgrad's SummaryWriter does not write {what} yet")

    def add_hparams(self, *args: Any, **kwargs: Any) -> None:
        self._not_yet("hyperparameters (add_hparams)")

    def add_embedding(self, *args: Any, **kwargs: Any) -> None:
        self._not_yet("embeddings (add_embedding)")

    def add_audio(self, *args: Any, **kwargs: Any) -> None:
        self._not_yet("audio (add_audio)")

    def add_video(self, *args: Any, **kwargs: Any) -> None:
        self._not_yet("video (add_video)")

    def add_pr_curve(self, *args: Any, **kwargs: Any) -> None:
        self._not_yet("PR curves (add_pr_curve)")

    def add_mesh(self, *args: Any, **kwargs: Any) -> None:
        self._not_yet("meshes (add_mesh)")

    def add_custom_scalars(self, *args: Any, **kwargs: Any) -> None:
        self._not_yet("custom scalar layouts (add_custom_scalars)")

    # -- files ------------------------------------------------------------------------------
    def flush(self) -> None:
        """Write out the buffered events."""
        for writer in self.all_writers.values():
            writer.flush()

    def close(self) -> None:
        """Flush and close every event file (a closed writer reopens on the next value)."""
        for writer in self.all_writers.values():
            writer.flush()
            writer.close()
        self.file_writer, self.all_writers = None, {}

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# -- conversions ----------------------------------------------------------------------------
def _scalar(value: Any) -> float:
    arr = _numpy(value)
    if arr.size != 1:
        raise AssertionError(f"Tensor should contain one element (0 dimensions). Was given size: {arr.size} and "
                             f"{arr.ndim} dimensions.")
    return float(arr.reshape(()))


def _tensorflow_edges() -> np.ndarray:
    """TensorFlow's default histogram edges: +-1e-12 * 1.1**k up to 1e20, and 0."""
    pos = []
    v = 1e-12
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    return np.array([-x for x in reversed(pos)] + [0.0] + pos)


def _histogram(values: np.ndarray, bins: Any, max_bins: int | None) -> bytes:
    if values.size == 0:
        raise ValueError("The input has no element.")
    counts, edges = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:  # merge runs of `group` buckets
        group = len(counts) // max_bins
        extra = len(counts) % group
        if extra:
            counts = np.concatenate([counts, np.zeros(group - extra, counts.dtype)])
        counts = counts.reshape(-1, group).sum(axis=1)
        edges = np.concatenate([edges[:-1:group], edges[-1:]])
    nonzero = np.flatnonzero(counts)
    first, last = int(nonzero[0]), int(nonzero[-1])
    # TensorBoard reads only right edges: one empty bucket on the left keeps the leftmost edge
    kept = np.concatenate([[0], counts[:last + 1]]) if first == 0 else counts[first - 1:last + 1]
    limits = edges[first:last + 2]
    return R.histogram_message(float(values.min()), float(values.max()), float(values.size), float(values.sum()),
                               float(values.dot(values)), limits.tolist(), [float(c) for c in kept])


def _to_hwc(arr: np.ndarray, dataformats: str) -> np.ndarray:
    """An image or a batch (N first: a grid of up to 8 columns) as (H, W, C) with C = 3 or 4."""
    fmt = dataformats.upper()
    if len(set(fmt)) != len(fmt) or set(fmt) - set("NCHW") or arr.ndim != len(fmt):
        raise ValueError(f"size of input tensor and input format are different. tensor shape: {arr.shape}, "
                         f"input_format: {dataformats}")
    if "N" in fmt:
        arr = arr.transpose([fmt.index(d) for d in "NCHW"])
        if arr.shape[1] == 1:
            arr = np.repeat(arr, 3, axis=1)
        n, c, h, w = arr.shape
        cols = min(n, 8)
        rows = math.ceil(n / cols)
        grid = np.zeros((c, h * rows, w * cols), arr.dtype)
        for i in range(n):
            r, k = divmod(i, cols)
            grid[:, r * h:(r + 1) * h, k * w:(k + 1) * w] = arr[i]
        return grid.transpose(1, 2, 0)
    if "C" not in fmt:
        arr = arr[..., None]
        fmt += "C"
    arr = arr.transpose([fmt.index(d) for d in "HWC"])
    return np.repeat(arr, 3, axis=2) if arr.shape[2] == 1 else arr


def _image(hwc: np.ndarray) -> bytes:
    scale = 1 if hwc.dtype == np.uint8 else 255
    pixels = np.ascontiguousarray((hwc.astype(np.float32) * scale).clip(0, 255).astype(np.uint8))
    h, w, c = pixels.shape
    return R.image_message(h, w, c, R.png(pixels))


def _figure_pixels(figure: Any, close: bool) -> np.ndarray:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    w, h = figure.canvas.get_width_height()
    pixels = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8).reshape(h, w, 4)[:, :, :3].copy()
    if close:
        import matplotlib.pyplot as plt
        plt.close(figure)
    return pixels
