r"""Training an energy-based model as a GAN (the paper's section 4), and its baselines.

One readable loop serves three algorithms:

``ebm``
    The energy $E_\theta$, a learned scalar $\log Z$ and a flow sampler $q$ are trained together.
    Energy step: `irlgan.losses.discriminator_loss` with cost $=E$, i.e. a logistic
    discriminator with logit $\ell = -E - \log Z - \log q$ between data and samples of $q$ (NCE
    with an adaptive noise). Sampler step: `irlgan.losses.generator_loss`,
    $L_\text{gen} = \mathbb{E}_q[E] + \mathbb{E}_q[\log q] + \log Z$, through reparameterised
    samples, plus ``flow_ml_weight`` times the flow's negative log-likelihood on the data batch.
    The balance is set by ``energy_steps`` and ``generator_steps`` per iteration and an optional
    accuracy gate: the sampler steps only while the discriminator's accuracy is at least
    ``gate_accuracy``; the number of sampler updates is logged.
``nce``
    The same energy step with a fixed noise: a Gaussian fitted to the data by moments
    (``noise="gaussian"``), or a flow first trained by maximum likelihood for
    ``pretrain_iterations`` and then frozen, mixed with the broad Gaussian (``noise="flow"``).
``flow``
    The flow alone by maximum likelihood; evaluated as an energy model with
    $E = -\log q_\text{flow}$ and $\log Z = 0$.

Every ``eval_every`` iterations the validation NLL $\mathbb{E}_\text{val}[E] + \log Z$ is
computed and the best parameters are kept; the final numbers are computed from those best
parameters (`evaluate_density`). In 2-D log Z comes from quadrature on a coarse grid; above 2-D
no quadrature is feasible and it comes from annealed importance sampling
(`irlgan.density.ais_log_z`) from the model's own noise (the flow, or the fixed Gaussian of
NCE), with the same random numbers at every validation so that the comparison between
iterations is not swamped by Monte-Carlo noise; for the flow baseline log Z = 0 exactly.
With ``average_decay`` > 0 (the default) these are the parameters of an exponential moving
average of the iterates (Polyak averaging), the same for every algorithm; training itself
continues from the current parameters.

The ebm sampler and the flow noise of ``nce`` are the same family, the flow mixed with a broad
Gaussian (``broad_weight``), so that the comparison of the two isolates adaptive against fixed
noise.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor, nn

from irlgan import losses
from irlgan.density._ais import AISResult, ais_log_z
from irlgan.density._datasets import (
    DATASETS,
    REFERENCE_NLL,
    dataset_dim,
    digits_bits_per_dim,
    sample_data,
)
from irlgan.density._evaluate import (
    MMD_BANDWIDTHS,
    importance_log_z_with_ess,
    in_chunks,
    mmd,
    quadrature_log_z,
    quadrature_report,
)
from irlgan.density._models import EnergyMLP, FlowSampler, GaussianNoise
from irlgan.devices import generator_on, resolve_device
from irlgan.errors import PARAMETER_LIMIT, VALUE_LIMIT, check_divergence
from irlgan.schedule import lr_fraction
from irlgan.seeding import DENSITY_STREAMS, spawn_seeds

__all__ = ["DensityConfig", "DensityTrainer", "evaluate_density"]

Algorithm = Literal["ebm", "nce", "flow"]


@dataclass(frozen=True)
class DensityConfig:
    """Settings of an EBM / NCE / flow run on a toy dataset (2-D, a product of 2-D copies, or a
    Gaussian mixture in d dimensions)."""

    algorithm: Algorithm = "ebm"
    """`ebm` (energy + learned log Z + flow generator), `nce` (fixed noise) or `flow` (ML)."""
    dataset: str = "8gaussians"
    """One of irlgan.density.DATASETS, ``<name>-x<k>`` for k independent copies (d = 2k), or
    ``gmm-d<d>``, a fixed Gaussian mixture in d dimensions."""
    iterations: int = 3000
    """Training iterations (for nce with flow noise: after the flow's pretraining)."""
    batch_size: int = 512
    """Data points per iteration; the sampler draws as many."""
    energy_hidden: tuple[int, ...] = (128, 128, 128, 128)
    """Hidden widths of the energy MLP. Four layers rather than three: on checkerboard the KL gap
    of every energy model falls from about 0.05 to 0.028 (benchmark page)."""
    confine: float = 0.1
    """Coefficient κ of the confining term κ/2·|x|² in the energy."""
    flow_transforms: int = 4
    """Spline layers of the flow."""
    flow_hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of each flow layer's conditioner."""
    flow_bins: int = 8
    """Bins of each rational-quadratic spline."""
    flow_passes: int = 2
    """Sequential passes of each flow layer's inverse (0: fully autoregressive, d passes). With
    2 each layer is a coupling of the even and the odd coordinates, and sampling costs 2
    conditioner passes per layer instead of d; in 2-D the two are the same flow."""
    broad_weight: float = 0.25
    """Weight of the broad Gaussian mixed into the flow noise of ebm and nce (noise="flow")."""
    broad_std: float = 3.0
    """Standard deviation of the broad Gaussian."""
    energy_lr: float = 1e-2
    """Adam learning rate of the energy (cosine-decayed to final_lr_fraction of it)."""
    log_z_lr: float = 1e-2
    """Adam learning rate of the learned log Z."""
    flow_lr: float = 3e-3
    """Adam learning rate of the flow trained by maximum likelihood (the flow baseline, and the
    pretraining of nce with noise="flow")."""
    generator_lr: float = 1e-3
    """Adam learning rate of the flow as the ebm's generator. Lower than flow_lr: against the
    four-layer energy, 3e-3 left the generator swinging (batch flow NLL 3.6-4.7 nats on
    checkerboard, importance-sampling ESS 0.33-0.52)."""
    final_lr_fraction: float = 0.05
    """Every learning rate ends at this fraction of its start (cosine schedule)."""
    average_decay: float = 0.998
    """Decay of an exponential moving average of all parameters (0: off). When on, validation,
    the best checkpoint and the final evaluation use the averaged parameters."""
    energy_steps: int = 1
    """Energy (and log Z) updates per iteration."""
    generator_steps: int = 1
    """Sampler updates per iteration (ebm)."""
    gate_accuracy: float = 0.0
    """The sampler steps only while the discriminator's batch accuracy is at least this."""
    flow_ml_weight: float = 1.0
    """Weight of the flow's maximum-likelihood term in the ebm sampler step."""
    noise: Literal["gaussian", "flow"] = "gaussian"
    """NCE noise: a Gaussian fitted to the data, or a flow pretrained by ML and frozen."""
    noise_inflate: float = 1.0
    """Covariance factor of the Gaussian NCE noise."""
    pretrain_iterations: int = 1500
    """ML iterations of the flow before NCE with noise="flow"."""
    eval_every: int = 250
    """Iterations between validation NLLs (for keeping the best parameters)."""
    validation_size: int = 20000
    """Validation points."""
    eval_box: float = 5.5
    """Half-width of the quadrature box [-b, b]^2 (2-D only)."""
    eval_resolution: int = 300
    """Grid points per axis of the validation quadrature (2-D only)."""
    final_resolution: int = 800
    """Grid points per axis of the final quadrature (2-D only)."""
    ais_chains: int = 1024
    """Chains of the final annealed-importance-sampling log Z (every dimension)."""
    ais_steps: int = 500
    """Annealing steps of the final AIS log Z (one generalised-HMC move each)."""
    val_ais_chains: int = 256
    """Chains of the validation AIS log Z (above 2-D)."""
    val_ais_steps: int = 100
    """Annealing steps of the validation AIS log Z (above 2-D)."""
    test_size: int = 100000
    """Test points of the final NLL."""
    importance_samples: int = 100000
    """Proposal samples of the importance-sampling log Z."""
    mmd_samples: int = 3000
    """Points per side of the MMD estimates."""
    log_every: int = 50
    """Iterations between metric rows."""
    checkpoint_every: int = 500
    """Iterations between checkpoints (0: only at the end)."""

    def __post_init__(self) -> None:
        if self.algorithm not in ("ebm", "nce", "flow"):
            raise ValueError(f"algorithm must be ebm, nce or flow, got {self.algorithm!r}")
        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}: choose one of "
                             f"{', '.join(DATASETS)}, <name>-x<k> for k >= 1 copies (d = 2k), "
                             f"gmm-d<d> (a Gaussian mixture, d >= 2) or digits")
        if self.noise not in ("gaussian", "flow"):
            raise ValueError(f"noise must be gaussian or flow, got {self.noise!r}")
        for name in ("iterations", "batch_size", "eval_every", "validation_size", "test_size",
                     "importance_samples", "mmd_samples", "log_every", "flow_transforms",
                     "flow_bins", "energy_steps", "eval_resolution", "final_resolution",
                     "ais_steps", "val_ais_steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("ais_chains", "val_ais_chains"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 2:
                raise ValueError(f"{name} must be an integer of at least 2, got {value!r}")
        for name in ("generator_steps", "pretrain_iterations", "checkpoint_every", "flow_passes"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        for name in ("energy_lr", "log_z_lr", "flow_lr", "generator_lr", "final_lr_fraction",
                     "eval_box", "broad_std", "noise_inflate"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if not 0.0 <= self.broad_weight < 1.0:
            raise ValueError(f"broad_weight must lie in [0, 1), got {self.broad_weight}")
        if not 0.0 <= self.average_decay < 1.0:
            raise ValueError(f"average_decay must lie in [0, 1), got {self.average_decay}")
        if not 0.0 <= self.gate_accuracy <= 1.0:
            raise ValueError(f"gate_accuracy must lie in [0, 1], got {self.gate_accuracy}")
        if self.confine < 0 or self.flow_ml_weight < 0:
            raise ValueError("confine and flow_ml_weight must be non-negative")

    @property
    def dim(self) -> int:
        """The dimension d of the dataset's points."""
        return dataset_dim(self.dataset)

    @property
    def flow_noise(self) -> bool:
        """Whether the energy step's noise is the flow sampler (ebm, and nce with noise="flow")."""
        return self.algorithm == "ebm" or (self.algorithm == "nce" and self.noise == "flow")

    @property
    def pretrain(self) -> int:
        """ML iterations before the main phase (nce with flow noise only)."""
        return self.pretrain_iterations if self.algorithm == "nce" and self.noise == "flow" else 0

    @property
    def total_iterations(self) -> int:
        """All iterations of the run, pretraining included."""
        return self.pretrain + self.iterations


AIS_ESS_WARNING = 0.05
"""Below this effective-sample-size fraction a run's AIS log Z carries a note (``log_z_ais_note``):
the weights are dominated by a few chains, typically ones that found a deep mode of the energy
far from the data and the noise."""

METRIC_FIELDS = (
    "iteration", "phase", "loss_disc", "loss_gen", "flow_nll_batch", "accuracy", "log_z",
    "energy_updates", "generator_updates", "val_nll", "val_log_z_quad", "val_log_z_ais",
    "wall_s",
)


class DensityTrainer:
    """Holds the models, optimisers and random state of one run; `step` runs one iteration.

    Args:
        config: the run's settings.
        seed: the run's seed. Every random component draws from its own stream
            (`irlgan.seeding.DENSITY_STREAMS`, spawned from `SeedSequence(seed)`): the training
            generator, the energy's and the flow's initialisation (inside
            `torch.random.fork_rng`, so the global generator is left as it was), the Gaussian
            noise's fit, and the validation, test, importance-sampling and MMD samples.
        device: where the models live and train ("cpu", the default, or "cuda[:N]"). The
            parameters are initialised on the CPU and moved, and the fixed data (the noise's
            fit, validation and test sets) are drawn on the CPU, so every device starts from
            the same point; the training, AIS, importance and MMD draws come from generators on
            the device (their streams differ between devices).
    """

    def __init__(self, config: DensityConfig, seed: int = 0,
                 device: str | torch.device | None = None) -> None:
        self.config = config
        self.seed = int(seed)
        self.device = resolve_device(device)
        self.streams = spawn_seeds(self.seed, DENSITY_STREAMS)
        self.generator = generator_on(self.device, self.streams["training"])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.streams["energy_init"])
            self.energy = EnergyMLP(config.energy_hidden, config.confine, dim=config.dim)
            self.log_z = nn.Parameter(torch.zeros(()))
            torch.manual_seed(self.streams["flow_init"])  # independent of the energy's size
            broad = config.broad_weight if config.flow_noise else 0.0
            self.flow = FlowSampler(config.flow_transforms, config.flow_hidden, config.flow_bins,
                                    broad, config.broad_std, dim=config.dim,
                                    passes=config.flow_passes or None)
        fit = sample_data(config.dataset, 100_000,
                          torch.Generator().manual_seed(self.streams["noise_fit"]))
        self.gaussian = GaussianNoise(fit, config.noise_inflate)
        for module in (self.energy, self.flow, self.gaussian):
            module.to(self.device)
        if self.device.type != "cpu":
            self.log_z = nn.Parameter(self.log_z.detach().to(self.device))
        self.opt_energy = torch.optim.Adam(
            [{"params": self.energy.parameters(), "lr": config.energy_lr, "base": config.energy_lr},
             {"params": [self.log_z], "lr": config.log_z_lr, "base": config.log_z_lr}]
        )
        flow_lr = config.generator_lr if config.algorithm == "ebm" else config.flow_lr
        self.opt_flow = torch.optim.Adam(
            [{"params": self.flow.parameters(), "lr": flow_lr, "base": flow_lr}]
        )
        self.iteration = 0
        self.energy_updates = 0
        self.generator_updates = 0
        self.best: dict[str, Any] = {"val_nll": math.inf, "iteration": -1}
        self.average: dict[str, Any] | None = (
            self._raw_state() if config.average_decay > 0 else None
        )
        self.wall_s = 0.0
        self._validation = sample_data(
            config.dataset, config.validation_size,
            torch.Generator().manual_seed(self.streams["validation"]), split="validation",
        ).to(self.device)

    # ----------------------------------------------------------------------------------------
    # The pieces of the model as the algorithms see them
    # ----------------------------------------------------------------------------------------

    @property
    def noise(self) -> nn.Module:
        """The sampler of the energy step: the flow, or the fixed Gaussian (nce, gaussian)."""
        cfg = self.config
        if cfg.algorithm == "nce" and cfg.noise == "gaussian":
            return self.gaussian
        return self.flow

    def model_energy(self, x: Tensor) -> Tensor:
        """The evaluated energy: E_θ, or -log q_flow for the flow baseline. Tensor[B]."""
        if self.config.algorithm == "flow":
            return -self.flow.flow_log_prob(x)
        return self.energy(x)

    def learned_log_z(self) -> float:
        """The model's own log Z (0 for the normalised flow)."""
        return 0.0 if self.config.algorithm == "flow" else float(self.log_z.detach())

    # ----------------------------------------------------------------------------------------
    # One iteration
    # ----------------------------------------------------------------------------------------

    def _set_lrs(self, step: int, total: int) -> None:
        factor = lr_fraction("cosine", step, total, self.config.final_lr_fraction)
        for opt in (self.opt_energy, self.opt_flow):
            for group in opt.param_groups:
                group["lr"] = group["base"] * factor

    def _flow_ml_step(self, x_data: Tensor) -> float:
        self.opt_flow.zero_grad(set_to_none=True)
        nll = -self.flow.flow_log_prob(x_data).mean()
        nll.backward()
        self.opt_flow.step()
        return float(nll.detach())

    def _energy_step(self, x_data: Tensor) -> tuple[float, float]:
        cfg = self.config
        with torch.no_grad():
            x_gen, log_q_gen = self.noise.rsample_and_log_prob(cfg.batch_size, self.generator)
            log_q_data = self.noise.log_prob(x_data)
        self.opt_energy.zero_grad(set_to_none=True)
        e_data, e_gen = self.energy(x_data), self.energy(x_gen.float())
        loss = losses.discriminator_loss(e_data, log_q_data.float(), e_gen, log_q_gen.float(),
                                         self.log_z)
        loss.backward()
        self.opt_energy.step()
        self.energy_updates += 1
        with torch.no_grad():
            logit_data = losses.discriminator_logit(e_data, log_q_data.float(), self.log_z)
            logit_gen = losses.discriminator_logit(e_gen, log_q_gen.float(), self.log_z)
            accuracy = 0.5 * float((logit_data > 0).float().mean() + (logit_gen < 0).float().mean())
        return float(loss.detach()), accuracy

    def _generator_step(self, x_data: Tensor) -> tuple[float, float]:
        cfg = self.config
        self.opt_flow.zero_grad(set_to_none=True)
        x_gen, log_q_gen = self.flow.rsample_and_log_prob(cfg.batch_size, self.generator)
        self.energy.requires_grad_(False)
        try:
            e_gen = self.energy(x_gen)
        finally:
            self.energy.requires_grad_(True)
        loss_gen = losses.generator_loss(e_gen, log_q_gen, self.log_z.detach())
        flow_nll = -self.flow.flow_log_prob(x_data).mean()
        (loss_gen + cfg.flow_ml_weight * flow_nll).backward()
        self.opt_flow.step()
        self.generator_updates += 1
        return float(loss_gen.detach()), float(flow_nll.detach())

    def step(self) -> dict[str, Any]:
        """Runs one iteration and returns its metrics (on a GPU the losses skip their value
        checks, `irlgan.losses.set_checks`; the divergence check after the iteration sees any
        non-finite value)."""
        with losses.checks_for(self.device):
            return self._step()

    def _step(self) -> dict[str, Any]:
        cfg = self.config
        it = self.iteration
        row: dict[str, Any] = {"iteration": it + 1}
        x_data = sample_data(cfg.dataset, cfg.batch_size, self.generator)
        if it < cfg.pretrain or cfg.algorithm == "flow":
            total = cfg.pretrain if it < cfg.pretrain else cfg.iterations
            self._set_lrs(it if it < cfg.pretrain else it - cfg.pretrain, total)
            row.update(phase="flow-ml", flow_nll_batch=self._flow_ml_step(x_data))
            self.generator_updates += 1
        else:
            self._set_lrs(it - cfg.pretrain, cfg.iterations)
            row["phase"] = cfg.algorithm
            for _ in range(cfg.energy_steps):
                row["loss_disc"], row["accuracy"] = self._energy_step(x_data)
            if cfg.algorithm == "ebm" and row["accuracy"] >= cfg.gate_accuracy:
                for _ in range(cfg.generator_steps):
                    row["loss_gen"], row["flow_nll_batch"] = self._generator_step(x_data)
            row["log_z"] = float(self.log_z.detach())
        row["energy_updates"] = self.energy_updates
        row["generator_updates"] = self.generator_updates
        self._check_divergence(row)
        self.iteration += 1
        self._update_average()
        return row

    def divergence_cause(self, part: str = "energy") -> str:
        """The setting most likely at fault when `part` ("energy", "log_z" or "flow") diverges."""
        cfg = self.config
        if part == "log_z":
            return f"the log Z learning rate (log_z_lr = {cfg.log_z_lr:g}); lower it"
        if part == "flow":
            name = "generator_lr" if cfg.algorithm == "ebm" else "flow_lr"
            return f"the flow's learning rate ({name} = {getattr(cfg, name):g}); lower it"
        return f"the energy's learning rate (energy_lr = {cfg.energy_lr:g}); lower it"

    def _check_divergence(self, row: dict[str, Any]) -> None:
        energy, flow = self.divergence_cause("energy"), self.divergence_cause("flow")
        check_divergence(self.iteration + 1, [
            ("the energy's loss", row.get("loss_disc"), VALUE_LIMIT, energy),
            ("an energy parameter", self.energy.parameters(), PARAMETER_LIMIT, energy),
            ("the learned log Z", self.log_z, PARAMETER_LIMIT, self.divergence_cause("log_z")),
            ("the generator's loss", row.get("loss_gen"), VALUE_LIMIT, flow),
            ("the flow's batch NLL", row.get("flow_nll_batch"), VALUE_LIMIT, flow),
            ("a flow parameter", self.flow.parameters(), PARAMETER_LIMIT, flow),
        ])

    @torch.no_grad()
    def _update_average(self) -> None:
        """average <- d average + (1 - d) current, with d = min(decay, (1 + t) / (10 + t)).

        The warm-up keeps early iterations from dominating; the average restarts when the
        main phase begins (after a flow pretraining).
        """
        if self.average is None:
            return
        t = self.iteration - self.config.pretrain
        if t <= 1:
            self.average = self._raw_state()
            return
        d = min(self.config.average_decay, (1 + t) / (10 + t))
        current = self._live_state()  # read only: no copy on this per-iteration path
        for part in ("energy", "flow"):
            for name, value in current[part].items():
                if value.is_floating_point():
                    self.average[part][name].mul_(d).add_(value, alpha=1 - d)
        self.average["log_z"].mul_(d).add_(current["log_z"], alpha=1 - d)

    # ----------------------------------------------------------------------------------------
    # Validation and the best parameters
    # ----------------------------------------------------------------------------------------

    @property
    def dim(self) -> int:
        """The dimension d of the data."""
        return self.config.dim

    @property
    def ais_base(self) -> nn.Module:
        """The base of AIS: the model's own noise (the flow for the flow baseline)."""
        return self.noise if self.config.algorithm != "flow" else self.flow

    def ais(self, num_chains: int, num_steps: int, seed: int) -> AISResult:
        """Forward AIS from `ais_base` to exp(-E) of the current parameters: a stochastic lower
        bound on log Z with its spread (`irlgan.density.ais_log_z`), all randomness from
        `seed`."""
        def energy(x: Tensor) -> Tensor:  # the models are float32; AIS moves float64 chains
            return self.model_energy(x.float())

        return ais_log_z(energy, self.ais_base, num_chains=num_chains,
                         num_steps=num_steps, generator=generator_on(self.device, seed))

    @torch.no_grad()
    def validate(self) -> tuple[float, float]:
        """(validation NLL, its log Z) of the current parameters: quadrature on a coarse grid in
        2-D, AIS with the validation stream's fixed random numbers above, 0 for the flow."""
        cfg = self.config
        if self.dim == 2:
            log_z = quadrature_log_z(self.model_energy, box=cfg.eval_box,
                                     resolution=cfg.eval_resolution, device=self.device)
        elif cfg.algorithm == "flow":
            log_z = 0.0
        else:
            log_z = self.ais(cfg.val_ais_chains, cfg.val_ais_steps,
                             self.streams["validation"]).log_z
        energy = in_chunks(self.model_energy, self._validation)
        return float(energy.double().mean()) + log_z, log_z

    def models_state(self) -> dict[str, Any]:
        """Copies of the evaluated parameters (energy, log Z, flow): the average when on."""
        if self.average is not None:
            return copy.deepcopy(self.average)
        return self._raw_state()

    def _live_state(self) -> dict[str, Any]:
        """The current (trained, not averaged) parameters, not copied: they change in place."""
        return {"energy": self.energy.state_dict(), "log_z": self.log_z.detach(),
                "flow": self.flow.state_dict()}

    def _raw_state(self) -> dict[str, Any]:
        """Copies of the current (trained, not averaged) parameters."""
        return copy.deepcopy(self._live_state())

    def load_models_state(self, state: dict[str, Any]) -> None:
        """Loads what `models_state` returned."""
        self.energy.load_state_dict(state["energy"])
        with torch.no_grad():
            self.log_z.copy_(state["log_z"])
        self.flow.load_state_dict(state["flow"])

    def maybe_validate(self, row: dict[str, Any]) -> None:
        """Validates after every eval_every-th iteration and at the end; keeps the best."""
        cfg = self.config
        in_main = self.iteration > cfg.pretrain
        if not in_main:
            return
        if self.iteration % cfg.eval_every and self.iteration != cfg.total_iterations:
            return
        if self.average is None:
            val_nll, val_log_z = self.validate()
        else:  # validate the averaged parameters, then go on training the current ones
            current = self._raw_state()
            self.load_models_state(self.average)
            try:
                val_nll, val_log_z = self.validate()
            finally:
                self.load_models_state(current)
        row["val_nll"] = val_nll
        row["val_log_z_quad" if self.dim == 2 else "val_log_z_ais"] = val_log_z
        if val_nll < self.best["val_nll"]:
            self.best = {"val_nll": val_nll, "iteration": self.iteration, **self.models_state()}

    # ----------------------------------------------------------------------------------------
    # Checkpoints
    # ----------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue the run exactly (weights_only-safe)."""
        return {
            "device": self.device.type,
            "iteration": self.iteration,
            "energy_updates": self.energy_updates,
            "generator_updates": self.generator_updates,
            "wall_s": self.wall_s,
            "models": self._raw_state(),
            "average": self.average,
            "opt_energy": self.opt_energy.state_dict(),
            "opt_flow": self.opt_flow.state_dict(),
            "generator": self.generator.get_state(),
            "best": self.best,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores `state_dict`'s output (written on a device of the same type: the random
        generator's state of one type does not fit the other's)."""
        written_on = state.get("device", "cpu")  # checkpoints before devices: the CPU
        if "generator" in state and written_on != self.device.type:
            raise ValueError(f"the checkpoint was written on {written_on}, and this run is on "
                             f"{self.device.type}; resume it on {written_on}")
        self.iteration = int(state["iteration"])
        self.energy_updates = int(state["energy_updates"])
        self.generator_updates = int(state["generator_updates"])
        self.wall_s = float(state["wall_s"])
        self.load_models_state(state["models"])
        self.opt_energy.load_state_dict(state["opt_energy"])
        self.opt_flow.load_state_dict(state["opt_flow"])
        if "generator" in state:  # absent when loaded for evaluation only
            self.generator.set_state(state["generator"])
        self.best = _to_device(state["best"], self.device)
        self.average = _to_device(state.get("average"), self.device)

    def load_best(self) -> None:
        """Replaces the current parameters by the best validated ones (else by the average)."""
        if "energy" in self.best:
            self.load_models_state(self.best)
        elif self.average is not None:
            self.load_models_state(self.average)


def _to_device(state: Any, device: torch.device) -> Any:
    """A checkpoint's nested dict of tensors (or None) on ``device``."""
    if isinstance(state, Tensor):
        return state.to(device)
    if isinstance(state, dict):
        return {k: _to_device(v, device) for k, v in state.items()}
    return state


@torch.no_grad()
def evaluate_density(trainer: DensityTrainer, *, seed: int | None = None) -> dict[str, Any]:
    r"""The summary numbers of a trainer's current parameters.

    Test data, proposal samples, AIS chains and MMD samples come from generators derived from
    `seed` (the trainer's seed when None), so `irlgan eval` reproduces a run's summary.

    The test NLL is $\mathbb{E}_\text{test}[E] + \log Z$ with log Z from quadrature in 2-D, exact
    (0) for the flow baseline, and from AIS otherwise (``nll_log_z``). AIS gives a stochastic
    lower bound on log Z, so an NLL through it is optimistic by the bound's slack; its spread
    and effective sample size are reported beside it, and in 2-D it is checked against the
    quadrature in every run (``log_z_ais`` next to ``log_z_quadrature``).

    Returns:
        dict with the summary keys of the design page (`docs/design.md`): ``dim``, ``nll``,
        ``reference_nll``, ``kl_gap``, ``log_z_learned``, ``log_z_quadrature`` (None above
        2-D), ``log_z_ais``, ``log_z_ais_std``, ``log_z_importance``, ``flow_nll``, ``mmd``
        (``wall_s`` is added by the caller), and extras: quadrature checks, the AIS and
        importance-sampling ESS, the MMD's data-versus-data floor and the standard errors.
    """
    cfg = trainer.config
    dim = trainer.dim
    seed = trainer.seed if seed is None else seed
    streams = spawn_seeds(seed, DENSITY_STREAMS)
    g_test = torch.Generator().manual_seed(streams["test"])  # the same test set on every device
    test = sample_data(cfg.dataset, cfg.test_size, g_test, split="test").to(trainer.device)
    ais = trainer.ais(cfg.ais_chains, cfg.ais_steps, streams["ais"])
    quad: dict[str, Any] = {"log_z": None, "resolution_error": None, "box_error": None}
    if dim == 2:
        quad = quadrature_report(trainer.model_energy, box=cfg.eval_box,
                                 resolution=cfg.final_resolution, device=trainer.device)
        log_z, source = quad["log_z"], "quadrature"
    elif cfg.algorithm == "flow":
        log_z, source = 0.0, "exact"
    else:
        log_z, source = ais.log_z, "ais"
    energy_test = in_chunks(trainer.model_energy, test).double()
    nll = float(energy_test.mean()) + log_z
    nll_se = float(energy_test.std()) / math.sqrt(test.shape[0])
    # real data (digits) has no known entropy: no reference, no KL gap
    reference, reference_se = REFERENCE_NLL.get(cfg.dataset, (None, None))

    noise = trainer.ais_base
    g_is = generator_on(trainer.device, streams["importance"])
    proposal, log_q = noise.rsample_and_log_prob(cfg.importance_samples, g_is)
    log_z_is, ess = importance_log_z_with_ess(trainer.model_energy, proposal.float(),
                                              log_q.double())

    flow_log_prob = getattr(noise, "flow_log_prob", noise.log_prob)  # the flow without mixture
    flow_logq = in_chunks(flow_log_prob, test).double()
    g_mmd = generator_on(trainer.device, streams["mmd"])
    m = cfg.mmd_samples
    flow_samples = noise.flow_sample(m, g_mmd).float()
    data_a = sample_data(cfg.dataset, m, g_mmd)
    data_b = sample_data(cfg.dataset, m, g_mmd)
    ess_fraction = ais.ess / ais.num_chains
    ais_note = None
    if ess_fraction < AIS_ESS_WARNING:
        ais_note = (f"AIS log Z is carried by a few chains (ESS {ais.ess:.1f} of "
                    f"{ais.num_chains}): the energy likely has a deep mode that the noise does "
                    f"not visit, and log Z (so the NLL) is at best a loose bound")
    # Squared distances grow like d: scale the 2-D kernel widths by sqrt(d / 2).
    widths = tuple(w * math.sqrt(dim / 2) for w in MMD_BANDWIDTHS)
    return {
        "dim": dim,
        "device": str(trainer.device),
        "nll": nll,
        "nll_log_z": source,
        "reference_nll": reference,
        "kl_gap": None if reference is None else nll - reference,
        "bits_per_dim": (digits_bits_per_dim(nll) if cfg.dataset == "digits"
                         else nll / (dim * math.log(2.0))),
        "log_z_learned": trainer.learned_log_z(),
        "log_z_quadrature": quad["log_z"],
        "log_z_ais": ais.log_z,
        "log_z_ais_std": ais.log_z_std,
        "log_z_ais_ess_fraction": ess_fraction,
        "log_z_ais_note": ais_note,
        "log_z_ais_acceptance": ais.acceptance_rate,
        "log_z_ais_chains": ais.num_chains,
        "log_z_ais_steps": cfg.ais_steps,
        "log_z_importance": log_z_is,
        "flow_nll": float(-flow_logq.mean()),
        "mmd": mmd(flow_samples, data_a, widths),
        "mmd_floor": mmd(data_b, data_a, widths),
        "mmd_bandwidths": list(widths),
        "nll_standard_error": nll_se,
        "reference_standard_error": reference_se,
        "importance_ess_fraction": ess,
        "quadrature_resolution_error": quad["resolution_error"],
        "quadrature_box_error": quad["box_error"],
        "best_iteration": int(trainer.best.get("iteration", -1)),
        "iterations": trainer.iteration,
        "energy_updates": trainer.energy_updates,
        "generator_updates": trainer.generator_updates,
    }
