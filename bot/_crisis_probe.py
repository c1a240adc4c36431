"""A crisis reading learned over the sentence model's vectors (issue 11).

The sentence look of `bot._semantic` calls a message a crisis when its closest crisis
example is close enough. A nearest example only speaks for itself; a logistic regression
over all examples' vectors (a "probe": 384 weights and a bias) learns which directions of
the model's space go with danger, so it also finds a crisis worded unlike any example.
Leaving one example file out at a time (bench/crisis_probe.py, round 20), it found 39 of
the 120 crises that the rules, the crisis model and the nearest-example look all missed,
for 3 false alarms among the 3,022 ordinary messages they missed too. Through the engine,
held-out crises found rose from 496 to 521 of 600, false alarms from 26 to 29 of 660.

It is fitted by `wegwijzer kb embed` from the example vectors and stored beside them, with
a key of the examples and the settings below: a probe whose key no longer fits is fitted
again when the knowledge base loads. The rules for when it is asked are in
`bot._semantic.SemanticCheck.crisis_like`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

#: Ridge penalty. A looser one (0.0003) or a tighter one (0.003) found 38 and 36 crises
#: for the same 3 false alarms at their best PROBE_AT.
L2 = 0.001
#: A message is a crisis by the probe at this probability or more ...
PROBE_AT = 0.995
#: ... when the crisis model gives it PROBE_PROBABILITY or more (under its own
#: threshold): without that floor, 45 crises were found for 15 false alarms.
PROBE_PROBABILITY = 0.1
#: Where an answer fits, the message holds a plain work question and a crisis is less
#: likely: the floor is PROBE_ANSWERED_PROBABILITY there. Leaving one file out, a floor of
#: 0.2 halves the probe's false alarms for a fifth fewer crises (32/2 against 39/3).
PROBE_ANSWERED_PROBABILITY = 0.2
#: Newton steps: the fit settles in 8 to 12.
_STEPS = 30


@dataclass(frozen=True, slots=True)
class Probe:
    """Logistic-regression weights over a unit vector of the sentence model."""

    weights: NDArray[np.float32]
    bias: float

    def probability(self, vector: NDArray[np.float32]) -> float:
        z = float(vector @ self.weights) + self.bias
        return float(1.0 / (1.0 + np.exp(-max(-30.0, min(30.0, z)))))

    def to_array(self) -> NDArray[np.float32]:
        return np.append(self.weights, np.float32(self.bias)).astype(np.float32)

    @classmethod
    def from_array(cls, row: NDArray[np.float32]) -> Probe:
        return cls(np.asarray(row[:-1], dtype=np.float32), float(row[-1]))


def probe_key(crisis_keys: Sequence[str], other_keys: Sequence[str], l2: float = L2) -> str:
    """What a stored probe was fitted from: the examples' vector keys and the settings."""
    h = hashlib.sha256(f"{l2} {_STEPS}\0".encode())
    for label, keys in ((b"c", crisis_keys), (b"o", other_keys)):
        for key in sorted(set(keys)):
            h.update(label + key.encode() + b"\0")
    return h.hexdigest()[:24]


def fit_probe(
    crises: NDArray[np.float32], others: NDArray[np.float32], l2: float = L2
) -> Probe | None:
    """Fit by Newton's method, the two classes weighted equally; None without both.
    (`bot._scope_probe` fits its own probe with this too: `crises` are then the
    questions outside Wegwijzer.)"""
    if not len(crises) or not len(others):
        return None
    # float32 rows (7 MB for today's examples) and float64 sums: fitted at a start when
    # the stored probe is out of date, so its memory counts.
    x = np.vstack([crises, others]).astype(np.float32)
    y = np.concatenate([np.ones(len(crises)), np.zeros(len(others))])
    # Equal weight per class: there are about twice as many ordinary examples.
    sample = np.where(y == 1.0, 0.5 / y.mean(), 0.5 / (1.0 - y.mean()))
    dim = x.shape[1]
    w = np.zeros(dim)
    b = 0.0
    for _ in range(_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w + b, -30.0, 30.0)))
        r = sample * (p - y)
        s = sample * p * (1.0 - p)
        grad = np.append(x.T @ r + l2 * w, r.sum())
        hess = np.empty((dim + 1, dim + 1))
        hess[:dim, :dim] = (x * s[:, None].astype(np.float32)).T @ x + l2 * np.eye(dim)
        hess[:dim, dim] = hess[dim, :dim] = x.T @ s
        hess[dim, dim] = s.sum()
        step = np.linalg.solve(hess, grad)
        w -= step[:dim]
        b -= float(step[dim])
        if float(np.abs(step).max()) < 1e-6:
            break
    return Probe(w.astype(np.float32), b)
