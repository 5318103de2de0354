from __future__ import annotations

import itertools
import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hikeshi.workforce.forecast import (
    CHANNELS,
    ArrivalProfile,
    ChannelMix,
    ExponentialDecay,
    ForecastError,
    PeakDayDecay,
    SurgeForecast,
    forecast_surge,
    peak_day_total,
    round_preserving_total,
)

JST = ZoneInfo("Asia/Tokyo")
FLAT = ArrivalProfile(hourly=(1.0,) * 24, weekday=(1.0,) * 7)
# The data_breach pack: 8 % contact, 40 % deflected, 35 % of contacts on day 1 over 60 days.
BREACH = PeakDayDecay(peak_day=1, peak_day_share=0.35, duration_days=60)
# Chosen so that the breach's peak day carries the 7,230 calls of the seed article.
BREACH_AFFECTED = 430_358


def breach_forecast(**overrides: object) -> SurgeForecast:
    kwargs: dict[str, object] = {
        "announced_at": datetime(2026, 11, 24, 15, 0, tzinfo=JST),  # a Tuesday
        "affected": BREACH_AFFECTED,
        "contact_rate": 0.08,
        "decay": BREACH,
        "horizon": timedelta(days=60),
        "deflection": 0.4,
    }
    kwargs.update(overrides)
    return forecast_surge(**kwargs)  # type: ignore[arg-type]


# -- totals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "decay",
    [
        BREACH,
        PeakDayDecay(peak_day=2, peak_day_share=0.25, duration_days=45),  # accident_disaster
        PeakDayDecay(peak_day=1, peak_day_share=1.0, duration_days=1),
        ExponentialDecay(half_life_hours=10, duration_days=20),
    ],
)
def test_total_over_a_covering_horizon_is_affected_times_rate_times_not_deflected(
    decay: PeakDayDecay | ExponentialDecay,
) -> None:
    forecast = forecast_surge(
        announced_at=datetime(2026, 11, 24, 15, 7, tzinfo=JST),
        affected=123_457,
        contact_rate=0.15,
        decay=decay,
        horizon=timedelta(days=60),
        deflection=0.35,
    )
    expected = 123_457 * 0.15 * (1 - 0.35)
    assert forecast.expected_total == pytest.approx(expected, rel=1e-12)
    assert forecast.in_horizon == pytest.approx(expected, rel=1e-9)
    assert forecast.after_horizon == pytest.approx(0.0, abs=1e-6)
    whole = [round_preserving_total(forecast.channel(c)) for c in CHANNELS]
    assert sum(map(sum, whole)) == pytest.approx(round(expected), abs=len(CHANNELS))


def test_open_ended_exponential_keeps_what_falls_after_the_horizon() -> None:
    forecast = forecast_surge(
        announced_at=datetime(2026, 11, 24, 9, 0, tzinfo=JST),
        affected=10_000,
        contact_rate=0.1,
        decay=ExponentialDecay(half_life_hours=24),
        horizon=timedelta(days=1),
        profile=FLAT,
    )
    assert forecast.in_horizon == pytest.approx(500.0, rel=1e-9)  # one half-life: half of 1,000
    assert forecast.after_horizon == pytest.approx(500.0, rel=1e-6)
    assert forecast.before_start == 0.0


def test_a_later_start_reports_what_came_before_it() -> None:
    full = breach_forecast()
    later = breach_forecast(
        start=datetime(2026, 11, 26, 9, 5, tzinfo=JST), horizon=timedelta(days=1)
    )
    assert later.start == datetime(2026, 11, 26, 9, 0, tzinfo=JST)
    assert later.before_start + later.in_horizon + later.after_horizon == pytest.approx(
        full.expected_total, rel=1e-9
    )
    offset = full.interval_starts().index(later.start)
    assert later.totals() == pytest.approx(full.totals()[offset : offset + 96], rel=1e-12)


# -- the surge of the seeds: thousands of calls in hours, 7,230 at the peak ------------------


def test_breach_peak_day_carries_the_seed_articles_7230_calls() -> None:
    forecast = breach_forecast()
    peak, total = peak_day_total(forecast)
    assert peak == date(2026, 11, 24)  # day 1: the day of the announcement
    assert round(total) == 7230
    assert total == pytest.approx(forecast.expected_total * 0.35, rel=1e-12)


def test_announcement_brings_thousands_of_calls_within_hours_and_none_before() -> None:
    announced = datetime(2026, 11, 24, 15, 0, tzinfo=JST)
    forecast = breach_forecast(start=announced - timedelta(hours=2), horizon=timedelta(days=2))
    totals = forecast.totals()
    before, after = totals[:8], totals[8:]
    assert before == (0.0,) * 8
    first_three_hours = sum(after[:12])
    assert first_three_hours > 2000
    assert after[0] > 100  # the jump: the first quarter-hour already has over a hundred


def test_announcement_mid_interval_gets_only_the_rest_of_that_interval() -> None:
    on_the_quarter = forecast_surge(
        announced_at=datetime(2026, 11, 24, 15, 0, tzinfo=JST),
        affected=10_000,
        contact_rate=0.1,
        decay=ExponentialDecay(half_life_hours=100),
        horizon=timedelta(hours=1),
        profile=FLAT,
    )
    a_third_in = forecast_surge(
        announced_at=datetime(2026, 11, 24, 15, 5, tzinfo=JST),
        affected=10_000,
        contact_rate=0.1,
        decay=ExponentialDecay(half_life_hours=100),
        horizon=timedelta(hours=1),
        profile=FLAT,
    )
    assert a_third_in.start == on_the_quarter.start

    def survival(minutes: float) -> float:  # share still to come, minutes after the announcement
        return float(2 ** (-minutes / (100 * 60)))

    # 15:05 → the first interval holds 10 minutes of the curve, the next one 15.
    ratio = a_third_in.totals()[0] / a_third_in.totals()[1]
    assert ratio == pytest.approx((1 - survival(10)) / (survival(10) - survival(25)), rel=1e-9)
    assert ratio == pytest.approx(2 / 3, rel=2e-3)
    whole = on_the_quarter.totals()[0] / on_the_quarter.totals()[1]
    assert whole == pytest.approx((1 - survival(15)) / (survival(15) - survival(30)), rel=1e-9)


def test_half_life_halves_the_rate() -> None:
    forecast = forecast_surge(
        announced_at=datetime(2026, 11, 24, 0, 0, tzinfo=JST),
        affected=100_000,
        contact_rate=0.2,
        decay=ExponentialDecay(half_life_hours=6),
        horizon=timedelta(days=2),
        profile=FLAT,
    )
    totals = forecast.totals()
    for i in (0, 10, 50):
        assert totals[i] / totals[i + 24] == pytest.approx(2.0, rel=1e-9)  # 24 intervals = 6 h


# -- the curve, the profile, the channels ------------------------------------------------------


@pytest.mark.parametrize(
    ("peak_day", "share", "days"),
    [(1, 0.3, 90), (1, 0.35, 60), (2, 0.25, 45), (1, 0.45, 14), (1, 0.6, 7), (3, 0.2, 10)],
)
def test_peak_day_curve_sums_to_one_peaks_exactly_and_falls_away_on_both_sides(
    peak_day: int, share: float, days: int
) -> None:
    shares = PeakDayDecay(peak_day, share, days).day_shares()
    assert len(shares) == days
    assert math.fsum(shares) == pytest.approx(1.0, abs=1e-12)
    assert shares[peak_day - 1] == share
    assert all(a < b for a, b in itertools.pairwise(shares[:peak_day]))
    assert all(a > b for a, b in itertools.pairwise(shares[peak_day - 1 :]))


def test_default_profile_is_quiet_at_night_and_peaks_at_ten_and_fourteen() -> None:
    forecast = forecast_surge(
        announced_at=datetime(2026, 11, 24, 0, 0, tzinfo=JST),
        affected=1_000_000,
        contact_rate=0.1,
        decay=PeakDayDecay(peak_day=2, peak_day_share=0.5, duration_days=3),
        horizon=timedelta(days=3),
    )
    day2 = forecast.totals()[96:192]
    hourly = [sum(day2[h * 4 : h * 4 + 4]) for h in range(24)]
    peaks = [h for h in range(1, 23) if hourly[h - 1] < hourly[h] > hourly[h + 1]]
    assert 10 in peaks and 14 in peaks
    assert max(hourly) == hourly[10]
    assert hourly[3] < 0.05 * hourly[10]


def test_weekday_and_holiday_weights_shape_an_exponential_curve() -> None:
    holiday = date(2026, 11, 23)  # 勤労感謝の日 (a Monday)
    profile = ArrivalProfile(
        hourly=(1.0,) * 24,
        weekday=(1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5),
        holidays=frozenset({holiday}),
    )
    assert profile.day_weight(holiday) == 0.5
    forecast = forecast_surge(
        announced_at=datetime(2026, 11, 22, 23, 0, tzinfo=JST),  # Sunday 23:00
        affected=10_000,
        contact_rate=0.1,
        decay=ExponentialDecay(half_life_hours=2000),
        horizon=timedelta(days=3),
        profile=profile,
    )
    totals = forecast.totals()
    # Sunday 23:45 and Monday (holiday) 00:00 weigh the same; Tuesday 00:00 weighs twice that.
    assert totals[3] == pytest.approx(totals[4], rel=1e-3)
    assert totals[4 + 96] == pytest.approx(2 * totals[4], rel=2e-2)


def test_channel_mix_splits_every_interval() -> None:
    mix = ChannelMix(phone=0.5, email=0.1, web_form=0.2, chat=0.1, sns=0.1)
    forecast = breach_forecast(channel_mix=mix, horizon=timedelta(days=1))
    for i in (0, 20, 60):
        total = forecast.totals()[i]
        assert forecast.channel("phone")[i] == pytest.approx(0.5 * total)
        assert forecast.channel("web_form")[i] == pytest.approx(0.2 * total)
    with pytest.raises(ForecastError, match="fax"):
        forecast.channel("fax")


def test_deflection_by_source_is_reported_and_taken_off() -> None:
    forecast = breach_forecast(deflection={"notice_page": 0.2, "faq": 0.1, "serial_check": 0.05})
    assert forecast.deflection_share == pytest.approx(0.35)
    assert forecast.deflected_by_source["faq"] == pytest.approx(BREACH_AFFECTED * 0.08 * 0.1)
    assert forecast.expected_total == pytest.approx(BREACH_AFFECTED * 0.08 * 0.65)


def test_intervals_are_jst_quarter_hours_whatever_the_input_zone() -> None:
    forecast = breach_forecast(
        announced_at=datetime(2026, 11, 24, 6, 7, tzinfo=UTC), horizon=timedelta(hours=2)
    )
    starts = forecast.interval_starts()
    assert starts[0] == datetime(2026, 11, 24, 15, 0, tzinfo=JST)
    assert all(s.utcoffset() == timedelta(hours=9) and s.minute % 15 == 0 for s in starts)
    assert forecast.intervals == 8


def test_to_dict_is_json_ready() -> None:
    data = breach_forecast(horizon=timedelta(hours=1)).to_dict()
    assert set(data["by_channel"]) == set(CHANNELS)
    assert data["interval_starts"][0] == "2026-11-24T15:00:00+09:00"
    assert len(data["by_channel"]["phone"]) == 4


# -- rounding and errors -----------------------------------------------------------------------


def test_round_preserving_total_keeps_the_sum_and_stays_within_one() -> None:
    values = [0.4, 0.4, 0.4, 2.6, 10.2, 0.0]
    whole = round_preserving_total(values)
    assert sum(whole) == round(sum(values)) == 14
    assert all(abs(w - v) < 1 for w, v in zip(whole, values, strict=True))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"announced_at": datetime(2026, 11, 24, 15, 0)}, "announced_at"),
        ({"affected": -1}, "affected"),
        ({"contact_rate": 0.0}, "contact_rate"),
        ({"horizon": timedelta(0)}, "horizon"),
        ({"deflection": 1.0}, "deflection"),
        ({"deflection": {"faq": 0.6, "notice_page": 0.5}}, "sum to less than 1"),
    ],
)
def test_bad_input_names_the_parameter(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ForecastError, match=message):
        breach_forecast(**overrides)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"peak_day": 1, "peak_day_share": 0.01, "duration_days": 30}, "even spread"),
        ({"peak_day": 31, "peak_day_share": 0.5, "duration_days": 30}, "peak_day"),
        ({"peak_day": 1, "peak_day_share": 0.0, "duration_days": 30}, "peak_day_share"),
    ],
)
def test_impossible_peak_day_curves_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ForecastError, match=message):
        PeakDayDecay(**kwargs)  # type: ignore[arg-type]


def test_channel_mix_must_sum_to_one() -> None:
    with pytest.raises(ForecastError, match="channel_mix: shares must sum to 1"):
        ChannelMix(phone=0.9)
    with pytest.raises(ForecastError, match=r"channel_mix\.sns"):
        ChannelMix(phone=0.9, email=0.0, web_form=0.0, chat=0.2, sns=-0.1)


def test_profiles_refuse_missing_or_zero_weights() -> None:
    with pytest.raises(ForecastError, match="hourly"):
        ArrivalProfile(hourly=(1.0,) * 23)
    with pytest.raises(ForecastError, match=r"weekday\[6\]"):
        ArrivalProfile(weekday=(1.0,) * 6 + (0.0,))
