"""Seeing a policy: an animated GIF of the learned policy beside the expert's (`irlgan eval RUN
--video`).

Both act with their mode from the same reset seed, rendered headless through the environment's
``rgb_array`` mode: classic control draws with pygame (the extra ``irlgan[video]``), MuJoCo with
an off-screen OpenGL context chosen by ``MUJOCO_GL`` (``egl``, the default set here when unset,
or ``osmesa``; on Debian the packages ``libegl1 libegl-mesa0 libgl1-mesa-dri`` or
``libosmesa6``). ``MUJOCO_GL`` is read when MuJoCo is first imported, so set it before anything
imports MuJoCo in the process. Each panel is titled with its policy and the episode's true
return. The expert is the policy saved beside the demonstrations by `irlgan expert`
(``policy.pt``); demonstrations from elsewhere have none, and the video shows the learned policy
alone.

The GIF is written with Pillow (a dependency of matplotlib): long episodes draw every k-th
state so that about 300 frames remain, at 25 frames per second of playback (a 1000-step
HalfCheetah episode: every 4th state, 251 frames, 10 s; GIF frame times are whole centiseconds).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["render_episode", "video_of_run", "write_gif"]


def use_headless_gl() -> None:
    """Sets ``MUJOCO_GL=egl`` unless the user chose a backend (must precede MuJoCo's import),
    and pygame's audio driver to ``dummy``."""
    os.environ.setdefault("MUJOCO_GL", "egl")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")  # pygame: no sound device, no complaint


def _make_rendering(env_id: str, size: int) -> Any:
    import gymnasium

    try:
        try:  # MuJoCo draws at the size asked for (fewer pixels: faster software rendering)
            return gymnasium.make(env_id, render_mode="rgb_array", width=size, height=size)
        except TypeError:
            return gymnasium.make(env_id, render_mode="rgb_array")
    except gymnasium.error.DependencyNotInstalled as error:
        raise ValueError(f"{env_id} cannot render: {error} (pip install \"irlgan[video]\")"
                         ) from None


def render_episode(env_id: str, act: Callable[[np.ndarray], np.ndarray], seed: int,
                   max_frames: int = 300, size: int = 240,
                   max_steps: int = 100_000) -> tuple[list[np.ndarray], float]:
    """One episode of `act` from reset seed `seed`, rendered: (RGB frames, true return).

    Only every k-th state is drawn (and the last), k chosen from the environment's time limit
    so that about `max_frames` frames remain; software OpenGL draws a 240-pixel MuJoCo frame in
    about 20 ms.

    Raises:
        ValueError: the environment cannot render headless (the message says what to install).
    """
    use_headless_gl()
    env = _make_rendering(env_id, size)
    limit = getattr(env.spec, "max_episode_steps", None) or max_steps
    stride = max(1, -(-(limit + 1) // max_frames))
    try:
        obs, _ = env.reset(seed=seed)
        frames, total = [], 0.0
        try:
            frames.append(np.asarray(env.render()))
        except Exception as error:  # OpenGL or pygame missing: one line that says what to do
            text = str(error).strip()
            raise ValueError(f"{env_id} cannot render headless ({type(error).__name__}: "
                             f"{text.splitlines()[0] if text else ''}); for MuJoCo set "
                             f"MUJOCO_GL=egl or osmesa and install the matching OpenGL library "
                             f"(see the docs' video section)") from None
        for step in range(1, max_steps + 1):
            obs, reward, terminated, truncated, _ = env.step(act(np.asarray(obs)))
            total += float(reward)
            done = terminated or truncated
            if step % stride == 0 or done:
                frames.append(np.asarray(env.render()))
            if done:
                break
        return frames, total
    finally:
        env.close()


def _panel(frame: np.ndarray, title: str, height: int) -> Any:
    from PIL import Image, ImageDraw

    image = Image.fromarray(np.ascontiguousarray(frame[..., :3]).astype(np.uint8))
    width = max(1, round(image.width * height / image.height))
    image = image.resize((width, height))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 16), fill=(255, 255, 255))
    draw.text((4, 2), title, fill=(0, 0, 0))
    return image


def write_gif(path: str | os.PathLike[str], panels: list[tuple[str, list[np.ndarray]]],
              height: int = 240, max_frames: int = 400, fps: int = 25) -> Path:
    """Writes the panels side by side as an animated GIF (atomically).

    Args:
        path: the output file.
        panels: (title, frames) per panel; a shorter episode holds its last frame.
        height: the height of each panel in pixels.
        max_frames: keep every k-th frame so that at most this many remain (the renderer has
            usually thinned them already).
        fps: playback frames per second.
    """
    from PIL import Image

    from irlgan._io import atomic_write

    if not panels or any(not frames for _, frames in panels):
        raise ValueError("a video needs at least one panel with at least one frame")
    length = max(len(frames) for _, frames in panels)
    stride = max(1, -(-length // max_frames))
    images = []
    for index in range(0, length, stride):
        row = [_panel(frames[min(index, len(frames) - 1)], title, height)
               for title, frames in panels]
        canvas = Image.new("RGB", (sum(p.width for p in row), height), (255, 255, 255))
        left = 0
        for panel in row:
            canvas.paste(panel, (left, 0))
            left += panel.width
        images.append(canvas.quantize(colors=128, dither=Image.Dither.NONE))
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:],
                   duration=max(1, round(1000 / fps)), loop=0, optimize=False)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = buffer.getvalue()
    atomic_write(path, lambda handle: handle.write(data))
    return path


def _mode(policy: Any) -> Callable[[np.ndarray], np.ndarray]:
    import torch

    parameter = next(policy.parameters())
    dtype, device = parameter.dtype, parameter.device

    @torch.no_grad()
    def act(obs: np.ndarray) -> np.ndarray:
        tensor = torch.as_tensor(obs, dtype=dtype, device=device).reshape(1, -1)
        return policy.mode(tensor)[0].to(torch.float32).cpu().numpy()

    return act


def video_of_run(run_dir: str | os.PathLike[str], *, demos: Any = None, seed: int | None = None,
                 output: str | os.PathLike[str] | None = None) -> Path:
    """Renders the run's newest checkpoint beside the expert, from one reset seed.

    Args:
        run_dir: a control run folder.
        demos: its demonstrations, when their recorded source moved.
        seed: the reset seed (default: the first evaluation seed, `irlgan.rl.EVAL_SEED_BASE`).
        output: the GIF's path (default ``RUN/videos/<checkpoint>-seed<seed>.gif``).

    Returns:
        The path of the GIF.
    """
    use_headless_gl()
    from irlgan.control._run import config_from_run_dict as from_dict
    from irlgan.control._run import load_newest
    from irlgan.control.commands import load_demos
    from irlgan.rl import EVAL_SEED_BASE
    from irlgan.runs import read_config

    run_dir = Path(run_dir)
    data = read_config(run_dir)
    if data.get("task") != "control":
        raise ValueError(f"--video applies to control runs; {run_dir} is a "
                         f"{data.get('task')!r} run")
    run = from_dict(data)
    source = data.get("demos")
    if demos is None:
        demos = load_demos(source)[0]
    seed = EVAL_SEED_BASE if seed is None else int(seed)
    algo, ckpt = load_newest(run_dir, run, demos, data.get("inputs") or {}, "render")
    try:
        frames, learned = render_episode(run.env_id, _mode(algo.policy), seed)
    finally:
        algo.close()
    panels = [(f"{run.algorithm} (return {learned:.1f})", frames)]
    expert_file = None if not source or str(source).startswith("minari:") else (
        Path(source) / "policy.pt")
    if expert_file is not None and expert_file.is_file():
        from irlgan.rl import load_policy

        expert_frames, expert = render_episode(run.env_id, _mode(load_policy(expert_file)), seed)
        panels.append((f"expert (return {expert:.1f})", expert_frames))
    out = Path(output) if output else run_dir / "videos" / f"{ckpt.stem}-seed{seed}.gif"
    return write_gif(out, panels)
