//! Finding the files of a read: single files, directories (recursively), globs, hidden
//! files skipped, and Hive-style partition directories (`year=2024/`) discovered as columns.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use chrono::NaiveDate;
use engine_core::{EngineError, Result};

use engine_core::scalar::ScalarValue;

pub use super::paths::{
    HIVE_DEFAULT_PARTITION, absolute, escape_path_name, path_not_found, qualified,
    unescape_path_name,
};

/// One data file and the values of its partition columns.
#[derive(Debug, Clone, PartialEq)]
pub struct FileEntry {
    /// Where the file is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// One value per column of [`Listing::partition_schema`].
    pub partition_values: Vec<ScalarValue>,
}

/// The files of a read.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The paths as given, made absolute (for `explain`).
    pub roots: Vec<PathBuf>,
    /// Every data file, sorted by path.
    pub files: Vec<FileEntry>,
    /// Columns found in `col=value` directory names.
    pub partition_schema: SchemaRef,
}

/// Files and directories Spark ignores: `_SUCCESS`, `.crc` files, `_temporary`, ... but
/// not `_col=value` partition directories.
pub fn is_hidden(name: &str) -> bool {
    (name.starts_with('_') && !name.contains('=')) || name.starts_with('.')
}

/// Whether a path has glob characters (`*`, `?`, `[`, `{`).
pub fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

/// A regex for one path component of a glob (`*`, `?`, `[abc]`, `{a,b}`).
pub fn glob_regex(pattern: &str) -> Result<regex::Regex> {
    let mut re = String::from("^");
    let mut in_brace = false;
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            '[' => {
                re.push('[');
                if chars.peek() == Some(&'^') || chars.peek() == Some(&'!') {
                    chars.next();
                    re.push('^');
                }
                for d in chars.by_ref() {
                    if d == ']' {
                        break;
                    }
                    if d == '\\' {
                        re.push('\\');
                    }
                    re.push(d);
                }
                re.push(']');
            }
            '{' => {
                in_brace = true;
                re.push('(');
            }
            '}' if in_brace => {
                in_brace = false;
                re.push(')');
            }
            ',' if in_brace => re.push('|'),
            other => re.push_str(&regex::escape(&other.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).map_err(|e| EngineError::external(format!("glob `{pattern}`"), e))
}

/// Expands a glob into the existing paths it matches, component by component.
fn expand_glob(pattern: &Path) -> Result<Vec<PathBuf>> {
    let mut current: Vec<PathBuf> = vec![PathBuf::new()];
    for comp in pattern.components() {
        let s = comp.as_os_str().to_string_lossy();
        if !has_glob(&s) {
            for p in &mut current {
                p.push(comp.as_os_str());
            }
            continue;
        }
        let re = glob_regex(&s)?;
        let mut next = Vec::new();
        for dir in &current {
            let Ok(rd) = std::fs::read_dir(if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            }) else {
                continue;
            };
            for entry in rd.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                if re.is_match(&name) && !is_hidden(&name) {
                    next.push(dir.join(&name));
                }
            }
        }
        next.sort();
        current = next;
    }
    Ok(current.into_iter().filter(|p| p.exists()).collect())
}

/// Every visible file under `dir`, with its path relative to `dir`.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let rd = std::fs::read_dir(dir)
        .map_err(|e| EngineError::io(format!("listing {}", dir.display()), e))?;
    let mut entries: Vec<_> = rd.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().to_string();
        if is_hidden(&name) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// `col=value` pairs in the directories between a root and a file.
fn partition_pairs(relative_dir: &Path) -> Vec<(String, Option<String>)> {
    relative_dir
        .components()
        .filter_map(|c| {
            let s = c.as_os_str().to_string_lossy();
            let (k, v) = s.split_once('=')?;
            let value = (v != HIVE_DEFAULT_PARTITION).then(|| unescape_path_name(v));
            Some((unescape_path_name(k), value))
        })
        .collect()
}

/// Spark's partition value type inference: INT, BIGINT, DOUBLE, DATE, else STRING.
fn infer_partition_type<'a>(values: impl Iterator<Item = &'a str> + Clone) -> DataType {
    let all = |f: &dyn Fn(&str) -> bool| values.clone().all(f);
    if all(&|v| v.parse::<i32>().is_ok()) {
        DataType::Int32
    } else if all(&|v| v.parse::<i64>().is_ok()) {
        DataType::Int64
    } else if all(&|v| v.parse::<f64>().is_ok() && !v.chars().any(|c| c.is_alphabetic())) {
        DataType::Float64
    } else if all(&|v| NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok()) {
        DataType::Date32
    } else {
        DataType::Utf8
    }
}

fn typed_value(v: Option<&str>, dt: &DataType) -> ScalarValue {
    let Some(v) = v else {
        return ScalarValue::null_of(dt);
    };
    match dt {
        DataType::Int32 => ScalarValue::Int32(v.parse().ok()),
        DataType::Int64 => ScalarValue::Int64(v.parse().ok()),
        DataType::Float64 => ScalarValue::Float64(v.parse().ok()),
        DataType::Date32 => ScalarValue::Date32(
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .ok()
                .map(engine_core::functions::datetime_format::days_from_date),
        ),
        _ => ScalarValue::Utf8(Some(v.to_string())),
    }
}

/// The values of `partition_schema`'s columns for `file` below `root`, from its
/// `col=value` directories (NULL for a column the path does not name).
pub fn partition_values_for(
    root: &Path,
    file: &Path,
    partition_schema: &Schema,
) -> Vec<ScalarValue> {
    let rel = file.strip_prefix(root).unwrap_or(file);
    let pairs = rel.parent().map(partition_pairs).unwrap_or_default();
    partition_schema
        .fields()
        .iter()
        .map(|f| {
            let v = pairs
                .iter()
                .find(|(k, _)| k == f.name())
                .and_then(|(_, v)| v.as_deref());
            typed_value(v, f.data_type())
        })
        .collect()
}

/// Options that change how files are found.
#[derive(Debug, Clone, Default)]
pub struct ListingOptions {
    /// `pathGlobFilter`: only file names matching this glob.
    pub path_glob_filter: Option<String>,
    /// `recursiveFileLookup`: read every file below the paths, without partition discovery.
    pub recursive_file_lookup: bool,
}

impl ListingOptions {
    /// From reader options.
    pub fn parse(o: &super::options::Options) -> Result<Self> {
        Ok(ListingOptions {
            path_glob_filter: o.get("pathglobfilter").map(str::to_string),
            recursive_file_lookup: o.bool("recursivefilelookup", false)?,
        })
    }
}

/// Lists the data files of `paths` (files, directories or globs).
pub fn list_files(paths: &[String]) -> Result<Listing> {
    list_files_with(paths, &ListingOptions::default())
}

/// [`list_files`] with options.
pub fn list_files_with(paths: &[String], options: &ListingOptions) -> Result<Listing> {
    let name_filter = options
        .path_glob_filter
        .as_deref()
        .map(glob_regex)
        .transpose()?;
    let mut roots = Vec::new();
    // (root dir, file) pairs: partition directories are relative to the root given.
    let mut found: Vec<(PathBuf, PathBuf)> = Vec::new();
    for p in paths {
        let path = PathBuf::from(p);
        let expanded = if has_glob(p) {
            let matches = expand_glob(&path)?;
            if matches.is_empty() {
                return Err(path_not_found(&path));
            }
            matches
        } else {
            if !path.exists() {
                return Err(path_not_found(&path));
            }
            vec![path.clone()]
        };
        roots.push(absolute(&path));
        // A file sink's output directory: only the files its `_spark_metadata` log
        // committed, as Spark's `MetadataLogFileIndex` (only for a single non-glob path,
        // as Spark's `FileStreamSink.hasMetadata`).
        let committed = if paths.len() == 1 && !has_glob(p) && path.is_dir() {
            super::file_stream_log::committed_files(&path)?
        } else {
            None
        };
        if let Some(committed) = committed {
            found.extend(committed.iter().map(|e| {
                (
                    absolute(&path),
                    super::file_stream_log::uri_to_path(&e.path),
                )
            }));
            continue;
        }
        for m in expanded {
            if m.is_dir() {
                let mut files = Vec::new();
                walk(&m, &mut files)?;
                found.extend(files.into_iter().map(|f| (m.clone(), f)));
            } else {
                let parent = m.parent().map(Path::to_path_buf).unwrap_or_default();
                found.push((parent, m));
            }
        }
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    found.dedup_by(|a, b| a.1 == b.1);
    if let Some(re) = &name_filter {
        found.retain(|(_, f)| {
            f.file_name()
                .is_some_and(|n| re.is_match(&n.to_string_lossy()))
        });
    }

    // Partition columns: the names come from the first file; every file must agree.
    let pairs: Vec<Vec<(String, Option<String>)>> = found
        .iter()
        .map(|(root, f)| {
            if options.recursive_file_lookup {
                return vec![];
            }
            let rel = f.strip_prefix(root).unwrap_or(f);
            rel.parent().map(partition_pairs).unwrap_or_default()
        })
        .collect();
    let names: Vec<String> = pairs
        .first()
        .map(|p| p.iter().map(|(k, _)| k.clone()).collect())
        .unwrap_or_default();
    for (i, p) in pairs.iter().enumerate() {
        let these: Vec<&String> = p.iter().map(|(k, _)| k).collect();
        if these.len() != names.len() || these.iter().zip(&names).any(|(a, b)| *a != b) {
            return Err(EngineError::analysis(
                "CONFLICTING_DIRECTORY_STRUCTURES",
                format!(
                    "Conflicting directory structures detected: {} has partition columns [{}] but the first file has [{}]. SQLSTATE: KD009",
                    found[i].1.display(),
                    these
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    names.join(", ")
                ),
            ));
        }
    }
    let types: Vec<DataType> = (0..names.len())
        .map(|c| infer_partition_type(pairs.iter().filter_map(|p| p[c].1.as_deref())))
        .collect();
    let partition_schema = Arc::new(Schema::new(
        names
            .iter()
            .zip(&types)
            .map(|(n, t)| Field::new(n, t.clone(), true))
            .collect::<Vec<_>>(),
    ));
    let mut files = Vec::with_capacity(found.len());
    for ((_, path), p) in found.into_iter().zip(pairs) {
        let size = std::fs::metadata(&path)
            .map_err(|e| EngineError::io(format!("reading {}", path.display()), e))?
            .len();
        let partition_values = p
            .iter()
            .zip(&types)
            .map(|((_, v), t)| typed_value(v.as_deref(), t))
            .collect();
        files.push(FileEntry {
            path,
            size,
            partition_values,
        });
    }
    Ok(Listing {
        roots,
        files,
        partition_schema,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "x\n").unwrap();
    }

    #[test]
    fn directories_skip_hidden_and_find_partitions() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        touch(&d.join("year=2024/month=1/a.csv"));
        touch(&d.join("year=2024/month=2/b.csv"));
        touch(&d.join(format!("year={HIVE_DEFAULT_PARTITION}/month=x/c.csv")));
        touch(&d.join("_SUCCESS"));
        touch(&d.join(".hidden.crc"));
        touch(&d.join("_temporary/0/d.csv"));
        let l = list_files(&[d.to_string_lossy().to_string()]).unwrap();
        assert_eq!(l.files.len(), 3);
        let names: Vec<_> = l
            .partition_schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["year", "month"]);
        assert_eq!(l.partition_schema.field(0).data_type(), &DataType::Int32);
        assert_eq!(l.partition_schema.field(1).data_type(), &DataType::Utf8);
        let nulls = l
            .files
            .iter()
            .filter(|f| f.partition_values[0].is_null())
            .count();
        assert_eq!(nulls, 1);
    }

    #[test]
    fn globs_and_missing_paths() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        touch(&d.join("a1.csv"));
        touch(&d.join("a2.csv"));
        touch(&d.join("b.json"));
        let l = list_files(&[format!("{}/a*.csv", d.display())]).unwrap();
        assert_eq!(l.files.len(), 2);
        let l = list_files(&[format!("{}/{{a1,b}}.*", d.display())]).unwrap();
        assert_eq!(l.files.len(), 2);
        let e = list_files(&[format!("{}/nope", d.display())])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            format!(
                "[PATH_NOT_FOUND] Path does not exist: file:{}/nope. SQLSTATE: 42K03",
                d.display()
            )
        );
    }

    #[test]
    fn glob_filter_and_recursive_lookup() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        touch(&d.join("k=1/a.csv"));
        touch(&d.join("k=1/b.txt"));
        let root = [d.to_string_lossy().to_string()];
        let o = ListingOptions {
            path_glob_filter: Some("*.csv".into()),
            recursive_file_lookup: true,
        };
        let l = list_files_with(&root, &o).unwrap();
        assert_eq!(l.files.len(), 1);
        assert!(l.partition_schema.fields().is_empty());
        assert_eq!(
            list_files(&root).unwrap().partition_schema.fields().len(),
            1
        );
    }

    #[test]
    fn path_escaping_round_trips() {
        let s = "a/b=c%d e";
        assert_eq!(escape_path_name(s), "a%2Fb%3Dc%25d e");
        assert_eq!(unescape_path_name(&escape_path_name(s)), s);
    }
}
