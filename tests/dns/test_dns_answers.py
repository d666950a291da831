"""Answers of the DNS front door, from query bytes to response bytes, without sockets: what a resolver or a
carrier's DNS engineer sees for every kind of query, including broken ones."""

from __future__ import annotations

import struct

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsigkeyring
from hypothesis import given
from hypothesis import strategies as st

from ringfence.dns.answers import OUR_PAYLOAD, Answerer, Authority, txt_strings, txt_text, udp_limit
from ringfence.dns.names import Zones
from ringfence.registry.index import Listing
from ringfence.registry.models import Category, NewReport, Role, category_mask
from ringfence.runtime import Runtime

LONDON = 442079460018
UNLISTED = 442079460019
LAST_MS = 1_790_000_000_000  # 2026-09-21T14:13:20Z
FIRST_MS = LAST_MS - 86_400_000
NAME = "8.1.0.0.6.4.9.7.0.2.4.4.bl.ringfence.internal."
UNLISTED_NAME = "9.1.0.0.6.4.9.7.0.2.4.4.bl.ringfence.internal."
LISTING = Listing(LONDON, FIRST_MS, LAST_MS, 3, 2, category_mask([Category.VISHING, Category.ROBOCALL]), 2000, 0)
AUTHORITY = Authority(Zones.from_text("bl.ringfence.internal", "e164.arpa"), ttl=300, negative_ttl=60, serial=7)
ANSWERER = Answerer(AUTHORITY, {LONDON: LISTING}.get)


def _reply(wire: bytes, *, tcp: bool = False, allowed: bool = True, answerer: Answerer = ANSWERER) -> bytes:
    reply = answerer.respond(wire, tcp=tcp, allowed=allowed)
    assert reply is not None
    return reply


def ask(name: str, rdtype: str = "A", *, edns: int | bool = False, **kw: object) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype, use_edns=edns, **kw)  # type: ignore[arg-type]
    return dns.message.from_wire(_reply(query.to_wire()))


def _texts(section: list[dns.rrset.RRset]) -> list[str]:
    return [rrset.to_text() for rrset in section]


# ------------------------------------------------------------------------------------------ listed and unlisted
def test_a_listed_number_answers_127_0_0_2() -> None:
    response = ask(NAME, "A")
    assert response.rcode() == dns.rcode.NOERROR
    assert response.flags & dns.flags.AA
    assert _texts(response.answer) == [f"{NAME} 300 IN A 127.0.0.2"]
    assert response.authority == []


def test_the_txt_answer_carries_last_time_counts_and_categories() -> None:
    response = ask(NAME, "TXT")
    [rrset] = response.answer
    assert rrset.ttl == 300
    [rdata] = list(rrset)
    assert rdata.strings == (
        b"last=2026-09-21T14:13:20.000Z first=2026-09-20T14:13:20.000Z reports=3 reporters=2 "
        b"categories=robocall,vishing",
    )


def test_the_txt_answer_is_one_string_within_255_bytes_in_the_worst_case() -> None:
    year_1, year_9999 = -62_135_596_800_000, 253_402_300_799_999  # the widest times there are
    worst = Listing(999_999_999_999_999, year_1, year_9999, 2**32 - 1, 2**32 - 1, 2**32 - 1, 2**32 - 1, 2**32 - 1)
    [string] = txt_strings(worst)
    assert len(string) <= 255
    assert string.decode() == txt_text(worst)
    assert txt_text(worst).endswith("categories=" + ",".join(c.value for c in Category))


def test_an_unlisted_number_is_nxdomain_with_the_soa_for_negative_caching() -> None:
    response = ask(UNLISTED_NAME, "A")
    assert response.rcode() == dns.rcode.NXDOMAIN
    assert response.flags & dns.flags.AA
    assert response.answer == []
    [soa] = response.authority
    assert soa.name == dns.name.from_text("bl.ringfence.internal.")
    assert soa.rdtype == dns.rdatatype.SOA
    assert soa.ttl == 60
    assert soa[0].minimum == 60
    assert soa[0].serial == 7


def test_other_types_of_a_listed_name_are_nodata() -> None:
    for rdtype in ("AAAA", "MX", "NS", "SOA", "TYPE65534"):
        response = ask(NAME, rdtype)
        assert response.rcode() == dns.rcode.NOERROR, rdtype
        assert response.answer == []
        assert [rrset.rdtype for rrset in response.authority] == [dns.rdatatype.SOA]


def test_any_of_a_listed_name_gives_a_and_txt() -> None:
    response = ask(NAME, "ANY")
    assert [rrset.rdtype for rrset in response.answer] == [dns.rdatatype.A, dns.rdatatype.TXT]


def test_the_enum_forms_answer_like_the_zone() -> None:
    for name in ("8.1.0.0.6.4.9.7.0.2.4.4.e164.arpa.", "8.1.0.0.6.4.9.7.0.2.4.4.e164.arpa.bl.ringfence.internal."):
        assert _texts(ask(name, "A").answer) == [f"{name} 300 IN A 127.0.0.2"]
    response = ask("9.1.0.0.6.4.9.7.0.2.4.4.e164.arpa.", "TXT")
    assert response.rcode() == dns.rcode.NXDOMAIN
    assert response.authority[0].name == dns.name.from_text("e164.arpa.")


def test_names_are_case_insensitive_and_the_question_comes_back_as_asked() -> None:
    mixed = "8.1.0.0.6.4.9.7.0.2.4.4.Bl.RinGfence.INTERNAL."
    response = ask(mixed, "A")
    assert response.answer[0][0].to_text() == "127.0.0.2"
    assert response.question[0].name.to_text() == mixed  # 0x20 case randomisation needs the exact echo


def test_names_that_cannot_be_numbers_are_nxdomain() -> None:
    for name in ("x.bl.ringfence.internal.", "4.4.bl.ringfence.internal.", "8.1.0.0.6.4.9.7.0.2.0.4.4.e164.arpa."):
        assert ask(name, "A").rcode() == dns.rcode.NXDOMAIN, name


def test_the_apex_answers_soa_and_ns() -> None:
    assert _texts(ask("bl.ringfence.internal.", "SOA").answer) == [
        "bl.ringfence.internal. 60 IN SOA localhost. hostmaster.bl.ringfence.internal. 7 3600 600 86400 60"
    ]
    assert _texts(ask("e164.arpa.", "NS").answer) == ["e164.arpa. 300 IN NS localhost."]
    assert [r.rdtype for r in ask("bl.ringfence.internal.", "ANY").answer] == [dns.rdatatype.SOA, dns.rdatatype.NS]
    nodata = ask("bl.ringfence.internal.", "A")
    assert (nodata.rcode(), nodata.answer, nodata.authority[0].rdtype) == (dns.rcode.NOERROR, [], dns.rdatatype.SOA)


def test_the_enum_node_inside_the_zone_exists_without_data() -> None:
    for name in ("e164.arpa.bl.ringfence.internal.", "arpa.bl.ringfence.internal."):
        response = ask(name, "A")
        assert response.rcode() == dns.rcode.NOERROR
        assert response.answer == []
        assert response.authority[0].rdtype == dns.rdatatype.SOA


def test_names_outside_the_zones_are_refused_without_authority() -> None:
    for name in ("example.com.", "ringfence.internal.", "8.1.0.0.6.4.9.7.0.2.4.4.example."):
        response = ask(name, "A")
        assert response.rcode() == dns.rcode.REFUSED
        assert not response.flags & dns.flags.AA
        assert response.answer == response.authority == []


def test_other_classes_and_zone_transfers_are_refused_and_meta_types_not_implemented() -> None:
    assert ask("version.bind.", "TXT", rdclass=dns.rdataclass.CH).rcode() == dns.rcode.REFUSED
    assert ask(NAME, "A", rdclass=dns.rdataclass.CH).rcode() == dns.rcode.REFUSED
    assert ask("bl.ringfence.internal.", "AXFR").rcode() == dns.rcode.REFUSED
    assert ask("bl.ringfence.internal.", "IXFR").rcode() == dns.rcode.REFUSED
    assert ask(NAME, "MAILB").rcode() == dns.rcode.NOTIMP


def test_answers_never_name_a_member(runtime: Runtime) -> None:
    carrier = runtime.members.add("Carrier Alpha", Role.REPORTER)[0]
    bank = runtime.members.add("Bank Beta", Role.REPORTER)[0]
    runtime.registry.report(carrier, NewReport(LONDON, Category.VISHING, LAST_MS - 1000))
    runtime.registry.report(bank, NewReport(LONDON, Category.ROBOCALL, LAST_MS))
    answerer = Answerer(AUTHORITY, runtime.registry.lookup)
    wire = _reply(dns.message.make_query(NAME, "ANY").to_wire(), answerer=answerer)
    assert b"reports=2 reporters=2 categories=robocall,vishing" in wire
    for secret in (b"Carrier", b"Alpha", b"Bank", b"Beta"):
        assert secret not in wire


# ------------------------------------------------------------------------------------------ EDNS and size
def test_edns_is_answered_with_our_payload_and_the_do_bit_copied() -> None:
    response = ask(NAME, "TXT", edns=0, payload=4096, want_dnssec=True)
    assert (response.edns, response.payload) == (0, OUR_PAYLOAD)
    assert response.ednsflags & dns.flags.DO
    assert ask(NAME, "TXT", edns=0).ednsflags & dns.flags.DO == 0
    assert ask(NAME, "TXT").edns == -1


def test_an_unknown_edns_version_gets_badvers() -> None:
    response = ask(NAME, "A", edns=1)
    assert response.rcode() == dns.rcode.BADVERS
    assert response.answer == []


def test_edns_options_such_as_cookies_are_ignored() -> None:
    cookie = dns.edns.CookieOption(b"12345678", b"")
    response = ask(NAME, "A", edns=0, options=[cookie])
    assert response.answer[0][0].to_text() == "127.0.0.2"
    assert response.options == ()


def test_rd_and_cd_are_copied() -> None:
    query = dns.message.make_query(NAME, "A")
    query.flags = dns.flags.CD
    response = dns.message.from_wire(_reply(query.to_wire()))
    assert response.flags & dns.flags.CD
    assert not response.flags & dns.flags.RD
    assert ask(NAME, "A").flags & dns.flags.RD


def test_udp_limits_follow_edns() -> None:
    assert udp_limit(dns.message.make_query(NAME, "A")) == 512
    assert udp_limit(dns.message.make_query(NAME, "A", use_edns=0, payload=4096)) == OUR_PAYLOAD
    assert udp_limit(dns.message.make_query(NAME, "A", use_edns=0, payload=1000)) == 1000
    assert udp_limit(dns.message.make_query(NAME, "A", use_edns=0, payload=100)) == 512


class _Bulky(Answerer):
    """Answers with 60 A records: bigger than any real answer, to see what happens past the UDP limit."""

    def answer(self, query: dns.message.Message) -> dns.message.Message:
        response = super().answer(query)
        rrset = dns.rrset.from_text_list(query.question[0].name, 300, "IN", "A", [f"127.0.1.{i}" for i in range(60)])
        response.answer = [rrset]
        return response


def test_an_answer_over_the_udp_limit_is_truncated_with_tc_and_whole_over_tcp() -> None:
    bulky = _Bulky(AUTHORITY, {LONDON: LISTING}.get)
    wire = dns.message.make_query(NAME, "A").to_wire()
    udp = _reply(wire, answerer=bulky)
    assert len(udp) <= 512
    assert dns.message.from_wire(udp).flags & dns.flags.TC
    with_edns = _reply(dns.message.make_query(NAME, "A", use_edns=0, payload=4096).to_wire(), answerer=bulky)
    assert 512 < len(with_edns) <= OUR_PAYLOAD
    assert not dns.message.from_wire(with_edns).flags & dns.flags.TC
    tcp = dns.message.from_wire(_reply(wire, answerer=bulky, tcp=True))
    assert not tcp.flags & dns.flags.TC
    assert len(tcp.answer[0]) == 60


# ------------------------------------------------------------------------------------------ hostile input
QUERY = dns.message.make_query(NAME, "A").to_wire()


def _header(wire: bytes) -> tuple[int, int, int, int, int, int]:
    fields: tuple[int, int, int, int, int, int] = struct.unpack_from(">HHHHHH", wire)
    return fields


def test_no_reply_to_less_than_a_header_or_to_a_response() -> None:
    for wire in (b"", b"\x00", QUERY[:11]):
        assert ANSWERER.respond(wire) is None
    response = _reply(QUERY)
    assert ANSWERER.respond(response) is None  # a reply bounced back must not start a loop


def test_opcodes_other_than_query_are_not_implemented() -> None:
    for opcode in (dns.opcode.NOTIFY, dns.opcode.UPDATE, dns.opcode.IQUERY, dns.opcode.STATUS, 15):
        wire = bytearray(QUERY)
        wire[2] = (wire[2] & 0x87) | (opcode << 3)
        query_id, flags, *counts = _header(_reply(bytes(wire)))
        assert query_id == _header(QUERY)[0]
        assert flags & 0x8000
        assert (flags >> 11) & 0xF == opcode
        assert flags & 0xF == dns.rcode.NOTIMP
        assert counts == [0, 0, 0, 0]


def test_malformed_queries_get_formerr() -> None:
    two_questions = bytearray(dns.message.make_query(NAME, "A").to_wire())
    question = bytes(two_questions[12:])
    two_questions[5] = 2
    no_question = dns.message.make_query(NAME, "A")
    no_question.question = []
    cases = {
        "two questions": bytes(two_questions) + question,
        "no question": no_question.to_wire(),
        "trailing junk": QUERY + b"\x00\x01",
        "cut in the question": QUERY[:20],
        "count says more than there is": QUERY[:7] + b"\x03" + QUERY[8:],
        "a label pointer loop": QUERY[:12] + b"\xc0\x0c\x00\x01\x00\x01",
        "a label type that does not exist": QUERY[:12] + b"\x80abc\x00\x00\x01\x00\x01",
    }
    for what, wire in cases.items():
        reply = _reply(wire)
        assert _header(reply)[1] & 0xF == dns.rcode.FORMERR, what
        assert _header(reply)[0] == _header(wire)[0]


def test_a_tsig_signed_query_is_notauth() -> None:
    query = dns.message.make_query(NAME, "A")
    query.use_tsig(dns.tsigkeyring.from_text({"key.": "c2VjcmV0c2VjcmV0c2VjcmV0"}), keyname="key.")
    assert _header(_reply(query.to_wire()))[1] & 0xF == dns.rcode.NOTAUTH


@given(st.binary(max_size=600))
def test_random_bytes_never_raise_and_any_reply_is_a_response_to_them(wire: bytes) -> None:
    reply = ANSWERER.respond(wire)
    if reply is None:
        assert len(wire) < 12 or wire[2] & 0x80
        return
    assert _header(reply)[0] == _header(wire)[0]
    assert _header(reply)[1] & 0x8000
    assert len(reply) <= 512
    dns.message.from_wire(reply)


@given(st.binary(min_size=1, max_size=8), st.integers(0, len(QUERY) - 1))
def test_corrupted_queries_never_raise(patch: bytes, at: int) -> None:
    wire = QUERY[:at] + patch + QUERY[at + len(patch) :]
    reply = ANSWERER.respond(wire)
    assert reply is None or dns.message.from_wire(reply).flags & dns.flags.QR


def test_sources_outside_the_access_list_get_refused_and_garbage_from_them_nothing() -> None:
    response = dns.message.from_wire(_reply(QUERY, allowed=False))
    assert response.rcode() == dns.rcode.REFUSED
    assert response.answer == []
    assert ANSWERER.respond(b"\x12\x34" + b"\xff" * 20, allowed=False) is None
