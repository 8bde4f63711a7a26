"""The symbolic proofs, the oracle generator and the generated files (`derivations/`)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import mpmath
import pytest
import sympy as sp

import derivations
from derivations import compare_trees, prove_all
from derivations import oracles as O

ROOT = Path(__file__).resolve().parent.parent
ORACLE_PATHS = {family: ROOT / rel for family, rel in O.ORACLE_FILES.items()}
SNIPPETS = ROOT / "docs" / "snippets" / "derivations"
TOL = mpmath.mpf(10) ** -30
CASE_KEYS = {"name", "description", "inputs", "outputs", "gradients", "importance_log_z_scan"}
INPUT_KEYS = {
    "cost_data",
    "log_q_data",
    "weight_data",
    "cost_gen",
    "log_q_gen",
    "weight_gen",
    "log_z",
}
OUTPUT_KEYS = {"discriminator_logit_data", "discriminator_logit_gen", *O.LOSSES, "optimal_log_z"}


@pytest.fixture(scope="module")
def proved() -> tuple[list[derivations.ProofRecord], float]:
    # CPU time of this process (SymPy is single-threaded): a wall-clock limit would fail on a
    # machine busy with other work, which says nothing about the proofs
    start = time.process_time()
    records = prove_all()
    return records, time.process_time() - start


def load(family: str) -> dict:
    return json.loads(ORACLE_PATHS[family].read_text(encoding="utf-8"))


def all_cases() -> list[tuple[str, dict]]:
    out = []
    for family in O.ORACLE_FILES:
        if ORACLE_PATHS[family].is_file():
            out += [(f"{family}:{c['name']}", c) for c in load(family)["cases"]]
    return out


CASES = all_cases()
CASE_IDS = [name for name, _ in CASES]


# ----------------------------------------------------------------------------------- proofs


def test_every_identity_is_proved_with_an_exactly_zero_residual(proved):
    records, _ = proved
    zero = [r for r in records if r.expect_zero]
    assert len(zero) >= 40
    for r in zero:
        assert r.residual == 0, f"{r.name}: residual {r.residual}"
        assert r.proved and r.ok, r.name


def test_each_identity_family_is_proved_at_the_integrand_level_and_on_finite_supports(proved):
    records, _ = proved
    levels: dict[str, set[str]] = {}
    for r in records:
        levels.setdefault(r.identity, set()).add(r.level)
    for identity in (
        "partition/a-optimal-z",
        "gradient/b-gradient",
        "generator/c-generator",
        "ebm/a-optimal-z",
        "ebm/b-gradient",
        "ebm/c-generator",
        "discriminator/optimum",
        "discriminator/logit",
    ):
        assert "integrand" in levels[identity], identity
        assert {f"finite-support n={n}" for n in (2, 3, 4)} <= levels[identity], identity


def test_counterexamples_have_nonzero_residuals(proved):
    records, _ = proved
    counter = {r.identity: r for r in records if not r.expect_zero}
    assert {"ebm/paper-sign", "gradient/b-full-proposal-nonzero"} <= set(counter)
    for r in counter.values():
        assert r.residual != 0 and not r.proved and r.ok, r.name
    assert counter["gradient/b-full-proposal-nonzero"].residual == sp.Rational(-17, 48)
    e = sp.Symbol("E", real=True)
    q = sp.Symbol("q", positive=True)
    value = counter["ebm/paper-sign"].residual.subs({e: 1, q: 1})
    assert abs(float(value) - float(sp.tanh(sp.Rational(1, 2)))) < 1e-15


def test_the_paper_sign_holds_exactly_after_flipping_the_energy(proved):
    records, _ = proved
    flipped = [r for r in records if r.identity == "ebm/paper-sign-flipped"]
    assert flipped and flipped[0].residual == 0 and flipped[0].proved


def test_all_proofs_run_in_under_a_minute_of_cpu_time(proved):
    _, seconds = proved
    assert seconds < 60, seconds


# ------------------------------------------------------------------- generated files, CLI


def test_check_command_finds_the_checked_in_files_current():
    result = subprocess.run(
        [sys.executable, "-m", "derivations", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "up to date" in result.stdout


def copy_generated(tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    for rel in ("tests/oracles", "docs/snippets/derivations"):
        shutil.copytree(ROOT / rel, copy / rel)
    return copy


def test_compare_trees_accepts_an_identical_copy_and_ignores_versions(tmp_path):
    copy = copy_generated(tmp_path)
    path = copy / O.ORACLE_FILES["energy"]
    data = json.loads(path.read_text())
    data["generator"] = {"python": "0.0", "sympy": "0.0", "mpmath": "0.0"}
    path.write_text(json.dumps(data, indent=1) + "\n")
    fragment = copy / "docs/snippets/derivations/partition.md"
    lines = fragment.read_text().splitlines(keepends=True)
    fragment.write_text("<!-- a different first line -->\n" + "".join(lines[1:]))
    assert compare_trees(ROOT, copy) == []


def test_compare_trees_detects_a_changed_digit_in_one_case(tmp_path):
    copy = copy_generated(tmp_path)
    path = copy / O.ORACLE_FILES["cost"]
    data = json.loads(path.read_text())
    case = data["cases"][4]
    value = case["outputs"]["discriminator_loss"]
    digit_at = next(i for i, ch in enumerate(value) if ch.isdigit() and i >= 6)
    changed = value[:digit_at] + str((int(value[digit_at]) + 1) % 10) + value[digit_at + 1 :]
    case["outputs"]["discriminator_loss"] = changed
    path.write_text(json.dumps(data, indent=1) + "\n")
    diffs = compare_trees(ROOT, copy)
    assert len(diffs) == 1, diffs
    assert case["name"] in diffs[0] and "discriminator_loss" in diffs[0]


def test_compare_trees_tolerates_differences_beyond_30_digits(tmp_path):
    copy = copy_generated(tmp_path)
    path = copy / O.ORACLE_FILES["cost"]
    data = json.loads(path.read_text())
    value = data["cases"][1]["outputs"]["generator_loss"]
    assert len(value.replace("-", "").replace(".", "")) >= 38
    data["cases"][1]["outputs"]["generator_loss"] = value[:-1] + ("1" if value[-1] != "1" else "2")
    path.write_text(json.dumps(data, indent=1) + "\n")
    assert compare_trees(ROOT, copy) == []


def test_compare_trees_detects_missing_and_edited_files(tmp_path):
    copy = copy_generated(tmp_path)
    (copy / O.ORACLE_FILES["dynamics"]).unlink()
    fragment = copy / "docs/snippets/derivations/generator.md"
    fragment.write_text(fragment.read_text().replace("Residual", "Remainder", 1))
    diffs = compare_trees(ROOT, copy)
    assert any("dynamics.json" in d and "missing" in d for d in diffs), diffs
    assert any("generator.md" in d for d in diffs), diffs


def test_fragments_are_generated_markdown_with_display_math():
    paths = sorted(SNIPPETS.glob("*.md"))
    assert {p.stem for p in paths} >= set(derivations.MODULES)
    for path in paths:
        text = path.read_text()
        first = text.splitlines()[0]
        assert first == (
            f"<!-- GENERATED by python -m derivations (derivations/{path.stem}.py): do not edit -->"
        )
        assert "$$" in text and "\\(" not in text
        assert "simplifies to $0$" in text
        assert not re.search(r"\d+\.\d+ ?s\b", text), "fragments must not contain timings"


def test_oracle_generation_is_deterministic():
    a = json.dumps(O.oracle_document("energy"), indent=1)
    b = json.dumps(O.oracle_document("energy"), indent=1)
    assert a == b
    assert ORACLE_PATHS["energy"].read_text() == a + "\n"


# -------------------------------------------------------------------------- oracle format


@pytest.mark.parametrize("family", list(O.ORACLE_FILES))
def test_oracle_files_follow_the_format(family):
    data = load(family)
    assert data["_generated"].startswith("GENERATED FILE - do not edit.")
    assert data["family"] == family and data["digits"] == 40
    assert set(data["generator"]) == {"python", "sympy", "mpmath"}
    assert len(data["cases"]) >= 5
    for case in data["cases"]:
        assert set(case) == CASE_KEYS
        assert set(case["inputs"]) == INPUT_KEYS
        assert set(case["outputs"]) == OUTPUT_KEYS
        assert set(case["gradients"]) == set(O.LOSSES)
        for grads in case["gradients"].values():
            assert set(grads) == set(O.GRAD_KEYS)
            for key in ("cost_data", "log_q_data"):
                assert len(grads[key]) == len(case["inputs"]["cost_data"])
            for key in ("cost_gen", "log_q_gen"):
                assert len(grads[key]) == len(case["inputs"]["cost_gen"])
            assert isinstance(grads["log_z"], str)
        assert len(case["importance_log_z_scan"]) >= 4
        for value in _strings(case):
            float(value)
            digits = value.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
            assert len(digits) <= 40, value


def _strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, list):
        for x in obj:
            yield from _strings(x)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if k not in ("name", "description"):
                yield from _strings(v)


def test_oracle_case_counts():
    counts = {family: len(load(family)["cases"]) for family in O.ORACLE_FILES}
    assert counts["cost"] >= 15 and counts["energy"] >= 5 and counts["dynamics"] >= 3
    assert 25 <= sum(counts.values()) <= 60


# ------------------------------------------------------ oracle consistency, in mpmath


def mp(values):
    if isinstance(values, list):
        return [mpmath.mpf(v) for v in values]
    return mpmath.mpf(values)


def reference(case: dict, log_z: mpmath.mpf | None = None) -> dict[str, mpmath.mpf]:
    """The losses from the inputs with plain mpmath formulas (policy-only logit form)."""
    x = {k: mp(v) for k, v in case["inputs"].items()}
    lz = x["log_z"] if log_z is None else log_z
    wd = [w / mpmath.fsum(x["weight_data"]) for w in x["weight_data"]]
    wg = [w / mpmath.fsum(x["weight_gen"]) for w in x["weight_gen"]]
    ld = [-c - lz - q for c, q in zip(x["cost_data"], x["log_q_data"], strict=True)]
    lg = [-c - lz - q for c, q in zip(x["cost_gen"], x["log_q_gen"], strict=True)]

    def softplus(t):
        return mpmath.log1p(mpmath.exp(t)) if t < 0 else t + mpmath.log1p(mpmath.exp(-t))

    def weight(c, q):
        return mpmath.exp(-c) / (mpmath.exp(-c - lz) / 2 + mpmath.exp(q) / 2)

    zhat = (
        mpmath.fsum(
            w * weight(c, q) for w, c, q in zip(wd, x["cost_data"], x["log_q_data"], strict=True)
        )
        / 2
        + mpmath.fsum(
            w * weight(c, q) for w, c, q in zip(wg, x["cost_gen"], x["log_q_gen"], strict=True)
        )
        / 2
    )
    return {
        "discriminator_loss": mpmath.fsum(w * softplus(-t) for w, t in zip(wd, ld, strict=True))
        + mpmath.fsum(w * softplus(t) for w, t in zip(wg, lg, strict=True)),
        "generator_loss": mpmath.fsum(-w * t for w, t in zip(wg, lg, strict=True)),
        "sampler_loss": mpmath.fsum(
            w * (c + q) for w, c, q in zip(wg, x["cost_gen"], x["log_q_gen"], strict=True)
        ),
        "importance_log_z": mpmath.log(zhat),
        "cost_loss": mpmath.fsum(w * c for w, c in zip(wd, x["cost_data"], strict=True))
        + mpmath.log(zhat),
        "sum_d": mpmath.fsum(w * mpmath.sigmoid(t) for w, t in zip(wd, ld, strict=True))
        + mpmath.fsum(w * mpmath.sigmoid(t) for w, t in zip(wg, lg, strict=True)),
        "logits": ld + lg,
        "scale": max(
            [mpmath.mpf(1), abs(lz)]
            + [abs(v) for k in ("cost_data", "cost_gen", "log_q_data", "log_q_gen") for v in x[k]]
        ),
    }


def close(a, b, scale=1) -> bool:
    return abs(mpmath.mpf(a) - mpmath.mpf(b)) <= TOL * max(1, abs(mpmath.mpf(b)), scale)


@pytest.mark.parametrize(("name", "case"), CASES, ids=CASE_IDS)
def test_oracle_outputs_match_plain_mpmath_formulas(name, case):
    with mpmath.workdps(60):
        ref = reference(case)
        for loss in O.LOSSES:
            assert close(case["outputs"][loss], ref[loss], ref["scale"]), (name, loss)
        logits = (
            case["outputs"]["discriminator_logit_data"] + case["outputs"]["discriminator_logit_gen"]
        )
        for got, want in zip(logits, ref["logits"], strict=True):
            assert close(got, want, ref["scale"]), name


@pytest.mark.parametrize(("name", "case"), CASES, ids=CASE_IDS)
def test_oracle_optimal_log_z_is_the_fixed_point(name, case):
    with mpmath.workdps(60):
        opt = mp(case["outputs"]["optimal_log_z"])
        ref = reference(case, log_z=opt)
        assert abs(ref["sum_d"] - 1) < TOL, name
        assert close(ref["importance_log_z"], opt), name
        at_opt = [
            s
            for s in case["importance_log_z_scan"]
            if s["log_z"] == case["outputs"]["optimal_log_z"]
        ]
        assert len(at_opt) == 1, name
        assert close(at_opt[0]["importance_log_z"], opt), name
        # importance_log_z(log_z) - log_z changes sign at the optimum: the scan brackets it.
        scan = [(mp(s["log_z"]), mp(s["importance_log_z"])) for s in case["importance_log_z_scan"]]
        assert all((iz - lz > 0) == (lz < opt) for lz, iz in scan if abs(lz - opt) > TOL), name


@pytest.mark.parametrize(("name", "case"), CASES, ids=CASE_IDS)
def test_generator_loss_is_sampler_loss_plus_log_z(name, case):
    with mpmath.workdps(60):
        out = case["outputs"]
        residual = mp(out["generator_loss"]) - mp(out["sampler_loss"]) - mp(case["inputs"]["log_z"])
        assert abs(residual) < TOL * max(1, abs(mp(out["generator_loss"]))), name


@pytest.mark.parametrize(("name", "case"), CASES, ids=CASE_IDS)
def test_held_proposal_gradients_vanish_in_log_q_and_log_z(name, case):
    grads = case["gradients"]
    for loss in ("importance_log_z", "cost_loss"):
        for key in ("log_q_data", "log_q_gen"):
            assert set(grads[loss][key]) == {"0"}, (name, loss, key)
        assert grads[loss]["log_z"] == "0"


AT_OPTIMUM = [
    (name, case)
    for name, case in CASES
    if case["inputs"]["log_z"] == case["outputs"]["optimal_log_z"]
]


@pytest.mark.parametrize(("name", "case"), AT_OPTIMUM, ids=[n for n, _ in AT_OPTIMUM])
def test_cost_gradients_agree_at_the_optimum(name, case):
    grads = case["gradients"]
    with mpmath.workdps(60):
        assert abs(mp(grads["discriminator_loss"]["log_z"])) < TOL
        for key in ("cost_data", "cost_gen"):
            for a, b in zip(grads["discriminator_loss"][key], grads["cost_loss"][key], strict=True):
                assert close(a, b), (name, key)


def test_cost_gradients_differ_away_from_the_optimum():
    case = next(c for c in load("cost")["cases"] if c["name"] == "four-point")
    a = [mp(v) for v in case["gradients"]["discriminator_loss"]["cost_data"]]
    b = [mp(v) for v in case["gradients"]["cost_loss"]["cost_data"]]
    assert max(abs(x - y) for x, y in zip(a, b, strict=True)) > mpmath.mpf("1e-3")


def test_some_cases_sit_at_the_optimum_in_every_family():
    for family in O.ORACLE_FILES:
        cases = load(family)["cases"]
        assert any(c["inputs"]["log_z"] == c["outputs"]["optimal_log_z"] for c in cases), family


def test_energy_case_with_sampler_equal_to_model_recovers_the_true_log_z():
    case = next(c for c in load("energy")["cases"] if c["name"] == "gaussian-q-equals-model")
    with mpmath.workdps(60):
        energies = [mpmath.mpf(e) for e in case["inputs"]["cost_gen"]]
        true_log_z = mpmath.log(mpmath.fsum(mpmath.exp(-e) for e in energies))
        assert abs(mp(case["outputs"]["optimal_log_z"]) - true_log_z) < TOL
        for logit in case["outputs"]["discriminator_logit_gen"]:
            assert abs(mp(logit)) < TOL


def test_reference_losses_agree_with_sympy_evalf():
    case = next(c for c in O.cost_cases() if c.name == "three-point")
    ref = O.reference_losses(case)
    values = dict(
        zip(
            ref.args,
            [*case.cost_data, *case.log_q_data, *case.cost_gen, *case.log_q_gen, case.log_z],
            strict=True,
        )
    )
    stored = next(c for c in load("cost")["cases"] if c["name"] == "three-point")
    checks = [
        (ref.outputs["discriminator_loss"], stored["outputs"]["discriminator_loss"]),
        (ref.outputs["cost_loss"], stored["outputs"]["cost_loss"]),
        (
            ref.gradients["discriminator_loss"]["cost_data"][1],
            stored["gradients"]["discriminator_loss"]["cost_data"][1],
        ),
        (
            ref.gradients["cost_loss"]["cost_gen"][2],
            stored["gradients"]["cost_loss"]["cost_gen"][2],
        ),
        (
            ref.gradients["discriminator_loss"]["log_z"][0],
            stored["gradients"]["discriminator_loss"]["log_z"],
        ),
    ]
    with mpmath.workdps(60):
        for expr, want in checks:
            got = mpmath.mpf(str(sp.N(expr.xreplace(values), 50)))
            assert close(got, want), (expr, want)


def test_dynamics_inputs_are_policy_only_and_weights_are_trajectory_probabilities():
    for case in load("dynamics")["cases"]:
        x = case["inputs"]
        assert len(x["cost_data"]) == 32 == len(x["cost_gen"])
        with mpmath.workdps(60):
            assert abs(mpmath.fsum(mp(x["weight_data"])) - 1) < TOL
            assert abs(mpmath.fsum(mp(x["weight_gen"])) - 1) < TOL
            # log q is the policy-only sum of two log-probabilities, so it is never positive.
            assert all(mp(v) <= 0 for v in x["log_q_data"] + x["log_q_gen"])
