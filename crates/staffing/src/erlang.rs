//! Erlang C: the M/M/N queue behind call-center staffing.
//!
//! Calls arrive at random (Poisson) at `λ` per hour; each keeps an agent for a handling
//! time with mean `AHT` (talk + wrap-up), exponentially distributed; callers wait as long
//! as it takes and are answered in order. The offered traffic is `A = λ·AHT` erlangs, and
//! with `N > A` agents:
//!
//! - probability of waiting `C = N·B / (N − A·(1 − B))`, where `B` is Erlang B from the
//!   recursion `B(0) = 1`, `B(n) = A·B(n−1) / (n + A·B(n−1))`. No factorial or power of `A`
//!   is ever formed, so every step stays within 0..=1 and the result is accurate for
//!   thousands of erlangs, where `A^N / N!` overflows an f64;
//! - service level `SL(t) = 1 − C·e^(−(N − A)·t / AHT)`: the share answered within `t`;
//! - average speed of answer `ASA = C·AHT / (N − A)`, over all calls;
//! - occupancy `A / N`.
//!
//! With `N ≤ A` the agents cannot keep up and the queue grows without bound
//! ([`StaffingError::Unstable`]). The model ignores abandons (callers who give up make
//! the real queue shorter), so it errs on the side of more seats.

use crate::error::StaffingError;
use crate::load::{check_threshold, Goal, Load};

/// What a number of agents gives for a load.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Staffing {
    pub agents: u32,
    /// Offered traffic, erlangs.
    pub erlangs: f64,
    /// Share of callers who wait at all, 0–1.
    pub wait_probability: f64,
    /// Share of callers answered within the threshold, 0–1.
    pub service_level: f64,
    /// Average speed of answer over all calls (those answered at once count 0), seconds.
    pub asa_s: f64,
    /// Share of the agents' time spent handling calls, 0–1.
    pub occupancy: f64,
}

impl Staffing {
    /// No calls offered: no agent needed, nobody waits.
    pub fn idle() -> Staffing {
        Staffing {
            agents: 0,
            erlangs: 0.0,
            wait_probability: 0.0,
            service_level: 1.0,
            asa_s: 0.0,
            occupancy: 0.0,
        }
    }

    /// The measures of `agents` (> `erlangs`) given `erlang_b = B(agents, erlangs)`.
    fn from_erlang_b(agents: u32, erlang_b: f64, load: Load, threshold_s: f64) -> Staffing {
        let n = f64::from(agents);
        let a = load.erlangs();
        let spare = n - a;
        let wait_probability = n * erlang_b / (n - a * (1.0 - erlang_b));
        Staffing {
            agents,
            erlangs: a,
            wait_probability,
            service_level: 1.0 - wait_probability * (-spare * threshold_s / load.aht_s()).exp(),
            asa_s: wait_probability * load.aht_s() / spare,
            occupancy: a / n,
        }
    }
}

/// Erlang B: the share of calls a loss system of `servers` lines refuses at `erlangs`.
pub fn erlang_b(servers: u32, erlangs: f64) -> f64 {
    (1..=servers).fold(1.0, |b, n| erlangs * b / (f64::from(n) + erlangs * b))
}

/// Erlang C: the share of callers who wait when `agents` take `erlangs` of traffic; 1 when
/// the agents cannot keep up (`agents ≤ erlangs`), 0 when no traffic is offered.
pub fn wait_probability(agents: u32, erlangs: f64) -> f64 {
    let n = f64::from(agents);
    if erlangs <= 0.0 {
        0.0
    } else if n <= erlangs {
        1.0
    } else {
        let b = erlang_b(agents, erlangs);
        n * b / (n - erlangs * (1.0 - b))
    }
}

/// What `agents` give for `load`, with the service level counted within `threshold_s`.
/// Fails when they cannot keep up ([`StaffingError::Unstable`]).
pub fn evaluate(load: Load, agents: u32, threshold_s: f64) -> Result<Staffing, StaffingError> {
    check_threshold(threshold_s)?;
    let a = load.erlangs();
    if a == 0.0 {
        return Ok(Staffing {
            agents,
            ..Staffing::idle()
        });
    }
    if f64::from(agents) <= a {
        return Err(StaffingError::Unstable { agents, erlangs: a });
    }
    let b = erlang_b(agents, a);
    Ok(Staffing::from_erlang_b(agents, b, load, threshold_s))
}

/// The fewest agents whose service level reaches the goal, with what they give. No
/// traffic needs no agent.
pub fn agents_for(load: Load, goal: Goal) -> Result<Staffing, StaffingError> {
    let a = load.erlangs();
    if a == 0.0 {
        return Ok(Staffing::idle());
    }
    // Far past any answer: the Erlang B tail beyond A + 50·√A underflows to 0, where the
    // service level is exactly 1. The loop stops here only if floating point misbehaves.
    let limit = (a + 50.0 * a.sqrt() + 50.0).ceil() as u32;
    // One pass of the Erlang B recursion serves every candidate N in turn.
    let mut b = 1.0;
    for agents in 1..=limit {
        b = a * b / (f64::from(agents) + a * b);
        if f64::from(agents) <= a {
            continue;
        }
        let staffing = Staffing::from_erlang_b(agents, b, load, goal.threshold_s());
        if staffing.service_level >= goal.target() {
            return Ok(staffing);
        }
    }
    Err(StaffingError::Unreachable(limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(calls_per_hour: f64, aht_s: f64) -> Load {
        Load::new(calls_per_hour, aht_s).expect("valid load")
    }

    #[test]
    fn erlang_b_of_one_line_is_a_over_one_plus_a() {
        // B(1, A) = A / (1 + A).
        assert!((erlang_b(1, 3.0) - 0.75).abs() < 1e-15);
    }

    #[test]
    fn erlang_b_with_no_lines_refuses_everything() {
        assert_eq!(erlang_b(0, 2.5), 1.0);
    }

    #[test]
    fn one_agent_waits_with_probability_equal_to_the_traffic() {
        // M/M/1: C(1, A) = A.
        assert!((wait_probability(1, 0.5) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn seats_at_or_below_the_traffic_make_everyone_wait() {
        assert_eq!(wait_probability(10, 10.0), 1.0);
        assert_eq!(wait_probability(9, 10.0), 1.0);
    }

    #[test]
    fn seats_at_or_below_the_traffic_are_unstable() {
        assert_eq!(
            evaluate(load(200.0, 180.0), 10, 20.0),
            Err(StaffingError::Unstable {
                agents: 10,
                erlangs: 10.0
            })
        );
        assert!(matches!(
            evaluate(load(200.0, 180.0), 0, 20.0),
            Err(StaffingError::Unstable { agents: 0, .. })
        ));
    }

    #[test]
    fn zero_calls_need_no_agent_and_nobody_waits() {
        let staffing = agents_for(load(0.0, 300.0), Goal::DEFAULT).expect("idle");
        assert_eq!(staffing, Staffing::idle());
        assert_eq!(wait_probability(0, 0.0), 0.0);
    }

    #[test]
    fn zero_calls_with_agents_leave_them_unoccupied() {
        let staffing = evaluate(load(0.0, 300.0), 3, 20.0).expect("idle");
        assert_eq!((staffing.agents, staffing.occupancy), (3, 0.0));
        assert_eq!(staffing.service_level, 1.0);
    }

    #[test]
    fn a_tiny_load_needs_one_agent() {
        // 1 call an hour of 60 s: C(1, 1/60) = 1/60, SL(20 s) = 1 − (1/60)·e^(−59/180).
        let staffing = agents_for(load(1.0, 60.0), Goal::DEFAULT).expect("solvable");
        assert_eq!(staffing.agents, 1);
        let expected = 1.0 - (1.0 / 60.0) * (-(59.0 / 60.0) * 20.0 / 60.0_f64).exp();
        assert!((staffing.service_level - expected).abs() < 1e-12);
    }

    #[test]
    fn the_minimum_is_minimal_one_agent_fewer_misses_the_goal() {
        let load = load(200.0, 180.0);
        let goal = Goal::new(0.8, 20.0).expect("goal");
        let staffing = agents_for(load, goal).expect("solvable");
        assert!(staffing.service_level >= 0.8);
        let fewer = evaluate(load, staffing.agents - 1, 20.0).expect("still stable");
        assert!(fewer.service_level < 0.8);
    }

    #[test]
    fn a_longer_threshold_never_needs_more_agents() {
        let load = load(600.0, 240.0);
        let mut previous = u32::MAX;
        for threshold in [0.0, 10.0, 20.0, 60.0, 300.0] {
            let goal = Goal::new(0.8, threshold).expect("goal");
            let agents = agents_for(load, goal).expect("solvable").agents;
            assert!(agents <= previous, "{threshold} s: {agents} > {previous}");
            previous = agents;
        }
    }

    #[test]
    fn a_target_just_below_one_is_still_reached() {
        let goal = Goal::new(1.0 - f64::EPSILON, 0.0).expect("goal");
        let staffing = agents_for(load(3600.0, 3600.0), goal).expect("solvable");
        assert!(staffing.service_level >= goal.target());
    }

    #[test]
    fn a_negative_threshold_is_refused_when_evaluating() {
        assert_eq!(
            evaluate(load(10.0, 60.0), 2, -3.0),
            Err(StaffingError::Threshold(-3.0))
        );
    }
}
