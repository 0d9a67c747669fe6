"""Both decoders on single frames: what each reads (Code 128 with an IIN, QR,
PDF417; clean, turned 15 degrees, blurred, noisy), and what each must not."""
import sys

import cv2
import numpy as np
import pytest

from drivers.decoders import (DECODERS, ZBarDecoder, ZXingDecoder, is_zbar_available,
                              make_decoder, rectified, straightened)
from kiosk.core.errors import DeviceError
from tests.codes import VARIANTS, blank, code_image, scene

IIN = "871008401427"
zbar_ok, zbar_reason = is_zbar_available()
DECODER_NAMES = ["zxing", pytest.param("zbar", marks=pytest.mark.skipif(not zbar_ok, reason=zbar_reason))]


@pytest.fixture(scope="module", params=DECODER_NAMES)
def decoder(request):
    return make_decoder(request.param)


def expected(decoder, symbology, variant) -> bool:
    """Whether ``decoder`` should read this case; the exceptions are ZBar's
    own limits (measured, and in bench/RESULTS.md)."""
    if decoder.name == "zbar" and symbology == "PDF417":
        return False  # ZBar has no PDF417 reader at all
    return True


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("symbology", ["Code128", "QRCode", "PDF417"])
def test_reads_each_symbology_as_a_camera_sees_it(decoder, symbology, variant):
    frame = scene(code_image(IIN, symbology), variant, seed=len(variant))
    got = decoder.decode(frame)
    assert got == ([IIN.encode()] if expected(decoder, symbology, variant) else [])


@pytest.mark.parametrize("symbology", ["ITF", "Code39", "Code93", "DataMatrix", "Aztec"])
def test_zxing_reads_every_symbology_that_can_carry_an_iin(symbology):
    assert ZXingDecoder().decode(scene(code_image(IIN, symbology))) == [IIN.encode()]


def test_grey_and_colour_frames_read_alike(decoder):
    frame = scene(code_image(IIN, "Code128"))
    assert decoder.decode(frame) == decoder.decode(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)) \
        == [IIN.encode()]


@pytest.mark.parametrize("brightness", [0.6, 1.3])
def test_dim_and_bright_light(decoder, brightness):
    assert decoder.decode(scene(code_image(IIN, "QRCode"), brightness=brightness)) == [IIN.encode()]


def test_a_frame_seen_at_an_angle(decoder):
    frame = scene(code_image(IIN, "Code128"), perspective=0.08)
    assert decoder.decode(frame) == [IIN.encode()]


@pytest.mark.parametrize("seed", range(4))
def test_an_empty_scene_reads_nothing(decoder, seed):
    """Sensor noise and flat walls must never turn into a scan."""
    assert decoder.decode(blank(seed)) == []
    assert decoder.decode(np.full((480, 640), 200, np.uint8)) == []


def test_two_cards_in_view_are_both_read():
    frame = blank()
    left, right = code_image("871008401427", "QRCode"), code_image("061211600012", "QRCode")
    frame[100:100 + left.shape[0], 40:40 + left.shape[1]] = left
    frame[100:100 + right.shape[0], 360:360 + right.shape[1]] = right
    assert sorted(ZXingDecoder().decode(frame)) == [b"061211600012", b"871008401427"]


def test_second_looks_are_only_taken_when_a_card_may_be_there():
    upright = cv2.cvtColor(scene(code_image(IIN, "PDF417")), cv2.COLOR_BGR2GRAY)
    assert straightened(upright) is None  # no work on frames that need none
    assert rectified(blank()) is None  # noise is not a card outline
    tilted = cv2.cvtColor(scene(code_image(IIN, "PDF417"), "rotated"), cv2.COLOR_BGR2GRAY)
    assert rectified(tilted) is not None


def test_unknown_decoder_is_a_device_error():
    with pytest.raises(DeviceError, match="no decoder 'quagga'; choose one of zxing, zbar"):
        make_decoder("quagga")
    assert set(DECODERS) == {"zxing", "zbar"}


def test_zbar_missing_is_a_clear_device_error(monkeypatch):
    """Where libzbar0 is absent, pyzbar fails at import; the kiosk says what
    to install instead of a traceback."""
    monkeypatch.setitem(sys.modules, "pyzbar.pyzbar", None)  # import now raises ImportError
    monkeypatch.setitem(sys.modules, "pyzbar", None)
    available, reason = is_zbar_available()
    assert not available and "apt-get install libzbar0" in reason
    with pytest.raises(DeviceError, match="libzbar0"):
        ZBarDecoder()
    with pytest.raises(DeviceError, match="libzbar0"):
        make_decoder("zbar")
