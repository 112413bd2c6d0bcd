"""The parts of a diffusion generator: a denoiser network and one noise process per column type.

`GaussianDiffusion` noises quantile-normal numeric scores, `MaskedDiffusion` hides categories behind a
mask token, `Denoiser` predicts both the Gaussian noise and the hidden categories. The loops that tie
them together live in `synthgen.models.ddpm`.
"""

from synthgen.models.diffusion.denoiser import Denoiser
from synthgen.models.diffusion.gaussian import SOLVERS, GaussianDiffusion, cosine_alpha_bar, respaced_timesteps
from synthgen.models.diffusion.masked import MaskedDiffusion

__all__ = ["SOLVERS", "Denoiser", "GaussianDiffusion", "MaskedDiffusion", "cosine_alpha_bar", "respaced_timesteps"]
