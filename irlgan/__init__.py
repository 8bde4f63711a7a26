"""irlgan: GANs, maximum-entropy inverse reinforcement learning and energy-based models.

A verification-first implementation of Finn, Christiano, Abbeel and Levine (2016),
"A Connection between Generative Adversarial Networks, Inverse Reinforcement Learning, and
Energy-Based Models" (arXiv 1611.03852). The loss functions live in `irlgan.losses`.
"""

from irlgan import losses

__version__ = "0.1.0"

__all__ = ["__version__", "losses"]
