from __future__ import annotations

import numpy as np
import pytest

from riskdesk.allocation import Covariance, ewma_covariance, ledoit_wolf, sample_covariance
from riskdesk.errors import InvalidInputError


def _returns(t: int = 300, n: int = 8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    market = rng.normal(0.0, 0.01, size=(t, 1))
    return market @ rng.uniform(0.5, 1.5, size=(1, n)) + rng.normal(0.0, 0.02, size=(t, n))


# --- Covariance checks ---------------------------------------------------------------------


def _spd(n: int = 4, seed: int = 0) -> np.ndarray:
    a = np.random.default_rng(seed).normal(size=(n, n))
    return a @ a.T + 0.1 * np.eye(n)


@pytest.mark.parametrize(
    ("matrix", "expected"),
    [
        (np.ones((2, 3)), "square"),
        (np.ones(3), "square"),
        (np.zeros((0, 0)), "square"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), "finite"),
        (np.array([[1.0, 0.0], [0.0, np.inf]]), "finite"),
        (np.array([[1.0, 0.5], [0.1, 1.0]]), "symmetric"),
        (np.array([[1.0, 2.0], [2.0, 1.0]]), "positive semi-definite"),
        (np.array([[-1.0, 0.0], [0.0, 1.0]]), "non-negative variances"),
        (np.zeros((3, 3)), "positive variance"),
        ([["a", "b"], ["c", "d"]], "real numbers"),
    ],
)
def test_bad_matrices_are_rejected(matrix: object, expected: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        Covariance(matrix)  # type: ignore[arg-type]
    assert info.value.field == "cov"
    assert expected in info.value.expected


def test_rounding_asymmetry_is_averaged_away() -> None:
    m = _spd()
    m[0, 1] += 1e-13
    cov = Covariance(m)
    assert np.array_equal(cov.matrix, cov.matrix.T)


def test_singular_psd_matrix_is_accepted() -> None:
    v = np.array([1.0, 2.0, 3.0])
    cov = Covariance(np.outer(v, v))
    assert cov.n_assets == 3


def test_covariance_is_immutable() -> None:
    cov = Covariance(_spd())
    with pytest.raises(ValueError, match="read-only"):
        cov.matrix[0, 0] = 5.0
    with pytest.raises(AttributeError):
        cov.method = "other"  # type: ignore[misc]


def test_covariance_does_not_alias_the_input() -> None:
    m = _spd()
    cov = Covariance(m)
    m[0, 0] = 99.0
    assert cov.matrix[0, 0] != 99.0


def test_correlation_and_volatilities() -> None:
    m = np.array([[4.0, 1.2], [1.2, 9.0]])
    cov = Covariance(m)
    np.testing.assert_allclose(cov.volatilities, [2.0, 3.0])
    np.testing.assert_allclose(cov.correlation(), [[1.0, 0.2], [0.2, 1.0]])
    assert "n_assets=2" in repr(cov)


def test_correlation_needs_positive_variances() -> None:
    cov = Covariance(np.diag([1.0, 0.0]))
    with pytest.raises(InvalidInputError):
        cov.correlation()


# --- estimators ----------------------------------------------------------------------------


def test_sample_covariance_matches_numpy() -> None:
    r = _returns()
    est = sample_covariance(r)
    np.testing.assert_allclose(est.matrix, np.cov(r, rowvar=False), rtol=1e-12)
    assert est.method == "sample"
    assert est.observations == r.shape[0]
    assert np.array_equal(est.matrix, est.matrix.T)
    ml = sample_covariance(r, ddof=0)
    np.testing.assert_allclose(ml.matrix, np.cov(r, rowvar=False, ddof=0), rtol=1e-12)


@pytest.mark.parametrize(
    ("returns", "field"),
    [
        (np.ones(5), "returns"),
        (np.ones((1, 3)), "returns"),
        (np.array([[0.1, np.nan], [0.2, 0.3]]), "returns"),
        (np.ones((3, 0)), "returns"),
    ],
)
def test_estimators_reject_bad_returns(returns: np.ndarray, field: str) -> None:
    for estimator in (sample_covariance, ledoit_wolf, ewma_covariance):
        with pytest.raises(InvalidInputError) as info:
            estimator(returns)
        assert info.value.field == field


@pytest.mark.parametrize("ddof", [-1, 5, 1.5, True])
def test_sample_covariance_rejects_bad_ddof(ddof: object) -> None:
    with pytest.raises(InvalidInputError):
        sample_covariance(np.ones((5, 2)) + np.arange(10).reshape(5, 2), ddof=ddof)  # type: ignore[arg-type]


def _ledoit_wolf_reference(r: np.ndarray) -> tuple[np.ndarray, float]:
    """Ledoit and Wolf (2004), written out observation by observation."""
    t, n = r.shape
    x = r - r.mean(axis=0)
    s = sum(np.outer(row, row) for row in x) / t
    m = np.trace(s) / n
    d2 = np.sum((s - m * np.eye(n)) ** 2) / n
    b2 = sum(np.sum((np.outer(row, row) - s) ** 2) / n for row in x) / t**2
    b2 = min(b2, d2)
    delta = b2 / d2
    return delta * m * np.eye(n) + (1 - delta) * s, delta


@pytest.mark.parametrize(("t", "n"), [(40, 5), (30, 60), (500, 10)])
def test_ledoit_wolf_matches_the_paper(t: int, n: int) -> None:
    r = _returns(t, n, seed=t + n)
    est = ledoit_wolf(r)
    ref, delta = _ledoit_wolf_reference(r)
    assert est.shrinkage == pytest.approx(delta, rel=1e-10)
    np.testing.assert_allclose(est.matrix, ref, rtol=1e-10, atol=1e-15)
    # shrinkage makes it positive definite even when T < N
    assert np.linalg.eigvalsh(est.matrix)[0] > 0


def test_ledoit_wolf_matches_scikit_learn() -> None:
    from sklearn import covariance
    r = _returns(200, 12, seed=3)
    ref, delta = covariance.ledoit_wolf(r)
    est = ledoit_wolf(r)
    assert est.shrinkage == pytest.approx(delta, rel=1e-10)
    np.testing.assert_allclose(est.matrix, ref, rtol=1e-10)


def test_ewma_matches_a_recursive_reference() -> None:
    r = _returns(120, 4, seed=5)
    lam = 0.9
    est = ewma_covariance(r, decay=lam)
    weights = lam ** np.arange(len(r) - 1, -1, -1)
    weights /= weights.sum()
    ref = sum(wt * np.outer(row, row) for wt, row in zip(weights, r, strict=True))
    np.testing.assert_allclose(est.matrix, ref, rtol=1e-12)
    assert np.array_equal(est.matrix, est.matrix.T)
    assert est.method == "ewma"


def test_ewma_demean_and_recent_weighting() -> None:
    r = np.vstack([np.full((50, 2), 0.0), np.array([[0.1, -0.1]])])
    r[:50] += np.random.default_rng(0).normal(0, 1e-3, size=(50, 2))
    est = ewma_covariance(r, decay=0.5)
    # the last observation carries half the weight
    assert est.matrix[0, 0] == pytest.approx(0.5 * 0.01, rel=1e-2)
    demeaned = ewma_covariance(r, decay=0.5, demean=True)
    assert demeaned.matrix[0, 0] < est.matrix[0, 0]


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.5, 1.5, float("nan"), "x"])
def test_ewma_rejects_bad_decay(decay: object) -> None:
    with pytest.raises(InvalidInputError) as info:
        ewma_covariance(_returns(10, 2), decay=decay)  # type: ignore[arg-type]
    assert info.value.field == "decay"


def test_sample_covariance_with_fewer_observations_than_assets_is_singular_but_valid() -> None:
    est = sample_covariance(_returns(10, 30))
    assert est.n_assets == 30
    # re-checking the estimate through the public constructor passes too
    assert Covariance(est.matrix).n_assets == 30
