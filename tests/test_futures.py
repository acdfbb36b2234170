"""ndgrad.futures (torch.futures): Future, then, callbacks, collect_all, wait_all, across threads,
checked against PyTorch's behaviour (live, or recorded without torch)."""
import threading
import time

import pytest

import ndgrad


def scenario(torch):
    F = torch.futures
    out = []
    f = F.Future()
    out.append(f.done())
    f.set_result(3)
    out += [f.done(), f.wait(), f.value(), f.then(lambda fut: fut.wait() * 2).wait()]
    try:
        f.set_result(4)
    except RuntimeError as e:
        out.append(str(e))
    h = F.Future()
    h.set_exception(ValueError("boom"))
    for call in (h.wait, h.value, h.then(lambda fut: fut.wait() + 1).wait):
        try:
            call()
        except Exception as e:  # noqa: BLE001
            out.append((type(e).__name__, str(e).split("\n")[0]))
    a, b = F.Future(), F.Future()
    c = F.collect_all([a, b])
    out.append(c.done())
    a.set_result(1)
    out.append(c.done())
    b.set_result(2)
    out += [c.done(), [x.wait() for x in c.wait()], F.wait_all([a, b])]
    e = F.Future()
    e.set_exception(RuntimeError("x"))
    try:
        F.wait_all([a, e])
    except RuntimeError as err:
        out.append(str(err))
    seen = []
    z = F.Future()
    z.add_done_callback(lambda fut: seen.append(fut.value()))
    z.set_result(5)
    z.add_done_callback(lambda fut: seen.append(fut.value() + 1))
    out.append(seen)
    try:
        F.Future().set_exception("notexc")
    except AssertionError as err:
        out.append(str(err))
    return out


def test_futures_match_torch(torch_ref):
    assert scenario(ndgrad) == torch_ref("scenario", scenario)


def test_wait_blocks_until_another_thread_sets_the_result():
    f = ndgrad.futures.Future()
    threading.Thread(target=lambda: (time.sleep(0.05), f.set_result("late"))).start()
    assert f.wait() == "late"
    g = ndgrad.futures.Future()
    with pytest.raises(RuntimeError, match="has not completed"):
        g.value()
    assert ndgrad.futures.collect_all([]).wait() == []
