import numpy as np
import pytest

from ml.models.preprocess import SETTINGS, batch_to_mnist, centre_of_mass, signature, to_mnist


def test_centre_of_mass_lands_at_14_14_wherever_the_ink_was(rng):
    crop = np.zeros((90, 70), np.float32)
    crop[10:40, 50:65] = 1.0  # ink far off-centre in a big crop
    crop[35:80, 5:12] = 0.6
    out = to_mnist(crop)
    cy, cx = centre_of_mass(out)
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert abs(cy - 14) < 0.25 and abs(cx - 14) < 0.25


def test_longest_side_is_scaled_to_20_and_aspect_is_kept():
    tall = np.zeros((100, 100), np.float32)
    tall[0:100, 40:60] = 1.0  # 100 high, 20 wide: aspect 5:1
    out = to_mnist(tall)
    # A sub-pixel shift spreads an edge over two pixels, so measure extents as summed coverage.
    height, width = out.max(axis=1).sum(), out.max(axis=0).sum()
    assert abs(height - 20) < 0.6
    assert abs(width - 4) < 1.0  # 20 / 5 = 4 columns


def test_mnist_digits_survive_preprocessing_almost_unchanged(test_digits):
    images, _ = test_digits
    sample = images[:50].astype(np.float32) / 255
    again = batch_to_mnist(list(sample))
    # MNIST was made by this recipe, so redoing it moves little ink.
    assert np.abs(again - sample).mean() < 0.06


def test_blank_crop_gives_blank_input_and_bad_shapes_are_refused():
    assert not to_mnist(np.zeros((30, 30), np.float32)).any()
    with pytest.raises(ValueError, match=r"2-D crop, got shape \(3, 30, 30\)"):
        to_mnist(np.zeros((3, 30, 30)))


def test_signature_changes_with_any_setting():
    assert signature(SETTINGS) == signature(dict(SETTINGS))
    assert signature({**SETTINGS, "box": 22}) != signature(SETTINGS)
