"""CNNAE: architecture sizes (vs the authors' Keras model), image in/out, symmetries, padding."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

import lgae.models
from lgae.equivariance import assert_equivariant, lorentz_tolerance
from lgae.errors import ConfigError
from lgae.group.lorentz import apply, boost, p4_from_ptetaphi, rotation
from lgae.jets import jet_features, relative_coordinates
from lgae.jets.images import image_jet_features, jet_images_from_p4
from lgae.models.cnnae import CNNAE, _SameConv, _SameConvTranspose

DTYPES = (torch.float32, torch.float64)


def make_jets(
    batch: int = 3, num: int = 30, dtype: torch.dtype = torch.float64, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Massless particles around random jet axes (TeV), padded slots scattered and zeroed."""
    gen = torch.Generator().manual_seed(seed)
    pt = 0.5 * torch.rand(batch, num, generator=gen, dtype=torch.float64) ** 2 + 1e-3
    eta = 0.2 * torch.randn(batch, num, generator=gen, dtype=torch.float64) + 0.7
    phi = 0.2 * torch.randn(batch, num, generator=gen, dtype=torch.float64) - 2.5
    p4 = p4_from_ptetaphi(pt, eta, phi)
    mask = torch.zeros(batch, num, dtype=torch.bool)
    for b, count in enumerate([num, num // 2, 2][:batch]):
        mask[b, torch.randperm(num, generator=gen)[:count]] = True
    p4 = torch.where(mask[..., None], p4, torch.zeros(()))
    return p4.to(dtype), mask


def with_garbage(p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    junk = 1e3 * torch.randn(p4.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    out = torch.where(mask[..., None], p4, junk.to(p4.dtype))
    pad = (~mask).nonzero()
    out[pad[0][0], pad[0][1], 1] = float("nan")
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_shapes_dtypes_output_is_an_image_and_backward(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    model = lgae.models.build("cnnae").to(dtype)
    p4, mask = make_jets(dtype=dtype)
    latent = model.encode(p4, mask)
    assert latent.shape == (3, 55)
    output = model(p4, mask)
    target = model.target(p4, mask)
    assert output.shape == target.shape == (3, 1, 40, 40)
    assert output.dtype == target.dtype == latent.dtype == dtype
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(output.sum(dim=(1, 2, 3)), torch.ones(3, dtype=dtype), rtol=0, atol=tol)
    torch.testing.assert_close(target.sum(dim=(1, 2, 3)), torch.ones(3, dtype=dtype), rtol=0, atol=tol)
    assert torch.all(output > 0)
    assert model.output_to_p4(output, p4, mask).shape == (3, 1600, 4)
    ((output - target) ** 2).sum().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.all(torch.isfinite(g)) and float(g.abs().sum()) > 0 for g in grads)


def test_parameter_count_matches_the_keras_model() -> None:
    model = lgae.models.build("cnnae")
    conv1 = 1 * 9 * 128 + 128
    conv2 = 128 * 9 * 128 + 128
    bottleneck = 10 * 10 * 128 * 55 + 55
    dense = 55 * 10 * 10 * 128 + 10 * 10 * 128
    deconv1 = 128 * 9 * 128 + 128
    deconv2 = 128 * 9 * 1 + 1
    expected = conv1 + conv2 + bottleneck + dense + deconv1 + deconv2
    assert expected == 1_718_456  # `model.summary()` of the authors' cnnae_ucsd.py with latent 55
    assert model.num_parameters() == expected
    print(f"cnnae latent_dim=55: {model.num_parameters()} parameters")


def test_feature_map_sizes() -> None:
    model = lgae.models.build("cnnae")
    x = torch.rand(2, 1, 40, 40)
    sizes = []
    for module in model.encoder:
        x = module(x)
        sizes.append(tuple(x.shape[1:]))
    assert sizes == [(128, 20, 20), (128, 20, 20), (128, 10, 10), (128, 10, 10), (12800,), (55,)]
    y = model.decoder_input(x).reshape(2, 128, 10, 10)
    sizes = []
    for module in model.decoder:
        y = module(y)
        sizes.append(tuple(y.shape[1:]))
    assert sizes == [(128, 20, 20), (128, 20, 20), (1, 40, 40)]


def test_same_padding_follows_tensorflow() -> None:
    """TF "same" with stride 2 on an even size pads only at the end: output row o sees input rows
    2o, 2o+1, 2o+2. A symmetric padding (PyTorch padding=1) would let input row 1 reach output rows 0 and 1."""
    conv = _SameConv(1, 1)
    torch.nn.init.ones_(conv.conv.weight)
    torch.nn.init.zeros_(conv.conv.bias)
    x = torch.zeros(1, 1, 40, 40)
    x[0, 0, 1, 1] = 1.0
    y = conv(x)
    assert y.shape == (1, 1, 20, 20)
    assert y[0, 0].nonzero().tolist() == [[0, 0]]
    x = torch.zeros(1, 1, 40, 40)
    x[0, 0, 39, 39] = 1.0  # last row: reaches output row 19 only through the end padding
    assert conv(x)[0, 0].nonzero().tolist() == [[19, 19]]
    # the transpose: coarse row i feeds fine rows 2i, 2i+1, 2i+2 of which the first 2n are kept
    deconv = _SameConvTranspose(1, 1)
    torch.nn.init.ones_(deconv.conv.weight)
    torch.nn.init.zeros_(deconv.conv.bias)
    z = torch.zeros(1, 1, 10, 10)
    z[0, 0, 9, 0] = 1.0
    out = deconv(z)
    assert out.shape == (1, 1, 20, 20)
    assert out[0, 0].nonzero().tolist() == [[18, 0], [18, 1], [18, 2], [19, 0], [19, 1], [19, 2]]


def test_target_is_the_jet_image_and_output_to_p4_recovers_the_jet() -> None:
    p4, mask = make_jets()
    model = lgae.models.build("cnnae").double()
    target = model.target(p4, mask)
    torch.testing.assert_close(target[:, 0], jet_images_from_p4(p4, mask, npix=40, max_r=0.8))
    # the target image, read back as pixels, is the input jet up to pixelisation (w = 0.04)
    back = jet_features(model.output_to_p4(target, p4, mask))
    truth = jet_features(p4, mask)
    _, jet_pt, jet_eta, jet_phi = relative_coordinates(p4, mask)
    via_images = image_jet_features(target, jet_pt, jet_eta, jet_phi, 0.8)
    for key in ("mass", "pt", "eta", "phi"):
        torch.testing.assert_close(back[key], via_images[key])
    torch.testing.assert_close(back["eta"], truth["eta"], rtol=0, atol=0.02)
    torch.testing.assert_close(back["phi"], truth["phi"], rtol=0, atol=0.02)
    torch.testing.assert_close(back["pt"], truth["pt"], rtol=0.05, atol=0)


def test_image_and_latent_ignore_particle_order_and_padding() -> None:
    torch.manual_seed(0)
    model = lgae.models.build("cnnae").double()
    p4, mask = make_jets()
    perm = torch.randperm(30, generator=torch.Generator().manual_seed(5))
    image = model.target(p4, mask)
    torch.testing.assert_close(model.target(p4[:, perm], mask[:, perm]), image, rtol=0, atol=1e-15)
    torch.testing.assert_close(model.encode(p4[:, perm], mask[:, perm]), model.encode(p4, mask))
    dirty = with_garbage(p4, mask)
    assert torch.equal(model.target(dirty, mask), image)
    assert torch.equal(model(dirty, mask), model(p4, mask))
    out = model(p4, mask)
    assert torch.equal(model.output_to_p4(out, dirty, mask), model.output_to_p4(out, p4, mask))


def _reconstructed_p4(model: CNNAE) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    return lambda p4, mask: model.output_to_p4(model(p4, mask), p4, mask)


def test_azimuthal_rotation_leaves_the_image_unchanged() -> None:
    torch.manual_seed(0)
    model = lgae.models.build("cnnae").double()
    p4, mask = make_jets()
    rot = rotation(-2.1, (0.0, 0.0, 1.0))
    moved = lambda p4, mask: (apply(rot, p4), mask)  # noqa: E731
    tolerance = lorentz_tolerance(torch.float64, rot, 100.0)  # measured ≤ 1.1 ε
    assert_equivariant(model.target, (p4, mask), moved, tolerance=tolerance, what="image")
    assert_equivariant(
        _reconstructed_p4(model), (p4, mask), moved, lambda out: apply(rot, out), tolerance=tolerance
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_cnnae_is_not_lorentz_equivariant(dtype: torch.dtype) -> None:
    """Negative control (paper Table 1): a boost across the beam changes the jet image, so the CNNAE's
    reconstruction does not follow the boost; the shared helper must say so."""
    torch.manual_seed(0)
    model = lgae.models.build("cnnae").to(dtype)
    p4, mask = make_jets(dtype=dtype)
    lam = boost(1.0, (1.0, 0.0, 0.0))
    with pytest.raises(AssertionError, match="not equivariant") as error:
        assert_equivariant(
            _reconstructed_p4(model),
            (p4, mask),
            lambda p4, mask: (apply(lam.to(dtype), p4), mask),
            lambda out: apply(lam.to(dtype), out),
            tolerance=lorentz_tolerance(dtype, lam, 3e4 if dtype == torch.float64 else 1e4),  # the LGAE's
        )
    assert float(str(error.value).split("deviation ")[1].split(" ")[0]) > 0.1  # broken, not rounding


def test_compression_rate_and_build() -> None:
    model = lgae.models.build("cnnae")
    assert isinstance(model, CNNAE)
    assert model.output_space == "image"
    assert model.latent_size == 55
    assert model.compression_rate("text") == pytest.approx(55 / 90, abs=1e-12)
    assert model.compression_rate("table") == pytest.approx(55 / 90, abs=1e-12)
    assert round(100 * model.compression_rate(), 2) == 61.11
    with pytest.raises(ConfigError, match="bogus"):
        lgae.models.build("cnnae", bogus=1)
    with pytest.raises(ConfigError):
        lgae.models.build("cnnae", npix=42)
    small = lgae.models.build("cnnae", latent_dim=8, npix=16, max_r=0.5, channels=4)
    p4, mask = make_jets(dtype=torch.float32)
    assert small(p4, mask).shape == (3, 1, 16, 16)
