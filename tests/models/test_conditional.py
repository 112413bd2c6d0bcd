import numpy as np
import torch

from synthgen.models.gan.conditional import ConditionSampler
from synthgen.schema import infer_schema
from synthgen.transforms import TableTransformer


def _sampler(frame):
    schema = infer_schema(frame)
    transformer = TableTransformer().fit(frame, schema)
    encoded = transformer.transform(frame)
    return transformer, encoded, ConditionSampler(encoded, transformer.spans, log_frequency=True)


def test_training_conditions_follow_log_frequency(german):
    _, encoded, sampler = _sampler(german)
    generator = torch.Generator().manual_seed(0)
    n = 200_000
    cond, column, category, rows = sampler.sample_train(n, generator)
    # columns are picked uniformly
    column_share = torch.bincount(column, minlength=sampler.n_columns).float() / n
    assert torch.allclose(column_share, torch.full_like(column_share, 1 / sampler.n_columns), atol=0.01)
    # within a column, categories follow log(1 + count), normalised
    for j in range(sampler.n_columns):
        picked = category[column == j]
        observed = torch.bincount(picked, minlength=sampler.counts.shape[1]).float() / picked.numel()
        expected = torch.log1p(sampler.counts[j]) / torch.log1p(sampler.counts[j]).sum()
        assert torch.allclose(observed, expected, atol=0.02), j
    # the condition vector has exactly one hot entry, and each chosen real row has the category
    assert torch.all(cond.sum(dim=1) == 1)
    positions = sampler.data_positions[column, category]
    assert torch.all(encoded[rows, positions] == 1)


def test_sampling_conditions_follow_true_frequency(german):
    _, _, sampler = _sampler(german)
    generator = torch.Generator().manual_seed(1)
    totals = sampler.sample_original(200_000, generator).sum(dim=0)
    for j in range(sampler.n_columns):
        width = int(sampler.valid[j].sum())
        start = int(sampler.cond_offsets[j])
        block = totals[start : start + width]
        assert torch.allclose(block / block.sum(), sampler.sample_probs[j, :width], atol=0.02), j


def test_condition_loss_is_low_when_output_matches():
    frame = __import__("pandas").DataFrame({"g": ["a", "b", "c"] * 50, "x": np.arange(150.0)})
    _, encoded, sampler = _sampler(frame)
    _, column, category, rows = sampler.sample_train(64, torch.Generator().manual_seed(0))
    matching = encoded[rows] * 20.0
    random = torch.randn_like(matching)
    assert sampler.condition_loss(matching, column, category) < 0.01
    assert sampler.condition_loss(random, column, category) > 0.5


def test_state_keeps_sampling_frequencies(german):
    _, _, sampler = _sampler(german)
    restored = ConditionSampler.from_state(sampler.get_state(), torch.device("cpu"))
    assert torch.allclose(restored.sample_probs, sampler.sample_probs)
    assert restored.width == sampler.width


def test_categories_without_weight_are_never_drawn(german):
    from synthgen.models.gan.conditional import _cdf

    _, _, sampler = _sampler(german)
    probs = sampler.sample_probs.clone()
    probs[:, 0] = 0.0  # the first category of every column, and every padded slot, has no weight
    probs = probs / probs.sum(dim=1, keepdim=True)
    _, column, category = sampler._draw(100_000, _cdf(probs), torch.Generator().manual_seed(2))
    assert torch.all(category > 0)
    assert torch.all(sampler.valid[column, category])
