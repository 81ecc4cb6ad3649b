//! `zdns decode`: print a wire-format message the way dig does.

use std::io::Read;
use std::process::ExitCode;

use clap::Args;
use lib_dns::Message;

/// Arguments of `zdns decode`.
#[derive(Args)]
pub struct DecodeArgs {
    /// The message in hexadecimal (whitespace and `:` allowed), or `-` (the default) to
    /// read hex from stdin.
    pub hex: Option<String>,
}

/// Runs `zdns decode`.
pub fn run(args: DecodeArgs) -> ExitCode {
    match decode(args) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("zdns decode: {e}");
            ExitCode::FAILURE
        }
    }
}

fn decode(args: DecodeArgs) -> Result<String, String> {
    let text = match args.hex.as_deref() {
        None | Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("cannot read stdin: {e}"))?;
            s
        }
        Some(s) => s.to_owned(),
    };
    let bytes = parse_hex(&text)?;
    let msg = Message::parse(&bytes).map_err(|e| format!("not a valid DNS message: {e}"))?;
    Ok(msg.to_string())
}

/// Decodes hexadecimal, ignoring whitespace and `:` separators.
fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<(usize, u8)> = text
        .bytes()
        .enumerate()
        .filter(|(_, c)| !c.is_ascii_whitespace() && *c != b':')
        .collect();
    if digits.is_empty() {
        return Err("no hexadecimal input".to_owned());
    }
    if let Some(&(at, c)) = digits.iter().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(format!(
            "invalid character '{}' at offset {at} in hexadecimal input",
            char::from(c).escape_default()
        ));
    }
    if !digits.len().is_multiple_of(2) {
        return Err(format!(
            "odd number of hexadecimal digits ({})",
            digits.len()
        ));
    }
    let mut hex = Vec::with_capacity(digits.len());
    hex.extend(digits.iter().map(|&(_, c)| c));
    let mut out = Vec::with_capacity(hex.len() / 2);
    lib_dns::encoding::hex_decode(&hex, &mut out)
        .map_err(|e| format!("invalid hexadecimal input: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_with_separators() {
        assert_eq!(
            parse_hex("12 34\n:ab:CD").unwrap(),
            [0x12, 0x34, 0xab, 0xcd]
        );
        assert!(parse_hex("123").unwrap_err().contains("odd"));
        assert!(parse_hex("12zz").unwrap_err().contains("'z'"));
        assert!(parse_hex("  ").is_err());
    }

    #[test]
    fn decodes_a_query() {
        let hex = "1234 0100 0001 0000 0000 0000 07 6578616d706c65 00 0001 0001";
        let text = decode(DecodeArgs {
            hex: Some(hex.to_owned()),
        })
        .unwrap();
        assert!(text.contains("id: 4660"));
        assert!(text.contains(";example.\t\t\tIN\tA"));
        let err = decode(DecodeArgs {
            hex: Some("1234".to_owned()),
        })
        .unwrap_err();
        assert!(err.contains("not a valid DNS message"));
    }
}
