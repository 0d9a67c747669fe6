from hypothesis import given, strategies as st

from drivers.framing import Framer


def frame(framer, *chunks, step=0.01):
    out, now = [], 0.0
    for chunk in chunks:
        now += step
        out += framer.feed(chunk, now)
    return out + framer.poll(now + 10)


def test_each_terminator():
    assert frame(Framer("CR"), b"123\r456\r") == [b"123", b"456"]
    assert frame(Framer("LF"), b"123\n456\n") == [b"123", b"456"]
    assert frame(Framer("CRLF"), b"123\r\n456\r\n") == [b"123", b"456"]


def test_crlf_split_across_reads_gives_no_empty_payload():
    assert frame(Framer("CR"), b"123\r", b"\n456\r", b"\n") == [b"123", b"456"]


def test_no_terminator_flushes_on_idle():
    framer = Framer("none", idle_timeout=0.1)
    assert framer.feed(b"8710", 0.0) == [] and framer.feed(b"08401427", 0.05) == []
    assert framer.poll(0.1) == []
    assert framer.poll(0.2) == [b"871008401427"]


def test_half_sent_code_does_not_linger_with_a_terminator_either():
    framer = Framer("CR", idle_timeout=0.1)
    framer.feed(b"1234", 0.0)
    assert framer.feed(b"5678\r", 1.0) == [b"1234", b"5678"]


def test_over_long_is_emitted_once_then_discarded_to_the_terminator():
    framer = Framer("CR", max_length=8)
    assert frame(framer, b"0123456789abcdef\rok\r") == [b"012345678", b"ok"]


def test_aim_prefix_is_not_framing_business():
    assert frame(Framer("CR"), b"]C0871008401427\r") == [b"]C0871008401427"]


def test_mrz_lines_are_joined_until_the_document_is_complete():
    td1 = [b"IDKAZN012345679871008401427<<<", b"8710086M3001019KAZ<<<<<<<<<<<6",
           b"TESTOV<<TEST<<<<<<<<<<<<<<<<<<"]
    framer = Framer("CR")
    assert framer.feed(td1[0] + b"\r" + td1[1] + b"\r", 0.0) == []
    assert framer.feed(td1[2] + b"\r871008401427\r", 0.01) == [b"\n".join(td1), b"871008401427"]
    td3 = [b"P<RUS" + b"<" * 39, b"N1234567<7RUS9001011M3101012<<<<<<<<<<<<<<<2"]
    assert frame(Framer("CR"), td3[0] + b"\r", td3[1] + b"\r") == [b"\n".join(td3)]
    assert frame(Framer("CR"), td1[0] + b"\r") == [td1[0]]  # cut short: flushed on silence


def test_multiline_joins_every_line_until_silence():
    lines = [b"A" * 30, b"B" * 30, b"C" * 30]
    assert frame(Framer("CR", multiline=True), *[l + b"\r" for l in lines]) == [b"\n".join(lines)]


payloads = st.lists(st.binary(min_size=1, max_size=29).map(
    lambda b: b.replace(b"\r", b"x").replace(b"\n", b"y")), max_size=10)


@given(payloads, st.lists(st.integers(1, 30), max_size=20))
def test_any_split_of_the_stream_gives_the_same_payloads(codes, cuts):
    stream = b"".join(c + b"\r\n" for c in codes)
    chunks, start = [], 0
    for cut in cuts:
        chunks.append(stream[start:start + cut])
        start += cut
    chunks.append(stream[start:])
    assert frame(Framer("CR", max_length=100), *chunks) == codes
