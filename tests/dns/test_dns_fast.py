"""The fast path answers exactly what the reference (dnspython) path answers, for every query it takes, and it
takes the common ones: a resolver cannot tell which path answered."""

from __future__ import annotations

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rdatatype
from hypothesis import given
from hypothesis import strategies as st

from ringfence.dns.answers import Answerer, Authority
from ringfence.dns.fast import FastAnswers
from ringfence.dns.names import Zones, name_for_number
from ringfence.registry.index import Listing

LISTED = {
    442079460018: Listing(442079460018, 1_789_000_000_000, 1_790_000_000_000, 3, 2, 0b11, 2000, 0),
    447400123456: Listing(447400123456, 1_700_000_000_000, 1_700_000_000_000, 1, 1, 0b100000000, 1000, 0),
    12015550123: Listing(12015550123, 0, 1_790_000_000_123, 70_000, 12, 0x1FF, 12000, 0),
    4402079460018: Listing(4402079460018, 0, 0, 1, 1, 1, 1000, 0),  # not canonical: must never answer as listed
}
UNLISTED = [442079460019, 33612345678, 999, 1, 123456789012345, 4402079460017]
ZONES = Zones.from_text("bl.ringfence.internal", "e164.arpa")
SUFFIXES = ["bl.ringfence.internal.", "e164.arpa.bl.ringfence.internal.", "e164.arpa."]
ANSWERER = Answerer(Authority(ZONES, ttl=120, negative_ttl=30, serial=42), LISTED.get)
FAST = FastAnswers(ANSWERER)
QTYPES = ["A", "TXT", "ANY", "AAAA", "MX", "NS", "SOA", "PTR", "NAPTR", "TYPE0", "TYPE65535", "TYPE128", "AXFR", "OPT"]


def _canonical(wire: bytes) -> tuple[object, ...]:
    """Everything of a response a client can see, in a comparable form (names case-folded, TTLs included)."""
    message = dns.message.from_wire(wire)

    def section(rrsets: list[dns.rrset.RRset]) -> list[tuple[object, ...]]:
        return [
            (r.name.to_text().lower(), r.ttl, r.rdclass, r.rdtype, sorted(rd.to_text().lower() for rd in r))
            for r in rrsets
        ]

    return (
        message.id,
        message.flags,
        message.edns,
        message.payload if message.edns >= 0 else None,
        message.ednsflags,
        message.options,
        [(q.name.to_text(), q.rdtype, q.rdclass) for q in message.question],  # exact case: the echo
        section(message.answer),
        section(message.authority),
        section(message.additional),
    )


def _query(
    number: int,
    suffix: str,
    qtype: str,
    *,
    edns: int | None = None,
    do: bool = False,
    options: list[dns.edns.Option] | None = None,
    flags: int = dns.flags.RD,
    query_id: int = 1,
    upper: bool = False,
) -> bytes:
    name = name_for_number(number, suffix)
    if upper:
        name = dns.name.from_text(name.to_text().upper())
    query = dns.message.make_query(
        name,
        qtype,
        use_edns=edns if edns is not None else False,
        want_dnssec=do,
        options=options if edns is not None else None,
    )
    query.id = query_id
    query.flags = flags
    return query.to_wire()


def _same(wire: bytes) -> bytes | None:
    fast = FAST.respond(wire)
    reference = ANSWERER.respond(wire)
    if fast is not None:
        assert reference is not None
        assert _canonical(fast) == _canonical(reference)
    return fast


OPTIONS = st.lists(
    st.one_of(
        st.builds(dns.edns.CookieOption, st.binary(min_size=8, max_size=8), st.sampled_from([b"", b"s" * 8])),
        st.builds(dns.edns.GenericOption, st.just(12), st.binary(max_size=30)),  # padding
        st.builds(dns.edns.GenericOption, st.just(3), st.just(b"")),  # NSID
    ),
    max_size=2,
)


@given(
    number=st.sampled_from([*LISTED, *UNLISTED]) | st.integers(1, 10**16),
    suffix=st.sampled_from(SUFFIXES),
    qtype=st.sampled_from(QTYPES),
    edns=st.sampled_from([None, 0, 1]),
    do=st.booleans(),
    options=OPTIONS,
    flags=st.sampled_from([0, dns.flags.RD, dns.flags.RD | dns.flags.AD, dns.flags.CD, 0x7FF0 & ~0x7800]),
    query_id=st.integers(0, 65535),
    upper=st.booleans(),
)
def test_the_fast_path_answers_what_the_reference_answers(
    number: int,
    suffix: str,
    qtype: str,
    edns: int | None,
    do: bool,
    options: list[dns.edns.Option],
    flags: int,
    query_id: int,
    upper: bool,
) -> None:
    _same(_query(number, suffix, qtype, edns=edns, do=do, options=options, flags=flags, query_id=query_id, upper=upper))


@given(st.binary(min_size=1, max_size=6), st.integers(0, 80), st.sampled_from([*LISTED, *UNLISTED]))
def test_corrupted_queries_get_the_reference_answer_or_are_passed_on(patch: bytes, at: int, number: int) -> None:
    for edns in (None, 0):
        wire = _query(number, SUFFIXES[0], "TXT", edns=edns)
        _same(wire[:at] + patch + wire[at + len(patch) :])
        _same(wire[:at])


@given(st.binary(max_size=100))
def test_random_bytes_never_raise(wire: bytes) -> None:
    _same(wire)


def test_the_common_queries_take_the_fast_path() -> None:
    cookie = [dns.edns.CookieOption(b"c" * 8, b"")]
    for number in (442079460018, 442079460019, 12015550123):
        for suffix in SUFFIXES:
            for qtype in ("A", "TXT", "ANY", "AAAA"):
                for edns, options in ((None, []), (0, []), (0, cookie)):
                    wire = _query(number, suffix, qtype, edns=edns, options=options)
                    assert _same(wire) is not None, (number, suffix, qtype, edns, options)


def test_a_number_that_is_not_canonical_is_never_listed_even_if_the_index_holds_it() -> None:
    wire = _query(4402079460018, SUFFIXES[0], "A")
    reply = _same(wire)
    assert reply is not None
    assert dns.message.from_wire(reply).rcode() == dns.rcode.NXDOMAIN


def test_the_rest_is_left_to_the_reference_path() -> None:
    apex = dns.message.make_query("bl.ringfence.internal.", "SOA").to_wire()
    enum_node = dns.message.make_query("e164.arpa.bl.ringfence.internal.", "A").to_wire()
    badvers = _query(442079460018, SUFFIXES[0], "A", edns=1)
    nsid = _query(442079460018, SUFFIXES[0], "A", edns=0, options=[dns.edns.GenericOption(3, b"")])
    outside = dns.message.make_query("8.1.0.0.6.4.9.7.0.2.4.4.example.", "A").to_wire()
    for wire in (apex, enum_node, badvers, nsid, outside):
        assert FAST.respond(wire) is None
