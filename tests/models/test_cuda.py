"""The CUDA path of every generator: run on a machine with a GPU, skipped elsewhere (CI has none)."""

import pandas as pd
import pytest
import torch

from synthgen.models import GENERATORS, load_model

from .test_contract import TINY

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(params=sorted(GENERATORS))
def name(request):
    return request.param


def test_cuda_fit_sample_and_reload(name, mixed_frame, tmp_path):
    model = GENERATORS[name](device="cuda", seed=3, **TINY[name]).fit(mixed_frame)
    assert model.device_.type == "cuda"
    rows = model.sample(500, seed=1)
    assert list(rows.columns) == list(mixed_frame.columns) and len(rows) == 500
    pd.testing.assert_frame_equal(rows, model.sample(500, seed=1))
    path = model.save(tmp_path / "model")
    on_gpu = load_model(path, device="cuda")
    pd.testing.assert_frame_equal(on_gpu.sample(500, seed=1), rows)
    on_cpu = load_model(path, device="cpu")  # a model trained on a GPU serves on a CPU-only machine
    assert list(on_cpu.sample(50, seed=1).columns) == list(mixed_frame.columns)


def test_cuda_sampling_memory_is_flat(name, mixed_frame):
    model = GENERATORS[name](device="cuda", seed=0, **TINY[name]).fit(mixed_frame)
    peaks = []
    for n in (20_000, 200_000):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        model.sample(n, seed=0)
        peaks.append(torch.cuda.max_memory_allocated())
    assert peaks[1] < 2 * peaks[0] + 64 * 2**20, f"peak GPU memory grew with the rows: {peaks}"


def test_ctgan_trains_by_graph_replay():
    """The captured step is the whole of training after three warm-up steps: it must learn both modes."""
    import numpy as np

    from synthgen.models import CTGAN

    rng = np.random.default_rng(0)
    n = 2000
    x = np.round(np.concatenate([rng.normal(-5, 1, int(n * 0.6)), rng.normal(10, 2, int(n * 0.4))]), 2)
    frame = pd.DataFrame({"x": x, "g": rng.choice(["a", "b"], n)})
    eager = CTGAN(epochs=2, batch_size=200, device="cuda", seed=0, cuda_graphs=False).fit(frame)
    assert not eager.cuda_graph_
    model = CTGAN(epochs=40, batch_size=200, device="cuda", seed=0).fit(frame)
    assert model.cuda_graph_
    assert all(np.isfinite(list(epoch.values())).all() for epoch in model.history_)
    sample = model.sample(4000, seed=1)["x"]
    low, high = sample[sample < 2.5], sample[sample >= 2.5]
    assert 0.4 < len(low) / len(sample) < 0.85
    assert abs(low.median() + 5) < 1.5 and abs(high.median() - 10) < 2.5


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_graph_replay_trains_like_eager_steps(name, mixed_frame):
    """Replaying the captured step must give the same training as running it eagerly."""
    settings = {
        "ctgan": {"epochs": 3, "batch_size": 100},
        "ddpm": {"steps": 60, "batch_size": 64, "width": 32, "depth": 2},
    }[name]
    graphed = GENERATORS[name](device="cuda", seed=0, **settings).fit(mixed_frame)
    eager = GENERATORS[name](device="cuda", seed=0, cuda_graphs=False, **settings).fit(mixed_frame)
    assert graphed.cuda_graph_ and not eager.cuda_graph_
    key = "loss_g" if name == "ctgan" else "loss"
    ours, reference = [h[key] for h in graphed.history_], [h[key] for h in eager.history_]
    assert len(ours) == len(reference) > 2
    torch.testing.assert_close(torch.tensor(ours), torch.tensor(reference), rtol=1e-2, atol=1e-3)


def test_spiky_columns_and_their_conditions_on_cuda():
    """Spikes (issue 15) trained and steered on the GPU: zeros exact and together, conditions held."""
    from synthgen.models import DDPM

    from .test_ddpm import idle_and_active_accounts

    frame = idle_and_active_accounts()
    model = DDPM(steps=800, seed=0, width=64, depth=2, batch_size=256, lr=3e-3, device="cuda").fit(frame)
    rows = model.sample(3000, seed=1)
    assert (rows["balance"] == 0).mean() == pytest.approx(0.4, abs=0.04)
    assert ((rows["balance"] == 0) != (rows["utilisation"] == 0)).mean() < 0.04
    held = model.sample(400, seed=2, conditions={"balance": 0})
    assert (held["balance"] == 0).all() and (held["utilisation"] == 0).mean() > 0.95
    active = model.sample(400, seed=3, conditions={"balance": (1, None)})
    assert (active["balance"] >= 1).all() and (active["utilisation"] == 0).mean() < 0.05


def test_the_gpu_draws_categories_as_the_cpu_does(mixed_frame, tmp_path):
    """The CPU asks for the logits of revealed rows only, the GPU computes them all and keeps the revealed
    draws: one model, sampled on each, gives the same category shares (different random streams)."""
    from synthgen.models import DDPM

    model = DDPM(steps=300, seed=0, width=64, depth=2, batch_size=128, device="cpu").fit(mixed_frame)
    path = model.save(tmp_path / "model")
    on_cpu = load_model(path, device="cpu").sample(20_000, seed=1)
    on_gpu = load_model(path, device="cuda").sample(20_000, seed=1)
    for column in ("grade", "flag"):
        cpu_shares = on_cpu[column].value_counts(normalize=True, dropna=False)
        gpu_shares = on_gpu[column].value_counts(normalize=True, dropna=False).reindex(cpu_shares.index, fill_value=0)
        assert (cpu_shares - gpu_shares).abs().max() < 0.03, column


def test_guided_sampling_on_cuda(tmp_path):
    """Classifier-free guidance on the GPU's path (every output in one autocast pass, the conditional and
    class-free rows side by side): the mix is (1 + w) x conditional - w x class-free, and it sharpens the
    classes as on the CPU (test_ddpm.test_guidance_sharpens_what_sets_the_classes_apart)."""
    from synthgen.models import DDPM
    from synthgen.schema import infer_schema

    from .test_ddpm import _high_share, two_modes_frame

    frame = two_modes_frame()
    model = DDPM(
        steps=1000, seed=0, label_dropout=0.2, width=64, depth=2, batch_size=256, lr=3e-3, sampling_steps=20
    ).fit(frame, infer_schema(frame, target="default"))
    on_gpu = load_model(model.save(tmp_path / "guided"), device="cuda")
    sharp = on_gpu.sample(4000, seed=1, guidance=2.0)
    assert _high_share(sharp, 1) > 0.95 and _high_share(sharp, 0) < 0.18
    net, n = on_gpu.denoiser_, 256
    gen = torch.Generator(device="cuda").manual_seed(0)
    x_num = torch.randn(n, on_gpu.layout_.n_numeric, device="cuda", generator=gen)
    x_cat = on_gpu.masked_.all_masked(n, torch.device("cuda"))
    y, t = torch.randint(0, 2, (n,), device="cuda", generator=gen), torch.tensor(500, device="cuda")
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):  # as the model runs there
        eps_c, logits_c = (out.float() for out in net(x_num, x_cat, t, y))
        eps_u, logits_u = (out.float() for out in net(x_num, x_cat, t, torch.full_like(y, on_gpu.null_class)))
    with torch.no_grad():
        eps, logits = on_gpu._outputs(x_num, x_cat, t, y, None, guidance=1.5)
    # bfloat16 products of a batch twice as large may round a last bit differently
    torch.testing.assert_close(eps, 2.5 * eps_c - 1.5 * eps_u, atol=0.1, rtol=0.02)
    torch.testing.assert_close(logits, 2.5 * logits_c - 1.5 * logits_u, atol=0.1, rtol=0.02)


def test_pooled_rare_levels_on_cuda(tmp_path):
    """Rare levels pooled and drawn back on the GPU, conditions on a rare level held (issue 15)."""
    from synthgen.models import DDPM
    from synthgen.schema import infer_schema

    from .test_rare_levels import branch_loans

    frame = branch_loans()
    model = DDPM(steps=300, seed=0, rare_level_rows=5, width=64, depth=2, batch_size=256, device="cuda")
    model.fit(frame, infer_schema(frame))
    assert model.masked_.cardinalities[0] == 13
    rows = model.sample(4000, seed=1)
    assert rows["branch"].str.startswith("R").mean() == pytest.approx(
        frame["branch"].str.startswith("R").mean(), abs=0.03
    )
    assert (model.sample(50, seed=2, conditions={"branch": "R007"})["branch"] == "R007").all()
