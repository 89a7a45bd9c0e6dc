"""Drift against the training reference: none on the data the model was trained on, found on
shifted data, feature by feature."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from {{ package_name }} import reference
from {{ package_name }}.drift import compare, psi


@pytest.fixture(scope="module")
def features(dataset: pd.DataFrame) -> pd.DataFrame:
    return dataset.drop(columns=["target"])


@pytest.fixture(scope="module")
def profile(features: pd.DataFrame) -> dict:
    training = features.sample(frac=0.8, random_state=42)
    return reference.build(training, training.iloc[:, 0].to_numpy())


def shifted(frame: pd.DataFrame, columns: list[str], by: float = 1.0) -> pd.DataFrame:
    """`frame` with `columns` moved up by `by` of their standard deviation."""
    moved = frame.copy()
    moved[columns] = moved[columns] + by * frame[columns].std()
    return moved


def test_identical_data_raises_no_alarm(profile: dict, features: pd.DataFrame) -> None:
    for seed in range(5):
        window = features.sample(200, replace=True, random_state=seed)
        report = compare(profile, window, threshold=0.25)
        assert report.drifted == [], report
        assert report.max_psi < 0.25
        assert report.metrics()["drifted_features"] == 0


def test_the_reference_itself_has_no_drift(profile: dict, features: pd.DataFrame) -> None:
    training = features.sample(frac=0.8, random_state=42)
    report = compare(profile, training)
    assert report.max_psi < 1e-9
    assert report.max_ks < 0.05


def test_shifted_features_drift_and_the_others_do_not(
    profile: dict, features: pd.DataFrame
) -> None:
    moved = list(features.columns[:3])
    window = shifted(features.sample(200, replace=True, random_state=1), moved)
    report = compare(profile, window, threshold=0.25)
    assert set(moved) <= set(report.drifted)
    assert len(report.drifted) < len(features.columns) // 2
    assert report.max_psi > 0.5
    by_name = {drift.name: drift for drift in report.features}
    for name in moved:
        assert by_name[name].mean > by_name[name].reference_mean
        assert by_name[name].ks > 0.2 and by_name[name].ks_pvalue < 0.01


def test_drift_grows_with_the_shift(profile: dict, features: pd.DataFrame) -> None:
    window = features.sample(300, replace=True, random_state=2)
    column = [features.columns[0]]
    values = [compare(profile, shifted(window, column, by)).max_psi for by in (0.0, 0.5, 2.0)]
    assert values == sorted(values) and values[-1] > 1.0


def test_the_predictions_are_compared_too(profile: dict, features: pd.DataFrame) -> None:
    window = features.sample(200, random_state=3)
    same = compare(profile, window, window.iloc[:, 0].to_numpy())
    assert same.prediction is not None and not same.prediction.drifted
    moved = compare(profile, window, window.iloc[:, 0].to_numpy() * 3)
    assert moved.prediction.drifted and moved.metrics()["prediction_psi"] > 0.25


def test_psi_is_zero_for_equal_shares_and_positive_otherwise() -> None:
    values = np.arange(100, dtype=float)
    edges = reference.bin_edges(values, 4)
    assert len(edges) == 3
    assert psi([0.25] * 4, edges, values) == pytest.approx(0.0)
    assert psi([0.25] * 4, edges, np.full(100, 1000.0)) > 1.0


def test_ties_make_fewer_bins() -> None:
    values = np.array([0.0] * 90 + [1.0] * 10)
    edges = reference.bin_edges(values)
    assert len(edges) == 2
    shares = reference.shares(values, edges)
    assert shares.tolist() == pytest.approx([0.9, 0.0, 0.1])


def test_a_window_without_a_reference_feature_is_refused(
    profile: dict, features: pd.DataFrame
) -> None:
    with pytest.raises(ValueError, match="lacks features"):
        compare(profile, features.drop(columns=[features.columns[0]]))


def test_a_reference_round_trips_and_a_foreign_file_is_refused(
    profile: dict, tmp_path: Path
) -> None:
    path = tmp_path / "reference.json"
    reference.save(profile, path)
    assert reference.load(path) == profile
    path.write_text('{"features": {}}')
    with pytest.raises(reference.ReferenceError, match="not a training reference"):
        reference.load(path)
    with pytest.raises(reference.ReferenceError, match="no training reference"):
        reference.load(tmp_path / "missing.json")
