"""Every screen rendered offscreen (SDL dummy driver), judged by its pixels."""
import datetime as dt

import pygame
import pytest

from drivers.display import Display
from drivers.gallery import AT, SCREENS
from drivers.screens import FILL, Context, draw, font
from kiosk.core.model import Screen

W, H = 800, 480


@pytest.fixture(scope="module", autouse=True)
def fonts():
    pygame.font.init()
    yield


def render(screen, **ctx):
    surface = pygame.Surface((W, H))
    draw(surface, screen, Context(venue="Venue", kiosk_id="door-1", now=AT, **ctx))
    return surface


def share_of(surface, colour, rect=None):
    rect = rect or surface.get_rect()
    hits = total = 0
    for x in range(rect.left, rect.right, 8):
        for y in range(rect.top, rect.bottom, 8):
            total += 1
            hits += tuple(surface.get_at((x, y)))[:3] == colour
    return hits / total


@pytest.mark.parametrize("colour", ["green", "blue", "yellow", "red"])
def test_result_fills_the_screen_with_the_colour(colour):
    surface = render(Screen("result", verdict="admit", colour=colour, masked="••••1427"))
    assert share_of(surface, FILL[colour]) > 0.5


def shape_mask(verdict):
    surface = render(Screen("result", verdict=verdict, colour="green"))
    badge = pygame.Rect(100, 100, 220, 220)
    return [tuple(surface.get_at((x, y)))[:3] == (255, 255, 255)
            for x in range(badge.left, badge.right, 6) for y in range(badge.top, badge.bottom, 6)]


def test_shapes_do_not_depend_on_colour():
    """Tick, cross and hand differ in shape, read by a colour-blind visitor."""
    tick, cross, hand = shape_mask("admit"), shape_mask("deny"), shape_mask("staff")
    differ = lambda a, b: sum(x != y for x, y in zip(a, b)) / len(a)
    assert differ(tick, cross) > 0.05 and differ(tick, hand) > 0.05 and differ(cross, hand) > 0.05


def test_deny_shows_the_refund_reference_band():
    with_ref = render(Screen("result", verdict="deny", colour="red", reference="K7F2-9QXA", at=AT))
    without = render(Screen("result", verdict="deny", colour="red", at=AT))
    band = pygame.Rect(0, H - 100, W, 100)
    assert share_of(with_ref, (255, 255, 255), band) > 0.6
    assert share_of(without, FILL["red"], band) > 0.9


def test_idle_has_a_qr_code_and_the_banner_only_when_offline():
    matrix = [[bool((x + y) % 2) for x in range(25)] for y in range(25)]
    online = render(Screen("idle"), qr=matrix)
    qr_area = pygame.Rect(W - 300, H - 320, 260, 260)
    assert 0.2 < share_of(online, (0, 0, 0), qr_area) < 0.8
    banner = pygame.Rect(0, 60, W, 20)  # under the venue and the clock
    offline = render(Screen("idle", online=False), qr=matrix)
    assert share_of(offline, (255, 196, 0), banner) > 0.5
    assert share_of(online, (255, 196, 0), banner) == 0


def test_kazakh_letters_render_as_themselves():
    for kazakh, russian in (("қ", "к"), ("ғ", "г"), ("ң", "н"), ("ұ", "у"), ("ү", "у")):
        a = pygame.image.tobytes(font(48).render(kazakh, True, (0, 0, 0), (255, 255, 255)), "RGB")
        b = pygame.image.tobytes(font(48).render(russian, True, (0, 0, 0), (255, 255, 255)), "RGB")
        assert a != b, kazakh


def test_staff_mode_is_unmistakable():
    surface = render(Screen("staff", staff_id="aigerim", typed="••••1427"))
    border = pygame.Rect(0, 0, W, 20)
    assert 0.3 < share_of(surface, (255, 196, 0), border) < 0.7  # hazard stripes


def test_render_draws_only_when_something_changed(tmp_path):
    display = Display(W, H, video_driver="dummy")
    display.open()
    display.show(Screen("result", verdict="admit", colour="green"))
    assert display.render(now=AT) is True
    assert display.render(now=AT) is False
    display.show(Screen("idle"))
    assert display.render(now=AT) is True
    assert display.render(now=AT) is False
    assert display.render(now=AT + dt.timedelta(minutes=1)) is True  # the clock moved
    path = display.screenshot(str(tmp_path / "shot.png"))
    assert pygame.image.load(path).get_size() == (W, H)
    display.close()


def test_window_keyboard_is_a_scanner_until_tab():
    display = Display(W, H, video_driver="dummy")
    events = []
    for char in "871008401427":
        events += display._key(char, char)
    events += display._key("return", "\r")
    assert events == [("scan", b"871008401427")]
    display._key("tab", "\t")
    assert display._key("1", "1") == [("key", "1")] and display._key("return", "\r") == [("key", "enter")]


def test_every_gallery_screen_renders():
    for name, screen in SCREENS.items():
        surface = render(screen)
        assert share_of(surface, (0, 0, 0)) < 1.0, name


def said(display):
    record = []
    display.context.record = record
    display.is_dirty = True
    display.render(now=AT)
    display.context.record = None
    return " ".join(d.text for d in record if d.text)


def test_a_missing_scanner_shows_a_banner_until_it_is_back():
    display = Display(W, H, video_driver="dummy")
    display.open()
    display.show(Screen("idle", language="en"))
    assert "Scanner not connected" not in said(display)
    display.set_scanner(False)
    assert display.is_dirty
    assert "Scanner not connected" in said(display)
    display.set_scanner(True)
    assert "Scanner not connected" not in said(display) and "Scan your ID card" in said(display)
    display.close()


def test_the_window_says_what_the_keyboard_is():
    display = Display(W, H, video_driver="dummy")  # a window, as in the demo
    display.open()
    display.show(Screen("idle"))
    assert "keyboard = visitor's scanner" in said(display)
    display._key("tab", "\t")
    assert display.is_dirty and "keyboard = staff keypad" in said(display)
    display.close()
    door = Display(W, H, video_driver="dummy", show_keyboard=False)
    door.open()
    door.show(Screen("idle"))
    assert "keyboard" not in said(door)
    door.close()


def test_a_locked_keypad_counts_down_each_second():
    display = Display(W, H, video_driver="dummy")
    display.open()
    display.show(Screen("locked", language="en", until=AT + dt.timedelta(seconds=90)))
    assert display.render(now=AT) is True
    assert display.render(now=AT + dt.timedelta(milliseconds=300)) is False
    assert display.render(now=AT + dt.timedelta(seconds=1)) is True
    assert "1:29" in said(display) or "1:30" in said(display)
    display.close()


def test_full_screen_takes_the_displays_own_size():
    import pygame
    display = Display(800, 480, fullscreen=True, video_driver="dummy")
    display.open()
    assert display.size == display.surface.get_size() == pygame.display.get_desktop_sizes()[0]
    display.show(Screen("result", verdict="admit", colour="green"))
    assert display.render(now=AT)
    display.close()
