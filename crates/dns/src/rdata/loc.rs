//! Geographic location (RFC 1876), read and printed as BIND does.

use std::fmt;

use super::RecordData;
use crate::text::{Fields, TextError, Token};
use crate::types::Rtype;
use crate::wire::{WireError, WireReader, WireWriter};

/// The equator and the prime meridian: coordinates are offsets from 2^31 in thousandths
/// of a second of arc (RFC 1876 §2).
const EQUATOR: u32 = 1 << 31;
/// Altitudes are offsets from 100,000 m below the WGS 84 spheroid, in centimetres.
const BASE_ALTITUDE: u32 = 10_000_000;
/// Thousandths of an arc-second in one degree.
const MILLIS_PER_DEGREE: u32 = 3_600_000;

/// A size or precision: a diameter in centimetres as a mantissa and a power of ten
/// (RFC 1876 §2). Either zero or a mantissa of 1–9 with an exponent of 0–9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LocPrecision(u8);

impl LocPrecision {
    /// The default size of a location without one: 1 m.
    pub const DEFAULT_SIZE: LocPrecision = LocPrecision(0x12);
    /// The default horizontal precision: 10,000 m.
    pub const DEFAULT_HORIZONTAL: LocPrecision = LocPrecision(0x16);
    /// The default vertical precision: 10 m.
    pub const DEFAULT_VERTICAL: LocPrecision = LocPrecision(0x13);

    /// The value of a wire byte, if it is a valid encoding.
    pub fn from_byte(b: u8) -> Option<LocPrecision> {
        let (mantissa, exponent) = (b >> 4, b & 0x0f);
        let valid = b == 0 || ((1..=9).contains(&mantissa) && exponent <= 9);
        valid.then_some(LocPrecision(b))
    }

    /// The wire byte.
    pub fn byte(self) -> u8 {
        self.0
    }

    /// The value in centimetres.
    pub fn centimeters(self) -> u64 {
        u64::from(self.0 >> 4) * 10u64.pow(u32::from(self.0 & 0x0f))
    }

    /// Reads `<meters>[.<cm>][m]` up to 90,000,000 m. As BIND does, whole metres drop
    /// the centimetres and keep only the leading digit of the value.
    fn parse(t: &Token<'_>, what: &str) -> Result<LocPrecision, TextError> {
        let (m, cm) = parse_decimal(t.text, 2, Some(b'm'))
            .filter(|&(m, _)| m <= 90_000_000)
            .ok_or_else(|| {
                t.error(format!(
                    "expected {what} in metres (0-90000000.00), found '{}'",
                    t.lossy()
                ))
            })?;
        let (mantissa, exponent) = if m > 0 {
            let digits = m.ilog10();
            (m / 10u64.pow(digits), digits + 2)
        } else if cm >= 10 {
            (cm / 10, 1)
        } else {
            (cm, 0)
        };
        // mantissa <= 9 and exponent <= 9 by construction.
        Ok(LocPrecision((mantissa as u8) << 4 | exponent as u8))
    }
}

impl fmt::Display for LocPrecision {
    /// Whole metres when the exponent is at least 2, else `0.CCm`, as BIND prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cm = self.centimeters();
        if self.0 & 0x0f >= 2 {
            write!(f, "{}m", cm / 100)
        } else {
            write!(f, "0.{cm:02}m")
        }
    }
}

/// A location: latitude, longitude and altitude with size and precision (RFC 1876).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Loc {
    size: LocPrecision,
    horizontal: LocPrecision,
    vertical: LocPrecision,
    latitude: u32,
    longitude: u32,
    altitude: u32,
}

impl Loc {
    /// A location from its wire values; fails if the latitude is beyond ±90° or the
    /// longitude beyond ±180°.
    pub fn new(
        size: LocPrecision,
        horizontal: LocPrecision,
        vertical: LocPrecision,
        latitude: u32,
        longitude: u32,
        altitude: u32,
    ) -> Option<Loc> {
        let in_range = |v: u32, max_deg: u32| v.abs_diff(EQUATOR) <= max_deg * MILLIS_PER_DEGREE;
        (in_range(latitude, 90) && in_range(longitude, 180)).then_some(Loc {
            size,
            horizontal,
            vertical,
            latitude,
            longitude,
            altitude,
        })
    }

    /// The diameter of the sphere enclosing the entity.
    pub fn size(&self) -> LocPrecision {
        self.size
    }

    /// The horizontal precision.
    pub fn horizontal_precision(&self) -> LocPrecision {
        self.horizontal
    }

    /// The vertical precision.
    pub fn vertical_precision(&self) -> LocPrecision {
        self.vertical
    }

    /// The latitude: 2^31 plus thousandths of an arc-second north of the equator.
    pub fn latitude(&self) -> u32 {
        self.latitude
    }

    /// The longitude: 2^31 plus thousandths of an arc-second east of Greenwich.
    pub fn longitude(&self) -> u32 {
        self.longitude
    }

    /// The altitude in centimetres above a base 100,000 m below the WGS 84 spheroid.
    pub fn altitude(&self) -> u32 {
        self.altitude
    }
}

/// Reads `<int>[.<up to places digits>][unit]` as BIND's LOC parser does; returns the
/// integer part and the fraction scaled to `places` digits. At least one digit is needed.
fn parse_decimal(text: &[u8], places: u32, unit: Option<u8>) -> Option<(u64, u64)> {
    let text = match unit {
        Some(u) => text.strip_suffix(&[u]).unwrap_or(text),
        None => text,
    };
    let (int, frac) = match text.iter().position(|&c| c == b'.') {
        Some(dot) => (text.get(..dot)?, text.get(dot + 1..)?),
        None => (text, &[][..]),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if frac.len() > places as usize || !int.iter().chain(frac).all(u8::is_ascii_digit) {
        return None;
    }
    let int_value = if int.is_empty() {
        0
    } else {
        std::str::from_utf8(int).ok()?.parse().ok()?
    };
    let frac_value = frac
        .iter()
        .fold(0u64, |acc, &c| acc * 10 + u64::from(c - b'0'))
        * 10u64.pow(places - frac.len() as u32);
    Some((int_value, frac_value))
}

/// Reads `d [m [s]] <hemisphere>` and returns the wire value. `dirs` is the (positive,
/// negative) hemisphere letter, `max_deg` 90 or 180.
fn parse_coordinate(
    f: &mut Fields<'_>,
    what: &str,
    dirs: (u8, u8),
    max_deg: u32,
) -> Result<u32, TextError> {
    let is_dir = |t: &Token<'_>| !t.quoted && (t.text == [dirs.0] || t.text == [dirs.1]);
    let deg_token = f.word(&format!("{what} degrees"))?;
    let degrees: u32 = crate::text::parse_int(&deg_token)
        .filter(|&d| d <= max_deg)
        .ok_or_else(|| {
            deg_token.error(format!(
                "expected {what} degrees (0-{max_deg}), found '{}'",
                deg_token.lossy()
            ))
        })?;
    let mut minutes = 0u32;
    let mut millis = 0u32;
    let mut last = deg_token;
    if !f.peek().is_some_and(|t| is_dir(&t)) {
        let t = f.word(&format!("{what} minutes"))?;
        minutes = crate::text::parse_int(&t)
            .filter(|&m| m <= 59)
            .ok_or_else(|| {
                t.error(format!(
                    "expected {what} minutes (0-59), found '{}'",
                    t.lossy()
                ))
            })?;
        last = t;
        if !f.peek().is_some_and(|t| is_dir(&t)) {
            let t = f.word(&format!("{what} seconds"))?;
            let (s, ms) = parse_decimal(t.text, 3, None)
                .filter(|&(s, _)| s <= 59)
                .ok_or_else(|| {
                    t.error(format!(
                        "expected {what} seconds (0-59.999), found '{}'",
                        t.lossy()
                    ))
                })?;
            millis = (s * 1000 + ms) as u32;
            last = t;
        }
    }
    if degrees == max_deg && (minutes != 0 || millis != 0) {
        return Err(last.error(format!("{what} beyond {max_deg} degrees")));
    }
    let dir = f.word(&format!("{what} hemisphere"))?;
    let offset = (degrees * 3600 + minutes * 60) * 1000 + millis;
    if dir.text == [dirs.0] {
        Ok(EQUATOR + offset)
    } else if dir.text == [dirs.1] {
        Ok(EQUATOR - offset)
    } else {
        Err(dir.error(format!(
            "expected {what} hemisphere '{}' or '{}', found '{}'",
            char::from(dirs.0),
            char::from(dirs.1),
            dir.lossy()
        )))
    }
}

/// Reads `[-]<meters>[.<cm>][m]` within -100,000.00 m to 42,849,672.95 m.
fn parse_altitude(f: &mut Fields<'_>) -> Result<u32, TextError> {
    let t = f.word("altitude")?;
    let err = || {
        t.error(format!(
            "expected altitude in metres (-100000.00 to 42849672.95), found '{}'",
            t.lossy()
        ))
    };
    match t.text.strip_prefix(b"-") {
        Some(below) => {
            let (m, cm) = parse_decimal(below, 2, Some(b'm')).ok_or_else(err)?;
            let depth = m
                .checked_mul(100)
                .and_then(|v| v.checked_add(cm))
                .filter(|&v| v <= u64::from(BASE_ALTITUDE))
                .ok_or_else(err)?;
            Ok(BASE_ALTITUDE - depth as u32)
        }
        None => {
            let (m, cm) = parse_decimal(t.text, 2, Some(b'm')).ok_or_else(err)?;
            m.checked_mul(100)
                .and_then(|v| v.checked_add(cm))
                .and_then(|v| u32::try_from(v).ok())
                .and_then(|v| v.checked_add(BASE_ALTITUDE))
                .ok_or_else(err)
        }
    }
}

/// Prints a coordinate as `d m s.sss H`.
fn fmt_coordinate(v: u32, dirs: (char, char), f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let (offset, dir) = if v >= EQUATOR {
        (v - EQUATOR, dirs.0)
    } else {
        (EQUATOR - v, dirs.1)
    };
    let millis = offset % 1000;
    let secs = offset / 1000;
    write!(
        f,
        "{} {} {}.{millis:03} {dir}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

impl RecordData for Loc {
    const RTYPE: Rtype = Rtype::LOC;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let at = r.pos();
        if r.u8()? != 0 {
            return Err(WireError::BadRdata {
                at,
                reason: "LOC version other than 0",
            });
        }
        let mut precision = || -> Result<LocPrecision, WireError> {
            let at = r.pos();
            LocPrecision::from_byte(r.u8()?).ok_or(WireError::BadRdata {
                at,
                reason: "LOC size or precision not a valid mantissa and exponent",
            })
        };
        let size = precision()?;
        let horizontal = precision()?;
        let vertical = precision()?;
        let coords_at = r.pos();
        let (latitude, longitude, altitude) = (r.u32()?, r.u32()?, r.u32()?);
        Loc::new(size, horizontal, vertical, latitude, longitude, altitude).ok_or(
            WireError::BadRdata {
                at: coords_at,
                reason: "LOC latitude or longitude out of range",
            },
        )
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u8(0)?;
        w.put_u8(self.size.0)?;
        w.put_u8(self.horizontal.0)?;
        w.put_u8(self.vertical.0)?;
        w.put_u32(self.latitude)?;
        w.put_u32(self.longitude)?;
        w.put_u32(self.altitude)
    }

    /// RFC 1876 §3: `d1 [m1 [s1]] {N|S} d2 [m2 [s2]] {E|W} alt[m] [siz[m] [hp[m]
    /// [vp[m]]]]`, with defaults of 1 m, 10,000 m and 10 m.
    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let latitude = parse_coordinate(f, "latitude", (b'N', b'S'), 90)?;
        let longitude = parse_coordinate(f, "longitude", (b'E', b'W'), 180)?;
        let altitude = parse_altitude(f)?;
        let mut precisions = [
            LocPrecision::DEFAULT_SIZE,
            LocPrecision::DEFAULT_HORIZONTAL,
            LocPrecision::DEFAULT_VERTICAL,
        ];
        for (slot, what) in
            precisions
                .iter_mut()
                .zip(["size", "horizontal precision", "vertical precision"])
        {
            if f.is_empty() {
                break;
            }
            *slot = LocPrecision::parse(&f.word(what)?, what)?;
        }
        let [size, horizontal, vertical] = precisions;
        Ok(Loc {
            size,
            horizontal,
            vertical,
            latitude,
            longitude,
            altitude,
        })
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_coordinate(self.latitude, ('N', 'S'), f)?;
        f.write_str(" ")?;
        fmt_coordinate(self.longitude, ('E', 'W'), f)?;
        let (sign, cm) = if self.altitude >= BASE_ALTITUDE {
            ("", self.altitude - BASE_ALTITUDE)
        } else {
            ("-", BASE_ALTITUDE - self.altitude)
        };
        write!(
            f,
            " {sign}{}.{:02}m {} {} {}",
            cm / 100,
            cm % 100,
            self.size,
            self.horizontal,
            self.vertical
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_round_trip, assert_text_rejected, assert_wire_rejected};
    use crate::types::Rtype;

    fn wire(hex: &str) -> Vec<u8> {
        let mut out = Vec::new();
        crate::encoding::hex_decode(hex.as_bytes(), &mut out).unwrap();
        out
    }

    #[test]
    fn rfc1876_examples_as_bind_prints_them() {
        for (text, bind) in [
            (
                "42 21 54 N 71 06 18 W -24m 30m",
                "42 21 54.000 N 71 6 18.000 W -24.00m 30m 10000m 10m",
            ),
            (
                "42 21 43.952 N 71 5 6.344 W -24m 1m 200m",
                "42 21 43.952 N 71 5 6.344 W -24.00m 1m 200m 10m",
            ),
            (
                "52 14 05 N 00 08 50 E 10m",
                "52 14 5.000 N 0 8 50.000 E 10.00m 1m 10000m 10m",
            ),
            (
                "32 7 19 S 116 2 25 E 10m",
                "32 7 19.000 S 116 2 25.000 E 10.00m 1m 10000m 10m",
            ),
            (
                "42 21 28.764 N 71 00 51.617 W -44m 2000m",
                "42 21 28.764 N 71 0 51.617 W -44.00m 2000m 10000m 10m",
            ),
        ] {
            assert_round_trip(Rtype::LOC, text, Some(bind));
        }
    }

    #[test]
    fn bind_forms_and_edges() {
        assert_round_trip(
            Rtype::LOC,
            "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m",
            None,
        );
        assert_round_trip(
            Rtype::LOC,
            "42 N 71 W 0",
            Some("42 0 0.000 N 71 0 0.000 W 0.00m 1m 10000m 10m"),
        );
        assert_round_trip(
            Rtype::LOC,
            "90 S 180 W -100000.00 90000000m 90000000 90000000",
            Some("90 0 0.000 S 180 0 0.000 W -100000.00m 90000000m 90000000m 90000000m"),
        );
        assert_round_trip(
            Rtype::LOC,
            "0 0 0 N 0 0 0 E 42849672.95m 0 0 0",
            Some("0 0 0.000 N 0 0 0.000 E 42849672.95m 0.00m 0.00m 0.00m"),
        );
        // Whole metres keep only the leading digit; centimetres keep one digit.
        assert_round_trip(
            Rtype::LOC,
            "1 2 N 3 4 E 1.5m 1.5m 2.25 0.05",
            Some("1 2 0.000 N 3 4 0.000 E 1.50m 1m 2m 0.05m"),
        );
        assert_round_trip(
            Rtype::LOC,
            "0 N 0 E 1 0.09 0.1 12345678",
            Some("0 0 0.000 N 0 0 0.000 E 1.00m 0.09m 0.10m 10000000m"),
        );
        assert_round_trip(
            Rtype::LOC,
            "0 0 59. N 0 E .5m",
            Some("0 0 59.000 N 0 0 0.000 E 0.50m 1m 10000m 10m"),
        );
        assert_round_trip(
            Rtype::LOC,
            "0 0 .5 N 0 E 5.m 90000000.99m",
            Some("0 0 0.500 N 0 0 0.000 E 5.00m 90000000m 10000m 10m"),
        );
        assert_round_trip(
            Rtype::LOC,
            "89 59 59.999 S 179 59 59.999 E -0.01m",
            Some("89 59 59.999 S 179 59 59.999 E -0.01m 1m 10000m 10m"),
        );
        let w = assert_round_trip(
            Rtype::LOC,
            "0 0 0.000 N 0 0 0.000 E 0.00m 0.00m 0.00m 0.00m",
            None,
        );
        assert_eq!(w, wire("00000000800000008000000000989680"));
    }

    #[test]
    fn rejects() {
        for bad in [
            "90 0 0.001 N 0 E 0",
            "91 N 0 E 0",
            "0 60 N 0 E 0",
            "0 0 60 N 0 E 0",
            "0 0 59.9999 N 0 E 0",
            "0 n 0 e 0",
            "0 N 181 E 0",
            "180 1 E 0 N 0",
            "0 N 0 E -100000.01m",
            "0 N 0 E 42849672.96m",
            "0 N 0 E 1 90000001",
            "0 N 0 E 1mm",
            "0 N 0 E m",
            "0 N 0 E .",
            "0 N 0 E 1 2 3 4 5",
            "0 N 0 E",
            "0 N 0 E 1 -2",
            "0 0 0 X 0 E 0",
            "0 0 0 N 0 0 0 N 0",
            "-1 N 0 E 0",
        ] {
            assert_text_rejected(Rtype::LOC, bad);
        }
        // Version 1, a precision with exponent 10, latitudes and a longitude out of range.
        for bad in [
            "01000000800000008000000000989680",
            "000a0000800000008000000000989680",
            "00000000000000008000000000989680",
            "00000000FFFFFFFF8000000000989680",
            "0000000080000000dd7f000000989680",
            "00000000800000008000000000989680ff",
            "000000008000000080000000009896",
        ] {
            assert_wire_rejected(Rtype::LOC, &wire(bad));
        }
    }
}
