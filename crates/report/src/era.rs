//! The Japanese era (和暦) of a date, as the city's documents write it: 令和7年6月,
//! 令和元年5月1日.
//!
//! 令和 began on 2019-05-01 and 平成 on 1989-01-08; earlier dates are written in the Western
//! calendar (a report never reaches back that far). The first year of an era is 元年.
//!
//! ```
//! use chrono::NaiveDate;
//! use madoguchi_report::era::{era_year_month, era_date};
//! let june = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
//! assert_eq!(era_year_month(june), "令和7年6月");
//! assert_eq!(era_date(NaiveDate::from_ymd_opt(2019, 4, 30).unwrap()), "平成31年4月30日");
//! ```

use chrono::{Datelike, NaiveDate};

/// The eras this module knows, newest first: name and first day.
const ERAS: [(&str, (i32, u32, u32)); 2] = [("令和", (2019, 5, 1)), ("平成", (1989, 1, 8))];

/// The era name and the year within it ("令和", 7), or `None` before 平成.
pub fn era_year(date: NaiveDate) -> Option<(&'static str, i32)> {
    ERAS.iter().find_map(|&(name, (y, m, d))| {
        let first = NaiveDate::from_ymd_opt(y, m, d)?;
        (date >= first).then(|| (name, date.year() - y + 1))
    })
}

/// "令和7年" / "令和元年"; "1988年" before 平成.
fn year_text(date: NaiveDate) -> String {
    match era_year(date) {
        Some((era, 1)) => format!("{era}元年"),
        Some((era, year)) => format!("{era}{year}年"),
        None => format!("{}年", date.year()),
    }
}

/// The year and month of `date` in the era: "令和7年6月".
pub fn era_year_month(date: NaiveDate) -> String {
    format!("{}{}月", year_text(date), date.month())
}

/// `date` in the era: "令和7年6月1日".
pub fn era_date(date: NaiveDate) -> String {
    format!("{}{}月{}日", year_text(date), date.month(), date.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    #[test]
    fn the_contract_months_are_reiwa_7_and_8() {
        assert_eq!(era_year_month(date(2025, 6, 1)), "令和7年6月");
        assert_eq!(era_year_month(date(2025, 12, 31)), "令和7年12月");
        assert_eq!(era_year_month(date(2026, 3, 31)), "令和8年3月");
    }

    #[test]
    fn reiwa_begins_on_1_may_2019_as_its_first_year() {
        assert_eq!(era_date(date(2019, 5, 1)), "令和元年5月1日");
        assert_eq!(era_date(date(2019, 12, 31)), "令和元年12月31日");
        assert_eq!(era_date(date(2020, 1, 1)), "令和2年1月1日");
    }

    #[test]
    fn the_day_before_reiwa_is_heisei_31() {
        assert_eq!(era_date(date(2019, 4, 30)), "平成31年4月30日");
        assert_eq!(era_year(date(2019, 4, 30)), Some(("平成", 31)));
    }

    #[test]
    fn heisei_begins_on_8_january_1989() {
        assert_eq!(era_date(date(1989, 1, 8)), "平成元年1月8日");
        assert_eq!(era_year(date(1989, 1, 7)), None);
        assert_eq!(era_date(date(1989, 1, 7)), "1989年1月7日");
    }
}
