"""Experiment: GCL's cost step made lopsided on purpose, to test what GAN-GCL's lagging log Z does.

GAN-GCL's cost step is the gradient of the discriminator loss at its learned log Z; at the
self-consistent log Z of the batch (`irlgan.losses.optimal_log_z`) that gradient is GCL's
(identity (b)). Off it by kappa nats, on a batch the discriminator separates, the step's push up
on the samples and its pull down on the demonstrations are about e^{2 kappa} apart
(`irlgan.algorithms.gan_gcl.log_push_pull`) while the weights within each side stay GCL's
(`disc/ess_gen` = `disc/ess_gen_solved`). This script trains GCL whose cost step is that
gradient at the solved log Z plus a fixed `--kappa`: kappa = 0 is GCL exactly; kappa > 0 leans
on the push, kappa < 0 on the pull. Everything else (preset, seeds, evaluation, run folder) is
`irlgan train gcl`'s; the run's config says ``gcl`` and its folder name carries kappa.

Usage::

    python benchmarks/gcl_offset.py --env Pendulum-v1 \\
        --demos runs/sweep-control/trials/expert-Pendulum-v1-s0 --kappa 10 --seed 0 \\
        --out runs/gcl-gap/gcl-kappa+10-Pendulum-v1-s0
"""

from __future__ import annotations

import argparse

import irlgan.algorithms.gcl as gcl_module
from irlgan import cli, losses
from irlgan.algorithms.gan_gcl import episode_cost, log_push_pull


def offset_loss(kappa: float):
    def discriminator_loss(self, data, gen):
        cost = self.discriminator["cost"]
        c_d, c_g = episode_cost(cost, data.batch), episode_cost(cost, gen.batch)
        if "start_term" in self.discriminator:
            start = self.discriminator["start_term"]
            c_d = c_d + start(data.batch.obs[:, 0])
            c_g = c_g + start(gen.batch.obs[:, 0])
        lq_d, lq_g = data.log_q.to(c_d.dtype), gen.log_q.to(c_g.dtype)
        solved = losses.optimal_log_z(c_d.detach(), lq_d, c_g.detach(), lq_g)
        log_z = solved + kappa
        loss = losses.discriminator_loss(c_d, lq_d, c_g, lq_g, log_z)
        at = (c_d.detach(), lq_d, c_g.detach(), lq_g, log_z)
        ess, ess_gen = losses.importance_ess(*at), losses.importance_ess(*at, part="gen")
        solved_ess = losses.importance_ess(c_d.detach(), lq_d, c_g.detach(), lq_g, solved,
                                           part="gen")
        logit_d, logit_g = -c_d - log_z - lq_d, -c_g - log_z - lq_g
        return loss, logit_d, logit_g, {
            "log_z": float(log_z), "ess": float(ess),
            "ess_fraction": float(ess) / (len(c_d) + len(c_g)), "ess_gen": float(ess_gen),
            "log_z_gap": -kappa, "ess_gen_solved": float(solved_ess),
            "log_push_pull": log_push_pull(logit_d.detach(), logit_g.detach())}
    return discriminator_loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--demos", required=True)
    parser.add_argument("--kappa", type=float, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    gcl_module.GCL.discriminator_loss = offset_loss(args.kappa)
    raise SystemExit(cli.main(["train", "gcl", "--env", args.env, "--demos", args.demos,
                               "--seed", str(args.seed), "--quiet", "--out", args.out]))


if __name__ == "__main__":
    main()
