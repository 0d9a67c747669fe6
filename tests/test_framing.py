"""The pure framer: bytes and times in, payloads out."""
import pytest
from hypothesis import given, strategies as st

from drivers.framing import MRZ_LINE, Framer

TD1 = [b"IDKAZN012345679871008401427<<<", b"8710086M3001019KAZ<<<<<<<<<<<6",
       b"TESTOV<<TEST<<<<<<<<<<<<<<<<<<"]
TD3 = [b"P<RUS" + b"<" * 39, b"N1234567<7RUS9001011M3101012<<<<<<<<<<<<<<<2"]


def frame(framer, *chunks, step=0.01):
    """Feed chunks a little apart (well inside idle_timeout), then go silent."""
    out, now = [], 0.0
    for chunk in chunks:
        now += step
        out += framer.feed(chunk, now)
    return out + framer.poll(now + 10)


@pytest.mark.parametrize("terminator, end", [("CR", b"\r"), ("LF", b"\n"), ("CRLF", b"\r\n")])
def test_each_terminator(terminator, end):
    assert frame(Framer(terminator), b"123" + end + b"456" + end) == [b"123", b"456"]


@pytest.mark.parametrize("terminator", ["CR", "LF", "CRLF"])
def test_codes_split_across_reads(terminator):
    assert frame(Framer(terminator), b"87", b"1008", b"401427\r", b"\n06121160", b"0012\n") == \
        [b"871008401427", b"061211600012"]


def test_crlf_split_across_reads_gives_no_empty_payload():
    assert frame(Framer("CRLF"), b"123\r", b"\n456\r", b"\n") == [b"123", b"456"]


def test_an_lf_after_a_configured_cr_gives_no_empty_payload():
    assert frame(Framer("CR"), b"123\r", b"\n456\r", b"\n") == [b"123", b"456"]


@pytest.mark.parametrize("terminator", ["CR", "LF", "CRLF"])
def test_empty_payloads_are_never_emitted(terminator):
    assert frame(Framer(terminator), b"\r\n\r\r\n\n", b"", b"\n") == []
    assert frame(Framer("none"), b"", b"") == []


def test_without_terminator_line_breaks_are_data():
    assert frame(Framer("none"), b"line 1\r\n", b"line 2") == [b"line 1\r\nline 2"]


def test_no_terminator_flushes_on_idle():
    framer = Framer("none", idle_timeout=0.1)
    assert framer.feed(b"8710", 0.0) == [] and framer.feed(b"08401427", 0.05) == []
    assert framer.poll(0.1) == []
    assert framer.poll(0.2) == [b"871008401427"]
    assert framer.poll(5.0) == []


def test_empty_reads_do_not_hold_off_the_idle_flush():
    framer = Framer("none", idle_timeout=0.1)
    framer.feed(b"1234", 0.0)
    assert framer.feed(b"", 0.06) == []
    assert framer.feed(b"", 0.12) == [b"1234"]


def test_half_sent_code_does_not_linger_with_a_terminator_either():
    framer = Framer("CR", idle_timeout=0.1)
    framer.feed(b"1234", 0.0)
    assert framer.is_pending
    assert framer.feed(b"5678\r", 1.0) == [b"1234", b"5678"]
    assert not framer.is_pending


def test_flush_gives_whatever_is_pending():
    framer = Framer("CR")
    framer.feed(b"12" + b"\r" + TD1[0] + b"\r" + b"34", 0.0)
    assert framer.flush() == [TD1[0], b"34"]
    assert framer.flush() == []


def test_over_long_is_emitted_once_then_discarded_to_the_terminator():
    framer = Framer("CR", max_length=8)
    assert frame(framer, b"0123456789abcdef\rok\r") == [b"012345678", b"ok"]


def test_over_long_without_terminator_is_discarded_until_silence():
    framer = Framer("none", max_length=8, idle_timeout=0.1)
    assert framer.feed(b"0123456789", 0.0) == [b"012345678"]
    assert framer.feed(b"abcdef", 0.05) == []
    assert framer.poll(1.0) == []
    assert framer.feed(b"ok", 2.0) == [] and framer.poll(3.0) == [b"ok"]


def test_aim_prefix_is_not_framing_business():
    assert frame(Framer("CR"), b"]C0871008401427\r") == [b"]C0871008401427"]


def test_mrz_lines_are_joined_until_the_document_is_complete():
    framer = Framer("CR")
    assert framer.feed(TD1[0] + b"\r" + TD1[1] + b"\r", 0.0) == []
    assert framer.feed(TD1[2] + b"\r871008401427\r", 0.01) == [b"\n".join(TD1), b"871008401427"]
    assert frame(Framer("LF"), TD3[0] + b"\n", TD3[1] + b"\n") == [b"\n".join(TD3)]
    assert frame(Framer("CR"), TD1[0] + b"\r") == [TD1[0]]  # cut short: flushed on silence


def test_an_mrz_cut_short_keeps_its_place_before_what_follows():
    assert frame(Framer("CR", max_length=100), TD1[0] + b"\r" + b"x" * 150 + b"\r") == \
        [TD1[0], b"x" * 101]
    assert frame(Framer("CR"), TD1[0] + b"\r" + TD1[1] + b"\rABC\r") == \
        [b"\n".join(TD1[:2]), b"ABC"]


def test_mrz_is_not_joined_past_max_length():
    assert frame(Framer("CR", max_length=40), *[line + b"\r" for line in TD1]) == TD1


def test_multiline_joins_every_line_until_silence():
    lines = [b"A" * 10, b"B" * 10, b"C" * 10]
    framer = Framer("CRLF", multiline=True, idle_timeout=0.1)
    assert framer.feed(lines[0] + b"\r\n", 0.0) == []
    assert framer.feed(lines[1] + b"\r", 0.05) == []
    assert framer.feed(b"\n" + lines[2] + b"\r\n", 0.1) == []
    assert framer.poll(0.3) == [b"\n".join(lines)]
    assert framer.feed(b"next\r", 1.0) == [] and framer.poll(2.0) == [b"next"]


def test_multiline_payload_is_bounded_by_max_length():
    framer = Framer("CR", multiline=True, max_length=16)
    assert frame(framer, b"0123456789\r", b"0123456789\r", b"tail\r") == \
        [b"0123456789\n012345", b"tail"]


def test_unknown_terminator_is_refused():
    with pytest.raises(ValueError):
        Framer("ETX")


# ---- properties ---------------------------------------------------------------

codes = st.lists(st.binary(min_size=1, max_size=60).map(
    lambda b: b.replace(b"\r", b"x").replace(b"\n", b"y")).filter(
    lambda b: not MRZ_LINE.match(b)), max_size=10)
ENDS = {"CR": b"\r", "LF": b"\n", "CRLF": b"\r\n"}


def split(stream: bytes, cuts: list) -> list:
    chunks, start = [], 0
    for cut in cuts:
        chunks.append(stream[start:start + cut])
        start += cut
    return chunks + [stream[start:]]


@given(codes, st.lists(st.integers(1, 30), max_size=20), st.sampled_from(sorted(ENDS)))
def test_any_split_of_the_stream_gives_the_same_payloads(payloads, cuts, terminator):
    stream = b"".join(c + ENDS[terminator] for c in payloads)
    assert frame(Framer(terminator, max_length=100), *split(stream, cuts)) == payloads


@given(st.binary(max_size=400), st.lists(st.integers(1, 50), max_size=20),
       st.lists(st.floats(0, 0.3), max_size=20),
       st.sampled_from(["CR", "LF", "CRLF", "none"]), st.booleans())
def test_no_empty_and_nothing_over_the_limit_whatever_arrives(data, cuts, gaps, terminator,
                                                              multiline):
    framer = Framer(terminator, max_length=32, idle_timeout=0.1, multiline=multiline)
    out, now = [], 0.0
    for index, chunk in enumerate(split(data, cuts)):
        now += gaps[index] if index < len(gaps) else 0.01
        out += framer.feed(chunk, now)
    out += framer.poll(now + 1)
    assert all(0 < len(p) <= 33 for p in out)
    assert not framer.is_pending
