//! The https host API: `wasmcap_https` ABI version 1 (`docs/abi-https.md`).
//!
//! ```no_run
//! use wasmcap::https::{Request, send};
//! let resp = send(&Request::get("https://api.example.com/v1/items")
//!     .header("Authorization", "secret:api_token")).map_err(|e| e.code)?;
//! println!("{} {}", resp.status, String::from_utf8_lossy(&resp.body));
//! # Ok::<(), String>(())
//! ```
//!
//! Every request is checked on the host against the operator's grants; a refusal or a network
//! failure is an [`Error`] with the host's stable code (`grant_denied`, `timeout`, ...). Header
//! values `secret:NAME` are references the host resolves: the secret never enters the plugin.

/// The ABI version this module speaks.
pub const ABI_VERSION: i32 = 1;

/// Raw imports (`docs/abi-https.md`, "Functions"). On targets other than wasm32 (the crate's own
/// unit tests) they are absent and every call reports `abi_error`.
#[cfg(target_arch = "wasm32")]
mod raw {
    #[link(wasm_import_module = "wasmcap_https")]
    extern "C" {
        pub fn version() -> i32;
        pub fn request(method: *const u8, method_len: u32, url: *const u8, url_len: u32,
                       headers: *const u32, header_count: u32, body: *const u8, body_len: u32,
                       flags: u32, handle_out: *mut u32) -> i32;
        pub fn response_info(handle: u32, info_out: *mut u8) -> i32;
        pub fn header_name(handle: u32, index: u32, buf: *mut u8, buf_len: u32,
                           len_out: *mut u32) -> i32;
        pub fn header_value(handle: u32, index: u32, buf: *mut u8, buf_len: u32,
                            len_out: *mut u32) -> i32;
        pub fn body_read(handle: u32, offset: u64, buf: *mut u8, buf_len: u32,
                         nread_out: *mut u32) -> i32;
        pub fn error_code(handle: u32, buf: *mut u8, buf_len: u32, len_out: *mut u32) -> i32;
        pub fn error_message(handle: u32, buf: *mut u8, buf_len: u32, len_out: *mut u32) -> i32;
        pub fn close(handle: u32) -> i32;
    }
}

/// ABI status codes (`docs/abi-https.md`, "Status codes").
pub fn status_name(status: i32) -> &'static str {
    match status {
        0 => "ok",
        1 => "fault",
        2 => "inval",
        3 => "badhandle",
        4 => "toomany",
        5 => "range",
        6 => "wrongkind",
        _ => "unknown",
    }
}

/// A request. Build with [`Request::new`] / [`Request::get`] and the chaining setters.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Fail with `response_too_large` instead of truncating an over-long body.
    pub strict: bool,
}

impl Request {
    pub fn new(method: &str, url: &str) -> Request {
        Request { method: method.to_string(), url: url.to_string(), ..Request::default() }
    }
    pub fn get(url: &str) -> Request {
        Request::new("GET", url)
    }
    /// Adds a header; a value `secret:NAME` refers to the operator's secret NAME.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }
    pub fn strict(mut self, strict: bool) -> Request {
        self.strict = strict;
        self
    }
}

/// A response: status, headers in the order received, the body (at most the operator's
/// `max_response_bytes`; `truncated` when it was cut).
#[derive(Clone, Debug, Default)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub truncated: bool,
}

impl Response {
    /// The first header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A refused or failed request: the host's code (`grant_denied`, `url_rejected`,
/// `private_address`, `method_not_allowed`, `request_too_large`, `redirect_denied`,
/// `too_many_redirects`, `timeout`, `response_too_large`, `tls_error`, `network_error`,
/// `rate_limited`) or the SDK's own `abi_error` / `invalid_request`.
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

fn abi_error(call: &str, status: i32) -> Error {
    Error {
        code: "abi_error".to_string(),
        message: format!("wasmcap_https.{} failed: {} ({})", call, status_name(status), status),
    }
}

/// Checks a request before it reaches the host (the host checks it again): lengths must fit the
/// ABI's u32 fields.
fn check(req: &Request) -> Result<(), Error> {
    let too_long = |n: usize| n > u32::MAX as usize;
    if req.method.is_empty() || too_long(req.url.len()) || too_long(req.body.len())
        || req.headers.len() > 1024
        || req.headers.iter().any(|(n, v)| too_long(n.len()) || too_long(v.len()))
    {
        return Err(Error {
            code: "invalid_request".to_string(),
            message: "empty method, more than 1024 headers, or a field over 4 GiB".to_string(),
        });
    }
    Ok(())
}

/// The 16-byte header entries of the ABI (name_ptr, name_len, value_ptr, value_len), as u32s.
/// Pointers are the addresses of the strings in `headers`, which must outlive the call.
fn header_table(headers: &[(String, String)]) -> Vec<u32> {
    let mut t = Vec::with_capacity(headers.len() * 4);
    for (n, v) in headers {
        t.push(n.as_ptr() as usize as u32);
        t.push(n.len() as u32);
        t.push(v.as_ptr() as usize as u32);
        t.push(v.len() as u32);
    }
    t
}

/// The host's ABI version (1 for this SDK).
#[cfg(target_arch = "wasm32")]
pub fn abi_version() -> i32 {
    unsafe { raw::version() }
}
#[cfg(not(target_arch = "wasm32"))]
pub fn abi_version() -> i32 {
    0
}

/// Sends `req` and reads the whole response.
pub fn send(req: &Request) -> Result<Response, Error> {
    check(req)?;
    let v = abi_version();
    if v != ABI_VERSION {
        return Err(Error {
            code: "abi_error".to_string(),
            message: format!("the host speaks wasmcap_https version {}, this SDK version {}",
                             v, ABI_VERSION),
        });
    }
    imp::send(req)
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::*;
    pub fn send(_req: &Request) -> Result<Response, Error> {
        Err(abi_error("request", -1))
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::*;

    /// Body chunk size for reading responses.
    const CHUNK: usize = 16 * 1024;

    /// Closes the handle when dropped, whatever path the response reading takes.
    struct Handle(u32);
    impl Drop for Handle {
        fn drop(&mut self) {
            unsafe {
                raw::close(self.0);
            }
        }
    }

    type Getter = unsafe extern "C" fn(u32, u32, *mut u8, u32, *mut u32) -> i32;

    /// Reads an indexed string (header name/value) with a size query first.
    fn indexed(h: &Handle, index: u32, get: Getter, call: &str) -> Result<String, Error> {
        let mut len = 0u32;
        let st = unsafe { get(h.0, index, std::ptr::null_mut(), 0, &mut len) };
        if st != 0 {
            return Err(abi_error(call, st));
        }
        let mut buf = vec![0u8; len as usize];
        let st = unsafe { get(h.0, index, buf.as_mut_ptr(), len, &mut len) };
        if st != 0 {
            return Err(abi_error(call, st));
        }
        buf.truncate(len as usize);
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    type ErrGetter = unsafe extern "C" fn(u32, *mut u8, u32, *mut u32) -> i32;

    fn error_text(h: &Handle, get: ErrGetter, call: &str) -> Result<String, Error> {
        let mut len = 0u32;
        let st = unsafe { get(h.0, std::ptr::null_mut(), 0, &mut len) };
        if st != 0 {
            return Err(abi_error(call, st));
        }
        let mut buf = vec![0u8; len as usize];
        let st = unsafe { get(h.0, buf.as_mut_ptr(), len, &mut len) };
        if st != 0 {
            return Err(abi_error(call, st));
        }
        buf.truncate(len as usize);
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    pub fn send(req: &Request) -> Result<Response, Error> {
        let table = header_table(&req.headers);
        let mut handle = 0u32;
        let st = unsafe {
            raw::request(req.method.as_ptr(), req.method.len() as u32, req.url.as_ptr(),
                         req.url.len() as u32, table.as_ptr(), req.headers.len() as u32,
                         req.body.as_ptr(), req.body.len() as u32, req.strict as u32,
                         &mut handle)
        };
        if st != 0 {
            return Err(abi_error("request", st));
        }
        let h = Handle(handle);
        let mut info = [0u8; 24];
        let st = unsafe { raw::response_info(h.0, info.as_mut_ptr()) };
        if st != 0 {
            return Err(abi_error("response_info", st));
        }
        let u32_at = |o: usize| u32::from_le_bytes([info[o], info[o + 1], info[o + 2], info[o + 3]]);
        let mut body_len_bytes = [0u8; 8];
        body_len_bytes.copy_from_slice(&info[8..16]);
        let body_len = u64::from_le_bytes(body_len_bytes);
        if u32_at(0) == 1 {
            return Err(Error {
                code: error_text(&h, raw::error_code, "error_code")?,
                message: error_text(&h, raw::error_message, "error_message")?,
            });
        }
        let mut resp = Response { status: u32_at(4) as u16, truncated: u32_at(20) & 1 != 0,
                                  ..Response::default() };
        for i in 0..u32_at(16) {
            let name = indexed(&h, i, raw::header_name, "header_name")?;
            let value = indexed(&h, i, raw::header_value, "header_value")?;
            resp.headers.push((name, value));
        }
        // The body may be larger than what fits: read in chunks, growing as it arrives.
        let mut offset = 0u64;
        let mut chunk = vec![0u8; CHUNK];
        while offset < body_len {
            let mut n = 0u32;
            let st = unsafe {
                raw::body_read(h.0, offset, chunk.as_mut_ptr(), chunk.len() as u32, &mut n)
            };
            if st != 0 {
                return Err(abi_error("body_read", st));
            }
            if n == 0 {
                break;
            }
            resp.body.extend_from_slice(&chunk[..n as usize]);
            offset += n as u64;
        }
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_and_checks() {
        let r = Request::new("POST", "https://h.example/p").header("A", "secret:t").body("x")
            .strict(true);
        assert_eq!(r.headers, vec![("A".to_string(), "secret:t".to_string())]);
        assert_eq!(r.body, b"x");
        assert!(check(&r).is_ok());
        assert_eq!(check(&Request::new("", "https://h/")).unwrap_err().code, "invalid_request");
        let mut many = Request::get("https://h/");
        for i in 0..1025 {
            many = many.header("X", &i.to_string());
        }
        assert_eq!(check(&many).unwrap_err().code, "invalid_request");
    }

    #[test]
    fn header_table_layout() {
        let h = vec![("ab".to_string(), "xyz".to_string())];
        let t = header_table(&h);
        assert_eq!(t.len(), 4);
        assert_eq!(t[1], 2);
        assert_eq!(t[3], 3);
    }

    #[test]
    fn status_names_and_off_target_send() {
        assert_eq!(status_name(3), "badhandle");
        assert_eq!(status_name(99), "unknown");
        let e = send(&Request::get("https://h/")).unwrap_err();
        assert_eq!(e.code, "abi_error");
        let resp = Response { headers: vec![("Content-Type".into(), "a".into())], ..Default::default() };
        assert_eq!(resp.header("content-type"), Some("a"));
    }
}
