"""hikeshi.workforce: capacity and people for a surge, as a pure library.

No web, database or other hikeshi imports (``hikeshi.clock`` excepted). Queueing core:

* :mod:`~hikeshi.workforce.erlang`: Erlang C metrics and required agents, shared types;
* :mod:`~hikeshi.workforce.erlang_a`: Erlang A (M/M/n+M, abandonment with patience);
* :mod:`~hikeshi.workforce.staffing`: both, per interval over a whole plan;
* :mod:`~hikeshi.workforce.simulation`: discrete-event check of a plan (time-varying
  arrivals, abandonment, retrials);
* :mod:`~hikeshi.workforce.forecast`: contacts per 15-minute interval and channel after an
  announcement (peak-day or half-life decay, day/hour profile, self-service deflection);
* :mod:`~hikeshi.workforce.roster`: 24-hour shifts with breaks for own and BPO staff covering
  the requirement, with the coverage gap and a lower bound on overstaffing;
* :mod:`~hikeshi.workforce.plan`: forecast → required agents → roster → simulation check;
* :mod:`~hikeshi.workforce.wellbeing`: harassment exposure and care recommendations;
  :mod:`~hikeshi.workforce.stress_check` (imported explicitly: answers are for one role only).

Times are seconds, load is in Erlangs, shares are fractions in [0, 1].
"""

from hikeshi.workforce.erlang import (
    Constraint,
    ErlangError,
    QueueMetrics,
    ServiceTarget,
    StaffingRequirement,
    TargetUnreachable,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
    erlang_c_required_agents,
    offered_load,
    scheduled_agents,
)
from hikeshi.workforce.erlang_a import erlang_a_metrics, erlang_a_required_agents

# Forecast, roster, wellbeing rules and plans (stress_check is imported explicitly by the
# one role that may read answers; it is deliberately not re-exported here).
from hikeshi.workforce.forecast import (
    JP_CONSUMER_PROFILE,
    ArrivalProfile,
    ChannelMix,
    DecayCurve,
    ExponentialDecay,
    ForecastError,
    PeakDayDecay,
    SurgeForecast,
    forecast_surge,
    peak_day_total,
    round_preserving_total,
)
from hikeshi.workforce.plan import (
    ActualVsPlanRow,
    ErlangModel,
    PlanError,
    PlanInterval,
    SimulationCheck,
    StaffingAssumptions,
    StaffingModel,
    StaffingPlan,
    actual_vs_plan,
    build_plan,
    queue_model,
)
from hikeshi.workforce.roster import (
    BreakRule,
    BreakSlot,
    Roster,
    RosterError,
    ShiftAssignment,
    ShiftPattern,
    build_roster,
    default_patterns,
)
from hikeshi.workforce.simulation import (
    Duration,
    Exponential,
    Fixed,
    IntervalOutcome,
    LogNormal,
    Retrial,
    SimulationError,
    SimulationResult,
    SurgeModel,
    Tally,
    simulate,
)
from hikeshi.workforce.staffing import metrics_per_interval, required_agents_per_interval
from hikeshi.workforce.wellbeing import (
    BreakRecord,
    CallRecord,
    CareBoard,
    Evidence,
    Exposure,
    FlagRecord,
    OperatorCare,
    Recommendation,
    WellbeingError,
    WellbeingPolicy,
    care_board,
    exposure,
    flag_severity,
    recommendations,
)

__all__ = [
    "JP_CONSUMER_PROFILE",
    "ActualVsPlanRow",
    "ArrivalProfile",
    "BreakRecord",
    "BreakRule",
    "BreakSlot",
    "CallRecord",
    "CareBoard",
    "ChannelMix",
    "Constraint",
    "DecayCurve",
    "Duration",
    "ErlangError",
    "ErlangModel",
    "Evidence",
    "Exponential",
    "ExponentialDecay",
    "Exposure",
    "Fixed",
    "FlagRecord",
    "ForecastError",
    "IntervalOutcome",
    "LogNormal",
    "OperatorCare",
    "PeakDayDecay",
    "PlanError",
    "PlanInterval",
    "QueueMetrics",
    "Recommendation",
    "Retrial",
    "Roster",
    "RosterError",
    "ServiceTarget",
    "ShiftAssignment",
    "ShiftPattern",
    "SimulationCheck",
    "SimulationError",
    "SimulationResult",
    "StaffingAssumptions",
    "StaffingModel",
    "StaffingPlan",
    "StaffingRequirement",
    "SurgeForecast",
    "SurgeModel",
    "Tally",
    "TargetUnreachable",
    "WellbeingError",
    "WellbeingPolicy",
    "actual_vs_plan",
    "build_plan",
    "build_roster",
    "care_board",
    "default_patterns",
    "erlang_a_metrics",
    "erlang_a_required_agents",
    "erlang_b",
    "erlang_c",
    "erlang_c_metrics",
    "erlang_c_required_agents",
    "exposure",
    "flag_severity",
    "forecast_surge",
    "metrics_per_interval",
    "offered_load",
    "peak_day_total",
    "queue_model",
    "recommendations",
    "required_agents_per_interval",
    "round_preserving_total",
    "scheduled_agents",
    "simulate",
]
