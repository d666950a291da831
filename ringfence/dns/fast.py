"""The fast path of the DNS front door: the common query, answered from bytes without dnspython.

dnspython spends a few hundred microseconds parsing and rendering one message (its name compression builds a
:class:`dns.name.Name` per suffix); a resolver asking about one number per call cannot afford that. Almost every
query has one shape: a standard query for ``<digits>.<zone>`` (or an ENUM form), class IN, with no EDNS or plain
EDNS version 0 (options: only cookies and padding, which are ignored). :meth:`FastAnswers.respond` answers that
shape by slicing the query and appending precomputed records, and returns None for anything else, which then goes
to :meth:`ringfence.dns.answers.Answerer.respond`. The tests hold both paths to the same answers.

The rendering: the question is copied from the query as it came (its case too), answer owner names are a
compression pointer to it, the SOA of a negative answer points at the zone's labels inside it, and the SOA's own
names are written uncompressed.
"""

from __future__ import annotations

import re
import struct

import dns.name

from ringfence.dns.answers import OUR_PAYLOAD, Answerer, txt_strings
from ringfence.dns.names import MAX_DIGITS, is_canonical
from ringfence.registry.index import Listing

__all__ = ["FastAnswers"]

_U16 = struct.Struct(">H")
_TYPE_CLASS = struct.Struct(">HH")
_RR_TAIL = struct.Struct(">HHIH")  # type, class, ttl, rdlength
_HEADER_TAIL = struct.Struct(">HHHHH")  # flags, qdcount, ancount, nscount, arcount
_SOA_TIMERS = struct.Struct(">IIIII")
_COUNTS_PLAIN = b"\x00\x01\x00\x00\x00\x00\x00\x00"
_COUNTS_EDNS = b"\x00\x01\x00\x00\x00\x00\x00\x01"
_QUESTION_POINTER = b"\xc0\x0c"  # the question's name starts at offset 12
_TYPE_A, _TYPE_TXT, _TYPE_OPT, _TYPE_ANY = 1, 16, 41, 255
_OPT_COOKIE, _OPT_PADDING = 10, 12
_UDP_LIMIT = 512  # fast answers are far smaller; anything bigger goes to the reference path
_AA_QR = 0x8400
_TXT_CACHE = 4096  # TXT records of recently asked listings (formatting two times costs more than the rest)
_COPIED_FLAGS = 0x0110  # RD, CD


class FastAnswers:
    """Byte-level answers for the common query shape, equal to ``answerer``'s; see the module docstring."""

    def __init__(self, answerer: Answerer) -> None:
        authority = answerer.authority
        zones = authority.zones
        self.lookup = answerer.lookup
        self._ttl = authority.ttl
        self._txt_cache: dict[Listing, bytes] = {}
        self._a_record = _QUESTION_POINTER + _RR_TAIL.pack(_TYPE_A, 1, authority.ttl, 4) + bytes((127, 0, 0, 2))
        # (the name after the digits in wire form, lower case; where its zone apex starts in it; that zone's SOA)
        forms: list[tuple[bytes, int, bytes]] = []
        zone_wire = zones.zone.to_digestable()
        forms.append((zone_wire.lower(), 0, self._soa_tail(answerer, zones.zone)))
        if zones.enum is not None:
            enum_wire = zones.enum.to_digestable()
            enum_in_zone = enum_wire[:-1] + zone_wire
            forms.append((enum_in_zone.lower(), len(enum_wire) - 1, self._soa_tail(answerer, zones.zone)))
            forms.append((enum_wire.lower(), 0, self._soa_tail(answerer, zones.enum)))
        forms.sort(key=lambda form: -len(form[0]))
        self._forms = {suffix: (apex_at, soa_tail) for suffix, apex_at, soa_tail in forms}
        # The question: 1 to 15 single-digit labels, a zone form (any case), then type and class.
        suffixes = b"|".join(re.escape(suffix) for suffix, _, _ in forms)
        digit_labels = rb"((?:\x01[0-9]){1,%d})" % MAX_DIGITS
        self._question = re.compile(digit_labels + rb"(" + suffixes + rb")(....)", re.IGNORECASE | re.DOTALL)

    @staticmethod
    def _soa_tail(answerer: Answerer, apex: dns.name.Name) -> bytes:
        """Everything of the zone's SOA record after its owner name."""
        authority = answerer.authority
        soa = authority.soa(apex)
        rdata = soa.mname.to_digestable() + soa.rname.to_digestable()
        rdata += _SOA_TIMERS.pack(soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum)
        return _RR_TAIL.pack(6, 1, authority.negative_ttl, len(rdata)) + rdata

    def _txt_record(self, listing: Listing) -> bytes:
        record = self._txt_cache.get(listing)  # keyed by the whole listing: a new report makes a new key
        if record is None:
            rdata = b"".join(bytes((len(s),)) + s for s in txt_strings(listing))
            record = _QUESTION_POINTER + _RR_TAIL.pack(_TYPE_TXT, 1, self._ttl, len(rdata)) + rdata
            if len(self._txt_cache) >= _TXT_CACHE:
                self._txt_cache.clear()
            self._txt_cache[listing] = record
        return record

    def respond(self, wire: bytes) -> bytes | None:
        """The reply to ``wire`` if it has the common shape, else None (ask the reference path)."""
        try:
            return self._respond(wire)
        except IndexError:  # cut short somewhere: let the reference path say FORMERR
            return None

    def _respond(self, wire: bytes) -> bytes | None:
        size = len(wire)
        if size < 17 or size > _UDP_LIMIT or wire[2] & 0xF8:  # QR set, or an opcode other than QUERY
            return None
        counts = wire[4:12]
        if counts != _COUNTS_PLAIN and counts != _COUNTS_EDNS:
            return None
        question = self._question.match(wire, 12)
        if question is None:
            return None
        end = question.end(2)
        if end - 12 > 255:  # longer than a DNS name may be
            return None
        apex_at, soa_tail = self._forms[question.group(2).lower()]
        qtype, qclass = _TYPE_CLASS.unpack(question.group(3))
        if qclass != 1:  # IN only
            return None
        if qtype == _TYPE_OPT or 0x80 <= qtype < _TYPE_ANY:  # meta types but ANY: the reference path says what
            return None
        question_end = end + 4
        apex_at += question.start(2)
        if counts == _COUNTS_PLAIN:
            opt: bytes | None = b"" if question_end == size else None
        else:
            opt = self._opt(wire, question_end, size)
        if opt is None:
            return None
        # The answer.
        digits = question.group(1)[1::2][::-1]
        listing = None if digits[0] == 0x30 else self.lookup(int(digits))
        if listing is not None and not is_canonical(listing.number):
            listing = None
        flags = _AA_QR | (((wire[2] << 8) | wire[3]) & _COPIED_FLAGS)
        soa = b""
        if listing is None:
            flags |= 3  # NXDOMAIN
            answers = b""
            ancount = 0
        elif qtype == _TYPE_A:
            answers, ancount = self._a_record, 1
        elif qtype == _TYPE_TXT:
            answers, ancount = self._txt_record(listing), 1
        elif qtype == _TYPE_ANY:
            answers, ancount = self._a_record + self._txt_record(listing), 2
        else:
            answers, ancount = b"", 0
        if not ancount:
            soa = _U16.pack(0xC000 | apex_at) + soa_tail
        reply = b"".join(
            (
                wire[:2],
                _HEADER_TAIL.pack(flags, 1, ancount, 1 if soa else 0, 1 if opt else 0),
                wire[12:question_end],
                answers,
                soa,
                opt,
            )
        )
        return reply if len(reply) <= _UDP_LIMIT else None

    @staticmethod
    def _opt(wire: bytes, at: int, size: int) -> bytes | None:
        """The OPT record of the reply to the query's OPT record at ``at``, or None if the query's is not plain."""
        if wire[at] != 0 or (wire[at + 1] << 8 | wire[at + 2]) != _TYPE_OPT or wire[at + 6] != 0:  # root; version 0
            return None
        do_bit = wire[at + 7] & 0x80
        rdlength = (wire[at + 9] << 8) | wire[at + 10]
        pos = at + 11
        if pos + rdlength != size:
            return None
        while pos < size:
            code = (wire[pos] << 8) | wire[pos + 1]
            length = (wire[pos + 2] << 8) | wire[pos + 3]
            if code == _OPT_COOKIE:
                if length != 8 and not 16 <= length <= 40:
                    return None
            elif code != _OPT_PADDING:
                return None
            pos += 4 + length
        if pos != size:
            return None
        return b"\x00\x00\x29" + _U16.pack(OUR_PAYLOAD) + b"\x00\x00" + bytes((do_bit, 0)) + b"\x00\x00"
