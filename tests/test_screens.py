"""Every screen at every size in every language, judged by computation:
contrast of each text against what is behind it, nothing overlapping,
nothing off screen, headings never smaller than the lines under them."""
import dataclasses
import datetime as dt

import pygame
import pytest
from hypothesis import given, settings, strategies as st

from drivers.contrast import MINIMUM, ratio
from drivers.display import qr_matrix
from drivers.gallery import AT, QR, SIZES, all_screens, render
from drivers.screens import FILL, LOOK
from drivers.texts import TEXTS
from kiosk.core.model import LANGUAGES, Screen

QR_MATRIX = None


@pytest.fixture(scope="module", autouse=True)
def fonts():
    global QR_MATRIX
    pygame.font.init()
    QR_MATRIX = qr_matrix(QR)
    yield


def drawn(screen, size, **extra):
    record = []
    surface = render(screen, size, record=record, qr=QR_MATRIX, **extra)
    return surface, record


def texts(record):
    return [d for d in record if d.text]


def problems(record, size):
    """Every way the drawn texts break the rules, as readable strings."""
    found = []
    bounds = pygame.Rect((0, 0), size)
    lines = [d for d in texts(record) if d.role != "overlay"]
    for d in lines:
        if d.contrast < MINIMUM:
            found.append(f"contrast {d.contrast:.2f} for {d.text!r}")
        if not bounds.contains(d.rect):
            found.append(f"off screen: {d.text!r} at {d.rect}")
    for i, a in enumerate(lines):
        for b in lines[i + 1:]:
            if a.rect.colliderect(b.rect):
                found.append(f"overlap: {a.text!r} {a.rect} and {b.text!r} {b.rect}")
    for block in {d.block for d in lines if d.block}:
        rows = [d for d in lines if d.block == block]
        heading = [d.size for d in rows if d.role == "heading"]
        subs = [d.size for d in rows if d.role == "sub"]
        if heading and subs and min(heading) < max(subs):
            found.append(f"heading {min(heading)}px under a line of {max(subs)}px: {rows[0].text!r}")
    return found


CASES = [(name, screen, extra, size, language) for name, screen, extra in all_screens()
         for size in SIZES for language in LANGUAGES]


@pytest.mark.parametrize("name,screen,extra,size,language", CASES,
                         ids=[f"{c[0]}-{c[3][0]}x{c[3][1]}-{c[4]}" for c in CASES])
def test_every_text_reads_and_nothing_overlaps(name, screen, extra, size, language):
    surface, record = drawn(dataclasses.replace(screen, language=language), size, **extra)
    assert texts(record), name
    assert problems(record, size) == []


@pytest.mark.parametrize("colour", ["green", "blue", "yellow", "red"])
@pytest.mark.parametrize("verdict", ["admit", "deny", "staff"])
def test_every_colour_and_verdict_reads(colour, verdict):
    for size in SIZES:
        screen = Screen("result", verdict=verdict, colour=colour, masked="••••1427",
                        reference="K7F2-9QXA" if verdict == "deny" else None, at=AT, cached=True,
                        group_left=2)
        assert problems(drawn(screen, size)[1], size) == []


def test_the_yellow_result_is_dark_on_yellow():
    """Issue 14: white on yellow was 1.66:1."""
    _, record = drawn(Screen("result", verdict="deny", colour="yellow", reference="AB12-CD34"),
                      (800, 480))
    assert min(d.contrast for d in texts(record)) >= MINIMUM
    assert ratio((255, 255, 255), FILL["yellow"]) < MINIMUM  # the check does catch it


def test_no_look_of_a_non_status_is_a_status_colour():
    status = {FILL[colour] for colour in ("green", "blue", "yellow", "red")}
    assert not set(FILL.values()) & set(LOOK.values())
    for look in LOOK.values():  # far from every status colour, not a shade of one
        assert all(sum(abs(a - b) for a, b in zip(look, s)) > 90 for s in status), look


def fills(screen, size=(800, 480)):
    surface = render(screen, size, qr=QR_MATRIX)
    return tuple(surface.get_at((size[0] - 3, 3)))[:3]


@pytest.mark.parametrize("reason", ["lookup-timeout", "lookup-refused", "lookup-not-found",
                                    "lookup-http-500", "lookup-rate-limited", "rate-limited"])
@pytest.mark.parametrize("verdict", ["deny", "staff"])
def test_a_failed_lookup_never_looks_like_a_status(reason, verdict):
    screen = Screen("result", verdict=verdict, colour="unknown", reason=reason, reference="AB12-CD34")
    assert fills(screen) == LOOK["failure"]
    words = " ".join(d.text for d in texts(drawn(dataclasses.replace(screen, language="en"),
                                                 (1920, 1080))[1]))
    assert "could not be checked" in words
    expected = {"lookup-timeout": "No connection", "lookup-refused": "No connection",
                "lookup-not-found": "not found", "lookup-http-500": "Try again"}.get(reason, "Too many")
    assert expected in words
    assert ("No entry" if verdict == "deny" else "Please see staff") in words


def test_each_non_status_has_its_own_look():
    looks = {fills(Screen("result", verdict="deny", colour="unknown", reason="lookup-timeout")),
             fills(Screen("refused", reason="bad-check-digit")), fills(Screen("venue-full")),
             fills(Screen("out-of-service"))}
    assert len(looks) == 4 and not looks & set(FILL.values())


@pytest.mark.parametrize("language,said", [("kk", "қызметкерге жүгініңіз"),
                                           ("ru", "обратитесь к сотруднику"),
                                           ("en", "please see staff")])
def test_out_of_service_says_so_in_every_language(language, said):
    lines = " ".join(d.text for d in texts(drawn(Screen("out-of-service", language=language),
                                                 (1920, 1080))[1]))
    assert said in lines.lower()
    for out in ("уақытша жұмыс істемейді", "временно не работает", "out of service"):
        assert out in lines.lower()


@settings(max_examples=60, deadline=None)
@given(reference=st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789W", min_size=4, max_size=4)
       .flatmap(lambda a: st.builds(lambda b: f"{a}-{b}", st.text(alphabet="WM0Q8", min_size=4,
                                                                  max_size=4))),
       venue=st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "Zs", "Pd")),
                     min_size=0, max_size=60),
       language=st.sampled_from(LANGUAGES), size=st.sampled_from(SIZES),
       colour=st.sampled_from(["yellow", "red", "unknown"]))
def test_the_refund_band_never_overlaps(reference, venue, language, size, colour):
    screen = Screen("result", verdict="deny", colour=colour, masked="••••1427", reference=reference,
                    at=AT, language=language, reason="lookup-timeout" if colour == "unknown" else None)
    record = []
    render(screen, size, record=record, venue=venue, kiosk_id="door-12-long-kiosk-name")
    assert problems(record, size) == []
    band = next(d.rect for d in record if d.role == "refund-band")
    inside = [d for d in texts(record) if band.contains(d.rect)]
    said = " ".join(d.text for d in inside)
    for label in TEXTS["refund"]:
        assert label.split()[0] in said
    assert reference.replace(" ", "") in said.replace(" ", "")
    assert "2026-11-21 19:30:00" in said and "door-12" in said


@settings(max_examples=30, deadline=None)
@given(venue=st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "Zs", "Pd")),
                     min_size=1, max_size=60),
       language=st.sampled_from(LANGUAGES), size=st.sampled_from(SIZES),
       kind=st.sampled_from(["idle", "venue-full", "out-of-service", "checking"]))
def test_a_long_venue_name_never_pushes_the_clock_away(venue, language, size, kind):
    record = []
    render(Screen(kind, language=language, online=False), size, record=record, venue=venue)
    assert problems(record, size) == []
    assert any(d.role == "clock" for d in record)


@pytest.mark.parametrize("size", SIZES)
def test_banners_never_cover_the_venue_or_the_clock(size):
    screen = Screen("idle", online=False, clock_synced=False)
    _, record = drawn(screen, size, scanner_ok=False)
    banners = [d.rect for d in record if d.role == "banner"]
    assert len(banners) == 3
    header = [d.rect for d in record if d.role == "clock" or d.text == "Astana Puppet Theatre"]
    assert len(header) == 2
    assert not any(b.colliderect(h) for b in banners for h in header)


def test_a_missing_scanner_is_said_and_no_scan_is_invited():
    lines = [d.text for d in texts(drawn(Screen("idle", language="en"), (800, 480),
                                         scanner_ok=False)[1])]
    assert any("Scanner not connected" in line for line in lines)
    assert not any("Scan your ID card" in line for line in lines)


def test_the_locked_keypad_counts_down():
    screen = Screen("locked", language="en", until=AT + dt.timedelta(minutes=4, seconds=32))
    lines = [d.text for d in texts(drawn(screen, (800, 480))[1])]
    assert any("4:32" in line for line in lines)


@pytest.mark.parametrize("mode,expected", [("menu", "Type a number"), ("typing", "Type the IIN"),
                                           ("pin", "Enter PIN"), ("group-size", "How many")])
def test_staff_screens_speak_all_three_languages(mode, expected):
    screen = Screen("staff", staff_id="aigerim", reason=mode, typed="••••1427", group_left=3)
    for language in LANGUAGES:
        said = " ".join(d.text for d in texts(drawn(dataclasses.replace(screen, language=language),
                                                    (1920, 1080))[1]))
        assert expected in said
        if mode == "menu":
            assert "Ввести номер" in said and "Нөмірді теру" in said
            assert "Группа × 3" in said.replace(" · ", " ") or "Group × 3" in said


def test_after_key_3_the_number_is_asked_for_and_echoed_masked():
    screen = Screen("staff", staff_id="aigerim", reason="typing", typed="••••••••1427", language="en")
    lines = [d.text for d in texts(drawn(screen, (800, 480))[1])]
    assert "••••••••1427" in lines
    assert any("Type the IIN or passport number" in line for line in lines)


@pytest.mark.parametrize("size", [(1024, 768), (1920, 1080), (1080, 1920)])
def test_the_layout_fills_any_screen(size):
    """At 1024x768 the old fixed layout sat in a corner."""
    _, record = drawn(Screen("result", verdict="deny", colour="red", masked="••••3404",
                             reference="K7F2-9QXA", at=AT), size)
    rects = [d.rect for d in texts(record)]
    assert max(r.right for r in rects) > size[0] * 0.6
    assert max(r.bottom for r in rects) > size[1] * 0.9
