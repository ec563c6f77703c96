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
    """One head: weights per feature for each class, plus a bias."""

    def __init__(
        self, classes: Sequence[str], bias: Sequence[float], weights: dict[str, array[float]]
    ) -> None:
        self.classes = tuple(classes)
        self.bias = list(bias)
        self.weights = weights

    def scores(self, feats: Sequence[str]) -> tuple[list[float], list[str]]:
        """Bias plus the known features' rows, scaled by 1/sqrt(number of features)."""
        known = [f for f in feats if f in self.weights]
        if not known:
            return list(self.bias), known
        # One C-level sum per class over the rows: the same order, so the same floats, as
        # adding row after row, at half the cost of a new list per feature.
        total = map(sum, zip(*map(self.weights.__getitem__, known), strict=True))
        norm = 1.0 / math.sqrt(len(feats))
        return [b + t * norm for b, t in zip(self.bias, total, strict=True)], known

    def predict(self, feats: Sequence[str], cues: int = 3) -> Prediction:
        """The likeliest class; with `cues`, the features that pushed hardest towards it."""
        scores, known = self.scores(feats)
        probs = _softmax(scores)
        best = max(range(len(probs)), key=probs.__getitem__)
        top: list[str] = []
        if cues:
            # Words, phrase-list hits and longer n-grams explain; single letters do not.
            pushing = [(row[best], f) for f in known if (row := self.weights[f])[best] > 0]
            for _, f in sorted(pushing, key=itemgetter(0), reverse=True):
                if not (f.startswith(("w:", "p:")) or len(f.strip()) >= 3):
                    continue
                readable = _readable(f)
                if readable not in top:
                    top.append(readable)
                    if len(top) == cues:
                        break
        return Prediction(
            self.classes[best],
            probs[best],
            {c: round(p, 4) for c, p in zip(self.classes, probs, strict=True)},
            tuple(top),
        )

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
        return cls(classes, bias, {f: array("f", row) for f, row in weights.items()})


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


@dataclass(frozen=True, slots=True)
class TriageModel:
    """The shipped file: a category head and a severity head over the same features."""

    category: LinearModel
    severity: LinearModel
    meta: dict[str, object]

    def save(self, path: Path) -> None:
        data = {
            "format": FORMAT,
            "meta": self.meta,
            "category": self.category.to_dict(),
            "severity": self.severity.to_dict(),
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
    pruned = {
        f: array("f", row) for f, row in weights.items() if max(abs(w) for w in row) >= min_weight
    }
    return LinearModel(classes, bias, pruned)
