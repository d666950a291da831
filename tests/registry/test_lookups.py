"""Batch lookups: the JSON rendering equals the dict rendering, which equals single lookups, for any mix."""

from __future__ import annotations

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringfence.registry.assess import LookupOptions
from ringfence.registry.lookups import lookup_batch
from ringfence.registry.models import FLAG_DISPUTED, Category, NewReport, Role
from ringfence.registry.scoring import DAY_MS, DecayModel
from ringfence.registry.views import lookup_answer
from ringfence.runtime import Runtime

LISTED = [442079460018, 447400123456, 12015550123, 4930123456]
_INPUTS = st.lists(
    st.one_of(
        st.sampled_from([f"+{n}" for n in LISTED]),
        st.sampled_from(["+447400123457", "+80012345678", "+88213012345", "+79161234567", "+390612345678"]),
        st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True),
        st.text(max_size=12),
    ),
    max_size=40,
)


_OPTIONS = st.builds(
    LookupOptions,
    min_score=st.one_of(st.none(), st.floats(0, 100)),
    include_decayed=st.booleans(),
    model=st.one_of(
        st.none(), st.builds(DecayModel, st.integers(3_600_000, 400 * DAY_MS), st.floats(0.2, 5), st.floats(0, 100))
    ),
    explain=st.booleans(),
)


def _seed(runtime: Runtime) -> None:
    """Listings of every kind of standing: fresh, a day old, a week old (decayed), pinned, disputed, ported."""
    member = runtime.members.add("carrier-a", Role.REPORTER)[0]
    admin = runtime.members.add("admin-org", Role.ADMIN)[0]
    now = runtime.clock.now_ms()
    ages = [0, DAY_MS, 7 * DAY_MS, 30 * DAY_MS]
    runtime.registry.report_many(
        member, [(i, NewReport(n, Category.VISHING, now - ages[i])) for i, n in enumerate(LISTED)]
    )
    runtime.registry.pin(admin, LISTED[3])
    runtime.registry.set_flags(admin, LISTED[1], add=FLAG_DISPUTED, action="test")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raws=_INPUTS, options=_OPTIONS)
def test_json_and_dict_renderings_agree_with_single_lookups(
    runtime: Runtime, raws: list[str], options: LookupOptions
) -> None:
    if len(runtime.registry.index) == 0:
        _seed(runtime)
    batch = lookup_batch(runtime.registry, raws, "GB", options)
    answers = batch.answers()
    assert batch.to_json() == orjson.dumps({"results": answers})  # byte for byte
    assert len(answers) == len(raws)
    for raw, answer in zip(raws, answers, strict=True):
        if "error" in answer:
            assert answer["input"] == raw
            continue
        number = int(answer["number"][1:])
        assert answer == lookup_answer(number, runtime.registry.assess(number, options), options)


def test_decayed_listings_are_not_listed_unless_asked_for(runtime: Runtime) -> None:
    _seed(runtime)
    fresh, day_old, week_old, pinned = LISTED
    answers = {a["number"]: a for a in lookup_batch(runtime.registry, [f"+{n}" for n in LISTED], None).answers()}
    assert answers[f"+{fresh}"]["listed"] and answers[f"+{fresh}"]["listing"]["score"] == 70.0
    assert not answers[f"+{week_old}"]["listed"] and answers[f"+{week_old}"]["listing"] is None
    assert answers[f"+{pinned}"]["listed"] and answers[f"+{pinned}"]["listing"]["pinned"]
    assert answers[f"+{day_old}"]["listing"] is None or answers[f"+{day_old}"]["listing"]["disputed"]
    shown = lookup_batch(runtime.registry, [f"+{week_old}"], None, LookupOptions(include_decayed=True)).answers()[0]
    assert not shown["listed"] and shown["listing"]["decayed"] and shown["listing"]["score"] < 30
