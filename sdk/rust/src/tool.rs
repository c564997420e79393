//! The tool-call convention: a tool plugin reads its arguments as one JSON value on stdin and
//! writes one JSON value, its result, on stdout; a failure is `{"error":{"code":..,"message":..}}`
//! and exit status 1. (The MCP server maps tool calls onto this; see docs/abi-tools.md.)
//!
//! Kept small and separate from the https module on purpose: it is the part of the SDK that
//! follows the tool-call contract, so it changes with that contract only.

use crate::json::{self, Value};
use std::io::{Read, Write};

/// Upper bound on the argument text read from stdin (a tool's arguments are small).
pub const MAX_ARGS_BYTES: usize = 1 << 20;

/// Reads and parses the arguments from stdin. Empty input means `{}`.
pub fn args() -> Result<Value, String> {
    let mut text = String::new();
    std::io::stdin()
        .take(MAX_ARGS_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read the arguments from stdin: {}", e))?;
    parse_args(&text)
}

/// The same on a given text (for tests).
pub fn parse_args(text: &str) -> Result<Value, String> {
    if text.len() > MAX_ARGS_BYTES {
        return Err(format!("arguments over {} bytes", MAX_ARGS_BYTES));
    }
    if text.trim().is_empty() {
        return Ok(Value::Object(Vec::new()));
    }
    json::parse(text).map_err(|e| e.to_string())
}

/// The failure object the convention prescribes.
pub fn error_json(code: &str, message: &str) -> String {
    format!("{{\"error\":{{\"code\":{},\"message\":{}}}}}", json::quote(code), json::quote(message))
}

/// Writes the result (one line) to stdout.
pub fn reply(result: &Value) {
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{}", result.to_json());
    let _ = out.flush();
}

/// Writes a failure object and exits with status 1.
pub fn fail(code: &str, message: &str) -> ! {
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{}", error_json(code, message));
    let _ = out.flush();
    std::process::exit(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_and_errors() {
        assert_eq!(parse_args("  \n").unwrap(), Value::Object(Vec::new()));
        let v = parse_args("{\"url\":\"https://x/\"}").unwrap();
        assert_eq!(v.get("url").and_then(Value::as_str), Some("https://x/"));
        assert!(parse_args("{").is_err());
        assert!(parse_args(&" ".repeat(MAX_ARGS_BYTES + 1)).is_err());
        assert_eq!(error_json("bad\"code", "m\n"),
                   "{\"error\":{\"code\":\"bad\\\"code\",\"message\":\"m\\n\"}}");
    }
}
