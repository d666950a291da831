"""Realistic CDR files of each preset layout, for the reader tests (times near conftest START_MS)."""

# ruff: noqa: E501 - records are lines of a file as written, however long

from __future__ import annotations

from typing import Final

__all__ = ["ASTERISK", "RINGFENCE", "RINGFENCE_JSONL", "WHOLESALE"]

#: The canonical layout as the simulator writes it: IMSIs as subscribers, a withheld caller, roaming, an IRSF
#: destination, an unanswered Wangiri-style call in.
RINGFENCE: Final = b"""start,caller,called,duration_s,answered,direction,subscriber,route,cost
2026-09-21T14:13:20.250Z,+447700900123,+882160012345,12.5,true,outgoing,234150000000001,T1,0.10
2026-09-21T14:13:21.000Z,+447700900124,+442079460018,61,true,outgoing,234150000000002,T2,0.02
2026-09-21T14:13:22.000Z,+37255212345,+447700900125,0,false,incoming,,INT-IN,
2026-09-21T14:13:23.500Z,,+447700900126,4,true,incoming,234150000000003,T1,
2026-09-21T14:13:24.000Z,+447700900127,+2327712345,30,true,roaming_out,234150000000004,ROAM,1.50
2026-09-21T14:13:25.000Z,+33612345678,+447700900128,15,true,roaming_in,208150000000009,VISIT,0.30
"""

RINGFENCE_JSONL: Final = b"""{"start":"2026-09-21T14:13:20.250Z","caller":"+447700900123","called":"+882160012345","duration_s":12.5,"answered":true,"direction":"outgoing","subscriber":"234150000000001","route":"T1","cost":0.1}
{"start":"2026-09-21T14:13:22.000Z","caller":"+37255212345","called":"+447700900125","duration_s":0,"answered":false,"direction":"incoming","subscriber":null,"route":"INT-IN","cost":null}
{"start":"2026-09-21T14:13:23.500Z","caller":null,"called":"+447700900126","duration_s":4,"answered":true,"direction":"incoming","subscriber":"234150000000003","route":"T1"}
"""

#: A wholesale carrier's export: the issue's columns (with Rate and Cost where the issue elides), CLD/CLI as
#: international digits with and without ``+``, a failed attempt with no Connect Time, an anonymous CLI.
WHOLESALE: Final = b"""Buyer,Seller,Route,CLD,CLI,Country,Description,Duration,Billed Duration,Rate,Cost,Setup Time,Connect Time,Disconnect Time,Disconnect Reason
ACME Telecom,Carrier X,PREMIUM-1,882160012345,447700900123,International Networks,Satellite,35,36,0.8500,0.5100,2026-09-21 14:13:20,2026-09-21 14:13:26,2026-09-21 14:14:01,16
ACME Telecom,Carrier X,EE-MOB,+3725521234,447700900123,Estonia,Mobile,0,0,0.0900,0.0000,2026-09-21 14:13:30,,2026-09-21 14:13:40,17
ACME Telecom,Carrier Y,UK-FIX,442079460018,anonymous,United Kingdom,Fixed London,122,122,0.0100,0.0203,2026-09-21 14:14:00,2026-09-21 14:14:03,2026-09-21 14:16:05,16
"""

#: Asterisk cdr-csv Master.csv: every field quoted, clid with embedded quotes, lastdata with commas, an internal
#: extension as caller, national numbers (GB), a NO ANSWER and a BUSY.
ASTERISK: Final = b"".join(
    line.encode() + b"\n"
    for line in [
        '"","1001","02079460018","from-internal","""Alice"" <1001>","SIP/1001-00000001","SIP/trunk-00000002",'
        '"Dial","SIP/trunk/02079460018,30,tT","2026-09-21 14:13:20","2026-09-21 14:13:24","2026-09-21 14:14:24",'
        '64,60,"ANSWERED","DOCUMENTATION","1790000000.1",""',
        '"acct7","07700900123","00882160012345","from-internal","""Bob"" <07700900123>","SIP/1002-00000003","",'
        '"Dial","SIP/trunk/00882160012345,30","2026-09-21 14:15:00","","2026-09-21 14:15:30",30,0,"NO ANSWER",'
        '"DOCUMENTATION","1790000000.2",""',
        '"acct7","07700900123","07700900999","from-internal","","SIP/1002-00000004","SIP/trunk-00000005","Dial",'
        '"SIP/trunk/07700900999","2026-09-21 14:16:00","","2026-09-21 14:16:05",5,0,"BUSY","DOCUMENTATION",'
        '"1790000000.3",""',
    ]
)
