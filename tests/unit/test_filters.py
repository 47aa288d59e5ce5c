"""Filters a catalogue entry builds: the member follows the record type, bounds are validated before a
request is spent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from fitbit.catalogue import DATA_TYPES, DataType, by_path_id
from fitbit.timefmt import utc_text

NOV21, NOV22 = date(2026, 11, 21), date(2026, 11, 22)


def civil_day_filter(path_id: str, start: date, end: date) -> str:
    return by_path_id(path_id).civil_day_filter(start, end)


def physical_time_filter(path_id: str, start: datetime, end: datetime) -> str:
    return by_path_id(path_id).physical_time_filter(start, end)


@pytest.mark.parametrize(
    ("path_id", "member"),
    [
        ("steps", "steps.interval.civil_start_time"),
        ("heart-rate", "heart_rate.sample_time.civil_time"),
        ("daily-resting-heart-rate", "daily_resting_heart_rate.date"),
        ("exercise", "exercise.interval.civil_start_time"),
        ("sleep", "sleep.interval.civil_end_time"),
    ],
)
def test_the_civil_member_follows_the_record_type(path_id: str, member: str) -> None:
    assert civil_day_filter(path_id, NOV21, NOV22) == f'{member} >= "2026-11-21" AND {member} < "2026-11-22"'


@pytest.mark.parametrize("entry", DATA_TYPES, ids=lambda d: d.path_id)
def test_every_catalogue_type_filters_on_its_snake_case_spelling(entry: DataType) -> None:
    text = entry.civil_day_filter(NOV21, NOV22)
    left, right = text.split(" AND ")
    assert left.split(" ")[0] == right.split(" ")[0] == entry.filter_member
    assert "-" not in left.split(" ")[0]
    assert left.startswith(entry.filter_id + ".")


def test_a_multi_day_window_keeps_its_exclusive_end() -> None:
    assert civil_day_filter("steps", date(2026, 11, 15), NOV22).endswith('< "2026-11-22"')


@pytest.mark.parametrize(("start", "end"), [(NOV21, NOV21), (NOV22, NOV21)], ids=["empty", "inverted"])
def test_a_civil_window_must_end_after_it_starts(start: date, end: date) -> None:
    with pytest.raises(ValueError, match="exclusive"):
        civil_day_filter("steps", start, end)


def test_a_civil_window_refuses_datetimes_that_would_lose_their_time() -> None:
    with pytest.raises(ValueError, match="datetime.date"):
        civil_day_filter("steps", datetime(2026, 11, 21, 12), NOV22)


def test_an_unknown_type_is_refused() -> None:
    with pytest.raises(KeyError):
        civil_day_filter("stress-score", NOV21, NOV22)


def test_samples_filter_on_physical_time_in_utc() -> None:
    berlin = timezone(timedelta(hours=1))
    text = physical_time_filter("heart-rate", datetime(2026, 11, 21, 6, tzinfo=berlin),
                                datetime(2026, 11, 21, 7, tzinfo=berlin))
    assert text == ('heart_rate.sample_time.physical_time >= "2026-11-21T05:00:00Z" AND '
                    'heart_rate.sample_time.physical_time < "2026-11-21T06:00:00Z"')


@pytest.mark.parametrize(("path_id", "member"),
                         [("steps", "steps.interval.start_time"), ("sleep", "sleep.interval.end_time")])
def test_intervals_use_start_time_and_sleep_uses_end_time(path_id: str, member: str) -> None:
    start = datetime(2026, 11, 21, tzinfo=UTC)
    assert physical_time_filter(path_id, start, start + timedelta(days=1)).startswith(f"{member} >= ")


@pytest.mark.parametrize("path_id", ["exercise", "daily-resting-heart-rate"])
def test_types_without_a_physical_member_are_refused(path_id: str) -> None:
    start = datetime(2026, 11, 21, tzinfo=UTC)
    with pytest.raises(ValueError, match="civil_day_filter"):
        physical_time_filter(path_id, start, start + timedelta(hours=1))


def test_physical_bounds_must_be_aware_and_increasing() -> None:
    with pytest.raises(ValueError, match="naive"):
        physical_time_filter("heart-rate", datetime(2026, 11, 21), datetime(2026, 11, 22, tzinfo=UTC))
    start = datetime(2026, 11, 21, tzinfo=UTC)
    with pytest.raises(ValueError, match="after"):
        physical_time_filter("heart-rate", start, start)


def test_instants_have_one_utc_spelling_with_microseconds_only_when_present() -> None:
    berlin = timezone(timedelta(hours=1))
    assert utc_text(datetime(2026, 11, 21, 8, 15, 22, 481000, tzinfo=berlin)) == "2026-11-21T07:15:22.481000Z"
    assert utc_text(datetime(2026, 11, 21, 7, 15, 22, tzinfo=UTC)) == "2026-11-21T07:15:22Z"
    with pytest.raises(ValueError, match="naive"):
        utc_text(datetime(2026, 11, 21, 7, 15, 22))
