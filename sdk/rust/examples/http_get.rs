//! http_get: a tool plugin in Rust. Arguments (stdin, JSON):
//!   {"url": "https://...", "headers": {"Name": "value" | "secret:NAME"}, "max_body": N}
//! Result (stdout, JSON): {"status": N, "content_type": "...", "body": "...", "truncated": bool}
//! or {"error": {"code": "...", "message": "..."}} with exit status 1.
use wasmcap::https::{self, Request};
use wasmcap::json::Value;
use wasmcap::tool;

fn main() {
    let args = match tool::args() {
        Ok(a) => a,
        Err(e) => tool::fail("invalid_arguments", &e),
    };
    let url = match args.get("url").and_then(Value::as_str) {
        Some(u) => u.to_string(),
        None => tool::fail("invalid_arguments", "\"url\" (a string) is required"),
    };
    let mut req = Request::get(&url);
    if let Some(Value::Object(headers)) = args.get("headers") {
        for (name, value) in headers {
            match value.as_str() {
                Some(v) => req = req.header(name, v),
                None => tool::fail("invalid_arguments", "header values must be strings"),
            }
        }
    }
    let max_body = args.get("max_body").and_then(Value::as_f64).unwrap_or(65536.0) as usize;
    match https::send(&req) {
        Ok(resp) => {
            let n = resp.body.len().min(max_body);
            tool::reply(&Value::Object(vec![
                ("status".to_string(), Value::Number(resp.status as f64)),
                ("content_type".to_string(),
                 Value::String(resp.header("content-type").unwrap_or("").to_string())),
                ("body".to_string(),
                 Value::String(String::from_utf8_lossy(&resp.body[..n]).into_owned())),
                ("truncated".to_string(), Value::Bool(resp.truncated || n < resp.body.len())),
            ]));
        }
        Err(e) => tool::fail(&e.code, &e.message),
    }
}
