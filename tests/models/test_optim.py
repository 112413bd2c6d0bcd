import pytest
import torch

from synthgen.models.optim import FusedAdam


def _pair(decoupled: bool):
    torch.manual_seed(0)
    ours = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    theirs.load_state_dict(ours.state_dict())
    reference = torch.optim.AdamW if decoupled else torch.optim.Adam
    return ours, theirs, reference


@pytest.mark.parametrize("decoupled", [False, True])
def test_matches_torch_adam_step_for_step(decoupled):
    ours, theirs, reference = _pair(decoupled)
    opt = FusedAdam(ours.parameters(), 1e-2, betas=(0.5, 0.9), weight_decay=0.05, decoupled=decoupled)
    ref = reference(theirs.parameters(), 1e-2, betas=(0.5, 0.9), weight_decay=0.05)
    x, y = torch.randn(32, 6), torch.randn(32, 1)
    for step in range(6):
        if step == 3:  # a schedule changes the rate between steps
            opt.set_lr(5e-3)
            for group in ref.param_groups:
                group["lr"] = 5e-3
        for model, optimiser in ((ours, opt), (theirs, ref)):
            optimiser.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            optimiser.step()
    for a, b in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert opt.lr == pytest.approx(5e-3)


def test_parameters_without_gradient_keep_their_state():
    frozen, live = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(3))
    opt = FusedAdam([frozen, live], 0.1)
    live.grad = torch.ones(3)
    opt.step()
    assert torch.equal(frozen.detach(), torch.ones(3)) and float(opt.steps[0]) == 0
    assert torch.all(live < 1) and float(opt.steps[1]) == 1


def test_needs_a_trainable_parameter():
    with pytest.raises(ValueError, match="at least one parameter"):
        FusedAdam([torch.nn.Parameter(torch.ones(2), requires_grad=False)], 0.1)


def test_building_it_does_not_import_dynamo():
    import subprocess
    import sys

    code = (
        "import sys, torch; from synthgen.models.optim import FusedAdam; "
        "p = torch.nn.Parameter(torch.ones(3)); o = FusedAdam([p], 0.1); p.grad = torch.ones(3); o.step(); "
        "sys.exit(1 if 'torch._dynamo' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
