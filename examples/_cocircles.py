"""The CoCircles 4x40 network shared by the examples (the Aletheia reference setup).

scikit-learn's ``MLPClassifier`` with 4 hidden layers of 40, early stopping on 20% of the
training rows, trained on ``make_circles(2000, noise=0.1, factor=0.8, random_state=0)``.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_circles
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier


def cocircles_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The published protocol: 2000 rows, a plain 80/20 split with seed 0."""
    X, y = make_circles(n_samples=2000, noise=0.1, factor=0.8, random_state=0)
    return train_test_split(X, y, test_size=0.2, random_state=0)


def fit_cocircles_mlp(X: np.ndarray, y: np.ndarray) -> MLPClassifier:
    """The 4x40 ReLU MLP of the Aletheia example, fitted on ``X, y``."""
    return MLPClassifier(
        hidden_layer_sizes=[40] * 4, max_iter=2000, early_stopping=True, n_iter_no_change=100,
        validation_fraction=0.2, learning_rate_init=0.001, random_state=0,
    ).fit(X, y)
