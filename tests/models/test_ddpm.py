"""The diffusion generator: its noise processes, schedule, encoder, and short seeded fits."""

import numpy as np
import pandas as pd
import pytest
import torch

from synthgen.errors import InputError
from synthgen.models import DDPM, DDPMConfig, load_model
from synthgen.models.diffusion import (
    Denoiser,
    GaussianDiffusion,
    MaskedDiffusion,
    cosine_alpha_bar,
    respaced_timesteps,
)
from synthgen.models.diffusion.masked import draw_categories
from synthgen.recipe import parse_recipe
from synthgen.schema import Column, ColumnKind, ColumnSpec, infer_schema
from synthgen.transforms import QuantileNormalizer, TableTransformer

SMALL = {"width": 64, "depth": 2, "batch_size": 256, "sampling_steps": 20, "device": "cpu", "lr": 3e-3}


# -- noise processes -------------------------------------------------------------------------------
def test_cosine_schedule_decreases_from_one_to_zero():
    ab = cosine_alpha_bar(1000)
    assert ab.shape == (1000,)
    assert torch.all(ab[1:] < ab[:-1])
    assert ab[0] > 0.999 and ab[-1] < 1e-4


def test_gaussian_forward_process_has_the_scheduled_mean_and_variance():
    process = GaussianDiffusion(1000)
    torch.manual_seed(0)
    for step in (0, 300, 700, 999):
        x0 = torch.full((200_000, 1), 2.0)
        t = torch.full((200_000,), step)
        xt = process.q_sample(x0, t, torch.randn_like(x0))
        ab = float(process.alpha_bar[step])
        assert float(xt.mean()) == pytest.approx(2.0 * ab**0.5, abs=0.01)
        assert float(xt.var()) == pytest.approx(1.0 - ab, abs=0.01)


def test_gaussian_final_reverse_step_returns_the_clean_estimate():
    process = GaussianDiffusion(1000)
    x0, noise = torch.randn(100, 3).clamp(-3, 3), torch.randn(100, 3)
    t = torch.full((100,), 400)
    xt = process.q_sample(x0, t, noise)
    out = process.p_sample(xt, noise, t, torch.full((100,), -1))
    torch.testing.assert_close(out, x0, atol=1e-4, rtol=1e-4)


def _solve(solver: str, steps: int, eta: float = 0.5, mean: float = 1.0, std: float = 0.5) -> torch.Tensor:
    """Noise to data by ``solver`` with the exact noise prediction of N(mean, std^2) data: what is left
    over is the solver's own error (the exact reverse process ends at N(mean, std^2))."""
    process = GaussianDiffusion(1000)
    timesteps = respaced_timesteps(1000, steps)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(50_000, 1, generator=generator)
    chain = process.solver(solver, eta)
    for i in reversed(range(len(timesteps))):
        t = timesteps[i].expand(len(x))
        t_prev = (timesteps[i - 1] if i else torch.tensor(-1)).expand(len(x))
        ab = process._alpha_bar(t)
        eps = (1 - ab).sqrt() * (x - ab.sqrt() * mean) / (ab * std**2 + 1 - ab)
        x = chain.step(x, eps, t, t_prev, generator, final=i <= 1)
    return x


def test_second_order_solver_lands_nearer_the_data_than_ddim_in_few_steps():
    for steps in (10, 20):
        errors = {}
        for solver in ("ddim", "dpm++2m-sde"):
            x = _solve(solver, steps)
            errors[solver] = abs(float(x.mean()) - 1.0) + abs(float(x.std()) - 0.5)
        assert errors["dpm++2m-sde"] < errors["ddim"] / 2, (steps, errors)
    x = _solve("dpm++2m-sde", 20)
    assert float(x.mean()) == pytest.approx(1.0, abs=0.01) and float(x.std()) == pytest.approx(0.5, abs=0.025)
    with pytest.raises(ValueError, match="unknown solver 'euler': ddim or dpm\\+\\+2m-sde"):
        GaussianDiffusion(10).solver("euler")


def test_masked_forward_process_masks_with_the_scheduled_probability():
    process = MaskedDiffusion([3, 5], timesteps=1000)
    x0 = torch.stack([torch.randint(3, (100_000,)), torch.randint(5, (100_000,))], dim=1)
    for step in (0, 249, 749, 999):
        xt, mask = process.q_sample(x0, torch.full((100_000,), step))
        assert float(mask.float().mean()) == pytest.approx((step + 1) / 1000, abs=0.005)
        assert torch.equal(xt[mask[:, 0], 0].unique(), torch.tensor([3])) or not mask[:, 0].any()
        assert torch.equal(xt[~mask], x0[~mask])


def test_masked_reverse_steps_unmask_gradually_and_completely():
    process = MaskedDiffusion([3, 5], timesteps=1000)
    xt = process.all_masked(20_000, torch.device("cpu"))
    logits = torch.zeros(20_000, 8)
    half = process.p_sample(xt, logits, torch.full((20_000,), 999), torch.full((20_000,), 499))
    assert float((half == process.mask_token).float().mean()) == pytest.approx(0.5, abs=0.02)
    final = process.p_sample(half, logits, torch.full((20_000,), 499), torch.full((20_000,), -1))
    assert not (final == process.mask_token).any()
    kept = half != process.mask_token
    assert torch.equal(final[kept], half[kept])
    assert final[:, 0].max() < 3 and final[:, 1].max() < 5


def test_category_draws_follow_the_softmax_and_never_take_a_disallowed_category():
    logits = torch.tensor([[0.0, 1.0, float("-inf"), 2.0]]).expand(200_000, -1)
    draws = draw_categories(logits, torch.Generator().manual_seed(0))
    shares = torch.bincount(draws, minlength=4).float() / len(draws)
    expected = torch.softmax(logits[0], 0)
    assert shares[2] == 0
    assert torch.allclose(shares, expected, atol=0.005)
    first_disallowed = torch.tensor([[float("-inf"), 0.0]]).expand(50_000, -1)
    assert (draw_categories(first_disallowed, torch.Generator().manual_seed(1)) == 1).all()


def test_reverse_steps_ask_for_the_logits_of_revealed_entries_only():
    """Over a chain every entry is revealed exactly once, so a column's logits are computed once per row in
    all, not once per row and step, and the categories follow the logits as when all are given."""
    process = MaskedDiffusion([3, 5], timesteps=1000)
    rows = 20_000
    full = torch.cat([torch.tensor([0.0, 2.0, 0.0]), torch.tensor([1.0, 0.0, 0.0, 0.0, 3.0])]).expand(rows, -1)
    asked = []

    def column_logits(index: torch.Tensor, j: int) -> torch.Tensor:
        asked.append(len(index))
        assert (x[index, j] == process.mask_token[j]).all()  # only still-masked entries
        return full[index, process.starts[j] : process.starts[j + 1]]

    g = torch.Generator().manual_seed(0)
    x = process.all_masked(rows, torch.device("cpu"))
    times = respaced_timesteps(1000, 15)
    for i in reversed(range(len(times))):
        t_prev = times[i - 1] if i else torch.tensor(-1)
        x = process.p_sample(x, column_logits, times[i], t_prev, g)
    assert sum(asked) == rows * 2
    assert not (x == process.mask_token).any()
    shares = torch.bincount(x[:, 0], minlength=3).float() / rows
    assert torch.allclose(shares, torch.softmax(full[0, :3], 0), atol=0.01)


def test_output_heads_match_the_full_forward_pass():
    net = Denoiser(3, [4, 6], n_classes=2, width=32, depth=2).eval()
    x_num, x_cat = torch.randn(50, 3), torch.stack([torch.randint(5, (50,)), torch.randint(7, (50,))], 1)
    y = torch.randint(2, (50,))
    with torch.no_grad():
        eps, logits = net(x_num, x_cat, torch.tensor(400), y)
        hidden = net.hidden(x_num, x_cat, torch.tensor(400), y)
        assert torch.allclose(net.head(hidden, 0, 3), eps, atol=1e-5)
        assert torch.allclose(net.head(hidden[7:9], 3 + 4, 3 + 10), logits[7:9, 4:], atol=1e-5)


def test_respaced_schedule():
    steps = respaced_timesteps(1000, 50)
    assert len(steps) == 50 and steps[0] == 0 and steps[-1] == 999
    assert torch.all(steps[1:] > steps[:-1])
    assert len(respaced_timesteps(10, 50)) == 10


# -- encoding --------------------------------------------------------------------------------------
def test_quantile_normalizer_round_trips_ties_and_nulls():
    rng = np.random.default_rng(0)
    values = pd.Series(np.where(rng.random(5000) < 0.1, np.nan, rng.integers(0, 30, 5000).astype(float)))
    encoder = QuantileNormalizer(Column(name="x", kind=ColumnKind.INTEGER, nullable=True)).fit(values, rng)
    block = encoder.transform(values, rng)
    assert block.shape == (5000, 3) and abs(block[:, 0].mean()) < 0.1 and 0.8 < block[:, 0].std() < 1.2
    back = encoder.inverse([block[:, 0], block[:, 1:].argmax(axis=1)])
    pd.testing.assert_series_equal(back.astype(float), values.rename("x"), check_dtype=False)
    restored = QuantileNormalizer.from_state(encoder.column, encoder.get_state())
    np.testing.assert_array_equal(
        restored.transform(values, np.random.default_rng(0)), encoder.transform(values, np.random.default_rng(0))
    )


def test_table_transformer_keeps_mode_specific_by_default(mixed_frame):
    schema = infer_schema(mixed_frame)
    assert {s.activation for s in TableTransformer().fit(mixed_frame, schema).spans} == {"tanh", "softmax"}
    quantile = TableTransformer(continuous="quantile").fit(mixed_frame, schema)
    assert TableTransformer.from_state(quantile.get_state()).continuous == "quantile"


# -- configuration ---------------------------------------------------------------------------------
def test_gpu_profile_fills_unset_fields_only():
    assert DDPMConfig().width == 256
    gpu = DDPMConfig(profile="gpu", width=384)
    assert gpu.width == 384 and gpu.batch_size == 4096 and gpu.steps == 1600
    assert DDPMConfig(**gpu.model_dump()) == gpu


def test_recipe_accepts_a_ddpm_model():
    recipe = parse_recipe("name: x\nsource: data.csv\ngenerator: {type: ddpm, steps: 10, max_minutes: 1.5}\n")
    assert recipe.generator.type == "ddpm" and recipe.generator.max_minutes == 1.5


# -- short fits ------------------------------------------------------------------------------------
def two_modes_frame() -> pd.DataFrame:
    """Two amount modes; the default rate is 0.6 in the high one and 0.1 in the low one."""
    rng = np.random.default_rng(3)
    n = 3000
    grade = rng.choice(["A", "B", "C"], n, p=[0.6, 0.3, 0.1])
    amount = np.where(rng.random(n) < 0.5, rng.normal(-5, 1, n), rng.normal(10, 2, n)).round(2)
    default = (rng.random(n) < np.where(amount > 2.5, 0.6, 0.1)).astype(int)
    return pd.DataFrame({"amount": amount, "grade": grade, "default": default})


@pytest.fixture(scope="module")
def two_modes():
    return two_modes_frame()


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def fitted(two_modes):
    schema = infer_schema(two_modes, target="default")
    return DDPM(steps=1000, seed=0, **SMALL).fit(two_modes, schema)


def test_fit_reproduces_two_modes_and_category_shares(fitted, two_modes):
    rows = fitted.sample(4000, seed=1)
    high = (rows["amount"] > 2.5).mean()
    assert high == pytest.approx((two_modes["amount"] > 2.5).mean(), abs=0.05)
    assert rows["amount"].between(-1.0, 4.0).mean() < 0.06, "the gap between the modes stays empty"
    assert rows.loc[rows["amount"] > 2.5, "amount"].mean() == pytest.approx(10, abs=0.6)
    assert rows.loc[rows["amount"] < 2.5, "amount"].mean() == pytest.approx(-5, abs=0.4)
    shares = rows["grade"].value_counts(normalize=True)
    for grade, share in {"A": 0.6, "B": 0.3, "C": 0.1}.items():
        assert shares[grade] == pytest.approx(share, abs=0.05)
    assert rows["default"].mean() == pytest.approx(two_modes["default"].mean(), abs=0.03)


def test_target_conditioning_shifts_the_class_balance(fitted):
    rows = fitted.sample(3000, seed=2, target={0: 0.2, 1: 0.8})
    assert rows["default"].mean() == pytest.approx(0.8, abs=0.002)  # allocated, not drawn: exact to a row
    only = fitted.sample(2000, seed=2, target=1)
    assert (only["default"] == 1).all()
    # the condition carries its relation to the features: defaulters mostly sit in the high mode
    assert (only["amount"] > 2.5).mean() > 0.7
    with pytest.raises(InputError):
        fitted.sample(10, target={"nope": 1.0})


def test_fewer_sampling_steps_still_sample(fitted):
    rows = fitted.sample(500, seed=3, sampling_steps=5)
    assert len(rows) == 500 and rows["amount"].notna().all()


def test_save_load_round_trip_keeps_samples_and_conditions(fitted, tmp_path):
    reloaded = load_model(fitted.save(tmp_path / "ddpm"), device="cpu")
    pd.testing.assert_frame_equal(reloaded.sample(300, seed=5), fitted.sample(300, seed=5))
    pd.testing.assert_frame_equal(reloaded.sample(300, seed=5, target=1), fitted.sample(300, seed=5, target=1))
    assert reloaded.steps_done_ == fitted.steps_done_ == 1000


def test_max_minutes_stops_training(two_modes):
    model = DDPM(steps=10**7, max_minutes=0.02, max_epochs=None, **SMALL)
    model.fit(two_modes)
    assert 0 < model.steps_done_ < 10**7
    assert model.train_seconds_ < 1.2 + 2.0


def test_max_epochs_caps_the_steps_and_progress_reaches_the_end(two_modes):
    calls = []
    model = DDPM(steps=10**7, max_epochs=10, **SMALL).fit(two_modes, progress=lambda *a: calls.append(a))
    total = int(np.ceil(10 * len(two_modes) / SMALL["batch_size"]))
    assert model.steps_done_ == total
    assert calls[-1][:2] == (total, total) and "loss" in calls[-1][2]


def test_unconditioned_model_treats_the_target_as_a_column(two_modes):
    """Without a class embedding the target is denoised like any category, and target= still holds it."""
    model = DDPM(steps=30, condition_on_target=False, **SMALL).fit(two_modes, infer_schema(two_modes, target="default"))
    assert model.class_shares_ is None and set(model.sample(50)["default"]) <= {0, 1}
    assert (model.sample(40, target=1)["default"] == 1).all()


def test_layout_splits_and_joins_the_compact_form(german):
    from synthgen.models.ddpm import Layout

    schema = infer_schema(german, target="creditability")
    transformer = TableTransformer(continuous="quantile").fit(german, schema)
    compact = transformer.compact(transformer.transform(german)).numpy()
    layout = Layout.of(transformer, "creditability")
    numeric, codes, target = layout.split(compact)
    assert numeric.shape[1] == layout.n_numeric and codes.shape[1] == len(layout.cardinalities) and target is not None
    np.testing.assert_array_equal(layout.join(numeric, codes, target), compact)
    pd.testing.assert_frame_equal(
        transformer.inverse_compact(layout.join(numeric, codes, target)), german, check_dtype=False, atol=1e-6
    )


def test_sampling_options_reach_every_chunk_and_are_checked(fitted):
    rows = pd.concat(list(fitted.iter_sample(50, seed=3, target=1, sampling_steps=5)))
    assert len(rows) == 50 and (rows["default"] == 1).all()
    with pytest.raises(InputError, match="sampling_steps"):
        fitted.sample(10, sampling_steps=0)
    with pytest.raises(InputError, match=r"takes no option\(s\) steps"):
        fitted.sample(10, steps=5)
    with pytest.raises(InputError, match="solver must be one of ddim, dpm\\+\\+2m-sde, got 'euler'"):
        fitted.sample(10, solver="euler")


def test_second_order_solver_samples_the_two_modes_in_ten_steps(fitted, two_modes):
    rows = fitted.sample(4000, seed=1, solver="dpm++2m-sde", sampling_steps=10)
    assert (rows["amount"] > 2.5).mean() == pytest.approx((two_modes["amount"] > 2.5).mean(), abs=0.05)
    assert rows["amount"].between(-1.0, 4.0).mean() < 0.06
    assert rows.loc[rows["amount"] > 2.5, "amount"].std() == pytest.approx(2.0, abs=0.4)
    assert rows["grade"].value_counts(normalize=True)["A"] == pytest.approx(0.6, abs=0.05)
    pd.testing.assert_frame_equal(rows, fitted.sample(4000, seed=1, solver="dpm++2m-sde", sampling_steps=10))


def test_class_weights_match_brute_force_for_every_pattern_of_held_columns(fitted):
    """Seed rows hold different columns: each pattern's nearest reference rows, as a direct search finds
    them; a row holding nothing gets the training shares."""
    from synthgen.models.ddpm import CLASS_NEIGHBOURS

    gen = torch.Generator().manual_seed(0)
    x_ref, y_ref = torch.randn(300, 3, generator=gen), torch.randint(0, 2, (300,), generator=gen)
    scores = torch.randn(40, 3, generator=gen)
    mask = torch.zeros(40, 3, dtype=torch.bool)
    mask[:10, 0] = True  # amount only
    mask[10:25, :2] = True  # two columns
    mask[25:35] = True  # all three
    weights = fitted._class_weights((mask, scores), (x_ref, y_ref))
    shares = torch.tensor(fitted.class_shares_)
    for i in range(40):
        used = mask[i]
        if not used.any():
            assert torch.allclose(weights[i], shares)
            continue
        d = ((scores[i, used] - x_ref[:, used]) ** 2).sum(1)
        nearest = d.argsort()[:CLASS_NEIGHBOURS]
        expected = torch.bincount(y_ref[nearest], minlength=2).float() + shares
        assert torch.allclose(weights[i], expected), i


# -- classifier-free guidance (issue 15) -------------------------------------------------------------
@pytest.fixture(scope="module")
def guided(two_modes):
    schema = infer_schema(two_modes, target="default")
    return DDPM(steps=1000, seed=0, label_dropout=0.2, **SMALL).fit(two_modes, schema)


def _high_share(rows: pd.DataFrame, default: int) -> float:
    return float((rows.loc[rows["default"] == default, "amount"] > 2.5).mean())


def test_guidance_sharpens_what_sets_the_classes_apart(guided):
    """In two_modes a defaulter is in the high mode with probability 0.86 and a payer with 0.31. Guidance w
    samples about p(x) p(y | x)^(1 + w): at w = 2 that is 0.99 and 0.08 (this fit: 0.98 and 0.11).
    Unguided, the model trained with hidden classes is still the plain conditional model."""
    plain = guided.sample(4000, seed=1)  # a small net blurs the modes a little: 0.78 and 0.33
    assert _high_share(plain, 1) == pytest.approx(0.86, abs=0.1)
    assert _high_share(plain, 0) == pytest.approx(0.31, abs=0.06)
    assert plain["default"].mean() == pytest.approx(0.35, abs=0.03)
    sharp = guided.sample(4000, seed=1, guidance=2.0)
    assert _high_share(sharp, 1) > 0.95
    assert _high_share(sharp, 0) < 0.18
    assert sharp["default"].mean() == pytest.approx(0.35, abs=0.03), "the class shares are drawn, not guided"
    assert guided.denoiser_.label_in.num_embeddings == 3  # two classes and the class-free one


def test_guided_outputs_mix_the_conditional_and_class_free_predictions(guided):
    """The CPU path's lazy logits and its noise equal (1 + w) x conditional - w x class-free, computed directly."""
    gen = torch.Generator().manual_seed(0)
    n, net = 64, guided.denoiser_
    x_num = torch.randn(n, guided.layout_.n_numeric, generator=gen)
    x_cat = guided.masked_.all_masked(n, torch.device("cpu"))
    y, t = torch.randint(0, 2, (n,), generator=gen), torch.tensor(500)
    eps_c, logits_c = net(x_num, x_cat, t, y)
    eps_u, logits_u = net(x_num, x_cat, t, torch.full_like(y, guided.null_class))
    eps, column_logits = guided._outputs(x_num, x_cat, t, y, None, guidance=1.5)
    torch.testing.assert_close(eps, 2.5 * eps_c - 1.5 * eps_u, atol=1e-5, rtol=1e-5)
    rows, (begin, end) = torch.tensor([3, 7, 40]), guided.masked_.starts[:2]
    expected = 2.5 * logits_c[rows, begin:end] - 1.5 * logits_u[rows, begin:end]
    torch.testing.assert_close(column_logits(rows, 0), expected, atol=1e-5, rtol=1e-5)


def test_guidance_needs_a_model_that_learned_the_class_free_rows(fitted, two_modes, guided, tmp_path):
    with pytest.raises(InputError, match="guidance=1 needs a model trained with label_dropout > 0"):
        fitted.sample(10, guidance=1.0)
    with pytest.raises(InputError, match="guidance must be a number >= 0"):
        guided.sample(10, guidance=-1)
    with pytest.raises(ValueError, match="needs a model trained with label_dropout > 0"):
        DDPMConfig(guidance=1.0)
    with pytest.raises(InputError, match="label_dropout .* need a discrete target"):
        DDPM(steps=5, label_dropout=0.1, **SMALL).fit(two_modes[["amount", "grade"]])
    reloaded = load_model(guided.save(tmp_path / "guided"), device="cpu")
    pd.testing.assert_frame_equal(reloaded.sample(200, seed=3, guidance=1.0), guided.sample(200, seed=3, guidance=1.0))


# -- spikes (issue 15) -------------------------------------------------------------------------------
def idle_and_active_accounts() -> pd.DataFrame:
    """Idle accounts: no balance and no utilisation together (40 %); the rest long-tailed and related."""
    rng = np.random.default_rng(5)
    n = 3000
    idle = rng.random(n) < 0.4
    balance = np.where(idle, 0.0, rng.lognormal(8, 0.8, n).round(0))
    utilisation = np.where(idle, 0.0, np.clip(balance / 200 + rng.normal(0, 5, n), 1, 99).round(1))
    grade = np.where(idle, rng.choice(["A", "B"], n, p=[0.8, 0.2]), rng.choice(["A", "B"], n, p=[0.3, 0.7]))
    return pd.DataFrame({"balance": balance, "utilisation": utilisation, "grade": grade})


@pytest.fixture(scope="module")
def balances():
    return idle_and_active_accounts()


@pytest.fixture(scope="module")
def spiky(balances):
    schema = infer_schema(balances)
    assert schema["balance"].spikes == [0.0] and schema["utilisation"].spikes[0] == 0.0  # (and 1.0, its clip)
    return DDPM(steps=800, seed=0, **SMALL).fit(balances, schema)


def _idle_in_one_column_only(rows: pd.DataFrame) -> float:
    return float(((rows["balance"] == 0) != (rows["utilisation"] == 0)).mean())


def test_spikes_keep_zeros_exact_and_together(spiky, balances):
    rows = spiky.sample(3000, seed=1)
    zero_balance = rows["balance"] == 0
    assert zero_balance.mean() == pytest.approx(0.4, abs=0.04)
    # An idle account is idle in both columns: 2.3 % of rows are not, against 10.8 % when the zeros
    # are a stretch of quantile scores (the same fit with spikes: false).
    assert _idle_in_one_column_only(rows) < 0.04
    plain = infer_schema(balances, {name: ColumnSpec(spikes=False) for name in ("balance", "utilisation")})
    without = DDPM(steps=800, seed=0, **SMALL).fit(balances, plain).sample(3000, seed=1)
    assert _idle_in_one_column_only(without) > 2 * _idle_in_one_column_only(rows)
    assert (rows.loc[~zero_balance, "balance"] >= balances.loc[balances["balance"] > 0, "balance"].min()).all()
    assert (rows.loc[zero_balance, "grade"] == "A").mean() == pytest.approx(0.8, abs=0.08)


def test_conditions_on_a_spiky_column_hold_the_spike_or_the_continuous_part(spiky):
    idle = spiky.sample(400, seed=2, conditions={"balance": 0})
    assert (idle["balance"] == 0).all()
    assert (idle["utilisation"] == 0).mean() > 0.95
    active = spiky.sample(400, seed=3, conditions={"balance": (1, None)})
    assert (active["balance"] >= 1).all()
    assert (active["utilisation"] == 0).mean() < 0.05
    held = spiky.sample(pd.DataFrame({"balance": [0.0, 5000.0] * 100}), seed=4)
    np.testing.assert_array_equal(held["balance"], [0.0, 5000.0] * 100)
    assert (held["utilisation"].iloc[1::2] > 0).mean() > 0.95
