"""Answers of the DNS front door: a query in, the response out, given a lookup function. No sockets.

This is the reference implementation, on dnspython messages; :mod:`ringfence.dns.fast` renders the same answers
for the common query shape without dnspython, and the tests hold the two equal.

=========================================  ===================================================================
query                                      response (AA set on everything answered from a zone)
=========================================  ===================================================================
listed number, A                           ``127.0.0.2``
listed number, TXT                         ``"last=… first=… reports=N reporters=N categories=a,b"``
listed number, ANY                         A and TXT (the whole, small, set; RFC 8482 allows either)
listed number, any other type              NOERROR, no data, SOA in authority
unlisted number, or a name that cannot     NXDOMAIN, SOA in authority
be a number (see :mod:`.names`)
zone apex, SOA / NS / ANY                  the SOA / the NS / both
zone apex, other type; ``e164.arpa.<zone>``  NOERROR, no data, SOA in authority
outside the zones; class other than IN     REFUSED (no AA)
AXFR, IXFR                                 REFUSED (no zone transfers)
other meta types (OPT, TKEY, MAILB, …)     NOTIMP
opcode other than QUERY                    NOTIMP (header only)
not exactly one question                   FORMERR
EDNS version other than 0                  BADVERS
a message that does not parse              FORMERR (header only); NOTAUTH when it carries a TSIG
fewer than 12 bytes, or the QR bit set     no answer at all
=========================================  ===================================================================

The SOA sent with a negative answer has TTL and MINIMUM equal to the negative TTL, which is what resolvers cache a
"not listed" for (RFC 2308). EDNS (RFC 6891): a query with EDNS gets EDNS back, with a UDP payload of
:data:`OUR_PAYLOAD` and its DO bit copied; the CD and RD bits of the query are copied too. Answers over UDP are cut
to 512 bytes without EDNS, or to the query's payload (at least 512, at most ours) with it, with the TC bit set.

Which member reported a number is never part of an answer: counts only.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.SOA
import dns.rdtypes.ANY.TXT
import dns.rrset

from ringfence.config import Settings
from ringfence.dns.names import Outcome, Zones
from ringfence.registry.index import Listing
from ringfence.registry.models import categories_from_mask
from ringfence.registry.views import iso

__all__ = [
    "LISTED_ADDRESS",
    "OUR_PAYLOAD",
    "Answerer",
    "Authority",
    "Lookup",
    "header_reply",
    "txt_strings",
    "txt_text",
    "udp_limit",
]

Lookup = Callable[[int], Listing | None]

#: The address a listed number answers with (the DNSBL convention: 127.0.0.2 means "listed").
LISTED_ADDRESS = "127.0.0.2"
#: The EDNS UDP payload this server offers (the DNS flag day 2020 value, safe from IP fragmentation).
OUR_PAYLOAD = 1232
#: The largest DNS message over TCP.
TCP_LIMIT = 65535
#: SOA timers (seconds): refresh, retry, expire. There are no secondaries; these only need to be sane.
SOA_REFRESH, SOA_RETRY, SOA_EXPIRE = 3600, 600, 86400

_IN = dns.rdataclass.IN
_A_RDATA = dns.rdata.from_text(_IN, dns.rdatatype.A, LISTED_ADDRESS)
_HEADER = struct.Struct(">HHHHHH")
_ZONE_TRANSFERS = frozenset({dns.rdatatype.AXFR, dns.rdatatype.IXFR})


def txt_text(listing: Listing) -> str:
    """The TXT answer of a listing as one line of ``key=value`` fields, e.g.
    ``last=2026-09-21T14:13:20.000Z first=2026-09-20T08:00:00.000Z reports=3 reporters=2 categories=robocall,vishing``.

    Times are UTC with milliseconds (as in the HTTP API); ``categories`` is a comma-separated list, in the order of
    :class:`ringfence.registry.models.Category`. Fields are separated by one space and never contain one.
    """
    return (
        f"last={iso(listing.last_ms)} first={iso(listing.first_ms)} reports={listing.report_count} "
        f"reporters={listing.reporter_count} categories={','.join(categories_from_mask(listing.categories))}"
    )


def txt_strings(listing: Listing) -> tuple[bytes, ...]:
    """The TXT record's strings: :func:`txt_text` as one string. It is at most 191 bytes (every category, counts of
    2**32 - 1), within the 255 of one DNS string, so a client reads one string, never a split one."""
    return (txt_text(listing).encode("ascii"),)


def udp_limit(query: dns.message.Message) -> int:
    """The largest UDP answer to ``query``: 512 bytes without EDNS, else its payload within [512, OUR_PAYLOAD]."""
    if query.edns < 0:
        return 512
    return max(512, min(query.payload, OUR_PAYLOAD))


def header_reply(wire: bytes, rcode: int) -> bytes:
    """A reply that is only a header: the query's id, opcode and RD/CD bits, QR set, ``rcode``, no sections.

    For queries that cannot be answered in full (they do not parse, or use an opcode not implemented here).
    ``wire`` must hold at least the 12 header bytes.
    """
    query_id, flags = struct.unpack_from(">HH", wire)
    reply_flags = dns.flags.QR | (flags & (0x7800 | dns.flags.RD | dns.flags.CD)) | (rcode & 0xF)
    return _HEADER.pack(query_id, reply_flags, 0, 0, 0, 0)


@dataclass(frozen=True)
class Authority:
    """What the server says about its zones: which names, the TTLs, the SOA's serial and primary name server."""

    zones: Zones
    ttl: int = 300
    negative_ttl: int = 60
    nameserver: dns.name.Name = field(default_factory=lambda: dns.name.from_text("localhost."))
    serial: int = 1

    @classmethod
    def from_settings(cls, settings: Settings, serial: int | None = None) -> Authority:
        """From the ``dns_*`` settings; the SOA serial is the start time in seconds unless given."""
        return cls(
            zones=Zones.from_text(settings.dns_zone, settings.dns_enum_zone),
            ttl=settings.dns_ttl,
            negative_ttl=settings.dns_negative_ttl,
            nameserver=dns.name.from_text(settings.dns_nameserver),
            serial=int(time.time()) & 0xFFFFFFFF if serial is None else serial,
        )

    def soa(self, apex: dns.name.Name) -> dns.rdtypes.ANY.SOA.SOA:
        """The SOA record data of the zone at ``apex``."""
        rname = dns.name.Name((b"hostmaster",)).concatenate(self.zones.zone)
        text = f"{self.nameserver} {rname} {self.serial} {SOA_REFRESH} {SOA_RETRY} {SOA_EXPIRE} {self.negative_ttl}"
        rdata = dns.rdata.from_text(_IN, dns.rdatatype.SOA, text)
        assert isinstance(rdata, dns.rdtypes.ANY.SOA.SOA)
        return rdata


class Answerer:
    """Answers queries from ``lookup`` (number -> listing or None) for the zones of ``authority``."""

    def __init__(self, authority: Authority, lookup: Lookup) -> None:
        self.authority = authority
        self.lookup = lookup
        apexes = authority.zones.apexes
        self._soa = {apex: dns.rrset.from_rdata(apex, authority.negative_ttl, authority.soa(apex)) for apex in apexes}
        ns = dns.rdata.from_text(_IN, dns.rdatatype.NS, authority.nameserver.to_text())
        self._ns = {apex: dns.rrset.from_rdata(apex, authority.ttl, ns) for apex in apexes}

    # ------------------------------------------------------------------------------------------ messages
    def answer(self, query: dns.message.Message) -> dns.message.Message:
        """The response to a parsed query (see the module docstring for every case)."""
        response = dns.message.make_response(query, our_payload=OUR_PAYLOAD, pad=0)
        response.flags |= query.flags & dns.flags.CD
        if query.edns >= 0:
            response.ednsflags |= query.ednsflags & dns.flags.DO
        if query.opcode() != dns.opcode.QUERY:
            response.question = []
            response.set_rcode(dns.rcode.NOTIMP)
            return response
        if query.edns > 0:
            response.set_rcode(dns.rcode.BADVERS)
            return response
        if len(query.question) != 1:
            response.question = []
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        rdtype = question.rdtype
        if question.rdclass != _IN or rdtype in _ZONE_TRANSFERS:
            response.set_rcode(dns.rcode.REFUSED)
            return response
        if dns.rdatatype.is_metatype(rdtype) and rdtype != dns.rdatatype.ANY:
            response.set_rcode(dns.rcode.NOTIMP)
            return response
        match = self.authority.zones.match(question.name)
        if match.outcome is Outcome.REFUSED or match.apex is None:
            response.set_rcode(dns.rcode.REFUSED)
            return response
        response.flags |= dns.flags.AA
        apex = match.apex
        if match.outcome is Outcome.APEX:
            if rdtype in (dns.rdatatype.SOA, dns.rdatatype.ANY):
                response.answer.append(self._soa[apex])
            if rdtype in (dns.rdatatype.NS, dns.rdatatype.ANY):
                response.answer.append(self._ns[apex])
        elif match.outcome is Outcome.NUMBER:
            listing = self.lookup(match.number)
            if listing is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
            else:
                self._add_listing(response, question.name, rdtype, listing)
        elif match.outcome is Outcome.NXDOMAIN:
            response.set_rcode(dns.rcode.NXDOMAIN)
        if not response.answer:
            response.authority.append(self._soa[apex])
        return response

    def _add_listing(self, response: dns.message.Message, name: dns.name.Name, rdtype: int, listing: Listing) -> None:
        ttl = self.authority.ttl
        if rdtype in (dns.rdatatype.A, dns.rdatatype.ANY):
            response.answer.append(dns.rrset.from_rdata(name, ttl, _A_RDATA))
        if rdtype in (dns.rdatatype.TXT, dns.rdatatype.ANY):
            txt = dns.rdtypes.ANY.TXT.TXT(_IN, dns.rdatatype.TXT, txt_strings(listing))
            response.answer.append(dns.rrset.from_rdata(name, ttl, txt))

    # ------------------------------------------------------------------------------------------ wire
    def respond(self, wire: bytes, *, tcp: bool = False, allowed: bool = True) -> bytes | None:
        """The reply to the bytes of one query, or None when no reply should be sent. Never raises on bad input.

        ``allowed=False`` (a source outside the access list) answers a parseable standard query REFUSED, and
        anything else not at all. Over UDP (``tcp=False``) the reply is cut to :func:`udp_limit`, with TC set.
        """
        if len(wire) < 12 or wire[2] & 0x80:  # not even a header, or a response: answering could start a loop
            return None
        if (wire[2] >> 3) & 0xF != dns.opcode.QUERY:
            return header_reply(wire, dns.rcode.NOTIMP) if allowed else None
        try:
            query = dns.message.from_wire(wire)
        except dns.message.UnknownTSIGKey:
            return header_reply(wire, dns.rcode.NOTAUTH) if allowed else None
        except Exception:  # dnspython raises many kinds (FormError, BadLabelType, ValueError, …): all mean FORMERR
            return header_reply(wire, dns.rcode.FORMERR) if allowed else None
        if allowed:
            response = self.answer(query)
        else:
            response = dns.message.make_response(query, our_payload=OUR_PAYLOAD, pad=0)
            if len(response.question) != 1:
                response.question = []
            response.set_rcode(dns.rcode.REFUSED)
        limit = TCP_LIMIT if tcp else udp_limit(query)
        return response.to_wire(max_size=limit, prefer_truncation=True)
