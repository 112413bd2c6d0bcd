"""Adam and AdamW as one fused kernel over every parameter, without `torch.optim`.

Two reasons not to use `torch.optim.Adam` here. Building any `torch.optim` optimiser imports
`torch._dynamo` the first time in a process: about 1 s on a CPU and 4 s beside CUDA (measured on an
H200), longer than a whole small fit, paid by every CLI run and every fresh benchmark process. And a
training step replayed as a CUDA graph needs its learning rate and step counts in device memory,
which this class keeps there from the start. The update itself is PyTorch's own fused kernel
(`torch._fused_adam_` / `torch._fused_adamw_`, on CPU and CUDA), so the arithmetic is the same as
`torch.optim.Adam(fused=True)`. The CPU kernel needs torch >= 2.4.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


class FusedAdam:
    """Adam with L2 weight decay (``decoupled=False``, CTGAN's) or AdamW (``decoupled=True``)."""

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled: bool = False,
    ) -> None:
        self.params = [p for p in params if p.requires_grad]
        if not self.params:
            raise ValueError("FusedAdam needs at least one parameter that requires grad")
        device = self.params[0].device
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self._update = torch._fused_adamw_ if decoupled else torch._fused_adam_
        # On CUDA the rate lives on the device, so a captured step reads the current value.
        self._lr: float | torch.Tensor = torch.tensor(float(lr), device=device) if device.type == "cuda" else float(lr)
        self.exp_avg = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.steps = [torch.zeros((), dtype=torch.float32, device=device) for _ in self.params]

    @property
    def lr(self) -> float:
        return float(self._lr)

    def set_lr(self, lr: float) -> None:
        """Change the rate; on CUDA an in-place device write, so no host sync and graph-safe."""
        if isinstance(self._lr, torch.Tensor):
            self._lr.fill_(lr)
        else:
            self._lr = float(lr)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        live = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not live:
            return
        pick = (lambda items: [items[i] for i in live]) if len(live) < len(self.params) else (lambda items: items)
        steps = pick(self.steps)
        torch._foreach_add_(steps, 1)
        self._update(
            pick(self.params),
            [self.params[i].grad for i in live],
            pick(self.exp_avg),
            pick(self.exp_avg_sq),
            [],
            steps,
            lr=self._lr,
            beta1=self.beta1,
            beta2=self.beta2,
            weight_decay=self.weight_decay,
            eps=self.eps,
            amsgrad=False,
            maximize=False,
        )
