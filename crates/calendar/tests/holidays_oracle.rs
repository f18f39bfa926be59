//! Checks the computed national holidays against the Cabinet Office list (syukujitsu.csv,
//! 1955–2027), which lives in `shared/data` beside the repository clone and is never read by the
//! crate itself.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::NaiveDate;
use madoguchi_calendar::{holiday_on, holidays_in_year};

const FIRST_YEAR: i32 = 1955;
const LAST_YEAR: i32 = 2027;

fn oracle_path() -> PathBuf {
    // crates/calendar → <clone> → its parent, where shared/ sits.
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/syukujitsu.csv")
}

fn parse_oracle(text: &str) -> BTreeSet<(NaiveDate, String)> {
    text.lines()
        .skip(1)
        .map(|line| line.trim_start_matches('\u{feff}').trim_end_matches('\r'))
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (date, name) = line.split_once(',').expect("every oracle line has a comma");
            let date = NaiveDate::parse_from_str(date, "%Y/%m/%d")
                .unwrap_or_else(|e| panic!("bad oracle date {date:?}: {e}"));
            (date, name.to_owned())
        })
        .collect()
}

fn computed(years: std::ops::RangeInclusive<i32>) -> BTreeSet<(NaiveDate, String)> {
    years
        .flat_map(holidays_in_year)
        .map(|h| (h.date, h.name.to_owned()))
        .collect()
}

#[test]
fn computed_holidays_equal_the_cabinet_office_list_1955_to_2027() {
    let path = oracle_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading the oracle {}: {e}", path.display()));
    let oracle = parse_oracle(&text);
    assert!(oracle.len() > 1000, "the oracle looks truncated");
    let ours = computed(FIRST_YEAR..=LAST_YEAR);

    let mut mismatches = Vec::new();
    for (date, name) in oracle.difference(&ours) {
        mismatches.push(format!(
            "missing or misnamed: {date} {name} (computed: {:?})",
            holiday_on(*date)
        ));
    }
    for (date, name) in ours.difference(&oracle) {
        mismatches.push(format!("not in the list:     {date} {name}"));
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn holiday_on_agrees_with_holidays_in_year_every_day_1955_to_2027() {
    let mut day = NaiveDate::from_ymd_opt(FIRST_YEAR, 1, 1).unwrap();
    let end = NaiveDate::from_ymd_opt(LAST_YEAR, 12, 31).unwrap();
    let listed = computed(FIRST_YEAR..=LAST_YEAR);
    while day <= end {
        let expected = listed
            .iter()
            .find(|(d, _)| *d == day)
            .map(|(_, n)| n.as_str());
        assert_eq!(holiday_on(day), expected, "{day}");
        day = day.succ_opt().unwrap();
    }
}

#[test]
fn holidays_in_year_is_sorted_and_unique() {
    for year in 1948..=2150 {
        let list = holidays_in_year(year);
        assert!(list.windows(2).all(|w| w[0].date < w[1].date), "{year}");
    }
}
