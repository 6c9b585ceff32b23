"""The coverage rule: which active agreement covers a placement, or the nearest refusal."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from vfu_common.events.contracts import AgreementPartyV1, AgreementTermsV1
from vfu_domain.coverage import CoverageQuery, decide_coverage

UNIVERSITY = uuid.UUID("00000000-0000-7000-8000-000000000001")
REGION = uuid.UUID("00000000-0000-7000-8000-000000000002")
MUNICIPALITY = uuid.UUID("00000000-0000-7000-8000-000000000003")
COUNCIL = uuid.UUID("00000000-0000-7000-8000-000000000004")
UNIT = uuid.UUID("00000000-0000-7000-8000-0000000000a1")
OTHER_UNIT = uuid.UUID("00000000-0000-7000-8000-0000000000a2")

VALID_FROM = date(2027, 1, 1)
VALID_TO = date(2027, 12, 31)
DAY = timedelta(days=1)


def terms(**overrides: Any) -> AgreementTermsV1:
    """An active bilateral agreement, UNIVERSITY with REGION, for nursing in 2027."""
    agreement_id = overrides.pop("agreement_id", uuid.uuid4())
    fields: dict[str, Any] = {
        "agreement_id": agreement_id,
        "series_id": agreement_id,
        "version_number": 1,
        "agreement_type": "bilateral_vfu",
        "title": "VFU nursing",
        "status": "active",
        "parties": [
            AgreementPartyV1(organisation_id=UNIVERSITY, role="university"),
            AgreementPartyV1(organisation_id=REGION, role="region"),
        ],
        "programmes": ["VSSJK"],
        "valid_from": VALID_FROM,
        "valid_to": VALID_TO,
    }
    return AgreementTermsV1(**(fields | overrides))


def query(**overrides: Any) -> CoverageQuery:
    """A nursing placement of UNIVERSITY at REGION in spring 2027."""
    fields: dict[str, Any] = {
        "university_id": UNIVERSITY,
        "provider_id": REGION,
        "programme_code": "VSSJK",
        "start": date(2027, 3, 1),
        "end": date(2027, 4, 30),
    }
    return CoverageQuery(**(fields | overrides))


def reason(agreements: list[AgreementTermsV1], q: CoverageQuery) -> str:
    return decide_coverage(agreements, q).reason


# --- dates -------------------------------------------------------------------------------


def test_whole_validity_period_is_covered_inclusive() -> None:
    agreement = terms(effective_until=VALID_TO)
    decision = decide_coverage([agreement], query(start=VALID_FROM, end=VALID_TO))
    assert decision.covered
    assert decision.reason == "covered"
    assert decision.agreement == agreement


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(VALID_FROM - DAY, VALID_FROM + DAY, id="starts-a-day-before-valid-from"),
        pytest.param(VALID_TO - DAY, VALID_TO + DAY, id="ends-a-day-after-effective-until"),
        pytest.param(VALID_FROM - DAY, VALID_TO + DAY, id="both"),
    ],
)
def test_a_day_outside_is_not_covered(start: date, end: date) -> None:
    decision = decide_coverage([terms(effective_until=VALID_TO)], query(start=start, end=end))
    assert not decision.covered
    assert decision.reason == "dates_not_covered"
    assert decision.agreement is None


def test_effective_until_before_valid_to_ends_coverage() -> None:
    ends = date(2027, 6, 30)
    agreement = terms(effective_until=ends)
    assert reason([agreement], query(end=ends)) == "covered"
    assert reason([agreement], query(end=ends + DAY)) == "dates_not_covered"


def test_valid_to_is_used_when_effective_until_is_none() -> None:
    agreement = terms(effective_until=None)
    assert reason([agreement], query(end=VALID_TO)) == "covered"
    assert reason([agreement], query(end=VALID_TO + DAY)) == "dates_not_covered"


def test_open_ended_agreement_covers_any_later_end() -> None:
    agreement = terms(valid_to=None, effective_until=None, notice_period_months=6)
    assert reason([agreement], query(end=date(2099, 12, 31))) == "covered"
    assert reason([agreement], query(start=VALID_FROM - DAY)) == "dates_not_covered"


def test_one_day_placement_on_the_last_day() -> None:
    assert reason([terms()], query(start=VALID_TO, end=VALID_TO)) == "covered"


def test_end_before_start_is_an_error() -> None:
    with pytest.raises(ValueError, match="end before start"):
        decide_coverage([terms()], query(start=date(2027, 3, 2), end=date(2027, 3, 1)))


# --- statuses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status", ["draft", "pending_signatures", "terminated", "expired", "abandoned"]
)
def test_statuses_that_do_not_cover(status: str) -> None:
    decision = decide_coverage([terms(status=status)], query())
    assert not decision.covered
    assert decision.reason == "agreement_not_active"


def test_notice_given_covers_until_effective_until() -> None:
    ends = date(2027, 5, 31)
    agreement = terms(status="notice_given", effective_until=ends)
    assert reason([agreement], query(end=ends)) == "covered"
    assert reason([agreement], query(end=ends + DAY)) == "dates_not_covered"


# --- scope ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("programmes", "professions", "code", "expected"),
    [
        (["VSSJK"], [], "VSSJK", "covered"),
        ([], ["SSK"], "SSK", "covered"),
        (["VSSJK"], ["SSK"], "SSK", "covered"),
        (["VSSJK"], [], "LAKAR", "programme_not_covered"),
        ([], ["SSK"], "VSSJK", "programme_not_covered"),
        ([], [], "VSSJK", "programme_not_covered"),
    ],
)
def test_programme_or_profession_scope(
    programmes: list[str], professions: list[str], code: str, expected: str
) -> None:
    agreement = terms(programmes=programmes, professions=professions)
    assert reason([agreement], query(programme_code=code)) == expected


@pytest.mark.parametrize(
    ("units", "municipalities", "unit_id", "municipality_code", "expected"),
    [
        pytest.param([], [], None, None, "covered", id="unscoped-no-place-given"),
        pytest.param([], [], UNIT, "0180", "covered", id="unscoped-covers-whole-provider"),
        pytest.param([UNIT], [], UNIT, None, "covered", id="unit-listed"),
        pytest.param([UNIT], [], OTHER_UNIT, None, "place_not_covered", id="other-unit"),
        pytest.param([UNIT], [], None, None, "place_not_covered", id="scoped-no-place-given"),
        pytest.param([], ["0180"], None, "0180", "covered", id="municipality-listed"),
        pytest.param([], ["0180"], UNIT, "0114", "place_not_covered", id="other-municipality"),
        pytest.param([UNIT], ["0180"], OTHER_UNIT, "0180", "covered", id="either-scope-matches"),
    ],
)
def test_unit_and_municipality_scope(
    units: list[uuid.UUID],
    municipalities: list[str],
    unit_id: uuid.UUID | None,
    municipality_code: str | None,
    expected: str,
) -> None:
    agreement = terms(covered_unit_ids=units, covered_municipality_codes=municipalities)
    assert reason([agreement], query(unit_id=unit_id, municipality_code=municipality_code)) == (
        expected
    )


# --- parties and roles ------------------------------------------------------------------


def test_no_agreements_at_all() -> None:
    assert reason([], query()) == "no_agreement_between_parties"


def test_university_as_provider_is_not_a_party_match() -> None:
    swapped = query(university_id=REGION, provider_id=UNIVERSITY)
    assert reason([terms()], swapped) == "no_agreement_between_parties"


def test_coordinating_body_is_not_a_provider() -> None:
    agreement = terms(
        parties=[
            AgreementPartyV1(organisation_id=UNIVERSITY, role="university"),
            AgreementPartyV1(organisation_id=COUNCIL, role="coordinating_body"),
        ]
    )
    assert reason([agreement], query(provider_id=COUNCIL)) == "no_agreement_between_parties"


def test_tripartite_agreement_covers_each_provider() -> None:
    agreement = terms(
        agreement_type="tripartite_vfu",
        parties=[
            AgreementPartyV1(organisation_id=UNIVERSITY, role="university"),
            AgreementPartyV1(organisation_id=REGION, role="region"),
            AgreementPartyV1(organisation_id=MUNICIPALITY, role="municipality"),
        ],
    )
    assert reason([agreement], query(provider_id=REGION)) == "covered"
    assert reason([agreement], query(provider_id=MUNICIPALITY)) == "covered"


def test_agreement_between_other_parties_is_ignored() -> None:
    elsewhere = terms(
        parties=[
            AgreementPartyV1(organisation_id=UNIVERSITY, role="university"),
            AgreementPartyV1(organisation_id=MUNICIPALITY, role="municipality"),
        ]
    )
    assert reason([elsewhere], query()) == "no_agreement_between_parties"
    assert reason([elsewhere, terms(status="draft")], query()) == "agreement_not_active"


# --- several agreements --------------------------------------------------------------------

# One agreement per refusal reason, each failing on exactly that check.
FAILING = {
    "agreement_not_active": terms(status="pending_signatures"),
    "programme_not_covered": terms(programmes=["LAKAR"]),
    "place_not_covered": terms(covered_unit_ids=[OTHER_UNIT]),
    "dates_not_covered": terms(valid_from=date(2027, 4, 1)),
}


@pytest.mark.parametrize(
    ("failing", "expected"),
    [
        (["agreement_not_active", "programme_not_covered"], "programme_not_covered"),
        (["programme_not_covered", "place_not_covered"], "place_not_covered"),
        (["dates_not_covered", "agreement_not_active"], "dates_not_covered"),
        (list(FAILING), "dates_not_covered"),
        (
            ["place_not_covered", "agreement_not_active", "programme_not_covered"],
            "place_not_covered",
        ),
    ],
)
def test_the_nearest_refusal_is_reported(failing: list[str], expected: str) -> None:
    agreements = [FAILING[name] for name in failing]
    assert reason(agreements, query(unit_id=UNIT)) == expected
    assert reason(list(reversed(agreements)), query(unit_id=UNIT)) == expected


def test_a_covering_agreement_beats_any_refusal() -> None:
    covering = terms()
    decision = decide_coverage([*FAILING.values(), covering], query(unit_id=UNIT))
    assert decision.agreement == covering


def test_the_latest_valid_from_is_chosen() -> None:
    older = terms(valid_from=date(2026, 1, 1))
    newer = terms(valid_from=date(2027, 2, 1))
    assert decide_coverage([newer, older], query()).agreement == newer
    assert decide_coverage([older, newer], query()).agreement == newer


def test_on_equal_valid_from_the_higher_version_is_chosen() -> None:
    first = terms(version_number=1)
    amended = terms(version_number=2)
    assert decide_coverage([amended, first], query()).agreement == amended
    assert decide_coverage([first, amended], query()).agreement == amended


def test_on_equal_dates_and_versions_the_greatest_id_is_chosen() -> None:
    low = terms(agreement_id=uuid.UUID(int=1))
    high = terms(agreement_id=uuid.UUID(int=2))
    assert decide_coverage([low, high], query()).agreement == high
    assert decide_coverage([high, low], query()).agreement == high


# --- property: order does not matter ----------------------------------------------------

_PARTY_SETS = [
    [(UNIVERSITY, "university"), (REGION, "region")],
    [(UNIVERSITY, "university"), (REGION, "region"), (MUNICIPALITY, "municipality")],
    [(REGION, "university"), (UNIVERSITY, "region")],
    [(UNIVERSITY, "university"), (MUNICIPALITY, "municipality")],
]
_DATES = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31))
COVERING = ["active", "notice_given"]


@st.composite
def agreement_terms(draw: st.DrawFn, agreement_id: uuid.UUID) -> AgreementTermsV1:
    valid_from = draw(_DATES)
    return terms(
        agreement_id=agreement_id,
        version_number=draw(st.integers(1, 3)),
        # Weighted towards covering statuses, so several agreements often cover at once.
        status=draw(st.sampled_from([*COVERING, *COVERING, "draft", "terminated", "expired"])),
        parties=[
            AgreementPartyV1(organisation_id=org, role=role)
            for org, role in draw(st.sampled_from(_PARTY_SETS))
        ],
        programmes=draw(st.sampled_from([["VSSJK"], ["VSSJK", "LAKAR"], ["LAKAR"], []])),
        professions=draw(st.lists(st.sampled_from(["SSK"]), unique=True)),
        covered_unit_ids=draw(st.lists(st.sampled_from([UNIT, OTHER_UNIT]), unique=True)),
        valid_from=valid_from,
        valid_to=draw(st.none() | st.dates(min_value=valid_from, max_value=date(2029, 12, 31))),
        effective_until=draw(st.none() | _DATES),
    )


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[list[AgreementTermsV1], list[AgreementTermsV1], CoverageQuery]:
    count = draw(st.integers(0, 6))
    # Distinct ids, as in real data: the final tie-break is on the id.
    ids = [uuid.UUID(int=n + 1) for n in range(count)]
    agreements = [draw(agreement_terms(agreement_id)) for agreement_id in ids]
    shuffled = draw(st.permutations(agreements))
    start = draw(_DATES)
    q = query(
        programme_code=draw(st.sampled_from(["VSSJK", "VSSJK", "LAKAR", "SSK"])),
        unit_id=draw(st.sampled_from([None, UNIT, OTHER_UNIT])),
        start=start,
        end=start + timedelta(days=draw(st.integers(0, 90))),
    )
    return agreements, list(shuffled), q


@given(scenarios())
def test_decision_does_not_depend_on_the_order_of_agreements(
    scenario: tuple[list[AgreementTermsV1], list[AgreementTermsV1], CoverageQuery],
) -> None:
    agreements, shuffled, q = scenario
    assert decide_coverage(shuffled, q) == decide_coverage(agreements, q)


# --- amendments: versions of one series cover a period together ----------------------------


def _series(v1_until: date, v2_from: date, **v2: Any) -> list[AgreementTermsV1]:
    first = terms(effective_until=v1_until)
    second = terms(
        series_id=first.series_id,
        version_number=2,
        supersedes_agreement_id=first.agreement_id,
        valid_from=v2_from,
        **v2,
    )
    return [first, second]


def test_a_placement_spanning_an_amendment_is_covered_by_the_series() -> None:
    versions = _series(date(2027, 5, 31), date(2027, 6, 1))
    decision = decide_coverage(versions, query(start=date(2027, 5, 20), end=date(2027, 6, 10)))
    assert decision.covered
    assert decision.agreement == versions[0]  # the version in force at the start
    later = decide_coverage(versions, query(start=date(2027, 6, 2), end=date(2027, 6, 10)))
    assert later.agreement == versions[1]


def test_a_gap_between_versions_is_not_covered() -> None:
    versions = _series(date(2027, 5, 30), date(2027, 6, 1))  # 31 May is in neither
    q = query(start=date(2027, 5, 20), end=date(2027, 6, 10))
    assert reason(versions, q) == "dates_not_covered"


def test_versions_of_different_series_are_not_chained() -> None:
    first = terms(valid_to=date(2027, 5, 31))
    other = terms(valid_from=date(2027, 6, 1), valid_to=date(2027, 12, 31))
    q = query(start=date(2027, 5, 20), end=date(2027, 6, 10))
    assert reason([first, other], q) == "dates_not_covered"


def test_a_version_that_drops_the_programme_breaks_the_chain() -> None:
    versions = _series(date(2027, 5, 31), date(2027, 6, 1), programmes=["ARB"])
    q = query(start=date(2027, 5, 20), end=date(2027, 6, 10))
    assert reason(versions, q) == "dates_not_covered"


@given(st.permutations(_series(date(2027, 5, 31), date(2027, 6, 1))))
def test_chaining_does_not_depend_on_order(versions: list[AgreementTermsV1]) -> None:
    decision = decide_coverage(versions, query(start=date(2027, 5, 20), end=date(2027, 6, 10)))
    assert decision.covered
    assert decision.agreement is not None
    assert decision.agreement.version_number == 1
