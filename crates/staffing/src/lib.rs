//! Staffing maths for the contact center: how many seats a service level needs.
//!
//! Pure and sans-IO like the rest of the core: numbers in, numbers out, no clock (the
//! caller says which day is "today"), no database. The store measures; this crate plans.
//!
//! # Layout
//! - `load`: the checked inputs, [`Load`] (calls per hour, AHT) and [`Goal`] (80 % in 20 s).
//! - `erlang`: Erlang B and C, service level, ASA, occupancy, and [`agents_for`], the
//!   fewest agents that reach a goal.
//! - `week`: [`typical_week`] folds measured half-hours into local weekday × 30-minute
//!   intervals, averages them over whole weeks ([`Window`]) and staffs every interval.
//!
//! # Example
//! ```
//! use madoguchi_staffing::{agents_for, Goal, Load};
//!
//! // 100 calls per half-hour, 3 minutes each, 80 % answered within 20 s.
//! let load = Load::new(200.0, 180.0).unwrap();
//! let staffing = agents_for(load, Goal::new(0.8, 20.0).unwrap()).unwrap();
//! assert_eq!(staffing.agents, 14);
//! assert!((staffing.occupancy - 10.0 / 14.0).abs() < 1e-12);
//! ```

mod erlang;
mod error;
mod load;
mod week;

pub use erlang::{agents_for, erlang_b, evaluate, wait_probability, Staffing};
pub use error::StaffingError;
pub use load::{Goal, Load, MAX_ERLANGS};
pub use week::{
    typical_week, DayPlan, IntervalPlan, MeasuredHalfHour, PlanSettings, WeekPlan, Window,
    INTERVALS_PER_DAY, MAX_WEEKS, MIN_HANDLED_FOR_OWN_AHT,
};
