"""Layers: the LMP layer and its Lorentzian-bell edge functions, complex channel mixing, and the
GNNAE's message-passing layer."""

from __future__ import annotations
