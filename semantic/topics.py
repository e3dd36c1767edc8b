"""Topic clusters of a dataset's embeddings. Pure (numpy, scikit-learn), no Django.

KMeans on the unit rows (MiniBatchKMeans past 10k rows); ``k`` given, or chosen among 2..12 by
the silhouette score on a sample of at most 2,000 rows. Each topic is labelled by its most
distinctive words by c-TF-IDF (a topic's texts as one document: a word's frequency in the topic
times log(1 + average words per topic / the word's frequency over all topics)), and carries its
size and its share of each split. ``points`` is a 2-D PCA projection of a sample, for the map.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

K_CHOICES = range(2, 13)
SILHOUETTE_SAMPLE = 2000
MAP_POINTS = 1500
LABEL_WORDS = 4
MINIBATCH_FROM = 10_000


@dataclass(frozen=True)
class Topic:
    number: int
    label: str
    words: tuple[str, ...]
    size: int
    share_by_split: dict[str, float]  # of the split's rows, the share in this topic


@dataclass(frozen=True)
class TopicMap:
    k: int
    silhouette: float | None
    assignments: np.ndarray  # topic number of each row
    topics: list[Topic]
    points: list[tuple[float, float, int, int]]  # x, y, topic, row


def _kmeans(rows: np.ndarray, k: int, seed: int):
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if len(rows) >= MINIBATCH_FROM:
        model = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096)
    else:
        model = KMeans(n_clusters=k, random_state=seed, n_init=3)
    return model.fit(rows)


def _choose_k(rows: np.ndarray, seed: int) -> tuple[int, float]:
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(seed)
    sample = rows[rng.choice(len(rows), min(len(rows), SILHOUETTE_SAMPLE), replace=False)]
    best = (2, -1.0)
    for k in K_CHOICES:
        if k >= len(sample):
            break
        labels = _kmeans(sample, k, seed).labels_
        if len(set(labels)) < 2:
            continue
        score = float(silhouette_score(sample, labels, metric="cosine"))
        if score > best[1]:
            best = (k, score)
    return best


def _words(text: str) -> list[str]:
    import re

    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return [w for w in re.findall(r"[a-z][a-z']{2,}", text.lower()) if w not in ENGLISH_STOP_WORDS]


def c_tf_idf_labels(texts: Sequence[str], assignments: np.ndarray, k: int) -> list[tuple[str, ...]]:
    """The LABEL_WORDS most distinctive words of each topic."""
    counts = [Counter() for _ in range(k)]
    for text, topic in zip(texts, assignments, strict=True):
        counts[int(topic)].update(_words(text))
    overall: Counter = Counter()
    for c in counts:
        overall.update(c)
    average = max(1.0, sum(overall.values()) / k)
    labels = []
    for c in counts:
        total = max(1, sum(c.values()))
        scored = sorted(c, key=lambda w: (-(c[w] / total) * np.log(1 + average / overall[w]), w))
        labels.append(tuple(scored[:LABEL_WORDS]))
    return labels


def topic_map(
    vectors: np.ndarray,
    texts: Sequence[str],
    splits: Sequence[str],
    *,
    k: int | None = None,
    seed: int = 0,
) -> TopicMap:
    """Topics of ``vectors`` (rows aligned with ``texts`` and ``splits``)."""
    from sklearn.decomposition import PCA

    rows = np.asarray(vectors, dtype=np.float32)
    n = len(rows)
    if n < 3:
        raise ValueError("topic clusters need at least 3 embedded examples")
    silhouette = None
    if k is None:
        k, silhouette = _choose_k(rows, seed)
    k = max(2, min(int(k), n - 1))
    assignments = _kmeans(rows, k, seed).labels_.astype(np.int64)
    words = c_tf_idf_labels(texts, assignments, k)
    split_totals = Counter(splits)
    per_topic = [Counter() for _ in range(k)]
    for topic, split in zip(assignments, splits, strict=True):
        per_topic[int(topic)][split] += 1
    topics = [
        Topic(
            number=t,
            label=", ".join(words[t]) or f"topic {t + 1}",
            words=words[t],
            size=int((assignments == t).sum()),
            share_by_split={s: per_topic[t][s] / split_totals[s] for s in sorted(split_totals)},
        )
        for t in range(k)
    ]
    rng = np.random.default_rng(seed)
    shown = np.sort(rng.choice(n, min(n, MAP_POINTS), replace=False))
    xy = PCA(n_components=2, random_state=seed).fit_transform(rows[shown])
    points = [
        (float(x), float(y), int(assignments[r]), int(r))
        for (x, y), r in zip(xy, shown, strict=True)
    ]
    return TopicMap(k, silhouette, assignments, topics, points)
