import pytest
import torch

from synthgen.device import GraphedStep

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _counter(device):
    count = torch.zeros((), device=device)
    return count, lambda: count.add_(1)


def test_graphed_step_is_eager_on_the_cpu():
    count, step = _counter("cpu")
    run = GraphedStep(step, torch.device("cpu"))
    for _ in range(7):
        run()
    assert float(count) == 7 and not run.captured


@cuda
def test_graphed_step_runs_every_call_once_on_cuda():
    device = torch.device("cuda")
    count, step = _counter(device)
    run = GraphedStep(step, device, warmup=2)
    for _ in range(10):
        run()
    # two eager warm-up calls, the capturing call (replayed once) and seven replays
    assert run.captured and float(count) == 10


@cuda
def test_graphed_step_replays_fresh_random_numbers():
    device = torch.device("cuda")
    draws = torch.zeros(6, 4, device=device)
    index = torch.zeros((), dtype=torch.long, device=device)

    def step():
        draws.index_copy_(0, index.view(1), torch.rand(1, 4, device=device))
        index.add_(1)

    run = GraphedStep(step, device, warmup=1)
    for _ in range(6):
        run()
    assert run.captured
    assert torch.unique(draws.flatten()).numel() == draws.numel()


@cuda
def test_uncapturable_step_warns_and_stays_eager():
    device = torch.device("cuda")
    total = torch.zeros((), device=device)

    def step():
        if float(total) >= 0:  # a host sync: not capturable
            total.add_(1)

    run = GraphedStep(step, device, warmup=1)
    with pytest.warns(RuntimeWarning, match="CUDA graph capture failed"):
        for _ in range(4):
            run()
    assert not run.captured and float(total) == 4
    assert torch.cuda.current_stream(device) == torch.cuda.default_stream(device)  # the caller's stream is back


def test_on_step_sees_the_step_built_then_after_every_call():
    count, step = _counter("cpu")
    seen = []
    run = GraphedStep(step, torch.device("cpu"), on_step=lambda r: seen.append((r.calls, r.last, float(count))))
    for _ in range(3):
        run()
    assert seen == [(0, None, 0.0), (1, "eager", 1.0), (2, "eager", 2.0), (3, "eager", 3.0)]


@cuda
def test_on_step_reports_warmup_capture_and_replay():
    device = torch.device("cuda")
    _, step = _counter(device)
    kinds = []
    run = GraphedStep(step, device, warmup=2, on_step=lambda r: kinds.append(r.last))
    for _ in range(5):
        run()
    assert kinds == [None, "warmup", "warmup", "capture", "replay", "replay"]
