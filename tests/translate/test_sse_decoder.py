"""The SSE decoder the data plane reads translated streams with."""

from __future__ import annotations

from skygate.gateway.upstream import SSEDecoder


def test_events_split_anywhere_with_crlf_multiline_data_and_comments() -> None:
    raw = b': keep-alive\r\nevent: message_start\r\ndata: {"a":\r\ndata: 1}\r\n\r\ndata: [DONE]\n\nid: 7\n\n'
    for size in (1, 2, 5, len(raw)):
        decoder = SSEDecoder()
        events = [e for i in range(0, len(raw), size) for e in decoder.feed(raw[i : i + size])] + decoder.end()
        assert events == ['{"a":\n1}', "[DONE]"], size


def test_a_stream_cut_before_its_blank_line_still_yields_its_last_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: one\n\ndata: two") == ["one"]
    assert decoder.end() == ["two"]
    assert decoder.end() == []
