//! Erlang C checked against worked examples and independently computed table values.
//!
//! The cases are the classic worked examples of the staffing literature:
//! - Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example"
//!   (callcentrehelper.com): 100 calls in 30 minutes, AHT 180 s, 80 % in 20 s → 10 erlangs,
//!   14 agents;
//! - Westbay Engineers, "The Erlang-C formula" (erlang.com): 360 calls per half-hour,
//!   4-minute calls, 55 agents, 15-second target → 48 erlangs;
//! - and, for numerical stability, loads of 1,000 and 5,000 erlangs, where `A^N / N!`
//!   overflows a 64-bit float and the textbook formula cannot be evaluated directly.
//!
//! Every expected value was recomputed for this file, not copied, from the textbook
//! factorial formula in exact rational arithmetic (Python's `fractions`), so the check is
//! independent of the Erlang B recursion the crate uses:
//!
//! ```text
//! from fractions import Fraction as F
//! from math import exp
//! def C(N, A):                      # sum_{k<N} A^k/k! and A^N/N!, exactly
//!     A = F(A); term = F(1); s = F(0)
//!     for k in range(N):
//!         s += term; term = term * A / (k + 1)
//!     top = term * N / (N - A)
//!     return top / (s + top)
//! def SL(N, A, aht, t): return 1 - float(C(N, A)) * exp(-(N - float(A)) * t / aht)
//! def ASA(N, A, aht): return float(C(N, A)) * aht / (N - float(A))
//! ```

use madoguchi_staffing::{agents_for, evaluate, wait_probability, Goal, Load};

fn close(actual: f64, expected: f64, tolerance: f64) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{actual} differs from {expected} by more than {tolerance}"
    );
}

fn load(calls_per_hour: f64, aht_s: f64) -> Load {
    Load::new(calls_per_hour, aht_s).expect("valid load")
}

/// 100 calls per 30 minutes at 180 s: A = 10 erlangs. (N, C(N, 10), SL(20 s)).
const TEN_ERLANGS: [(u32, f64, f64); 5] = [
    (11, 0.682_118_204_689_332_4, 0.389_613_811_729_153_3),
    (12, 0.449_388_224_298_270_86, 0.640_158_040_374_006_6),
    (13, 0.285_270_453_036_492_95, 0.795_594_788_417_783_1),
    (14, 0.174_131_933_595_049_83, 0.888_350_019_179_466_9),
    (15, 0.102_042_367_007_988_01, 0.941_452_842_869_022_3),
];

#[test]
fn wait_probability_at_ten_erlangs_matches_the_table() {
    for (agents, c, _) in TEN_ERLANGS {
        close(wait_probability(agents, 10.0), c, 1e-13);
    }
}

#[test]
fn service_level_at_ten_erlangs_matches_the_table() {
    for (agents, _, sl) in TEN_ERLANGS {
        let staffing = evaluate(load(200.0, 180.0), agents, 20.0).expect("stable");
        close(staffing.service_level, sl, 1e-13);
    }
}

#[test]
fn the_worked_example_needs_14_agents_for_80_percent_in_20_seconds() {
    // 13 agents reach only 79.6 %; 14 give 88.8 %, ASA 7.84 s, occupancy 71.4 %.
    let staffing =
        agents_for(load(200.0, 180.0), Goal::new(0.8, 20.0).expect("goal")).expect("solvable");
    assert_eq!(staffing.agents, 14);
    close(staffing.erlangs, 10.0, 1e-12);
    close(staffing.wait_probability, 0.174_131_933_595_049_83, 1e-13);
    close(staffing.service_level, 0.888_350_019_179_466_9, 1e-13);
    close(staffing.asa_s, 7.835_937_011_777_243, 1e-11);
    close(staffing.occupancy, 10.0 / 14.0, 1e-15);
}

#[test]
fn the_westbay_example_of_48_erlangs_on_55_agents() {
    // 360 calls per half-hour of 240 s on 55 agents, answered within 15 s.
    let staffing = evaluate(load(720.0, 240.0), 55, 15.0).expect("stable");
    close(staffing.erlangs, 48.0, 1e-12);
    close(staffing.wait_probability, 0.238_700_936_378_009_2, 1e-13);
    close(staffing.service_level, 0.845_883_092_170_580_3, 1e-13);
    close(staffing.asa_s, 8.184_032_104_388_887, 1e-11);
    close(staffing.occupancy, 48.0 / 55.0, 1e-15);
}

#[test]
fn a_thousand_erlangs_stay_accurate() {
    // 12,000 calls an hour of 300 s; 1,015 agents are the fewest for 80 % in 20 s.
    let staffing =
        agents_for(load(12_000.0, 300.0), Goal::new(0.8, 20.0).expect("goal")).expect("solvable");
    assert_eq!(staffing.agents, 1015);
    close(staffing.wait_probability, 0.527_625_354_643_920_5, 1e-10);
    close(staffing.service_level, 0.805_897_479_385_710_4, 1e-10);
    close(staffing.asa_s, 10.552_507_092_878_41, 1e-8);
}

#[test]
fn five_thousand_erlangs_stay_accurate() {
    // 75,000 calls an hour of 240 s on 5,040 agents.
    let staffing = evaluate(load(75_000.0, 240.0), 5040, 20.0).expect("stable");
    close(staffing.wait_probability, 0.458_686_995_349_261_44, 1e-9);
    close(staffing.service_level, 0.983_636_803_179_439_2, 1e-9);
}
