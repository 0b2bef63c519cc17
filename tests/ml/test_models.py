import numpy as np
import pytest
import torch

from ml.data import Split
from ml.models.classifiers import build
from ml.models.config import FAMILIES, CNNConfig
from ml.models.size import count_parameters
from ml.training.evaluate import evaluate
from ml.training.train import fit, pixels


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_outputs_probabilities_over_ten_classes(family, mnist):
    train, _ = mnist
    small = train.subset(300, seed=1)
    model = fit(build(family), small, dry_run=True)
    probs = model.predict_proba(pixels(small.images[:7]))
    assert probs.shape == (7, 10)
    assert np.allclose(probs.sum(1), 1, atol=1e-4)


@pytest.mark.parametrize("family", ["logreg", "mlp", "rnn", "cnn"])
def test_torch_families_overfit_a_small_batch(family, mnist):
    train, _ = mnist
    batch = train.subset(128, seed=2)
    model = build(family, train={"epochs": 60, "batch_size": 128, "lr": 3e-3})
    fit(model, batch)
    assert evaluate(model, batch)["accuracy"] >= 0.97


@pytest.mark.parametrize("family", ["knn", "svm"])
def test_sklearn_families_learn_a_small_set(family, mnist):
    train, test = mnist
    model = fit(build(family), train.subset(2000, seed=0))
    assert evaluate(model, test.subset(500))["accuracy"] >= 0.85


def test_thesis_defaults_are_the_studys_configuration():
    assert build("knn").estimator.n_neighbors == 3
    assert build("svm").estimator.max_iter == 100
    cnn = build("cnn")
    assert cnn.train_config.batch_size == 512 and cnn.train_config.epochs == 10
    # Convs 1·32·25+32, 32·32·25+32, 32·64·9+64, 64·64·9+64; linear 3136·256+256, 256·10+10.
    assert count_parameters(cnn.module) == 832 + 25632 + 18496 + 36928 + 803072 + 2570


@pytest.mark.parametrize("change", [{"pool": "avg"}, {"pool": "none"}, {"blocks": 1},
                                    {"channels": (16, 32)}, {"kernel": (7, 7)}, {"linear": 128},
                                    {"dropout": 0.0}, {"batchnorm": True}])
def test_cnn_ablation_configs_build_and_run(change):
    model = build("cnn", change)
    out = model.module(torch.zeros(2, 28, 28))
    assert out.shape == (2, 10)
    assert CNNConfig.from_dict(model.model_config) == CNNConfig(**change)


def test_unknown_family_and_bad_config_fail_with_the_value():
    with pytest.raises(AssertionError, match="unknown model family 'tree'"):
        build("tree")
    with pytest.raises(AssertionError, match="pool must be max/avg/none, got 'min'"):
        build("cnn", {"pool": "min"})


def test_training_loop_indexes_tensors_not_samples(mnist):
    # A Split whose images are a tensor is all the loop needs: no Dataset, no per-sample Python.
    train, _ = mnist
    split = Split(train.images[:256], train.labels[:256], "test")
    model = fit(build("logreg", train={"epochs": 1}), split)
    assert evaluate(model, split)["samples"] == 256


def test_served_cnn_folds_batchnorm_and_follows_weight_changes(mnist):
    train, _ = mnist
    batch = train.subset(256, seed=3)
    model = build("cnn", {"batchnorm": True, "channels": (8, 16), "linear": 32},
                  train={"epochs": 2, "batch_size": 64})
    fit(model, batch)
    x = pixels(batch.images[:16])
    probs = model.predict_proba(x)
    with torch.no_grad():
        reference = model.module.eval()(x).exp().numpy()
    assert np.allclose(probs, reference, atol=1e-5)
    served = model._inference_module()
    assert not any(isinstance(m, (torch.nn.BatchNorm2d, torch.nn.Dropout)) for m in served.modules())
    # The served copy is rebuilt after the weights change in place (a training step, a reload).
    with torch.no_grad():
        model.module.head[-1].bias[0] += 50.0
    assert (model.predict_proba(x).argmax(1) == 0).all()
