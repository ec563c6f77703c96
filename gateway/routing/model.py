"""A small linear text classifier: character n-grams and words in, class scores out.

Pure Python on purpose: inference is a few hundred dictionary look-ups (well under a
millisecond), the model is one gzipped JSON file shipped in the package, and neither
running nor training needs numpy or scikit-learn. Training is multinomial logistic
regression by stochastic gradient descent with L2 decay, over the same features.
"""

from __future__ import annotations

import gzip
import json
import math
import random
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

FORMAT = "parley-linear-1"


@dataclass(frozen=True, slots=True)
class Prediction:
    label: str
    probability: float
    probabilities: dict[str, float]
    cues: tuple[str, ...]  # the features that pushed hardest towards `label`


class LinearModel:
    """One head as training leaves it and the file keeps it: weights per feature for
    each class (features whose weights were all pruned are absent), plus a bias."""

    def __init__(
        self, classes: Sequence[str], bias: Sequence[float], weights: dict[str, Sequence[float]]
    ) -> None:
        self.classes = tuple(classes)
        self.bias = list(bias)
        self.weights = weights

    def to_dict(self) -> dict[str, object]:
        return {
            "classes": list(self.classes),
            "bias": [round(b, 4) for b in self.bias],
            "weights": {f: [round(w, 3) for w in row] for f, row in self.weights.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> LinearModel:
        classes = data["classes"]
        bias = data["bias"]
        weights = data["weights"]
        assert isinstance(classes, list) and isinstance(bias, list) and isinstance(weights, dict)
        return cls(classes, bias, weights)  # the file's lists: TriageModel reads them once


def _readable(feature: str) -> str:
    if feature.startswith("p:"):
        return f"phrase list {feature[2:].split('#')[0]}"
    if feature.startswith(("w:", "b:")):
        return repr(feature[2:])
    return repr(feature.strip() or feature)


def _softmax(scores: Sequence[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


class TriageModel:
    """The shipped file: a category head and a severity head over the same features.

    Read through one table: a feature's row holds its category weights, then its severity
    weights (zeros for a head that pruned it), so a message costs one look-up a feature
    and one C-level sum a class. The rows are tuples of shared float objects (the file
    rounds weights to three decimals: a few thousand distinct values), no larger than the
    two heads' arrays and about half the cost to sum (iterating a tuple makes no floats).
    """

    def __init__(self, category: LinearModel, severity: LinearModel, meta: dict[str, object]):
        heads = (category, severity)
        self.category_classes, self.severity_classes = category.classes, severity.classes
        self.bias = (*category.bias, *severity.bias)
        self.meta = meta
        self._split = split = len(category.classes)
        shared: dict[float, float] = {}
        zeros = ((0.0,) * split, (0.0,) * len(severity.classes))

        def row(f: str) -> tuple[float, ...]:
            # Weights are float32 (what training keeps and the file rounds), as shared
            # float objects; -0.0 == 0.0, so zeros keep their own (the file's sign).
            parts = (
                array("f", h.weights[f]) if f in h.weights else zero
                for h, zero in zip(heads, zeros, strict=True)
            )
            return tuple(shared.setdefault(w, w) if w else w for part in parts for w in part)

        self.rows: dict[str, tuple[float, ...]] = {
            f: row(f) for f in sorted(category.weights.keys() | severity.weights.keys())
        }

    def predict(self, feats: Sequence[str], cues: int = 3) -> tuple[Prediction, Prediction]:
        """Category (with up to `cues` features that pushed hardest towards it) and
        severity. Scores are the bias plus the known features' rows, scaled by
        1/sqrt(number of features)."""
        rows = self.rows
        known = [f for f in feats if f in rows]
        scores = list(self.bias)
        if known:
            norm = 1.0 / math.sqrt(len(feats))
            total = map(sum, zip(*map(rows.__getitem__, known), strict=True))
            scores = [b + t * norm for b, t in zip(scores, total, strict=True)]
        split = self._split
        category = self._prediction(self.category_classes, scores[:split], known, 0, cues)
        severity = self._prediction(self.severity_classes, scores[split:], known, split, 0)
        return category, severity

    def _prediction(
        self, classes: tuple[str, ...], scores: list[float], known: list[str], at: int, cues: int
    ) -> Prediction:
        probs = _softmax(scores)
        best = max(range(len(probs)), key=probs.__getitem__)
        top: list[str] = []
        if cues:
            column = at + best
            # Words, phrase-list hits and longer n-grams explain; single letters do not.
            pushing = [(w, f) for f in known if (w := self.rows[f][column]) > 0]
            for _, f in sorted(pushing, key=itemgetter(0), reverse=True):
                if not (f.startswith(("w:", "p:")) or len(f.strip()) >= 3):
                    continue
                readable = _readable(f)
                if readable not in top:
                    top.append(readable)
                    if len(top) == cues:
                        break
        return Prediction(
            classes[best],
            probs[best],
            {c: round(p, 4) for c, p in zip(classes, probs, strict=True)},
            tuple(top),
        )

    def heads(self) -> tuple[LinearModel, LinearModel]:
        """The two heads as the file keeps them (a feature only in the heads that kept it)."""
        split = self._split
        out: tuple[dict[str, Sequence[float]], dict[str, Sequence[float]]] = ({}, {})
        for f, row in self.rows.items():
            for weights, part in ((out[0], row[:split]), (out[1], row[split:])):
                if any(part):  # a kept feature has a weight of at least the pruning floor
                    weights[f] = array("f", part)
        return (
            LinearModel(self.category_classes, self.bias[:split], out[0]),
            LinearModel(self.severity_classes, self.bias[split:], out[1]),
        )

    def save(self, path: Path) -> None:
        category, severity = self.heads()
        data = {
            "format": FORMAT,
            "meta": self.meta,
            "category": category.to_dict(),
            "severity": severity.to_dict(),
        }
        raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        # mtime=0: the same training gives the same bytes.
        path.write_bytes(gzip.compress(raw.encode("utf-8"), mtime=0))

    @classmethod
    def load(cls, path: Path) -> TriageModel:
        data = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"{path}: not a {FORMAT} model file")
        return cls(
            LinearModel.from_dict(data["category"]),
            LinearModel.from_dict(data["severity"]),
            data.get("meta", {}),
        )


def train_head(
    samples: Sequence[tuple[Sequence[str], str]],
    classes: Sequence[str],
    *,
    epochs: int = 30,
    rate: float = 0.5,
    l2: float = 1e-5,
    seed: int = 13,
    min_weight: float = 0.02,
) -> LinearModel:
    """Multinomial logistic regression by SGD; weights below `min_weight` are pruned."""
    index = {c: i for i, c in enumerate(classes)}
    k = len(classes)
    weights: dict[str, list[float]] = {}
    bias = [0.0] * k
    order = list(range(len(samples)))
    rng = random.Random(seed)
    step = 0
    for epoch in range(epochs):
        rng.shuffle(order)
        lr = rate / (1.0 + epoch * 0.2)
        for i in order:
            feats, label = samples[i]
            norm = 1.0 / math.sqrt(len(feats)) if feats else 0.0
            scores = list(bias)
            rows = []
            for f in feats:
                row = weights.get(f)
                if row is None:
                    row = weights[f] = [0.0] * k
                rows.append(row)
                for c in range(k):
                    scores[c] += row[c] * norm
            probs = _softmax(scores)
            target = index[label]
            decay = 1.0 - lr * l2
            for c in range(k):
                grad = probs[c] - (1.0 if c == target else 0.0)
                bias[c] -= lr * grad * 0.1
                g = lr * grad * norm
                for row in rows:
                    row[c] = row[c] * decay - g
            step += 1
    pruned: dict[str, Sequence[float]] = {
        f: array("f", row) for f, row in weights.items() if max(abs(w) for w in row) >= min_weight
    }
    return LinearModel(classes, bias, pruned)
