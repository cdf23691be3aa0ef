"""What physics guarantees of a file of jets, checked before any compute, with the file and the fix named.

A file whose columns are permuted, whose units are off by 1000, or whose arrays were damaged would
otherwise go through preprocessing and training without a word and change every number downstream.
Each check is a property every real jet has, so that it refuses such files and never a real one:

- raw files (JetNet layout): finite values; a 0/1 mask; padded slots exactly zero; real particles with
  pT_rel in (0, 1] and |φ_rel| within twice the jet radius (:data:`RADIUS_MARGIN`), as |η_rel|
  for particles hard enough that their pseudorapidity is their rapidity (:data:`HARD_PT_GEV`);
  at least one particle per jet; jets with 0 < pT <= the beam energy, |η| within a detector's reach, an
  integral number of particles that agrees with the mask, and a mass no smaller than that of the
  particles it holds (adding massless particles never lowers an invariant mass) and no larger than the
  jet radius allows;
- processed files: floating-point momenta of finite values; a boolean mask that marks exactly the
  non-zero slots; E > 0 for every real particle and E >= |p| up to the massless tolerance; no jet
  without particles; energies below the beam energy; 4-momenta that agree with the relative
  coordinates and jet features stored beside them (a permuted or rescaled momentum column fails here).

A permutation that physics cannot see (η_rel and φ_rel swapped: both are symmetric angles within the
radius) is not caught; every other permutation of JetNet's columns breaks one of the bounds above.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from lgae.errors import DataError
from lgae.group import lorentz

__all__ = [
    "BEAM_ENERGY_TEV",
    "JETNET_RADIUS",
    "MASSLESS_TOLERANCE",
    "check_processed",
    "check_raw",
    "max_mass_over_pt",
]

#: anti-kT distance parameter of JetNet's jets (its files carry no radius; generated ones do)
JETNET_RADIUS = 0.8
#: constituents of an anti-kT jet of radius R lie within ΔR ≈ R of the axis of the jet they joined; the
#: axis moves as later particles join (generated jets: |φ_rel| up to 1.16 R in 10,000 top jets at R = 0.4,
#: 1.00 R at R = 0.8), so a particle is refused only beyond this multiple of R
RADIUS_MARGIN = 2.0
#: the mass bound assumes the constituents within this multiple of R (a few soft particles farther out
#: add little mass: generated jets reach m/pT 0.27 at R = 0.4 and 0.53 at R = 0.8, the bounds 1.14 and 3.8)
MASS_RADIUS_MARGIN = 1.25
#: the radius bounds φ_rel always, but η_rel only where pseudorapidity is rapidity: for a hadron of mass
#: m <= 2 GeV and pT >= this, |η| exceeds |y| by < 0.02 (softer massive hadrons of generated jets lie up to
#: |η_rel| = 3 out, inside the radius in rapidity)
HARD_PT_GEV = 10.0
#: the LHC's beam energy (TeV): no particle and no jet carries more
BEAM_ENERGY_TEV = 7.0
#: no LHC calorimeter reaches beyond |η| ≈ 5.2 (CMS HF): a jet farther out was never measured
MAX_JET_ETA = 5.2
#: relative excess of |p| over E tolerated for massless particles (float32 storage rounds at 6e-8)
MASSLESS_TOLERANCE = 1e-5
#: relative agreement of stored 4-momenta with their relative coordinates (a layout check, not a hash)
P4_AGREEMENT = 1e-2

_RAW_FIX = "regenerate or download the file again (`lgae generate`, `lgae download`)"
_PROCESSED_FIX = "delete it and rerun `lgae preprocess` (or the Snakemake rule preprocess)"


def max_mass_over_pt(radius: float) -> float:
    """The largest m/pT a jet of massless constituents within ``radius`` · :data:`MASS_RADIUS_MARGIN` of
    its axis in η and φ can have: m² = Σ_{i<j} 2 pT_i pT_j (cosh Δη − cos Δφ) with |Δη|, |Δφ| <= 2R', and
    Σ pT_i <= pT / cos R' (each constituent's pT projects onto the axis with an angle <= R')."""
    reach = radius * MASS_RADIUS_MARGIN
    return float(np.sqrt(np.cosh(2 * reach) - np.cos(2 * reach)) / np.cos(min(reach, 1.5)))


def _first(bad: np.ndarray) -> str:
    """Where the first offending entry is, e.g. ``jet 3, particle 2``."""
    index = np.argwhere(bad)[0]
    parts = ["jet", "particle", "column"][: len(index)]
    return ", ".join(f"{name} {int(i)}" for name, i in zip(parts, index, strict=True))


def _fail(path: str | os.PathLike[str], bad: np.ndarray, what: str, fix: str, values: np.ndarray) -> None:
    """Raise a DataError naming the file, how many entries break ``what``, the first one and the fix."""
    if bad.any():
        where = _first(bad)
        first = values[tuple(np.argwhere(bad)[0])]
        raise DataError(
            f"{path}: {int(bad.sum())} entries break {what} (first: {where}, value {float(first):.6g}); {fix}"
        )


# --------------------------------------------------------------------------------------------- raw
def check_raw(
    path: str | os.PathLike[str],
    particles: np.ndarray,
    jets: np.ndarray,
    radius: float = JETNET_RADIUS,
) -> None:
    """JetNet-layout arrays (``particles`` [N, P, 4] etarel, phirel, ptrel, mask; ``jets`` [N, 4] pt,
    eta, mass, num_particles) of ``path`` against what real jets of anti-kT ``radius`` satisfy."""
    particles = np.asarray(particles, dtype=np.float64)
    jets = np.asarray(jets, dtype=np.float64)
    eta_rel, phi_rel, pt_rel, mask_values = np.moveaxis(particles, -1, 0)
    layout = "columns etarel, phirel, ptrel, mask in that order (a permuted or rescaled column breaks this)"
    _fail(
        path,
        ~np.isin(mask_values, (0.0, 1.0)),
        f"the particle mask (column 3) being 0 or 1; expected {layout}",
        _RAW_FIX,
        mask_values,
    )
    mask = mask_values > 0
    padded = ~mask[..., None] & (particles[..., :3] != 0)
    _fail(
        path,
        padded,
        "zero padding (a slot with mask 0 holds non-zero features)",
        _RAW_FIX,
        particles[..., :3],
    )
    _fail(
        path,
        mask & ~((pt_rel > 0) & (pt_rel <= 1)),
        f"pT_rel in (0, 1] for real particles (pT_rel = pT / pT_jet); expected {layout}",
        _RAW_FIX,
        pt_rel,
    )
    reach = radius * RADIUS_MARGIN
    _fail(
        path,
        mask & (np.abs(phi_rel) > reach),
        f"|phi_rel| <= {reach:g} (the jet radius {radius:g} with a {RADIUS_MARGIN:g}x margin); expected {layout}",
        _RAW_FIX,
        phi_rel,
    )
    hard = mask & (pt_rel * jets[:, :1] >= HARD_PT_GEV)
    _fail(
        path,
        hard & (np.abs(eta_rel) > reach),
        f"|eta_rel| <= {reach:g} (the jet radius {radius:g} with a {RADIUS_MARGIN:g}x margin) for particles of "
        f"pT >= {HARD_PT_GEV:g} GeV; expected {layout}",
        _RAW_FIX,
        eta_rel,
    )
    empty = ~mask.any(axis=1)
    _fail(
        path, empty, "at least one particle per jet (a jet of zero padding only)", _RAW_FIX, mask.sum(axis=1)
    )
    pt, eta, mass, count = jets.T
    jet_layout = "jet_features columns pt [GeV], eta, mass [GeV], num_particles in that order"
    _fail(
        path,
        ~((pt > 0) & (pt <= 1000 * BEAM_ENERGY_TEV)),
        f"0 < jet pT <= {1000 * BEAM_ENERGY_TEV:g} GeV (the beam energy); expected {jet_layout}",
        _RAW_FIX,
        pt,
    )
    _fail(
        path,
        np.abs(eta) > MAX_JET_ETA,
        f"|jet η| <= {MAX_JET_ETA} (no detector measures jets beyond); expected {jet_layout}",
        _RAW_FIX,
        eta,
    )
    _fail(
        path,
        (count != np.round(count)) | (np.minimum(count, particles.shape[1]) != mask.sum(axis=1)),
        "num_particles being the jet's number of particles (at most the file's slots, as many as the mask "
        f"marks); expected {jet_layout}",
        _RAW_FIX,
        count,
    )
    bound = max_mass_over_pt(radius)
    _fail(
        path,
        ~((mass >= 0) & (mass <= bound * pt)),
        f"0 <= jet mass <= {bound:.3g} pT (the most a jet of radius {radius:g} can have); expected {jet_layout}",
        _RAW_FIX,
        mass,
    )
    p4 = lorentz.p4_from_ptetaphi(pt_rel, eta_rel, phi_rel) * mask[..., None]
    particle_mass = np.sqrt(np.maximum(lorentz.minkowski_norm2(p4.sum(axis=1)), 0.0))  # in units of pT
    _fail(
        path,
        particle_mass > 1.05 * mass / pt + 5e-3,
        "jet mass >= the mass of the particles it holds (massless particles never lower an invariant mass); "
        f"expected {jet_layout}",
        _RAW_FIX,
        mass,
    )


# --------------------------------------------------------------------------------------- processed
def check_processed(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """The arrays of a processed split file (p4, mask, particle_features, jet_features, jet_phi, index)
    against their layout and what massless particles satisfy."""
    p4, mask = arrays["p4"], arrays["mask"]
    n_jets = len(p4)
    shapes = {
        "p4": (n_jets, None, 4),
        "mask": (n_jets, None),
        "particle_features": (n_jets, None, 3),
        "jet_features": (n_jets, 4),
        "jet_phi": (n_jets,),
        "index": (n_jets,),
    }
    if p4.ndim != 3:
        raise DataError(f"{path}: 'p4' has shape {p4.shape}, expected [N, P, 4]; {_PROCESSED_FIX}")
    n_particles = p4.shape[1]
    for name, shape in shapes.items():
        expected = tuple(n_particles if s is None else s for s in shape)
        if arrays[name].shape != expected:
            raise DataError(
                f"{path}: {name!r} has shape {list(arrays[name].shape)}, expected {list(expected)} "
                f"({n_jets} jets of {n_particles} particles, as 'p4'); {_PROCESSED_FIX}"
            )
    for name in ("p4", "particle_features", "jet_features", "jet_phi"):
        if not np.issubdtype(arrays[name].dtype, np.floating):
            raise DataError(
                f"{path}: {name!r} holds {arrays[name].dtype} values, not floating point (momenta in "
                f"TeV would truncate); {_PROCESSED_FIX}"
            )
        bad = ~np.isfinite(arrays[name])
        _fail(path, bad, f"finite values of {name!r} (NaN or inf)", _PROCESSED_FIX, arrays[name])
    if mask.dtype != np.bool_ and not (np.issubdtype(mask.dtype, np.integer) and np.isin(mask, (0, 1)).all()):
        raise DataError(f"{path}: 'mask' holds {mask.dtype} values, not booleans; {_PROCESSED_FIX}")
    if n_jets == 0:
        return
    index = arrays["index"]
    if not np.issubdtype(index.dtype, np.integer) or index.min() < 0 or len(np.unique(index)) != n_jets:
        raise DataError(
            f"{path}: 'index' is not a set of distinct rows of the raw file (a jet given twice would be "
            f"counted twice); {_PROCESSED_FIX}"
        )
    mask = mask.astype(bool)
    p4 = p4.astype(np.float64)
    energy, momentum = p4[..., 0], np.linalg.norm(p4[..., 1:], axis=-1)
    _fail(
        path,
        ~mask[..., None] & (p4 != 0),
        "zero padding (a slot with mask 0 holds momenta)",
        _PROCESSED_FIX,
        p4,
    )
    _fail(path, mask & ~(energy > 0), "E > 0 for real particles", _PROCESSED_FIX, energy)
    _fail(
        path,
        mask & (momentum > energy * (1 + MASSLESS_TOLERANCE)),
        f"E >= |p| (up to the massless tolerance {MASSLESS_TOLERANCE:g}); p4 columns are E, px, py, pz in TeV",
        _PROCESSED_FIX,
        momentum - energy,
    )
    _fail(
        path,
        energy > BEAM_ENERGY_TEV,
        f"E <= {BEAM_ENERGY_TEV:g} TeV (the beam energy); p4 is in TeV",
        _PROCESSED_FIX,
        energy,
    )
    _fail(path, ~mask.any(axis=1), "at least one particle per jet", _PROCESSED_FIX, mask.sum(axis=1))
    features = arrays["particle_features"].astype(np.float64)
    jet_features = arrays["jet_features"].astype(np.float64)
    expected = (
        lorentz.p4_from_ptetaphi(
            features[..., 2] * jet_features[:, :1],
            features[..., 0] + jet_features[:, 1:2],
            lorentz.wrap_phi(features[..., 1] + arrays["jet_phi"][:, None]),
        )
        / 1000.0
    )
    expected[~mask] = 0.0
    disagree = np.abs(p4 - expected) > P4_AGREEMENT * expected[..., :1] + 1e-12
    _fail(
        path,
        disagree,
        "agreement of p4 with the relative coordinates and jet features stored beside it (p4 columns E, "
        "px, py, pz in TeV)",
        _PROCESSED_FIX,
        p4,
    )
