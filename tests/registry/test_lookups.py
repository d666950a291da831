"""Batch lookups: the JSON rendering equals the dict rendering, which equals single lookups, for any mix."""

from __future__ import annotations

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringfence.registry.lookups import lookup_batch
from ringfence.registry.models import Category, NewReport, Role
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


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raws=_INPUTS)
def test_json_and_dict_renderings_agree_with_single_lookups(runtime: Runtime, raws: list[str]) -> None:
    if len(runtime.registry.index) == 0:
        member = runtime.members.add("carrier-a", Role.REPORTER)[0]
        runtime.registry.report_many(
            member, [(i, NewReport(n, Category.VISHING, 1_700_000_000_000 + i)) for i, n in enumerate(LISTED)]
        )
    batch = lookup_batch(runtime.registry, raws, "GB")
    answers = batch.answers()
    assert batch.to_json() == orjson.dumps({"results": answers})  # byte for byte
    assert len(answers) == len(raws)
    for raw, answer in zip(raws, answers, strict=True):
        if "error" in answer:
            assert answer["input"] == raw
            continue
        number = int(answer["number"][1:])
        assert answer == lookup_answer(number, runtime.registry.lookup(number))
