//! Queue position and wait announcements in Japanese, spliced from recorded words.
//!
//! A Japanese counter changes the sound of its number (3分 さんぷん, 1分 いっぷん, 6分
//! ろっぷん, 8分 はっぷん, 10分 じゅっぷん), so every number is recorded whole with its counter
//! (`position_3` 「3番目」, `wait_minutes_5` 「約5分」) and joined with fixed fragments:
//!
//! - position 1–30: `position_prefix` 「現在、」 `position_N` `position_suffix`
//!   「にお待ちいただいております。」; beyond 30: `position_many`
//!   「現在、大変多くのお客様がお待ちです。」
//! - wait, rounded up to whole minutes, 1–60: `wait_prefix` 「お待ち時間は」 `wait_minutes_N`
//!   `wait_suffix` 「です。」; under a minute: `wait_soon` 「まもなくおつなぎします。」; over an
//!   hour: `wait_over_hour` 「お待ち時間は、1時間以上の見込みです。」
//!
//! The files live in `numbers/` under the dialplan's `sounds_dir` (sounds/generate.sh makes
//! them). They are added to the dialplan's prompts under these names when a queue announces
//! position or wait, unless `[prompts]` declares a name itself.
//!
//! ```
//! use std::time::Duration;
//! use madoguchi_dialplan::announce::queue_announcement;
//!
//! assert_eq!(
//!     queue_announcement(3, Some(Duration::from_secs(290))),
//!     ["position_prefix", "position_3", "position_suffix", "wait_prefix", "wait_minutes_5", "wait_suffix"]
//! );
//! ```

use std::time::Duration;

/// The folder under `sounds_dir` holding the announcement words.
pub const NUMBERS_DIR: &str = "numbers";
/// Highest position recorded (`position_30`).
pub const MAX_POSITION: usize = 30;
/// Longest wait recorded, in minutes (`wait_minutes_60`).
pub const MAX_WAIT_MINUTES: u64 = 60;

/// The prompts that say `position` (1-based: the next caller to be served is 1; 0 says
/// nothing) and then the estimated `wait` (`None` says nothing), in playing order.
pub fn queue_announcement(position: usize, wait: Option<Duration>) -> Vec<String> {
    let mut out = Vec::new();
    match position {
        0 => {}
        n if n <= MAX_POSITION => {
            out.push("position_prefix".to_string());
            out.push(format!("position_{n}"));
            out.push("position_suffix".to_string());
        }
        _ => out.push("position_many".to_string()),
    }
    if let Some(wait) = wait {
        match minutes_rounded_up(wait) {
            _ if wait < Duration::from_secs(60) => out.push("wait_soon".to_string()),
            m if m <= MAX_WAIT_MINUTES => {
                out.push("wait_prefix".to_string());
                out.push(format!("wait_minutes_{m}"));
                out.push("wait_suffix".to_string());
            }
            _ => out.push("wait_over_hour".to_string()),
        }
    }
    out
}

/// Every prompt name a position announcement may use.
pub fn position_prompts() -> Vec<String> {
    let mut names = vec!["position_prefix".to_string(), "position_suffix".to_string()];
    names.extend((1..=MAX_POSITION).map(|n| format!("position_{n}")));
    names.push("position_many".to_string());
    names
}

/// Every prompt name a wait announcement may use.
pub fn wait_prompts() -> Vec<String> {
    let mut names = vec!["wait_prefix".to_string(), "wait_suffix".to_string()];
    names.extend((1..=MAX_WAIT_MINUTES).map(|n| format!("wait_minutes_{n}")));
    names.push("wait_over_hour".to_string());
    names.push("wait_soon".to_string());
    names
}

/// An estimate is said as the whole minutes it does not exceed: 61 s is "about 2 minutes".
fn minutes_rounded_up(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.div_ceil(60)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POSITION_3: [&str; 3] = ["position_prefix", "position_3", "position_suffix"];

    fn wait(secs: u64) -> Vec<String> {
        queue_announcement(0, Some(Duration::from_secs(secs)))
    }

    #[test]
    fn first_in_line_is_position_1() {
        assert_eq!(
            queue_announcement(1, None),
            ["position_prefix", "position_1", "position_suffix"]
        );
    }

    #[test]
    fn third_in_line_is_position_3() {
        assert_eq!(queue_announcement(3, None), POSITION_3);
    }

    #[test]
    fn thirtieth_is_the_last_recorded_position() {
        assert_eq!(
            queue_announcement(30, None),
            ["position_prefix", "position_30", "position_suffix"]
        );
    }

    #[test]
    fn beyond_thirty_callers_says_many_are_waiting() {
        assert_eq!(queue_announcement(31, None), ["position_many"]);
    }

    #[test]
    fn position_0_and_no_wait_say_nothing() {
        assert!(queue_announcement(0, None).is_empty());
    }

    #[test]
    fn zero_wait_says_connecting_soon() {
        assert_eq!(wait(0), ["wait_soon"]);
    }

    #[test]
    fn thirty_seconds_is_under_a_minute_and_says_connecting_soon() {
        assert_eq!(wait(30), ["wait_soon"]);
    }

    #[test]
    fn exactly_one_minute_is_about_one_minute() {
        assert_eq!(wait(60), ["wait_prefix", "wait_minutes_1", "wait_suffix"]);
    }

    #[test]
    fn sixty_one_seconds_rounds_up_to_two_minutes() {
        assert_eq!(wait(61), ["wait_prefix", "wait_minutes_2", "wait_suffix"]);
    }

    #[test]
    fn a_fraction_of_a_second_over_rounds_up() {
        let w = queue_announcement(0, Some(Duration::from_millis(120_001)));
        assert_eq!(w, ["wait_prefix", "wait_minutes_3", "wait_suffix"]);
    }

    #[test]
    fn five_minutes_is_about_five_minutes() {
        assert_eq!(wait(300), ["wait_prefix", "wait_minutes_5", "wait_suffix"]);
    }

    #[test]
    fn fifty_nine_minutes_thirty_rounds_up_to_sixty() {
        assert_eq!(
            wait(59 * 60 + 30),
            ["wait_prefix", "wait_minutes_60", "wait_suffix"]
        );
    }

    #[test]
    fn sixty_one_minutes_says_over_an_hour() {
        assert_eq!(wait(61 * 60), ["wait_over_hour"]);
    }

    #[test]
    fn just_over_sixty_minutes_says_over_an_hour() {
        assert_eq!(wait(60 * 60 + 1), ["wait_over_hour"]);
    }

    #[test]
    fn position_comes_before_wait() {
        let mut expected = POSITION_3.to_vec();
        expected.extend(["wait_prefix", "wait_minutes_5", "wait_suffix"]);
        assert_eq!(
            queue_announcement(3, Some(Duration::from_secs(300))),
            expected
        );
    }

    #[test]
    fn many_callers_and_over_an_hour_combine() {
        assert_eq!(
            queue_announcement(45, Some(Duration::from_secs(4000))),
            ["position_many", "wait_over_hour"]
        );
    }

    #[test]
    fn every_name_an_announcement_returns_is_in_the_prompt_sets() {
        let mut known = position_prompts();
        known.extend(wait_prompts());
        for position in 0..=40 {
            for secs in (0..=4000).step_by(7) {
                for name in queue_announcement(position, Some(Duration::from_secs(secs))) {
                    assert!(known.contains(&name), "{name}");
                }
            }
        }
    }
}
