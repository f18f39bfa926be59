//! `madoguchi staffing`: Erlang C for one load, from the command line — and the answer's
//! shape, which `GET /api/v1/staffing/erlang` shares (`web::staffing`).
//!
//! ```text
//! $ madoguchi staffing --calls-per-hour 200 --aht 180 --target 0.8 --threshold 20
//! 14 agents answer 80 % of calls within 20 s
//!   offered traffic          10.00 erlangs (200 calls/h × 180 s)
//!   service level            88.8 % within 20 s
//!   average speed of answer  7.8 s
//!   occupancy                71.4 %
//!   probability of waiting   17.4 %
//! ```
//!
//! With `--json` the same as one object: `agents`, `service_level`, `asa_s`, `occupancy`,
//! `wait_probability`, `traffic_erlangs` and the inputs. Inputs out of range are refused by
//! the argument parser (exit 2) with the staffing crate's own message.

use std::process::ExitCode;

use clap::Args;
use madoguchi_staffing::{agents_for, Goal, Load, Staffing, StaffingError};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Args)]
pub struct StaffingArgs {
    /// Calls offered per hour.
    #[arg(long, value_parser = calls_per_hour, allow_negative_numbers = true)]
    pub calls_per_hour: f64,
    /// Average handling time per call in seconds: talk, hold and wrap-up.
    #[arg(long, value_parser = handling_time, allow_negative_numbers = true)]
    pub aht: f64,
    /// Share of calls to answer within the threshold, between 0 and 1 (0.8 for 80 %).
    #[arg(
        long,
        default_value_t = Goal::DEFAULT.target(),
        value_parser = target,
        allow_negative_numbers = true
    )]
    pub target: f64,
    /// The service level's answer threshold, seconds.
    #[arg(
        long,
        default_value_t = Goal::DEFAULT.threshold_s(),
        value_parser = threshold,
        allow_negative_numbers = true
    )]
    pub threshold: f64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The fewest agents for a load and goal, and what they give.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ErlangAnswer {
    /// The fewest agents (seats staffed) that meet the goal; 0 when no call is offered.
    pub agents: u32,
    /// Share of calls answered within `threshold_s` with that many agents, 0–1.
    pub service_level: f64,
    /// Average speed of answer over all calls, seconds.
    pub asa_s: f64,
    /// Share of the agents' time spent on calls, 0–1.
    pub occupancy: f64,
    /// Share of callers who wait at all, 0–1.
    pub wait_probability: f64,
    /// Offered traffic: calls per hour × AHT / 3600.
    pub traffic_erlangs: f64,
    pub calls_per_hour: f64,
    pub aht_s: f64,
    pub target: f64,
    pub threshold_s: f64,
}

impl ErlangAnswer {
    /// Erlang C for `load` and `goal`.
    pub fn compute(load: Load, goal: Goal) -> Result<ErlangAnswer, StaffingError> {
        let staffing: Staffing = agents_for(load, goal)?;
        Ok(ErlangAnswer {
            agents: staffing.agents,
            service_level: staffing.service_level,
            asa_s: staffing.asa_s,
            occupancy: staffing.occupancy,
            wait_probability: staffing.wait_probability,
            traffic_erlangs: load.erlangs(),
            calls_per_hour: load.calls_per_hour(),
            aht_s: load.aht_s(),
            target: goal.target(),
            threshold_s: goal.threshold_s(),
        })
    }
}

impl std::fmt::Display for ErlangAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let percent = |share: f64| format!("{:.1} %", share * 100.0);
        writeln!(
            f,
            "{} agents answer {} of calls within {} s",
            self.agents,
            trim(self.target * 100.0) + " %",
            trim(self.threshold_s)
        )?;
        writeln!(
            f,
            "  offered traffic          {:.2} erlangs ({} calls/h × {} s)",
            self.traffic_erlangs,
            trim(self.calls_per_hour),
            trim(self.aht_s)
        )?;
        writeln!(
            f,
            "  service level            {} within {} s",
            percent(self.service_level),
            trim(self.threshold_s)
        )?;
        writeln!(f, "  average speed of answer  {:.1} s", self.asa_s)?;
        writeln!(f, "  occupancy                {}", percent(self.occupancy))?;
        writeln!(
            f,
            "  probability of waiting   {}",
            percent(self.wait_probability)
        )
    }
}

/// A number as typed: no trailing zeros (`200`, `0.5`, `12.25`).
fn trim(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

pub fn run(args: &StaffingArgs) -> ExitCode {
    let answer = Load::new(args.calls_per_hour, args.aht)
        .and_then(|load| Ok((load, Goal::new(args.target, args.threshold)?)))
        .and_then(|(load, goal)| ErlangAnswer::compute(load, goal));
    let answer = match answer {
        Ok(answer) => answer,
        Err(error) => {
            eprintln!("madoguchi: {error}");
            return ExitCode::FAILURE;
        }
    };
    if args.json {
        match serde_json::to_string_pretty(&answer) {
            Ok(text) => println!("{text}"),
            Err(error) => {
                eprintln!("madoguchi: {error}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{answer}");
    }
    ExitCode::SUCCESS
}

fn number(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .map_err(|_| format!("{text:?} is not a number"))
}

fn calls_per_hour(text: &str) -> Result<f64, String> {
    let value = number(text)?;
    // The smallest handling time checks the count alone; the traffic limit needs both
    // flags and is checked in `run`.
    Load::new(value, f64::MIN_POSITIVE).map_err(|e| e.to_string())?;
    Ok(value)
}

fn handling_time(text: &str) -> Result<f64, String> {
    let value = number(text)?;
    Load::new(0.0, value).map_err(|e| e.to_string())?;
    Ok(value)
}

fn target(text: &str) -> Result<f64, String> {
    let value = number(text)?;
    Goal::new(value, 0.0).map_err(|e| e.to_string())?;
    Ok(value)
}

fn threshold(text: &str) -> Result<f64, String> {
    let value = number(text)?;
    Goal::new(Goal::DEFAULT.target(), value).map_err(|e| e.to_string())?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_typed() {
        assert_eq!(trim(200.0), "200");
        assert_eq!(trim(0.5), "0.5");
        assert_eq!(trim(12.25), "12.25");
    }

    #[test]
    fn a_target_given_in_percent_is_refused_with_the_reason() {
        let message = target("80").expect_err("80 is not a fraction");
        assert!(message.contains("between 0 and 1"), "{message}");
    }

    #[test]
    fn text_output_names_agents_and_every_measure() {
        let load = Load::new(200.0, 180.0).expect("load");
        let answer = ErlangAnswer::compute(load, Goal::DEFAULT).expect("answer");
        let text = answer.to_string();
        assert!(
            text.starts_with("14 agents answer 80 % of calls within 20 s\n"),
            "{text}"
        );
        for expected in ["10.00 erlangs", "88.8 %", "7.8 s", "71.4 %", "17.4 %"] {
            assert!(text.contains(expected), "{expected} missing in {text}");
        }
    }
}
