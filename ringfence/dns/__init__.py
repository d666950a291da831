"""The DNS front door: DNSBL-style lookups of the registry over UDP and TCP (see docs/dns.md).

* :mod:`ringfence.dns.names`: query name -> zone and number (pure);
* :mod:`ringfence.dns.answers`: query -> response with dnspython, the reference for every case (pure);
* :mod:`ringfence.dns.fast`: the same answers for the common query shape, rendered from bytes (pure);
* :mod:`ringfence.dns.server`: the asyncio UDP and TCP servers, access list and limits, and the daemon.
"""
