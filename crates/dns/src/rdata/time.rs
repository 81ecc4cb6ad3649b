//! The signature times of RRSIG (RFC 4034 §3.1.5, §3.2): seconds since 1970-01-01
//! 00:00:00 UTC in 32 bits, shown as `YYYYMMDDHHmmSS` in UTC.
//!
//! This is a plain calendar conversion with no clock: a value prints as the date in
//! 1970–2106 it stands for. Validators compare the values in serial-number arithmetic
//! (RFC 4034 §3.1.5), which is not done here.

use std::fmt;

const SECS_PER_DAY: u64 = 86_400;

/// Reads a signature time: `YYYYMMDDHHmmSS` (14 digits, UTC), or decimal seconds of at
/// most 10 digits, as BIND tells the two forms apart. Dates outside 1970–2106 are reduced
/// modulo 2^32 (RFC 4034 §3.1.5) as BIND does for later years; earlier years are read the
/// same way because BIND prints far-future values so (it picks the date nearest its
/// clock). A leap second `60` counts as the next minute's `00`, as in BIND.
pub fn parse_sig_time(text: &[u8]) -> Option<u32> {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if text.len() <= 10 {
        return std::str::from_utf8(text).ok()?.parse().ok();
    }
    if text.len() != 14 {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        std::str::from_utf8(text.get(from..to)?).ok()?.parse().ok()
    };
    let (year, month, day) = (num(0, 4)?, num(4, 6)?, num(6, 8)?);
    let (hour, minute, second) = (num(8, 10)?, num(10, 12)?, num(12, 14)?);
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour <= 23
        && minute <= 59
        && second <= 60;
    if !valid {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * SECS_PER_DAY as i64
        + i64::from(hour) * 3600
        + i64::from(minute) * 60
        + i64::from(second);
    Some(secs.rem_euclid(1 << 32) as u32)
}

/// Prints a signature time as `YYYYMMDDHHmmSS` in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigTime(pub u32);

impl fmt::Display for SigTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = u64::from(self.0);
        let (year, month, day) = civil_from_days(secs / SECS_PER_DAY);
        let rem = secs % SECS_PER_DAY;
        write!(
            f,
            "{year:04}{month:02}{day:02}{:02}{:02}{:02}",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }
}

fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date, negative before it (proleptic Gregorian calendar).
fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    // Count years from March so that the leap day ends the year; the 400-year cycle
    // added keeps everything non-negative for years from 0.
    let y = i64::from(year) + 400 - i64::from(month <= 2);
    let m = i64::from(month);
    let shifted_month = if month > 2 { m - 3 } else { m + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let days_to_year = y * 365 + y / 4 - y / 100 + y / 400;
    // 719 468 days from 0000-03-01 to 1970-01-01, and 146 097 in the added cycle.
    days_to_year + day_of_year - 719_468 - 146_097
}

/// The date `days` days after 1970-01-01 (proleptic Gregorian calendar).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Days since 0000-03-01, in 400-year eras of 146 097 days.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str, secs: u32) {
        assert_eq!(parse_sig_time(text.as_bytes()), Some(secs), "{text}");
        assert_eq!(SigTime(secs).to_string(), text);
    }

    #[test]
    fn known_dates() {
        round_trip("19700101000000", 0);
        // RFC 4034 §3.3 example.
        round_trip("20030322173103", 1_048_354_263);
        round_trip("20030220173103", 1_045_762_263);
        round_trip("20000229000000", 951_782_400);
        round_trip("20240229235959", 1_709_251_199);
        round_trip("20380119031408", 2_147_483_648);
        round_trip("21060207062815", u32::MAX);
    }

    #[test]
    fn every_day_round_trips() {
        for day in 0..=(u64::from(u32::MAX) / SECS_PER_DAY) {
            let secs = (day * SECS_PER_DAY + 3723) as u32;
            let text = SigTime(secs).to_string();
            assert_eq!(parse_sig_time(text.as_bytes()), Some(secs), "{text}");
        }
    }

    #[test]
    fn decimal_and_bind_quirks() {
        assert_eq!(parse_sig_time(b"1048354263"), Some(1_048_354_263));
        assert_eq!(parse_sig_time(b"0"), Some(0));
        assert_eq!(parse_sig_time(b"4294967295"), Some(u32::MAX));
        assert_eq!(parse_sig_time(b"4294967296"), None);
        // Leap second: the next minute.
        assert_eq!(
            parse_sig_time(b"20030322173160"),
            parse_sig_time(b"20030322173200")
        );
        // BIND prints 20991231235959 (4102444799) as 1963 when its clock is in 2026.
        assert_eq!(parse_sig_time(b"19631125173143"), Some(4_102_444_799));
        assert_eq!(parse_sig_time(b"19691231235959"), Some(u32::MAX));
        assert!(parse_sig_time(b"00000229000000").is_some());
        // After 2106 the value wraps modulo 2^32.
        assert_eq!(
            parse_sig_time(b"21060207062816"),
            Some(0),
            "one second past u32::MAX"
        );
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            "2003032217310",
            "200303221731030",
            "20031322173103",
            "20030001173103",
            "20030230173103",
            "21000229000000",
            "20030322243103",
            "20030322176003",
            "20030322173161",
            "2003-03-22",
            "+1",
        ] {
            assert_eq!(parse_sig_time(bad.as_bytes()), None, "{bad}");
        }
    }
}
