//! Local paths as Spark writes and prints them: `file:` qualified names, absolute paths of
//! files that may not exist yet, and the `%XX` escaping of partition directory names.

use std::path::{Path, PathBuf};

use engine_core::options::Options;
use engine_core::{EngineError, Result};

/// The directory name Spark uses for a NULL partition value.
pub const HIVE_DEFAULT_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// Spark's error for a path that does not exist.
pub fn path_not_found(path: &Path) -> EngineError {
    EngineError::analysis(
        "PATH_NOT_FOUND",
        format!("Path does not exist: {}. SQLSTATE: 42K03", qualified(path)),
    )
}

/// `file:/abs/path`, as Spark prints local paths.
pub fn qualified(path: &Path) -> String {
    format!("file:{}", absolute(path).display())
}

/// `path` made absolute against the working directory (without touching the file system
/// otherwise, so it works for paths that do not exist yet).
pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    }
}

/// Decodes Spark's `%XX` escaping of partition values in directory names.
pub fn unescape_path_name(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Escapes the characters Spark escapes in partition directory names.
pub fn escape_path_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control()
            || matches!(
                c,
                '"' | '#'
                    | '%'
                    | '\''
                    | '*'
                    | '/'
                    | ':'
                    | '='
                    | '?'
                    | '\\'
                    | '\x7f'
                    | '{'
                    | '['
                    | ']'
                    | '^'
            )
        {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The `path` option, required by every file stream.
pub fn path_option(options: &Options) -> Result<String> {
    options
        .get("path")
        .map(str::to_string)
        .ok_or_else(|| EngineError::invalid_option("path", "'path' is not specified".to_string()))
}
