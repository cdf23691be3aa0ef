"""Layers: the LMP layer (:mod:`lgae.nn.lmp`) and its Lorentzian-bell edge functions (:mod:`lgae.nn.edge`),
complex channel mixing (:mod:`lgae.nn.mixing`) on real (re, im) planes (:mod:`lgae.nn.complex_arith`),
and the GNNAE's message-passing layer (:mod:`lgae.nn.mpnn`)."""

from __future__ import annotations

from lgae.nn.complex_arith import cmul, contract, csquare, times_i
from lgae.nn.edge import EdgeWeights, LorentzianBells, edge_weights_of, shape_edge_weights
from lgae.nn.lmp import LMPLayer, LMPStack, NodeFeatures, RealFeatures, edge_mask, mdot, pair_invariants
from lgae.nn.mixing import ComplexMix
from lgae.nn.mpnn import MPNNLayer, mlp, pairwise_distance

__all__ = [
    "ComplexMix",
    "EdgeWeights",
    "LMPLayer",
    "LMPStack",
    "LorentzianBells",
    "MPNNLayer",
    "NodeFeatures",
    "RealFeatures",
    "cmul",
    "contract",
    "csquare",
    "edge_mask",
    "edge_weights_of",
    "mdot",
    "mlp",
    "pair_invariants",
    "pairwise_distance",
    "shape_edge_weights",
    "times_i",
]
